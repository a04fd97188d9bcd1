//! `/approvals/pending`: the approver's queue.

use actix_web::{get, web, HttpResponse};
use jitea_shared::*;

use crate::auth::Approver;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::workflow::requests as flow;

use super::errors::CommonErrors;
use super::support::ok;

/// Pending requests the caller may decide, oldest first. Own requests never appear.
#[utoipa::path(tag = "requests", responses((status = 200, body = Vec<AccessRequest>), CommonErrors), security(("bearer" = [])))]
#[get("/approvals/pending")]
pub async fn pending(st: web::Data<AppState>, me: Approver) -> ApiResult<HttpResponse> {
    Ok(ok(&flow::pending_for(&st, &me.0).await?))
}
