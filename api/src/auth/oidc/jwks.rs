//! The provider's signing keys. Read on first use; a token whose `kid` is not in the cached
//! set makes one re-read (the provider rotated its keys), at most once a second per process
//! so a flood of made-up `kid`s cannot turn into a flood of requests to the provider.

use std::time::{Duration, Instant};

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;
use tokio::sync::Mutex;

use super::OidcError;

const MIN_REFRESH: Duration = Duration::from_secs(1);

#[derive(Default)]
struct Cache {
    keys: Vec<Jwk>,
    fetched: Option<Instant>,
}

pub struct Jwks {
    http: ureq::Agent,
    cache: Mutex<Cache>,
}

fn find(keys: &[Jwk], kid: Option<&str>, alg: Algorithm) -> Option<DecodingKey> {
    let usable = |k: &&Jwk| {
        !matches!(
            k.common.public_key_use,
            Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)
        ) && k
            .common
            .key_algorithm
            .is_none_or(|a| format!("{a:?}") == format!("{alg:?}"))
    };
    let k = match kid {
        Some(kid) => keys
            .iter()
            .filter(usable)
            .find(|k| k.common.key_id.as_deref() == Some(kid)),
        // No kid: only unambiguous when the set has one usable key.
        None => {
            let mut it = keys.iter().filter(usable);
            match (it.next(), it.next()) {
                (Some(k), None) => Some(k),
                _ => None,
            }
        }
    }?;
    DecodingKey::from_jwk(k).ok()
}

impl Jwks {
    pub fn new(http: ureq::Agent) -> Self {
        Self {
            http,
            cache: Mutex::new(Cache::default()),
        }
    }

    async fn fetch(&self, uri: &str) -> Result<Vec<Jwk>, OidcError> {
        let http = self.http.clone();
        let uri = uri.to_string();
        let doc: Value = tokio::task::spawn_blocking(move || {
            let mut r = http
                .get(&uri)
                .call()
                .map_err(|e| OidcError::Unavailable(format!("JWKS: {e}")))?;
            if r.status() != 200 {
                return Err(OidcError::Unavailable(format!("JWKS: HTTP {}", r.status())));
            }
            r.body_mut()
                .read_json::<Value>()
                .map_err(|e| OidcError::Unavailable(format!("JWKS: {e}")))
        })
        .await
        .map_err(|e| OidcError::Unavailable(e.to_string()))??;
        // Keys of kinds this library does not know are skipped, not fatal.
        Ok(doc["keys"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The verification key for a token's `kid` and `alg`.
    pub async fn key_for(
        &self,
        uri: &str,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<DecodingKey, OidcError> {
        let mut c = self.cache.lock().await;
        if c.fetched.is_some() {
            if let Some(k) = find(&c.keys, kid, alg) {
                return Ok(k);
            }
        }
        if c.fetched.is_none_or(|t| t.elapsed() >= MIN_REFRESH) {
            let keys = self.fetch(uri).await?;
            c.keys = keys;
            c.fetched = Some(Instant::now());
            if let Some(k) = find(&c.keys, kid, alg) {
                return Ok(k);
            }
        }
        Err(OidcError::TokenInvalid(
            "signed by a key the provider does not publish".into(),
        ))
    }
}
