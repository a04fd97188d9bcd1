//! `/targets`: systems JITEA provisions on. Connection secrets are never stored: a target
//! names the environment variable that holds its URL.

use actix_web::{delete, get, patch, post, put, web, HttpResponse};
use jitea_shared::*;
use serde_json::json;

use crate::auth::{Admin, Auditor};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};
use crate::store::{catalog, Db};

use super::errors::CommonErrors;
use super::json::Json;
use super::support::{created, field_error, name, ok, opt_text, page, patch_text, unique};
use super::teams::PageQuery;

fn env_name(v: Option<&str>) -> ApiResult<Option<String>> {
    let prefix = crate::provision::TARGET_ENV_PREFIX;
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) if !(s.len() <= 128 && s.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') && !s.starts_with(|c: char| c.is_ascii_digit())) => Err(ApiError::bad_request("validation_failed", "connection_url_env must be an environment variable name like JITEA_TARGET_PROD_URL (A-Z, 0-9, _), never the URL itself")
            .with_details(json!({"fields": [{"field": "connection_url_env", "code": "invalid_env_name", "message": "use the name of an environment variable"}]}))),
        Some(s) if !s.starts_with(prefix) || s.len() == prefix.len() => Err(ApiError::bad_request("env_name_not_allowed", format!("connection_url_env must name a variable starting with {prefix}, e.g. JITEA_TARGET_PROD_URL"))
            .with_details(json!({"fields": [{"field": "connection_url_env", "code": "env_name_not_allowed", "message": format!("use a variable whose name starts with {prefix}")}]}))),
        Some(s) => Ok(Some(s.to_string())),
    }
}

/// The settings, checked for the target's kind (`domain::entitlements` owns the rules).
fn settings(kind: TargetKind, v: Option<&TargetSettings>) -> ApiResult<()> {
    crate::domain::entitlements::check_settings(kind, v)
        .map_err(|p| field_error(p.field, "invalid_settings", p.message))
}

fn drift_policy(v: Option<&str>) -> ApiResult<Option<String>> {
    match v {
        None => Ok(None),
        Some(p @ ("report" | "repair")) => Ok(Some(p.to_string())),
        Some(_) => Err(ApiError::bad_request(
            "validation_failed",
            "drift_policy must be `report` or `repair`",
        )),
    }
}

/// List targets (auditors and admins).
#[utoipa::path(tag = "targets", params(PageQuery), responses((status = 200, body = Page<Target>), CommonErrors), security(("bearer" = [])))]
#[get("/targets")]
pub async fn list_targets(
    st: web::Data<AppState>,
    _a: Auditor,
    q: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let p = page(q.limit, q.cursor.as_deref())?;
    let mut c = st.store.conn().await?;
    Ok(ok(&catalog::list_targets(
        &mut Db::new(&mut c, st.store.dialect()),
        p,
    )
    .await?))
}

/// Get a target (auditors and admins).
#[utoipa::path(tag = "targets", params(("id" = i64, Path)), responses((status = 200, body = Target), CommonErrors), security(("bearer" = [])))]
#[get("/targets/{id}")]
pub async fn get_target(
    st: web::Data<AppState>,
    _a: Auditor,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let mut c = st.store.conn().await?;
    let t = catalog::get_target(&mut Db::new(&mut c, st.store.dialect()), id.into_inner())
        .await?
        .ok_or_else(|| ApiError::not_found("target"))?;
    Ok(ok(&t))
}

