//! Built-in login credentials (argon2 PHC strings) and token signing keys.

use chrono::{DateTime, Utc};

use super::rows::get;
use super::{Db, StoreError, Q};

pub async fn password_hash(db: &mut Db<'_>, user_id: i64) -> Result<Option<String>, StoreError> {
    let q = Q::new("SELECT password_hash FROM local_credentials WHERE user_id = ?").bind(user_id);
    db.fetch_optional(&q)
        .await?
        .map(|r| get(&r, "password_hash"))
        .transpose()
}

pub async fn set_password_hash(
    db: &mut Db<'_>,
    user_id: i64,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let n = db
        .execute(
            &Q::new(
                "UPDATE local_credentials SET password_hash = ?, updated_utc = ? WHERE user_id = ?",
            )
            .bind(hash)
            .bind(now)
            .bind(user_id),
        )
        .await?;
    if n == 0 {
        db.execute(&Q::new("INSERT INTO local_credentials (user_id, password_hash, updated_utc) VALUES (?, ?, ?)").bind(user_id).bind(hash).bind(now))
            .await?;
    }
    Ok(())
}

/// The signing secret for `kid`, if one exists.
pub async fn signing_secret(db: &mut Db<'_>, kid: &str) -> Result<Option<String>, StoreError> {
    let q = Q::new("SELECT secret FROM signing_keys WHERE kid = ?").bind(kid);
    db.fetch_optional(&q)
        .await?
        .map(|r| get(&r, "secret"))
        .transpose()
}

/// Stores a new secret unless another process stored one first; returns the one that won.
pub async fn ensure_signing_secret(
    db: &mut Db<'_>,
    kid: &str,
    candidate: &str,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    if let Some(s) = signing_secret(db, kid).await? {
        return Ok(s);
    }
    let ins = db
        .execute(
            &Q::new("INSERT INTO signing_keys (kid, algorithm, secret, created_utc) VALUES (?, ?, ?, ?)")
                .bind(kid)
                .bind("HS256")
                .bind(candidate)
                .bind(now),
        )
        .await;
    match ins {
        Ok(_) | Err(StoreError::Conflict) => signing_secret(db, kid)
            .await?
            .ok_or_else(|| StoreError::Internal("signing key vanished".into())),
        Err(e) => Err(e),
    }
}
