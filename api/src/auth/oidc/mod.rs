//! OpenID Connect: the provider's discovery document, its signing keys (JWKS, cached and
//! re-read when a token names an unknown `kid`), the authorization-code flow with PKCE S256,
//! and validation of ID tokens and of provider access tokens (signature, issuer, audience,
//! expiry; nonce for ID tokens). Outbound HTTP is blocking `ureq` run on the blocking pool.
//!
//! Mapping a validated token to a JITEA user lives in `workflow::oidc`; the HTTP handlers in
//! `http::oidc`. Nothing here touches the database.

mod jwks;
pub mod redirect;

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use tokio::sync::RwLock;

use crate::config::OidcConfig;

pub use jwks::Jwks;

/// A claim set of a validated token.
pub type Claims = Map<String, Value>;

/// Why an OIDC step failed; `code()` is the stable code shown to the browser and audited.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcError {
    /// The provider could not be reached or answered nonsense (discovery, JWKS).
    #[error("the identity provider is unavailable: {0}")]
    Unavailable(String),
    /// The token endpoint refused the code (used, expired, wrong verifier or client).
    #[error("the identity provider refused the code: {0}")]
    CodeRejected(String),
    /// Signature, issuer, audience, expiry or algorithm of a token is wrong.
    #[error("the token is not valid: {0}")]
    TokenInvalid(String),
    #[error("the token has expired")]
    TokenExpired,
    #[error("the ID token's nonce does not match this sign-in")]
    NonceMismatch,
}

impl OidcError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unavailable(_) => "oidc_unavailable",
            Self::CodeRejected(_) => "oidc_code_rejected",
            Self::TokenInvalid(_) => "oidc_token_invalid",
            Self::TokenExpired => "oidc_token_expired",
            Self::NonceMismatch => "oidc_nonce_mismatch",
        }
    }
}

/// The parts of the provider's `/.well-known/openid-configuration` JITEA uses.
#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    /// Where the claims the ID token left out can be read with the access token.
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
}

/// What the token endpoint answered for an authorization code.
#[derive(Debug, Clone)]
pub struct CodeTokens {
    pub id_token: String,
    /// For the UserInfo endpoint; never stored or used as a JITEA credential.
    pub access_token: Option<String>,
}

/// The configured provider, shared by every request of this process.
pub struct Oidc {
    pub config: OidcConfig,
    http: ureq::Agent,
    discovery: RwLock<Option<Discovery>>,
    jwks: Jwks,
}

/// Random URL-safe text of `bytes` random bytes (state, nonce, PKCE verifier, browser binding).
pub fn random_token(bytes: usize) -> String {
    let v: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    URL_SAFE_NO_PAD.encode(v)
}

/// PKCE S256 challenge of a verifier (RFC 7636).
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Hex SHA-256, for storing state and browser-binding values without keeping them.
pub fn sha256_hex(v: &str) -> String {
    hex::encode(Sha256::digest(v.as_bytes()))
}

impl Oidc {
    pub fn new(config: OidcConfig) -> Arc<Self> {
        let http = crate::outbound::agent(Duration::from_secs(10), "JITEA-oidc/1");
        Arc::new(Self {
            config,
            jwks: Jwks::new(http.clone()),
            http,
            discovery: RwLock::new(None),
        })
    }

