//! The expiry engine. It knows the next instant it has work (the earliest `valid_to_utc` of a
//! live grant, or a scheduled retry), sleeps until then, and is woken early when a grant is
//! issued, extended or revoked in this process; it never sleeps longer than
//! `JITEA_EXPIRY_INTERVAL_SECS` (default 1 s), so work created by another process on the same
//! database is picked up within that bound.
//!
//! Work is claimed with a lease (`lease_owner`, `lease_until_utc`) through a claim that skips
//! rows another process holds, so several `jitea serve` processes on one PostgreSQL or SQL
//! Server database end each grant exactly once. Claimed grants are processed concurrently.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use jitea_shared::JobRun;
use serde_json::json;
use tokio::sync::watch;

use crate::provision::TargetRef;
use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};
use crate::store::grants as grant_store;
use crate::store::{Db, StoreError};
use crate::workflow::grants::{
    end_or_retry_with, expire_batch, provisioning_failed, try_provision, Provisioned,
};

/// How long a claim is held; a process that dies holding one delays that work by this much.
const LEASE: Duration = Duration::from_secs(15);
/// Grants claimed per round trip.
const BATCH: i64 = 1000;
/// Grants whose bookkeeping runs at once in one process.
const CONCURRENCY: usize = 32;

fn lease_until(now: DateTime<Utc>) -> DateTime<Utc> {
    now + chrono::Duration::from_std(LEASE).expect("constant fits")
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

/// One pass "as of" `now`: ends every grant that is due or has a pending end, then retries
/// provisioning that is due. Loops until no claimable work is left.
pub async fn run_once(
    state: &AppState,
    owner: &str,
    now: DateTime<Utc>,
) -> Result<JobRun, StoreError> {
    let mut run = JobRun {
        job: "expiry".into(),
        ..Default::default()
    };
    loop {
        let ids = {
            let mut c = state.store.conn().await?;
            grant_store::claim_endings(
                &mut Db::new(&mut c, state.store.dialect()),
                owner,
                now,
                lease_until(state.now()),
                BATCH,
            )
            .await?
        };
        if ids.is_empty() {
            break;
        }
        // Access first: remove the memberships of the whole batch with one statement per
        // target role, then do each grant's bookkeeping.
        let (predropped, rows) = predrop(state, &ids).await;
        // Plain expiries whose every membership the batch removed are recorded together.
        let batched = match expire_batch(state, &ids, &rows, &predropped).await {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, "batched expiry bookkeeping failed; ending one by one");
                HashSet::new()
            }
        };
        run.processed += batched.len() as i64;
        let ids: Vec<i64> = ids.into_iter().filter(|id| !batched.contains(id)).collect();
        let predropped = &predropped;
        let results: Vec<bool> = futures_util::stream::iter(ids)
            .map(|id| async move {
                let done = predropped.get(&id).cloned().unwrap_or_default();
                match end_or_retry_with(state, id, &done).await {
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
        run.processed += results.iter().filter(|ok| **ok).count() as i64;
        run.failed += results.iter().filter(|ok| !**ok).count() as i64;
    }
    loop {
        let ids = {
            let mut c = state.store.conn().await?;
            grant_store::claim_provisioning(
                &mut Db::new(&mut c, state.store.dialect()),
                owner,
                now,
                lease_until(state.now()),
                BATCH,
            )
            .await?
        };
        if ids.is_empty() {
            break;
        }
        for id in ids {
            match try_provision(state, id).await {
                Ok(Provisioned::Failed(e)) => provisioning_failed(state, id, &e).await?,
                Ok(_) => {}
                Err(e) => tracing::warn!(grant_id = id, error = %e, "provisioning retry failed"),
            }
            let mut c = state.store.conn().await?;
            grant_store::release(&mut Db::new(&mut c, state.store.dialect()), id, owner).await?;
        }
    }
    if run.processed > 0 || run.failed > 0 {
        let mut tx = state.store.begin_write().await?;
        audit::write(
            &mut tx.db(),
            Event::new("expiry_job_run", &Actor::system("expiry"))
                .details(json!({"ended": run.processed, "failed": run.failed, "as_of": now})),
            state.now(),
        )
        .await?;
        tx.commit().await?;
    }
    Ok(run)
}

/// (grant id, db role id, login) of one membership to remove.
type Member = (i64, i64, String);

/// Removes, per target role, the memberships of all claimed grants with one batched call, and
/// ends those logins' sessions. Returns, per grant, the db roles confirmed removed. Anything
/// not confirmed here is retried one by one by `end_with`.
async fn predrop(
    state: &AppState,
    ids: &[i64],
) -> (
    HashMap<i64, HashSet<i64>>,
    Vec<grant_store::BatchAssignment>,
) {
    let mut done: HashMap<i64, HashSet<i64>> = HashMap::new();
    let rows = {
        let Ok(mut c) = state.store.conn().await else {
            return (done, Vec::new());
        };
        match grant_store::assignments_of(&mut Db::new(&mut c, state.store.dialect()), ids).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "loading batch assignments failed");
                return (done, Vec::new());
            }
        }
    };
    let mut groups: HashMap<(TargetRef, String), Vec<Member>> = HashMap::new();
    for a in rows.iter().filter(|a| a.drop_succeeded != Some(true)) {
        groups
            .entry((a.target.clone(), a.db_role_name.clone()))
            .or_default()
            .push((a.grant_id, a.db_role_id, a.login_name.clone()));
    }
    let mut dropped_by_target: HashMap<TargetRef, Vec<String>> = HashMap::new();
    for ((target, role), members) in groups {
        let Ok(connector) = state.connectors.for_kind(target.kind) else {
            continue;
        };
        let logins: Vec<String> = members.iter().map(|m| m.2.clone()).collect();
        let results = connector.drop_members(&target, &role, &logins).await;
        for ((grant_id, db_role_id, login), r) in members.into_iter().zip(results) {
            if r.is_ok() {
                done.entry(grant_id).or_default().insert(db_role_id);
                dropped_by_target
                    .entry(target.clone())
                    .or_default()
                    .push(login);
            }
        }
    }
    for (target, mut logins) in dropped_by_target {
        logins.sort();
        logins.dedup();
        if let Ok(c) = state.connectors.for_kind(target.kind) {
            if let Err(e) = c.end_sessions_many(&target, &logins).await {
                tracing::warn!(error = %e, "ending sessions after batched removal failed");
            }
        }
    }
    (done, rows)
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
        let next = {
            match state.store.conn().await {
                Ok(mut c) => grant_store::next_wakeup(&mut Db::new(&mut c, state.store.dialect()))
                    .await
                    .ok()
                    .flatten(),
                Err(_) => None,
            }
        };
        let now = state.now();
        let sleep = match next {
            Some(t) if t <= now => Duration::from_millis(20),
            Some(t) => (t - now).to_std().unwrap_or(max_sleep).min(max_sleep),
            None => max_sleep,
        };
        tokio::select! {
            _ = tokio::time::sleep(sleep) => {}
            _ = state.expiry_wake.notified() => {}
            _ = shutdown.changed() => {
                if *shutdown.borrow() { break; }
            }
        }
    }
}
