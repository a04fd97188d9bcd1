//! Who may decide a pending request: the role's approvers (domain rules) — never the
//! requester. Admins are not approvers by their app role alone; only when
//! `JITEA_ADMINS_MAY_APPROVE` is on may they decide requests whose approvers do not name them.

use jitea_shared::{AccessRequest, ApproverType, Decision, Page, User};

use crate::domain::approval_stages::{progress_of, Progress};
use crate::domain::approvers::{may_approve, may_approve_at, ApproverEntry, Candidate, Requester};
use crate::domain::same_name;
use crate::store::paging::PageReq;
use crate::store::requests::{self as req_store, ApproverScope};
use crate::store::{catalog, users, Db, StoreError};

/// The facts that decide who may act on a request, loaded once (the live event hub attaches
/// them to a request's events so each stream decides visibility in memory).
#[derive(Debug, Clone)]
pub struct DecisionFacts {
    pub requester_id: i64,
    pub manager_login_name: Option<String>,
    pub entries: Vec<ApproverEntry>,
}

impl DecisionFacts {
    /// Whether `user` (with their active teams) may decide this request by the role's
    /// approvers: the same rule as `approval_right`.
    pub fn may_decide(&self, user: &User, active_team_ids: &[i64]) -> bool {
        let candidate = Candidate {
            user_id: user.id,
            login_name: &user.login_name,
            is_active: user.is_active,
            department: user.department.as_deref(),
            active_team_ids,
        };
        let r = Requester {
            user_id: self.requester_id,
            manager_login_name: self.manager_login_name.as_deref(),
        };
        may_approve(&candidate, &r, &self.entries).is_some()
    }
}

/// Loads a request's decision facts (role approver entries and the requester's manager).
pub async fn decision_facts(
    db: &mut Db<'_>,
    request_id: i64,
) -> Result<Option<DecisionFacts>, StoreError> {
    let Some(req) = req_store::get_by_id(db, request_id).await? else {
        return Ok(None);
    };
    let entries = approver_entries(db, req.role_id).await?;
    let manager_login_name = users::get_by_id(db, req.user_id)
        .await?
        .and_then(|u| u.manager_login_name);
    Ok(Some(DecisionFacts {
        requester_id: req.user_id,
        manager_login_name,
        entries,
    }))
}

async fn approver_entries(db: &mut Db<'_>, role_id: i64) -> Result<Vec<ApproverEntry>, StoreError> {
    Ok(catalog::approvers(db, role_id)
        .await?
        .into_iter()
        .map(|a| ApproverEntry {
            approver_type: a.approver_type,
            user_id: a.approver_user_id,
            team_id: a.approver_team_id,
            department: a.approver_department,
            priority: a.priority,
        })
        .collect())
}

/// Why `approver` may decide `req` by the role's approvers alone, or None (admins are not
/// special here; see `decision_right`).
pub async fn approval_right(
    db: &mut Db<'_>,
    approver: &User,
    req: &AccessRequest,
) -> Result<Option<String>, StoreError> {
    decision_right(db, approver, req, false).await
}

/// Why `approver` may decide `req`, or None; `admins_may_approve` is the
/// `JITEA_ADMINS_MAY_APPROVE` setting.
pub async fn decision_right(
    db: &mut Db<'_>,
    approver: &User,
    req: &AccessRequest,
    admins_may_approve: bool,
) -> Result<Option<String>, StoreError> {
    let entries = approver_entries(db, req.role_id).await?;
    right_at(db, approver, req, admins_may_approve, &entries, None).await
}

/// What one more approval by `approver` does to a pending request (read after its status
/// is locked, so decisions on one request are counted one at a time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalStep {
    /// With this approval the request has all it needs.
    Completes,
    /// Counted; more are needed. The progress after it.
    Counted(Progress),
    /// This person has approved it already: nobody counts twice.
    AlreadyApprovedByYou,
    /// The approver's stage is not open yet (the progress as it stands).
    StageNotOpen(Progress),
}

/// Decides what `approver`'s approval of `req` does under the request's approval rule
/// (`domain::approval_stages`): the approvals are read afresh, and with stages only the open
/// stage's approvers (or an admin allowed to approve everything) count.
pub async fn approval_step(
    db: &mut Db<'_>,
    approver: &User,
    req: &AccessRequest,
    admins_may_approve: bool,
) -> Result<ApprovalStep, StoreError> {
    let approvals = req_store::approvals(db, req.id).await?;
    let mine = approvals
        .iter()
        .any(|a| a.approver_user_id == Some(approver.id) && a.decision == Decision::Approved);
    if mine {
        return Ok(ApprovalStep::AlreadyApprovedByYou);
    }
    let entries = approver_entries(db, req.role_id).await?;
    let now = request_progress(req, &entries, &approvals, 0);
    if now.open_priority.is_some()
        && right_at(
            db,
            approver,
            req,
            admins_may_approve,
            &entries,
            now.open_priority,
        )
        .await?
        .is_none()
    {
        return Ok(ApprovalStep::StageNotOpen(now));
    }
    let after = request_progress(req, &entries, &approvals, 1);
    Ok(if after.complete() {
        ApprovalStep::Completes
    } else {
        ApprovalStep::Counted(after)
    })
}

