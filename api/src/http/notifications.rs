//! `/notifications/deliveries`: what was (or is being) told to whom, for admins, and the
//! retry of a failed delivery.

use actix_web::{get, post, web, HttpResponse};
use jitea_shared::*;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Admin;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::workflow::notifications as flow;

use super::errors::CommonErrors;
use super::support::{ok, page};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryListQuery {
    /// Page size (1-500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page (opaque; only values this API returned).
    pub cursor: Option<String>,
    /// Only deliveries in this state.
    pub status: Option<DeliveryStatus>,
}

/// List notification deliveries, newest first (admins): each with its attempts so far and
/// the last error.
#[utoipa::path(tag = "notifications", params(DeliveryListQuery), responses((status = 200, body = Page<NotificationDelivery>), CommonErrors), security(("bearer" = [])))]
#[get("/notifications/deliveries")]
pub async fn list_deliveries(
    st: web::Data<AppState>,
    _admin: Admin,
    q: web::Query<DeliveryListQuery>,
) -> ApiResult<HttpResponse> {
    let p = page(q.limit, q.cursor.as_deref())?;
    Ok(ok(&flow::list(&st, q.status, p).await?))
}

/// Retry a failed delivery now (admins; audited). 409 `delivery_not_failed` unless it failed.
#[utoipa::path(tag = "notifications", params(("id" = i64, Path)), responses((status = 200, body = NotificationDelivery), CommonErrors), security(("bearer" = [])))]
#[post("/notifications/deliveries/{id}/retry")]
pub async fn retry_delivery(
    st: web::Data<AppState>,
    admin: Admin,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    Ok(ok(&flow::retry(&st, &admin.0, id.into_inner()).await?))
}
