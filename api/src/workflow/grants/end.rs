//! Removing access: the end half of a grant's lifecycle (expiry, revoke, failed
//! provisioning), always under the grant's lease. Memberships are dropped and sessions ended
//! first; only when every target confirmed is the grant marked ended, in a transaction fenced
//! by the lease.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use jitea_shared::*;
use serde_json::json;

use super::{after, backoff, connector, load_ctx, Lease, REVOKE_FLAG_AFTER};
use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};
use crate::store::grants::{self as grant_store, AssignmentTarget, PendingEnd, TargetAddr};
use crate::store::{outbox, requests as req_store, users, Db, StoreError};
use crate::workflow::undecided;

/// Grants whose bookkeeping runs at once in one process.
const CONCURRENCY: usize = 32;

/// Where the expiry engine's time went, in milliseconds, summed over the batches of one pass
/// (reported in the `expiry_job_run` audit event, read by the revocation benchmark).
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct Phases {
    /// Batches claimed.
    pub batches: u64,
    /// Grants that needed the one-by-one path (pending revokes, failures, partial removals).
    pub one_by_one: u64,
    pub policy_ms: u64,
    pub claim_ms: u64,
    /// Loading the batch's assignments (db roles, targets, logins).
    pub lookup_ms: u64,
    /// Removing memberships on the targets.
    pub remove_ms: u64,
    /// Ending the removed logins' sessions.
    pub sessions_ms: u64,
    /// The batched bookkeeping transaction.
    pub record_ms: u64,
    pub one_by_one_ms: u64,
    pub release_ms: u64,
}

impl Phases {
    /// Adds another batch's figures.
    pub fn add(&mut self, o: &Phases) {
        self.batches += o.batches;
        self.one_by_one += o.one_by_one;
        self.policy_ms += o.policy_ms;
        self.claim_ms += o.claim_ms;
        self.lookup_ms += o.lookup_ms;
        self.remove_ms += o.remove_ms;
        self.sessions_ms += o.sessions_ms;
        self.record_ms += o.record_ms;
        self.one_by_one_ms += o.one_by_one_ms;
        self.release_ms += o.release_ms;
    }
}

/// Milliseconds since `t`.
pub(crate) fn ms_since(t: std::time::Instant) -> u64 {
    t.elapsed().as_millis() as u64
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
    /// The lease was lost: another holder carries the end out.
    LeaseLost,
    Store(String),
}

impl From<StoreError> for EndError {
    fn from(e: StoreError) -> Self {
        EndError::Store(e.to_string())
    }
}

/// Drops one membership and, when that worked, ends the login's sessions (a session that
/// switched to the role keeps its privileges until it ends).
async fn drop_one(
    state: &AppState,
    target: &TargetAddr,
    db_role: &str,
    login: &str,
) -> Result<(), String> {
    if login.trim().is_empty() {
        // No principal now and none recorded by an add attempt (`store::grants::PRINCIPAL`):
        // the access was never given to anyone, so there is nothing to remove.
        return Ok(());
    }
    let (c, t) = connector(state, target).map_err(|e| e.to_string())?;
    c.drop_member(&t, db_role, login)
        .await
        .map_err(|e| e.to_string())?;
    if let Err(e) = c.end_sessions(&t, login).await {
        tracing::warn!(error = %e, "ending sessions failed");
    }
    Ok(())
}

/// Ends a live grant that is due or has a pending end: drops every membership not confirmed
/// dropped (even one whose add was never recorded: a crash between the target's GRANT and our
/// record leaves exactly that, and dropping a non-member is a no-op), records and audits each
/// drop, and only then marks the grant (and its request) expired, revoked or failed. The db
/// roles in `predropped` were already removed by the engine's batch. Returns false when there
/// was nothing to do.
async fn end_with(
    state: &AppState,
    lease: &Lease,
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
        if ctx
            .assignment(t.db_role_id)
            .is_some_and(|a| a.drop_succeeded == Some(true))
        {
            continue;
        }
        if lease.is_lost() {
            return Err(EndError::LeaseLost);
        }
        let r = if predropped.contains(&t.db_role_id) {
            Ok(())
        } else {
            drop_one(state, &t.target, &t.db_role_name, &t.principal).await
        };
        drops.push((t, r, state.now()));
    }

    // Every drop is recorded and audited; when all succeeded the grant's end is written in the
    // same transaction.
    let now = state.now();
    let Some(mut tx) = lease.begin(state, grant_id).await? else {
        return Err(EndError::LeaseLost);
    };
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
    let moved = mark_ended(&mut db, &ctx.grant, &ending, &actor, now).await?;
    tx.commit().await?;
    Ok(moved)
}

