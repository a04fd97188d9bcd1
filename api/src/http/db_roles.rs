//! `/db-roles`: roles on targets that JITEA may grant (the seed's whitelist).

use actix_web::{get, patch, post, web, HttpResponse};
use jitea_shared::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use crate::auth::{Admin, Auditor};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};
use crate::store::{catalog, Db};

use super::errors::CommonErrors;
use super::json::Json;
use super::support::{created, field_error, name, ok, opt_text, page, patch_text, unique};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DbRoleListQuery {
    /// Page size (1-500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page (opaque; only values this API returned).
    pub cursor: Option<String>,
    pub target_id: Option<i64>,
}

/// List db roles (auditors and admins).
#[utoipa::path(tag = "db-roles", params(DbRoleListQuery), responses((status = 200, body = Page<DbRole>), CommonErrors), security(("bearer" = [])))]
#[get("/db-roles")]
pub async fn list_db_roles(
    st: web::Data<AppState>,
    _a: Auditor,
    q: web::Query<DbRoleListQuery>,
) -> ApiResult<HttpResponse> {
    let p = page(q.limit, q.cursor.as_deref())?;
    let mut c = st.store.conn().await?;
    Ok(ok(&catalog::list_db_roles(
        &mut Db::new(&mut c, st.store.dialect()),
        q.target_id,
        p,
    )
    .await?))
}

/// Get a db role (auditors and admins).
#[utoipa::path(tag = "db-roles", params(("id" = i64, Path)), responses((status = 200, body = DbRole), CommonErrors), security(("bearer" = [])))]
#[get("/db-roles/{id}")]
pub async fn get_db_role(
    st: web::Data<AppState>,
    _a: Auditor,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let mut c = st.store.conn().await?;
    let d = catalog::get_db_role(&mut Db::new(&mut c, st.store.dialect()), id.into_inner())
        .await?
        .ok_or_else(|| ApiError::not_found("db role"))?;
    Ok(ok(&d))
}

/// Register a db role on a target (admins). The name must match the role on the target
/// exactly; it is quoted by the target's connector, never interpolated.
#[utoipa::path(tag = "db-roles", request_body = DbRoleCreate, responses((status = 201, body = DbRole), CommonErrors), security(("bearer" = [])))]
#[post("/db-roles")]
pub async fn create_db_role(
    st: web::Data<AppState>,
    admin: Admin,
    body: Json<DbRoleCreate>,
) -> ApiResult<HttpResponse> {
    let mut b = body.into_inner();
    if !b.db_role_name.is_empty() {
        b.db_role_name = name("db_role_name", &b.db_role_name, 128)?;
    }
    b.role_type = opt_text("role_type", b.role_type.as_deref(), 50, false)?;
    b.description = opt_text("description", b.description.as_deref(), 4000, true)?;
    let now = st.now();
    let mut tx = st.store.begin_write().await?;
    let mut db = tx.db();
    let target = catalog::get_target(&mut db, b.target_id)
        .await?
        .ok_or_else(|| ApiError::not_found("target"))?;
    // What the entitlement is called in the catalogue follows from its kind
    // (`domain::entitlements`): the name, or the key of its `ref`.
    b.db_role_name = crate::domain::entitlements::entitlement_key(
        target.kind,
        &b.db_role_name,
        b.r#ref.as_ref(),
    )
    .map_err(|p| field_error(p.field, "invalid_entitlement", p.message))?;
    if b.db_role_name.chars().count() > 128 {
        return Err(field_error(
            "ref",
            "invalid_entitlement",
            "the entitlement's key (<account_id>:<permission_set_arn>) must be at most 128 characters".into(),
        ));
    }
    let id = catalog::insert_db_role(&mut db, &b, &admin.0.login_name, now)
        .await
        .map_err(unique(
            "db_role_exists",
            "this db role is already registered on the target",
        ))?;
    let d = catalog::get_db_role(&mut db, id)
        .await?
        .ok_or_else(ApiError::internal)?;
    audit::write(
        &mut db,
        Event::new(
            "db_role_created",
            &Actor::user(admin.0.id, &admin.0.login_name),
        )
        .details(json!({"db_role": d})),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(created(&d))
}

/// Update a db role (admins). Taking it off the whitelist (`is_jit_managed: false`) stops
/// new grants; live grants still end normally.
#[utoipa::path(tag = "db-roles", params(("id" = i64, Path)), request_body = Option<DbRoleUpdate>, responses((status = 200, body = DbRole), CommonErrors), security(("bearer" = [])))]
#[patch("/db-roles/{id}")]
pub async fn update_db_role(
    st: web::Data<AppState>,
    admin: Admin,
    id: web::Path<i64>,
    body: Json<DbRoleUpdate>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let mut b = body.into_inner();
    b.role_type = patch_text("role_type", &b.role_type, 50, false)?;
    b.description = patch_text("description", &b.description, 4000, true)?;
    let now = st.now();
    let mut tx = st.store.begin_write().await?;
    let mut db = tx.db();
    let before = catalog::get_db_role(&mut db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("db role"))?;
    catalog::update_db_role(&mut db, id, &b, &admin.0.login_name, now).await?;
    let after = catalog::get_db_role(&mut db, id)
        .await?
        .ok_or_else(ApiError::internal)?;
    audit::write(
        &mut db,
        Event::new(
            "db_role_updated",
            &Actor::user(admin.0.id, &admin.0.login_name),
        )
        .details(json!({"before": before, "after": after})),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(ok(&after))
}
