//! Actix extractors that authenticate the caller and encode the permission a handler needs.

use std::future::Future;
use std::pin::Pin;

use actix_web::{web, FromRequest, HttpRequest};
use jitea_shared::User;

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{sessions, users, Db};

use super::token::{TokenError, Verified};

/// Any signed-in, active user.
#[derive(Debug, Clone)]
pub struct AuthUser(pub User);

/// Any signed-in, active user, with the token they presented (for long-lived responses such
/// as the live event stream, which re-check it).
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub token: Verified,
}

/// Any active user may request access for themselves.
#[derive(Debug, Clone)]
pub struct Requester(pub User);

/// Any active user; whether they may decide a given request is checked against that role's
/// approvers (never their own request).
#[derive(Debug, Clone)]
pub struct Approver(pub User);

/// Read-only access to everything: `is_auditor` or `is_admin`.
#[derive(Debug, Clone)]
pub struct Auditor(pub User);

/// Full administration: `is_admin`.
#[derive(Debug, Clone)]
pub struct Admin(pub User);

/// Name of the HttpOnly cookie that carries a browser session's token.
pub const SESSION_COOKIE: &str = "jitea_session";
/// Header a cookie-authenticated state change must carry (the session's CSRF token).
pub const CSRF_HEADER: &str = "X-CSRF-Token";

/// How the caller presented its token.
struct Credentials {
    token: String,
    /// From the session cookie rather than an `Authorization` header.
    via_cookie: bool,
    /// The `X-CSRF-Token` header, if any.
    csrf_header: Option<String>,
    /// GET/HEAD/OPTIONS change nothing and need no CSRF token.
    safe_method: bool,
}

fn credentials(req: &HttpRequest) -> Result<Credentials, ApiError> {
    let csrf_header = req
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let safe_method = matches!(req.method().as_str(), "GET" | "HEAD" | "OPTIONS");
    if let Some(h) = req.headers().get(actix_web::http::header::AUTHORIZATION) {
        let s = h.to_str().map_err(|_| {
            ApiError::unauthorized("invalid_token", "the Authorization header is not valid")
        })?;
        let (scheme, token) = s.split_once(' ').ok_or_else(|| {
            ApiError::unauthorized("invalid_token", "expected `Authorization: Bearer <token>`")
        })?;
        if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
            return Err(ApiError::unauthorized(
                "invalid_token",
                "expected `Authorization: Bearer <token>`",
            ));
        }
        return Ok(Credentials {
            token: token.trim().to_string(),
            via_cookie: false,
            csrf_header,
            safe_method,
        });
    }
    if let Some(c) = req.cookie(SESSION_COOKIE) {
        if !c.value().is_empty() {
            return Ok(Credentials {
                token: c.value().to_string(),
                via_cookie: true,
                csrf_header,
                safe_method,
            });
        }
    }
    Err(ApiError::unauthorized(
        "unauthenticated",
        "sign in first: send `Authorization: Bearer <token>`",
    ))
}

/// Verifies a token's signature and expiry; an unknown `kid` reloads the stored keys once (a
/// rotation by another process) before it is refused.
pub async fn verify_token(state: &AppState, token: &str) -> Result<Verified, ApiError> {
    let mut r = state.keys.verify_full(token);
    if r == Err(TokenError::UnknownKey) {
        let kid = jsonwebtoken::decode_header(token).ok().and_then(|h| h.kid);
        super::keyring::refresh(&state.keys, &state.store, state.now(), kid.as_deref()).await;
        r = state.keys.verify_full(token);
    }
    r.map_err(|e| {
        let msg = if e == TokenError::Expired {
            "the token has expired; sign in again"
        } else {
            "the token is not valid"
        };
        ApiError::unauthorized(e.code(), msg)
    })
}

/// The user a verified token stands for, if it is still theirs to use: the user exists, is
/// active, and the token's session epoch is the user's current one (401 `session_revoked`
/// after logout, a password change, deactivation or an app-role change).
pub async fn token_user(state: &AppState, v: &Verified) -> Result<User, ApiError> {
    let mut c = state.store.conn().await?;
    let mut db = Db::new(&mut c, state.store.dialect());
    let (user, epoch) = users::get_with_epoch(&mut db, v.user_id)
        .await?
        .ok_or_else(|| {
            ApiError::unauthorized("invalid_token", "the token's user no longer exists")
        })?;
    if !user.is_active {
        return Err(ApiError::unauthorized(
            "user_inactive",
            "this account is deactivated",
        ));
    }
    if epoch != v.epoch {
        return Err(ApiError::unauthorized(
            "session_revoked",
            "this session has been ended (sign-out, password or role change); sign in again",
        ));
    }
    Ok(user)
}

