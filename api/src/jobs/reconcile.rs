//! Drift reconciliation (the seed's `sp_Grant_Reconcile`): for every JIT-managed db role on
//! every enabled target, compare the target's actual members with the live grants.
//!
//! - `missing`: a grant is active (not due, no end pending) but the member is absent → re-added.
//! - `unexpected`: a member without a live grant → reported, and removed (with its sessions
//!   ended) when the target's `drift_policy` is `repair`.
//! - `direct_grant`: object permissions granted to a login directly, bypassing roles → reported.
//!
//! Grants still provisioning, or due and about to be removed by the engine, are neither
//! required nor unexpected, so reconciliation never fights the engine.
//! Each run and each finding is recorded (`reconciliation_runs`, `drift_findings`) and audited.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jitea_shared::{GrantStatus, ReconcileRun, Target};
use serde_json::json;
use tokio::sync::watch;

use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};
use crate::store::drift::{self, NewFinding, RunTotals};
use crate::store::grants::{self as grant_store, TargetAddr};
use crate::store::{catalog, Db, StoreError};

use super::lease::JobLease;
use crate::workflow::grants::{self as lifecycle, Unexplained};

struct Ctx<'a> {
    state: &'a AppState,
    run_id: i64,
    actor: &'a Actor,
    totals: RunTotals,
    /// Findings about access itself (not a target that could not be asked): what admins are
    /// alerted to.
    drift: i64,
}

impl Ctx<'_> {
    async fn record(&mut self, f: NewFinding) -> Result<(), StoreError> {
        let now = self.state.now();
        let mut tx = self.state.store.begin_write().await?;
        let mut db = tx.db();
        let id = drift::add_finding(&mut db, self.run_id, &f, now).await?;
        audit::write(
            &mut db,
            Event::new("drift_found", self.actor).details(json!({
                "run_id": self.run_id, "finding_id": id, "target_id": f.target_id, "db_role_id": f.db_role_id,
                "login_name": f.login_name, "kind": f.kind, "action": f.action, "error": f.error,
                "object_name": f.object_name, "privilege": f.privilege, "grant_id": f.grant_id,
            })),
            now,
        )
        .await?;
        tx.commit().await?;
        self.totals.findings += 1;
        if f.kind != "target_error" {
            self.drift += 1;
        }
        if matches!(f.action, "re_added" | "removed") {
            self.totals.repaired += 1;
        }
        if f.kind == "target_error" || f.action.ends_with("_failed") {
            self.totals.errors += 1;
        }
        Ok(())
    }
}

async fn reconcile_target(
    ctx: &mut Ctx<'_>,
    target: &Target,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let tref = crate::provision::TargetRef::from(target);
    let addr = TargetAddr {
        id: target.id,
        kind: target.kind,
        url_env: target.connection_url_env.clone(),
        settings: tref.settings.clone(),
        principal_from: tref.principal_from,
    };
    let err = |e: String| NewFinding {
        target_id: target.id,
        kind: "target_error",
        action: "reported",
        error: Some(e),
        ..Default::default()
    };
    let connector = match ctx.state.connectors.for_kind(target.kind) {
        Ok(c) => c,
        Err(e) => return ctx.record(err(e.to_string())).await,
    };
    if let Err(e) = connector.ping(&tref).await {
        return ctx.record(err(e.to_string())).await;
    }
    let repair = target.drift_policy == "repair";
    let roles = {
        let mut c = ctx.state.store.conn().await?;
        catalog::managed_db_roles(&mut Db::new(&mut c, ctx.state.store.dialect()), target.id)
            .await?
    };
    for role in roles {
        let actual: BTreeSet<String> = match connector.members(&tref, &role.db_role_name).await {
            Ok(m) => m.into_iter().collect(),
            Err(e) => {
                ctx.record(NewFinding {
                    db_role_id: Some(role.id),
                    ..err(e.to_string())
                })
                .await?;
                continue;
            }
        };
        let live = {
            let mut c = ctx.state.store.conn().await?;
            grant_store::live_assignments(&mut Db::new(&mut c, ctx.state.store.dialect()), role.id)
                .await?
        };
        let allowed: BTreeSet<&str> = live.iter().map(|a| a.principal.as_str()).collect();
        for a in live.iter().filter(|a| {
            a.entitled
                && a.status == GrantStatus::Active
                && a.valid_to > now
                && !a.pending_end
                && a.drop_succeeded != Some(true)
        }) {
            if actual.contains(&a.principal) {
                continue;
            }
            // The grant lifecycle re-adds under the grant's lease and only while the grant
            // still requires it; `None`: the engine holds the grant or it no longer applies.
            let Some(r) = lifecycle::readd(ctx.state, a.grant_id, role.id).await? else {
                continue;
            };
            ctx.record(NewFinding {
                target_id: target.id,
                db_role_id: Some(role.id),
                login_name: Some(a.principal.clone()),
                kind: "missing",
                grant_id: Some(a.grant_id),
                action: if r.is_ok() {
                    "re_added"
                } else {
                    "re_add_failed"
                },
                error: r.err(),
                ..Default::default()
            })
            .await?;
        }
        for login in actual.iter().filter(|m| !allowed.contains(m.as_str())) {
            let (action, error) = if repair {
                match lifecycle::remove_unexplained(
                    ctx.state,
                    &addr,
                    role.id,
                    &role.db_role_name,
                    login,
                )
                .await?
                {
                    Unexplained::Removed => ("removed", None),
                    Unexplained::Explained => continue,
                    Unexplained::Failed(e) => ("remove_failed", Some(e)),
                }
            } else {
                ("reported", None)
            };
            ctx.record(NewFinding {
                target_id: target.id,
                db_role_id: Some(role.id),
                login_name: Some(login.clone()),
                kind: "unexpected",
                action,
                error,
                ..Default::default()
            })
            .await?;
        }
    }
    match connector.direct_grants(&tref).await {
        Ok(grants) => {
            for g in grants {
                ctx.record(NewFinding {
                    target_id: target.id,
                    login_name: Some(g.login),
                    kind: "direct_grant",
                    object_name: Some(g.object),
                    privilege: Some(g.privilege),
                    action: "reported",
                    ..Default::default()
                })
                .await?;
            }
        }
        Err(e) => {
            ctx.record(err(format!("listing direct grants: {e}")))
                .await?
        }
    }
    ctx.totals.targets_checked += 1;
    Ok(())
}

