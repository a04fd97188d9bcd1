//! `/roles`: the business-role catalogue, its db-role mapping and its approvers.

use actix_web::{delete, get, patch, post, put, web, HttpResponse};
use jitea_shared::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use crate::auth::{Admin, Auditor, AuthUser};
use crate::domain::approval_stages::validate_required_approvals;
use crate::domain::break_glass;
use crate::domain::extension::validate_settings;
use crate::domain::validation::validate_role_settings;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};
use crate::store::{catalog, teams, users, Db};

use super::errors::CommonErrors;
use super::json::Json;
use super::support::{created, name, ok, opt_text, page, patch_text, unique};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RoleListQuery {
    /// Page size (1-500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page (opaque; only values this API returned).
    pub cursor: Option<String>,
    pub is_enabled: Option<bool>,
}

type SettingsCheck = Result<(), Vec<crate::domain::validation::FieldError>>;

/// A role's chat channel must be well formed and have a URL in this server's environment.
fn chat_channel_ok(st: &AppState, key: Option<&str>) -> SettingsCheck {
    crate::domain::validation::validate_chat_channel(
        key,
        key.is_some_and(|k| st.config.chat.key_configured(k)),
    )
}

/// Every problem with a role's settings at once (the basic ones and the lifecycle limits).
fn settings_ok<const N: usize>(checks: [SettingsCheck; N]) -> ApiResult<()> {
    let errors: Vec<_> = checks
        .into_iter()
        .filter_map(Result::err)
        .flatten()
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    Err(
        ApiError::bad_request("validation_failed", "the role settings are not valid")
            .with_details(json!({"fields": errors})),
    )
}

/// List roles.
#[utoipa::path(tag = "roles", params(RoleListQuery), responses((status = 200, body = Page<Role>), CommonErrors), security(("bearer" = [])))]
#[get("/roles")]
pub async fn list_roles(
    st: web::Data<AppState>,
    _u: AuthUser,
    q: web::Query<RoleListQuery>,
) -> ApiResult<HttpResponse> {
    let p = page(q.limit, q.cursor.as_deref())?;
    let mut c = st.store.conn().await?;
    Ok(ok(&catalog::list_roles(
        &mut Db::new(&mut c, st.store.dialect()),
        q.is_enabled,
        p,
    )
    .await?))
}

/// Get a role.
#[utoipa::path(tag = "roles", params(("id" = i64, Path)), responses((status = 200, body = Role), CommonErrors), security(("bearer" = [])))]
#[get("/roles/{id}")]
pub async fn get_role(
    st: web::Data<AppState>,
    _u: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let mut c = st.store.conn().await?;
    let r = catalog::get_role(&mut Db::new(&mut c, st.store.dialect()), id.into_inner())
        .await?
        .ok_or_else(|| ApiError::not_found("role"))?;
    Ok(ok(&r))
}