/// Writes a grant's end (status, request, audit, outbox). Returns false when another process
/// ended it first.
async fn mark_ended(
    db: &mut Db<'_>,
    g: &Grant,
    ending: &Ending,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let live = [GrantStatus::Active, GrantStatus::Provisioning];
    let (moved, req_status, event, topic, details) = match ending {
        Ending::Expired => (
            grant_store::transition(db, g.id, &live, GrantStatus::Expired, None, now).await?,
            RequestStatus::Expired,
            "grant_expired",
            "grant.expired",
            json!({"valid_to_utc": g.valid_to_utc, "lag_ms": (now - g.valid_to_utc).num_milliseconds()}),
        ),
        Ending::Revoked { by, reason } => (
            grant_store::mark_revoked(db, g.id, by.user_id, reason, now).await?,
            RequestStatus::Revoked,
            "grant_revoked",
            "grant.revoked",
            json!({"reason": reason}),
        ),
        Ending::Failed { reason } => (
            grant_store::transition(db, g.id, &live, GrantStatus::Failed, Some(reason), now)
                .await?,
            RequestStatus::Revoked,
            "grant_failed",
            "grant.failed",
            json!({"reason": reason}),
        ),
    };
    if !moved {
        return Ok(false);
    }
    if let Some(rid) = g.request_id {
        req_store::transition(
            db,
            rid,
            &[RequestStatus::Approved, RequestStatus::AutoApproved],
            req_status,
            &actor.login_name,
            now,
        )
        .await?;
    }
    audit::write(
        db,
        Event::new(event, actor)
            .user(g.user_id)
            .grant(g.id)
            .request_opt(g.request_id)
            .details(details),
        now,
    )
    .await?;
    outbox::enqueue(
        db,
        topic,
        &json!({"grant_id": g.id, "user_id": g.user_id}),
        now,
    )
    .await?;
    undecided::lapse_in_tx(db, &[g.id], actor, now).await?;
    Ok(true)
}

