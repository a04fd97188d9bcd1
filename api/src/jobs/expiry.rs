//! The expiry engine. It knows the next instant it has work (the earliest `valid_to_utc` of a
//! live grant, a scheduled retry, the start of a scheduled grant, or a pending request's
//! approval window closing), sleeps until then, and is woken early when a grant
//! issued, extended or revoked in this process has work before that instant
//! (`state::ExpiryWake`); it never sleeps longer than
//! `JITEA_EXPIRY_INTERVAL_SECS` (default 1 s), so work created by another process on the same
//! database is picked up within that bound.
//!
//! Work is claimed with a lease (`lease_owner`, `lease_until_utc`) through a claim that skips
//! rows another process holds, so several `jitea serve` processes on one PostgreSQL or SQL
//! Server database end each grant exactly once. Claimed grants are processed concurrently.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use jitea_shared::JobRun;
use serde_json::json;
use tokio::sync::watch;

use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};
use crate::store::grants as grant_store;
use crate::store::requests as req_store;
use crate::store::{Db, StoreError};
use crate::workflow::grants::{self as lifecycle, lease, Lease};
use crate::workflow::{reminders, undecided};

/// Claimed batches whose memberships are removed before their bookkeeping starts; bounds how
/// much work one pass holds leases on.
const MAX_HELD_BATCHES: usize = 10;
/// Batches whose bookkeeping transactions run at once.
const RECORD_CONCURRENCY: usize = 3;
/// Grants provisioned side by side by one engine pass (scheduled starts, retries).
const PROVISION_CONCURRENCY: usize = 16;

fn ms(t: Instant) -> u64 {
    t.elapsed().as_millis() as u64
}

