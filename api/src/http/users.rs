//! `/users`: accounts, organisation facts, app roles, activation, passwords, and per-user
//! eligibility overrides.

use actix_web::{delete, get, patch, post, put, web, HttpResponse};
use jitea_shared::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use crate::auth::{password, Admin, Auditor, AuthUser};
use crate::domain::separation::{self, Fact};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};
use crate::store::users::UserFilter;
use crate::store::{catalog, credentials, eligibility, sessions, users, Db};
use crate::workflow::separation as sod;

use super::errors::CommonErrors;
use super::json::Json;
use super::support::{
    created, login_name, ok, opt_text, page, patch_text, unique, validate_seniority,
};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserListQuery {
    /// Page size (1-500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page (opaque; only values this API returned).
    pub cursor: Option<String>,
    pub is_active: Option<bool>,
    #[param(pattern = r#"^[^\u0000]*$"#)]
    pub department: Option<String>,
    /// Substring of login or display name.
    #[param(pattern = r#"^[^\u0000]*$"#)]
    pub q: Option<String>,
}

/// List users (auditors and admins).
#[utoipa::path(tag = "users", params(UserListQuery), responses((status = 200, body = Page<User>), CommonErrors), security(("bearer" = [])))]
#[get("/users")]
pub async fn list_users(
    st: web::Data<AppState>,
    _a: Auditor,
    q: web::Query<UserListQuery>,
) -> ApiResult<HttpResponse> {
    let p = page(q.limit, q.cursor.as_deref())?;
    let f = UserFilter {
        is_active: q.is_active,
        department: q.department.clone(),
        search: q.q.clone().filter(|s| !s.trim().is_empty()),
    };
    let mut c = st.store.conn().await?;
    Ok(ok(&users::list(
        &mut Db::new(&mut c, st.store.dialect()),
        &f,
        p,
    )
    .await?))
}

