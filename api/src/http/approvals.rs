//! `/approvals/pending`: the approver's queue; `/approvals/reviews`: the break-glass grants
//! waiting for their after-the-fact review.

use actix_web::{get, web, HttpResponse};
use jitea_shared::*;

use crate::auth::Approver;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::workflow::break_glass;
use crate::workflow::requests as flow;

use super::errors::CommonErrors;
use super::support::{ok, page};
use super::teams::PageQuery;

/// Pending requests the caller may decide, oldest first, paged. Own requests never appear;
/// admins see only requests whose role names them as approvers unless
/// `JITEA_ADMINS_MAY_APPROVE` is on.
#[utoipa::path(tag = "requests", params(PageQuery), responses((status = 200, body = Page<AccessRequest>), CommonErrors), security(("bearer" = [])))]
#[get("/approvals/pending")]
pub async fn pending(
    st: web::Data<AppState>,
    me: Approver,
    q: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let p = page(q.limit, q.cursor.as_deref())?;
    Ok(ok(&flow::pending_for(&st, &me.0, p).await?))
}

/// Break-glass grants the caller may review (`POST /grants/{id}/review`) and nobody has yet,
/// oldest first, paged: those of roles whose approvers name the caller, never their own.
#[utoipa::path(tag = "grants", params(PageQuery), responses((status = 200, body = Page<BreakGlassEntry>), CommonErrors), security(("bearer" = [])))]
#[get("/approvals/reviews")]
pub async fn reviews(
    st: web::Data<AppState>,
    me: Approver,
    q: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let p = page(q.limit, q.cursor.as_deref())?;
    Ok(ok(&break_glass::awaiting_review(&st, &me.0, p).await?))
}
