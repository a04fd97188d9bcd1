//! The grant lifecycle: the only code that changes access on a target.
//!
//! Rules (ARCHITECTURE.md states them for reviewers):
//! - Every add, drop and session end for a grant happens while this process holds the grant's
//!   lease ([`lease::Lease`]), and every record of such an effect is written in a transaction
//!   fenced by that lease. A holder that lost its lease records nothing.
//! - Ending wins. A decision to end a grant (expiry, revoke, deactivation, a disabled role, a
//!   db role taken off the whitelist, failed provisioning) is recorded first (`pending_end`,
//!   or `valid_to_utc` passing) and needs no lease; whoever holds the lease then removes the
//!   access. An add that completes after that decision is undone by its own holder before it
//!   lets go ([`drive`] re-reads the grant after every add).
//! - A grant is shown ended only after every target confirmed the removal; a failed removal is
//!   retried with backoff and flagged `revoke_failed`, never hidden.
//! - Only JIT-managed db roles on enabled targets are added; an optional db role (mapping
//!   `is_required = false`) that fails does not hold the grant back.

mod end;
pub mod lease;
mod provision;

use std::time::Duration;

use chrono::{DateTime, Utc};
use jitea_shared::*;
use rand::Rng;
use serde_json::json;

use crate::error::{ApiError, ApiResult};
use crate::provision::{Connector, ConnectorError, TargetRef};
use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};
use crate::store::grants::{
    self as grant_store, AssignmentTarget, NewGrant, PendingEnd, TargetAddr,
};
use crate::store::{sessions, users, Db, StoreError};

pub use end::{
    end_sessions, lookup_claimed, record_removed, remove_looked, remove_unexplained, EndError,
    Looked, Phases, Removed, SessionsToEnd, Unexplained,
};
pub use lease::Lease;
pub use provision::readd;

/// Provisioning attempts before a grant is given up as `failed` (its partial memberships are
/// then removed).
pub const PROVISION_ATTEMPTS: i64 = 5;
/// Failed removal attempts after which a grant is flagged `revoke_failed` (it keeps being
/// retried).
pub const REVOKE_FLAG_AFTER: i64 = 3;
/// How long an HTTP call that ends or provisions a grant waits for another holder of the
/// grant's lease (a provisioning in flight, the engine) to finish.
pub const SETTLE_WAIT: Duration = Duration::from_secs(10);

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

/// The connector and connection reference for a target.
fn connector(
    state: &AppState,
    t: &TargetAddr,
) -> Result<(std::sync::Arc<dyn Connector>, TargetRef), ConnectorError> {
    let c = state.connectors.for_kind(t.kind)?;
    Ok((
        c,
        TargetRef {
            id: t.id,
            kind: t.kind,
            url_env: t.url_env.clone(),
            settings: t.settings.clone(),
            principal_from: t.principal_from,
        },
    ))
}

/// A user's principal on a target, refused when empty (a target naming principals by email,
/// and a user without one): no connector is ever asked to add or drop nobody.
fn principal(p: &str) -> Result<&str, String> {
    if p.trim().is_empty() {
        return Err(
            "no principal: the user has no email address or mapped principal, which this target names people by"
                .into(),
        );
    }
    Ok(p)
}

/// A grant just inserted, held under the lease its inserting transaction took (unless it is
/// scheduled to start later); hand it to [`provision`] once that transaction has committed.
#[must_use = "a new grant is provisioned with `provision` after its transaction commits"]
pub struct Issued {
    pub id: i64,
    /// `None` for a scheduled grant: nobody holds it until the engine claims it at its start.
    lease_id: Option<String>,
    valid_from: DateTime<Utc>,
}

