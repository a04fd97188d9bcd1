//! Access requests and the approvals (human decisions) on them.

use chrono::{DateTime, Utc};
use jitea_shared::*;
use sqlx_oldapi::any::AnyRow;

use super::paging::{fetch_page, Order, PageReq};
use super::rows::{get, opt_i64, opt_str, opt_time, parsed, time};
use super::{Db, StoreError, Q};

const COLS: &str = "r.id, r.user_id, u.login_name AS user_login_name, r.role_id, ro.role_name, \
    r.requested_duration_minutes, r.justification, r.ticket_ref, r.status, r.auto_approval_reason, \
    r.user_dept_snapshot, r.user_title_snapshot, r.user_division_snapshot, r.user_seniority_snapshot, \
    r.created_utc, r.updated_utc, r.created_by, r.updated_by, r.decide_by_utc, r.start_utc, \
    r.extends_grant_id, r.previous_extensions, r.required_approvals, r.approval_stages, \
    eg.status AS extends_status, \
    eg.valid_from_utc AS extends_valid_from_utc, eg.valid_to_utc AS extends_valid_to_utc, \
    (SELECT g.id FROM grants g WHERE g.request_id = r.id) AS grant_id";
const FROM: &str =
    "FROM requests r JOIN users u ON u.id = r.user_id JOIN roles ro ON ro.id = r.role_id \
     LEFT JOIN grants eg ON eg.id = r.extends_grant_id";

fn map(r: &AnyRow) -> Result<AccessRequest, StoreError> {
    let reason: Option<String> = opt_str(r, "auto_approval_reason")?;
    let extension = match opt_i64(r, "extends_grant_id")? {
        Some(grant_id) => Some(ExtensionOf {
            grant_id,
            grant_status: parsed(r, "extends_status")?,
            grant_valid_from_utc: time(r, "extends_valid_from_utc")?,
            grant_valid_to_utc: time(r, "extends_valid_to_utc")?,
            previous_extensions: opt_i64(r, "previous_extensions")?.unwrap_or(0),
        }),
        None => None,
    };
    Ok(AccessRequest {
        id: get(r, "id")?,
        user_id: get(r, "user_id")?,
        user_login_name: get(r, "user_login_name")?,
        role_id: get(r, "role_id")?,
        role_name: get(r, "role_name")?,
        requested_duration_minutes: get(r, "requested_duration_minutes")?,
        justification: opt_str(r, "justification")?,
        ticket_ref: opt_str(r, "ticket_ref")?,
        status: parsed(r, "status")?,
        auto_approval_reason: reason.and_then(|s| s.parse().ok()),
        user_dept_snapshot: opt_str(r, "user_dept_snapshot")?,
        user_title_snapshot: opt_str(r, "user_title_snapshot")?,
        user_division_snapshot: opt_str(r, "user_division_snapshot")?,
        user_seniority_snapshot: opt_i64(r, "user_seniority_snapshot")?,
        created_utc: time(r, "created_utc")?,
        updated_utc: time(r, "updated_utc")?,
        created_by: get(r, "created_by")?,
        updated_by: get(r, "updated_by")?,
        approvals: Vec::new(),
        grant_id: match &extension {
            Some(e) => Some(e.grant_id),
            None => opt_i64(r, "grant_id")?,
        },
        kind: if extension.is_some() {
            RequestKind::Extension
        } else {
            RequestKind::Access
        },
        extension,
        decide_by_utc: opt_time(r, "decide_by_utc")?,
        start_utc: opt_time(r, "start_utc")?,
        required_approvals: get(r, "required_approvals")?,
        approval_stages: get(r, "approval_stages")?,
        approval_progress: None,
    })
}

pub async fn get_by_id(db: &mut Db<'_>, id: i64) -> Result<Option<AccessRequest>, StoreError> {
    let q = Q::new(format!("SELECT {COLS} {FROM} WHERE r.id = ?")).bind(id);
    let Some(req) = db.fetch_optional(&q).await?.as_ref().map(map).transpose()? else {
        return Ok(None);
    };
    let mut one = [req];
    attach_approvals(db, &mut one).await?;
    let [req] = one;
    Ok(Some(req))
}

