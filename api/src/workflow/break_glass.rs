//! Break-glass access (issue 10, item 4): a request for a break-glass role is granted at once
//! (`domain::break_glass::approval`, applied by `workflow::access`), but loudly — the grant is
//! flagged with a review due time, audited `break_glass_used`, and announced on the outbox
//! (`grant.break_glass`, which the live stream shows to every approver of the role and every
//! admin) — and it needs an after-the-fact review by someone who may decide the role's
//! requests (`POST /grants/{id}/review`); a `flag` review may revoke it at once, through the
//! lifecycle's revoke path.

use chrono::{DateTime, Utc};
use jitea_shared::*;
use serde_json::json;

use crate::domain::break_glass::{
    check_review, review_due, validate_review, ReviewFacts, ReviewRefusal,
};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};
use crate::store::break_glass::{self as bg_store, NewReview};
use crate::store::requests::{self as req_store, NewRequest};
use crate::store::{grants as grant_store, outbox, Db, StoreError};

use super::{approvers, grants};

/// Inside the transaction that issued (or extended) grant `grant_id` for request
/// `request_id` (`new`): if it was granted by break-glass, flags the grant (its review due one
/// review window from now; a grant already flagged keeps its review, which covers the
/// extension), writes the `grant.break_glass` outbox row and returns the `break_glass_used`
/// audit event for the caller to write with its own. `None` for any other approval.
pub async fn on_grant<'a>(
    db: &mut Db<'_>,
    actor: &'a Actor,
    new: &NewRequest<'_>,
    request_id: i64,
    grant_id: i64,
    role: &Role,
    now: DateTime<Utc>,
) -> Result<Option<Event<'a>>, StoreError> {
    if new.auto_approval_reason != Some(AutoApprovalReason::BreakGlass) {
        return Ok(None);
    }
    let due = review_due(now, role.review_window_minutes);
    let flagged_now = bg_store::mark(db, grant_id, due, now).await?;
    let kind = if new.extends.is_some() {
        RequestKind::Extension
    } else {
        RequestKind::Access
    };
    outbox::enqueue(
        db,
        "grant.break_glass",
        &json!({
            "grant_id": grant_id, "request_id": request_id, "user_id": new.user.id,
            "role_id": role.id, "kind": kind,
        }),
        now,
    )
    .await?;
    // The live stream and email (notify/) deliver this row to the role's approvers and every
    // admin (`domain::notifications`).
    Ok(Some(
        Event::new("break_glass_used", actor)
            .user(new.user.id)
            .request(request_id)
            .grant(grant_id)
            .details(json!({
                "role_id": role.id, "role_name": role.role_name, "kind": kind,
                "justification": new.justification, "ticket_ref": new.ticket_ref,
                "minutes": new.duration_minutes,
                "review_due_utc": flagged_now.then_some(due),
                "review_window_minutes": role.review_window_minutes,
            })),
    ))
}

fn invalid(errors: Vec<crate::domain::FieldError>) -> ApiError {
    ApiError::bad_request("validation_failed", "the review is not valid")
        .with_details(json!({"fields": errors}))
}

fn refused(r: ReviewRefusal, reviewer: &User, grant: &Grant) -> ApiError {
    match r {
        ReviewRefusal::SelfReview => ApiError::forbidden(
            "self_review",
            "you cannot review your own break-glass access",
        ),
        // Auditors and admins may see the grant, so hiding it behind a 404 helps nobody.
        ReviewRefusal::NotAnApprover if reviewer.is_admin || reviewer.is_auditor => {
            ApiError::forbidden(
                "not_an_approver",
                "only an approver of the grant's role can review it",
            )
        }
        ReviewRefusal::NotAnApprover => ApiError::not_found("grant"),
        ReviewRefusal::NotBreakGlass => {
            ApiError::conflict("not_break_glass", "only break-glass grants are reviewed")
                .with_details(json!({"grant_id": grant.id}))
        }
        ReviewRefusal::AlreadyReviewed => already_reviewed(grant.id),
    }
}

fn already_reviewed(grant_id: i64) -> ApiError {
    ApiError::conflict(
        "already_reviewed",
        "this break-glass grant has already been reviewed",
    )
    .with_details(json!({"grant_id": grant_id}))
}

