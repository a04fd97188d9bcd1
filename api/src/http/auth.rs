//! Sign-in. `POST /auth/login` returns a bearer token for scripts; `POST /auth/session` signs a
//! browser in with an HttpOnly, SameSite=Strict cookie (the page never sees the token) and a
//! CSRF token the page echoes on state changes. Failed attempts are audited; the answer never
//! says whether the login or the password was wrong.

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use jitea_shared::{LoginRequest, LoginResponse, SessionInfo, User};
use serde_json::json;

use crate::auth::extract::SESSION_COOKIE;
use crate::auth::{password, AuthUser};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};
use crate::store::{credentials, users, Db};

use super::errors::CommonErrors;
use super::json::Json;

/// Checks a login and password, auditing the outcome.
async fn check_credentials(st: &AppState, body: &LoginRequest) -> ApiResult<User> {
    let now = st.now();
    let login_name = body.login_name.trim();
    if login_name.is_empty()
        || login_name.len() > 255
        || body.password.len() > password::MAX_PASSWORD_LEN * 4
    {
        return Err(ApiError::unauthorized(
            "invalid_credentials",
            "wrong login name or password",
        ));
    }
    let (user, hash) = {
        let mut c = st.store.conn().await?;
        let mut db = Db::new(&mut c, st.store.dialect());
        let user = users::get_by_login(&mut db, login_name).await?;
        let hash = match &user {
            Some(u) => credentials::password_hash(&mut db, u.id).await?,
            None => None,
        };
        (user, hash)
    };
    let pw = body.password.clone();
    let verified = match hash {
        Some(h) => web::block(move || password::verify(&pw, &h))
            .await
            .unwrap_or(false),
        None => {
            let _ = web::block(move || password::verify_dummy(&pw)).await;
            false
        }
    };
    let ok_user = match user {
        Some(u) if verified && u.is_active => Some(u),
        _ => None,
    };
    let mut tx = st.store.begin_write().await?;
    let mut db = tx.db();
    match ok_user {
        Some(u) => {
            audit::write(
                &mut db,
                Event::new("login_succeeded", &Actor::user(u.id, &u.login_name)).user(u.id),
                now,
            )
            .await?;
            tx.commit().await?;
            Ok(u)
        }
        None => {
            let actor = Actor {
                user_id: None,
                login_name: login_name.chars().take(255).collect(),
            };
            audit::write(
                &mut db,
                Event::new("login_failed", &actor).details(json!({"login_name": actor.login_name})),
                now,
            )
            .await?;
            tx.commit().await?;
            Err(ApiError::unauthorized(
                "invalid_credentials",
                "wrong login name or password",
            ))
        }
    }
}

/// Sign in with a built-in account and receive a bearer token (for scripts and tools).
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses((status = 200, description = "Signed in", body = LoginResponse), CommonErrors)
)]
#[post("/auth/login")]
pub async fn login(st: web::Data<AppState>, body: Json<LoginRequest>) -> ApiResult<HttpResponse> {
    let u = check_credentials(&st, &body).await?;
    let (token, expires_utc) = st.keys.issue(u.id, &u.login_name, st.now());
    Ok(HttpResponse::Ok().json(LoginResponse {
        token,
        token_type: "Bearer".into(),
        expires_utc,
        user: u,
    }))
}

fn session_cookie(req: &HttpRequest, value: String, max_age_secs: i64) -> Cookie<'static> {
    let secure = req.connection_info().scheme() == "https";
    Cookie::build(SESSION_COOKIE, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .max_age(CookieDuration::seconds(max_age_secs))
        .finish()
}

/// Sign a browser in: sets the HttpOnly session cookie and returns the CSRF token to send as
/// `X-CSRF-Token` on state-changing requests.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses((status = 200, description = "Signed in; session cookie set", body = SessionInfo), CommonErrors)
)]
#[post("/auth/session")]
pub async fn start_session(
    req: HttpRequest,
    st: web::Data<AppState>,
    body: Json<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let u = check_credentials(&st, &body).await?;
    let now = st.now();
    let (token, expires_utc, csrf_token) = st.keys.issue_session(u.id, &u.login_name, now);
    let cookie = session_cookie(&req, token, (expires_utc - now).num_seconds());
    Ok(HttpResponse::Ok().cookie(cookie).json(SessionInfo {
        user: u,
        csrf_token,
        expires_utc,
    }))
}

/// The current browser session (restores the page after a reload), or 401.
#[utoipa::path(tag = "auth", responses((status = 200, body = SessionInfo), CommonErrors))]
#[get("/auth/session")]
pub async fn current_session(req: HttpRequest, st: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let none = || ApiError::unauthorized("unauthenticated", "no browser session; sign in");
    let cookie = req.cookie(SESSION_COOKIE).ok_or_else(none)?;
    let v = st
        .keys
        .verify_full(cookie.value())
        .map_err(|code| ApiError::unauthorized(code, "the session has ended; sign in again"))?;
    let csrf_token = v.csrf.ok_or_else(none)?;
    let mut c = st.store.conn().await?;
    let user = users::get_by_id(&mut Db::new(&mut c, st.store.dialect()), v.user_id)
        .await?
        .ok_or_else(none)?;
    if !user.is_active {
        return Err(ApiError::unauthorized(
            "user_inactive",
            "this account is deactivated",
        ));
    }
    Ok(HttpResponse::Ok().json(SessionInfo {
        user,
        csrf_token,
        expires_utc: v.expires,
    }))
}

/// Sign the browser out (clears the session cookie).
#[utoipa::path(tag = "auth", responses((status = 204, description = "Signed out"), CommonErrors), security(("bearer" = [])))]
#[post("/auth/logout")]
pub async fn logout(
    req: HttpRequest,
    st: web::Data<AppState>,
    me: AuthUser,
) -> ApiResult<HttpResponse> {
    let now = st.now();
    let mut tx = st.store.begin_write().await?;
    audit::write(
        &mut tx.db(),
        Event::new("logout", &Actor::user(me.0.id, &me.0.login_name)).user(me.0.id),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(HttpResponse::NoContent()
        .cookie(session_cookie(&req, String::new(), 0))
        .finish())
}