/// Inserts the grant for an approved request, with one pending assignment per mapped db role
/// that may be granted (JIT-managed, on an enabled target); the others are left out and the
/// audit row says which and why (`grantable`, from `store::grants::grantable_db_roles`).
/// Returns that `grant_created` audit event for the caller to write in the same transaction
/// (with its own events, as one insert). The grant is inserted under a lease of this process (`owner`),
/// so provisioning it right after the commit needs no separate lease transaction.
#[allow(clippy::too_many_arguments)]
pub async fn create_in_tx<'a>(
    db: &mut Db<'_>,
    owner: &str,
    actor: &'a Actor,
    request_id: i64,
    user: &User,
    role: &Role,
    duration_minutes: i64,
    start: Option<DateTime<Utc>>,
    (db_roles, skipped): grant_store::Grantable,
    now: DateTime<Utc>,
) -> Result<(Issued, Event<'a>), StoreError> {
    let (from, to) = crate::domain::duration::scheduled_window(now, start, duration_minutes);
    let lease_id = (from <= now).then(|| lease::new_lease_id(owner));
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
        lease_id.as_deref().map(|l| (l, lease::lease_until(now))),
        now,
    )
    .await?;
    let skipped: Vec<_> = skipped
        .iter()
        .map(|(id, name, why)| json!({"db_role_id": id, "db_role_name": name, "reason": why}))
        .collect();
    let created = Event::new("grant_created", actor).user(user.id).request(request_id).grant(id).details(json!({
        "role_id": role.id, "role_name": role.role_name, "valid_from_utc": from, "valid_to_utc": to,
        "db_role_ids": db_roles, "skipped_db_roles": skipped,
    }));
    Ok((
        Issued {
            id,
            lease_id,
            valid_from: from,
        },
        created,
    ))
}

/// A grant with the db roles it provisions, as loaded for one step of its lifecycle.
struct GrantCtx {
    grant: Grant,
    targets: Vec<AssignmentTarget>,
}

impl GrantCtx {
    /// Whether the grant must end now: due, or an end is pending.
    fn must_end(&self, now: DateTime<Utc>) -> bool {
        self.grant.status.is_live()
            && (self.grant.pending_end.is_some() || self.grant.valid_to_utc <= now)
    }

    fn assignment(&self, db_role_id: i64) -> Option<&GrantAssignment> {
        self.grant
            .assignments
            .iter()
            .find(|a| a.db_role_id == db_role_id)
    }

    /// Db roles still to add: grantable, not confirmed added.
    fn to_add(&self) -> impl Iterator<Item = &AssignmentTarget> {
        self.targets.iter().filter(|t| {
            self.assignment(t.db_role_id)
                .is_none_or(|a| a.add_succeeded != Some(true))
        })
    }
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

/// What driving a grant under its lease achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Driven {
    /// Nothing left to do now (active with everything in place, or already ended).
    Settled,
    /// A target refused or was unreachable; a retry is scheduled.
    Retrying(String),
}

/// Moves one leased grant as far as it can go: ends it if it must end (due, or an end is
/// pending), else adds what is missing and activates it. After every add it re-reads the
/// grant, so an end decided while the add was in flight is carried out at once, by the same
/// holder, before the lease is let go.
pub async fn drive(state: &AppState, lease: &Lease, grant_id: i64) -> Result<Driven, StoreError> {
    loop {
        let Some(ctx) = load_ctx(state, grant_id).await? else {
            return Ok(Driven::Settled);
        };
        if !ctx.grant.status.is_live() {
            return Ok(Driven::Settled);
        }
        if ctx.must_end(state.now()) {
            return match end::end_or_retry(state, lease, grant_id, &Default::default()).await {
                Ok(_) => Ok(Driven::Settled),
                Err(EndError::Target(m)) => Ok(Driven::Retrying(m)),
                Err(EndError::LeaseLost) => Ok(Driven::Settled),
                Err(EndError::Store(e)) => Err(StoreError::Internal(e)),
            };
        }
        let retrying_optional =
            ctx.grant.status == GrantStatus::Active && ctx.grant.next_attempt_utc.is_some();
        if ctx.grant.status != GrantStatus::Provisioning && !retrying_optional {
            return Ok(Driven::Settled);
        }
        match provision::add_missing(state, lease, &ctx).await? {
            provision::Added::EndingNow => continue,
            provision::Added::LeaseLost => return Ok(Driven::Settled),
            provision::Added::Done { retry_at } => {
                // The engine plans its wake-ups from the store; it needs a nudge only when
                // this grant's end or retry comes before the wake-up it planned.
                state.expiry_wake.before(ctx.grant.valid_to_utc);
                if let Some(at) = retry_at {
                    state.expiry_wake.before(at);
                }
                return Ok(Driven::Settled);
            }
            provision::Added::Failed(e) => {
                if provision::failed(state, lease, grant_id, &e).await? {
                    // Provisioning was given up: remove what was added, now.
                    continue;
                }
                return Ok(Driven::Retrying(e));
            }
        }
    }
}