    /// GET a JSON document from the provider.
    async fn get_json<T: serde::de::DeserializeOwned + Send + 'static>(
        http: ureq::Agent,
        url: String,
    ) -> Result<T, OidcError> {
        tokio::task::spawn_blocking(move || {
            let mut r = http
                .get(&url)
                .call()
                .map_err(|e| OidcError::Unavailable(format!("GET {url}: {e}")))?;
            if r.status() != 200 {
                return Err(OidcError::Unavailable(format!(
                    "GET {url}: HTTP {}",
                    r.status()
                )));
            }
            r.body_mut()
                .read_json::<T>()
                .map_err(|e| OidcError::Unavailable(format!("GET {url}: {e}")))
        })
        .await
        .map_err(|e| OidcError::Unavailable(e.to_string()))?
    }

    /// The provider's metadata, read once and kept (a failed read is retried next time).
    pub async fn discovery(&self) -> Result<Discovery, OidcError> {
        if let Some(d) = self.discovery.read().await.clone() {
            return Ok(d);
        }
        let url = format!("{}/.well-known/openid-configuration", self.config.issuer);
        let d: Discovery = Self::get_json(self.http.clone(), url).await?;
        if d.issuer.trim_end_matches('/') != self.config.issuer {
            return Err(OidcError::Unavailable(format!(
                "the provider calls itself `{}`, not the configured issuer",
                d.issuer
            )));
        }
        *self.discovery.write().await = Some(d.clone());
        Ok(d)
    }

    /// Where to send the browser: the authorization endpoint with this sign-in's parameters.
    pub async fn authorization_url(
        &self,
        state: &str,
        nonce: &str,
        code_verifier: &str,
    ) -> Result<String, OidcError> {
        let d = self.discovery().await?;
        let mut url = url::Url::parse(&d.authorization_endpoint)
            .map_err(|e| OidcError::Unavailable(format!("authorization_endpoint: {e}")))?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.config.client_id)
            .append_pair("redirect_uri", &self.config.redirect_uri)
            .append_pair("scope", "openid profile email")
            .append_pair("state", state)
            .append_pair("nonce", nonce)
            .append_pair("code_challenge", &pkce_challenge(code_verifier))
            .append_pair("code_challenge_method", "S256");
        Ok(url.into())
    }

    /// Exchanges an authorization code at the token endpoint; returns the ID token and the
    /// access token that came with it.
    pub async fn exchange_code(
        &self,
        code: &str,
        code_verifier: &str,
    ) -> Result<CodeTokens, OidcError> {
        let d = self.discovery().await?;
        let c = &self.config;
        let mut form: Vec<(String, String)> = vec![
            ("grant_type".into(), "authorization_code".into()),
            ("code".into(), code.into()),
            ("redirect_uri".into(), c.redirect_uri.clone()),
            ("code_verifier".into(), code_verifier.into()),
        ];
        let mut basic = None;
        if c.client_auth_post {
            form.push(("client_id".into(), c.client_id.clone()));
            form.push(("client_secret".into(), c.client_secret.clone()));
        } else {
            // RFC 6749 2.3.1: both parts form-urlencoded before base64.
            let enc =
                |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            basic = Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!(
                    "{}:{}",
                    enc(&c.client_id),
                    enc(&c.client_secret)
                ))
            ));
        }
        let http = self.http.clone();
        let endpoint = d.token_endpoint.clone();
        tokio::task::spawn_blocking(move || {
            let mut req = http.post(&endpoint).header("Accept", "application/json");
            if let Some(b) = &basic {
                req = req.header("Authorization", b);
            }
            let pairs: Vec<(&str, &str)> =
                form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let mut r = req
                .send_form(pairs)
                .map_err(|e| OidcError::Unavailable(format!("token endpoint: {e}")))?;
            let status = r.status().as_u16();
            let body: Value = r.body_mut().read_json().unwrap_or(Value::Null);
            if status != 200 {
                let e = body["error"].as_str().unwrap_or("unknown_error");
                return Err(OidcError::CodeRejected(format!("HTTP {status} {e}")));
            }
            let id_token = body["id_token"]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| OidcError::CodeRejected("no id_token in the answer".into()))?;
            let access_token = body["access_token"]
                .as_str()
                .filter(|t| !t.is_empty())
                .map(str::to_string);
            Ok(CodeTokens {
                id_token,
                access_token,
            })
        })
        .await
        .map_err(|e| OidcError::Unavailable(e.to_string()))?
    }

    /// The claims this sign-in maps (login, profile fields, groups) that `claims` lacks.
    pub fn missing_claims(&self, claims: &Claims) -> Vec<String> {
        let c = &self.config;
        std::iter::once(Some(&c.login_claim))
            .chain([
                c.claim_email.as_ref(),
                c.claim_department.as_ref(),
                c.claim_division.as_ref(),
                c.claim_job_title.as_ref(),
                c.claim_manager.as_ref(),
                c.claim_groups.as_ref(),
            ])
            .flatten()
            .filter(|k| !claims.contains_key(k.as_str()))
            .cloned()
            .collect()
    }

    /// Completes the claims of a validated ID token from the provider's UserInfo endpoint
    /// (OpenID Connect Core 5.3) when the ID token lacks a claim the sign-in maps: many
    /// providers put only `sub` and a few claims into the ID token. The answer must be about
    /// the same `sub` (5.3.2); its claims never replace the ID token's own. Without a
    /// UserInfo endpoint or an access token the ID token's claims are all there is.
    pub async fn complete_claims(
        &self,
        mut claims: Claims,
        access_token: Option<&str>,
    ) -> Result<Claims, OidcError> {
        if self.missing_claims(&claims).is_empty() {
            return Ok(claims);
        }
        let Some(token) = access_token else {
            return Ok(claims);
        };
        let Some(url) = self.discovery().await?.userinfo_endpoint else {
            return Ok(claims);
        };
        let http = self.http.clone();
        let bearer = format!("Bearer {token}");
        let info: Value = tokio::task::spawn_blocking(move || {
            let mut r = http
                .get(&url)
                .header("Authorization", &bearer)
                .header("Accept", "application/json")
                .call()
                .map_err(|e| OidcError::Unavailable(format!("userinfo: {e}")))?;
            if r.status() != 200 {
                return Err(OidcError::Unavailable(format!(
                    "userinfo: HTTP {}",
                    r.status()
                )));
            }
            r.body_mut()
                .with_config()
                .limit(256 * 1024)
                .read_json::<Value>()
                .map_err(|e| OidcError::Unavailable(format!("userinfo: {e}")))
        })
        .await
        .map_err(|e| OidcError::Unavailable(e.to_string()))??;
        let Value::Object(info) = info else {
            return Err(OidcError::Unavailable(
                "userinfo: the answer is not a JSON object".into(),
            ));
        };
        if info.get("sub") != claims.get("sub") {
            return Err(OidcError::TokenInvalid(
                "userinfo describes another subject than the ID token".into(),
            ));
        }
        for (k, v) in info {
            claims.entry(k).or_insert(v);
        }
        Ok(claims)
    }

    /// Validates a JWT from the provider: signature by a key of its JWKS (re-read once on an
    /// unknown `kid`), an asymmetric algorithm, `iss` = the issuer, `aud` contains `audience`,
    /// `exp` in the future (60 s leeway), `sub` present.
    pub async fn verify(&self, token: &str, audience: &str) -> Result<Claims, OidcError> {
        let d = self.discovery().await?;
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| OidcError::TokenInvalid(format!("header: {e}")))?;
        use jsonwebtoken::Algorithm::*;
        if !matches!(
            header.alg,
            RS256 | RS384 | RS512 | PS256 | PS384 | PS512 | ES256 | ES384 | EdDSA
        ) {
            return Err(OidcError::TokenInvalid(format!(
                "algorithm {:?} is not accepted",
                header.alg
            )));
        }
        let key = self
            .jwks
            .key_for(&d.jwks_uri, header.kid.as_deref(), header.alg)
            .await?;
        let mut v = jsonwebtoken::Validation::new(header.alg);
        v.set_issuer(&[&self.config.issuer, &d.issuer]);
        v.set_audience(&[audience]);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        v.leeway = 60;
        match jsonwebtoken::decode::<Claims>(token, &key, &v) {
            Ok(t) => Ok(t.claims),
            Err(e) => match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => Err(OidcError::TokenExpired),
                k => Err(OidcError::TokenInvalid(format!("{k:?}"))),
            },
        }
    }

    /// Validates an ID token of this client and this sign-in's nonce.
    pub async fn verify_id_token(&self, token: &str, nonce: &str) -> Result<Claims, OidcError> {
        let claims = self.verify(token, &self.config.client_id).await?;
        // Several audiences: the authorized party must be this client (OIDC Core 3.1.3.7).
        if claims
            .get("aud")
            .and_then(Value::as_array)
            .is_some_and(|a| a.len() > 1)
            && claims.get("azp").and_then(Value::as_str) != Some(self.config.client_id.as_str())
        {
            return Err(OidcError::TokenInvalid("azp is not this client".into()));
        }
        if claims.get("nonce").and_then(Value::as_str) != Some(nonce) {
            return Err(OidcError::NonceMismatch);
        }
        Ok(claims)
    }

    /// Validates a provider access token presented as a bearer token (audience
    /// `JITEA_OIDC_AUDIENCE`); `None` when provider tokens are not accepted.
    pub async fn verify_access_token(&self, token: &str) -> Option<Result<Claims, OidcError>> {
        let aud = self.config.audience.as_deref()?;
        Some(self.verify(token, aud).await.and_then(|c| {
            // An ID token proves a sign-in to JITEA's web client; it is not an access token,
            // even if the audience setting happens to equal the client id.
            if c.contains_key("nonce") {
                Err(OidcError::TokenInvalid(
                    "an ID token is not an access token".into(),
                ))
            } else {
                Ok(c)
            }
        }))
    }

    /// Whether a JWT (unverified) names this provider as its issuer: decides which verifier
    /// a bearer token goes to.
    pub fn is_from_provider(&self, token: &str) -> bool {
        let Some(payload) = token.split('.').nth(1) else {
            return false;
        };
        let Ok(bytes) = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')) else {
            return false;
        };
        let Ok(v) = serde_json::from_slice::<Value>(&bytes) else {
            return false;
        };
        v.get("iss")
            .and_then(Value::as_str)
            .is_some_and(|i| i.trim_end_matches('/') == self.config.issuer)
    }
}
