//! Grant lifecycle on targets: create (in the approving transaction), provision, end
//! (expire, revoke, fail). Target calls happen outside database transactions; each attempt is
//! recorded in `grant_db_role_assignments` and audited, and a grant's status only moves once
//! every db role is in the state the status claims. Failures are retried by the expiry engine
//! (`jobs::expiry`) with exponential backoff; nothing is ever marked gone while a target may
//! still have it.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jitea_shared::*;
use rand::Rng;
use serde_json::json;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};
use crate::store::grants::{self as grant_store, AssignmentTarget, NewGrant, PendingEnd};
use crate::store::{catalog, outbox, requests as req_store, users, Db, StoreError};

/// Provisioning attempts before a grant is given up as `failed` (its partial memberships are
/// then removed).
pub const PROVISION_ATTEMPTS: i64 = 5;
/// Failed removal attempts after which a grant is flagged `revoke_failed` (it keeps being
/// retried).
pub const REVOKE_FLAG_AFTER: i64 = 3;

/// Delay before retry number `attempt` (1-based): `base_ms` (default 1 s) doubling to at most
/// 60 s, ±20 % jitter so that many failing grants do not retry in lockstep.
pub fn backoff(attempt: i64, base_ms: u64) -> Duration {
    let base = base_ms
        .saturating_mul(1u64 << attempt.clamp(1, 7).saturating_sub(1) as u32)
        .min(60_000);
    let jitter = rand::thread_rng().gen_range(0.8..1.2);
    Duration::from_millis((base as f64 * jitter) as u64)
}

fn after(now: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(d).unwrap_or_else(|_| chrono::Duration::seconds(60))
}

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
    let (from, to) = crate::domain::duration::grant_window(now, duration_minutes);
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

/// What a provisioning attempt achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provisioned {
    /// Every membership is in place and the grant is `active`.
    Activated,
    /// Nothing to do (not `provisioning`, or an end is pending).
    Skipped,
    /// A target refused or was unreachable; the grant stays `provisioning`.
    Failed(String),
}

/// Adds every membership of a `provisioning` grant not yet in place, recording and auditing
/// each attempt, and activates the grant when all are there.
pub async fn try_provision(state: &AppState, grant_id: i64) -> Result<Provisioned, StoreError> {
    let Some(ctx) = load_ctx(state, grant_id).await? else {
        return Ok(Provisioned::Skipped);
    };
    if ctx.grant.status != GrantStatus::Provisioning || ctx.grant.pending_end.is_some() {
        return Ok(Provisioned::Skipped);
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
        let r = result.map_err(|e| e.to_string());
        let mut tx = state.store.begin_write().await?;
        let mut db = tx.db();
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
    if !failures.is_empty() {
        return Ok(Provisioned::Failed(failures.join("; ")));
    }
    let now = state.now();
    let mut tx = state.store.begin_write().await?;
    let mut db = tx.db();
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
    tx.commit().await?;
    Ok(Provisioned::Activated)
}

/// Provisions right after the approving transaction committed; a failure is scheduled for
/// retry instead of being returned (the request itself has succeeded).
pub async fn provision(state: &AppState, grant_id: i64) {
    match try_provision(state, grant_id).await {
        Ok(Provisioned::Failed(e)) => {
            if let Err(err) = provisioning_failed(state, grant_id, &e).await {
                tracing::warn!(grant_id, error = %err, "could not schedule a provisioning retry");
            }
        }
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(grant_id, error = %e, "provisioning did not complete; the engine retries it")
        }
    }
    state.expiry_wake.notify_one();
}

/// Counts a failed provisioning attempt; after the budget the grant is marked to fail, which
/// removes any membership already added.
pub async fn provisioning_failed(
    state: &AppState,
    grant_id: i64,
    error: &str,
) -> Result<(), StoreError> {
    let now = state.now();
    let mut tx = state.store.begin_write().await?;
    let mut db = tx.db();
    let prev = grant_store::get_by_id(&mut db, grant_id)
        .await?
        .map(|g| g.attempts)
        .unwrap_or(0);
    let attempts = grant_store::record_failure(
        &mut db,
        grant_id,
        &format!("provisioning failed, will retry: {error}"),
        after(now, backoff(prev + 1, state.config.retry_base_ms)),
        false,
        now,
    )
    .await?;
    if attempts >= PROVISION_ATTEMPTS {
        let reason = format!("provisioning failed after {attempts} attempts: {error}");
        if grant_store::request_end(&mut db, grant_id, PendingEnd::Fail, None, &reason, now).await?
        {
            let g = grant_store::get_by_id(&mut db, grant_id).await?;
            audit::write(
                &mut db,
                Event::new("grant_provisioning_failed", &Actor::system("provisioning"))
                    .grant(grant_id)
                    .user(g.as_ref().map(|g| g.user_id).unwrap_or_default())
                    .request_opt(g.and_then(|g| g.request_id))
                    .details(json!({"attempts": attempts, "error": error})),
                now,
            )
            .await?;
        }
    }
    tx.commit().await
}

