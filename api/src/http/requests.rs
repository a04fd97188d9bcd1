//! `/requests`: ask for access, follow it, cancel it; approvers approve or deny.

use actix_web::{get, post, web, HttpResponse};
use jitea_shared::*;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::{Approver, AuthUser, Requester};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::requests::RequestFilter;
use crate::store::{requests as req_store, Db};
use crate::workflow::requests as flow;

use super::errors::CommonErrors;
use super::json::Json;
use super::support::{created, ok, page};

/// Request access to a role for yourself. Pre-approved roles and seniority bypass answer
/// `auto_approved` with the grant already issued; otherwise the request is `pending`.
#[utoipa::path(tag = "requests", request_body = RequestCreate, responses((status = 201, body = AccessRequest), CommonErrors), security(("bearer" = [])))]
#[post("/requests")]
pub async fn create_request(
    st: web::Data<AppState>,
    me: Requester,
    body: Json<RequestCreate>,
) -> ApiResult<HttpResponse> {
    let r = flow::create(&st, &me.0, &body).await?;
    Ok(created(&r))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequestListQuery {
    /// Page size (1-500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page (opaque; only values this API returned).
    pub cursor: Option<String>,
    pub status: Option<RequestStatus>,
    pub role_id: Option<i64>,
    /// Only auditors and admins may list other users' requests.
    pub user_id: Option<i64>,
}

/// List requests, newest first: your own, or anyone's for auditors and admins.
#[utoipa::path(tag = "requests", params(RequestListQuery), responses((status = 200, body = Page<AccessRequest>), CommonErrors), security(("bearer" = [])))]
#[get("/requests")]
pub async fn list_requests(
    st: web::Data<AppState>,
    me: AuthUser,
    q: web::Query<RequestListQuery>,
) -> ApiResult<HttpResponse> {
    let p = page(q.limit, q.cursor.as_deref())?;
    let sees_all = me.0.is_admin || me.0.is_auditor;
    let user_id = match q.user_id {
        Some(u) if u != me.0.id && !sees_all => {
            return Err(ApiError::forbidden(
                "forbidden",
                "you can only list your own requests",
            ))
        }
        Some(u) => Some(u),
        None if sees_all => None,
        None => Some(me.0.id),
    };
    let f = RequestFilter {
        user_id,
        role_id: q.role_id,
        status: q.status,
    };
    let mut c = st.store.conn().await?;
    let mut db = Db::new(&mut c, st.store.dialect());
    Ok(ok(&req_store::list(&mut db, &f, p).await?))
}

/// Get a request (yours, one you may decide, or any for auditors and admins).
#[utoipa::path(tag = "requests", params(("id" = i64, Path)), responses((status = 200, body = AccessRequest), CommonErrors), security(("bearer" = [])))]
#[get("/requests/{id}")]
pub async fn get_request(
    st: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    Ok(ok(&flow::get_visible(&st, &me.0, id.into_inner()).await?))
}

/// Cancel your pending request. Cancelling a cancelled request succeeds without change.
#[utoipa::path(tag = "requests", params(("id" = i64, Path)), responses((status = 200, body = AccessRequest), CommonErrors), security(("bearer" = [])))]
#[post("/requests/{id}/cancel")]
pub async fn cancel_request(
    st: web::Data<AppState>,
    me: Requester,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    Ok(ok(&flow::cancel(&st, &me.0, id.into_inner()).await?))
}

/// Approve a pending request you are an approver for (never your own). The grant is issued
/// at once. Repeating your own approval succeeds without change.
#[utoipa::path(tag = "requests", params(("id" = i64, Path)), request_body = Option<DecisionBody>, responses((status = 200, body = AccessRequest), CommonErrors), security(("bearer" = [])))]
#[post("/requests/{id}/approve")]
pub async fn approve_request(
    st: web::Data<AppState>,
    me: Approver,
    id: web::Path<i64>,
    body: Json<DecisionBody>,
) -> ApiResult<HttpResponse> {
    Ok(ok(&flow::decide(
        &st,
        &me.0,
        id.into_inner(),
        Decision::Approved,
        body.into_inner().comment,
    )
    .await?))
}

/// Deny a pending request you are an approver for (never your own).
#[utoipa::path(tag = "requests", params(("id" = i64, Path)), request_body = Option<DecisionBody>, responses((status = 200, body = AccessRequest), CommonErrors), security(("bearer" = [])))]
#[post("/requests/{id}/deny")]
pub async fn deny_request(
    st: web::Data<AppState>,
    me: Approver,
    id: web::Path<i64>,
    body: Json<DecisionBody>,
) -> ApiResult<HttpResponse> {
    Ok(ok(&flow::decide(
        &st,
        &me.0,
        id.into_inner(),
        Decision::Denied,
        body.into_inner().comment,
    )
    .await?))
}

/// The requester's recent requests (newest first, at most 20), for whoever may see this one —
/// approvers use it to judge a request.
#[utoipa::path(tag = "requests", params(("id" = i64, Path)), responses((status = 200, body = Vec<AccessRequest>), CommonErrors), security(("bearer" = [])))]
#[get("/requests/{id}/history")]
pub async fn request_history(
    st: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let req = flow::get_visible(&st, &me.0, id.into_inner()).await?;
    let f = RequestFilter {
        user_id: Some(req.user_id),
        role_id: None,
        status: None,
    };
    let mut c = st.store.conn().await?;
    let mut db = Db::new(&mut c, st.store.dialect());
    let page = req_store::list(
        &mut db,
        &f,
        crate::store::paging::PageReq {
            limit: 20,
            after: None,
        },
    )
    .await?;
    Ok(ok(&page.items))
}

/// The timeline of a request and its grant: every step in order (created, each decision,
/// each db role added, extensions asked for and applied, the end), with who did it and when.
/// For whoever may see the request.
#[utoipa::path(tag = "requests", params(("id" = i64, Path)), responses((status = 200, body = Vec<TimelineEntry>), CommonErrors), security(("bearer" = [])))]
#[get("/requests/{id}/timeline")]
pub async fn request_timeline(
    st: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    Ok(ok(&crate::workflow::timeline::of_request(
        &st,
        &me.0,
        id.into_inner(),
    )
    .await?))
}