#[derive(Debug, Default, Clone)]
pub struct RequestFilter {
    pub user_id: Option<i64>,
    pub role_id: Option<i64>,
    pub status: Option<RequestStatus>,
}

pub async fn list(
    db: &mut Db<'_>,
    f: &RequestFilter,
    page: PageReq,
) -> Result<Page<AccessRequest>, StoreError> {
    let mut q = Q::new(format!("SELECT {COLS} {FROM} WHERE 1 = 1"));
    if let Some(v) = f.user_id {
        q.push_bind(" AND r.user_id = ?", v);
    }
    if let Some(v) = f.role_id {
        q.push_bind(" AND r.role_id = ?", v);
    }
    if let Some(v) = f.status {
        q.push_bind(" AND r.status = ?", v.as_str());
    }
    let mut page = fetch_page(db, q, "r.id", Order::NewestFirst, page, map, |r| r.id).await?;
    attach_approvals(db, &mut page.items).await?;
    Ok(page)
}

/// Fills `approvals` of every request with one query (not one per request).
async fn attach_approvals(db: &mut Db<'_>, reqs: &mut [AccessRequest]) -> Result<(), StoreError> {
    if reqs.is_empty() {
        return Ok(());
    }
    let mut q = Q::new(format!(
        "SELECT {APPROVAL_COLS} FROM approvals WHERE request_id IN "
    ));
    q.push_in(reqs.iter().map(|r| r.id));
    q.push(" ORDER BY id");
    let mut by_request: std::collections::HashMap<i64, Vec<Approval>> = Default::default();
    for row in db.fetch_all(&q).await? {
        let a = map_approval(&row)?;
        by_request.entry(a.request_id).or_default().push(a);
    }
    for r in reqs.iter_mut() {
        r.approvals = by_request.remove(&r.id).unwrap_or_default();
    }
    attach_progress(db, reqs).await
}

/// Fills `approval_progress` of the pending requests among `reqs` (one query for the
/// approver entries of their roles).
async fn attach_progress(db: &mut Db<'_>, reqs: &mut [AccessRequest]) -> Result<(), StoreError> {
    let mut roles: Vec<i64> = reqs
        .iter()
        .filter(|r| r.status == RequestStatus::Pending)
        .map(|r| r.role_id)
        .collect();
    roles.sort_unstable();
    roles.dedup();
    let entries = super::catalog::approvers_of_roles(db, &roles).await?;
    for r in reqs
        .iter_mut()
        .filter(|r| r.status == RequestStatus::Pending)
    {
        let of_role: Vec<&RoleApprover> =
            entries.iter().filter(|e| e.role_id == r.role_id).collect();
        r.approval_progress = Some(approval_progress(r, &of_role));
    }
    Ok(())
}

/// Where a pending request's approvals stand (`domain::approval_stages`), for its DTO.
fn approval_progress(r: &AccessRequest, entries: &[&RoleApprover]) -> ApprovalProgress {
    let approved = approved_count(&r.approvals);
    let p = crate::domain::approval_stages::progress_of(
        r.required_approvals,
        r.approval_stages,
        entries.iter().map(|e| e.priority),
        approved,
    );
    ApprovalProgress {
        approved,
        required: p.required,
        stage: p.stage,
        stages: p.stages,
        waiting_for: entries
            .iter()
            .filter(|e| p.open_priority.is_none_or(|o| e.priority == o))
            .map(|e| (*e).clone())
            .collect(),
    }
}

/// Distinct approvals among a request's decisions.
pub fn approved_count(approvals: &[Approval]) -> i64 {
    let mut who: Vec<Option<i64>> = approvals
        .iter()
        .filter(|a| a.decision == Decision::Approved)
        .map(|a| a.approver_user_id)
        .collect();
    who.sort_unstable();
    who.dedup();
    i64::try_from(who.len()).unwrap_or(i64::MAX)
}