/// How a grant ends, read from its row: a pending revoke or fail, else expiry.
#[derive(Debug, Clone)]
enum Ending {
    Expired,
    Revoked { by: Actor, reason: String },
    Failed { reason: String },
}

async fn ending_of(state: &AppState, g: &Grant) -> Result<Ending, StoreError> {
    let reason = g.revoke_reason.clone().unwrap_or_default();
    Ok(match g.pending_end.as_deref().and_then(PendingEnd::parse) {
        Some(PendingEnd::Fail) => Ending::Failed { reason },
        Some(PendingEnd::Revoke) => {
            let by = match g.revoked_by_user_id {
                Some(id) => {
                    let mut c = state.store.conn().await?;
                    let u =
                        users::get_by_id(&mut Db::new(&mut c, state.store.dialect()), id).await?;
                    u.map(|u| Actor::user(u.id, &u.login_name))
                        .unwrap_or_else(|| Actor::system("revoke"))
                }
                None => Actor::system("revoke"),
            };
            Ending::Revoked { by, reason }
        }
        None => Ending::Expired,
    })
}

/// Why ending a grant did not complete.
#[derive(Debug, Clone)]
pub enum EndError {
    /// A target did not confirm the removal; the message lists which.
    Target(String),
    Store(String),
}

impl From<StoreError> for EndError {
    fn from(e: StoreError) -> Self {
        EndError::Store(e.to_string())
    }
}

/// Ends a live grant that is due or has a pending end: drops every membership it added, ends
/// the login's sessions, records and audits each drop, and only then marks the grant (and its
/// request) expired, revoked or failed. Returns false when there was nothing to do (already
/// ended, possibly by another process).
pub async fn end(state: &AppState, grant_id: i64) -> Result<bool, EndError> {
    end_with(state, grant_id, &HashSet::new()).await
}

/// `end`, where the db roles in `predropped` were already removed (with sessions ended) by a
/// batched statement of the expiry engine: they are recorded without calling the target again.
pub async fn end_with(
    state: &AppState,
    grant_id: i64,
    predropped: &HashSet<i64>,
) -> Result<bool, EndError> {
    let Some(ctx) = load_ctx(state, grant_id).await? else {
        return Ok(false);
    };
    if !ctx.grant.status.is_live() {
        return Ok(false);
    }
    let ending = ending_of(state, &ctx.grant).await?;
    let actor = match &ending {
        Ending::Expired => Actor::system("expiry"),
        Ending::Revoked { by, .. } => by.clone(),
        Ending::Failed { .. } => Actor::system("provisioning"),
    };
    let mut drops: Vec<(&AssignmentTarget, Result<(), String>, DateTime<Utc>)> = Vec::new();
    for t in &ctx.targets {
        // Drop every role not yet confirmed dropped, even one whose add was never recorded:
        // a crash between the target's GRANT and our record leaves exactly that state, and
        // dropping a non-member is a no-op.
        let a = ctx
            .grant
            .assignments
            .iter()
            .find(|a| a.db_role_id == t.db_role_id);
        if a.is_some_and(|a| a.drop_succeeded == Some(true)) {
            continue;
        }
        let result = if predropped.contains(&t.db_role_id) {
            Ok(())
        } else {
            match state.connectors.for_kind(t.target.kind) {
                Ok(c) => {
                    let r = c
                        .drop_member(&t.target, &t.db_role_name, &ctx.grant.user_login_name)
                        .await;
                    if r.is_ok() {
                        // A session that switched to the role keeps its privileges until it ends.
                        if let Err(e) = c.end_sessions(&t.target, &ctx.grant.user_login_name).await
                        {
                            tracing::warn!(grant_id, error = %e, "ending sessions failed");
                        }
                    }
                    r
                }
                Err(e) => Err(e),
            }
        };
        drops.push((t, result.map_err(|e| e.to_string()), state.now()));
    }

    // Every drop is recorded and audited; when all succeeded the grant's end is written in the
    // same transaction.
    let now = state.now();
    let mut tx = state.store.begin_write().await?;
    let mut db = tx.db();
    let mut failures = Vec::new();
    for (t, r, at) in &drops {
        grant_store::record_drop(&mut db, grant_id, t.db_role_id, r.clone(), *at).await?;
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
            *at,
        )
        .await?;
        if let Err(e) = r {
            failures.push(format!("{}: {e}", t.db_role_name));
        }
    }
    if !failures.is_empty() {
        tx.commit().await?;
        return Err(EndError::Target(failures.join("; ")));
    }

    let live = [GrantStatus::Active, GrantStatus::Provisioning];
    let (moved, req_status, event, topic, details) = match &ending {
        Ending::Expired => (
            grant_store::transition(&mut db, grant_id, &live, GrantStatus::Expired, None, now)
                .await?,
            RequestStatus::Expired,
            "grant_expired",
            "grant.expired",
            json!({"valid_to_utc": ctx.grant.valid_to_utc, "lag_ms": (now - ctx.grant.valid_to_utc).num_milliseconds()}),
        ),
        Ending::Revoked { by, reason } => (
            grant_store::mark_revoked(&mut db, grant_id, by.user_id, reason, now).await?,
            RequestStatus::Revoked,
            "grant_revoked",
            "grant.revoked",
            json!({"reason": reason}),
        ),
        Ending::Failed { reason } => (
            grant_store::transition(
                &mut db,
                grant_id,
                &live,
                GrantStatus::Failed,
                Some(reason),
                now,
            )
            .await?,
            RequestStatus::Revoked,
            "grant_failed",
            "grant.failed",
            json!({"reason": reason}),
        ),
    };
    if moved {
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
            topic,
            &json!({"grant_id": grant_id, "user_id": ctx.grant.user_id}),
            now,
        )
        .await?;
    }
    // Not moved: another process ended it first; the drop records still stand.
    tx.commit().await?;
    Ok(moved)
}