/// Why `approver` may decide `req` by `entries` (only those of the stage `open_priority`
/// when given), or by being an admin where admins may approve; None if they may not.
async fn right_at(
    db: &mut Db<'_>,
    approver: &User,
    req: &AccessRequest,
    admins_may_approve: bool,
    entries: &[ApproverEntry],
    open_priority: Option<i64>,
) -> Result<Option<String>, StoreError> {
    if approver.id == req.user_id || !approver.is_active {
        return Ok(None);
    }
    let requester = users::get_by_id(db, req.user_id).await?;
    let manager = requester
        .as_ref()
        .and_then(|u| u.manager_login_name.clone());
    let teams = users::active_team_ids(db, approver.id).await?;
    let candidate = Candidate {
        user_id: approver.id,
        login_name: &approver.login_name,
        is_active: approver.is_active,
        department: approver.department.as_deref(),
        active_team_ids: &teams,
    };
    let r = Requester {
        user_id: req.user_id,
        manager_login_name: manager.as_deref(),
    };
    if let Some(t) = may_approve_at(&candidate, &r, entries, open_priority) {
        return Ok(Some(approver_label(t).to_string()));
    }
    if approver.is_admin && admins_may_approve {
        return Ok(Some("admin".to_string()));
    }
    Ok(None)
}

/// The pending requests `approver` may decide, oldest first, one page: a single query that
/// applies the same rules as `decision_right` (the caller's teams and the approver
/// departments that name theirs are looked up first, once).
pub async fn queue(
    db: &mut Db<'_>,
    approver: &User,
    admins_may_approve: bool,
    page: PageReq,
) -> Result<Page<AccessRequest>, StoreError> {
    let Some(facts) = ScopeFacts::of(db, approver, admins_may_approve).await? else {
        return Ok(empty_page());
    };
    req_store::pending_for_approver(db, &facts.scope(approver), page).await
}

/// The break-glass grants `approver` may review and nobody has yet, oldest first, one page
/// (the same approver rules as the queue: the role names them, never their own grant).
pub async fn review_queue(
    db: &mut Db<'_>,
    approver: &User,
    admins_may_approve: bool,
    page: PageReq,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Page<jitea_shared::BreakGlassEntry>, StoreError> {
    let Some(facts) = ScopeFacts::of(db, approver, admins_may_approve).await? else {
        return Ok(empty_page());
    };
    crate::store::break_glass::awaiting_review(db, &facts.scope(approver), page, now).await
}

fn empty_page<T>() -> Page<T> {
    Page {
        items: Vec::new(),
        next_cursor: None,
    }
}

/// What the approver queries need to know about an (active) approver, looked up once.
struct ScopeFacts {
    team_ids: Vec<i64>,
    departments: Vec<String>,
    everything: bool,
}

impl ScopeFacts {
    /// None for an inactive approver (who may decide nothing).
    async fn of(
        db: &mut Db<'_>,
        approver: &User,
        admins_may_approve: bool,
    ) -> Result<Option<Self>, StoreError> {
        if !approver.is_active {
            return Ok(None);
        }
        let (team_ids, departments) = scope_facts(db, approver).await?;
        Ok(Some(Self {
            team_ids,
            departments,
            everything: approver.is_admin && admins_may_approve,
        }))
    }

    fn scope<'a>(&'a self, approver: &'a User) -> ApproverScope<'a> {
        ApproverScope {
            user_id: approver.id,
            login_name: &approver.login_name,
            team_ids: &self.team_ids,
            departments: &self.departments,
            everything: self.everything,
        }
    }
}

/// The approver's active teams and the stored spellings of `department` approver entries that
/// name their department.
async fn scope_facts(
    db: &mut Db<'_>,
    approver: &User,
) -> Result<(Vec<i64>, Vec<String>), StoreError> {
    let team_ids = users::active_team_ids(db, approver.id).await?;
    // Departments are compared like `same_name` (Unicode case, trimmed), which SQL cannot do
    // the same way on every backend: pick the stored spellings that match here.
    let departments: Vec<String> = match approver.department.as_deref() {
        Some(mine) => catalog::approver_departments(db)
            .await?
            .into_iter()
            .filter(|d| same_name(d, mine))
            .collect(),
        None => Vec::new(),
    };
    Ok((team_ids, departments))
}

fn approver_label(t: ApproverType) -> &'static str {
    t.as_str()
}