/// A bearer token issued by the configured OpenID Connect provider for JITEA's audience
/// (`JITEA_OIDC_AUDIENCE`): verified through the provider's keys and mapped to a user. It is
/// not bound to a JITEA session epoch; it lives until the provider's `exp`.
async fn authenticate_provider_token(
    state: &AppState,
    token: &str,
) -> Result<Option<Session>, ApiError> {
    let Some(o) = state.oidc.as_ref() else {
        return Ok(None);
    };
    if !o.is_from_provider(token) {
        return Ok(None);
    }
    let claims = match o.verify_access_token(token).await {
        None => {
            return Err(ApiError::unauthorized(
                "invalid_token",
                "provider tokens are not accepted (JITEA_OIDC_AUDIENCE is not set)",
            ))
        }
        Some(Err(e)) => {
            let code = if e == super::oidc::OidcError::TokenExpired {
                "token_expired"
            } else {
                "invalid_token"
            };
            return Err(ApiError::unauthorized(
                code,
                format!("the provider token is not valid: {e}"),
            ));
        }
        Some(Ok(c)) => c,
    };
    let user = crate::workflow::oidc::bearer_user(state, &o.config, &claims).await?;
    let mut c = state.store.conn().await?;
    let epoch = sessions::epoch(&mut Db::new(&mut c, state.store.dialect()), user.id)
        .await?
        .unwrap_or_default();
    let expires = claims
        .get("exp")
        .and_then(serde_json::Value::as_i64)
        .and_then(|e| chrono::DateTime::from_timestamp(e, 0))
        .unwrap_or_else(|| state.now());
    let jti = claims
        .get("jti")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("")
        .to_string();
    Ok(Some(Session {
        user: user.clone(),
        token: Verified {
            user_id: user.id,
            epoch,
            jti,
            csrf: None,
            expires,
        },
    }))
}

/// The one place that decides which token is valid: a cookie holds a JITEA browser session;
/// a bearer token is the configured provider's when its issuer says so (verified through the
/// provider's keys, audience `JITEA_OIDC_AUDIENCE`), else a JITEA token.
async fn authenticate(state: web::Data<AppState>, cred: Credentials) -> Result<Session, ApiError> {
    if !cred.via_cookie {
        if let Some(s) = authenticate_provider_token(&state, &cred.token).await? {
            return Ok(s);
        }
    }
    let v = verify_token(&state, &cred.token).await?;
    if cred.via_cookie {
        // A cookie must hold a browser session (bound to a CSRF token), and a state change
        // through it must echo that token: another site can make the browser send the cookie,
        // but cannot read the token.
        let Some(expected) = v.csrf.as_deref() else {
            return Err(ApiError::unauthorized(
                "invalid_token",
                "the session cookie is not valid",
            ));
        };
        if !cred.safe_method && cred.csrf_header.as_deref() != Some(expected) {
            return Err(ApiError::forbidden(
                "csrf_failed",
                "missing or wrong X-CSRF-Token header for a cookie session",
            ));
        }
    }
    let user = token_user(&state, &v).await?;
    Ok(Session { user, token: v })
}

type Fut<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

fn extract_session(req: &HttpRequest) -> Fut<Session> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let cred = credentials(req);
    Box::pin(async move {
        let state = state.ok_or_else(ApiError::internal)?;
        authenticate(state, cred?).await
    })
}

fn extract(req: &HttpRequest) -> Fut<User> {
    let f = extract_session(req);
    Box::pin(async move { f.await.map(|s| s.user) })
}

impl FromRequest for Session {
    type Error = ApiError;
    type Future = Fut<Self>;
    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        extract_session(req)
    }
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Fut<Self>;
    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let f = extract(req);
        Box::pin(async move { f.await.map(AuthUser) })
    }
}

impl FromRequest for Requester {
    type Error = ApiError;
    type Future = Fut<Self>;
    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let f = extract(req);
        Box::pin(async move { f.await.map(Requester) })
    }
}

impl FromRequest for Approver {
    type Error = ApiError;
    type Future = Fut<Self>;
    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let f = extract(req);
        Box::pin(async move { f.await.map(Approver) })
    }
}

impl FromRequest for Auditor {
    type Error = ApiError;
    type Future = Fut<Self>;
    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let f = extract(req);
        Box::pin(async move {
            let u = f.await?;
            if u.is_auditor || u.is_admin {
                Ok(Auditor(u))
            } else {
                Err(ApiError::forbidden(
                    "forbidden",
                    "this needs the auditor or admin role",
                ))
            }
        })
    }
}

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = Fut<Self>;
    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let f = extract(req);
        Box::pin(async move {
            let u = f.await?;
            if u.is_admin {
                Ok(Admin(u))
            } else {
                Err(ApiError::forbidden(
                    "forbidden",
                    "this needs the admin role",
                ))
            }
        })
    }
}
