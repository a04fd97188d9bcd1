//! Single sign-on through an OpenID Connect provider (authorization code flow, PKCE S256,
//! `state`, `nonce`, confidential client). The browser is sent to the provider by
//! `GET /auth/oidc/login`, comes back to `GET /auth/oidc/callback`, and leaves with the same
//! HttpOnly session cookie a password sign-in gives. The pending sign-in lives in the
//! database (`oidc_logins`: any process can finish it, and taking it is single use); an
//! HttpOnly cookie binds it to the browser that started it, so a victim cannot be made to
//! finish an attacker's sign-in. Every failure ends at `/login?error=<code>` with no session
//! and an `oidc_login_failed` audit row.

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::Duration;
use jitea_shared::{AuthProviders, OidcProviderInfo};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::oidc::redirect::safe_return_to;
use crate::auth::oidc::{random_token, sha256_hex, Oidc};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::oidc::{self as pending, PendingLogin};
use crate::store::Db;
use crate::workflow::oidc::{self as flow, Refused};

use super::auth::{begin_session, client_address, is_https};
use super::errors::CommonErrors;

/// Path of the sign-in start (shown by `GET /auth/providers`).
pub const LOGIN_PATH: &str = "/api/v1/auth/oidc/login";
/// HttpOnly cookie binding a pending sign-in to the browser that started it.
const BINDING_COOKIE: &str = "jitea_oidc";
const BINDING_PATH: &str = "/api/v1/auth/oidc";
/// How long the browser has to come back from the provider.
const PENDING_MINUTES: i64 = 10;

