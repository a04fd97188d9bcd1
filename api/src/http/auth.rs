//! `POST /auth/login`: built-in accounts. Failed attempts are audited; the answer never says
//! whether the login or the password was wrong.

use actix_web::{post, web, HttpResponse};
use jitea_shared::{LoginRequest, LoginResponse};
use serde_json::json;

use crate::auth::password;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};
use crate::store::{credentials, users, Db};

use super::errors::CommonErrors;
use super::json::Json;

/// Sign in with a built-in account and receive a bearer token.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses((status = 200, description = "Signed in", body = LoginResponse), CommonErrors)
)]
#[post("/auth/login")]
pub async fn login(st: web::Data<AppState>, body: Json<LoginRequest>) -> ApiResult<HttpResponse> {
    let now = st.now();
    let login = body.login_name.trim();
    if login.is_empty() || login.len() > 255 || body.password.len() > password::MAX_PASSWORD_LEN * 4
    {
        return Err(ApiError::unauthorized(
            "invalid_credentials",
            "wrong login name or password",
        ));
    }
    let (user, hash) = {
        let mut c = st.store.conn().await?;
        let mut db = Db::new(&mut c, st.store.dialect());
        let user = users::get_by_login(&mut db, login).await?;
        let hash = match &user {
            Some(u) => credentials::password_hash(&mut db, u.id).await?,
            None => None,
        };
        (user, hash)
    };
    let pw = body.password.clone();
    let verified = match hash.clone() {
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
            let (token, expires_utc) = st.keys.issue(u.id, &u.login_name, now);
            Ok(HttpResponse::Ok().json(LoginResponse {
                token,
                token_type: "Bearer".into(),
                expires_utc,
                user: u,
            }))
        }
        None => {
            let actor = Actor {
                user_id: None,
                login_name: login.chars().take(255).collect(),
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
