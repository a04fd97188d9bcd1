//! Counts for metrics and dashboards.

use std::collections::HashMap;

use super::rows::{get, int};
use super::{Db, StoreError, Q};

/// Which table to count by `status`.
#[derive(Debug, Clone, Copy)]
pub enum Counted {
    Requests,
    Grants,
}

/// Rows per status value.
pub async fn status_counts(
    db: &mut Db<'_>,
    what: Counted,
) -> Result<HashMap<String, i64>, StoreError> {
    let table = match what {
        Counted::Requests => "requests",
        Counted::Grants => "grants",
    };
    let q = Q::new(format!(
        "SELECT status, COUNT(*) AS n FROM {table} GROUP BY status"
    ));
    let mut out = HashMap::new();
    for r in db.fetch_all(&q).await? {
        out.insert(get::<String>(&r, "status")?, int(&r, "n")?);
    }
    Ok(out)
}

/// Live grants flagged `revoke_failed`.
pub async fn revoke_failed_count(db: &mut Db<'_>) -> Result<i64, StoreError> {
    let q = Q::new("SELECT COUNT(*) AS n FROM grants WHERE revoke_failed = ? AND status IN (?, ?)")
        .bind(true)
        .bind("provisioning")
        .bind("active");
    match db.fetch_optional(&q).await? {
        Some(r) => int(&r, "n"),
        None => Ok(0),
    }
}

/// The admin overview's numbers.
pub async fn overview(
    db: &mut Db<'_>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<jitea_shared::Overview, StoreError> {
    let reqs = status_counts(db, Counted::Requests).await?;
    let grants = status_counts(db, Counted::Grants).await?;
    let q = Q::new("SELECT COUNT(*) AS n FROM grants WHERE status = ? AND valid_to_utc <= ?")
        .bind("active")
        .bind(now + chrono::Duration::hours(1));
    let expiring = match db.fetch_optional(&q).await? {
        Some(r) => int(&r, "n")?,
        None => 0,
    };
    let g = |s: &str| grants.get(s).copied().unwrap_or(0);
    let (break_glass_unreviewed, break_glass_overdue) =
        super::break_glass::unreviewed_counts(db, now).await?;
    Ok(jitea_shared::Overview {
        pending_requests: reqs.get("pending").copied().unwrap_or(0),
        active_grants: g("active"),
        expiring_next_hour: expiring,
        provisioning_grants: g("provisioning"),
        failed_grants: g("failed"),
        revoke_failed_grants: revoke_failed_count(db).await?,
        break_glass_unreviewed,
        break_glass_overdue,
    })
}