/// Takes the grant's lease (waiting up to `wait` for another holder) and drives it. Returns
/// `None` when the lease could not be had in time: its holder will finish the work.
pub async fn settle(
    state: &AppState,
    grant_id: i64,
    wait: Duration,
) -> Result<Option<Driven>, StoreError> {
    let Some(lease) = Lease::acquire_within(state, grant_id, wait).await? else {
        return Ok(None);
    };
    drive_held(state, lease, grant_id).await.map(Some)
}

/// Drives a grant under a lease this caller holds, then gives the lease back.
async fn drive_held(state: &AppState, lease: Lease, grant_id: i64) -> Result<Driven, StoreError> {
    let r = drive(state, &lease, grant_id).await;
    lease.release(state).await;
    if !matches!(r, Ok(Driven::Settled)) {
        // A retry is scheduled: let the engine plan it.
        state.expiry_wake.now();
    }
    r
}

/// Provisions a grant right after the transaction that issued it committed, under the lease
/// it was inserted with. Failures are scheduled for retry by the engine instead of being
/// returned (the request itself has succeeded).
pub async fn provision(state: &AppState, issued: Issued) {
    let grant_id = issued.id;
    let Some(lease_id) = issued.lease_id else {
        // Scheduled: the engine claims it at its start.
        state.expiry_wake.before(issued.valid_from);
        return;
    };
    let lease = Lease::adopt_single(state, lease_id);
    if let Err(e) = drive_held(state, lease, grant_id).await {
        tracing::warn!(grant_id, error = %e, "provisioning did not complete; the engine retries it")
    }
}

/// One engine step for a grant it claimed (the claim holds the lease under `lease`).
pub async fn drive_claimed(
    state: &AppState,
    lease: &Lease,
    grant_id: i64,
) -> Result<(), StoreError> {
    let r = drive(state, lease, grant_id).await;
    lease.release_one(state, grant_id).await?;
    r.map(|_| ())
}

/// Records that a live grant must be revoked (audited); the lease holder carries it out.
/// Returns false when the grant is not live or an end is already pending.
pub(crate) async fn request_revoke_in_tx(
    db: &mut Db<'_>,
    by: &Actor,
    grant_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    if !grant_store::request_end(db, grant_id, PendingEnd::Revoke, by.user_id, reason, now).await? {
        return Ok(false);
    }
    let g = grant_store::get_by_id(db, grant_id).await?;
    audit::write(
        db,
        Event::new("grant_revoke_requested", by)
            .grant(grant_id)
            .user(g.as_ref().map(|g| g.user_id).unwrap_or_default())
            .request_opt(g.and_then(|g| g.request_id))
            .details(json!({"reason": reason})),
        now,
    )
    .await?;
    Ok(true)
}

/// Admin revoke with a reason — `sp_Grant_Revoke`. The decision is recorded first, so that if
/// a target is down (or a provisioning call is still in flight) the removal still happens;
/// then the grant is driven to its end under its lease. Revoking an already revoked grant is
/// an idempotent success. Returns the grant and whether the removal is complete.
pub async fn revoke(
    state: &AppState,
    admin: &User,
    grant_id: i64,
    reason: &str,
) -> ApiResult<(Grant, bool)> {
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
        return Ok((current, true));
    }
    if !current.status.is_live() {
        return Err(ApiError::conflict(
            "grant_not_active",
            format!("the grant is already {}", current.status),
        )
        .with_details(json!({"grant_id": grant_id, "status": current.status})));
    }
    let by = Actor::user(admin.id, &admin.login_name);
    let now = state.now();
    let mut tx = state.store.begin_write().await?;
    request_revoke_in_tx(&mut tx.db(), &by, grant_id, reason, now).await?;
    tx.commit().await?;
    carry_out_revoke(state, grant_id).await
}

