//! `/jobs/*`: run a background job once, now (admins). The same jobs run on their own timers.

use actix_web::{post, web, HttpResponse};
use jitea_shared::{JobRun, ReconcileRun};

use crate::auth::Admin;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::audit::Actor;

use super::errors::CommonErrors;
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
