//! Request lifecycle: create (with auto-approval), approve, deny, cancel.

use jitea_shared::*;
use serde_json::json;

use crate::domain::duration::{check_start, within_max, StartRefusal, MAX_SCHEDULE_AHEAD_DAYS};
use crate::domain::validation::{validate_request, RequestInput};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};
use crate::store::{
    catalog, grants as grant_store, outbox, requests as req_store, users, StoreError,
};

use super::approvers::ApprovalStep;
use super::{access, approvers, extensions, grants};
use crate::domain::approval_stages::Progress;

/// Loads a request or 404.
pub(super) async fn load(state: &AppState, id: i64) -> ApiResult<AccessRequest> {
    let mut c = state.store.conn().await?;
    req_store::get_by_id(
        &mut crate::store::Db::new(&mut c, state.store.dialect()),
        id,
    )
    .await?
    .ok_or_else(|| ApiError::not_found("request"))
}

/// Who may see a request: its requester, auditors/admins, and anyone who may decide it.
pub async fn get_visible(state: &AppState, viewer: &User, id: i64) -> ApiResult<AccessRequest> {
    let req = load(state, id).await?;
    if viewer.id == req.user_id || viewer.is_admin || viewer.is_auditor {
        return Ok(req);
    }
    let mut c = state.store.conn().await?;
    let mut db = crate::store::Db::new(&mut c, state.store.dialect());
    if approvers::approval_right(&mut db, viewer, &req)
        .await?
        .is_some()
    {
        return Ok(req);
    }
    Err(ApiError::not_found("request"))
}

fn topic_payload(
    req_id: i64,
    user_id: i64,
    role_id: i64,
    status: RequestStatus,
) -> serde_json::Value {
    json!({"request_id": req_id, "user_id": user_id, "role_id": role_id, "status": status})
}