/// Create a role (admins).
#[utoipa::path(tag = "roles", request_body = RoleCreate, responses((status = 201, body = Role), CommonErrors), security(("bearer" = [])))]
#[post("/roles")]
pub async fn create_role(
    st: web::Data<AppState>,
    admin: Admin,
    body: Json<RoleCreate>,
) -> ApiResult<HttpResponse> {
    let mut b = body.into_inner();
    b.role_name = name("role_name", &b.role_name, 255)?;
    b.description = opt_text("description", b.description.as_deref(), 4000, true)?;
    b.ticket_regex = b.ticket_regex.filter(|r| !r.trim().is_empty());
    settings_ok([
        validate_role_settings(
            b.max_duration_minutes,
            b.requires_ticket.unwrap_or(false),
            b.ticket_regex.as_deref(),
            b.auto_approve_min_seniority,
        ),
        validate_settings(
            b.max_duration_minutes,
            b.approval_window_minutes
                .unwrap_or(catalog::DEFAULT_APPROVAL_WINDOW_MINUTES),
            b.max_extension_minutes,
            b.max_extensions.unwrap_or(catalog::DEFAULT_MAX_EXTENSIONS),
            b.max_total_minutes,
        ),
        validate_required_approvals(b.required_approvals.unwrap_or(1)),
        break_glass::validate_settings(
            b.review_window_minutes
                .unwrap_or(catalog::DEFAULT_REVIEW_WINDOW_MINUTES),
        ),
        chat_channel_ok(&st, b.chat_channel.as_deref()),
    ])?;
    let now = st.now();
    let mut tx = st.store.begin_write().await?;
    let mut db = tx.db();
    let id = catalog::insert_role(&mut db, &b, &admin.0.login_name, now)
        .await
        .map_err(unique(
            "role_name_taken",
            "a role with this name already exists",
        ))?;
    let r = catalog::get_role(&mut db, id)
        .await?
        .ok_or_else(ApiError::internal)?;
    audit::write(
        &mut db,
        Event::new(
            "role_created",
            &Actor::user(admin.0.id, &admin.0.login_name),
        )
        .details(json!({"role_id": id, "role": r})),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(created(&r))
}

/// Update a role (admins).
#[utoipa::path(tag = "roles", params(("id" = i64, Path)), request_body = Option<RoleUpdate>, responses((status = 200, body = Role), CommonErrors), security(("bearer" = [])))]
#[patch("/roles/{id}")]
pub async fn update_role(
    st: web::Data<AppState>,
    admin: Admin,
    id: web::Path<i64>,
    body: Json<RoleUpdate>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let mut b = body.into_inner();
    b.role_name = b
        .role_name
        .as_deref()
        .map(|n| name("role_name", n, 255))
        .transpose()?;
    b.description = patch_text("description", &b.description, 4000, true)?;
    b.ticket_regex = b.ticket_regex.map(|r| r.filter(|s| !s.trim().is_empty()));
    let now = st.now();
    let mut tx = st.store.begin_write().await?;
    let mut db = tx.db();
    let before = catalog::get_role(&mut db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("role"))?;
    // Validate the merged result, not just the fields sent.
    let max = b
        .max_duration_minutes
        .unwrap_or(before.max_duration_minutes);
    let ticket = b.requires_ticket.unwrap_or(before.requires_ticket);
    let regex = match &b.ticket_regex {
        Some(v) => v.clone(),
        None => before.ticket_regex.clone(),
    };
    let sen = match b.auto_approve_min_seniority {
        Some(v) => v,
        None => before.auto_approve_min_seniority,
    };
    settings_ok([
        validate_role_settings(max, ticket, regex.as_deref(), sen),
        validate_settings(
            max,
            b.approval_window_minutes
                .unwrap_or(before.approval_window_minutes),
            b.max_extension_minutes
                .unwrap_or(before.max_extension_minutes),
            b.max_extensions.unwrap_or(before.max_extensions),
            b.max_total_minutes.unwrap_or(before.max_total_minutes),
        ),
        validate_required_approvals(b.required_approvals.unwrap_or(before.required_approvals)),
        break_glass::validate_settings(
            b.review_window_minutes
                .unwrap_or(before.review_window_minutes),
        ),
        chat_channel_ok(&st, b.chat_channel.as_ref().and_then(|c| c.as_deref())),
    ])?;
    catalog::update_role(&mut db, id, &b, &admin.0.login_name, now)
        .await
        .map_err(unique(
            "role_name_taken",
            "a role with this name already exists",
        ))?;
    let after = catalog::get_role(&mut db, id)
        .await?
        .ok_or_else(ApiError::internal)?;
    audit::write(
        &mut db,
        Event::new(
            "role_updated",
            &Actor::user(admin.0.id, &admin.0.login_name),
        )
        .details(json!({"role_id": id, "before": before, "after": after})),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(ok(&after))
}

/// The db roles a role grants.
#[utoipa::path(tag = "roles", params(("id" = i64, Path)), responses((status = 200, body = Vec<RoleDbRole>), CommonErrors), security(("bearer" = [])))]
#[get("/roles/{id}/db-roles")]
pub async fn list_role_db_roles(
    st: web::Data<AppState>,
    _u: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let mut c = st.store.conn().await?;
    let mut db = Db::new(&mut c, st.store.dialect());
    catalog::get_role(&mut db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("role"))?;
    Ok(ok(&catalog::role_db_roles(&mut db, id).await?))
}

/// Map a db role into a role (admins). Only JIT-managed db roles may be mapped.
#[utoipa::path(tag = "roles", params(("id" = i64, Path), ("db_role_id" = i64, Path)), request_body = Option<RoleDbRoleSet>, responses((status = 200, body = Vec<RoleDbRole>), CommonErrors), security(("bearer" = [])))]
#[put("/roles/{id}/db-roles/{db_role_id}")]
pub async fn set_role_db_role(
    st: web::Data<AppState>,
    admin: Admin,
    path: web::Path<(i64, i64)>,
    body: Json<RoleDbRoleSet>,
) -> ApiResult<HttpResponse> {
    let (role_id, db_role_id) = path.into_inner();
    let is_required = body.is_required.unwrap_or(true);
    let now = st.now();
    let mut tx = st.store.begin_write().await?;
    let mut db = tx.db();
    catalog::get_role(&mut db, role_id)
        .await?
        .ok_or_else(|| ApiError::not_found("role"))?;
    let d = catalog::get_db_role(&mut db, db_role_id)
        .await?
        .ok_or_else(|| ApiError::not_found("db role"))?;
    if !d.is_jit_managed {
        return Err(ApiError::conflict(
            "db_role_not_jit_managed",
            format!(
                "db role `{}` is not JIT-managed; only whitelisted db roles can be granted",
                d.db_role_name
            ),
        ));
    }
    let before = catalog::role_db_roles(&mut db, role_id)
        .await?
        .into_iter()
        .find(|m| m.db_role_id == db_role_id);
    catalog::set_role_db_role(&mut db, role_id, db_role_id, is_required).await?;
    audit::write(
        &mut db,
        Event::new("role_db_role_set", &Actor::user(admin.0.id, &admin.0.login_name)).details(json!({"role_id": role_id, "db_role_id": db_role_id, "db_role_name": d.db_role_name, "is_required": is_required, "before": before})),
        now,
    )
    .await?;
    let list = catalog::role_db_roles(&mut db, role_id).await?;
    tx.commit().await?;
    Ok(ok(&list))
}

/// Unmap a db role from a role (admins). Existing grants keep what they were issued with.
#[utoipa::path(tag = "roles", params(("id" = i64, Path), ("db_role_id" = i64, Path)), responses((status = 204, description = "Removed"), CommonErrors), security(("bearer" = [])))]
#[delete("/roles/{id}/db-roles/{db_role_id}")]
pub async fn remove_role_db_role(
    st: web::Data<AppState>,
    admin: Admin,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    let (role_id, db_role_id) = path.into_inner();
    let now = st.now();
    let mut tx = st.store.begin_write().await?;
    let mut db = tx.db();
    let removed = catalog::role_db_roles(&mut db, role_id)
        .await?
        .into_iter()
        .find(|m| m.db_role_id == db_role_id);
    if removed.is_none() || !catalog::remove_role_db_role(&mut db, role_id, db_role_id).await? {
        return Err(ApiError::not_found("mapping"));
    }
    audit::write(
        &mut db,
        Event::new(
            "role_db_role_removed",
            &Actor::user(admin.0.id, &admin.0.login_name),
        )
        .details(json!({"role_id": role_id, "db_role_id": db_role_id, "removed": removed})),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Approvers of a role (auditors and admins).
#[utoipa::path(tag = "roles", params(("id" = i64, Path)), responses((status = 200, body = Vec<RoleApprover>), CommonErrors), security(("bearer" = [])))]
#[get("/roles/{id}/approvers")]
pub async fn list_approvers(
    st: web::Data<AppState>,
    _a: Auditor,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let mut c = st.store.conn().await?;
    let mut db = Db::new(&mut c, st.store.dialect());
    catalog::get_role(&mut db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("role"))?;
    Ok(ok(&catalog::approvers(&mut db, id).await?))
}

/// Add an approver entry: a user, the requester's manager, a team, or a department (admins).
#[utoipa::path(tag = "roles", params(("id" = i64, Path)), request_body = RoleApproverCreate, responses((status = 201, body = RoleApprover), CommonErrors), security(("bearer" = [])))]
#[post("/roles/{id}/approvers")]
pub async fn add_approver(
    st: web::Data<AppState>,
    admin: Admin,
    id: web::Path<i64>,
    body: Json<RoleApproverCreate>,
) -> ApiResult<HttpResponse> {
    let role_id = id.into_inner();
    let mut b = body.into_inner();
    let now = st.now();
    let mut tx = st.store.begin_write().await?;
    let mut db = tx.db();
    catalog::get_role(&mut db, role_id)
        .await?
        .ok_or_else(|| ApiError::not_found("role"))?;
    let field_err = |f: &str, m: &str| {
        ApiError::bad_request("validation_failed", m.to_string())
            .with_details(json!({"fields": [{"field": f, "code": "required", "message": m}]}))
    };
    let mut login = None;
    match b.approver_type {
        ApproverType::User => {
            let uid = b.approver_user_id.ok_or_else(|| {
                field_err(
                    "approver_user_id",
                    "approver_user_id is required for type user",
                )
            })?;
            let u = users::get_by_id(&mut db, uid)
                .await?
                .ok_or_else(|| ApiError::not_found("user"))?;
            login = Some(u.login_name);
            b.approver_team_id = None;
            b.approver_department = None;
        }
        ApproverType::Team => {
            let tid = b.approver_team_id.ok_or_else(|| {
                field_err(
                    "approver_team_id",
                    "approver_team_id is required for type team",
                )
            })?;
            teams::get_by_id(&mut db, tid)
                .await?
                .ok_or_else(|| ApiError::not_found("team"))?;
            b.approver_user_id = None;
            b.approver_department = None;
        }
        ApproverType::Department => {
            let d = opt_text(
                "approver_department",
                b.approver_department.as_deref(),
                255,
                false,
            )?
            .ok_or_else(|| {
                field_err(
                    "approver_department",
                    "approver_department is required for type department",
                )
            })?;
            b.approver_department = Some(d);
            b.approver_user_id = None;
            b.approver_team_id = None;
        }
        ApproverType::Manager => {
            b.approver_user_id = None;
            b.approver_team_id = None;
            b.approver_department = None;
        }
    }
    let existing = catalog::approvers(&mut db, role_id).await?;
    if let Some(dup) = existing.iter().find(|a| {
        a.approver_type == b.approver_type
            && a.approver_user_id == b.approver_user_id
            && a.approver_team_id == b.approver_team_id
            && a.approver_department.as_deref().map(str::to_lowercase)
                == b.approver_department.as_deref().map(str::to_lowercase)
    }) {
        return Err(ApiError::conflict(
            "approver_exists",
            "this approver is already configured for the role",
        )
        .with_details(json!({"approver_id": dup.id})));
    }
    let aid =
        catalog::insert_approver(&mut db, role_id, &b, login, &admin.0.login_name, now).await?;
    let a = catalog::get_approver(&mut db, aid)
        .await?
        .ok_or_else(ApiError::internal)?;
    audit::write(
        &mut db,
        Event::new(
            "approver_added",
            &Actor::user(admin.0.id, &admin.0.login_name),
        )
        .details(json!({"role_id": role_id, "approver": a})),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(created(&a))
}

/// Remove an approver entry (admins).
#[utoipa::path(tag = "roles", params(("id" = i64, Path), ("approver_id" = i64, Path)), responses((status = 204, description = "Removed"), CommonErrors), security(("bearer" = [])))]
#[delete("/roles/{id}/approvers/{approver_id}")]
pub async fn remove_approver(
    st: web::Data<AppState>,
    admin: Admin,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    let (role_id, approver_id) = path.into_inner();
    let now = st.now();
    let mut tx = st.store.begin_write().await?;
    let mut db = tx.db();
    let removed = catalog::get_approver(&mut db, approver_id)
        .await?
        .filter(|a| a.role_id == role_id)
        .ok_or_else(|| ApiError::not_found("approver"))?;
    if !catalog::delete_approver(&mut db, role_id, approver_id).await? {
        return Err(ApiError::not_found("approver"));
    }
    audit::write(
        &mut db,
        Event::new(
            "approver_removed",
            &Actor::user(admin.0.id, &admin.0.login_name),
        )
        .details(json!({"role_id": role_id, "approver_id": approver_id, "removed": removed})),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