/// Create a target (admins).
#[utoipa::path(tag = "targets", request_body = TargetCreate, responses((status = 201, body = Target), CommonErrors), security(("bearer" = [])))]
#[post("/targets")]
pub async fn create_target(
    st: web::Data<AppState>,
    admin: Admin,
    body: Json<TargetCreate>,
) -> ApiResult<HttpResponse> {
    let mut b = body.into_inner();
    b.name = name("name", &b.name, 255)?;
    b.description = opt_text("description", b.description.as_deref(), 4000, true)?;
    b.connection_url_env = env_name(b.connection_url_env.as_deref())?;
    b.drift_policy = drift_policy(b.drift_policy.as_deref())?;
    settings(b.kind, b.settings.as_ref())?;
    let needs_url = !matches!(b.kind, TargetKind::Noop | TargetKind::AwsSso);
    if needs_url && b.connection_url_env.is_none() {
        return Err(ApiError::bad_request(
            "validation_failed",
            "connection_url_env is required for this target kind",
        ));
    }
    let now = st.now();
    let mut tx = st.store.begin_write().await?;
    let mut db = tx.db();
    let id = catalog::insert_target(&mut db, &b, &admin.0.login_name, now)
        .await
        .map_err(unique(
            "target_name_taken",
            "a target with this name already exists",
        ))?;
    let t = catalog::get_target(&mut db, id)
        .await?
        .ok_or_else(ApiError::internal)?;
    audit::write(
        &mut db,
        Event::new(
            "target_created",
            &Actor::user(admin.0.id, &admin.0.login_name),
        )
        .details(json!({"target": t})),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(created(&t))
}

/// Update, enable or disable a target (admins).
#[utoipa::path(tag = "targets", params(("id" = i64, Path)), request_body = Option<TargetUpdate>, responses((status = 200, body = Target), CommonErrors), security(("bearer" = [])))]
#[patch("/targets/{id}")]
pub async fn update_target(
    st: web::Data<AppState>,
    admin: Admin,
    id: web::Path<i64>,
    body: Json<TargetUpdate>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let mut b = body.into_inner();
    b.name = b
        .name
        .as_deref()
        .map(|n| name("name", n, 255))
        .transpose()?;
    b.description = patch_text("description", &b.description, 4000, true)?;
    b.connection_url_env = match &b.connection_url_env {
        None => None,
        Some(v) => Some(env_name(v.as_deref())?),
    };
    b.drift_policy = drift_policy(b.drift_policy.as_deref())?;
    let now = st.now();
    let mut tx = st.store.begin_write().await?;
    let mut db = tx.db();
    let before = catalog::get_target(&mut db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("target"))?;
    if b.settings.is_some() {
        settings(before.kind, b.settings.as_ref())?;
    }
    catalog::update_target(&mut db, id, &b, &admin.0.login_name, now)
        .await
        .map_err(unique(
            "target_name_taken",
            "a target with this name already exists",
        ))?;
    let after = catalog::get_target(&mut db, id)
        .await?
        .ok_or_else(ApiError::internal)?;
    audit::write(
        &mut db,
        Event::new(
            "target_updated",
            &Actor::user(admin.0.id, &admin.0.login_name),
        )
        .details(json!({"before": before, "after": after})),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(ok(&after))
}

/// Check a target: can JITEA connect (with the URL from its environment variable), and does
/// each registered db role exist there (admins).
#[utoipa::path(tag = "targets", params(("id" = i64, Path)), responses((status = 200, body = TargetTest), CommonErrors), security(("bearer" = [])))]
#[post("/targets/{id}/test")]
pub async fn test_target(
    st: web::Data<AppState>,
    admin: Admin,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    Ok(ok(&crate::workflow::targets::test(
        &st,
        &admin.0,
        id.into_inner(),
    )
    .await?))
}

/// Who each user is on a target with `principal_from: external_id` (auditors and admins).
#[utoipa::path(tag = "targets", params(("id" = i64, Path), PageQuery), responses((status = 200, body = Page<TargetPrincipal>), CommonErrors), security(("bearer" = [])))]
#[get("/targets/{id}/principals")]
pub async fn list_principals(
    st: web::Data<AppState>,
    _a: Auditor,
    id: web::Path<i64>,
    q: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let p = page(q.limit, q.cursor.as_deref())?;
    let mut c = st.store.conn().await?;
    let mut db = Db::new(&mut c, st.store.dialect());
    let id = id.into_inner();
    catalog::get_target(&mut db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("target"))?;
    Ok(ok(&catalog::list_principals(&mut db, id, p).await?))
}

/// Map a user to their principal on a target (admins; audited). Used on targets with
/// `principal_from: external_id` (on `aws_sso`, the Identity Store user id). One user per
/// principal on a target (409 `principal_taken`). Access already given keeps the principal it
/// was given to, and is removed from it.
#[utoipa::path(tag = "targets", params(("id" = i64, Path), ("user_id" = i64, Path)), request_body = TargetPrincipalSet, responses((status = 200, body = TargetPrincipal), CommonErrors), security(("bearer" = [])))]
#[put("/targets/{id}/principals/{user_id}")]
pub async fn set_principal(
    st: web::Data<AppState>,
    admin: Admin,
    path: web::Path<(i64, i64)>,
    body: Json<TargetPrincipalSet>,
) -> ApiResult<HttpResponse> {
    let (id, user_id) = path.into_inner();
    let principal = body.into_inner().principal;
    if principal.is_empty()
        || principal.chars().count() > 256
        || principal
            .chars()
            .any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(field_error(
            "principal",
            "invalid_principal",
            "principal must be 1 to 256 characters without spaces or control characters".into(),
        ));
    }
    let now = st.now();
    let mut tx = st.store.begin_write().await?;
    let mut db = tx.db();
    catalog::get_target(&mut db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("target"))?;
    crate::store::users::get_by_id(&mut db, user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    let before = catalog::get_principal(&mut db, id, user_id).await?;
    catalog::set_principal(&mut db, id, user_id, &principal, &admin.0.login_name, now)
        .await
        .map_err(unique(
            "principal_taken",
            "another user has this principal on the target",
        ))?;
    let after = catalog::get_principal(&mut db, id, user_id)
        .await?
        .ok_or_else(ApiError::internal)?;
    audit::write(
        &mut db,
        Event::new(
            "target_principal_set",
            &Actor::user(admin.0.id, &admin.0.login_name),
        )
        .user(user_id)
        .details(
            json!({"target_id": id, "before": before.map(|p| p.principal), "principal": principal}),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(ok(&after))
}

/// Remove a user's principal on a target (admins; audited): they get no new access there
/// until mapped again.
#[utoipa::path(tag = "targets", params(("id" = i64, Path), ("user_id" = i64, Path)), responses((status = 204, description = "Removed"), CommonErrors), security(("bearer" = [])))]
#[delete("/targets/{id}/principals/{user_id}")]
pub async fn delete_principal(
    st: web::Data<AppState>,
    admin: Admin,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    let (id, user_id) = path.into_inner();
    let now = st.now();
    let mut tx = st.store.begin_write().await?;
    let mut db = tx.db();
    let before = catalog::get_principal(&mut db, id, user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("principal"))?;
    catalog::delete_principal(&mut db, id, user_id).await?;
    audit::write(
        &mut db,
        Event::new(
            "target_principal_removed",
            &Actor::user(admin.0.id, &admin.0.login_name),
        )
        .user(user_id)
        .details(json!({"target_id": id, "principal": before.principal})),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