/// Creates a request for `user` (the caller) — the seed's `sp_Request_Create`.
pub async fn create(
    state: &AppState,
    user: &User,
    body: &RequestCreate,
) -> ApiResult<AccessRequest> {
    let now = state.now();
    let actor = Actor::user(user.id, &user.login_name);
    let justification = body
        .justification
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from);
    let ticket = body
        .ticket_ref
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from);

    // Reads first, outside the write transaction (on SQLite it holds the database's only
    // write lock, so everything in it is serialised): the role, the caller's eligibility and
    // the db roles a grant would get. The caller was read by authentication just now. A
    // catalogue change committed in between is handled as on PostgreSQL, whose reads take no
    // locks either: the policy sweep ends a grant whose role was disabled meanwhile.
    let (role, check, grantable) = {
        let mut c = state.store.conn().await?;
        let mut db = crate::store::Db::new(&mut c, state.store.dialect());
        let role = catalog::get_role(&mut db, body.role_id)
            .await?
            .ok_or_else(|| ApiError::not_found("role"))?;
        // Eligibility first: an ineligible user learns nothing about the role's other rules.
        let check = access::check(state.store.catalog_cache(), &mut db, user, &role, now).await?;
        let grantable = if check.eligibility.eligible && check.auto_approval.is_some() {
            Some(grant_store::grantable_db_roles(&mut db, role.id).await?)
        } else {
            None
        };
        (role, check, grantable)
    };
    if !check.eligibility.eligible {
        return Err(refuse_ineligible(state, &actor, user, &role, &check, now).await?);
    }

    let input = RequestInput {
        duration_minutes: body.requested_duration_minutes,
        justification: justification.as_deref(),
        ticket_ref: ticket.as_deref(),
    };
    if let Err(errors) = validate_request(&access::role_facts(&role), &input) {
        return Err(ApiError::bad_request(
            "validation_failed",
            "the request is not valid for this role",
        )
        .with_details(json!({"fields": errors})));
    }

    let start = match check_start(body.start_utc, now) {
        Ok(s) => s,
        Err(r) => {
            let (code, msg) = match r {
                StartRefusal::InThePast => {
                    ("start_in_past", "the start time has passed".to_string())
                }
                StartRefusal::TooFarAhead => (
                    "start_too_far_ahead",
                    format!("access can be scheduled at most {MAX_SCHEDULE_AHEAD_DAYS} days ahead"),
                ),
            };
            return Err(ApiError::bad_request(
                "validation_failed",
                "the request is not valid for this role",
            )
            .with_details(
                json!({"fields": [{"field": "start_utc", "code": code, "message": msg}]}),
            ));
        }
    };

    let mut tx = state.store.begin_write().await?;
    let mut db = tx.db();
    if let Some((existing, status)) = req_store::open_for(&mut db, user.id, role.id).await? {
        return Err(duplicate(existing, status));
    }
    if let Some(g) = grant_store::live_for(&mut db, user.id, role.id).await? {
        return Err(ApiError::conflict(
            "active_grant_exists",
            "you already have live access to this role; ask for an extension instead",
        )
        .with_details(json!({"grant_id": g})));
    }

    let status = if check.auto_approval.is_some() {
        RequestStatus::AutoApproved
    } else {
        RequestStatus::Pending
    };
    let new = req_store::NewRequest {
        user,
        role_id: role.id,
        duration_minutes: body.requested_duration_minutes,
        justification,
        ticket_ref: ticket,
        status,
        auto_approval_reason: check.auto_approval,
        decide_by: decide_by(&role, now),
        extends: None,
        start,
        required_approvals: role.required_approvals,
        approval_stages: role.approval_stages,
    };
    let id = match req_store::insert(&mut db, &new, now).await {
        Ok(id) => id,
        Err(StoreError::Conflict) => {
            // Lost a race with an identical request: point at the winner.
            drop(tx);
            let mut c = state.store.conn().await?;
            let mut db = crate::store::Db::new(&mut c, state.store.dialect());
            let (existing, st) = req_store::open_for(&mut db, user.id, role.id)
                .await?
                .ok_or_else(|| {
                    ApiError::conflict(
                        "duplicate_request",
                        "an open request for this role already exists",
                    )
                })?;
            return Err(duplicate(existing, st));
        }
        Err(e) => return Err(e.into()),
    };
    // The request's audit events (created, auto-approved, grant created) go in as one insert.
    let mut events = vec![Event::new("request_created", &actor)
        .user(user.id)
        .request(id)
        .details(json!({
            "role_id": role.id, "role_name": role.role_name,
            "requested_duration_minutes": body.requested_duration_minutes, "start_utc": start,
            "ticket_ref": new.ticket_ref, "eligibility": check.eligibility.reason,
        }))];
    outbox::enqueue(
        &mut db,
        "request.created",
        &topic_payload(id, user.id, role.id, status),
        now,
    )
    .await?;

    let mut grant_id = None;
    if let Some(reason) = check.auto_approval {
        events.push(
            Event::new("request_auto_approved", &actor)
                .user(user.id)
                .request(id)
                .details(json!({
                    "reason": reason, "seniority_level": user.seniority_level,
                    "auto_approve_min_seniority": role.auto_approve_min_seniority,
                })),
        );
        let (issued, created) = grants::create_in_tx(
            &mut db,
            &state.owner,
            &actor,
            id,
            user,
            &role,
            body.requested_duration_minutes,
            start,
            grantable.unwrap_or_default(),
            now,
        )
        .await?;
        events.push(created);
        events.extend(
            super::break_glass::on_grant(&mut db, &actor, &new, id, issued.id, &role, now).await?,
        );
        grant_id = Some(issued);
    }
    audit::write_many(&mut db, events, now).await?;
    tx.commit().await?;

    match grant_id {
        Some(g) => grants::provision(state, g).await,
        None => state.expiry_wake.before(new.decide_by),
    }
    load(state, id).await
}

/// The end of a new request's approval window.
pub(super) fn decide_by(
    role: &Role,
    now: chrono::DateTime<chrono::Utc>,
) -> chrono::DateTime<chrono::Utc> {
    now.checked_add_signed(chrono::TimeDelta::minutes(role.approval_window_minutes))
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC)
}

/// Audits a request (or extension) refused because the caller is not eligible for the role,
/// and returns the error to answer with (`role_disabled` or `not_eligible`).
pub(super) async fn refuse_ineligible(
    state: &AppState,
    actor: &Actor,
    user: &User,
    role: &Role,
    check: &access::AccessCheck,
    now: chrono::DateTime<chrono::Utc>,
) -> ApiResult<ApiError> {
    let reason = serde_json::to_value(&check.eligibility.reason).unwrap_or_default();
    let mut tx = state.store.begin_write().await?;
    audit::write(
        &mut tx.db(),
        Event::new("request_refused", actor)
            .user(user.id)
            .details(json!({"role_id": role.id, "role_name": role.role_name, "why": "not_eligible", "reason": reason})),
        now,
    )
    .await?;
    tx.commit().await?;
    let (code, msg) = if !role.is_enabled {
        (
            "role_disabled",
            format!("role `{}` is disabled", role.role_name),
        )
    } else {
        (
            "not_eligible",
            format!(
                "you are not eligible to request `{}`: {}",
                role.role_name,
                check.eligibility.reason.explain()
            ),
        )
    };
    Ok(ApiError::forbidden(code, msg).with_details(json!({"reason": reason})))
}