/// Who is asking for their approval queue, with the facts the approver rules need.
pub struct ApproverScope<'a> {
    pub user_id: i64,
    pub login_name: &'a str,
    /// Teams the approver is an active member of (active teams only).
    pub team_ids: &'a [i64],
    /// The stored spellings of `department` approver entries that name the approver's
    /// department.
    pub departments: &'a [String],
    /// Every pending request but the approver's own (admins with `JITEA_ADMINS_MAY_APPROVE`).
    pub everything: bool,
}

/// One page (oldest first) of the pending requests the approver may decide, in one query:
/// the request's role has a `role_approvers` entry naming the approver (`user`), one of
/// their teams (`team`), their department (`department`), or a `manager` entry while the
/// requester's manager is the approver; never the approver's own requests.
pub async fn pending_for_approver(
    db: &mut Db<'_>,
    a: &ApproverScope<'_>,
    page: PageReq,
) -> Result<Page<AccessRequest>, StoreError> {
    let mut q = Q::new(format!(
        "SELECT {COLS} {FROM} WHERE r.status = ? AND r.user_id <> ?"
    ))
    .bind(RequestStatus::Pending.as_str())
    .bind(a.user_id);
    push_approver_scope(&mut q, a, "r.role_id", "u.manager_login_name");
    let mut page = fetch_page(db, q, "r.id", Order::OldestFirst, page, map, |r| r.id).await?;
    attach_approvals(db, &mut page.items).await?;
    Ok(page)
}

/// Appends ` AND (…)`: the role in `role_col` names the approver `a` — as a user, as the
/// manager in `manager_col` (the person asking or holding), through one of their teams or their
/// department — the same rules as `domain::approvers`, in SQL. Nothing for `a.everything`.
pub(crate) fn push_approver_scope(
    q: &mut Q,
    a: &ApproverScope<'_>,
    role_col: &str,
    manager_col: &str,
) {
    if a.everything {
        return;
    }
    let entry = format!(
        "EXISTS (SELECT 1 FROM role_approvers ra WHERE ra.role_id = {role_col} AND ra.approver_type = ?"
    );
    q.push_bind(&format!(" AND ({entry}"), ApproverType::User.as_str());
    q.push_bind(" AND ra.approver_user_id = ?)", a.user_id);
    q.push_bind(&format!(" OR ({entry})"), ApproverType::Manager.as_str());
    let manager = Q::fold_name(manager_col);
    q.push_bind(
        &format!(" AND {manager} = ?)"),
        a.login_name.trim().to_lowercase(),
    );
    if !a.team_ids.is_empty() {
        q.push_bind(&format!(" OR {entry}"), ApproverType::Team.as_str());
        q.push(" AND ra.approver_team_id IN ");
        q.push_in(a.team_ids.iter().copied());
        q.push(")");
    }
    if !a.departments.is_empty() {
        q.push_bind(&format!(" OR {entry}"), ApproverType::Department.as_str());
        q.push(" AND ra.approver_department IN ");
        q.push_in(a.departments.iter().map(String::as_str));
        q.push(")");
    }
    q.push(")");
}

/// The open request (pending or approved with live access) of a user for a role; extensions
/// are not counted (they belong to the grant they extend).
pub async fn open_for(
    db: &mut Db<'_>,
    user_id: i64,
    role_id: i64,
) -> Result<Option<(i64, RequestStatus)>, StoreError> {
    let q = Q::new(
        "SELECT id, status FROM requests WHERE user_id = ? AND role_id = ? AND extends_grant_id IS NULL AND status IN (?, ?, ?)",
    )
    .bind(user_id)
    .bind(role_id)
    .bind(RequestStatus::Pending.as_str())
    .bind(RequestStatus::Approved.as_str())
    .bind(RequestStatus::AutoApproved.as_str());
    match db.fetch_optional(&q).await? {
        Some(r) => Ok(Some((get(&r, "id")?, parsed(&r, "status")?))),
        None => Ok(None),
    }
}

/// Current status, read with a row lock where the dialect has one (callers hold a write tx).
pub async fn status_for_update(
    db: &mut Db<'_>,
    id: i64,
) -> Result<Option<RequestStatus>, StoreError> {
    let q = Q::select_locked("status", "requests", "id = ?").bind(id);
    match db.fetch_optional(&q).await? {
        Some(r) => Ok(Some(parsed(&r, "status")?)),
        None => Ok(None),
    }
}

