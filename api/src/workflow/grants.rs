//! Grant lifecycle on targets: create (in the approving transaction), provision, expire,
//! revoke. Target calls happen outside database transactions; each attempt is recorded in
//! `grant_db_role_assignments` and audited, and the grant's status only moves once every
//! db role is in the state the status claims.

use chrono::{DateTime, Utc};
use jitea_shared::*;
use serde_json::json;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};
use crate::store::grants::{self as grant_store, AssignmentTarget, NewGrant};
use crate::store::{catalog, outbox, requests as req_store, Db, StoreError};

/// Inserts the grant for an approved request, with one pending assignment per mapped db role.
pub async fn create_in_tx(
    db: &mut Db<'_>,
    actor: &Actor,
    request_id: i64,
    user: &User,
    role: &Role,
    duration_minutes: i64,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let (from, to) = super::requests::window(now, duration_minutes);
    let db_roles: Vec<i64> = catalog::role_db_roles(db, role.id)
        .await?
        .into_iter()
        .map(|m| m.db_role_id)
        .collect();
    let id = grant_store::insert(
        db,
        &NewGrant {
            request_id: Some(request_id),
            user_id: user.id,
            role_id: role.id,
            valid_from: from,
            valid_to: to,
            issued_by_user_id: actor.user_id,
        },
        &db_roles,
        now,
    )
    .await?;
    audit::write(
        db,
        Event::new("grant_created", actor).user(user.id).request(request_id).grant(id).details(json!({
            "role_id": role.id, "role_name": role.role_name, "valid_from_utc": from, "valid_to_utc": to, "db_role_ids": db_roles,
        })),
        now,
    )
    .await?;
    Ok(id)
}

struct GrantCtx {
    grant: Grant,
    targets: Vec<AssignmentTarget>,
}

async fn load_ctx(state: &AppState, id: i64) -> Result<Option<GrantCtx>, StoreError> {
    let mut c = state.store.conn().await?;
    let mut db = Db::new(&mut c, state.store.dialect());
    let Some(grant) = grant_store::get_by_id(&mut db, id).await? else {
        return Ok(None);
    };
    let targets = grant_store::assignment_targets(&mut db, id).await?;
    Ok(Some(GrantCtx { grant, targets }))
}

/// Adds every pending membership of a `provisioning` grant and activates it when all are in
/// place. Failures stay recorded on the assignment and the grant stays `provisioning` for the
/// job to retry. Never returns an error to the caller: the request itself has succeeded.
pub async fn provision(state: &AppState, grant_id: i64) {
    if let Err(e) = try_provision(state, grant_id).await {
        tracing::warn!(grant_id, error = %e, "provisioning did not complete; it will be retried");
    }
    state.expiry_wake.notify_one();
}

async fn try_provision(state: &AppState, grant_id: i64) -> Result<(), StoreError> {
    let Some(ctx) = load_ctx(state, grant_id).await? else {
        return Ok(());
    };
    if ctx.grant.status != GrantStatus::Provisioning {
        return Ok(());
    }
    let system = Actor::system("provisioning");
    let mut failures = Vec::new();
    for t in &ctx.targets {
        let already = ctx
            .grant
            .assignments
            .iter()
            .any(|a| a.db_role_id == t.db_role_id && a.add_succeeded == Some(true));
        if already {
            continue;
        }
        let result = match state.connectors.for_kind(t.target.kind) {
            Ok(c) => {
                c.add_member(&t.target, &t.db_role_name, &ctx.grant.user_login_name)
                    .await
            }
            Err(e) => Err(e),
        };
        let now = state.now();
        let mut tx = state.store.begin_write().await?;
        let mut db = tx.db();
        let r = result.as_ref().map(|_| ()).map_err(|e| e.to_string());
        grant_store::record_add(&mut db, grant_id, t.db_role_id, r.clone(), now).await?;
        let event = if r.is_ok() {
            "role_added"
        } else {
            "role_add_failed"
        };
        audit::write(
            &mut db,
            Event::new(event, &system).user(ctx.grant.user_id).grant(grant_id).request_opt(ctx.grant.request_id).details(json!({
                "db_role_id": t.db_role_id, "db_role_name": t.db_role_name, "target_id": t.target.id, "error": r.as_ref().err(),
            })),
            now,
        )
        .await?;
        tx.commit().await?;
        if let Err(e) = r {
            failures.push(format!("{}: {e}", t.db_role_name));
        }
    }
    let now = state.now();
    let mut tx = state.store.begin_write().await?;
    let mut db = tx.db();
    if failures.is_empty() {
        if grant_store::transition(
            &mut db,
            grant_id,
            &[GrantStatus::Provisioning],
            GrantStatus::Active,
            None,
            now,
        )
        .await?
        {
            audit::write(
                &mut db,
                Event::new("grant_issued", &system)
                    .user(ctx.grant.user_id)
                    .grant(grant_id)
                    .request_opt(ctx.grant.request_id)
                    .details(json!({
                        "valid_to_utc": ctx.grant.valid_to_utc, "role_name": ctx.grant.role_name,
                    })),
                now,
            )
            .await?;
            outbox::enqueue(
                &mut db,
                "grant.active",
                &json!({"grant_id": grant_id, "user_id": ctx.grant.user_id}),
                now,
            )
            .await?;
        }
    } else {
        let detail = format!("provisioning failed, will retry: {}", failures.join("; "));
        grant_store::transition(
            &mut db,
            grant_id,
            &[GrantStatus::Provisioning],
            GrantStatus::Provisioning,
            Some(&detail),
            now,
        )
        .await?;
    }
    tx.commit().await
}

