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

use crate::provision::TargetRef;
use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};
use crate::store::drift::{self, NewFinding, RunTotals};
use crate::store::grants as grant_store;
use crate::store::{catalog, Db, StoreError};

struct Ctx<'a> {
    state: &'a AppState,
    run_id: i64,
    actor: &'a Actor,
    totals: RunTotals,
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
    let tref = TargetRef {
        id: target.id,
        kind: target.kind,
        url_env: target.connection_url_env.clone(),
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
        let allowed: BTreeSet<&str> = live.iter().map(|a| a.login_name.as_str()).collect();
        for a in live.iter().filter(|a| {
            a.status == GrantStatus::Active
                && a.valid_to > now
                && !a.pending_end
                && a.drop_succeeded != Some(true)
        }) {
            if actual.contains(&a.login_name) {
                continue;
            }
            // Hold the grant's lease while re-adding, and re-check it under the lease: the
            // engine may be ending this grant right now, and a re-add after its removal would
            // leave access behind.
            let Some(still_required) = lease_if_required(ctx.state, a.grant_id).await? else {
                continue;
            };
            if !still_required {
                release(ctx.state, a.grant_id).await?;
                continue;
            }
            let r = connector
                .add_member(&tref, &role.db_role_name, &a.login_name)
                .await;
            release(ctx.state, a.grant_id).await?;
            {
                let mut tx = ctx.state.store.begin_write().await?;
                grant_store::record_add(
                    &mut tx.db(),
                    a.grant_id,
                    role.id,
                    r.clone().map_err(|e| e.to_string()),
                    ctx.state.now(),
                )
                .await?;
                tx.commit().await?;
            }
            ctx.record(NewFinding {
                target_id: target.id,
                db_role_id: Some(role.id),
                login_name: Some(a.login_name.clone()),
                kind: "missing",
                grant_id: Some(a.grant_id),
                action: if r.is_ok() {
                    "re_added"
                } else {
                    "re_add_failed"
                },
                error: r.err().map(|e| e.to_string()),
                ..Default::default()
            })
            .await?;
        }
        for login in actual.iter().filter(|m| !allowed.contains(m.as_str())) {
            let (action, error) = if repair {
                match connector
                    .drop_member(&tref, &role.db_role_name, login)
                    .await
                {
                    Ok(()) => {
                        if let Err(e) = connector.end_sessions(&tref, login).await {
                            tracing::warn!(error = %e, "ending sessions after drift repair failed");
                        }
                        ("removed", None)
                    }
                    Err(e) => ("remove_failed", Some(e.to_string())),
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

/// Takes the grant's lease; `None` when another process holds it, else whether the grant still
/// requires its memberships (active, not due, no end pending).
async fn lease_if_required(state: &AppState, grant_id: i64) -> Result<Option<bool>, StoreError> {
    let now = state.now();
    let mut c = state.store.conn().await?;
    let mut db = Db::new(&mut c, state.store.dialect());
    if !grant_store::try_lease(
        &mut db,
        grant_id,
        &state.owner,
        now,
        now + chrono::Duration::seconds(15),
    )
    .await?
    {
        return Ok(None);
    }
    let g = grant_store::get_by_id(&mut db, grant_id).await?;
    Ok(Some(g.is_some_and(|g| {
        g.status == GrantStatus::Active && g.valid_to_utc > now && g.pending_end.is_none()
    })))
}

async fn release(state: &AppState, grant_id: i64) -> Result<(), StoreError> {
    let mut c = state.store.conn().await?;
    grant_store::release(
        &mut Db::new(&mut c, state.store.dialect()),
        grant_id,
        &state.owner,
    )
    .await
}

/// One reconciliation pass over every enabled target, recorded and audited.
pub async fn run_once(
    state: &AppState,
    trigger: &str,
    actor: &Actor,
) -> Result<ReconcileRun, StoreError> {
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
    let run = drift::get_run(&mut db, run_id)
        .await?
        .ok_or_else(|| StoreError::Internal("run vanished".into()))?;
    tx.commit().await?;
    Ok(run)
}

/// Runs every `JITEA_RECONCILE_INTERVAL_SECS` until `shutdown` turns true.
pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    let interval = Duration::from_secs(state.config.reconcile_interval_secs);
    let actor = Actor::system("reconcile");
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.changed() => {
                if *shutdown.borrow() { break; }
            }
        }
        if let Err(e) = run_once(&state, "schedule", &actor).await {
            tracing::warn!(error = %e, "scheduled reconciliation failed");
        }
    }
}
