//! Composes the actix application: API routes (documented through utoipa-actix-web), Swagger
//! UI, ops endpoints, extractor error handlers, security headers and request logging.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{web, App};
use utoipa::OpenApi;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::{scope, AppExt};
use utoipa_swagger_ui::SwaggerUi;

use super::errors::{json_error, not_found, path_error, query_error, MAX_JSON_BYTES};
use super::openapi::ApiDoc;
use super::*;
use crate::state::AppState;

/// Every `/api/v1` route. Registering through `service` is what puts a handler into the
/// OpenAPI document, so a route cannot be served without being documented.
fn api_routes(cfg: &mut ServiceConfig) {
    cfg.service(auth::login)
        .service(auth::start_session)
        .service(auth::current_session)
        .service(auth::logout)
        .service(oidc::providers)
        .service(oidc::login)
        .service(oidc::callback)
        .service(me::get_me)
        .service(me::requestable_roles)
        .service(me::my_grants)
        .service(me::notification_settings)
        .service(me::set_notification_settings)
        .service(users::list_users)
        .service(users::create_user)
        .service(users::get_user)
        .service(users::update_user)
        .service(users::activate_user)
        .service(users::deactivate_user)
        .service(users::set_password)
        .service(users::list_overrides)
        .service(users::set_override)
        .service(users::delete_override)
        .service(teams::list_teams)
        .service(teams::create_team)
        .service(teams::get_team)
        .service(teams::update_team)
        .service(teams::list_members)
        .service(teams::add_member)
        .service(teams::remove_member)
        .service(roles::list_roles)
        .service(roles::create_role)
        .service(roles::get_role)
        .service(roles::update_role)
        .service(roles::list_role_db_roles)
        .service(roles::set_role_db_role)
        .service(roles::remove_role_db_role)
        .service(roles::list_approvers)
        .service(roles::add_approver)
        .service(roles::remove_approver)
        .service(targets::list_targets)
        .service(targets::create_target)
        .service(targets::get_target)
        .service(targets::update_target)
        .service(targets::test_target)
        .service(targets::list_principals)
        .service(targets::set_principal)
        .service(targets::delete_principal)
        .service(db_roles::list_db_roles)
        .service(db_roles::create_db_role)
        .service(db_roles::get_db_role)
        .service(db_roles::update_db_role)
        .service(eligibility::list_rules)
        .service(eligibility::create_rule)
        .service(eligibility::get_rule)
        .service(eligibility::update_rule)
        .service(eligibility::delete_rule)
        .service(eligibility::check)
        .service(requests::create_request)
        .service(requests::list_requests)
        .service(requests::get_request)
        .service(requests::request_history)
        .service(requests::request_timeline)
        .service(requests::cancel_request)
        .service(requests::approve_request)
        .service(requests::deny_request)
        .service(approvals::pending)
        .service(approvals::reviews)
        .service(grants::list_grants)
        .service(grants::get_grant)
        .service(grants::revoke_grant)
        .service(grants::extend_grant)
        .service(grants::review_grant)
        .service(audit::list_audit)
        .service(jobs::run_expiry)
        .service(jobs::run_reconcile)
        .service(jobs::run_directory_sync)
        .service(reports::drift_report)
        .service(reports::direct_grants_report)
        .service(reports::revoke_failures)
        .service(reports::overview)
        .service(reports::directory_sync_runs)
        .service(reports::break_glass_report)
        .service(scim_tokens::list_tokens)
        .service(scim_tokens::create_token)
        .service(scim_tokens::revoke_token)
        .service(notifications::list_deliveries)
        .service(notifications::retry_delivery)
        .service(webhooks::list_webhooks)
        .service(webhooks::create_webhook)
        .service(webhooks::get_webhook)
        .service(webhooks::update_webhook)
        .service(webhooks::rotate_webhook_secret)
        .service(webhooks::delete_webhook)
        .service(events::events);
}

fn ops_routes(cfg: &mut ServiceConfig) {
    cfg.service(ops::healthz)
        .service(ops::readyz)
        .service(ops::metrics);
}

/// The application with every documented route. Swagger UI (which serves
/// `/api/v1/openapi.json`) must be registered before the `/api/v1` scope, whose default
/// service would otherwise answer that path with 404.
fn documented_app(
    swagger: Option<SwaggerUi>,
) -> utoipa_actix_web::UtoipaApp<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let mut app = App::new();
    if let Some(ui) = swagger {
        app = app.service(ui);
    }
    app.into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(ops_routes)
        .service(
            scope::scope("/api/v1")
                .configure(api_routes)
                .default_service(web::to(not_found)),
        )
}

/// The OpenAPI document, exactly as served (used by `jitea openapi` and the drift check).
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    documented_app(None).split_for_parts().1
}

/// The whole application for `HttpServer::new`.
pub fn build_app(
    state: AppState,
    assets: super::web::WebAssets,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let swagger =
        SwaggerUi::new("/swagger-ui/{_:.*}").url("/api/v1/openapi.json", openapi_document());
    let (app, _) = documented_app(Some(swagger)).split_for_parts();
    app.app_data(web::Data::new(state))
        .app_data(
            web::JsonConfig::default()
                .limit(MAX_JSON_BYTES)
                .error_handler(json_error),
        )
        .app_data(web::QueryConfig::default().error_handler(query_error))
        .app_data(web::PathConfig::default().error_handler(path_error))
        .app_data(web::Data::new(assets))
        // The SCIM service provider (outside /api/v1 and its OpenAPI document; see http/scim.rs).
        .configure(super::scim::configure)
        // Everything that is not the API, the docs or an ops endpoint is the web app.
        .default_service(web::to(super::web::spa))
        .wrap(actix_web::middleware::from_fn(
            super::methods::method_not_allowed,
        ))
        .wrap(actix_web::middleware::from_fn(super::web::security_headers))
        .wrap(actix_web::middleware::from_fn(log_request))
}

async fn log_request(
    req: ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let method = req.method().clone();
    let path = req.path().to_string();
    let started = std::time::Instant::now();
    let res = next.call(req).await?;
    let status = res.status().as_u16();
    let ms = started.elapsed().as_millis() as u64;
    // 501 is a deliberate answer (a SCIM feature not offered), not a failure.
    if status >= 500 && status != 501 {
        tracing::error!(%method, %path, status, ms, "request failed");
    } else {
        tracing::info!(%method, %path, status, ms, "request");
    }
    Ok(res)
}
