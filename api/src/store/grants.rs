//! Grants (time-limited access) and their per-db-role assignment records.

use chrono::{DateTime, Utc};
use jitea_shared::*;
use sqlx_oldapi::any::AnyRow;

use super::paging::{fetch_page, Order, PageReq};
use super::rows::{get, opt_i64, opt_str, opt_time, parsed, time};
use super::{Db, StoreError, Q};

const COLS: &str = "g.id, g.request_id, g.user_id, u.login_name AS user_login_name, g.role_id, \
    ro.role_name, g.valid_from_utc, g.valid_to_utc, g.revoked_utc, g.revoke_reason, g.revoked_by_user_id, \
    g.issued_by_user_id, g.status, g.status_detail, g.created_utc, g.updated_utc, g.attempts, \
    g.next_attempt_utc, g.revoke_failed, g.pending_end";
const FROM: &str =
    "FROM grants g JOIN users u ON u.id = g.user_id JOIN roles ro ON ro.id = g.role_id";

fn map(r: &AnyRow) -> Result<Grant, StoreError> {
    Ok(Grant {
        id: get(r, "id")?,
        request_id: opt_i64(r, "request_id")?,
        user_id: get(r, "user_id")?,
        user_login_name: get(r, "user_login_name")?,
        role_id: get(r, "role_id")?,
        role_name: get(r, "role_name")?,
        valid_from_utc: time(r, "valid_from_utc")?,
        valid_to_utc: time(r, "valid_to_utc")?,
        revoked_utc: opt_time(r, "revoked_utc")?,
        revoke_reason: opt_str(r, "revoke_reason")?,
        revoked_by_user_id: opt_i64(r, "revoked_by_user_id")?,
        issued_by_user_id: opt_i64(r, "issued_by_user_id")?,
        status: parsed(r, "status")?,
        status_detail: opt_str(r, "status_detail")?,
        created_utc: time(r, "created_utc")?,
        updated_utc: time(r, "updated_utc")?,
        attempts: get(r, "attempts")?,
        next_attempt_utc: opt_time(r, "next_attempt_utc")?,
        revoke_failed: get(r, "revoke_failed")?,
        pending_end: opt_str(r, "pending_end")?,
        assignments: Vec::new(),
    })
}

pub async fn get_by_id(db: &mut Db<'_>, id: i64) -> Result<Option<Grant>, StoreError> {
    let q = Q::new(format!("SELECT {COLS} {FROM} WHERE g.id = ?")).bind(id);
    let Some(mut g) = db.fetch_optional(&q).await?.as_ref().map(map).transpose()? else {
        return Ok(None);
    };
    g.assignments = assignments(db, id).await?;
    Ok(Some(g))
}

#[derive(Debug, Default, Clone)]
pub struct GrantFilter {
    pub user_id: Option<i64>,
    pub role_id: Option<i64>,
    pub status: Option<GrantStatus>,
    /// Only grants whose removal keeps failing.
    pub revoke_failed: Option<bool>,
}

pub async fn list(
    db: &mut Db<'_>,
    f: &GrantFilter,
    page: PageReq,
) -> Result<Page<Grant>, StoreError> {
    let mut q = Q::new(format!("SELECT {COLS} {FROM} WHERE 1 = 1"));
    if let Some(v) = f.user_id {
        q.push_bind(" AND g.user_id = ?", v);
    }
    if let Some(v) = f.role_id {
        q.push_bind(" AND g.role_id = ?", v);
    }
    if let Some(v) = f.status {
        q.push_bind(" AND g.status = ?", v.as_str());
    }
    if let Some(v) = f.revoke_failed {
        q.push_bind(" AND g.revoke_failed = ?", v);
    }
    let mut page = fetch_page(db, q, "g.id", Order::NewestFirst, page, map, |g| g.id).await?;
    for g in &mut page.items {
        g.assignments = assignments(db, g.id).await?;
    }
    Ok(page)
}

pub struct NewGrant {
    pub request_id: Option<i64>,
    pub user_id: i64,
    pub role_id: i64,
    pub valid_from: DateTime<Utc>,
    pub valid_to: DateTime<Utc>,
    pub issued_by_user_id: Option<i64>,
}