fn duplicate(existing: i64, status: RequestStatus) -> ApiError {
    ApiError::conflict(
        "duplicate_request",
        format!("you already have an open request for this role (request {existing}, {status}); ask for an extension instead of a second request"),
    )
    .with_details(json!({"request_id": existing, "status": status}))
}

/// Approves or denies a pending request — `sp_Request_Approve` / `sp_Request_Deny`.
pub async fn decide(
    state: &AppState,
    approver: &User,
    id: i64,
    decision: Decision,
    comment: Option<String>,
) -> ApiResult<AccessRequest> {
    let now = state.now();
    let actor = Actor::user(approver.id, &approver.login_name);
    let comment = comment
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty());
    if comment.as_ref().is_some_and(|c| c.chars().count() > 4000) {
        return Err(ApiError::bad_request(
            "validation_failed",
            "comment must be at most 4000 characters",
        ));
    }

    let mut tx = state.store.begin_write().await?;
    let mut db = tx.db();
    let req = req_store::get_by_id(&mut db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("request"))?;

    if req.user_id == approver.id {
        audit::write(
            &mut db,
            Event::new("self_approval_refused", &actor)
                .user(req.user_id)
                .request(id)
                .details(json!({"decision": decision})),
            now,
        )
        .await?;
        tx.commit().await?;
        return Err(ApiError::forbidden(
            "self_approval",
            "you cannot approve or deny your own request",
        ));
    }
    let Some(right) =
        approvers::decision_right(&mut db, approver, &req, state.config.admins_may_approve).await?
    else {
        audit::write(
            &mut db,
            Event::new("approval_refused", &actor)
                .user(req.user_id)
                .request(id)
                .details(json!({"decision": decision, "why": "not_an_approver"})),
            now,
        )
        .await?;
        tx.commit().await?;
        // Auditors and admins may see the request, so hiding it behind a 404 helps nobody.
        if approver.is_auditor || approver.is_admin {
            return Err(ApiError::forbidden(
                "not_an_approver",
                "you are not an approver for this request",
            ));
        }
        return Err(ApiError::not_found("request"));
    };

    let current = req_store::status_for_update(&mut db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("request"))?;
    if current != RequestStatus::Pending {
        return already_decided(req, approver, decision, current);
    }

    let to = match decision {
        Decision::Approved => RequestStatus::Approved,
        Decision::Denied => RequestStatus::Denied,
    };
    let user = users::get_by_id(&mut db, req.user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    let role = catalog::get_role(&mut db, req.role_id)
        .await?
        .ok_or_else(|| ApiError::not_found("role"))?;
    if decision == Decision::Approved {
        // Eligibility may have changed since the request was made.
        let check = access::check(state.store.catalog_cache(), &mut db, &user, &role, now).await?;
        if !check.eligibility.eligible {
            let reason = serde_json::to_value(&check.eligibility.reason).unwrap_or_default();
            audit::write(
                &mut db,
                Event::new("approval_refused", &actor)
                    .user(user.id)
                    .request(id)
                    .details(json!({"why": "requester_not_eligible", "reason": reason})),
                now,
            )
            .await?;
            tx.commit().await?;
            return Err(ApiError::conflict(
                "requester_not_eligible",
                format!("the requester is no longer eligible for this role: {}; deny the request instead", check.eligibility.reason.explain()),
            )
            .with_details(json!({"reason": reason})));
        }
        // The role's maximum may have been lowered since the request was made (an
        // extension's limits are re-checked against its grant when it is applied).
        if req.kind == RequestKind::Access
            && !within_max(req.requested_duration_minutes, role.max_duration_minutes)
        {
            let details = json!({
                "requested_duration_minutes": req.requested_duration_minutes,
                "max_duration_minutes": role.max_duration_minutes,
            });
            audit::write(
                &mut db,
                Event::new("approval_refused", &actor)
                    .user(user.id)
                    .request(id)
                    .details(json!({"why": "duration_exceeds_max", "limits": details})),
                now,
            )
            .await?;
            tx.commit().await?;
            return Err(ApiError::conflict(
                "duration_exceeds_max",
                format!(
                    "the request asks for {} minutes but the role now allows at most {}; deny it and ask for a new request",
                    req.requested_duration_minutes, role.max_duration_minutes
                ),
            )
            .with_details(details));
        }
    }

    if decision == Decision::Approved {
        let step =
            approvers::approval_step(&mut db, approver, &req, state.config.admins_may_approve)
                .await?;
        match step {
            ApprovalStep::Completes => {}
            ApprovalStep::AlreadyApprovedByYou => {
                drop(tx);
                return load(state, id).await;
            }
            ApprovalStep::StageNotOpen(p) => {
                return Err(refuse_closed_stage(tx, &actor, &req, p, now).await?);
            }
            ApprovalStep::Counted(p) => {
                record_counted(tx, &req, approver, comment.as_deref(), &right, p, now).await?;
                return load(state, id).await;
            }
        }
    }

    if !req_store::transition(
        &mut db,
        id,
        &[RequestStatus::Pending],
        to,
        &approver.login_name,
        now,
    )
    .await?
    {
        // Another decision or a cancel won the race.
        drop(tx);
        let fresh = load(state, id).await?;
        let st = fresh.status;
        return already_decided(fresh, approver, decision, st);
    }
    req_store::insert_approval(&mut db, id, approver, decision, comment.clone(), now).await?;
    let event = if decision == Decision::Approved {
        "request_approved"
    } else {
        "request_denied"
    };
    audit::write(
        &mut db,
        Event::new(event, &actor)
            .user(user.id)
            .request(id)
            .details(json!({"comment": comment, "approver_right": right})),
        now,
    )
    .await?;
    outbox::enqueue(
        &mut db,
        &format!("request.{}", to.as_str()),
        &topic_payload(id, user.id, role.id, to),
        now,
    )
    .await?;
    if decision == Decision::Approved && req.kind == RequestKind::Extension {
        // On a refusal the transaction is dropped: the extension stays pending (it lapses
        // when its grant ends).
        let extended = extensions::approve_in_tx(&mut db, &req, &role, &actor, now).await?;
        audit::write(&mut db, extended, now).await?;
        tx.commit().await?;
        return load(state, id).await;
    }
    let grant_id = if decision == Decision::Approved {
        let grantable = grant_store::grantable_db_roles(&mut db, role.id).await?;
        let (issued, created) = grants::create_in_tx(
            &mut db,
            &state.owner,
            &actor,
            id,
            &user,
            &role,
            req.requested_duration_minutes,
            req.start_utc,
            grantable,
            now,
        )
        .await?;
        audit::write(&mut db, created, now).await?;
        Some(issued)
    } else {
        None
    };
    tx.commit().await?;
    if let Some(g) = grant_id {
        grants::provision(state, g).await;
    }
    load(state, id).await
}