/// Why a grant ends.
#[derive(Debug, Clone)]
pub enum Ending {
    Expired,
    Revoked { by: Actor, reason: String },
}

/// Drops every membership the grant added, ends the user's sessions, and only then marks the
/// grant (and its request) expired or revoked. If a drop fails the grant keeps its status and
/// the job retries: access is never marked gone while the target may still have it.
pub async fn end(state: &AppState, grant_id: i64, ending: Ending) -> ApiResult<bool> {
    let Some(ctx) = load_ctx(state, grant_id).await? else {
        return Err(ApiError::not_found("grant"));
    };
    if !ctx.grant.status.is_live() {
        return Ok(false);
    }
    let actor = match &ending {
        Ending::Expired => Actor::system("expiry"),
        Ending::Revoked { by, .. } => by.clone(),
    };
    let mut failures = Vec::new();
    for t in &ctx.targets {
        let a = ctx
            .grant
            .assignments
            .iter()
            .find(|a| a.db_role_id == t.db_role_id);
        if a.is_some_and(|a| a.drop_succeeded == Some(true)) {
            continue;
        }
        let result = match state.connectors.for_kind(t.target.kind) {
            Ok(c) => {
                let r = c
                    .drop_member(&t.target, &t.db_role_name, &ctx.grant.user_login_name)
                    .await;
                if r.is_ok() {
                    if let Err(e) = c.end_sessions(&t.target, &ctx.grant.user_login_name).await {
                        tracing::warn!(grant_id, error = %e, "ending sessions failed");
                    }
                }
                r
            }
            Err(e) => Err(e),
        };
        let now = state.now();
        let r = result.map_err(|e| e.to_string());
        let mut tx = state.store.begin_write().await?;
        let mut db = tx.db();
        grant_store::record_drop(&mut db, grant_id, t.db_role_id, r.clone(), now).await?;
        let event = if r.is_ok() {
            "role_dropped"
        } else {
            "role_drop_failed"
        };
        audit::write(
            &mut db,
            Event::new(event, &actor).user(ctx.grant.user_id).grant(grant_id).request_opt(ctx.grant.request_id).details(json!({
                "db_role_id": t.db_role_id, "db_role_name": t.db_role_name, "target_id": t.target.id, "error": r.as_ref().err(),
            })),
            now,
        )
        .await?;
        tx.commit().await?;
        if let Err(e) = r {
            failures.push(format!("{}: {e}", t.db_role_name));
        }
    }
    if !failures.is_empty() {
        return Err(ApiError::new(
            502,
            "target_error",
            format!(
                "access could not be removed on every target yet; it will be retried: {}",
                failures.join("; ")
            ),
        ));
    }

    let now = state.now();
    let mut tx = state.store.begin_write().await?;
    let mut db = tx.db();
    let (moved, req_status, event, details) = match &ending {
        Ending::Expired => (
            grant_store::transition(
                &mut db,
                grant_id,
                &[GrantStatus::Active, GrantStatus::Provisioning],
                GrantStatus::Expired,
                None,
                now,
            )
            .await?,
            RequestStatus::Expired,
            "grant_expired",
            json!({"valid_to_utc": ctx.grant.valid_to_utc}),
        ),
        Ending::Revoked { by, reason } => (
            grant_store::mark_revoked(&mut db, grant_id, by.user_id, reason, now).await?,
            RequestStatus::Revoked,
            "grant_revoked",
            json!({"reason": reason}),
        ),
    };
    if !moved {
        return Ok(false); // someone else ended it first
    }
    if let Some(rid) = ctx.grant.request_id {
        req_store::transition(
            &mut db,
            rid,
            &[RequestStatus::Approved, RequestStatus::AutoApproved],
            req_status,
            &actor.login_name,
            now,
        )
        .await?;
    }
    audit::write(
        &mut db,
        Event::new(event, &actor)
            .user(ctx.grant.user_id)
            .grant(grant_id)
            .request_opt(ctx.grant.request_id)
            .details(details),
        now,
    )
    .await?;
    outbox::enqueue(
        &mut db,
        &format!(
            "grant.{}",
            if req_status == RequestStatus::Expired {
                "expired"
            } else {
                "revoked"
            }
        ),
        &json!({"grant_id": grant_id, "user_id": ctx.grant.user_id}),
        now,
    )
    .await?;
    tx.commit().await?;
    state.expiry_wake.notify_one();
    Ok(true)
}