/// `end_with`, and on a target failure: count the attempt, schedule a retry with backoff, and
/// flag the grant `revoke_failed` (audited once) when it keeps failing.
pub(super) async fn end_or_retry(
    state: &AppState,
    lease: &Lease,
    grant_id: i64,
    predropped: &HashSet<i64>,
) -> Result<bool, EndError> {
    let msg = match end_with(state, lease, grant_id, predropped).await {
        Err(EndError::Target(msg)) => msg,
        other => return other,
    };
    let now = state.now();
    let Some(mut tx) = lease.begin(state, grant_id).await? else {
        return Err(EndError::LeaseLost);
    };
    let mut db = tx.db();
    let Some(before) = grant_store::get_by_id(&mut db, grant_id).await? else {
        return Err(EndError::Target(msg));
    };
    let flag = before.attempts + 1 >= REVOKE_FLAG_AFTER;
    let attempts = grant_store::record_failure(
        &mut db,
        grant_id,
        &format!("removing access failed, will retry: {msg}"),
        after(
            now,
            backoff(before.attempts + 1, state.config.retry_base_ms),
        ),
        flag,
        now,
    )
    .await?;
    if flag && !before.revoke_failed {
        audit::write(
            &mut db,
            Event::new("grant_revoke_failed", &Actor::system("expiry"))
                .user(before.user_id)
                .grant(grant_id)
                .request_opt(before.request_id)
                .details(json!({"attempts": attempts, "error": msg})),
            now,
        )
        .await?;
        // Admins are told (notifications); the target's error text stays in the audit row.
        outbox::enqueue(
            &mut db,
            "grant.revoke_failed",
            &json!({"grant_id": grant_id, "user_id": before.user_id, "request_id": before.request_id, "attempts": attempts}),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Err(EndError::Target(msg))
}

/// (grant id, db role id, login) of one membership to remove.
type Member = (i64, i64, String);

/// A claimed batch with its assignment rows loaded (db roles, targets, logins): ready to have
/// its memberships removed.
pub struct Looked {
    ids: Vec<i64>,
    rows: Vec<grant_store::BatchAssignment>,
}

/// Logins whose memberships a batch removed, per target: their sessions end next.
#[derive(Default)]
pub struct SessionsToEnd(HashMap<TargetAddr, Vec<String>>);

/// Loads the assignment rows of a batch claimed under `lease`. A failed load leaves the batch
/// with no rows: every grant of it then goes the one-by-one path.
pub async fn lookup_claimed(
    state: &AppState,
    lease: &Lease,
    ids: Vec<i64>,
    phases: &mut Phases,
) -> Looked {
    let t = std::time::Instant::now();
    let rows = async {
        let mut c = state.store.conn().await?;
        grant_store::assignments_held(&mut Db::new(&mut c, state.store.dialect()), lease.id()).await
    }
    .await
    .unwrap_or_else(|e| {
        tracing::warn!(error = %e, "loading batch assignments failed");
        Vec::new()
    });
    phases.lookup_ms += ms_since(t);
    Looked { ids, rows }
}

/// The target half of the engine's work on a batch of grants it claimed for ending (all held
/// under one lease): removes the memberships of the whole batch with one batched call per
/// target role. Nothing is recorded yet: `record_removed` does that, so the engine can remove
/// the next batch's memberships before this batch's bookkeeping. Returns, with the batch, the
/// logins whose sessions must end (`end_sessions`); anything not confirmed removed here is
/// retried one by one by `record_removed`.
pub async fn remove_looked(
    state: &AppState,
    looked: Looked,
    phases: &mut Phases,
) -> (Removed, SessionsToEnd) {
    phases.batches += 1;
    let t = std::time::Instant::now();
    let Looked { ids, rows } = looked;
    let mut done: HashMap<i64, HashSet<i64>> = HashMap::new();
    let mut groups: HashMap<(TargetAddr, String), Vec<Member>> = HashMap::new();
    for a in rows.iter().filter(|a| a.drop_succeeded != Some(true)) {
        if a.principal.trim().is_empty() {
            // Never added to anyone (see `drop_one`): nothing to remove.
            done.entry(a.grant_id).or_default().insert(a.db_role_id);
            continue;
        }
        groups
            .entry((a.target.clone(), a.db_role_name.clone()))
            .or_default()
            .push((a.grant_id, a.db_role_id, a.principal.clone()));
    }
    let mut sessions = SessionsToEnd::default();
    for ((target, role), members) in groups {
        let Ok((connector, tref)) = connector(state, &target) else {
            continue;
        };
        let logins: Vec<String> = members.iter().map(|m| m.2.clone()).collect();
        let results = connector.drop_members(&tref, &role, &logins).await;
        for ((grant_id, db_role_id, login), r) in members.into_iter().zip(results) {
            if r.is_ok() {
                done.entry(grant_id).or_default().insert(db_role_id);
                sessions.0.entry(target.clone()).or_default().push(login);
            }
        }
    }
    phases.remove_ms += ms_since(t);
    let removed = Removed {
        ids,
        rows,
        predropped: done,
    };
    (removed, sessions)
}

/// Ends the sessions of logins a batch removed, one query per target. A failure is logged:
/// the memberships are gone either way, and reconciliation reports sessions left behind.
pub async fn end_sessions(state: &AppState, sessions: SessionsToEnd, phases: &mut Phases) {
    let t = std::time::Instant::now();
    for (target, mut logins) in sessions.0 {
        logins.sort();
        logins.dedup();
        if let Ok((c, tref)) = connector(state, &target) {
            if let Err(e) = c.end_sessions_many(&tref, &logins).await {
                tracing::warn!(error = %e, "ending sessions after batched removal failed");
            }
        }
    }
    phases.sessions_ms += ms_since(t);
}

/// Records, in one transaction fenced by the batch's lease, the plain expiry of every grant in
/// `ids` whose unconfirmed memberships were all removed by the batch (`predropped`): drops,
/// statuses, requests, audit and outbox rows. Returns the grants it ended; the rest (pending
/// revokes or failures, partial removals) go through `end_or_retry`.
async fn expire_batch(
    state: &AppState,
    lease: &Lease,
    ids: &[i64],
    rows: &[grant_store::BatchAssignment],
    predropped: &HashMap<i64, HashSet<i64>>,
) -> Result<HashSet<i64>, StoreError> {
    let mut by_grant: HashMap<i64, Vec<&grant_store::BatchAssignment>> = HashMap::new();
    for a in rows {
        by_grant.entry(a.grant_id).or_default().push(a);
    }
    let none = HashSet::new();
    let eligible: Vec<i64> = ids
        .iter()
        .copied()
        .filter(|id| {
            let done = predropped.get(id).unwrap_or(&none);
            by_grant
                .get(id)
                .into_iter()
                .flatten()
                .filter(|a| a.drop_succeeded != Some(true))
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
    let moved =
        grant_store::expire_many(&mut db, &eligible, lease.id(), &actor.login_name, now).await?;
    let mut events = Vec::new();
    let mut messages = Vec::new();
    for g in &moved {
        for a in by_grant.get(&g.id).into_iter().flatten().filter(|a| {
            predropped
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
    let ended: Vec<i64> = moved.iter().map(|g| g.id).collect();
    undecided::lapse_in_tx(&mut db, &ended, &actor, now).await?;
    tx.commit().await?;
    Ok(ended.into_iter().collect())
}

/// A claimed batch whose memberships the engine already tried to remove on the targets.
pub struct Removed {
    ids: Vec<i64>,
    rows: Vec<grant_store::BatchAssignment>,
    predropped: HashMap<i64, HashSet<i64>>,
}

/// The bookkeeping half: records the plain expiries of the batch together in one transaction
/// fenced by `lease`, and ends the rest one by one (pending revokes and failures, partial
/// removals, or everything when the batched transaction failed). Returns (ended, failed).
pub async fn record_removed(
    state: &AppState,
    lease: &Lease,
    removed: &Removed,
    phases: &mut Phases,
) -> (i64, i64) {
    let Removed {
        ids,
        rows,
        predropped,
    } = removed;
    let t = std::time::Instant::now();
    let batched = match expire_batch(state, lease, ids, rows, predropped).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "batched expiry bookkeeping failed; ending one by one");
            HashSet::new()
        }
    };
    phases.record_ms += ms_since(t);
    let t = std::time::Instant::now();
    let rest: Vec<i64> = ids
        .iter()
        .copied()
        .filter(|id| !batched.contains(id))
        .collect();
    phases.one_by_one += rest.len() as u64;
    let results: Vec<bool> = futures_util::stream::iter(rest)
        .map(|id| async move {
            let done = predropped.get(&id).cloned().unwrap_or_default();
            match end_or_retry(state, lease, id, &done).await {
                Ok(_) => true,
                Err(e) => {
                    tracing::warn!(grant_id = id, error = ?e, "ending a grant failed; it will be retried");
                    false
                }
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    phases.one_by_one_ms += ms_since(t);
    let ok = results.iter().filter(|ok| **ok).count() as i64;
    (batched.len() as i64 + ok, results.len() as i64 - ok)
}

/// What reconciliation's repair of an unexplained member did.
pub enum Unexplained {
    Removed,
    /// A live grant explains the member after all (it was issued meanwhile): left alone.
    Explained,
    Failed(String),
}

/// Reconciliation under `drift_policy: repair`: removes a member no live grant explains, and
/// ends its sessions. Re-checks right before removing, so a grant issued meanwhile keeps it.
pub async fn remove_unexplained(
    state: &AppState,
    target: &TargetAddr,
    db_role_id: i64,
    db_role: &str,
    login: &str,
) -> Result<Unexplained, StoreError> {
    let explained = {
        let mut c = state.store.conn().await?;
        grant_store::has_live_member(
            &mut Db::new(&mut c, state.store.dialect()),
            db_role_id,
            login,
        )
        .await?
    };
    if explained {
        return Ok(Unexplained::Explained);
    }
    Ok(match drop_one(state, target, db_role, login).await {
        Ok(()) => Unexplained::Removed,
        Err(e) => Unexplained::Failed(e),
    })
}