/// An approval that counts but is not the last one needed: recorded, audited
/// (`request_approval_counted`) and announced (`request.approval_counted`, so the approvers
/// still to decide see it move); the request stays pending.
async fn record_counted(
    mut tx: crate::store::Tx,
    req: &AccessRequest,
    approver: &User,
    comment: Option<&str>,
    right: &str,
    p: Progress,
    now: chrono::DateTime<chrono::Utc>,
) -> ApiResult<()> {
    let mut db = tx.db();
    let actor = Actor::user(approver.id, &approver.login_name);
    req_store::insert_approval(
        &mut db,
        req.id,
        approver,
        Decision::Approved,
        comment.map(String::from),
        now,
    )
    .await?;
    audit::write(
        &mut db,
        Event::new("request_approval_counted", &actor)
            .user(req.user_id)
            .request(req.id)
            .details(json!({
                "comment": comment, "approver_right": right,
                "approved": p.approved, "required": p.required,
                "next_stage": p.stage, "stages": p.stages,
            })),
        now,
    )
    .await?;
    outbox::enqueue(
        &mut db,
        "request.approval_counted",
        &topic_payload(req.id, req.user_id, req.role_id, RequestStatus::Pending),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// An approval from an approver whose stage has not opened: refused (409 `stage_not_open`)
/// and audited. They may still deny.
async fn refuse_closed_stage(
    mut tx: crate::store::Tx,
    actor: &Actor,
    req: &AccessRequest,
    p: Progress,
    now: chrono::DateTime<chrono::Utc>,
) -> ApiResult<ApiError> {
    let mut db = tx.db();
    let details = json!({"stage": p.stage, "stages": p.stages, "approved": p.approved, "required": p.required});
    audit::write(
        &mut db,
        Event::new("approval_refused", actor)
            .user(req.user_id)
            .request(req.id)
            .details(json!({"why": "stage_not_open", "progress": details})),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(ApiError::conflict(
        "stage_not_open",
        format!(
            "this request is waiting for approval stage {} of {}; your approval counts once that stage has approved (you may deny it now)",
            p.stage.unwrap_or(1),
            p.stages
        ),
    )
    .with_details(details))
}

/// A decision on a request that is no longer pending: a retry of the same decision by the
/// same approver is answered with success (idempotent); anything else is a conflict.
fn already_decided(
    req: AccessRequest,
    approver: &User,
    decision: Decision,
    current: RequestStatus,
) -> ApiResult<AccessRequest> {
    let same = req
        .approvals
        .iter()
        .any(|a| a.approver_user_id == Some(approver.id) && a.decision == decision);
    if same {
        return Ok(req);
    }
    Err(ApiError::conflict(
        "request_not_pending",
        format!("the request is already {current}"),
    )
    .with_details(json!({"request_id": req.id, "status": current})))
}

/// The requester withdraws a pending request — `sp_Request_Cancel`.
pub async fn cancel(state: &AppState, caller: &User, id: i64) -> ApiResult<AccessRequest> {
    let now = state.now();
    let actor = Actor::user(caller.id, &caller.login_name);
    let mut tx = state.store.begin_write().await?;
    let mut db = tx.db();
    let req = req_store::get_by_id(&mut db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("request"))?;
    if req.user_id != caller.id && !caller.is_admin {
        if caller.is_auditor {
            return Err(ApiError::forbidden(
                "forbidden",
                "only the requester or an admin can cancel a request",
            ));
        }
        return Err(ApiError::not_found("request"));
    }
    let current = req_store::status_for_update(&mut db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("request"))?;
    match current {
        RequestStatus::Cancelled => return Ok(req),
        RequestStatus::Pending => {}
        other => {
            return Err(ApiError::conflict(
                "request_not_pending",
                format!("only a pending request can be cancelled; this one is {other}"),
            )
            .with_details(json!({"request_id": id, "status": other})))
        }
    }
    if !req_store::transition(
        &mut db,
        id,
        &[RequestStatus::Pending],
        RequestStatus::Cancelled,
        &caller.login_name,
        now,
    )
    .await?
    {
        drop(tx);
        let fresh = load(state, id).await?;
        if fresh.status == RequestStatus::Cancelled {
            return Ok(fresh);
        }
        return Err(ApiError::conflict(
            "request_not_pending",
            format!("the request is already {}", fresh.status),
        )
        .with_details(json!({"request_id": id, "status": fresh.status})));
    }
    audit::write(
        &mut db,
        Event::new("request_cancelled", &actor)
            .user(req.user_id)
            .request(id),
        now,
    )
    .await?;
    outbox::enqueue(
        &mut db,
        "request.cancelled",
        &topic_payload(id, req.user_id, req.role_id, RequestStatus::Cancelled),
        now,
    )
    .await?;
    tx.commit().await?;
    load(state, id).await
}

/// Pending requests `approver` may decide, oldest first, one page at a time.
pub async fn pending_for(
    state: &AppState,
    approver: &User,
    page: crate::store::paging::PageReq,
) -> ApiResult<Page<AccessRequest>> {
    let mut c = state.store.conn().await?;
    let mut db = crate::store::Db::new(&mut c, state.store.dialect());
    Ok(approvers::queue(&mut db, approver, state.config.admins_may_approve, page).await?)
}

/// Cancels every pending request of a user (on deactivation), inside the caller's transaction.
pub async fn cancel_pending_in_tx(
    db: &mut crate::store::Db<'_>,
    actor: &Actor,
    user_id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), StoreError> {
    let f = req_store::RequestFilter {
        user_id: Some(user_id),
        role_id: None,
        status: Some(RequestStatus::Pending),
    };
    let page = req_store::list(
        db,
        &f,
        crate::store::paging::PageReq {
            limit: crate::store::paging::MAX_LIMIT,
            after: None,
        },
    )
    .await?;
    for r in page.items {
        if req_store::transition(
            db,
            r.id,
            &[RequestStatus::Pending],
            RequestStatus::Cancelled,
            &actor.login_name,
            now,
        )
        .await?
        {
            audit::write(
                db,
                Event::new("request_cancelled", actor)
                    .user(user_id)
                    .request(r.id)
                    .details(json!({"why": "user_deactivated"})),
                now,
            )
            .await?;
        }
    }
    Ok(())
}
