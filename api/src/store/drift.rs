//! Reconciliation runs and the drift they found.

use chrono::{DateTime, Utc};
use jitea_shared::{DriftFinding, ReconcileRun};
use sqlx_oldapi::any::AnyRow;

use super::rows::{get, opt_i64, opt_str, opt_time, time};
use super::{Db, StoreError, Q};

const RUN_COLS: &str = "id, started_utc, finished_utc, trigger_source, actor_login_name, status, targets_checked, findings, repaired, errors";

fn map_run(r: &AnyRow) -> Result<ReconcileRun, StoreError> {
    Ok(ReconcileRun {
        id: get(r, "id")?,
        started_utc: time(r, "started_utc")?,
        finished_utc: opt_time(r, "finished_utc")?,
        trigger_source: get(r, "trigger_source")?,
        actor_login_name: get(r, "actor_login_name")?,
        status: get(r, "status")?,
        targets_checked: get(r, "targets_checked")?,
        findings: get(r, "findings")?,
        repaired: get(r, "repaired")?,
        errors: get(r, "errors")?,
    })
}

pub async fn start_run(
    db: &mut Db<'_>,
    trigger: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    db.insert(
        "reconciliation_runs",
        &[
            ("started_utc", now.into()),
            ("trigger_source", trigger.into()),
            ("actor_login_name", actor.into()),
            ("status", "running".into()),
        ],
    )
    .await
}

pub struct RunTotals {
    pub targets_checked: i64,
    pub findings: i64,
    pub repaired: i64,
    pub errors: i64,
}

pub async fn finish_run(
    db: &mut Db<'_>,
    id: i64,
    status: &str,
    t: &RunTotals,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let q = Q::new("UPDATE reconciliation_runs SET finished_utc = ?, status = ?, targets_checked = ?, findings = ?, repaired = ?, errors = ? WHERE id = ?")
        .bind(now)
        .bind(status)
        .bind(t.targets_checked)
        .bind(t.findings)
        .bind(t.repaired)
        .bind(t.errors)
        .bind(id);
    db.execute(&q).await?;
    Ok(())
}

pub async fn get_run(db: &mut Db<'_>, id: i64) -> Result<Option<ReconcileRun>, StoreError> {
    let q = Q::new(format!(
        "SELECT {RUN_COLS} FROM reconciliation_runs WHERE id = ?"
    ))
    .bind(id);
    db.fetch_optional(&q)
        .await?
        .as_ref()
        .map(map_run)
        .transpose()
}

/// The most recent finished run.
pub async fn latest_run(db: &mut Db<'_>) -> Result<Option<ReconcileRun>, StoreError> {
    let mut q = Q::new(format!("SELECT {RUN_COLS} FROM reconciliation_runs WHERE finished_utc IS NOT NULL ORDER BY id DESC"));
    q.limit(1);
    db.fetch_optional(&q)
        .await?
        .as_ref()
        .map(map_run)
        .transpose()
}

/// A finding to record.
#[derive(Debug, Clone, Default)]
pub struct NewFinding {
    pub target_id: i64,
    pub db_role_id: Option<i64>,
    pub login_name: Option<String>,
    pub kind: &'static str,
    pub grant_id: Option<i64>,
    pub object_name: Option<String>,
    pub privilege: Option<String>,
    pub action: &'static str,
    pub error: Option<String>,
}

pub async fn add_finding(
    db: &mut Db<'_>,
    run_id: i64,
    f: &NewFinding,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    db.insert(
        "drift_findings",
        &[
            ("run_id", run_id.into()),
            ("target_id", f.target_id.into()),
            ("db_role_id", f.db_role_id.into()),
            ("login_name", f.login_name.clone().into()),
            ("kind", f.kind.into()),
            ("grant_id", f.grant_id.into()),
            ("object_name", f.object_name.clone().into()),
            ("privilege", f.privilege.clone().into()),
            ("action", f.action.into()),
            ("error", f.error.clone().into()),
            ("detected_utc", now.into()),
        ],
    )
    .await
}

/// Findings of a run, optionally only of some kinds.
pub async fn findings(
    db: &mut Db<'_>,
    run_id: i64,
    kinds: &[&str],
) -> Result<Vec<DriftFinding>, StoreError> {
    let mut q = Q::new(
        "SELECT f.id, f.run_id, f.target_id, t.name AS target_name, f.db_role_id, d.db_role_name, f.login_name, f.kind, \
         f.grant_id, f.object_name, f.privilege, f.action, f.error, f.detected_utc \
         FROM drift_findings f JOIN targets t ON t.id = f.target_id LEFT JOIN db_roles d ON d.id = f.db_role_id WHERE f.run_id = ?",
    )
    .bind(run_id);
    if !kinds.is_empty() {
        q.push(" AND f.kind IN ").push_in(kinds.iter().copied());
    }
    q.push(" ORDER BY f.id");
    db.fetch_all(&q)
        .await?
        .iter()
        .map(|r| {
            Ok(DriftFinding {
                id: get(r, "id")?,
                run_id: get(r, "run_id")?,
                target_id: get(r, "target_id")?,
                target_name: get(r, "target_name")?,
                db_role_id: opt_i64(r, "db_role_id")?,
                db_role_name: opt_str(r, "db_role_name")?,
                login_name: opt_str(r, "login_name")?,
                kind: get(r, "kind")?,
                grant_id: opt_i64(r, "grant_id")?,
                object_name: opt_str(r, "object_name")?,
                privilege: opt_str(r, "privilege")?,
                action: get(r, "action")?,
                error: opt_str(r, "error")?,
                detected_utc: time(r, "detected_utc")?,
            })
        })
        .collect()
}
