//! JWT issue and verification. The algorithm is pinned to HS256 (a token claiming any other
//! `alg`, including `none`, is refused), and `exp`, `iss`, `aud` and `sub` are required.

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

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
    /// Present on browser (cookie) sessions: the anti-CSRF token the page must echo in the
    /// `X-CSRF-Token` header on state-changing requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csrf: Option<String>,
}

/// A verified token: whose it is, and its CSRF binding for cookie sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub user_id: i64,
    pub csrf: Option<String>,
    pub expires: DateTime<Utc>,
}

#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl: Duration,
}

impl TokenKeys {
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            ttl,
        }
    }

    pub fn issue(&self, user_id: i64, login: &str, now: DateTime<Utc>) -> (String, DateTime<Utc>) {
        self.issue_with(user_id, login, now, None)
    }

    /// A browser session token, bound to a fresh CSRF token (returned too).
    pub fn issue_session(
        &self,
        user_id: i64,
        login: &str,
        now: DateTime<Utc>,
    ) -> (String, DateTime<Utc>, String) {
        let mut bytes = [0u8; 24];
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut bytes);
        let csrf = hex::encode(bytes);
        let (t, exp) = self.issue_with(user_id, login, now, Some(csrf.clone()));
        (t, exp, csrf)
    }

    fn issue_with(
        &self,
        user_id: i64,
        login: &str,
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
            csrf,
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing with an in-memory key cannot fail");
        (token, exp)
    }

    /// The user id of a valid token, or why it is not valid.
    pub fn verify(&self, token: &str) -> Result<i64, &'static str> {
        self.verify_full(token).map(|v| v.user_id)
    }

    /// Verifies and returns the token's user, CSRF binding and expiry.
    pub fn verify_full(&self, token: &str) -> Result<Verified, &'static str> {
        let mut v = Validation::new(Algorithm::HS256);
        v.set_issuer(&[ISSUER]);
        v.set_audience(&[AUDIENCE]);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        v.leeway = 5;
        let data = decode::<Claims>(token, &self.decoding, &v).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            match e.kind() {
                ErrorKind::ExpiredSignature => "token_expired",
                _ => "invalid_token",
            }
        })?;
        let user_id = data.claims.sub.parse().map_err(|_| "invalid_token")?;
        let expires = DateTime::from_timestamp(data.claims.exp, 0).ok_or("invalid_token")?;
        Ok(Verified {
            user_id,
            csrf: data.claims.csrf,
            expires,
        })
    }
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
    fn issued_tokens_verify() {
        let (t, _) = keys().issue(7, "alice", Utc::now());
        assert_eq!(keys().verify(&t), Ok(7));
    }

    #[test]
    fn expired_forged_and_alg_swapped_tokens_are_refused() {
        let (old, _) = keys().issue(7, "alice", Utc::now() - Duration::hours(3));
        assert_eq!(keys().verify(&old), Err("token_expired"));

        let other = TokenKeys::new(b"another-secret-another-secret-xx", Duration::minutes(60));
        let (forged, _) = other.issue(7, "alice", Utc::now());
        assert_eq!(keys().verify(&forged), Err("invalid_token"));

        let (t, _) = keys().issue(7, "alice", Utc::now());
        let parts: Vec<&str> = t.split('.').collect();
        let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        assert_eq!(
            keys().verify(&format!("{none_header}.{}.", parts[1])),
            Err("invalid_token")
        );
        let hs512 = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS512","typ":"JWT"}"#);
        assert_eq!(
            keys().verify(&format!("{hs512}.{}.{}", parts[1], parts[2])),
            Err("invalid_token")
        );
    }
}