/// Everyone who may decide the pending request `request_id` now, by the role's approvers
/// (only the open stage's when it collects approvals in stages) and the same domain rule as
/// `decision_right`; nobody who has approved it already, never the requester. Empty when the
/// request is not pending. Admins allowed to approve everything (`JITEA_ADMINS_MAY_APPROVE`)
/// are not counted: they are not named by the role.
pub async fn deciders(db: &mut Db<'_>, request_id: i64) -> Result<Vec<User>, StoreError> {
    let Some(req) = req_store::get_by_id(db, request_id).await? else {
        return Ok(Vec::new());
    };
    if req.status != jitea_shared::RequestStatus::Pending {
        return Ok(Vec::new());
    }
    let entries = approver_entries(db, req.role_id).await?;
    let approvals = req_store::approvals(db, req.id).await?;
    let open = request_progress(&req, &entries, &approvals, 0).open_priority;
    named_by(db, &req, &entries, &approvals, open).await
}

/// Where `req` stands under the rule it was asked under, by its role's `entries` and its
/// `approvals`, counting `more` approvals beyond them.
fn request_progress(
    req: &AccessRequest,
    entries: &[ApproverEntry],
    approvals: &[jitea_shared::Approval],
    more: i64,
) -> Progress {
    progress_of(
        req.required_approvals,
        req.approval_stages,
        entries.iter().map(|e| e.priority),
        req_store::approved_count(approvals) + more,
    )
}

/// Everyone the role's approver entries name for `request_id`'s requester, whatever the
/// request's state or stage (never the requester): who may review a break-glass use.
pub async fn reviewers(db: &mut Db<'_>, request_id: i64) -> Result<Vec<User>, StoreError> {
    let Some(req) = req_store::get_by_id(db, request_id).await? else {
        return Ok(Vec::new());
    };
    let entries = approver_entries(db, req.role_id).await?;
    named_by(db, &req, &entries, &[], None).await
}

/// The active users `entries` (those of the stage `open`, or all) name as approvers of `req`,
/// less those among `approvals` who have approved it already.
async fn named_by(
    db: &mut Db<'_>,
    req: &AccessRequest,
    entries: &[ApproverEntry],
    approvals: &[jitea_shared::Approval],
    open: Option<i64>,
) -> Result<Vec<User>, StoreError> {
    let manager = users::get_by_id(db, req.user_id)
        .await?
        .and_then(|u| u.manager_login_name);
    let mut found = candidates(db, entries, manager.as_deref()).await?;
    let requester = Requester {
        user_id: req.user_id,
        manager_login_name: manager.as_deref(),
    };
    let mut out = Vec::new();
    for u in found.drain(..) {
        let approved = approvals
            .iter()
            .any(|a| a.approver_user_id == Some(u.id) && a.decision == Decision::Approved);
        let teams = users::active_team_ids(db, u.id).await?;
        let c = Candidate {
            user_id: u.id,
            login_name: &u.login_name,
            is_active: u.is_active,
            department: u.department.as_deref(),
            active_team_ids: &teams,
        };
        if !approved && may_approve_at(&c, &requester, entries, open).is_some() {
            out.push(u);
        }
    }
    Ok(out)
}

/// The users approver entries may name (narrowed in SQL; the rule is applied by the caller).
async fn candidates(
    db: &mut Db<'_>,
    entries: &[ApproverEntry],
    manager: Option<&str>,
) -> Result<Vec<User>, StoreError> {
    let mut ids: Vec<i64> = entries
        .iter()
        .filter(|e| e.approver_type == ApproverType::User)
        .filter_map(|e| e.user_id)
        .collect();
    let has_manager = entries
        .iter()
        .any(|e| e.approver_type == ApproverType::Manager);
    if let (true, Some(m)) = (has_manager, manager) {
        if let Some(u) = users::get_by_login(db, m).await? {
            ids.push(u.id);
        }
    }
    let teams: Vec<i64> = entries
        .iter()
        .filter(|e| e.approver_type == ApproverType::Team)
        .filter_map(|e| e.team_id)
        .collect();
    let wanted: Vec<&str> = entries
        .iter()
        .filter(|e| e.approver_type == ApproverType::Department)
        .filter_map(|e| e.department.as_deref())
        .collect();
    let departments: Vec<String> = if wanted.is_empty() {
        Vec::new()
    } else {
        users::active_departments(db)
            .await?
            .into_iter()
            .filter(|d| wanted.iter().any(|w| same_name(w, d)))
            .collect()
    };
    users::approver_candidates(db, &ids, &teams, &departments).await
}