/// Inserts a grant in `provisioning` with one pending assignment per mapped db role.
pub async fn insert(
    db: &mut Db<'_>,
    g: &NewGrant,
    db_role_ids: &[i64],
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let id = db
        .insert(
            "grants",
            &[
                ("request_id", g.request_id.into()),
                ("user_id", g.user_id.into()),
                ("role_id", g.role_id.into()),
                ("valid_from_utc", g.valid_from.into()),
                ("valid_to_utc", g.valid_to.into()),
                ("issued_by_user_id", g.issued_by_user_id.into()),
                ("status", GrantStatus::Provisioning.as_str().into()),
                ("created_utc", now.into()),
                ("updated_utc", now.into()),
            ],
        )
        .await?;
    for d in db_role_ids {
        db.execute(
            &Q::new("INSERT INTO grant_db_role_assignments (grant_id, db_role_id) VALUES (?, ?)")
                .bind(id)
                .bind(*d),
        )
        .await?;
    }
    Ok(id)
}

fn assignment_state(add: Option<bool>, drop: Option<bool>) -> &'static str {
    match (add, drop) {
        (_, Some(true)) => "dropped",
        (_, Some(false)) => "drop_failed",
        (Some(true), None) => "added",
        (Some(false), None) => "add_failed",
        (None, None) => "pending",
    }
}

pub async fn assignments(
    db: &mut Db<'_>,
    grant_id: i64,
) -> Result<Vec<GrantAssignment>, StoreError> {
    let q = Q::new(
        "SELECT a.db_role_id, d.db_role_name, d.target_id, t.name AS target_name, a.add_attempt_utc, \
         a.add_succeeded, a.add_error, a.drop_attempt_utc, a.drop_succeeded, a.drop_error \
         FROM grant_db_role_assignments a JOIN db_roles d ON d.id = a.db_role_id JOIN targets t ON t.id = d.target_id \
         WHERE a.grant_id = ? ORDER BY d.db_role_name",
    )
    .bind(grant_id);
    db.fetch_all(&q)
        .await?
        .iter()
        .map(|r| {
            let add: Option<bool> = get(r, "add_succeeded")?;
            let drop: Option<bool> = get(r, "drop_succeeded")?;
            Ok(GrantAssignment {
                db_role_id: get(r, "db_role_id")?,
                db_role_name: get(r, "db_role_name")?,
                target_id: get(r, "target_id")?,
                target_name: get(r, "target_name")?,
                state: assignment_state(add, drop).to_string(),
                add_attempt_utc: opt_time(r, "add_attempt_utc")?,
                add_succeeded: add,
                add_error: opt_str(r, "add_error")?,
                drop_attempt_utc: opt_time(r, "drop_attempt_utc")?,
                drop_succeeded: drop,
                drop_error: opt_str(r, "drop_error")?,
            })
        })
        .collect()
}

pub async fn record_add(
    db: &mut Db<'_>,
    grant_id: i64,
    db_role_id: i64,
    result: Result<(), String>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let q = Q::new("UPDATE grant_db_role_assignments SET add_attempt_utc = ?, add_succeeded = ?, add_error = ? WHERE grant_id = ? AND db_role_id = ?")
        .bind(now)
        .bind(result.is_ok())
        .bind(result.err())
        .bind(grant_id)
        .bind(db_role_id);
    db.execute(&q).await?;
    Ok(())
}

pub async fn record_drop(
    db: &mut Db<'_>,
    grant_id: i64,
    db_role_id: i64,
    result: Result<(), String>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let q = Q::new("UPDATE grant_db_role_assignments SET drop_attempt_utc = ?, drop_succeeded = ?, drop_error = ? WHERE grant_id = ? AND db_role_id = ?")
        .bind(now)
        .bind(result.is_ok())
        .bind(result.err())
        .bind(grant_id)
        .bind(db_role_id);
    db.execute(&q).await?;
    Ok(())
}

