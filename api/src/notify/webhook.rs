//! Outbound HTTP for the notification channels: signed webhooks (the Standard Webhooks
//! specification: `webhook-id`, `webhook-timestamp`, `webhook-signature` = `v1,` + base64
//! HMAC-SHA256 of `{id}.{timestamp}.{body}` under the subscription's secret) and the chat
//! incoming webhooks (Slack, Teams), which are plain JSON POSTs to a secret URL.
//!
//! Requests go through blocking `ureq` on tokio's blocking pool (as the OpenID client does),
//! with a 10 s timeout and no redirects. A failure's message names the HTTP status and a short,
//! cleaned excerpt of the answer, never the URL (a chat webhook URL is itself the secret).

use std::sync::Arc;
use std::time::Duration;

/// Why an attempt failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    /// Retrying cannot help (the receiver refused the request itself, e.g. 400, 401, 403,
    /// 404, 410, 413, 422; an SMTP 5xx): the delivery fails at once.
    pub permanent: bool,
    pub message: String,
}

impl SendError {
    pub fn temporary(message: impl Into<String>) -> Self {
        Self {
            permanent: false,
            message: message.into(),
        }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            permanent: true,
            message: message.into(),
        }
    }
}

/// The HTTP client of the notification channels.
#[derive(Clone)]
pub struct Poster {
    http: ureq::Agent,
}

impl Default for Poster {
    fn default() -> Self {
        let tls = ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::Rustls)
            .unversioned_rustls_crypto_provider(Arc::new(
                rustls::crypto::aws_lc_rs::default_provider(),
            ))
            .build();
        let http: ureq::Agent = ureq::Agent::config_builder()
            .tls_config(tls)
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent("JITEA-webhooks/1")
            .build()
            .into();
        Self { http }
    }
}

impl Poster {
    /// POSTs `body` (JSON) to `url` with `headers`; Ok on any 2xx.
    pub async fn post(
        &self,
        url: &str,
        headers: Vec<(&'static str, String)>,
        body: String,
    ) -> Result<(), SendError> {
        let http = self.http.clone();
        let url = url.to_string();
        tokio::task::spawn_blocking(move || {
            let mut req = http.post(&url).header("Content-Type", "application/json");
            for (k, v) in &headers {
                req = req.header(*k, v);
            }
            let mut r = req
                .send(body.as_bytes())
                .map_err(|e| SendError::temporary(clean(&e.to_string(), &url)))?;
            let status = r.status().as_u16();
            if (200..300).contains(&status) {
                return Ok(());
            }
            let answer = r
                .body_mut()
                .with_config()
                .limit(4096)
                .read_to_string()
                .unwrap_or_default();
            let message = format!("HTTP {status}: {}", clean(&answer, &url));
            Err(if is_permanent(status) {
                SendError::permanent(message)
            } else {
                SendError::temporary(message)
            })
        })
        .await
        .unwrap_or_else(|_| Err(SendError::temporary("the sender task stopped")))
    }
}

/// Answers after which retrying the same request cannot succeed.
fn is_permanent(status: u16) -> bool {
    matches!(status, 400 | 401 | 403 | 404 | 405 | 410 | 413 | 415 | 422)
}

/// An error or answer as stored for admins: one line, at most 200 characters, without the
/// URL (a chat webhook's URL is its secret).
fn clean(text: &str, url: &str) -> String {
    let t = if url.is_empty() {
        text.to_string()
    } else {
        text.replace(url, "<url>")
    };
    t.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect::<String>()
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_never_carry_the_url_and_stay_short() {
        let url = "https://hooks.slack.com/services/T000/B000/XXXXSECRET";
        let e = clean(
            &format!("connection to {url} failed\n{}", "x".repeat(500)),
            url,
        );
        assert!(!e.contains("XXXXSECRET"));
        assert!(e.len() <= 200 && !e.contains('\n'));
        assert!(is_permanent(404) && is_permanent(410) && !is_permanent(429));
        assert!(!is_permanent(500) && !is_permanent(408) && !is_permanent(503));
    }
}
