//! Adding access: the add half of a grant's lifecycle, always under the grant's lease.

use chrono::{DateTime, Utc};
use serde_json::json;

use jitea_shared::GrantStatus;

use super::{after, backoff, connector, load_ctx, principal, GrantCtx, Lease, PROVISION_ATTEMPTS};
use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};
use crate::store::grants::{self as grant_store, AssignmentTarget, PendingEnd};
use crate::store::{outbox, Db, StoreError};

/// What one round of adding achieved.
pub(super) enum Added {
    /// Every required db role is in place and the grant is active (optional ones that failed
    /// are scheduled for retry at `retry_at`).
    Done { retry_at: Option<DateTime<Utc>> },
    /// An end was decided while an add was in flight: end the grant now.
    EndingNow,
    /// The lease was lost; nothing more may be done or recorded.
    LeaseLost,
    /// A required db role could not be added; the message lists which.
    Failed(String),
}

/// Adds every db role of the grant not yet in place, recording and auditing each attempt in
/// a transaction fenced by the lease, and re-reading the grant after each one. Activates the
/// grant when every required db role is there: in the same transaction as the last add's
/// record, which also hands a single-grant lease back (two commits for an auto-approved
/// one-role request in all, with its creation).
pub(super) async fn add_missing(
    state: &AppState,
    lease: &Lease,
    ctx: &GrantCtx,
) -> Result<Added, StoreError> {
    let system = Actor::system("provisioning");
    let grant_id = ctx.grant.id;
    let to_add: Vec<&AssignmentTarget> = ctx.to_add().collect();
    if to_add.is_empty() {
        return activate(state, lease, ctx, &[]).await;
    }
    let mut required_failures = Vec::new();
    let mut optional_failures = Vec::new();
    let last = to_add.len() - 1;
    for (i, t) in to_add.into_iter().enumerate() {
        if lease.is_lost() {
            return Ok(Added::LeaseLost);
        }
        let r = add_one(state, t, &t.principal).await;
        let now = state.now();
        let Some(mut tx) = lease.begin(state, grant_id).await? else {
            if r.is_ok() {
                undo_late_add(state, grant_id, t, &t.principal).await;
            }
            return Ok(Added::LeaseLost);
        };
        let mut db = tx.db();
        grant_store::record_add(
            &mut db,
            grant_id,
            t.db_role_id,
            &t.principal,
            r.clone(),
            now,
        )
        .await?;
        let event = if r.is_ok() {
            "role_added"
        } else {
            "role_add_failed"
        };
        let added = Event::new(event, &system).user(ctx.grant.user_id).grant(grant_id).request_opt(ctx.grant.request_id).details(json!({
            "db_role_id": t.db_role_id, "db_role_name": t.db_role_name, "target_id": t.target.id,
            "required": t.required, "error": r.as_ref().err(),
        }));
        if let Err(e) = &r {
            let line = format!("{}: {e}", t.db_role_name);
            if t.required {
                required_failures.push(line);
            } else {
                optional_failures.push(line);
            }
        }
        let finishing = i == last && required_failures.is_empty();
        // The usual case in as few statements as possible: the last add worked, nothing is
        // pending, so the grant becomes active and its lease is given back in one update.
        if finishing
            && optional_failures.is_empty()
            && grant_store::activate_held(&mut db, grant_id, lease.id(), now).await?
        {
            audit::write_many(&mut db, vec![added, issued_event(ctx, &system, &[])], now).await?;
            outbox::enqueue(&mut db, "grant.active", &active_topic(ctx), now).await?;
            tx.commit().await?;
            lease.released_with_commit();
            return Ok(Added::Done { retry_at: None });
        }
        audit::write(&mut db, added, now).await?;
        if grant_store::is_ending(&mut db, grant_id, now).await? {
            tx.commit().await?;
            return Ok(Added::EndingNow);
        }
        if finishing {
            let retry_at =
                activate_in_tx(state, &mut db, lease, ctx, &optional_failures, now).await?;
            tx.commit().await?;
            lease.released_with_commit();
            return Ok(Added::Done { retry_at });
        }
        tx.commit().await?;
    }
    Ok(Added::Failed(required_failures.join("; ")))
}

