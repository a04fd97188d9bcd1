//! Reminders before a grant ends: which live grants are due one, and marking one reminded
//! (a compare-and-set, so with several replicas each end is reminded once).

use chrono::{DateTime, Utc};
use jitea_shared::GrantStatus;

use super::rows::get;
use super::{Db, StoreError, Q};

/// Active grants ending after `now` and by `until` whose holder has not been reminded of
/// their current end, oldest first, at most `limit`.
pub async fn due(
    db: &mut Db<'_>,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<i64>, StoreError> {
    let mut q = Q::new(
        "SELECT id FROM grants WHERE status = ? AND pending_end IS NULL AND reminded_utc IS NULL \
         AND valid_to_utc > ? AND valid_to_utc <= ? ORDER BY id",
    )
    .bind(GrantStatus::Active.as_str())
    .bind(now)
    .bind(until);
    q.limit(limit);
    db.fetch_all(&q)
        .await?
        .iter()
        .map(|r| get(r, "id"))
        .collect()
}

/// Marks grant `id` reminded at `now` if it is still due (active, not reminded, ending by
/// `until`); false when another process did first or it no longer is.
pub async fn mark(
    db: &mut Db<'_>,
    id: i64,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let q = Q::new(
        "UPDATE grants SET reminded_utc = ? WHERE id = ? AND status = ? AND pending_end IS NULL \
         AND reminded_utc IS NULL AND valid_to_utc > ? AND valid_to_utc <= ?",
    )
    .bind(now)
    .bind(id)
    .bind(GrantStatus::Active.as_str())
    .bind(now)
    .bind(until);
    Ok(db.execute(&q).await? == 1)
}
