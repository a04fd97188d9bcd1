//! `/me`: the caller's own account, what they can request, their grants, and their
//! notification settings.

use actix_web::{get, put, web, HttpResponse};
use jitea_shared::*;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::{AuthUser, Requester};
use crate::error::ApiResult;
use crate::state::AppState;
use crate::store::grants::GrantFilter;
use crate::store::{grants, Db};
use crate::workflow::access::UserAccess;

use super::errors::CommonErrors;
use super::support::{ok, page};

/// The signed-in user.
#[utoipa::path(tag = "me", responses((status = 200, body = User), CommonErrors), security(("bearer" = [])))]
#[get("/me")]
pub async fn get_me(me: AuthUser) -> HttpResponse {
    ok(&me.0)
}

/// Roles the caller may request now, with whether a request would be auto-approved and why.
#[utoipa::path(tag = "me", responses((status = 200, body = Vec<RequestableRole>), CommonErrors), security(("bearer" = [])))]
#[get("/me/requestable-roles")]
pub async fn requestable_roles(st: web::Data<AppState>, me: Requester) -> ApiResult<HttpResponse> {
    let now = st.now();
    let mut c = st.store.conn().await?;
    let mut db = Db::new(&mut c, st.store.dialect());
    let access = UserAccess::load(st.store.catalog_cache(), &mut db, &me.0).await?;
    Ok(ok(&access.requestable(now)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MyGrantsQuery {
    /// Page size (1-500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page (opaque; only values this API returned).
    pub cursor: Option<String>,
    pub status: Option<GrantStatus>,
}

/// The caller's grants, newest first (filter `status=active` for the dashboard).
#[utoipa::path(tag = "me", params(MyGrantsQuery), responses((status = 200, body = Page<Grant>), CommonErrors), security(("bearer" = [])))]
#[get("/me/grants")]
pub async fn my_grants(
    st: web::Data<AppState>,
    me: AuthUser,
    q: web::Query<MyGrantsQuery>,
) -> ApiResult<HttpResponse> {
    let p = page(q.limit, q.cursor.as_deref())?;
    let f = GrantFilter {
        user_id: Some(me.0.id),
        role_id: None,
        status: q.status,
        revoke_failed: None,
    };
    let mut c = st.store.conn().await?;
    Ok(ok(&grants::list(
        &mut Db::new(&mut c, st.store.dialect()),
        &f,
        p,
    )
    .await?))
}

/// Your notification settings: which optional notices you do not want by email.
#[utoipa::path(tag = "me", responses((status = 200, body = NotificationSettings), CommonErrors), security(("bearer" = [])))]
#[get("/me/notification-settings")]
pub async fn notification_settings(
    st: web::Data<AppState>,
    me: AuthUser,
) -> ApiResult<HttpResponse> {
    Ok(ok(
        &crate::workflow::notifications::settings(&st, &me.0).await?
    ))
}

/// Set your notification settings (both fields): mute reminders before a grant ends, and
/// decisions and access given or extended. Security alerts and requests waiting for your
/// decision cannot be muted.
#[utoipa::path(tag = "me", request_body = NotificationSettings, responses((status = 200, body = NotificationSettings), CommonErrors), security(("bearer" = [])))]
#[put("/me/notification-settings")]
pub async fn set_notification_settings(
    st: web::Data<AppState>,
    me: AuthUser,
    body: super::json::Json<NotificationSettings>,
) -> ApiResult<HttpResponse> {
    Ok(ok(&crate::workflow::notifications::set_settings(
        &st,
        &me.0,
        &body.into_inner(),
    )
    .await?))
}