pub struct NewRequest<'a> {
    pub user: &'a User,
    pub role_id: i64,
    /// For an extension: the minutes to add.
    pub duration_minutes: i64,
    pub justification: Option<String>,
    pub ticket_ref: Option<String>,
    pub status: RequestStatus,
    pub auto_approval_reason: Option<AutoApprovalReason>,
    /// The end of the approval window.
    pub decide_by: DateTime<Utc>,
    /// For an extension: the grant and how many extensions it had got before.
    pub extends: Option<(i64, i64)>,
    /// Scheduled access: when the grant is to start.
    pub start: Option<DateTime<Utc>>,
    /// The role's approval rule when the request is made (kept with the request).
    pub required_approvals: i64,
    pub approval_stages: bool,
}

pub async fn insert(
    db: &mut Db<'_>,
    n: &NewRequest<'_>,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    db.insert(
        "requests",
        &[
            ("user_id", n.user.id.into()),
            ("role_id", n.role_id.into()),
            ("requested_duration_minutes", n.duration_minutes.into()),
            ("justification", n.justification.clone().into()),
            ("ticket_ref", n.ticket_ref.clone().into()),
            ("status", n.status.as_str().into()),
            (
                "auto_approval_reason",
                n.auto_approval_reason.map(|r| r.as_str()).into(),
            ),
            ("user_dept_snapshot", n.user.department.clone().into()),
            ("user_title_snapshot", n.user.job_title.clone().into()),
            ("user_division_snapshot", n.user.division.clone().into()),
            ("user_seniority_snapshot", n.user.seniority_level.into()),
            ("decide_by_utc", n.decide_by.into()),
            ("extends_grant_id", n.extends.map(|e| e.0).into()),
            ("previous_extensions", n.extends.map(|e| e.1).into()),
            ("start_utc", n.start.into()),
            ("required_approvals", n.required_approvals.into()),
            ("approval_stages", n.approval_stages.into()),
            ("created_utc", now.into()),
            ("updated_utc", now.into()),
            ("created_by", n.user.login_name.as_str().into()),
            ("updated_by", n.user.login_name.as_str().into()),
        ],
    )
    .await
}

/// Compare-and-set on the status: succeeds for exactly one of several racing callers.
pub async fn transition(
    db: &mut Db<'_>,
    id: i64,
    from: &[RequestStatus],
    to: RequestStatus,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut q = Q::new(
        "UPDATE requests SET status = ?, updated_utc = ?, updated_by = ? WHERE id = ? AND status IN ",
    )
    .bind(to.as_str())
    .bind(now)
    .bind(actor)
    .bind(id);
    q.push_in(from.iter().map(|s| s.as_str()));
    Ok(db.execute(&q).await? == 1)
}

pub async fn insert_approval(
    db: &mut Db<'_>,
    request_id: i64,
    approver: &User,
    decision: Decision,
    comment: Option<String>,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    db.insert(
        "approvals",
        &[
            ("request_id", request_id.into()),
            ("approver_user_id", approver.id.into()),
            ("approver_login_name", approver.login_name.as_str().into()),
            ("decision", decision.as_str().into()),
            ("decision_comment", comment.into()),
            ("decision_utc", now.into()),
        ],
    )
    .await
}

const APPROVAL_COLS: &str = "id, request_id, approver_user_id, approver_login_name, decision, decision_comment, decision_utc";

fn map_approval(r: &AnyRow) -> Result<Approval, StoreError> {
    Ok(Approval {
        id: get(r, "id")?,
        request_id: get(r, "request_id")?,
        approver_user_id: opt_i64(r, "approver_user_id")?,
        approver_login_name: get(r, "approver_login_name")?,
        decision: parsed(r, "decision")?,
        decision_comment: opt_str(r, "decision_comment")?,
        decision_utc: time(r, "decision_utc")?,
    })
}

