//! Actix extractors that authenticate the caller and encode the permission a handler needs.

use std::future::Future;
use std::pin::Pin;

use actix_web::{web, FromRequest, HttpRequest};
use jitea_shared::User;

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{users, Db};

/// Any signed-in, active user.
#[derive(Debug, Clone)]
pub struct AuthUser(pub User);

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

fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
    let h = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .ok_or_else(|| {
            ApiError::unauthorized(
                "unauthenticated",
                "sign in first: send `Authorization: Bearer <token>`",
            )
        })?;
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
    Ok(token.trim().to_string())
}

async fn authenticate(state: web::Data<AppState>, token: String) -> Result<User, ApiError> {
    let user_id = state.keys.verify(&token).map_err(|code| {
        let msg = if code == "token_expired" {
            "the token has expired; sign in again"
        } else {
            "the token is not valid"
        };
        ApiError::unauthorized(code, msg)
    })?;
    let mut c = state.store.conn().await?;
    let user = users::get_by_id(&mut Db::new(&mut c, state.store.dialect()), user_id)
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
    Ok(user)
}

type Fut<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

fn extract(req: &HttpRequest) -> Fut<User> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let token = bearer(req);
    Box::pin(async move {
        let state = state.ok_or_else(ApiError::internal)?;
        authenticate(state, token?).await
    })
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