const JOB: &str = "reconcile";
/// How long a pass holds the job without renewal.
const JOB_LEASE: Duration = Duration::from_secs(60);
/// How long an on-demand pass waits for one already running elsewhere.
const ON_DEMAND_WAIT: Duration = Duration::from_secs(30);

/// An on-demand pass (API, CLI): waits for a pass running elsewhere to finish, then runs.
/// `None` when another pass kept running for longer than the wait.
pub async fn run_once(
    state: &AppState,
    trigger: &str,
    actor: &Actor,
) -> Result<Option<ReconcileRun>, StoreError> {
    let Some(lease) = JobLease::claim_within(state, JOB, JOB_LEASE, ON_DEMAND_WAIT).await? else {
        return Ok(None);
    };
    let r = pass(state, trigger, actor).await;
    lease.release(state).await?;
    r.map(Some)
}

/// A pass unless one is running now, or (with `due_after`) one started within that time, in
/// any process: several replicas run one pass per interval between them.
pub async fn run_if_due(
    state: &AppState,
    trigger: &str,
    actor: &Actor,
    due_after: Option<Duration>,
) -> Result<Option<ReconcileRun>, StoreError> {
    let Some(lease) = JobLease::try_claim(state, JOB, JOB_LEASE, due_after).await? else {
        return Ok(None);
    };
    let r = pass(state, trigger, actor).await;
    lease.release(state).await?;
    r.map(Some)
}

/// One reconciliation pass over every enabled target, recorded and audited.
async fn pass(state: &AppState, trigger: &str, actor: &Actor) -> Result<ReconcileRun, StoreError> {
    let started = state.now();
    let run_id = {
        let mut tx = state.store.begin_write().await?;
        let id = drift::start_run(&mut tx.db(), trigger, &actor.login_name, started).await?;
        tx.commit().await?;
        id
    };
    let targets = {
        let mut c = state.store.conn().await?;
        catalog::enabled_targets(&mut Db::new(&mut c, state.store.dialect())).await?
    };
    let mut ctx = Ctx {
        state,
        run_id,
        actor,
        totals: RunTotals {
            targets_checked: 0,
            findings: 0,
            repaired: 0,
            errors: 0,
        },
        drift: 0,
    };
    let mut status = "succeeded";
    for t in &targets {
        if let Err(e) = reconcile_target(&mut ctx, t, started).await {
            tracing::warn!(target_id = t.id, error = %e, "reconciliation of a target failed");
            status = "failed";
        }
    }
    let now = state.now();
    let mut tx = state.store.begin_write().await?;
    let mut db = tx.db();
    drift::finish_run(&mut db, run_id, status, &ctx.totals, now).await?;
    audit::write(
        &mut db,
        Event::new("reconciliation_run", actor).details(json!({
            "run_id": run_id, "trigger": trigger, "status": status, "targets_checked": ctx.totals.targets_checked,
            "findings": ctx.totals.findings, "repaired": ctx.totals.repaired, "errors": ctx.totals.errors,
        })),
        now,
    )
    .await?;
    if ctx.drift > 0 {
        // Admins are told (issue 11): one event per run, not one per finding, and only of
        // access found wrong (an unreachable target is reported by the run, not mailed on
        // every interval).
        crate::store::outbox::enqueue(
            &mut db,
            "drift.found",
            &json!({
                "run_id": run_id, "findings": ctx.drift,
                "repaired": ctx.totals.repaired, "errors": ctx.totals.errors,
            }),
            now,
        )
        .await?;
    }
    let run = drift::get_run(&mut db, run_id)
        .await?
        .ok_or_else(|| StoreError::Internal("run vanished".into()))?;
    tx.commit().await?;
    Ok(run)
}

/// Every `JITEA_RECONCILE_INTERVAL_SECS`, until `shutdown` turns true, runs a pass unless
/// another process ran one within the interval.
pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    let interval = Duration::from_secs(state.config.reconcile_interval_secs);
    // A little slack so that replicas whose timers drift do not skip a whole interval.
    let due_after = interval.mul_f64(0.95);
    let actor = Actor::system("reconcile");
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.changed() => {
                if *shutdown.borrow() { break; }
            }
        }
        if let Err(e) = run_if_due(&state, "schedule", &actor, Some(due_after)).await {
            tracing::warn!(error = %e, "scheduled reconciliation failed");
        }
    }
}