/// Get a user (yourself, or anyone as auditor/admin).
#[utoipa::path(tag = "users", params(("id" = i64, Path, description = "User id")), responses((status = 200, body = User), CommonErrors), security(("bearer" = [])))]
#[get("/users/{id}")]
pub async fn get_user(
    st: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    if me.0.id != id && !me.0.is_admin && !me.0.is_auditor {
        return Err(ApiError::not_found("user"));
    }
    let mut c = st.store.conn().await?;
    let u = users::get_by_id(&mut Db::new(&mut c, st.store.dialect()), id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    Ok(ok(&u))
}

fn clean_create(b: &UserCreate) -> ApiResult<UserCreate> {
    validate_seniority(b.seniority_level)?;
    if let Some(p) = &b.password {
        super::auth::password_rule(p, &b.login_name)?;
    }
    Ok(UserCreate {
        login_name: login_name(&b.login_name)?,
        given_name: opt_text("given_name", b.given_name.as_deref(), 255, false)?,
        surname: opt_text("surname", b.surname.as_deref(), 255, false)?,
        display_name: opt_text("display_name", b.display_name.as_deref(), 255, false)?,
        email: opt_text("email", b.email.as_deref(), 255, false)?,
        division: opt_text("division", b.division.as_deref(), 255, false)?,
        department: opt_text("department", b.department.as_deref(), 255, false)?,
        job_title: opt_text("job_title", b.job_title.as_deref(), 255, false)?,
        seniority_level: b.seniority_level,
        manager_login_name: match &b.manager_login_name {
            Some(m) if !m.trim().is_empty() => Some(login_name(m)?),
            _ => None,
        },
        is_admin: b.is_admin,
        is_auditor: b.is_auditor,
        password: b.password.clone(),
    })
}

/// Create a user, optionally with an initial built-in password (admins).
#[utoipa::path(tag = "users", request_body = UserCreate, responses((status = 201, body = User), CommonErrors), security(("bearer" = [])))]
#[post("/users")]
pub async fn create_user(
    st: web::Data<AppState>,
    admin: Admin,
    body: Json<UserCreate>,
) -> ApiResult<HttpResponse> {
    let b = clean_create(&body)?;
    if separation::creates_own_manager(&admin.0, &b.login_name) {
        return Err(sod::refused(&st, &admin.0, admin.0.id, &[Fact::Manager]).await);
    }
    let hash = match b.password.clone() {
        Some(p) => Some(
            web::block(move || password::hash(&p))
                .await
                .map_err(|_| ApiError::internal())?,
        ),
        None => None,
    };
    let now = st.now();
    let actor = Actor::user(admin.0.id, &admin.0.login_name);
    let mut tx = st.store.begin_write().await?;
    let mut db = tx.db();
    let id = users::insert(&mut db, &b, &admin.0.login_name, now)
        .await
        .map_err(unique(
            "login_name_taken",
            "a user with this login_name already exists",
        ))?;
    if let Some(h) = &hash {
        credentials::set_password_hash(&mut db, id, h, now).await?;
    }
    audit::write(
        &mut db,
        Event::new("user_created", &actor).user(id).details(json!({
            "login_name": b.login_name, "department": b.department, "division": b.division,
            "seniority_level": b.seniority_level, "is_admin": b.is_admin.unwrap_or(false),
            "is_auditor": b.is_auditor.unwrap_or(false), "with_password": hash.is_some(),
        })),
        now,
    )
    .await?;
    let u = users::get_by_id(&mut db, id)
        .await?
        .ok_or_else(ApiError::internal)?;
    tx.commit().await?;
    Ok(created(&u))
}

/// Change a user's details, seniority, manager or app roles (admins).
#[utoipa::path(tag = "users", params(("id" = i64, Path)), request_body = Option<UserUpdate>, responses((status = 200, body = User), CommonErrors), security(("bearer" = [])))]
#[patch("/users/{id}")]
pub async fn update_user(
    st: web::Data<AppState>,
    admin: Admin,
    id: web::Path<i64>,
    body: Json<UserUpdate>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    if let Some(s) = body.seniority_level {
        validate_seniority(s)?;
    }
    let clean = UserUpdate {
        given_name: patch_text("given_name", &body.given_name, 255, false)?,
        surname: patch_text("surname", &body.surname, 255, false)?,
        display_name: patch_text("display_name", &body.display_name, 255, false)?,
        email: patch_text("email", &body.email, 255, false)?,
        division: patch_text("division", &body.division, 255, false)?,
        department: patch_text("department", &body.department, 255, false)?,
        job_title: patch_text("job_title", &body.job_title, 255, false)?,
        seniority_level: body.seniority_level,
        manager_login_name: match &body.manager_login_name {
            Some(Some(m)) if !m.trim().is_empty() => Some(Some(login_name(m)?)),
            Some(_) => Some(None),
            None => None,
        },
        is_admin: body.is_admin,
        is_auditor: body.is_auditor,
    };
    let now = st.now();
    let actor = Actor::user(admin.0.id, &admin.0.login_name);
    let mut tx = st.store.begin_write().await?;
    let mut db = tx.db();
    let before = users::get_by_id(&mut db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    let facts = separation::changed_facts(&before, &clean);
    if !separation::may_change_subject(admin.0.id, id) && !facts.is_empty() {
        drop(tx);
        return Err(sod::refused(&st, &admin.0, id, &facts).await);
    }
    users::update(&mut db, id, &clean, &admin.0.login_name, now).await?;
    sessions::bump_epoch_if_roles_changed(&mut db, &before, &clean, now).await?;
    let after = users::get_by_id(&mut db, id)
        .await?
        .ok_or_else(ApiError::internal)?;
    audit::write(
        &mut db,
        Event::new("user_updated", &actor)
            .user(id)
            .details(json!({"before": summary(&before), "after": summary(&after)})),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(ok(&after))
}

fn summary(u: &User) -> serde_json::Value {
    json!({
        "department": u.department, "division": u.division, "job_title": u.job_title,
        "seniority_level": u.seniority_level, "manager_login_name": u.manager_login_name,
        "is_admin": u.is_admin, "is_auditor": u.is_auditor, "email": u.email, "display_name": u.display_name,
    })
}

/// Re-activate a user (admins).
#[utoipa::path(tag = "users", params(("id" = i64, Path)), responses((status = 200, body = User), CommonErrors), security(("bearer" = [])))]
#[post("/users/{id}/activate")]
pub async fn activate_user(
    st: web::Data<AppState>,
    admin: Admin,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    set_active(&st, &admin.0, id.into_inner(), true).await
}

/// Deactivate a user: they can no longer sign in or request, their pending requests are
/// cancelled and every live grant is revoked at once (admins).
#[utoipa::path(tag = "users", params(("id" = i64, Path)), responses((status = 200, body = User), CommonErrors), security(("bearer" = [])))]
#[post("/users/{id}/deactivate")]
pub async fn deactivate_user(
    st: web::Data<AppState>,
    admin: Admin,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    set_active(&st, &admin.0, id.into_inner(), false).await
}

async fn set_active(st: &AppState, admin: &User, id: i64, active: bool) -> ApiResult<HttpResponse> {
    let (u, pending) = crate::workflow::users::set_active(st, admin, id, active).await?;
    if !pending.is_empty() {
        return Err(ApiError::new(
            502,
            "target_error",
            "the user is deactivated but some access could not be removed yet; it will be retried",
        )
        .with_details(json!({"grant_ids": pending})));
    }
    Ok(ok(&u))
}

/// Set a user's built-in password (admins).
#[utoipa::path(tag = "users", params(("id" = i64, Path)), request_body = PasswordSet, responses((status = 204, description = "Password set"), CommonErrors), security(("bearer" = [])))]
#[put("/users/{id}/password")]
pub async fn set_password(
    st: web::Data<AppState>,
    admin: Admin,
    id: web::Path<i64>,
    body: Json<PasswordSet>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    super::auth::check_new_password(&st, id, &body.password).await?;
    let p = body.password.clone();
    let hash = web::block(move || password::hash(&p))
        .await
        .map_err(|_| ApiError::internal())?;
    let now = st.now();
    let mut tx = st.store.begin_write().await?;
    let mut db = tx.db();
    users::get_by_id(&mut db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    credentials::set_password_hash(&mut db, id, &hash, now).await?;
    sessions::bump_epoch(&mut db, id, now).await?;
    audit::write(
        &mut db,
        Event::new(
            "password_set",
            &Actor::user(admin.0.id, &admin.0.login_name),
        )
        .user(id),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A user's eligibility overrides (auditors and admins).
#[utoipa::path(tag = "eligibility", params(("id" = i64, Path)), responses((status = 200, body = Vec<EligibilityOverride>), CommonErrors), security(("bearer" = [])))]
#[get("/users/{id}/eligibility-overrides")]
pub async fn list_overrides(
    st: web::Data<AppState>,
    _a: Auditor,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let mut c = st.store.conn().await?;
    let mut db = Db::new(&mut c, st.store.dialect());
    users::get_by_id(&mut db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    Ok(ok(&eligibility::overrides_for_user(&mut db, id).await?))
}

/// Create or replace the override for one user and role (admins). It takes precedence over
/// every eligibility rule while its window is open.
#[utoipa::path(tag = "eligibility", params(("id" = i64, Path), ("role_id" = i64, Path)), request_body = EligibilityOverrideSet, responses((status = 200, body = EligibilityOverride), CommonErrors), security(("bearer" = [])))]
#[put("/users/{id}/eligibility-overrides/{role_id}")]
pub async fn set_override(
    st: web::Data<AppState>,
    admin: Admin,
    path: web::Path<(i64, i64)>,
    body: Json<EligibilityOverrideSet>,
) -> ApiResult<HttpResponse> {
    let (user_id, role_id) = path.into_inner();
    super::eligibility::check_window(body.valid_from_utc, body.valid_to_utc)?;
    sod::guard(&st, &admin.0, user_id, &[Fact::EligibilityOverride]).await?;
    let now = st.now();
    let mut tx = st.store.begin_write().await?;
    let mut db = tx.db();
    users::get_by_id(&mut db, user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    catalog::get_role(&mut db, role_id)
        .await?
        .ok_or_else(|| ApiError::not_found("role"))?;
    let before = eligibility::get_override(&mut db, user_id, role_id).await?;
    eligibility::set_override(&mut db, user_id, role_id, &body, &admin.0.login_name, now).await?;
    let o = eligibility::get_override(&mut db, user_id, role_id)
        .await?
        .ok_or_else(ApiError::internal)?;
    audit::write(
        &mut db,
        Event::new(
            "eligibility_override_set",
            &Actor::user(admin.0.id, &admin.0.login_name),
        )
        .user(user_id)
        .details(json!({"role_id": role_id, "before": before, "after": o})),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(ok(&o))
}

/// Remove an override (admins).
#[utoipa::path(tag = "eligibility", params(("id" = i64, Path), ("role_id" = i64, Path)), responses((status = 204, description = "Removed"), CommonErrors), security(("bearer" = [])))]
#[delete("/users/{id}/eligibility-overrides/{role_id}")]
pub async fn delete_override(
    st: web::Data<AppState>,
    admin: Admin,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    let (user_id, role_id) = path.into_inner();
    sod::guard(&st, &admin.0, user_id, &[Fact::EligibilityOverride]).await?;
    let now = st.now();
    let mut tx = st.store.begin_write().await?;
    let mut db = tx.db();
    let Some(removed) = eligibility::get_override(&mut db, user_id, role_id).await? else {
        return Err(ApiError::not_found("override"));
    };
    if !eligibility::delete_override(&mut db, user_id, role_id).await? {
        return Err(ApiError::not_found("override"));
    }
    audit::write(
        &mut db,
        Event::new(
            "eligibility_override_deleted",
            &Actor::user(admin.0.id, &admin.0.login_name),
        )
        .user(user_id)
        .details(json!({"role_id": role_id, "removed": removed})),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
