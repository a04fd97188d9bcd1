//! Leases for periodic jobs that must run once per interval across every process sharing the
//! database (reconciliation): one row per job in `job_leases`.

use chrono::{DateTime, Utc};

use super::{Db, StoreError, Q};

/// Claims the job for `lease_id` until `lease_until` if nobody holds it and, when
/// `not_started_since` is given, the last run started before that instant. Returns whether
/// this caller got it.
pub async fn claim(
    db: &mut Db<'_>,
    job: &str,
    lease_id: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    not_started_since: Option<DateTime<Utc>>,
) -> Result<bool, StoreError> {
    let mut q = Q::new(
        "UPDATE job_leases SET lease_owner = ?, lease_until_utc = ?, last_started_utc = ? \
         WHERE job_name = ? AND (lease_until_utc IS NULL OR lease_until_utc < ?)",
    )
    .bind(lease_id)
    .bind(lease_until)
    .bind(now)
    .bind(job)
    .bind(now);
    if let Some(t) = not_started_since {
        q.push_bind(
            " AND (last_started_utc IS NULL OR last_started_utc <= ?)",
            t,
        );
    }
    Ok(db.execute(&q).await? == 1)
}

/// Extends a held job lease; false when it was lost.
pub async fn renew(
    db: &mut Db<'_>,
    job: &str,
    lease_id: &str,
    lease_until: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let q =
        Q::new("UPDATE job_leases SET lease_until_utc = ? WHERE job_name = ? AND lease_owner = ?")
            .bind(lease_until)
            .bind(job)
            .bind(lease_id);
    Ok(db.execute(&q).await? == 1)
}

/// Lets the job go.
pub async fn release(db: &mut Db<'_>, job: &str, lease_id: &str) -> Result<(), StoreError> {
    let q = Q::new(
        "UPDATE job_leases SET lease_owner = NULL, lease_until_utc = NULL WHERE job_name = ? AND lease_owner = ?",
    )
    .bind(job)
    .bind(lease_id);
    db.execute(&q).await?;
    Ok(())
}
