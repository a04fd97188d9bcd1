//! Revocable sessions and sign-in throttling.
//!
//! Every token carries its user's `session_epoch` at issue time; [`bump_epoch`] (called in the
//! same transaction as a logout, password change/reset, deactivation or app-role change)
//! makes every token issued before it invalid. The sign-in throttle keeps failure counters per
//! key (`login:<lower-cased name>`, `addr:<client address>`) in `login_throttle`, so several
//! processes on one database share it.

use chrono::{DateTime, Utc};

use super::rows::{int, opt_time, time};
use super::{Db, StoreError, Q};

/// The user's current session epoch (`None` when the user does not exist).
pub async fn epoch(db: &mut Db<'_>, user_id: i64) -> Result<Option<i64>, StoreError> {
    let q = Q::new("SELECT session_epoch FROM users WHERE id = ?").bind(user_id);
    db.fetch_optional(&q)
        .await?
        .map(|r| int(&r, "session_epoch"))
        .transpose()
}

/// Ends every session of the user issued before now: tokens carrying an older epoch are
/// refused from the next call on. Call it inside the transaction that makes the change.
pub async fn bump_epoch(
    db: &mut Db<'_>,
    user_id: i64,
    _now: DateTime<Utc>,
) -> Result<(), StoreError> {
    // Only the epoch: a sign-out is not a change of the user's record (`updated_utc`).
    let q = Q::new("UPDATE users SET session_epoch = session_epoch + 1 WHERE id = ?").bind(user_id);
    db.execute(&q).await?;
    Ok(())
}

pub use crate::domain::throttle::Counter as ThrottleRow;

pub async fn throttle_get(db: &mut Db<'_>, key: &str) -> Result<Option<ThrottleRow>, StoreError> {
    let q = Q::select_locked(
        "failures, window_start_utc, locked_until_utc, refused, updated_utc",
        "login_throttle",
        "throttle_key = ?",
    )
    .bind(key);
    db.fetch_optional(&q)
        .await?
        .map(|r| {
            Ok(ThrottleRow {
                failures: int(&r, "failures")?,
                window_start: time(&r, "window_start_utc")?,
                locked_until: opt_time(&r, "locked_until_utc")?,
                refused: int(&r, "refused")?,
                updated: time(&r, "updated_utc")?,
            })
        })
        .transpose()
}

/// Makes sure a counter row exists (a zero one), so it can then be locked and updated in a
/// transaction. Run it outside a transaction: a concurrent insert is simply ignored.
pub async fn throttle_ensure(
    db: &mut Db<'_>,
    key: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let exists = db
        .fetch_optional(
            &Q::new("SELECT failures FROM login_throttle WHERE throttle_key = ?").bind(key),
        )
        .await?
        .is_some();
    if exists {
        return Ok(());
    }
    let ins = Q::new(
        "INSERT INTO login_throttle (throttle_key, failures, window_start_utc, \
         locked_until_utc, refused, updated_utc) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(key)
    .bind(0i64)
    .bind(now)
    .bind(None::<DateTime<Utc>>)
    .bind(0i64)
    .bind(now);
    match db.execute(&ins).await {
        Ok(_) | Err(StoreError::Conflict) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Writes a counter (the row exists, see [`throttle_ensure`]).
pub async fn throttle_put(db: &mut Db<'_>, key: &str, row: &ThrottleRow) -> Result<(), StoreError> {
    let upd = Q::new(
        "UPDATE login_throttle SET failures = ?, window_start_utc = ?, locked_until_utc = ?, \
         refused = ?, updated_utc = ? WHERE throttle_key = ?",
    )
    .bind(row.failures)
    .bind(row.window_start)
    .bind(row.locked_until)
    .bind(row.refused)
    .bind(row.updated)
    .bind(key);
    db.execute(&upd).await?;
    Ok(())
}

/// Counts one attempt refused during a lockout.
pub async fn throttle_count_refused(
    db: &mut Db<'_>,
    key: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let q = Q::new(
        "UPDATE login_throttle SET refused = refused + 1, updated_utc = ? WHERE throttle_key = ?",
    )
    .bind(now)
    .bind(key);
    db.execute(&q).await?;
    Ok(())
}

pub async fn throttle_clear(db: &mut Db<'_>, key: &str) -> Result<(), StoreError> {
    db.execute(&Q::new("DELETE FROM login_throttle WHERE throttle_key = ?").bind(key))
        .await?;
    Ok(())
}

/// Forgets counters untouched since `before` (keeps the table small under a flood of names).
pub async fn throttle_prune(db: &mut Db<'_>, before: DateTime<Utc>) -> Result<u64, StoreError> {
    db.execute(&Q::new("DELETE FROM login_throttle WHERE updated_utc < ?").bind(before))
        .await
}

/// Bumps the epoch when a PATCH changes the user's app roles (`is_admin`, `is_auditor`), so a
/// demoted admin's tokens end at once (and a promoted user signs in again).
pub async fn bump_epoch_if_roles_changed(
    db: &mut Db<'_>,
    before: &jitea_shared::User,
    change: &jitea_shared::UserUpdate,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let changed = change.is_admin.is_some_and(|v| v != before.is_admin)
        || change.is_auditor.is_some_and(|v| v != before.is_auditor);
    if changed {
        bump_epoch(db, before.id, now).await?;
    }
    Ok(())
}
