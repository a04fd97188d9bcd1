//! `/jobs/*`: run a background job once, now (admins). The same jobs run on their own timers.

use actix_web::{post, web, HttpResponse};
use jitea_shared::{DirectorySyncRequest, DirectorySyncRun, JobRun, ReconcileRun};

use crate::auth::Admin;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::audit::Actor;

use super::errors::CommonErrors;
use super::json::Json;
use super::support::ok;

/// End every grant that is due or has a pending end, and retry due provisioning.
#[utoipa::path(tag = "jobs", responses((status = 200, body = JobRun), CommonErrors), security(("bearer" = [])))]
#[post("/jobs/expire")]
pub async fn run_expiry(st: web::Data<AppState>, _a: Admin) -> ApiResult<HttpResponse> {
    let run = crate::jobs::expiry::run_once(&st, &st.owner, st.now()).await?;
    Ok(ok(&run))
}

/// Reconcile every enabled target now: compare actual role members with live grants, re-add
/// missing members, report (and with `drift_policy: repair` remove) unexpected ones.
#[utoipa::path(tag = "jobs", responses((status = 200, body = ReconcileRun), CommonErrors), security(("bearer" = [])))]
#[post("/jobs/reconcile")]
pub async fn run_reconcile(st: web::Data<AppState>, admin: Admin) -> ApiResult<HttpResponse> {
    let run =
        crate::jobs::reconcile::run_once(&st, "api", &Actor::user(admin.0.id, &admin.0.login_name))
            .await?
            .ok_or_else(|| {
                ApiError::conflict(
            "job_running",
            "a reconciliation pass is already running and did not finish in time; try again later",
        )
            })?;
    Ok(ok(&run))
}

/// Sync users and teams from the directory (LDAP / Active Directory) now. With `dry_run`
/// nothing changes and the response lists the planned changes; a run that would deactivate
/// more than `JITEA_LDAP_MAX_DEACTIVATE_PERCENT` of the directory's users is `refused`
/// (nothing changed) unless `force`. A directory that cannot be read gives a `failed` run.
/// 409 `directory_not_configured` without `JITEA_LDAP_URL`.
#[utoipa::path(tag = "jobs", request_body = Option<DirectorySyncRequest>, responses((status = 200, body = DirectorySyncRun), CommonErrors), security(("bearer" = [])))]
#[post("/jobs/directory-sync")]
pub async fn run_directory_sync(
    st: web::Data<AppState>,
    admin: Admin,
    body: Json<DirectorySyncRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let Some(cfg) = st.config.ldap.clone() else {
        return Err(ApiError::conflict(
            "directory_not_configured",
            "no directory is configured (JITEA_LDAP_URL)",
        ));
    };
    let opts = crate::jobs::directory_sync::Options {
        dry_run: body.dry_run.unwrap_or(false),
        force: body.force.unwrap_or(false),
    };
    let run = crate::jobs::directory_sync::run_once(
        &st,
        &cfg,
        "api",
        &Actor::user(admin.0.id, &admin.0.login_name),
        opts,
    )
    .await?
    .ok_or_else(|| {
        ApiError::conflict(
            "job_running",
            "a directory sync is already running and did not finish in time; try again later",
        )
    })?;
    Ok(ok(&run))
}