/// Compare-and-set on the grant status.
pub async fn transition(
    db: &mut Db<'_>,
    id: i64,
    from: &[GrantStatus],
    to: GrantStatus,
    detail: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut q = Q::new(
        "UPDATE grants SET status = ?, status_detail = ?, updated_utc = ? WHERE id = ? AND status IN ",
    )
    .bind(to.as_str())
    .bind(detail)
    .bind(now)
    .bind(id);
    q.push_in(from.iter().map(|s| s.as_str()));
    Ok(db.execute(&q).await? == 1)
}

pub async fn mark_revoked(
    db: &mut Db<'_>,
    id: i64,
    by: Option<i64>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let q = Q::new(
        "UPDATE grants SET status = ?, revoked_utc = ?, revoke_reason = ?, revoked_by_user_id = ?, updated_utc = ? \
         WHERE id = ? AND status IN (?, ?)",
    )
    .bind(GrantStatus::Revoked.as_str())
    .bind(now)
    .bind(reason)
    .bind(by)
    .bind(now)
    .bind(id)
    .bind(GrantStatus::Provisioning.as_str())
    .bind(GrantStatus::Active.as_str());
    Ok(db.execute(&q).await? == 1)
}

/// Ids of grants in `status`, optionally only those with `valid_to_utc <= due_by`.
pub async fn ids_in_status(
    db: &mut Db<'_>,
    status: GrantStatus,
    due_by: Option<DateTime<Utc>>,
    limit: i64,
) -> Result<Vec<i64>, StoreError> {
    let mut q = Q::new("SELECT id FROM grants WHERE status = ?").bind(status.as_str());
    if let Some(t) = due_by {
        q.push_bind(" AND valid_to_utc <= ?", t);
    }
    q.push(" ORDER BY valid_to_utc, id");
    q.sql = db.dialect.limit(&q.sql, limit);
    db.fetch_all(&q)
        .await?
        .iter()
        .map(|r| get(r, "id"))
        .collect()
}

/// Live (provisioning or active) grants of a user, e.g. to revoke on deactivation.
pub async fn live_ids_for_user(db: &mut Db<'_>, user_id: i64) -> Result<Vec<i64>, StoreError> {
    let q = Q::new("SELECT id FROM grants WHERE user_id = ? AND status IN (?, ?) ORDER BY id")
        .bind(user_id)
        .bind(GrantStatus::Provisioning.as_str())
        .bind(GrantStatus::Active.as_str());
    db.fetch_all(&q)
        .await?
        .iter()
        .map(|r| get(r, "id"))
        .collect()
}

/// The live grant of a user for a role, if any.
pub async fn live_for(
    db: &mut Db<'_>,
    user_id: i64,
    role_id: i64,
) -> Result<Option<i64>, StoreError> {
    let q = Q::new("SELECT id FROM grants WHERE user_id = ? AND role_id = ? AND status IN (?, ?)")
        .bind(user_id)
        .bind(role_id)
        .bind(GrantStatus::Provisioning.as_str())
        .bind(GrantStatus::Active.as_str());
    db.fetch_optional(&q)
        .await?
        .map(|r| get(&r, "id"))
        .transpose()
}

/// Targets and db-role names a grant provisions, with the target kind, for connectors.
pub struct AssignmentTarget {
    pub db_role_id: i64,
    pub db_role_name: String,
    pub target: crate::provision::TargetRef,
}

pub async fn assignment_targets(
    db: &mut Db<'_>,
    grant_id: i64,
) -> Result<Vec<AssignmentTarget>, StoreError> {
    let q = Q::new(
        "SELECT a.db_role_id, d.db_role_name, t.id AS target_id, t.kind, t.connection_url_env \
         FROM grant_db_role_assignments a JOIN db_roles d ON d.id = a.db_role_id JOIN targets t ON t.id = d.target_id \
         WHERE a.grant_id = ? ORDER BY a.db_role_id",
    )
    .bind(grant_id);
    db.fetch_all(&q)
        .await?
        .iter()
        .map(|r| {
            Ok(AssignmentTarget {
                db_role_id: get(r, "db_role_id")?,
                db_role_name: get(r, "db_role_name")?,
                target: crate::provision::TargetRef {
                    id: get(r, "target_id")?,
                    kind: parsed(r, "kind")?,
                    url_env: opt_str(r, "connection_url_env")?,
                },
            })
        })
        .collect()
}

