//! `/teams` and their members (removal is soft: history is kept).

use actix_web::{delete, get, patch, post, web, HttpResponse};
use jitea_shared::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use crate::auth::{Admin, AuthUser};
use crate::domain::separation::Fact;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};
use crate::store::{teams, users, Db};
use crate::workflow::separation as sod;

use super::errors::CommonErrors;
use super::json::Json;
use super::support::{created, name, ok, opt_text, page, patch_text, unique};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size (1-500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page (opaque; only values this API returned).
    pub cursor: Option<String>,
}

/// List teams.
#[utoipa::path(tag = "teams", params(PageQuery), responses((status = 200, body = Page<Team>), CommonErrors), security(("bearer" = [])))]
#[get("/teams")]
pub async fn list_teams(
    st: web::Data<AppState>,
    _u: AuthUser,
    q: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let p = page(q.limit, q.cursor.as_deref())?;
    let mut c = st.store.conn().await?;
    Ok(ok(&teams::list(
        &mut Db::new(&mut c, st.store.dialect()),
        p,
    )
    .await?))
}

/// Get a team.
#[utoipa::path(tag = "teams", params(("id" = i64, Path)), responses((status = 200, body = Team), CommonErrors), security(("bearer" = [])))]
#[get("/teams/{id}")]
pub async fn get_team(
    st: web::Data<AppState>,
    _u: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let mut c = st.store.conn().await?;
    let t = teams::get_by_id(&mut Db::new(&mut c, st.store.dialect()), id.into_inner())
        .await?
        .ok_or_else(|| ApiError::not_found("team"))?;
    Ok(ok(&t))
}

/// Create a team (admins).
#[utoipa::path(tag = "teams", request_body = TeamCreate, responses((status = 201, body = Team), CommonErrors), security(("bearer" = [])))]
#[post("/teams")]
pub async fn create_team(
    st: web::Data<AppState>,
    admin: Admin,
    body: Json<TeamCreate>,
) -> ApiResult<HttpResponse> {
    let b = TeamCreate {
        team_name: name("team_name", &body.team_name, 255)?,
        description: opt_text("description", body.description.as_deref(), 4000, true)?,
        division: opt_text("division", body.division.as_deref(), 255, false)?,
        department: opt_text("department", body.department.as_deref(), 255, false)?,
    };
    let now = st.now();
    let mut tx = st.store.begin_write().await?;
    let mut db = tx.db();
    let id = teams::insert(&mut db, &b, &admin.0.login_name, now)
        .await
        .map_err(unique(
            "team_name_taken",
            "a team with this name already exists",
        ))?;
    audit::write(
        &mut db,
        Event::new(
            "team_created",
            &Actor::user(admin.0.id, &admin.0.login_name),
        )
        .details(json!({"team_id": id, "team_name": b.team_name})),
        now,
    )
    .await?;
    let t = teams::get_by_id(&mut db, id)
        .await?
        .ok_or_else(ApiError::internal)?;
    tx.commit().await?;
    Ok(created(&t))
}

