//! The identity provider's SCIM bearer tokens. A token is `jitea_scim_` + 32 random bytes
//! (base64url); JITEA stores only its SHA-256 (hex), which is the right hash for a secret of
//! that entropy, and finds a presented token by that hash. `ScimClient` is the only extractor
//! that accepts such a token, and it accepts nothing else: JITEA's own extractors refuse it
//! (it is not a JWT) and `ScimClient` refuses JITEA's tokens (their hash names no SCIM token).

use std::future::Future;
use std::pin::Pin;

use actix_web::{web, FromRequest, HttpRequest};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::directory::scim::ScimError;
use crate::state::AppState;
use crate::store::audit::Actor;
use crate::store::{scim as store, Db, StoreError};

pub const TOKEN_PREFIX: &str = "jitea_scim_";
/// How many leading characters of a token are kept to recognise it (`jitea_scim_` + 5).
pub const SHOWN_PREFIX_LEN: usize = 16;
/// `last_used_utc` is written at most this often per token.
const TOUCH_EVERY_SECS: i64 = 60;

/// A new token and what is stored about it: (token, SHA-256 hex, recognisable prefix).
pub fn new_token() -> (String, String, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let prefix = token.chars().take(SHOWN_PREFIX_LEN).collect();
    (token.clone(), hash(&token), prefix)
}

pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The caller of `/scim/v2`: an identity provider holding a live SCIM token.
#[derive(Debug, Clone)]
pub struct ScimClient {
    pub token_id: i64,
    pub name: String,
}

impl ScimClient {
    /// The audit actor: `scim:<token name>`.
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: None,
            login_name: format!("scim:{}", self.name),
        }
    }
}

fn unauthorized() -> ScimError {
    ScimError::unauthorized("a valid SCIM bearer token is required")
}

fn store_error(e: StoreError) -> ScimError {
    match e {
        StoreError::Unavailable(detail) => {
            tracing::error!(%detail, "database unavailable");
            ScimError::new(503, None, "the database is unavailable; retry later")
        }
        other => {
            tracing::error!(error = ?other, "store error while checking a SCIM token");
            ScimError::new(500, None, "an internal error occurred; it has been logged")
        }
    }
}

async fn authenticate(state: &AppState, header: Option<String>) -> Result<ScimClient, ScimError> {
    let header = header.ok_or_else(unauthorized)?;
    let (scheme, token) = header.split_once(' ').ok_or_else(unauthorized)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || !token.starts_with(TOKEN_PREFIX) {
        return Err(unauthorized());
    }
    let found = {
        let mut c = state.store.conn().await.map_err(store_error)?;
        store::live_token_by_hash(&mut Db::new(&mut c, state.store.dialect()), &hash(token))
            .await
            .map_err(store_error)?
    };
    let t = found.ok_or_else(unauthorized)?;
    let now = state.now();
    if t.last_used_utc
        .is_none_or(|u| (now - u).num_seconds() >= TOUCH_EVERY_SECS)
    {
        let mut tx = state.store.begin_write().await.map_err(store_error)?;
        store::touch_token(&mut tx.db(), t.id, now)
            .await
            .map_err(store_error)?;
        tx.commit().await.map_err(store_error)?;
    }
    Ok(ScimClient {
        token_id: t.id,
        name: t.name,
    })
}

impl FromRequest for ScimClient {
    type Error = ScimError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let header = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Box::pin(async move {
            let state = state.ok_or_else(|| ScimError::new(500, None, "not configured"))?;
            authenticate(&state, header).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_stored_as_their_hash() {
        let (a, ha, pa) = new_token();
        let (b, _, _) = new_token();
        assert_ne!(a, b);
        assert!(
            a.starts_with(TOKEN_PREFIX) && a.len() == TOKEN_PREFIX.len() + 43,
            "{a}"
        );
        assert_eq!(ha, hash(&a));
        assert_eq!(ha.len(), 64);
        assert!(a.starts_with(&pa) && pa.len() == SHOWN_PREFIX_LEN);
    }
}