/// The sign-in options to show: password (open to everyone or not) and single sign-on.
#[utoipa::path(tag = "auth", responses((status = 200, body = AuthProviders)))]
#[get("/auth/providers")]
pub async fn providers(st: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(AuthProviders {
        local: st.config.local_login,
        oidc: st.config.oidc.as_ref().map(|c| OidcProviderInfo {
            name: c.name.clone(),
            login_url: LOGIN_PATH.into(),
        }),
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LoginQuery {
    /// Page of the app to show after signing in: a path such as `/requests/7` (anything
    /// else, such as another site, is replaced by `/`).
    pub return_to: Option<String>,
}

fn oidc(st: &AppState) -> ApiResult<&std::sync::Arc<Oidc>> {
    st.oidc.as_ref().ok_or_else(|| {
        ApiError::new(
            404,
            "oidc_not_configured",
            "single sign-on is not configured",
        )
    })
}

fn binding_cookie(
    req: &HttpRequest,
    st: &AppState,
    value: String,
    max_age: i64,
) -> Cookie<'static> {
    // Lax, not Strict: the browser must send it on the provider's redirect back to us.
    Cookie::build(BINDING_COOKIE, value)
        .path(BINDING_PATH)
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(is_https(req, &st.config))
        .max_age(CookieDuration::seconds(max_age))
        .finish()
}

fn to_login_page(code: &str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header(("Location", format!("/login?error={code}")))
        .insert_header(("Cache-Control", "no-store"))
        .finish()
}

/// Start single sign-on: redirects the browser to the provider.
#[utoipa::path(
    tag = "auth",
    params(LoginQuery),
    responses(
        (status = 302, description = "To the provider's sign-in page (or to `/login?error=oidc_unavailable`, or `/login?error=too_many_attempts` beyond `JITEA_OIDC_STARTS_PER_MINUTE` starts a minute from one address)"),
        CommonErrors
    )
)]
#[get("/auth/oidc/login")]
pub async fn login(
    req: HttpRequest,
    st: web::Data<AppState>,
    q: web::Query<LoginQuery>,
) -> ApiResult<HttpResponse> {
    let o = oidc(&st)?;
    let now = st.now();
    if !st
        .limits
        .sso_start(client_address(&req, &st.config).as_deref(), now)
    {
        tracing::warn!("single sign-on starts over the limit; turned away");
        return Ok(to_login_page("too_many_attempts"));
    }
    let state = random_token(32);
    let nonce = random_token(32);
    let verifier = random_token(32);
    let browser = req
        .cookie(BINDING_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| {
            v.len() == 43
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .unwrap_or_else(|| random_token(32));
    let url = match o.authorization_url(&state, &nonce, &verifier).await {
        Ok(u) => u,
        Err(e) => {
            tracing::warn!(error = %e, "OIDC sign-in could not start");
            let r = Refused {
                code: e.code(),
                reason: e.to_string(),
                user_id: None,
            };
            flow::audit_failure(&st, &r, client_address(&req, &st.config).as_deref()).await?;
            return Ok(to_login_page(e.code()));
        }
    };
    {
        let mut c = st.store.conn().await?;
        let mut db = Db::new(&mut c, st.store.dialect());
        if rand::random::<u8>() < 16 {
            pending::prune(&mut db, now).await?;
        }
        pending::insert(
            &mut db,
            &sha256_hex(&state),
            &PendingLogin {
                browser_hash: sha256_hex(&browser),
                nonce,
                code_verifier: verifier,
                return_to: safe_return_to(q.return_to.as_deref()),
                expires: now + Duration::minutes(PENDING_MINUTES),
            },
            now,
        )
        .await?;
    }
    Ok(HttpResponse::Found()
        .cookie(binding_cookie(&req, &st, browser, PENDING_MINUTES * 60))
        .insert_header(("Location", url))
        .insert_header(("Cache-Control", "no-store"))
        .finish())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    /// The authorization code.
    pub code: Option<String>,
    /// The value JITEA sent with the sign-in.
    pub state: Option<String>,
    /// The provider's issuer (RFC 9207), checked when present.
    pub iss: Option<String>,
    /// Set by the provider when the sign-in failed there.
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// Where the provider sends the browser back: exchanges the code, validates the ID token,
/// signs the user in with the session cookie and redirects to the page asked for. Failures
/// redirect to `/login?error=<code>` (`oidc_state_invalid`, `oidc_provider_error`,
/// `oidc_code_rejected`, `oidc_token_invalid`, `oidc_token_expired`, `oidc_nonce_mismatch`,
/// `oidc_claim_missing`, `oidc_claim_invalid`, `oidc_user_unknown`, `oidc_user_inactive`,
/// `oidc_user_conflict`, `oidc_unavailable`).
#[utoipa::path(
    tag = "auth",
    params(CallbackQuery),
    responses(
        (status = 302, description = "Signed in (session cookie set) and sent to `return_to`, or sent to `/login?error=<code>` with no session"),
        CommonErrors
    )
)]
#[get("/auth/oidc/callback")]
pub async fn callback(
    req: HttpRequest,
    st: web::Data<AppState>,
    q: web::Query<CallbackQuery>,
) -> ApiResult<HttpResponse> {
    let o = oidc(&st)?.clone();
    let client = client_address(&req, &st.config);
    // The binding cookie stays: other tabs of this browser may have sign-ins pending; it
    // expires by itself and grants nothing without a pending sign-in of its own.
    match finish(&req, &st, &o, &q).await? {
        Ok((cookie, return_to)) => Ok(HttpResponse::Found()
            .cookie(cookie)
            .insert_header(("Location", return_to))
            .insert_header(("Cache-Control", "no-store"))
            .finish()),
        Err(r) => {
            tracing::info!(code = r.code, reason = %r.reason, "OIDC sign-in refused");
            flow::audit_failure(&st, &r, client.as_deref()).await?;
            Ok(to_login_page(r.code))
        }
    }
}

fn refused(code: &'static str, reason: impl Into<String>) -> Refused {
    Refused {
        code,
        reason: reason.into(),
        user_id: None,
    }
}

async fn finish(
    req: &HttpRequest,
    st: &AppState,
    o: &Oidc,
    q: &CallbackQuery,
) -> ApiResult<Result<(Cookie<'static>, String), Refused>> {
    let now = st.now();
    let Some(state) = q
        .state
        .as_deref()
        .filter(|s| !s.is_empty() && s.len() <= 512)
    else {
        return Ok(Err(refused(
            "oidc_state_invalid",
            "no state in the callback",
        )));
    };
    // Taking the pending sign-in first makes every later callback with this state fail,
    // whatever happens next (single use).
    let p = {
        let mut tx = st.store.begin_write().await?;
        let p = pending::take(&mut tx.db(), &sha256_hex(state)).await?;
        tx.commit().await?;
        p
    };
    let Some(p) = p else {
        return Ok(Err(refused(
            "oidc_state_invalid",
            "unknown, used or tampered state",
        )));
    };
    if p.expires <= now {
        return Ok(Err(refused(
            "oidc_state_invalid",
            "the sign-in took too long",
        )));
    }
    let browser = req
        .cookie(BINDING_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    if sha256_hex(&browser) != p.browser_hash {
        return Ok(Err(refused(
            "oidc_state_invalid",
            "the sign-in was started in another browser",
        )));
    }
    if let Some(e) = q.error.as_deref() {
        let e: String = e.chars().filter(|c| !c.is_control()).take(100).collect();
        let d: String = q
            .error_description
            .as_deref()
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_control())
            .take(300)
            .collect();
        return Ok(Err(refused("oidc_provider_error", format!("{e}: {d}"))));
    }
    if let Some(iss) = q.iss.as_deref() {
        if iss.trim_end_matches('/') != o.config.issuer {
            return Ok(Err(refused(
                "oidc_provider_error",
                "the callback names another issuer",
            )));
        }
    }
    let Some(code) = q
        .code
        .as_deref()
        .filter(|c| !c.is_empty() && c.len() <= 4096)
    else {
        return Ok(Err(refused(
            "oidc_code_rejected",
            "no code in the callback",
        )));
    };
    let tokens = match o.exchange_code(code, &p.code_verifier).await {
        Ok(t) => t,
        Err(e) => return Ok(Err(refused(e.code(), e.to_string()))),
    };
    let claims = match o.verify_id_token(&tokens.id_token, &p.nonce).await {
        Ok(c) => c,
        Err(e) => return Ok(Err(refused(e.code(), e.to_string()))),
    };
    let claims = match o
        .complete_claims(claims, tokens.access_token.as_deref())
        .await
    {
        Ok(c) => c,
        Err(e) => return Ok(Err(refused(e.code(), e.to_string()))),
    };
    let user = match flow::sign_in(st, &o.config, &claims).await? {
        Ok(u) => u,
        Err(r) => return Ok(Err(r)),
    };
    let (cookie, _) = begin_session(req, st, user).await?;
    Ok(Ok((cookie, p.return_to)))
}
