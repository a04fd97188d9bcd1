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
