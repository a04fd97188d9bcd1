//! Built-in login credentials (argon2 PHC strings) and token signing keys.

use chrono::{DateTime, Utc};

use super::rows::{get, opt_time, time};
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

/// One stored signing key. `sealed` is the secret encrypted under the key-encryption key
/// from the environment (`auth::keyring`); the database alone cannot sign a token.
#[derive(Debug, Clone)]
pub struct StoredKey {
    pub id: i64,
    pub kid: String,
    pub sealed: String,
    pub created: DateTime<Utc>,
    pub retired: Option<DateTime<Utc>>,
}

/// Every stored signing key, newest first.
pub async fn signing_keys(db: &mut Db<'_>) -> Result<Vec<StoredKey>, StoreError> {
    let q = Q::new(
        "SELECT id, kid, secret, created_utc, retired_utc FROM signing_keys ORDER BY id DESC",
    );
    db.fetch_all(&q)
        .await?
        .iter()
        .map(|r| {
            Ok(StoredKey {
                id: get(r, "id")?,
                kid: get(r, "kid")?,
                sealed: get(r, "secret")?,
                created: time(r, "created_utc")?,
                retired: opt_time(r, "retired_utc")?,
            })
        })
        .collect()
}

/// Stores a new (sealed) signing key.
pub async fn insert_signing_key(
    db: &mut Db<'_>,
    kid: &str,
    sealed: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    db.execute(
        &Q::new(
            "INSERT INTO signing_keys (kid, algorithm, secret, created_utc) VALUES (?, ?, ?, ?)",
        )
        .bind(kid)
        .bind("HS256")
        .bind(sealed)
        .bind(now),
    )
    .await?;
    Ok(())
}

/// Marks every current key retired (it still verifies until its tokens expire).
pub async fn retire_signing_keys(db: &mut Db<'_>, now: DateTime<Utc>) -> Result<u64, StoreError> {
    db.execute(
        &Q::new("UPDATE signing_keys SET retired_utc = ? WHERE retired_utc IS NULL").bind(now),
    )
    .await
}