pub async fn approvals(db: &mut Db<'_>, request_id: i64) -> Result<Vec<Approval>, StoreError> {
    let q = Q::new(format!(
        "SELECT {APPROVAL_COLS} FROM approvals WHERE request_id = ? ORDER BY id"
    ))
    .bind(request_id);
    db.fetch_all(&q).await?.iter().map(map_approval).collect()
}

/// A pending request moved to `expired` by `expire_pending`.
#[derive(Debug, Clone)]
pub struct Lapsed {
    pub id: i64,
    pub user_id: i64,
    pub role_id: i64,
    pub extends_grant_id: Option<i64>,
    pub decide_by_utc: Option<DateTime<Utc>>,
}

/// Which pending requests `expire_pending` ends.
pub enum Undecided<'a> {
    /// Those whose approval window closed at or before `now`.
    WindowClosed,
    /// The pending extensions of these grants (which ended).
    ExtensionsOf(&'a [i64]),
}

/// Moves pending requests to `expired` and returns the ones this call moved: a compare-and-set
/// per row, so of several processes sweeping at once each request is moved (and reported)
/// by exactly one.
pub async fn expire_pending(
    db: &mut Db<'_>,
    which: Undecided<'_>,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Lapsed>, StoreError> {
    let filter = match which {
        Undecided::WindowClosed => "status = ? AND decide_by_utc <= ?".to_string(),
        Undecided::ExtensionsOf([]) => return Ok(Vec::new()),
        Undecided::ExtensionsOf(ids) => format!(
            "status = ? AND extends_grant_id IN ({})",
            vec!["?"; ids.len()].join(", ")
        ),
    };
    let mut q = Q::update_returning_id(
        "requests",
        "status = ?, updated_utc = ?, updated_by = ?",
        &filter,
    )
    .bind(RequestStatus::Expired.as_str())
    .bind(now)
    .bind(by)
    .bind(RequestStatus::Pending.as_str());
    match which {
        Undecided::WindowClosed => q = q.bind(now),
        Undecided::ExtensionsOf(ids) => {
            for id in ids {
                q = q.bind(*id);
            }
        }
    }
    let moved: Vec<i64> = db.fetch_ids(&q).await?;
    if moved.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Q::new(
        "SELECT id, user_id, role_id, extends_grant_id, decide_by_utc FROM requests WHERE id IN ",
    );
    q.push_in(moved.iter().copied());
    db.fetch_all(&q)
        .await?
        .iter()
        .map(|r| {
            Ok(Lapsed {
                id: get(r, "id")?,
                user_id: get(r, "user_id")?,
                role_id: get(r, "role_id")?,
                extends_grant_id: opt_i64(r, "extends_grant_id")?,
                decide_by_utc: opt_time(r, "decide_by_utc")?,
            })
        })
        .collect()
}

/// Whether any pending request's approval window has closed by `now` (a read, so the engine
/// takes the write lock only when there is something to expire).
pub async fn any_window_closed(db: &mut Db<'_>, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let mut q =
        Q::new("SELECT id FROM requests WHERE status = ? AND decide_by_utc <= ? ORDER BY id")
            .bind(RequestStatus::Pending.as_str())
            .bind(now);
    q.limit(1);
    Ok(db.fetch_optional(&q).await?.is_some())
}

/// The earliest approval window still open, for the engine's wake-up.
pub async fn next_window_close(db: &mut Db<'_>) -> Result<Option<DateTime<Utc>>, StoreError> {
    let q = Q::new("SELECT MIN(decide_by_utc) AS t FROM requests WHERE status = ?")
        .bind(RequestStatus::Pending.as_str());
    match db.fetch_optional(&q).await? {
        Some(r) => opt_time(&r, "t"),
        None => Ok(None),
    }
}

/// The extension requests of a grant, oldest first.
pub async fn extension_ids(db: &mut Db<'_>, grant_id: i64) -> Result<Vec<i64>, StoreError> {
    let q = Q::new("SELECT id FROM requests WHERE extends_grant_id = ? ORDER BY id").bind(grant_id);
    db.fetch_ids(&q).await
}
