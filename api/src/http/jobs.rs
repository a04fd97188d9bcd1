//! `/jobs/*`: run a background job once, now (admins). The same jobs run on their own timers.

use actix_web::{post, web, HttpResponse};
use jitea_shared::JobRun;

use crate::auth::Admin;
use crate::error::ApiResult;
use crate::state::AppState;

use super::errors::CommonErrors;
use super::support::ok;

/// Expire every grant that is due now and retry pending provisioning.
#[utoipa::path(tag = "jobs", responses((status = 200, body = JobRun), CommonErrors), security(("bearer" = [])))]
#[post("/jobs/expire")]
pub async fn run_expiry(st: web::Data<AppState>, _a: Admin) -> ApiResult<HttpResponse> {
    let run = crate::jobs::expiry::run_once(&st, &st.owner, st.now()).await?;
    Ok(ok(&run))
}
