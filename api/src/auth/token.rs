//! JWT issue and verification. The algorithm is pinned to HS256 (a token claiming any other
//! `alg`, including `none`, is refused), and `exp`, `iss`, `aud` and `sub` are required.
//!
//! Tokens name their signing key in the header (`kid`) and carry an id (`jti`) and the user's
//! session epoch (`sep`): the extractor refuses a token whose epoch is not the user's current
//! one, so logout, a password change, deactivation or an app-role change end every earlier
//! token. The key ring holds the current key (which signs) and retired keys (which still
//! verify until every token they signed has expired).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{
    decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const ISSUER: &str = "jitea";
pub const AUDIENCE: &str = "jitea-api";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: String,
    pub login: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    /// Token id (random).
    pub jti: String,
    /// The user's session epoch when the token was issued.
    pub sep: i64,
    /// Present on browser (cookie) sessions: the anti-CSRF token the page must echo in the
    /// `X-CSRF-Token` header on state-changing requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csrf: Option<String>,
}

/// A verified token: whose it is, its session epoch, and its CSRF binding for cookie sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub user_id: i64,
    pub epoch: i64,
    pub jti: String,
    pub csrf: Option<String>,
    pub expires: DateTime<Utc>,
}

/// Why a token is not valid. `UnknownKey` may become valid after the ring is reloaded (another
/// process rotated the key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    Expired,
    Invalid,
    UnknownKey,
}

impl TokenError {
    /// The stable API code.
    pub fn code(self) -> &'static str {
        match self {
            TokenError::Expired => "token_expired",
            TokenError::Invalid | TokenError::UnknownKey => "invalid_token",
        }
    }
}

/// One signing key: its id and secret bytes.
#[derive(Clone)]
pub struct KeyMaterial {
    pub kid: String,
    pub secret: Vec<u8>,
}

impl std::fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyMaterial")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// The id of a key given as configuration: derived from (not revealing) the secret.
pub fn static_kid(secret: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(b"jitea-kid:");
    h.update(secret);
    format!("s-{}", &hex::encode(h.finalize())[..16])
}

struct Ring {
    current: String,
    encoding: EncodingKey,
    decoding: HashMap<String, DecodingKey>,
}

#[derive(Clone)]
pub struct TokenKeys {
    ring: Arc<RwLock<Ring>>,
    ttl: Duration,
    /// For stored keys: the key that opens them, and when they were last reloaded.
    kek: Option<(super::keyring::Kek, super::keyring::RefreshMark)>,
}

impl TokenKeys {
    /// A ring with one key given as configuration.
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        let k = KeyMaterial {
            kid: static_kid(secret),
            secret: secret.to_vec(),
        };
        Self::from_keys(&[k], ttl).expect("one key")
    }

    /// A ring from keys; the first one signs. `None` when `keys` is empty.
    pub fn from_keys(keys: &[KeyMaterial], ttl: Duration) -> Option<Self> {
        Some(Self {
            ring: Arc::new(RwLock::new(Self::ring(keys)?)),
            ttl,
            kek: None,
        })
    }

    /// Marks the ring as loaded from stored keys (so it can be reloaded after a rotation).
    pub fn with_kek(mut self, kek: super::keyring::Kek) -> Self {
        self.kek = Some((kek, Default::default()));
        self
    }

    pub(crate) fn kek(&self) -> Option<(super::keyring::Kek, super::keyring::RefreshMark)> {
        self.kek.clone()
    }

    fn ring(keys: &[KeyMaterial]) -> Option<Ring> {
        let first = keys.first()?;
        Some(Ring {
            current: first.kid.clone(),
            encoding: EncodingKey::from_secret(&first.secret),
            decoding: keys
                .iter()
                .map(|k| (k.kid.clone(), DecodingKey::from_secret(&k.secret)))
                .collect(),
        })
    }

    /// Replaces the ring (after a rotation); the first key signs from now on.
    pub fn replace(&self, keys: &[KeyMaterial]) {
        if let Some(r) = Self::ring(keys) {
            if let Ok(mut g) = self.ring.write() {
                *g = r;
            }
        }
    }

    /// The id of the key that signs new tokens.
    pub fn current_kid(&self) -> String {
        self.ring
            .read()
            .map(|r| r.current.clone())
            .unwrap_or_default()
    }

    pub fn knows(&self, kid: &str) -> bool {
        self.ring
            .read()
            .map(|r| r.decoding.contains_key(kid))
            .unwrap_or(false)
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A bearer token for scripts.
    pub fn issue(
        &self,
        user_id: i64,
        login: &str,
        epoch: i64,
        now: DateTime<Utc>,
    ) -> (String, DateTime<Utc>) {
        self.issue_with(user_id, login, epoch, now, None)
    }

    /// A browser session token, bound to a fresh CSRF token (returned too).
    pub fn issue_session(
        &self,
        user_id: i64,
        login: &str,
        epoch: i64,
        now: DateTime<Utc>,
    ) -> (String, DateTime<Utc>, String) {
        let csrf = random_hex(24);
        let (t, exp) = self.issue_with(user_id, login, epoch, now, Some(csrf.clone()));
        (t, exp, csrf)
    }

    fn issue_with(
        &self,
        user_id: i64,
        login: &str,
        epoch: i64,
        now: DateTime<Utc>,
        csrf: Option<String>,
    ) -> (String, DateTime<Utc>) {
        let exp = now + self.ttl;
        let claims = Claims {
            sub: user_id.to_string(),
            login: login.to_string(),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now.timestamp(),
            exp: exp.timestamp(),
            jti: random_hex(16),
            sep: epoch,
            csrf,
        };
        let ring = self.ring.read().expect("key ring lock");
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(ring.current.clone());
        let token = encode(&header, &claims, &ring.encoding)
            .expect("HS256 signing with an in-memory key cannot fail");
        (token, exp)
    }

    /// The user id of a valid token, or why it is not valid.
    pub fn verify(&self, token: &str) -> Result<i64, TokenError> {
        self.verify_full(token).map(|v| v.user_id)
    }

    /// Verifies and returns the token's user, epoch, CSRF binding and expiry.
    pub fn verify_full(&self, token: &str) -> Result<Verified, TokenError> {
        let header = decode_header(token).map_err(|_| TokenError::Invalid)?;
        if header.alg != Algorithm::HS256 {
            return Err(TokenError::Invalid);
        }
        let kid = header.kid.ok_or(TokenError::Invalid)?;
        if kid.len() > 64 {
            return Err(TokenError::Invalid);
        }
        let key = {
            let ring = self.ring.read().map_err(|_| TokenError::Invalid)?;
            ring.decoding
                .get(&kid)
                .cloned()
                .ok_or(TokenError::UnknownKey)?
        };
        let mut v = Validation::new(Algorithm::HS256);
        v.set_issuer(&[ISSUER]);
        v.set_audience(&[AUDIENCE]);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        v.leeway = 5;
        let data = decode::<Claims>(token, &key, &v).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            }
        })?;
        let user_id = data.claims.sub.parse().map_err(|_| TokenError::Invalid)?;
        let expires = DateTime::from_timestamp(data.claims.exp, 0).ok_or(TokenError::Invalid)?;
        Ok(Verified {
            user_id,
            epoch: data.claims.sep,
            jti: data.claims.jti,
            csrf: data.claims.csrf,
            expires,
        })
    }
}

fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    fn keys() -> TokenKeys {
        TokenKeys::new(b"0123456789abcdef0123456789abcdef", Duration::minutes(60))
    }

    #[test]
    fn issued_tokens_verify_and_carry_kid_jti_and_epoch() {
        let (t, _) = keys().issue(
            7,
            "alice",
            3,
            crate::clock::Clock::now(&crate::clock::SystemClock),
        );
        let v = keys().verify_full(&t).unwrap();
        assert_eq!((v.user_id, v.epoch), (7, 3));
        assert_eq!(v.jti.len(), 32);
        assert_eq!(decode_header(&t).unwrap().kid, Some(keys().current_kid()));
    }

    #[test]
    fn rotated_rings_sign_with_the_first_key_and_verify_with_all() {
        let old = KeyMaterial {
            kid: "old".into(),
            secret: b"old-secret-old-secret-old-secret".to_vec(),
        };
        let new = KeyMaterial {
            kid: "new".into(),
            secret: b"new-secret-new-secret-new-secret".to_vec(),
        };
        let ring = TokenKeys::from_keys(std::slice::from_ref(&old), Duration::minutes(60)).unwrap();
        let (t_old, _) = ring.issue(
            1,
            "a",
            0,
            crate::clock::Clock::now(&crate::clock::SystemClock),
        );
        ring.replace(&[new.clone(), old]);
        let (t_new, _) = ring.issue(
            1,
            "a",
            0,
            crate::clock::Clock::now(&crate::clock::SystemClock),
        );
        assert_eq!(decode_header(&t_new).unwrap().kid.as_deref(), Some("new"));
        assert_eq!(ring.verify(&t_old), Ok(1));
        assert_eq!(ring.verify(&t_new), Ok(1));
        ring.replace(&[new]);
        assert_eq!(ring.verify(&t_old), Err(TokenError::UnknownKey));
    }

    #[test]
    fn expired_forged_and_alg_swapped_tokens_are_refused() {
        let (old, _) = keys().issue(
            7,
            "alice",
            0,
            crate::clock::Clock::now(&crate::clock::SystemClock) - Duration::hours(3),
        );
        assert_eq!(keys().verify(&old), Err(TokenError::Expired));

        let other = TokenKeys::new(b"another-secret-another-secret-xx", Duration::minutes(60));
        let (forged, _) = other.issue(
            7,
            "alice",
            0,
            crate::clock::Clock::now(&crate::clock::SystemClock),
        );
        assert_eq!(keys().verify(&forged), Err(TokenError::UnknownKey));

        let (t, _) = keys().issue(
            7,
            "alice",
            0,
            crate::clock::Clock::now(&crate::clock::SystemClock),
        );
        let parts: Vec<&str> = t.split('.').collect();
        let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        assert!(keys()
            .verify(&format!("{none_header}.{}.", parts[1]))
            .is_err());
        let kid = keys().current_kid();
        let hs512 =
            URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"HS512","typ":"JWT","kid":"{kid}"}}"#));
        assert_eq!(
            keys().verify(&format!("{hs512}.{}.{}", parts[1], parts[2])),
            Err(TokenError::Invalid)
        );
        let no_kid = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
        assert_eq!(
            keys().verify(&format!("{no_kid}.{}.{}", parts[1], parts[2])),
            Err(TokenError::Invalid)
        );
    }
}
