//! `/webhooks`: signed webhook subscriptions (admins). The body of every POST JITEA sends is
//! the `WebhookEvent` schema, signed per the Standard Webhooks specification.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use jitea_shared::*;

use crate::auth::Admin;
use crate::domain::validation::webhook_url_problem;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::workflow::webhooks::{self as flow, Subscribe, Update};

use super::errors::CommonErrors;
use super::json::Json;
use super::support::{created, field_error, ok, opt_text, page};
use super::teams::PageQuery;

fn url(st: &AppState, v: &str) -> ApiResult<String> {
    match webhook_url_problem(v, st.config.webhook_allow_http) {
        Some(p) => Err(field_error("url", "invalid_url", format!("url {p}"))),
        None => Ok(v.to_string()),
    }
}

fn events(v: &[WebhookEventType]) -> ApiResult<Vec<WebhookEventType>> {
    if v.is_empty() || v.len() > 32 {
        return Err(field_error(
            "events",
            "invalid_events",
            "events must name 1 to 32 event types".into(),
        ));
    }
    let mut out = v.to_vec();
    out.sort();
    out.dedup();
    Ok(out)
}

/// List webhook subscriptions, newest first (admins). Never shows a secret.
#[utoipa::path(tag = "notifications", params(PageQuery), responses((status = 200, body = Page<WebhookSubscription>), CommonErrors), security(("bearer" = [])))]
#[get("/webhooks")]
pub async fn list_webhooks(
    st: web::Data<AppState>,
    _admin: Admin,
    q: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let p = page(q.limit, q.cursor.as_deref())?;
    Ok(ok(&flow::list(&st, p).await?))
}

/// Subscribe a URL to events (admins; audited). The answer carries the signing `secret`
/// once. Every event named is then POSTed to `url` as a `WebhookEvent`, with the Standard
/// Webhooks headers `webhook-id`, `webhook-timestamp` and `webhook-signature`; answers other
/// than 2xx are retried with backoff, in order per subscription.
#[utoipa::path(tag = "notifications", request_body = WebhookCreate, responses((status = 201, body = WebhookCreated), CommonErrors), security(("bearer" = [])))]
#[post("/webhooks")]
pub async fn create_webhook(
    st: web::Data<AppState>,
    admin: Admin,
    body: Json<WebhookCreate>,
) -> ApiResult<HttpResponse> {
    let s = Subscribe {
        url: url(&st, &body.url)?,
        events: events(&body.events)?,
        description: opt_text("description", body.description.as_deref(), 400, false)?,
    };
    Ok(created(&flow::create(&st, &admin.0, s).await?))
}

/// One webhook subscription (admins).
#[utoipa::path(tag = "notifications", params(("id" = i64, Path)), responses((status = 200, body = WebhookSubscription), CommonErrors), security(("bearer" = [])))]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    st: web::Data<AppState>,
    _admin: Admin,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    Ok(ok(&flow::get(&st, id.into_inner()).await?))
}

/// Change a subscription (admins; audited): URL, events, description (empty clears it), or
/// `is_enabled` (a disabled one receives nothing new and its pending deliveries fail).
#[utoipa::path(tag = "notifications", params(("id" = i64, Path)), request_body = WebhookUpdate, responses((status = 200, body = WebhookSubscription), CommonErrors), security(("bearer" = [])))]
#[patch("/webhooks/{id}")]
pub async fn update_webhook(
    st: web::Data<AppState>,
    admin: Admin,
    id: web::Path<i64>,
    body: Json<WebhookUpdate>,
) -> ApiResult<HttpResponse> {
    let u = Update {
        url: body.url.as_deref().map(|v| url(&st, v)).transpose()?,
        events: body.events.as_deref().map(events).transpose()?,
        description: match &body.description {
            Some(d) => Some(opt_text("description", Some(d), 400, false)?),
            None => None,
        },
        is_enabled: body.is_enabled,
    };
    Ok(ok(&flow::update(&st, &admin.0, id.into_inner(), u).await?))
}

/// Replace a subscription's signing secret (admins; audited). The new `secret` is in this
/// answer only; the old one stops signing at once.
#[utoipa::path(tag = "notifications", params(("id" = i64, Path)), responses((status = 200, body = WebhookCreated), CommonErrors), security(("bearer" = [])))]
#[post("/webhooks/{id}/rotate-secret")]
pub async fn rotate_webhook_secret(
    st: web::Data<AppState>,
    admin: Admin,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    Ok(ok(
        &flow::rotate_secret(&st, &admin.0, id.into_inner()).await?
    ))
}

/// Delete a subscription (admins; audited). Its pending deliveries fail at their next attempt.
#[utoipa::path(tag = "notifications", params(("id" = i64, Path)), responses((status = 204, description = "Deleted"), CommonErrors), security(("bearer" = [])))]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(
    st: web::Data<AppState>,
    admin: Admin,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    flow::delete(&st, &admin.0, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