/// The grant, if `reviewer` may review it now (read outside the write transaction; the
/// review itself is a compare-and-set). A refused self-review is audited.
async fn reviewable(state: &AppState, reviewer: &User, grant_id: i64) -> ApiResult<Grant> {
    let (grant, may_decide) = {
        let mut c = state.store.conn().await?;
        let mut db = Db::new(&mut c, state.store.dialect());
        let grant = grant_store::get_by_id(&mut db, grant_id)
            .await?
            .ok_or_else(|| ApiError::not_found("grant"))?;
        let req = match grant.request_id {
            Some(id) => req_store::get_by_id(&mut db, id).await?,
            None => None,
        };
        let may_decide = match req {
            Some(req) => {
                approvers::decision_right(&mut db, reviewer, &req, state.config.admins_may_approve)
                    .await?
                    .is_some()
            }
            None => false,
        };
        (grant, may_decide)
    };
    let facts = ReviewFacts {
        break_glass: grant.break_glass,
        holder_id: grant.user_id,
        reviewed: grant.review.is_some(),
    };
    match check_review(facts, reviewer.id, may_decide) {
        Ok(()) => Ok(grant),
        Err(r) => {
            if r == ReviewRefusal::SelfReview {
                let actor = Actor::user(reviewer.id, &reviewer.login_name);
                let mut tx = state.store.begin_write().await?;
                let e = Event::new("self_review_refused", &actor)
                    .user(grant.user_id)
                    .grant(grant.id)
                    .request_opt(grant.request_id);
                audit::write(&mut tx.db(), e, state.now()).await?;
                tx.commit().await?;
            }
            Err(refused(r, reviewer, &grant))
        }
    }
}

/// `POST /grants/{id}/review`: records the one review of a break-glass grant (audited
/// `grant_reviewed`); a `flag` with `revoke` also revokes the grant, in the same transaction
/// as the review, and then removes the access like an admin revoke. Returns the grant.
pub async fn review(
    state: &AppState,
    reviewer: &User,
    grant_id: i64,
    body: &GrantReviewBody,
) -> ApiResult<Grant> {
    // Who may review first: others learn nothing about the grant from the body's errors.
    let grant = reviewable(state, reviewer, grant_id).await?;
    let comment = validate_review(body.outcome, &body.comment, body.revoke).map_err(invalid)?;
    let actor = Actor::user(reviewer.id, &reviewer.login_name);
    let now = state.now();
    let mut tx = state.store.begin_write().await?;
    let mut db = tx.db();
    let r = NewReview {
        reviewer_id: reviewer.id,
        reviewer_login_name: &reviewer.login_name,
        outcome: body.outcome,
        comment: &comment,
    };
    if !bg_store::record_review(&mut db, grant_id, &r, now).await? {
        // Another review got in first.
        return Err(already_reviewed(grant_id));
    }
    let reason = format!("flagged in break-glass review: {comment}");
    let revoked = body.revoke
        && grants::request_revoke_in_tx(&mut db, &actor, grant_id, &reason, now).await?;
    let event = Event::new("grant_reviewed", &actor)
        .user(grant.user_id)
        .grant(grant_id)
        .request_opt(grant.request_id)
        .details(json!({
            "outcome": body.outcome, "comment": comment, "revoke": body.revoke,
            "revoked": revoked, "role_id": grant.role_id, "role_name": grant.role_name,
            "review_due_utc": grant.review_due_utc,
        }));
    audit::write(&mut db, event, now).await?;
    outbox::enqueue(
        &mut db,
        "grant.reviewed",
        &json!({"grant_id": grant_id, "request_id": grant.request_id, "user_id": grant.user_id, "outcome": body.outcome}),
        now,
    )
    .await?;
    tx.commit().await?;
    if revoked {
        // The review and the revoke decision are committed; a target that does not confirm
        // the removal now is retried by the engine (the grant shows `pending_end`).
        if let Err(e) = grants::carry_out_revoke(state, grant_id).await {
            tracing::warn!(grant_id, error = %e.message, "break-glass revoke not complete yet");
        }
    }
    grants::get(state, grant_id).await
}

/// `GET /reports/break-glass`: break-glass grants with their review status, newest first.
pub async fn report(
    state: &AppState,
    filter: bg_store::ReportFilter,
    page: crate::store::paging::PageReq,
) -> ApiResult<Page<BreakGlassEntry>> {
    let mut c = state.store.conn().await?;
    let mut db = Db::new(&mut c, state.store.dialect());
    Ok(bg_store::report(&mut db, filter, page, state.now()).await?)
}

/// `GET /approvals/reviews`: the break-glass grants `approver` may review and nobody has yet.
pub async fn awaiting_review(
    state: &AppState,
    approver: &User,
    page: crate::store::paging::PageReq,
) -> ApiResult<Page<BreakGlassEntry>> {
    let mut c = state.store.conn().await?;
    let mut db = Db::new(&mut c, state.store.dialect());
    Ok(super::approvers::review_queue(
        &mut db,
        approver,
        state.config.admins_may_approve,
        page,
        state.now(),
    )
    .await?)
}
