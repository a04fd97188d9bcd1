//! Extensions: more time on a live grant, asked for by its holder and decided by the role's
//! policy exactly like a new request (pre-approved, seniority bypass, or approvers).
//!
//! An extension is a request linked to the grant it extends (`extends_grant_id`). Approving it
//! moves the grant's `valid_to_utc` in the same transaction as the decision; the memberships
//! on the targets are never touched, so there is no gap and no second grant. The limits are
//! the pure `domain::extension::check`, applied when the extension is asked for and again,
//! against the grant as it is then, when it is approved. One pending extension per grant is
//! enforced by a unique index (`ux_requests_pending_extension`), and the grant's end moves by
//! a compare-and-set on its extension count (`store::grants::extend`), so of concurrent
//! extensions exactly one wins. An extension still pending when its grant ends lapses
//! (`lapse_in_tx`, called wherever a grant's end is recorded).

use chrono::{DateTime, Utc};
use jitea_shared::*;
use serde_json::json;

use crate::domain::extension::{self, ExtensionLimits, GrantFacts, Refusal};
use crate::domain::validation::validate_reason;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};
use crate::store::requests as req_store;
use crate::store::{catalog, grants as grant_store, outbox, Db, StoreError};

use super::{access, requests};

/// The role's extension limits.
pub fn limits(role: &Role) -> ExtensionLimits {
    ExtensionLimits::for_role(
        role.max_duration_minutes,
        role.max_extension_minutes,
        role.max_extensions,
        role.max_total_minutes,
    )
}

fn facts(g: &Grant) -> GrantFacts {
    GrantFacts {
        active: g.status == GrantStatus::Active,
        ending: g.pending_end.is_some(),
        valid_from: g.valid_from_utc,
        valid_to: g.valid_to_utc,
        extensions: g.extensions,
    }
}

fn refused(r: Refusal, g: &Grant, limits: &ExtensionLimits) -> ApiError {
    let details = json!({
        "grant_id": g.id, "grant_status": g.status, "valid_to_utc": g.valid_to_utc,
        "extensions": g.extensions, "max_extensions": limits.max_extensions,
        "max_extension_minutes": limits.max_single_minutes, "max_total_minutes": limits.max_total_minutes,
    });
    let e = match r {
        Refusal::TooLong { .. } => ApiError::bad_request(r.code(), r.message()),
        _ => ApiError::conflict(r.code(), r.message()),
    };
    e.with_details(details)
}

fn trimmed(s: Option<&str>) -> Option<String> {
    s.map(str::trim).filter(|s| !s.is_empty()).map(String::from)
}

/// The holder of grant `grant_id` asks for `body.extra_minutes` more.
pub async fn request(
    state: &AppState,
    user: &User,
    grant_id: i64,
    body: &GrantExtend,
) -> ApiResult<AccessRequest> {
    let now = state.now();
    let actor = Actor::user(user.id, &user.login_name);
    let justification = trimmed(body.justification.as_deref());
    let ticket = trimmed(body.ticket_ref.as_deref());

    // Reads first, outside the write transaction (as for a new request).
    let (grant, role, check) = {
        let mut c = state.store.conn().await?;
        let mut db = Db::new(&mut c, state.store.dialect());
        let grant = grant_store::get_by_id(&mut db, grant_id)
            .await?
            .ok_or_else(|| ApiError::not_found("grant"))?;
        if grant.user_id != user.id {
            if user.is_admin || user.is_auditor {
                return Err(ApiError::forbidden(
                    "forbidden",
                    "only the person who holds a grant can ask for an extension",
                ));
            }
            return Err(ApiError::not_found("grant"));
        }
        let role = catalog::get_role(&mut db, grant.role_id)
            .await?
            .ok_or_else(|| ApiError::not_found("role"))?;
        let check = access::check(state.store.catalog_cache(), &mut db, user, &role, now).await?;
        (grant, role, check)
    };
    if !check.eligibility.eligible {
        return Err(requests::refuse_ineligible(state, &actor, user, &role, &check, now).await?);
    }
    let limits = limits(&role);
    extension::check(&limits, &facts(&grant), body.extra_minutes, now)
        .map_err(|r| refused(r, &grant, &limits))?;
    if let Err(errors) = validate_reason(
        &access::role_facts(&role),
        justification.as_deref(),
        ticket.as_deref(),
    ) {
        return Err(ApiError::bad_request(
            "validation_failed",
            "the extension is not valid for this role",
        )
        .with_details(json!({"fields": errors})));
    }

    let mut tx = state.store.begin_write().await?;
    // The time of the decision is taken inside the write transaction, after any engine
    // claim that got there first.
    let now = state.now();
    let mut db = tx.db();
    let grant = grant_store::get_by_id(&mut db, grant_id)
        .await?
        .ok_or_else(|| ApiError::not_found("grant"))?;
    if let Some(pending) = grant.pending_extension_id {
        return Err(extension_pending(pending));
    }
    extension::check(&limits, &facts(&grant), body.extra_minutes, now)
        .map_err(|r| refused(r, &grant, &limits))?;
    let status = if check.auto_approval.is_some() {
        RequestStatus::AutoApproved
    } else {
        RequestStatus::Pending
    };
    let new = req_store::NewRequest {
        user,
        role_id: role.id,
        duration_minutes: body.extra_minutes,
        justification,
        ticket_ref: ticket,
        status,
        auto_approval_reason: check.auto_approval,
        decide_by: requests::decide_by(&role, now),
        extends: Some((grant.id, grant.extensions)),
        start: None,
        required_approvals: role.required_approvals,
        approval_stages: role.approval_stages,
    };
    let id = match req_store::insert(&mut db, &new, now).await {
        Ok(id) => id,
        Err(StoreError::Conflict) => {
            // Another extension of this grant got in first.
            drop(tx);
            let mut c = state.store.conn().await?;
            let g = grant_store::get_by_id(&mut Db::new(&mut c, state.store.dialect()), grant_id)
                .await?;
            return Err(match g.and_then(|g| g.pending_extension_id) {
                Some(p) => extension_pending(p),
                None => ApiError::conflict(
                    "extension_pending",
                    "another extension of this grant is being asked for",
                ),
            });
        }
        Err(e) => return Err(e.into()),
    };
    let mut events = vec![Event::new("extension_requested", &actor)
        .user(user.id)
        .request(id)
        .grant(grant.id)
        .details(json!({
            "role_id": role.id, "role_name": role.role_name,
            "extra_minutes": body.extra_minutes, "ticket_ref": new.ticket_ref,
            "grant_valid_to_utc": grant.valid_to_utc, "previous_extensions": grant.extensions,
            "eligibility": check.eligibility.reason,
        }))];
    outbox::enqueue(
        &mut db,
        "request.created",
        &json!({"request_id": id, "user_id": user.id, "role_id": role.id, "status": status, "kind": RequestKind::Extension, "grant_id": grant.id}),
        now,
    )
    .await?;
    if let Some(reason) = check.auto_approval {
        events.push(
            Event::new("request_auto_approved", &actor)
                .user(user.id)
                .request(id)
                .grant(grant.id)
                .details(json!({"reason": reason, "seniority_level": user.seniority_level})),
        );
        match apply_in_tx(
            &mut db,
            &grant,
            &limits,
            id,
            body.extra_minutes,
            &actor,
            now,
        )
        .await?
        {
            Ok(event) => events.push(event),
            Err(r) => return Err(refused(r, &grant, &limits)),
        }
        events.extend(
            super::break_glass::on_grant(&mut db, &actor, &new, id, grant.id, &role, now).await?,
        );
    }
    audit::write_many(&mut db, events, now).await?;
    tx.commit().await?;
    if status == RequestStatus::Pending {
        state.expiry_wake.before(new.decide_by);
    }
    requests::load(state, id).await
}

