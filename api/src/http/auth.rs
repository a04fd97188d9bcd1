//! Sign-in. `POST /auth/login` returns a bearer token for scripts; `POST /auth/session` signs a
//! browser in with an HttpOnly, SameSite=Strict cookie (the page never sees the token) and a
//! CSRF token the page echoes on state changes. Failed attempts are throttled and audited
//! (`workflow::signin`); the answer never says whether the login or the password was wrong.
//! Logout ends every token of the user (bearer and cookie).

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use jitea_shared::{LoginRequest, LoginResponse, SessionInfo};
use serde_json::json;

use crate::auth::extract::SESSION_COOKIE;
use crate::auth::{keyring, password, AuthUser};
use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{users, Db};
use crate::workflow::signin;

use super::errors::{CommonErrors, ThrottleErrors};
use super::json::Json;

/// The client's address for throttling: the TCP peer, or (only with `JITEA_TRUST_PROXY`) the
/// address the proxy appended last to `X-Forwarded-For`.
pub fn client_address(req: &HttpRequest, config: &Config) -> Option<String> {
    if config.trust_proxy {
        let forwarded = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|s| s.trim().parse::<std::net::IpAddr>().ok())
            .last();
        if let Some(ip) = forwarded {
            return Some(ip.to_string());
        }
    }
    req.peer_addr().map(|a| a.ip().to_string())
}

/// Whether the client reached us over HTTPS, by configuration: `JITEA_PUBLIC_URL` starts with
/// `https://`, or `JITEA_TRUST_PROXY` is set and the proxy says `X-Forwarded-Proto: https`.
/// A client-supplied header alone never decides.
pub fn is_https(req: &HttpRequest, config: &Config) -> bool {
    if config.public_https() {
        return true;
    }
    config.trust_proxy
        && req
            .headers()
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(',')
                    .next_back()
                    .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
            })
}

/// The password rules for a new password of `login_name` (400 with a field error).
pub fn password_rule(pw: &str, login_name: &str) -> ApiResult<()> {
    password::validate_new_password(pw, login_name).map_err(|m| {
        ApiError::bad_request("validation_failed", m.clone()).with_details(
            json!({"fields": [{"field": "password", "code": "weak_password", "message": m}]}),
        )
    })
}

/// [`password_rule`] for an existing user (404 when there is none).
pub async fn check_new_password(st: &AppState, user_id: i64, pw: &str) -> ApiResult<()> {
    let mut c = st.store.conn().await?;
    let u = users::get_by_id(&mut Db::new(&mut c, st.store.dialect()), user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    password_rule(pw, &u.login_name)
}

/// Sign in with a built-in account and receive a bearer token (for scripts and tools).
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses((status = 200, description = "Signed in", body = LoginResponse), CommonErrors, ThrottleErrors)
)]
#[post("/auth/login")]
pub async fn login(
    req: HttpRequest,
    st: web::Data<AppState>,
    body: Json<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let u = check_password(&req, &st, &body).await?;
    let epoch = signin::current_epoch(&st, u.id).await?;
    keyring::refresh(&st.keys, &st.store, st.now(), None).await;
    let (token, expires_utc) = st.keys.issue(u.id, &u.login_name, epoch, st.now());
    Ok(HttpResponse::Ok().json(LoginResponse {
        token,
        token_type: "Bearer".into(),
        expires_utc,
        user: u,
    }))
}

/// The password check both sign-in routes share (throttled per login and client address).
async fn check_password(
    req: &HttpRequest,
    st: &AppState,
    body: &LoginRequest,
) -> ApiResult<jitea_shared::User> {
    let client = client_address(req, &st.config);
    signin::check_credentials(st, &body.login_name, &body.password, client.as_deref()).await
}

fn session_cookie(
    req: &HttpRequest,
    config: &Config,
    value: String,
    max_age_secs: i64,
) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(is_https(req, config))
        .max_age(CookieDuration::seconds(max_age_secs))
        .finish()
}

/// Sign a browser in: sets the HttpOnly session cookie and returns the CSRF token to send as
/// `X-CSRF-Token` on state-changing requests.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses((status = 200, description = "Signed in; session cookie set", body = SessionInfo), CommonErrors, ThrottleErrors)
)]
#[post("/auth/session")]
pub async fn start_session(
    req: HttpRequest,
    st: web::Data<AppState>,
    body: Json<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let u = check_password(&req, &st, &body).await?;
    let (cookie, info) = begin_session(&req, &st, u).await?;
    Ok(HttpResponse::Ok().cookie(cookie).json(info))
}

/// Starts a browser session for a user who has just signed in (password or single sign-on):
/// the HttpOnly session cookie carrying a token with the user's current session epoch, and
/// the CSRF token the page echoes.
pub async fn begin_session(
    req: &HttpRequest,
    st: &AppState,
    u: jitea_shared::User,
) -> ApiResult<(Cookie<'static>, SessionInfo)> {
    let epoch = signin::current_epoch(st, u.id).await?;
    keyring::refresh(&st.keys, &st.store, st.now(), None).await;
    let now = st.now();
    let (token, expires_utc, csrf_token) = st.keys.issue_session(u.id, &u.login_name, epoch, now);
    let cookie = session_cookie(req, &st.config, token, (expires_utc - now).num_seconds());
    Ok((
        cookie,
        SessionInfo {
            user: u,
            csrf_token,
            expires_utc,
        },
    ))
}

/// The current browser session (restores the page after a reload), or 401.
#[utoipa::path(tag = "auth", responses((status = 200, body = SessionInfo), CommonErrors))]
#[get("/auth/session")]
pub async fn current_session(req: HttpRequest, st: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let none = || ApiError::unauthorized("unauthenticated", "no browser session; sign in");
    let cookie = req.cookie(SESSION_COOKIE).ok_or_else(none)?;
    let v = crate::auth::extract::verify_token(&st, cookie.value())
        .await
        .map_err(|e| ApiError::unauthorized(e.code, "the session has ended; sign in again"))?;
    let csrf_token = v.csrf.clone().ok_or_else(none)?;
    let user = crate::auth::extract::token_user(&st, &v).await?;
    Ok(HttpResponse::Ok().json(SessionInfo {
        user,
        csrf_token,
        expires_utc: v.expires,
    }))
}

/// Sign out everywhere: every token of the caller issued so far (bearer tokens and browser
/// sessions) stops working, and the session cookie is cleared.
#[utoipa::path(tag = "auth", responses((status = 204, description = "Signed out"), CommonErrors), security(("bearer" = [])))]
#[post("/auth/logout")]
pub async fn logout(
    req: HttpRequest,
    st: web::Data<AppState>,
    me: AuthUser,
) -> ApiResult<HttpResponse> {
    signin::logout(&st, &me.0).await?;
    Ok(HttpResponse::NoContent()
        .cookie(session_cookie(&req, &st.config, String::new(), 0))
        .finish())
}