async fn add_one(state: &AppState, t: &AssignmentTarget, login: &str) -> Result<(), String> {
    if !t.grantable {
        return Err("the db role is not JIT-managed or its target is disabled".into());
    }
    let login = principal(login)?;
    let (c, target) = connector(state, &t.target).map_err(|e| e.to_string())?;
    c.add_member(&target, &t.db_role_name, login)
        .await
        .map_err(|e| e.to_string())
}

/// Moves a provisioning grant to `active` in a transaction of its own (fenced).
async fn activate(
    state: &AppState,
    lease: &Lease,
    ctx: &GrantCtx,
    optional_failures: &[String],
) -> Result<Added, StoreError> {
    let now = state.now();
    let Some(mut tx) = lease.begin(state, ctx.grant.id).await? else {
        return Ok(Added::LeaseLost);
    };
    let retry_at = activate_in_tx(state, &mut tx.db(), lease, ctx, optional_failures, now).await?;
    tx.commit().await?;
    lease.released_with_commit();
    Ok(Added::Done { retry_at })
}

/// Inside a transaction fenced by `lease`: moves a provisioning grant to `active`, schedules a
/// retry for optional db roles that failed (returning when) or clears one that is no longer
/// needed, and gives the grant's lease back with the same commit (the caller then calls
/// `Lease::released_with_commit`).
async fn activate_in_tx(
    state: &AppState,
    db: &mut Db<'_>,
    lease: &Lease,
    ctx: &GrantCtx,
    optional_failures: &[String],
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let grant_id = ctx.grant.id;
    if grant_store::transition(
        db,
        grant_id,
        &[GrantStatus::Provisioning],
        GrantStatus::Active,
        None,
        now,
    )
    .await?
    {
        let system = Actor::system("provisioning");
        audit::write(db, issued_event(ctx, &system, optional_failures), now).await?;
        outbox::enqueue(db, "grant.active", &active_topic(ctx), now).await?;
    }
    let retry_at = if optional_failures.is_empty() {
        grant_store::clear_retry(db, grant_id, now).await?;
        None
    } else {
        let detail = format!(
            "optional db roles not added yet, retrying: {}",
            optional_failures.join("; ")
        );
        let next = after(
            now,
            backoff(ctx.grant.attempts + 1, state.config.retry_base_ms),
        );
        grant_store::record_failure(db, grant_id, &detail, next, false, now).await?;
        Some(next)
    };
    grant_store::release_one(db, grant_id, lease.id()).await?;
    Ok(retry_at)
}

fn issued_event<'a>(
    ctx: &'a GrantCtx,
    system: &'a Actor,
    optional_failures: &[String],
) -> Event<'a> {
    Event::new("grant_issued", system)
        .user(ctx.grant.user_id)
        .grant(ctx.grant.id)
        .request_opt(ctx.grant.request_id)
        .details(json!({
            "valid_to_utc": ctx.grant.valid_to_utc, "role_name": ctx.grant.role_name,
            "optional_failed": optional_failures,
        }))
}

fn active_topic(ctx: &GrantCtx) -> serde_json::Value {
    json!({"grant_id": ctx.grant.id, "user_id": ctx.grant.user_id})
}