// ------------------------------------------------------------------ engine support

/// Why a live grant is to end before (or at) its time, decided but not yet carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PendingEnd {
    Revoke,
    Fail,
}

impl PendingEnd {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Revoke => "revoke",
            Self::Fail => "fail",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "revoke" => Some(Self::Revoke),
            "fail" => Some(Self::Fail),
            _ => None,
        }
    }
}

/// Records that a live grant must end early (admin revoke, deactivation, failed
/// provisioning). The engine keeps retrying until the targets confirm. Returns false when the
/// grant is not live or an end is already pending.
pub async fn request_end(
    db: &mut Db<'_>,
    id: i64,
    kind: PendingEnd,
    by: Option<i64>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let q = Q::new(
        "UPDATE grants SET pending_end = ?, revoke_reason = ?, revoked_by_user_id = ?, next_attempt_utc = NULL, updated_utc = ? \
         WHERE id = ? AND status IN (?, ?) AND pending_end IS NULL",
    )
    .bind(kind.as_str())
    .bind(reason)
    .bind(by)
    .bind(now)
    .bind(id)
    .bind(GrantStatus::Provisioning.as_str())
    .bind(GrantStatus::Active.as_str());
    Ok(db.execute(&q).await? == 1)
}

fn lease_set(owner: &str, lease_until: DateTime<Utc>) -> Q {
    Q::new("lease_owner = ?, lease_until_utc = ?")
        .bind(owner)
        .bind(lease_until)
}