/// Records, in one transaction, the plain expiry of every grant in `ids` whose unconfirmed
/// memberships were all removed by the engine's batch (`predropped`): drops, statuses,
/// requests, audit and outbox rows. Returns the grants it ended; the rest (pending revokes or
/// failures, partial removals, grants already ended elsewhere) go through `end_with`.
pub async fn expire_batch(
    state: &AppState,
    ids: &[i64],
    rows: &[grant_store::BatchAssignment],
    predropped: &std::collections::HashMap<i64, HashSet<i64>>,
) -> Result<HashSet<i64>, StoreError> {
    let none = HashSet::new();
    let eligible: Vec<i64> = ids
        .iter()
        .copied()
        .filter(|id| {
            let done = predropped.get(id).unwrap_or(&none);
            rows.iter()
                .filter(|a| a.grant_id == *id && a.drop_succeeded != Some(true))
                .all(|a| done.contains(&a.db_role_id))
        })
        .collect();
    if eligible.is_empty() {
        return Ok(HashSet::new());
    }
    let actor = Actor::system("expiry");
    let now = state.now();
    let mut tx = state.store.begin_write().await?;
    let mut db = tx.db();
    let moved = grant_store::expire_many(&mut db, &eligible, &actor.login_name, now).await?;
    let mut events = Vec::new();
    let mut messages = Vec::new();
    for g in &moved {
        for a in rows.iter().filter(|a| {
            a.grant_id == g.id
                && predropped
                    .get(&g.id)
                    .is_some_and(|d| d.contains(&a.db_role_id))
        }) {
            events.push(Event::new("role_dropped", &actor).user(g.user_id).grant(g.id).request_opt(g.request_id).details(json!({
                "db_role_id": a.db_role_id, "db_role_name": a.db_role_name, "target_id": a.target.id, "error": null, "batched": true,
            })));
        }
        events.push(
            Event::new("grant_expired", &actor)
                .user(g.user_id)
                .grant(g.id)
                .request_opt(g.request_id)
                .details(json!({
                    "valid_to_utc": g.valid_to, "lag_ms": (now - g.valid_to).num_milliseconds(),
                })),
        );
        messages.push((
            "grant.expired",
            json!({"grant_id": g.id, "user_id": g.user_id}),
        ));
    }
    audit::write_many(&mut db, events, now).await?;
    outbox::enqueue_many(&mut db, messages, now).await?;
    tx.commit().await?;
    Ok(moved.into_iter().map(|g| g.id).collect())
}

/// `end`, and on a target failure: count the attempt, schedule a retry with backoff, and flag
/// the grant `revoke_failed` (audited once) when it keeps failing.
pub async fn end_or_retry(state: &AppState, grant_id: i64) -> Result<bool, EndError> {
    end_or_retry_with(state, grant_id, &HashSet::new()).await
}