/// Counts a failed provisioning attempt (fenced) and schedules a retry; after the budget the
/// grant is marked to fail, which removes any membership already added. Returns whether it
/// was given up.
pub(super) async fn failed(
    state: &AppState,
    lease: &Lease,
    grant_id: i64,
    error: &str,
) -> Result<bool, StoreError> {
    let now = state.now();
    let Some(mut tx) = lease.begin(state, grant_id).await? else {
        return Ok(false);
    };
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
    let mut gave_up = false;
    if attempts >= PROVISION_ATTEMPTS {
        let reason = format!("provisioning failed after {attempts} attempts: {error}");
        if grant_store::request_end(&mut db, grant_id, PendingEnd::Fail, None, &reason, now).await?
        {
            gave_up = true;
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
    tx.commit().await?;
    Ok(gave_up)
}

/// An add landed after this holder lost the lease (its renewals failed long enough for the
/// lease to lapse and be taken). If the grant has ended or is ending meanwhile, nothing will
/// ever add for it again, so the late membership is removed here at once (audited) — the one
/// drop made without the lease, safe because no add can follow it. If the grant is still
/// wanted, nothing is done.
async fn undo_late_add(state: &AppState, grant_id: i64, t: &AssignmentTarget, login: &str) {
    let r: Result<(), String> = async {
        let Some(ctx) = load_ctx(state, grant_id).await.map_err(|e| e.to_string())? else {
            return Ok(());
        };
        if ctx.grant.status.is_live() && !ctx.must_end(state.now()) {
            return Ok(());
        }
        let (c, target) = connector(state, &t.target).map_err(|e| e.to_string())?;
        c.drop_member(&target, &t.db_role_name, login)
            .await
            .map_err(|e| e.to_string())?;
        if let Err(e) = c.end_sessions(&target, login).await {
            tracing::warn!(grant_id, error = %e, "ending sessions after undoing a late add failed");
        }
        let now = state.now();
        let mut tx = state.store.begin_write().await.map_err(|e| e.to_string())?;
        audit::write(
            &mut tx.db(),
            Event::new("late_add_undone", &Actor::system("provisioning")).grant(grant_id).details(json!({
                "db_role_id": t.db_role_id, "db_role_name": t.db_role_name, "target_id": t.target.id,
            })),
            now,
        )
        .await
        .map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())
    }
    .await;
    if let Err(e) = r {
        tracing::warn!(grant_id, error = %e, "undoing an add that landed after the lease was lost failed; reconciliation reports it");
    }
}

/// Reconciliation's repair of a missing membership: under the grant's lease, and only while
/// the grant still requires it (active, not due, no end pending, user active, role enabled,
/// db role grantable). `None` when it was not attempted (lease busy or no longer required).
pub async fn readd(
    state: &AppState,
    grant_id: i64,
    db_role_id: i64,
) -> Result<Option<Result<(), String>>, StoreError> {
    let Some(lease) = Lease::acquire(state, grant_id).await? else {
        return Ok(None);
    };
    let r = readd_leased(state, &lease, grant_id, db_role_id).await;
    lease.release(state).await;
    r
}

async fn readd_leased(
    state: &AppState,
    lease: &Lease,
    grant_id: i64,
    db_role_id: i64,
) -> Result<Option<Result<(), String>>, StoreError> {
    let Some(ctx) = load_ctx(state, grant_id).await? else {
        return Ok(None);
    };
    let now = state.now();
    let wanted = ctx.grant.status == GrantStatus::Active && !ctx.must_end(now) && {
        let mut c = state.store.conn().await?;
        grant_store::is_entitled(
            &mut crate::store::Db::new(&mut c, state.store.dialect()),
            grant_id,
        )
        .await?
    };
    let Some(t) = ctx
        .targets
        .iter()
        .find(|t| t.db_role_id == db_role_id && t.grantable)
    else {
        return Ok(None);
    };
    if !wanted {
        return Ok(None);
    }
    let r = add_one(state, t, &t.principal).await;
    let Some(mut tx) = lease.begin(state, grant_id).await? else {
        if r.is_ok() {
            undo_late_add(state, grant_id, t, &t.principal).await;
        }
        return Ok(None);
    };
    grant_store::record_add(
        &mut tx.db(),
        grant_id,
        db_role_id,
        &t.principal,
        r.clone(),
        state.now(),
    )
    .await?;
    let ending = grant_store::is_ending(&mut tx.db(), grant_id, state.now()).await?;
    tx.commit().await?;
    if ending {
        // Ended while the re-add was in flight: the end wins, now.
        super::drive(state, lease, grant_id).await?;
    }
    Ok(Some(r))
}