/// Expires every active grant whose `valid_to_utc` is at or before `now`. Returns
/// (expired, failed).
pub async fn expire_due(state: &AppState, now: DateTime<Utc>) -> Result<(i64, i64), StoreError> {
    let ids = {
        let mut c = state.store.conn().await?;
        grant_store::ids_in_status(
            &mut Db::new(&mut c, state.store.dialect()),
            GrantStatus::Active,
            Some(now),
            1000,
        )
        .await?
    };
    let (mut ok, mut failed) = (0, 0);
    for id in ids {
        match end(state, id, Ending::Expired).await {
            Ok(true) => ok += 1,
            Ok(false) => {}
            Err(e) => {
                failed += 1;
                tracing::warn!(grant_id = id, error = %e, "expiry failed; will retry");
            }
        }
    }
    Ok((ok, failed))
}

/// Retries provisioning of grants left in `provisioning` (after a crash or a target error).
/// A grant that fell due meanwhile is ended instead of being activated.
pub async fn retry_provisioning(state: &AppState, now: DateTime<Utc>) -> Result<i64, StoreError> {
    let ids = {
        let mut c = state.store.conn().await?;
        grant_store::ids_in_status(
            &mut Db::new(&mut c, state.store.dialect()),
            GrantStatus::Provisioning,
            None,
            1000,
        )
        .await?
    };
    let mut n = 0;
    for id in ids {
        let due = {
            let mut c = state.store.conn().await?;
            grant_store::get_by_id(&mut Db::new(&mut c, state.store.dialect()), id)
                .await?
                .map(|g| g.valid_to_utc <= now)
        };
        match due {
            Some(true) => {
                let _ = end(state, id, Ending::Expired).await;
            }
            Some(false) => provision(state, id).await,
            None => continue,
        }
        n += 1;
    }
    Ok(n)
}

/// Admin revoke with a reason — `sp_Grant_Revoke`. Revoking an already ended grant is an
/// idempotent success that changes nothing.
pub async fn revoke(
    state: &AppState,
    admin: &User,
    grant_id: i64,
    reason: &str,
) -> ApiResult<Grant> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ApiError::bad_request("validation_failed", "a reason is required to revoke access")
            .with_details(json!({"fields": [{"field": "reason", "code": "reason_required", "message": "give a reason"}]})));
    }
    if reason.chars().count() > 4000 {
        return Err(ApiError::bad_request(
            "validation_failed",
            "reason must be at most 4000 characters",
        ));
    }
    let current = get(state, grant_id).await?;
    if current.status == GrantStatus::Revoked {
        return Ok(current);
    }
    if !current.status.is_live() {
        return Err(ApiError::conflict(
            "grant_not_active",
            format!("the grant is already {}", current.status),
        )
        .with_details(json!({"grant_id": grant_id, "status": current.status})));
    }
    end(
        state,
        grant_id,
        Ending::Revoked {
            by: Actor::user(admin.id, &admin.login_name),
            reason: reason.to_string(),
        },
    )
    .await?;
    get(state, grant_id).await
}

pub async fn get(state: &AppState, id: i64) -> ApiResult<Grant> {
    let mut c = state.store.conn().await?;
    grant_store::get_by_id(&mut Db::new(&mut c, state.store.dialect()), id)
        .await?
        .ok_or_else(|| ApiError::not_found("grant"))
}
