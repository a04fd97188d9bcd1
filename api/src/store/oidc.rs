//! Pending OIDC sign-ins (`oidc_logins`): written when the browser is sent to the provider,
//! taken exactly once by the callback. A row is found by the SHA-256 of its `state`; the
//! delete that takes it decides, so two callbacks racing with one state cannot both win.

use chrono::{DateTime, Utc};

use super::rows::{get, time};
use super::{Db, StoreError, Q};

/// What the callback needs to finish a sign-in.
#[derive(Debug, Clone)]
pub struct PendingLogin {
    pub browser_hash: String,
    pub nonce: String,
    pub code_verifier: String,
    pub return_to: String,
    pub expires: DateTime<Utc>,
}

pub async fn insert(
    db: &mut Db<'_>,
    state_hash: &str,
    p: &PendingLogin,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let q = Q::new(
        "INSERT INTO oidc_logins (state_hash, browser_hash, nonce, code_verifier, return_to, \
         created_utc, expires_utc) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(state_hash)
    .bind(p.browser_hash.as_str())
    .bind(p.nonce.as_str())
    .bind(p.code_verifier.as_str())
    .bind(p.return_to.as_str())
    .bind(now)
    .bind(p.expires);
    db.execute(&q).await?;
    Ok(())
}

/// Takes (reads and deletes) the pending sign-in of this state; `None` when there is none or
/// another callback took it first. Expiry is the caller's to check.
pub async fn take(db: &mut Db<'_>, state_hash: &str) -> Result<Option<PendingLogin>, StoreError> {
    let q = Q::new(
        "SELECT browser_hash, nonce, code_verifier, return_to, expires_utc FROM oidc_logins \
         WHERE state_hash = ?",
    )
    .bind(state_hash);
    let Some(r) = db.fetch_optional(&q).await? else {
        return Ok(None);
    };
    let p = PendingLogin {
        browser_hash: get(&r, "browser_hash")?,
        nonce: get(&r, "nonce")?,
        code_verifier: get(&r, "code_verifier")?,
        return_to: get(&r, "return_to")?,
        expires: time(&r, "expires_utc")?,
    };
    let del = Q::new("DELETE FROM oidc_logins WHERE state_hash = ?").bind(state_hash);
    if db.execute(&del).await? != 1 {
        return Ok(None);
    }
    Ok(Some(p))
}

/// Forgets sign-ins that were never finished.
pub async fn prune(db: &mut Db<'_>, now: DateTime<Utc>) -> Result<u64, StoreError> {
    db.execute(&Q::new("DELETE FROM oidc_logins WHERE expires_utc < ?").bind(now))
        .await
}