/// `end_or_retry` with db roles already removed by a batch (see `end_with`).
pub async fn end_or_retry_with(
    state: &AppState,
    grant_id: i64,
    predropped: &HashSet<i64>,
) -> Result<bool, EndError> {
    match end_with(state, grant_id, predropped).await {
        Err(EndError::Target(msg)) => {
            let now = state.now();
            let mut tx = state.store.begin_write().await?;
            let mut db = tx.db();
            let before = grant_store::get_by_id(&mut db, grant_id).await?;
            let prev_attempts = before.as_ref().map(|g| g.attempts).unwrap_or(0);
            let flag = prev_attempts + 1 >= REVOKE_FLAG_AFTER;
            let attempts = grant_store::record_failure(
                &mut db,
                grant_id,
                &format!("removing access failed, will retry: {msg}"),
                after(now, backoff(prev_attempts + 1, state.config.retry_base_ms)),
                flag,
                now,
            )
            .await?;
            if flag && before.as_ref().is_some_and(|g| !g.revoke_failed) {
                let g = before.expect("checked above");
                audit::write(
                    &mut db,
                    Event::new("grant_revoke_failed", &Actor::system("expiry"))
                        .user(g.user_id)
                        .grant(grant_id)
                        .request_opt(g.request_id)
                        .details(json!({"attempts": attempts, "error": msg})),
                    now,
                )
                .await?;
            }
            tx.commit().await?;
            Err(EndError::Target(msg))
        }
        other => other,
    }
}

/// Admin revoke with a reason — `sp_Grant_Revoke`. The decision is recorded first, so that if
/// a target is down the engine keeps retrying the removal. Revoking an already revoked grant
/// is an idempotent success.
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
    request_revoke(
        state,
        &Actor::user(admin.id, &admin.login_name),
        grant_id,
        reason,
    )
    .await?;
    match end_or_retry(state, grant_id).await {
        Ok(_) => get(state, grant_id).await,
        Err(EndError::Target(msg)) => Err(ApiError::new(502, "target_error", "access could not be removed on every target yet; JITEA keeps retrying and the grant shows revoke_failed if it persists")
            .with_details(json!({"grant_id": grant_id, "error": msg}))),
        Err(EndError::Store(e)) => Err(StoreError::Internal(e).into()),
    }
}

/// Records a revoke decision (audited) without touching targets yet.
async fn request_revoke(
    state: &AppState,
    by: &Actor,
    grant_id: i64,
    reason: &str,
) -> Result<(), StoreError> {
    let now = state.now();
    let mut tx = state.store.begin_write().await?;
    let mut db = tx.db();
    if grant_store::request_end(
        &mut db,
        grant_id,
        PendingEnd::Revoke,
        by.user_id,
        reason,
        now,
    )
    .await?
    {
        let g = grant_store::get_by_id(&mut db, grant_id).await?;
        audit::write(
            &mut db,
            Event::new("grant_revoke_requested", by)
                .grant(grant_id)
                .user(g.as_ref().map(|g| g.user_id).unwrap_or_default())
                .request_opt(g.and_then(|g| g.request_id))
                .details(json!({"reason": reason})),
            now,
        )
        .await?;
    }
    tx.commit().await
}

/// Removes all live access of a user at once (deactivation). Returns the grants whose removal
/// a target did not confirm yet (they are retried).
pub async fn end_user_access(
    state: &AppState,
    by: &Actor,
    user_id: i64,
    reason: &str,
) -> Result<Vec<i64>, StoreError> {
    let live = {
        let mut c = state.store.conn().await?;
        grant_store::live_ids_for_user(&mut Db::new(&mut c, state.store.dialect()), user_id).await?
    };
    let mut pending = Vec::new();
    for g in live {
        request_revoke(state, by, g, reason).await?;
        if end_or_retry(state, g).await.is_err() {
            pending.push(g);
        }
    }
    state.expiry_wake.notify_one();
    Ok(pending)
}

pub async fn get(state: &AppState, id: i64) -> ApiResult<Grant> {
    let mut c = state.store.conn().await?;
    grant_store::get_by_id(&mut Db::new(&mut c, state.store.dialect()), id)
        .await?
        .ok_or_else(|| ApiError::not_found("grant"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_minute_with_jitter() {
        for (attempt, base) in [
            (1, 1000u64),
            (2, 2000),
            (3, 4000),
            (6, 32_000),
            (7, 60_000),
            (50, 60_000),
        ] {
            for _ in 0..20 {
                let ms = backoff(attempt, 1000).as_millis() as u64;
                assert!(
                    ms >= base * 8 / 10 && ms <= base * 12 / 10,
                    "attempt {attempt}: {ms} ms"
                );
            }
        }
    }
}
