//! Outbound HTTP for the notification channels: signed webhooks (the Standard Webhooks
//! specification: `webhook-id`, `webhook-timestamp`, `webhook-signature` = `v1,` + base64
//! HMAC-SHA256 of `{id}.{timestamp}.{body}` under the subscription's secret) and the chat
//! incoming webhooks (Slack, Teams), which are plain JSON POSTs to a secret URL.
//!
//! Requests go through blocking `ureq` on tokio's blocking pool (as the OpenID client does),
//! with a 10 s timeout and no redirects. A failure's message names the HTTP status and a short,
//! cleaned excerpt of the answer, never the URL (a chat webhook URL is itself the secret).

use std::time::Duration;

use crate::outbound::{excerpt, post_json};

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
        Self {
            http: crate::outbound::agent(Duration::from_secs(10), "JITEA-webhooks/1"),
        }
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
        let (status, answer) = post_json(&self.http, url, headers, body, 4096)
            .await
            .map_err(SendError::temporary)?;
        if (200..300).contains(&status) {
            return Ok(());
        }
        let message = format!("HTTP {status}: {}", excerpt(&answer, url));
        Err(if is_permanent(status) {
            SendError::permanent(message)
        } else {
            SendError::temporary(message)
        })
    }
}

/// Answers after which retrying the same request cannot succeed.
fn is_permanent(status: u16) -> bool {
    matches!(status, 400 | 401 | 403 | 404 | 405 | 410 | 413 | 415 | 422)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_that_cannot_change_are_permanent() {
        assert!(is_permanent(404) && is_permanent(410) && !is_permanent(429));
        assert!(!is_permanent(500) && !is_permanent(408) && !is_permanent(503));
    }
}