fn extension_pending(request_id: i64) -> ApiError {
    ApiError::conflict(
        "extension_pending",
        format!(
            "an extension of this grant is already waiting for a decision (request {request_id})"
        ),
    )
    .with_details(json!({"request_id": request_id}))
}

/// Inside the decision's transaction: moves the grant's end by `extra_minutes` (checked
/// against `limits` and the grant as it is at `now`) and returns the `grant_extended` audit
/// event. `Err` leaves the grant as it was; the caller must then roll back.
pub(super) async fn apply_in_tx<'a>(
    db: &mut Db<'_>,
    grant: &Grant,
    limits: &ExtensionLimits,
    request_id: i64,
    extra_minutes: i64,
    actor: &'a Actor,
    now: DateTime<Utc>,
) -> Result<Result<Event<'a>, Refusal>, StoreError> {
    let new_end = match extension::check(limits, &facts(grant), extra_minutes, now) {
        Ok(end) => end,
        Err(r) => return Ok(Err(r)),
    };
    if !grant_store::extend(db, grant.id, grant.extensions, new_end, now).await? {
        // Changed since it was read: ended, being ended, leased, or extended by someone else.
        return Ok(Err(Refusal::NotExtendable));
    }
    outbox::enqueue(
        db,
        "grant.extended",
        &json!({"grant_id": grant.id, "user_id": grant.user_id, "request_id": request_id, "valid_to_utc": new_end}),
        now,
    )
    .await?;
    Ok(Ok(Event::new("grant_extended", actor)
        .user(grant.user_id)
        .grant(grant.id)
        .request(request_id)
        .details(json!({
            "from_valid_to_utc": grant.valid_to_utc, "to_valid_to_utc": new_end,
            "extra_minutes": extra_minutes, "extension_number": grant.extensions + 1,
        }))))
}

/// Approval of an extension request `req` (already moved to `approved` in `db`'s
/// transaction): re-checks the limits against the grant as it is now and moves its end.
pub(super) async fn approve_in_tx<'a>(
    db: &mut Db<'_>,
    req: &AccessRequest,
    role: &Role,
    actor: &'a Actor,
    now: DateTime<Utc>,
) -> ApiResult<Event<'a>> {
    let grant_id = req
        .extension
        .as_ref()
        .map(|e| e.grant_id)
        .ok_or_else(ApiError::internal)?;
    let grant = grant_store::get_by_id(db, grant_id)
        .await?
        .ok_or_else(|| ApiError::not_found("grant"))?;
    let limits = limits(role);
    match apply_in_tx(
        db,
        &grant,
        &limits,
        req.id,
        req.requested_duration_minutes,
        actor,
        now,
    )
    .await?
    {
        Ok(event) => Ok(event),
        Err(r) => Err(refused(r, &grant, &limits)),
    }
}