/// After a revoke was recorded (`request_revoke_in_tx`, committed): drives the grant to its
/// end under its lease. Returns the grant and whether the removal is complete.
pub(crate) async fn carry_out_revoke(state: &AppState, grant_id: i64) -> ApiResult<(Grant, bool)> {
    match settle(state, grant_id, SETTLE_WAIT).await? {
        Some(Driven::Retrying(msg)) => Err(ApiError::new(502, "target_error", "access could not be removed on every target yet; JITEA keeps retrying and the grant shows revoke_failed if it persists")
            .with_details(json!({"grant_id": grant_id, "error": msg}))),
        Some(Driven::Settled) => {
            let g = get(state, grant_id).await?;
            let done = !g.status.is_live();
            Ok((g, done))
        }
        None => Ok((get(state, grant_id).await?, false)),
    }
}

/// Deactivates a user in one transaction: the user becomes inactive, every live grant of
/// theirs moves to ending and every pending request is cancelled, all audited. The targets
/// are then cleaned under each grant's lease; what a target does not confirm now is retried
/// by the engine (which also ends any live grant of an inactive user it finds, so a crash
/// right after the commit cannot leave access behind). Returns the user and the grants whose
/// removal is not confirmed yet.
pub async fn deactivate_user(
    state: &AppState,
    by: &Actor,
    user_id: i64,
) -> Result<Option<(User, Vec<i64>)>, StoreError> {
    let now = state.now();
    let mut tx = state.store.begin_write().await?;
    let mut db = tx.db();
    let Some(before) = users::get_by_id(&mut db, user_id).await? else {
        return Ok(None);
    };
    let live = grant_store::live_ids_for_user(&mut db, user_id).await?;
    if before.is_active {
        users::set_active(&mut db, user_id, false, &by.login_name, now).await?;
        // Every token the user holds stops working with this commit.
        sessions::bump_epoch(&mut db, user_id, now).await?;
        audit::write(
            &mut db,
            Event::new("user_deactivated", by)
                .user(user_id)
                .details(json!({"live_grant_ids": live})),
            now,
        )
        .await?;
        crate::workflow::requests::cancel_pending_in_tx(&mut db, by, user_id, now).await?;
    }
    for g in &live {
        request_revoke_in_tx(&mut db, by, *g, "user deactivated", now).await?;
    }
    tx.commit().await?;
    let mut pending = Vec::new();
    for g in live {
        // A grant whose lease is busy is ended by its holder; only refusals are reported.
        if let Some(Driven::Retrying(_)) = settle(state, g, SETTLE_WAIT).await? {
            pending.push(g);
        }
    }
    let mut c = state.store.conn().await?;
    let u = users::get_by_id(&mut Db::new(&mut c, state.store.dialect()), user_id).await?;
    Ok(u.map(|u| (u, pending)))
}

/// The engine's sweep: marks for ending every live grant whose user is inactive, whose role
/// is disabled or one of whose db roles is no longer JIT-managed (audited with the reason).
/// Returns how many it marked.
pub async fn end_by_policy(state: &AppState) -> Result<usize, StoreError> {
    let found = {
        let mut c = state.store.conn().await?;
        grant_store::policy_endings(&mut Db::new(&mut c, state.store.dialect())).await?
    };
    if found.is_empty() {
        return Ok(0);
    }
    let now = state.now();
    let by = Actor::system("policy");
    let mut tx = state.store.begin_write().await?;
    let mut db = tx.db();
    let mut n = 0;
    for (id, reason) in &found {
        if request_revoke_in_tx(&mut db, &by, *id, reason, now).await? {
            n += 1;
        }
    }
    tx.commit().await?;
    Ok(n)
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