/// Claims live grants that must end now: due (`valid_to_utc <= now`) or with a pending end,
/// not leased by another process, not waiting for a retry.
pub async fn claim_endings(
    db: &mut Db<'_>,
    owner: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<i64>, StoreError> {
    let filter = Q::new(
        "status IN (?, ?) AND (valid_to_utc <= ? OR pending_end IS NOT NULL) \
         AND (lease_until_utc IS NULL OR lease_until_utc < ?) AND (next_attempt_utc IS NULL OR next_attempt_utc <= ?)",
    )
    .bind(GrantStatus::Provisioning.as_str())
    .bind(GrantStatus::Active.as_str())
    .bind(now)
    .bind(now)
    .bind(now);
    let q = db.dialect.claim(
        "grants",
        lease_set(owner, lease_until),
        filter,
        "valid_to_utc, id",
        limit,
    );
    db.fetch_all(&q)
        .await?
        .iter()
        .map(|r| get(r, "id"))
        .collect()
}

/// Claims `provisioning` grants whose next attempt is due (not yet ending).
pub async fn claim_provisioning(
    db: &mut Db<'_>,
    owner: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<i64>, StoreError> {
    let filter = Q::new(
        "status = ? AND valid_to_utc > ? AND pending_end IS NULL \
         AND (lease_until_utc IS NULL OR lease_until_utc < ?) AND (next_attempt_utc IS NULL OR next_attempt_utc <= ?)",
    )
    .bind(GrantStatus::Provisioning.as_str())
    .bind(now)
    .bind(now)
    .bind(now);
    let q = db
        .dialect
        .claim("grants", lease_set(owner, lease_until), filter, "id", limit);
    db.fetch_all(&q)
        .await?
        .iter()
        .map(|r| get(r, "id"))
        .collect()
}

/// Records a failed attempt: count it, schedule the next one, release the lease, and keep the
/// reason. Returns the new attempt count.
pub async fn record_failure(
    db: &mut Db<'_>,
    id: i64,
    error: &str,
    next_attempt: DateTime<Utc>,
    revoke_failed: bool,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let q = Q::new(
        "UPDATE grants SET attempts = attempts + 1, next_attempt_utc = ?, status_detail = ?, revoke_failed = ?, \
         lease_owner = NULL, lease_until_utc = NULL, updated_utc = ? WHERE id = ?",
    )
    .bind(next_attempt)
    .bind(error)
    .bind(revoke_failed)
    .bind(now)
    .bind(id);
    db.execute(&q).await?;
    let r = db
        .fetch_optional(&Q::new("SELECT attempts FROM grants WHERE id = ?").bind(id))
        .await?;
    r.map(|r| get(&r, "attempts"))
        .transpose()
        .map(|a| a.unwrap_or(0))
}

/// Takes the lease on one grant if nobody holds it (reconciliation uses this so it never
/// re-adds access the engine is removing at the same moment).
pub async fn try_lease(
    db: &mut Db<'_>,
    id: i64,
    owner: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let q = Q::new("UPDATE grants SET lease_owner = ?, lease_until_utc = ? WHERE id = ? AND (lease_until_utc IS NULL OR lease_until_utc < ?)")
        .bind(owner)
        .bind(until)
        .bind(id)
        .bind(now);
    Ok(db.execute(&q).await? == 1)
}

/// Releases this process's lease without other changes.
pub async fn release(db: &mut Db<'_>, id: i64, owner: &str) -> Result<(), StoreError> {
    db.execute(&Q::new("UPDATE grants SET lease_owner = NULL, lease_until_utc = NULL WHERE id = ? AND lease_owner = ?").bind(id).bind(owner))
        .await?;
    Ok(())
}

/// The earliest instant at which the engine has work: a live grant's end or a retry.
pub async fn next_wakeup(db: &mut Db<'_>) -> Result<Option<DateTime<Utc>>, StoreError> {
    let q = Q::new("SELECT MIN(valid_to_utc) AS t FROM grants WHERE status IN (?, ?)")
        .bind(GrantStatus::Provisioning.as_str())
        .bind(GrantStatus::Active.as_str());
    let due = match db.fetch_optional(&q).await? {
        Some(r) => opt_time(&r, "t")?,
        None => None,
    };
    let q = Q::new("SELECT MIN(next_attempt_utc) AS t FROM grants WHERE status IN (?, ?) AND next_attempt_utc IS NOT NULL")
        .bind(GrantStatus::Provisioning.as_str())
        .bind(GrantStatus::Active.as_str());
    let retry = match db.fetch_optional(&q).await? {
        Some(r) => opt_time(&r, "t")?,
        None => None,
    };
    Ok(match (due, retry) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    })
}

/// A db role's assignments on live grants, for reconciliation.
pub struct LiveAssignment {
    pub grant_id: i64,
    pub login_name: String,
    pub status: GrantStatus,
    pub valid_to: DateTime<Utc>,
    pub pending_end: bool,
    pub add_succeeded: Option<bool>,
    pub drop_succeeded: Option<bool>,
}

pub async fn live_assignments(
    db: &mut Db<'_>,
    db_role_id: i64,
) -> Result<Vec<LiveAssignment>, StoreError> {
    let q = Q::new(
        "SELECT g.id AS grant_id, u.login_name, g.status, g.valid_to_utc, g.pending_end, a.add_succeeded, a.drop_succeeded \
         FROM grant_db_role_assignments a JOIN grants g ON g.id = a.grant_id JOIN users u ON u.id = g.user_id \
         WHERE a.db_role_id = ? AND g.status IN (?, ?) ORDER BY g.id",
    )
    .bind(db_role_id)
    .bind(GrantStatus::Provisioning.as_str())
    .bind(GrantStatus::Active.as_str());
    db.fetch_all(&q)
        .await?
        .iter()
        .map(|r| {
            Ok(LiveAssignment {
                grant_id: get(r, "grant_id")?,
                login_name: get(r, "login_name")?,
                status: parsed(r, "status")?,
                valid_to: time(r, "valid_to_utc")?,
                pending_end: opt_str(r, "pending_end")?.is_some(),
                add_succeeded: get(r, "add_succeeded")?,
                drop_succeeded: get(r, "drop_succeeded")?,
            })
        })
        .collect()
}

/// One db role of one grant, with its target and the grant's login (for batched removal).
pub struct BatchAssignment {
    pub grant_id: i64,
    pub db_role_id: i64,
    pub db_role_name: String,
    pub target: crate::provision::TargetRef,
    pub login_name: String,
    pub drop_succeeded: Option<bool>,
}

/// The assignments of several grants at once.
pub async fn assignments_of(
    db: &mut Db<'_>,
    grant_ids: &[i64],
) -> Result<Vec<BatchAssignment>, StoreError> {
    if grant_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Q::new(
        "SELECT a.grant_id, a.db_role_id, d.db_role_name, t.id AS target_id, t.kind, t.connection_url_env, u.login_name, a.drop_succeeded \
         FROM grant_db_role_assignments a JOIN grants g ON g.id = a.grant_id JOIN users u ON u.id = g.user_id \
         JOIN db_roles d ON d.id = a.db_role_id JOIN targets t ON t.id = d.target_id WHERE a.grant_id IN ",
    );
    q.push_in(grant_ids.iter().copied());
    db.fetch_all(&q)
        .await?
        .iter()
        .map(|r| {
            Ok(BatchAssignment {
                grant_id: get(r, "grant_id")?,
                db_role_id: get(r, "db_role_id")?,
                db_role_name: get(r, "db_role_name")?,
                target: crate::provision::TargetRef {
                    id: get(r, "target_id")?,
                    kind: parsed(r, "kind")?,
                    url_env: opt_str(r, "connection_url_env")?,
                },
                login_name: get(r, "login_name")?,
                drop_succeeded: get(r, "drop_succeeded")?,
            })
        })
        .collect()
}

/// The facts the batched expiry needs about a grant.
pub struct BriefGrant {
    pub id: i64,
    pub user_id: i64,
    pub request_id: Option<i64>,
    pub valid_to: DateTime<Utc>,
}

/// Marks plainly expiring grants (live, no end pending) expired in one statement and returns
/// the ones this call moved, with what the audit needs. Their unconfirmed drops are recorded
/// as succeeded (the caller removed them) and their requests move to `expired`.
pub async fn expire_many(
    db: &mut Db<'_>,
    ids: &[i64],
    by: &str,
    now: DateTime<Utc>,
) -> Result<Vec<BriefGrant>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; ids.len()].join(", ");
    let mut q = Q::new(db.dialect.update_returning_id(
        "grants",
        "status = ?, status_detail = NULL, updated_utc = ?",
        &format!("status IN (?, ?) AND pending_end IS NULL AND id IN ({marks})"),
    ))
    .bind(GrantStatus::Expired.as_str())
    .bind(now)
    .bind(GrantStatus::Active.as_str())
    .bind(GrantStatus::Provisioning.as_str());
    for id in ids {
        q = q.bind(*id);
    }
    let moved: Vec<i64> = db
        .fetch_all(&q)
        .await?
        .iter()
        .map(|r| get(r, "id"))
        .collect::<Result<_, _>>()?;
    if moved.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Q::new("UPDATE grant_db_role_assignments SET drop_attempt_utc = ?, drop_succeeded = ?, drop_error = NULL WHERE (drop_succeeded IS NULL OR drop_succeeded = ?) AND grant_id IN ")
        .bind(now)
        .bind(true)
        .bind(false);
    q.push_in(moved.iter().copied());
    db.execute(&q).await?;
    let mut q = Q::new("SELECT id, user_id, request_id, valid_to_utc FROM grants WHERE id IN ");
    q.push_in(moved.iter().copied());
    let brief: Vec<BriefGrant> = db
        .fetch_all(&q)
        .await?
        .iter()
        .map(|r| {
            Ok(BriefGrant {
                id: get(r, "id")?,
                user_id: get(r, "user_id")?,
                request_id: opt_i64(r, "request_id")?,
                valid_to: time(r, "valid_to_utc")?,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    let request_ids: Vec<i64> = brief.iter().filter_map(|b| b.request_id).collect();
    if !request_ids.is_empty() {
        let mut q = Q::new("UPDATE requests SET status = ?, updated_utc = ?, updated_by = ? WHERE status IN (?, ?) AND id IN ")
            .bind(RequestStatus::Expired.as_str())
            .bind(now)
            .bind(by)
            .bind(RequestStatus::Approved.as_str())
            .bind(RequestStatus::AutoApproved.as_str());
        q.push_in(request_ids.iter().copied());
        db.execute(&q).await?;
    }
    Ok(brief)
}
