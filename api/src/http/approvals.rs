//! `/approvals/pending`: the approver's queue.

use actix_web::{get, web, HttpResponse};
use jitea_shared::*;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Approver;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::workflow::requests as flow;

use super::errors::CommonErrors;
use super::support::{ok, page};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// Page size (1-500, default 50).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Pending requests the caller may decide, oldest first, paged. Own requests never appear;
/// admins see only requests whose role names them as approvers unless
/// `JITEA_ADMINS_MAY_APPROVE` is on.
#[utoipa::path(tag = "requests", params(QueueQuery), responses((status = 200, body = Page<AccessRequest>), CommonErrors), security(("bearer" = [])))]
#[get("/approvals/pending")]
pub async fn pending(
    st: web::Data<AppState>,
    me: Approver,
    q: web::Query<QueueQuery>,
) -> ApiResult<HttpResponse> {
    let p = page(q.limit, q.cursor.as_deref())?;
    Ok(ok(&flow::pending_for(&st, &me.0, p).await?))
}
