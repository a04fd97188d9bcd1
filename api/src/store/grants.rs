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
    g.next_attempt_utc, g.revoke_failed, g.pending_end, g.extensions, \
    (SELECT x.id FROM requests x WHERE x.extends_grant_id = g.id AND x.status = 'pending') AS pending_extension_id, \
    g.break_glass, g.review_due_utc, g.reviewed_utc, g.reviewed_by_user_id, g.reviewed_by_login_name, \
    g.review_outcome, g.review_comment";
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
        extensions: get(r, "extensions")?,
        pending_extension_id: opt_i64(r, "pending_extension_id")?,
        assignments: Vec::new(),
        break_glass: get(r, "break_glass")?,
        review_due_utc: opt_time(r, "review_due_utc")?,
        review: review(r)?,
    })
}

/// The review columns of a grant row (`reviewed_utc` and the reviewer, the outcome and the
/// comment), when it has been reviewed.
pub(super) fn review(r: &AnyRow) -> Result<Option<GrantReview>, StoreError> {
    let Some(reviewed_utc) = opt_time(r, "reviewed_utc")? else {
        return Ok(None);
    };
    Ok(Some(GrantReview {
        outcome: parsed(r, "review_outcome")?,
        comment: opt_str(r, "review_comment")?.unwrap_or_default(),
        reviewer_user_id: opt_i64(r, "reviewed_by_user_id")?,
        reviewer_login_name: opt_str(r, "reviewed_by_login_name")?.unwrap_or_default(),
        reviewed_utc,
    }))
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
    let ids: Vec<i64> = page.items.iter().map(|g| g.id).collect();
    let mut all = assignments_for(db, &ids).await?;
    for g in &mut page.items {
        g.assignments = all.remove(&g.id).unwrap_or_default();
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

/// Inserts a grant in `provisioning` with one pending assignment per mapped db role, held
/// under the lease `lease` (id, until) when given (the inserting process provisions it next;
/// if it dies first, the lease lapses and the engine takes over). A scheduled grant (starting
/// later) is inserted without a lease: the engine claims it when it starts.
pub async fn insert(
    db: &mut Db<'_>,
    g: &NewGrant,
    db_role_ids: &[i64],
    lease: Option<(&str, DateTime<Utc>)>,
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
                ("lease_owner", lease.map(|l| l.0).into()),
                ("lease_until_utc", lease.map(|l| l.1).into()),
                ("created_utc", now.into()),
                ("updated_utc", now.into()),
            ],
        )
        .await?;
    let rows = db_role_ids
        .iter()
        .map(|d| vec![id.into(), (*d).into()])
        .collect();
    db.insert_many(
        "grant_db_role_assignments",
        &["grant_id", "db_role_id"],
        rows,
    )
    .await?;
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

const ASSIGNMENT_COLS: &str = "a.grant_id, a.db_role_id, d.db_role_name, d.target_id, t.name AS target_name, \
     a.add_attempt_utc, a.add_succeeded, a.add_error, a.drop_attempt_utc, a.drop_succeeded, a.drop_error, \
     COALESCE(m.is_required, ?) AS is_required";
const ASSIGNMENT_FROM: &str =
    "FROM grant_db_role_assignments a JOIN grants g ON g.id = a.grant_id \
     JOIN db_roles d ON d.id = a.db_role_id JOIN targets t ON t.id = d.target_id \
     LEFT JOIN role_db_roles m ON m.role_id = g.role_id AND m.db_role_id = a.db_role_id";

fn map_assignment(r: &AnyRow) -> Result<(i64, GrantAssignment), StoreError> {
    let add: Option<bool> = get(r, "add_succeeded")?;
    let drop: Option<bool> = get(r, "drop_succeeded")?;
    Ok((
        get(r, "grant_id")?,
        GrantAssignment {
            db_role_id: get(r, "db_role_id")?,
            db_role_name: get(r, "db_role_name")?,
            target_id: get(r, "target_id")?,
            target_name: get(r, "target_name")?,
            required: get(r, "is_required")?,
            state: assignment_state(add, drop).to_string(),
            add_attempt_utc: opt_time(r, "add_attempt_utc")?,
            add_succeeded: add,
            add_error: opt_str(r, "add_error")?,
            drop_attempt_utc: opt_time(r, "drop_attempt_utc")?,
            drop_succeeded: drop,
            drop_error: opt_str(r, "drop_error")?,
        },
    ))
}

pub async fn assignments(
    db: &mut Db<'_>,
    grant_id: i64,
) -> Result<Vec<GrantAssignment>, StoreError> {
    Ok(assignments_for(db, &[grant_id])
        .await?
        .remove(&grant_id)
        .unwrap_or_default())
}

/// The assignments of several grants in one query (list pages).
pub async fn assignments_for(
    db: &mut Db<'_>,
    grant_ids: &[i64],
) -> Result<std::collections::HashMap<i64, Vec<GrantAssignment>>, StoreError> {
    let mut out: std::collections::HashMap<i64, Vec<GrantAssignment>> = Default::default();
    if grant_ids.is_empty() {
        return Ok(out);
    }
    let mut q = Q::new(format!(
        "SELECT {ASSIGNMENT_COLS} {ASSIGNMENT_FROM} WHERE a.grant_id IN "
    ))
    .bind(true);
    q.push_in(grant_ids.iter().copied());
    q.push(" ORDER BY a.grant_id, d.db_role_name");
    for r in db.fetch_all(&q).await? {
        let (g, a) = map_assignment(&r)?;
        out.entry(g).or_default().push(a);
    }
    Ok(out)
}

/// Records an add attempt for `principal` (kept: removal names the same principal).
pub async fn record_add(
    db: &mut Db<'_>,
    grant_id: i64,
    db_role_id: i64,
    principal: &str,
    result: Result<(), String>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let q = Q::new("UPDATE grant_db_role_assignments SET principal = COALESCE(principal, ?), add_attempt_utc = ?, add_succeeded = ?, add_error = ? WHERE grant_id = ? AND db_role_id = ?")
        .bind(Some(principal).filter(|p| !p.trim().is_empty()).map(str::to_string))
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
    q.limit(limit);
    db.fetch_ids(&q).await
}

/// Live (provisioning or active) grants of a user, e.g. to revoke on deactivation.
pub async fn live_ids_for_user(db: &mut Db<'_>, user_id: i64) -> Result<Vec<i64>, StoreError> {
    let q = Q::new("SELECT id FROM grants WHERE user_id = ? AND status IN (?, ?) ORDER BY id")
        .bind(user_id)
        .bind(GrantStatus::Provisioning.as_str())
        .bind(GrantStatus::Active.as_str());
    db.fetch_ids(&q).await
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

/// Where a target is: its id, kind, the environment variable naming its URL and its
/// kind-specific settings (JSON text). The store knows no connector types; the grant
/// lifecycle turns this into a connector call.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TargetAddr {
    pub id: i64,
    pub kind: TargetKind,
    pub url_env: Option<String>,
    pub settings: Option<String>,
    pub principal_from: PrincipalFrom,
}

/// The columns `target_addr` reads, for a query joining `targets t`.
const TARGET_ADDR_COLS: &str =
    "t.id AS target_id, t.kind, t.connection_url_env, t.settings, t.principal_from";

fn target_addr(r: &AnyRow) -> Result<TargetAddr, StoreError> {
    Ok(TargetAddr {
        id: get(r, "target_id")?,
        kind: parsed(r, "kind")?,
        url_env: opt_str(r, "connection_url_env")?,
        settings: opt_str(r, "settings")?,
        principal_from: parsed(r, "principal_from")?,
    })
}

/// The one definition of a user's principal on a target (who they are there), for a query
/// joining an assignment `a`, `users u` and `targets t`: the principal the assignment was
/// added for, once it was tried (so removal names whoever got the access, even if the
/// user's email or mapping changed since); before that, their login name, their email on a
/// target with `principal_from = email`, or what an admin mapped them to on one with
/// `external_id` (`target_principals`). Empty when they have none, which the lifecycle
/// refuses before any connector is called.
const PRINCIPAL: &str = "COALESCE(a.principal, CASE t.principal_from \
     WHEN 'email' THEN COALESCE(u.email, '') \
     WHEN 'external_id' THEN COALESCE((SELECT tp.principal FROM target_principals tp WHERE tp.target_id = t.id AND tp.user_id = u.id), '') \
     ELSE u.login_name END)";

/// One db role a grant provisions, with its target and what the catalogue says of it now.
pub struct AssignmentTarget {
    pub db_role_id: i64,
    pub db_role_name: String,
    pub target: TargetAddr,
    /// The grant's user's principal on the target.
    pub principal: String,
    /// The role's mapping requires it (a missing mapping row counts as required).
    pub required: bool,
    /// The db role is JIT-managed (whitelisted) and its target enabled: it may be added.
    pub grantable: bool,
}

pub async fn assignment_targets(
    db: &mut Db<'_>,
    grant_id: i64,
) -> Result<Vec<AssignmentTarget>, StoreError> {
    let q = Q::new(format!(
        "SELECT a.db_role_id, d.db_role_name, d.is_jit_managed, {TARGET_ADDR_COLS}, {PRINCIPAL} AS principal, \
         t.is_enabled AS target_enabled, COALESCE(m.is_required, ?) AS is_required \
         FROM grant_db_role_assignments a JOIN grants g ON g.id = a.grant_id JOIN users u ON u.id = g.user_id \
         JOIN db_roles d ON d.id = a.db_role_id JOIN targets t ON t.id = d.target_id \
         LEFT JOIN role_db_roles m ON m.role_id = g.role_id AND m.db_role_id = a.db_role_id \
         WHERE a.grant_id = ? ORDER BY a.db_role_id"
    ))
    .bind(true)
    .bind(grant_id);
    db.fetch_all(&q)
        .await?
        .iter()
        .map(|r| {
            let managed: bool = get(r, "is_jit_managed")?;
            let enabled: bool = get(r, "target_enabled")?;
            Ok(AssignmentTarget {
                db_role_id: get(r, "db_role_id")?,
                db_role_name: get(r, "db_role_name")?,
                target: target_addr(r)?,
                principal: get(r, "principal")?,
                required: get(r, "is_required")?,
                grantable: managed && enabled,
            })
        })
        .collect()
}

/// A role's mapped db roles split into those a new grant may add (JIT-managed, on an enabled
/// target) and those it must not, with the reason.
/// A role's db roles a grant may get (ids), and those it may not, each with its name and why.
pub type Grantable = (Vec<i64>, Vec<(i64, String, &'static str)>);

pub async fn grantable_db_roles(db: &mut Db<'_>, role_id: i64) -> Result<Grantable, StoreError> {
    let q = Q::new(
        "SELECT d.id, d.db_role_name, d.is_jit_managed, t.is_enabled FROM role_db_roles m \
         JOIN db_roles d ON d.id = m.db_role_id JOIN targets t ON t.id = d.target_id \
         WHERE m.role_id = ? ORDER BY d.id",
    )
    .bind(role_id);
    let mut ok = Vec::new();
    let mut skipped = Vec::new();
    for r in db.fetch_all(&q).await? {
        let id: i64 = get(&r, "id")?;
        let managed: bool = get(&r, "is_jit_managed")?;
        let enabled: bool = get(&r, "is_enabled")?;
        match (managed, enabled) {
            (true, true) => ok.push(id),
            (false, _) => skipped.push((id, get(&r, "db_role_name")?, "not_jit_managed")),
            (true, false) => skipped.push((id, get(&r, "db_role_name")?, "target_disabled")),
        }
    }
    Ok((ok, skipped))
}

/// Moves a live grant's end to `new_valid_to` and counts the extension: a compare-and-set
/// that succeeds only while the grant is still as the caller checked it (active, no end
/// pending, `expected_extensions` so far, its end still after `now`) and no process
/// holds its lease (the engine claims a grant it ends, so an extension can never move the
/// end of a grant whose memberships are being removed). The memberships are not touched.
pub async fn extend(
    db: &mut Db<'_>,
    id: i64,
    expected_extensions: i64,
    new_valid_to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let q = Q::new(
        "UPDATE grants SET valid_to_utc = ?, extensions = extensions + 1, reminded_utc = NULL, updated_utc = ? \
         WHERE id = ? AND status = ? AND pending_end IS NULL AND valid_to_utc > ? \
         AND extensions = ? AND (lease_until_utc IS NULL OR lease_until_utc < ?)",
    )
    .bind(new_valid_to)
    .bind(now)
    .bind(id)
    .bind(GrantStatus::Active.as_str())
    .bind(now)
    .bind(expected_extensions)
    .bind(now);
    Ok(db.execute(&q).await? == 1)
}

/// Whether a process holds the grant's lease now (work on its memberships is in flight).
pub async fn is_leased(db: &mut Db<'_>, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let q = Q::new("SELECT lease_until_utc FROM grants WHERE id = ?").bind(id);
    match db.fetch_optional(&q).await? {
        Some(r) => Ok(opt_time(&r, "lease_until_utc")?.is_some_and(|t| t >= now)),
        None => Ok(false),
    }
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
///
/// `now` is the instant the pass runs "as of" (due-ness and retries); a lease counts as
/// lapsed only when it ended before `clock`, the current time (`AppState::now`). (With `jitea expire --at`
/// in the future the two differ, and comparing leases with `now` would take back the batches
/// this very pass still holds.)
pub async fn claim_endings(
    db: &mut Db<'_>,
    owner: &str,
    now: DateTime<Utc>,
    clock: DateTime<Utc>,
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
    .bind(clock)
    .bind(now);
    let q = Q::claim(
        "grants",
        lease_set(owner, lease_until),
        filter,
        "valid_to_utc, id",
        limit,
    );
    db.fetch_ids(&q).await
}

/// Claims grants whose next provisioning attempt is due and that are not ending: grants still
/// `provisioning` whose start has come (a scheduled grant is claimed at its `valid_from_utc`),
/// and `active` ones with an optional db role left to retry.
pub async fn claim_provisioning(
    db: &mut Db<'_>,
    owner: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<i64>, StoreError> {
    let filter = Q::new(
        "(status = ? OR (status = ? AND next_attempt_utc IS NOT NULL)) AND valid_from_utc <= ? AND valid_to_utc > ? AND pending_end IS NULL \
         AND (lease_until_utc IS NULL OR lease_until_utc < ?) AND (next_attempt_utc IS NULL OR next_attempt_utc <= ?)",
    )
    .bind(GrantStatus::Provisioning.as_str())
    .bind(GrantStatus::Active.as_str())
    .bind(now)
    .bind(now)
    .bind(now)
    .bind(now);
    let q = Q::claim("grants", lease_set(owner, lease_until), filter, "id", limit);
    db.fetch_ids(&q).await
}

/// Records a failed attempt: count it, schedule the next one and keep the reason (the lease
/// holder releases the lease when it is done). Returns the new attempt count.
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
         updated_utc = ? WHERE id = ?",
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

/// Takes the lease on one grant if nobody holds it. `lease_id` must be unique to this
/// acquisition: it is the fencing token every later write checks (`fence`).
pub async fn acquire(
    db: &mut Db<'_>,
    id: i64,
    lease_id: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let q = Q::new("UPDATE grants SET lease_owner = ?, lease_until_utc = ? WHERE id = ? AND (lease_until_utc IS NULL OR lease_until_utc < ?)")
        .bind(lease_id)
        .bind(until)
        .bind(id)
        .bind(now);
    Ok(db.execute(&q).await? == 1)
}

/// Extends every lease held under `lease_id` (one grant, or a whole claimed batch). Returns
/// how many grants it still holds; 0 means the lease was lost (taken over after it lapsed).
pub async fn renew(
    db: &mut Db<'_>,
    lease_id: &str,
    until: DateTime<Utc>,
) -> Result<u64, StoreError> {
    db.execute(
        &Q::new("UPDATE grants SET lease_until_utc = ? WHERE lease_owner = ?")
            .bind(until)
            .bind(lease_id),
    )
    .await
}

/// Inside a write transaction: whether `lease_id` still holds the grant. On PostgreSQL and
/// SQL Server this also locks the grant's row until the transaction ends, so nobody can take
/// the lease between this check and the commit; SQLite has a single writer anyway.
pub async fn fence(db: &mut Db<'_>, id: i64, lease_id: &str) -> Result<bool, StoreError> {
    let q = Q::new(
        "UPDATE grants SET lease_until_utc = lease_until_utc WHERE id = ? AND lease_owner = ?",
    )
    .bind(id)
    .bind(lease_id);
    Ok(db.execute(&q).await? == 1)
}

/// Gives up every lease held under `lease_id`.
pub async fn release(db: &mut Db<'_>, lease_id: &str) -> Result<(), StoreError> {
    db.execute(
        &Q::new(
            "UPDATE grants SET lease_owner = NULL, lease_until_utc = NULL WHERE lease_owner = ?",
        )
        .bind(lease_id),
    )
    .await?;
    Ok(())
}

/// The common end of provisioning in one statement: a grant still provisioning, with no end
/// pending or due and still held by `lease_id`, becomes active with no retry scheduled and
/// its lease given back. Returns false (changing nothing) when any of that does not hold.
pub async fn activate_held(
    db: &mut Db<'_>,
    id: i64,
    lease_id: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let q = Q::new("UPDATE grants SET status = ?, status_detail = NULL, next_attempt_utc = NULL, lease_owner = NULL, lease_until_utc = NULL, updated_utc = ? \
         WHERE id = ? AND status = ? AND pending_end IS NULL AND valid_to_utc > ? AND lease_owner = ?")
        .bind(GrantStatus::Active.as_str())
        .bind(now)
        .bind(id)
        .bind(GrantStatus::Provisioning.as_str())
        .bind(now)
        .bind(lease_id);
    Ok(db.execute(&q).await? == 1)
}

/// Gives up the lease on one grant of a batch.
pub async fn release_one(db: &mut Db<'_>, id: i64, lease_id: &str) -> Result<(), StoreError> {
    db.execute(&Q::new("UPDATE grants SET lease_owner = NULL, lease_until_utc = NULL WHERE id = ? AND lease_owner = ?").bind(id).bind(lease_id))
        .await?;
    Ok(())
}

/// Why a live grant must end although nothing asked for it: its user is inactive, its role
/// disabled, or one of its db roles taken off the whitelist (`is_jit_managed = false`).
/// Returns (grant id, reason) for live grants with no end pending yet.
pub async fn policy_endings(db: &mut Db<'_>) -> Result<Vec<(i64, String)>, StoreError> {
    let q = Q::new(
        "SELECT g.id, u.is_active, r.is_enabled FROM grants g JOIN users u ON u.id = g.user_id JOIN roles r ON r.id = g.role_id \
         WHERE g.status IN (?, ?) AND g.pending_end IS NULL \
         AND (u.is_active = ? OR r.is_enabled = ? OR EXISTS (SELECT 1 FROM grant_db_role_assignments a2 \
              JOIN db_roles d2 ON d2.id = a2.db_role_id WHERE a2.grant_id = g.id AND d2.is_jit_managed = ?)) \
         ORDER BY g.id",
    )
    .bind(GrantStatus::Provisioning.as_str())
    .bind(GrantStatus::Active.as_str())
    .bind(false)
    .bind(false)
    .bind(false);
    db.fetch_all(&q)
        .await?
        .iter()
        .map(|r| {
            let active: bool = get(r, "is_active")?;
            let enabled: bool = get(r, "is_enabled")?;
            let reason = if !active {
                "the user is inactive"
            } else if !enabled {
                "the role is disabled"
            } else {
                "a db role of this grant is no longer JIT-managed"
            };
            Ok((get(r, "id")?, reason.to_string()))
        })
        .collect()
}

/// Inside a fenced transaction, after an add: whether the grant must end now (no longer live,
/// an end pending, or due).
pub async fn is_ending(db: &mut Db<'_>, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let q = Q::new("SELECT status, pending_end, valid_to_utc FROM grants WHERE id = ?").bind(id);
    let Some(r) = db.fetch_optional(&q).await? else {
        return Ok(true);
    };
    let status: GrantStatus = parsed(&r, "status")?;
    Ok(!status.is_live()
        || opt_str(&r, "pending_end")?.is_some()
        || time(&r, "valid_to_utc")? <= now)
}

/// Clears a scheduled provisioning retry that is no longer needed.
pub async fn clear_retry(db: &mut Db<'_>, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
    db.execute(
        &Q::new("UPDATE grants SET next_attempt_utc = NULL, status_detail = NULL, updated_utc = ? WHERE id = ? AND next_attempt_utc IS NOT NULL")
            .bind(now)
            .bind(id),
    )
    .await?;
    Ok(())
}

/// Whether the grant's user is active and its role enabled.
pub async fn is_entitled(db: &mut Db<'_>, id: i64) -> Result<bool, StoreError> {
    let q = Q::new(
        "SELECT u.is_active, r.is_enabled FROM grants g JOIN users u ON u.id = g.user_id JOIN roles r ON r.id = g.role_id WHERE g.id = ?",
    )
    .bind(id);
    match db.fetch_optional(&q).await? {
        Some(r) => Ok(get::<bool>(&r, "is_active")? && get::<bool>(&r, "is_enabled")?),
        None => Ok(false),
    }
}

/// Whether a live grant holds (or is adding) `principal` in the db role.
pub async fn has_live_member(
    db: &mut Db<'_>,
    db_role_id: i64,
    principal: &str,
) -> Result<bool, StoreError> {
    let q = Q::new(format!(
        "SELECT COUNT(*) AS n FROM grant_db_role_assignments a JOIN grants g ON g.id = a.grant_id \
         JOIN users u ON u.id = g.user_id JOIN db_roles d ON d.id = a.db_role_id JOIN targets t ON t.id = d.target_id \
         WHERE a.db_role_id = ? AND {PRINCIPAL} = ? AND g.status IN (?, ?)"
    ))
    .bind(db_role_id)
    .bind(principal)
    .bind(GrantStatus::Provisioning.as_str())
    .bind(GrantStatus::Active.as_str());
    match db.fetch_optional(&q).await? {
        Some(r) => Ok(get::<i64>(&r, "n")? > 0),
        None => Ok(false),
    }
}

/// The earliest instant at which the engine has work: a live grant's end, a retry, or the
/// start of a scheduled grant (after `now`).
pub async fn next_wakeup(
    db: &mut Db<'_>,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
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
    let q = Q::new(
        "SELECT MIN(valid_from_utc) AS t FROM grants WHERE status = ? AND valid_from_utc > ?",
    )
    .bind(GrantStatus::Provisioning.as_str())
    .bind(now);
    let start = match db.fetch_optional(&q).await? {
        Some(r) => opt_time(&r, "t")?,
        None => None,
    };
    Ok([due, retry, start].into_iter().flatten().min())
}

/// A db role's assignments on live grants, for reconciliation.
pub struct LiveAssignment {
    pub grant_id: i64,
    /// The grant's user's principal on the db role's target.
    pub principal: String,
    /// The grant's user is active and its role enabled: only then may access be re-added.
    pub entitled: bool,
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
    let q = Q::new(format!(
        "SELECT g.id AS grant_id, {PRINCIPAL} AS principal, u.is_active, ro.is_enabled, g.status, g.valid_to_utc, g.pending_end, a.add_succeeded, a.drop_succeeded \
         FROM grant_db_role_assignments a JOIN grants g ON g.id = a.grant_id JOIN users u ON u.id = g.user_id \
         JOIN roles ro ON ro.id = g.role_id JOIN db_roles d ON d.id = a.db_role_id JOIN targets t ON t.id = d.target_id \
         WHERE a.db_role_id = ? AND g.status IN (?, ?) ORDER BY g.id"
    ))
    .bind(db_role_id)
    .bind(GrantStatus::Provisioning.as_str())
    .bind(GrantStatus::Active.as_str());
    db.fetch_all(&q)
        .await?
        .iter()
        .map(|r| {
            Ok(LiveAssignment {
                grant_id: get(r, "grant_id")?,
                principal: get(r, "principal")?,
                entitled: get::<bool>(r, "is_active")? && get::<bool>(r, "is_enabled")?,
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
    pub target: TargetAddr,
    /// The grant's user's principal on the target.
    pub principal: String,
    pub drop_succeeded: Option<bool>,
}

/// The assignment rows (db role, target, login, whether already dropped) of every grant a
/// claim holds under `lease_id`: one indexed parameter instead of an `IN` list of a whole
/// batch (a fifth of the time at 2,000 grants).
pub async fn assignments_held(
    db: &mut Db<'_>,
    lease_id: &str,
) -> Result<Vec<BatchAssignment>, StoreError> {
    let q = Q::new(format!(
        "SELECT a.grant_id, a.db_role_id, d.db_role_name, {TARGET_ADDR_COLS}, {PRINCIPAL} AS principal, a.drop_succeeded \
         {BATCH_ASSIGNMENTS_FROM} WHERE g.lease_owner = ?"
    ))
    .bind(lease_id);
    batch_assignments(db, &q).await
}

const BATCH_ASSIGNMENTS_FROM: &str = "FROM grant_db_role_assignments a JOIN grants g ON g.id = a.grant_id JOIN users u ON u.id = g.user_id \
     JOIN db_roles d ON d.id = a.db_role_id JOIN targets t ON t.id = d.target_id";

async fn batch_assignments(db: &mut Db<'_>, q: &Q) -> Result<Vec<BatchAssignment>, StoreError> {
    db.fetch_all(q)
        .await?
        .iter()
        .map(|r| {
            Ok(BatchAssignment {
                grant_id: get(r, "grant_id")?,
                db_role_id: get(r, "db_role_id")?,
                db_role_name: get(r, "db_role_name")?,
                target: target_addr(r)?,
                principal: get(r, "principal")?,
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

/// Marks plainly expiring grants (live, no end pending, still held under `lease_id`) expired in one statement and returns
/// the ones this call moved, with what the audit needs. Their unconfirmed drops are recorded
/// as succeeded (the caller removed them) and their requests move to `expired`.
pub async fn expire_many(
    db: &mut Db<'_>,
    ids: &[i64],
    lease_id: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Vec<BriefGrant>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; ids.len()].join(", ");
    let mut q = Q::update_returning_id(
        "grants",
        "status = ?, status_detail = NULL, updated_utc = ?",
        &format!(
            "status IN (?, ?) AND pending_end IS NULL AND lease_owner = ? AND id IN ({marks})"
        ),
    )
    .bind(GrantStatus::Expired.as_str())
    .bind(now)
    .bind(GrantStatus::Active.as_str())
    .bind(GrantStatus::Provisioning.as_str())
    .bind(lease_id);
    for id in ids {
        q = q.bind(*id);
    }
    let moved: Vec<i64> = db.fetch_ids(&q).await?;
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