/// Update or (de)activate a team (admins).
#[utoipa::path(tag = "teams", params(("id" = i64, Path)), request_body = Option<TeamUpdate>, responses((status = 200, body = Team), CommonErrors), security(("bearer" = [])))]
#[patch("/teams/{id}")]
pub async fn update_team(
    st: web::Data<AppState>,
    admin: Admin,
    id: web::Path<i64>,
    body: Json<TeamUpdate>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let b = TeamUpdate {
        team_name: body
            .team_name
            .as_deref()
            .map(|n| name("team_name", n, 255))
            .transpose()?,
        description: patch_text("description", &body.description, 4000, true)?,
        division: patch_text("division", &body.division, 255, false)?,
        department: patch_text("department", &body.department, 255, false)?,
        is_active: body.is_active,
    };
    if b.is_active.is_some() {
        // (De)activating a team changes its members' access: not for a team you are in.
        let (current, mine) = {
            let mut c = st.store.conn().await?;
            let mut db = Db::new(&mut c, st.store.dialect());
            (
                teams::get_by_id(&mut db, id).await?,
                teams::member(&mut db, id, admin.0.id).await?,
            )
        };
        if current.is_some_and(|t| Some(t.is_active) != b.is_active)
            && mine.is_some_and(|m| m.is_active)
        {
            sod::guard(&st, &admin.0, admin.0.id, &[Fact::TeamMembership]).await?;
        }
    }
    let now = st.now();
    let mut tx = st.store.begin_write().await?;
    let mut db = tx.db();
    let before = teams::get_by_id(&mut db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("team"))?;
    if !teams::update(&mut db, id, &b, &admin.0.login_name, now)
        .await
        .map_err(unique(
            "team_name_taken",
            "a team with this name already exists",
        ))?
    {
        return Err(ApiError::not_found("team"));
    }
    let t = teams::get_by_id(&mut db, id)
        .await?
        .ok_or_else(ApiError::internal)?;
    audit::write(
        &mut db,
        Event::new(
            "team_updated",
            &Actor::user(admin.0.id, &admin.0.login_name),
        )
        .details(json!({"team_id": id, "changes": &*body, "before": before, "after": t})),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(ok(&t))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MembersQuery {
    /// Also list removed members (history).
    pub include_removed: Option<bool>,
}

/// Members of a team.
#[utoipa::path(tag = "teams", params(("id" = i64, Path), MembersQuery), responses((status = 200, body = Vec<TeamMember>), CommonErrors), security(("bearer" = [])))]
#[get("/teams/{id}/members")]
pub async fn list_members(
    st: web::Data<AppState>,
    _u: AuthUser,
    id: web::Path<i64>,
    q: web::Query<MembersQuery>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let mut c = st.store.conn().await?;
    let mut db = Db::new(&mut c, st.store.dialect());
    teams::get_by_id(&mut db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("team"))?;
    Ok(ok(&teams::members(
        &mut db,
        id,
        q.include_removed.unwrap_or(false),
    )
    .await?))
}

/// Add a member (or re-activate a removed one) (admins). Idempotent.
#[utoipa::path(tag = "teams", params(("id" = i64, Path)), request_body = TeamMemberAdd, responses((status = 200, body = TeamMember), CommonErrors), security(("bearer" = [])))]
#[post("/teams/{id}/members")]
pub async fn add_member(
    st: web::Data<AppState>,
    admin: Admin,
    id: web::Path<i64>,
    body: Json<TeamMemberAdd>,
) -> ApiResult<HttpResponse> {
    let team_id = id.into_inner();
    sod::guard(&st, &admin.0, body.user_id, &[Fact::TeamMembership]).await?;
    let now = st.now();
    let mut tx = st.store.begin_write().await?;
    let mut db = tx.db();
    teams::get_by_id(&mut db, team_id)
        .await?
        .ok_or_else(|| ApiError::not_found("team"))?;
    users::get_by_id(&mut db, body.user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    let before = teams::member(&mut db, team_id, body.user_id).await?;
    let added = teams::add_member(&mut db, team_id, body.user_id, now).await?;
    let m = teams::member(&mut db, team_id, body.user_id)
        .await?
        .ok_or_else(ApiError::internal)?;
    if added {
        audit::write(
            &mut db,
            Event::new(
                "team_member_added",
                &Actor::user(admin.0.id, &admin.0.login_name),
            )
            .user(body.user_id)
            .details(json!({"team_id": team_id, "before": before, "after": m})),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(ok(&m))
}

/// Remove a member (soft: the row keeps `removed_utc`) (admins).
#[utoipa::path(tag = "teams", params(("id" = i64, Path), ("user_id" = i64, Path)), responses((status = 200, body = TeamMember), CommonErrors), security(("bearer" = [])))]
#[delete("/teams/{id}/members/{user_id}")]
pub async fn remove_member(
    st: web::Data<AppState>,
    admin: Admin,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    let (team_id, user_id) = path.into_inner();
    sod::guard(&st, &admin.0, user_id, &[Fact::TeamMembership]).await?;
    let now = st.now();
    let mut tx = st.store.begin_write().await?;
    let mut db = tx.db();
    let m = teams::member(&mut db, team_id, user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("team member"))?;
    let removed = teams::remove_member(&mut db, team_id, user_id, now).await?;
    let after = teams::member(&mut db, team_id, user_id)
        .await?
        .unwrap_or_else(|| m.clone());
    if removed {
        audit::write(
            &mut db,
            Event::new(
                "team_member_removed",
                &Actor::user(admin.0.id, &admin.0.login_name),
            )
            .user(user_id)
            .details(json!({"team_id": team_id, "before": m, "after": after})),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(ok(&after))
}