/// A name for this process's leases.
pub fn owner_id() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());
    format!(
        "{host}:{}:{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

/// One pass "as of" `now`: marks for ending the live grants that policy no longer allows
/// (inactive user, disabled role, db role off the whitelist), ends every grant that is due or
/// has a pending end, then retries provisioning that is due. Loops until no claimable work is
/// left. All target work goes through the grant lifecycle under the claimed leases.
pub async fn run_once(
    state: &AppState,
    owner: &str,
    now: DateTime<Utc>,
) -> Result<JobRun, StoreError> {
    let mut run = JobRun {
        job: "expiry".into(),
        ..Default::default()
    };
    let mut phases = lifecycle::Phases::default();
    let t = Instant::now();
    lifecycle::end_by_policy(state).await?;
    phases.policy_ms = ms(t);
    loop {
        let removed = remove_batches(state, owner, now, &mut phases).await?;
        if removed.is_empty() {
            break;
        }
        // Then the bookkeeping, a few batches at once, each in its own fenced transaction.
        let done: Vec<(i64, i64, lifecycle::Phases)> = futures_util::stream::iter(removed)
            .map(|(held, batch)| async move {
                let mut p = lifecycle::Phases::default();
                let (ended, failed) = lifecycle::record_removed(state, &held, &batch, &mut p).await;
                let t = Instant::now();
                held.release(state).await;
                p.release_ms += ms(t);
                (ended, failed, p)
            })
            .buffer_unordered(RECORD_CONCURRENCY)
            .collect()
            .await;
        for (ended, failed, p) in done {
            run.processed += ended;
            run.failed += failed;
            phases.add(&p);
        }
    }
    // Pending requests whose approval window closed (after the endings, so an extension
    // of a grant that just ended is reported as lapsed with its grant, not as undecided).
    if let Err(e) = undecided::expire_undecided(state, now).await {
        tracing::warn!(error = %e, "expiring undecided requests failed; the next pass retries");
    }
    // Holders of grants ending within the reminder lead time are told, once per end.
    if let Err(e) = reminders::remind_due(state, now).await {
        tracing::warn!(error = %e, "expiry reminders failed; the next pass retries");
    }
    loop {
        let lease_id = lease::new_lease_id(owner);
        let ids = {
            let mut c = state.store.conn().await?;
            grant_store::claim_provisioning(
                &mut Db::new(&mut c, state.store.dialect()),
                &lease_id,
                now,
                lease::lease_until(state.now()),
                state.config.expiry_batch,
            )
            .await?
        };
        if ids.is_empty() {
            break;
        }
        let held = Lease::adopt(state, lease_id);
        // Several at once: scheduled grants starting in the same instant are added on their
        // targets side by side, not one after the other (each is its own fenced transaction).
        let held_ref = &held;
        futures_util::stream::iter(ids)
            .for_each_concurrent(PROVISION_CONCURRENCY, |id| async move {
                if let Err(e) = lifecycle::drive_claimed(state, held_ref, id).await {
                    tracing::warn!(grant_id = id, error = %e, "provisioning retry failed");
                }
            })
            .await;
        held.release(state).await;
    }
    if run.processed > 0 || run.failed > 0 {
        let mut tx = state.store.begin_write().await?;
        audit::write(
            &mut tx.db(),
            Event::new("expiry_job_run", &Actor::system("expiry"))
                .details(json!({"ended": run.processed, "failed": run.failed, "as_of": now, "phases": phases})),
            state.now(),
        )
        .await?;
        tx.commit().await?;
    }
    Ok(run)
}

/// Claims the next batch of grants to end (under a lease of its own, renewed from now on) and
/// loads its assignments; `None` when nothing is left to claim.
async fn claim_next(
    state: &AppState,
    owner: &str,
    now: DateTime<Utc>,
    phases: &mut lifecycle::Phases,
) -> Result<Option<(Lease, lifecycle::Looked)>, StoreError> {
    let lease_id = lease::new_lease_id(owner);
    let t = Instant::now();
    let ids = {
        let mut c = state.store.conn().await?;
        let clock = state.now();
        grant_store::claim_endings(
            &mut Db::new(&mut c, state.store.dialect()),
            &lease_id,
            now,
            clock,
            lease::lease_until(clock),
            state.config.expiry_batch,
        )
        .await?
    };
    phases.claim_ms += ms(t);
    if ids.is_empty() {
        return Ok(None);
    }
    let held = Lease::adopt(state, lease_id);
    let looked = lifecycle::lookup_claimed(state, &held, ids, phases).await;
    Ok(Some((held, looked)))
}

/// Targets first: claims and removes batch after batch (up to `MAX_HELD_BATCHES`), so the last
/// membership of a mass expiry is not held up by the bookkeeping of the batches before it.
/// The steps are pipelined: while one batch's memberships are removed, the next batch is
/// claimed and looked up and the previous batch's logins have their sessions ended, so the
/// removals follow each other without waiting for the store. Returns the removed batches,
/// each with the lease that holds it, for `record_removed`.
async fn remove_batches(
    state: &AppState,
    owner: &str,
    now: DateTime<Utc>,
    phases: &mut lifecycle::Phases,
) -> Result<Vec<(Lease, lifecycle::Removed)>, StoreError> {
    let mut removed = Vec::new();
    let mut sessions = lifecycle::SessionsToEnd::default();
    let mut next = claim_next(state, owner, now, phases).await?;
    while let Some((held, looked)) = next.take() {
        let more = removed.len() + 1 < MAX_HELD_BATCHES;
        let (mut p_remove, mut p_next, mut p_sessions) = Default::default();
        let previous = std::mem::take(&mut sessions);
        let ((batch, ended), claimed, ()) = tokio::join!(
            lifecycle::remove_looked(state, looked, &mut p_remove),
            async {
                if more {
                    claim_next(state, owner, now, &mut p_next).await
                } else {
                    Ok(None)
                }
            },
            lifecycle::end_sessions(state, previous, &mut p_sessions),
        );
        for p in [&p_remove, &p_next, &p_sessions] {
            phases.add(p);
        }
        sessions = ended;
        removed.push((held, batch));
        next = claimed.unwrap_or_else(|e| {
            // The batches removed so far are still recorded; the next pass claims the rest.
            tracing::warn!(error = %e, "claiming the next batch to end failed");
            None
        });
    }
    lifecycle::end_sessions(state, sessions, phases).await;
    Ok(removed)
}

/// The earliest instant the engine has work: a grant's end, retry or scheduled start, or an
/// approval window closing.
async fn next_work(db: &mut Db<'_>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let grants = grant_store::next_wakeup(db, now).await.ok().flatten();
    let windows = req_store::next_window_close(db).await.ok().flatten();
    match (grants, windows) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Runs until `shutdown` turns true. The first pass (catch-up after downtime) is expected to
/// have been run by the caller before serving.
pub async fn run(state: AppState, owner: String, mut shutdown: watch::Receiver<bool>) {
    let max_sleep = Duration::from_secs(state.config.expiry_interval_secs);
    loop {
        let now = state.now();
        if let Err(e) = run_once(&state, &owner, now).await {
            tracing::warn!(error = %e, "expiry pass failed; retrying");
        }
        state.expiry_wake.planning();
        let next = match state.store.conn().await {
            Ok(mut c) => next_work(&mut Db::new(&mut c, state.store.dialect()), state.now()).await,
            Err(_) => None,
        };
        let now = state.now();
        let sleep = match next {
            Some(t) if t <= now => Duration::from_millis(20),
            Some(t) => (t - now).to_std().unwrap_or(max_sleep).min(max_sleep),
            None => max_sleep,
        };
        state
            .expiry_wake
            .planned(now + chrono::Duration::from_std(sleep).unwrap_or_default());
        tokio::select! {
            _ = tokio::time::sleep(sleep) => {}
            _ = state.expiry_wake.notified() => {}
            _ = shutdown.changed() => {
                if *shutdown.borrow() { break; }
            }
        }
    }
}
