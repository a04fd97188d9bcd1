//! Outbound HTTP, one way for every caller (the OpenID provider, the webhook and chat
//! notification channels, the `webhook` target): blocking `ureq` (run on tokio's blocking pool
//! by the callers) with rustls on the aws-lc-rs provider, a global timeout, no redirects, and
//! HTTP error statuses returned as values.

use std::sync::Arc;
use std::time::Duration;

/// An agent with `timeout` for a whole request, naming itself `user_agent`.
pub fn agent(timeout: Duration, user_agent: &str) -> ureq::Agent {
    let tls = ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .build();
    ureq::Agent::config_builder()
        .tls_config(tls)
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(user_agent)
        .build()
        .into()
}

/// POSTs `body` as JSON to `url` with `headers` on the blocking pool; the answer's status and
/// up to `limit` bytes of its text. The error (no answer at all) is an `excerpt`, without the
/// URL.
pub async fn post_json(
    http: &ureq::Agent,
    url: &str,
    headers: Vec<(&'static str, String)>,
    body: String,
    limit: u64,
) -> Result<(u16, String), String> {
    post(http, url, "application/json", headers, body, limit).await
}

/// `post_json` with another content type (AWS's `application/x-amz-json-1.1`).
pub async fn post(
    http: &ureq::Agent,
    url: &str,
    content_type: &'static str,
    headers: Vec<(&'static str, String)>,
    body: String,
    limit: u64,
) -> Result<(u16, String), String> {
    let http = http.clone();
    let url = url.to_string();
    tokio::task::spawn_blocking(move || {
        let mut req = http.post(&url).header("Content-Type", content_type);
        for (k, v) in &headers {
            req = req.header(*k, v);
        }
        let mut r = req
            .send(body.as_bytes())
            .map_err(|e| excerpt(&e.to_string(), &url))?;
        let text = r
            .body_mut()
            .with_config()
            .limit(limit)
            .read_to_string()
            .unwrap_or_default();
        Ok((r.status().as_u16(), text))
    })
    .await
    .unwrap_or_else(|_| Err("the request was interrupted".to_string()))
}

/// An error or answer as stored and shown: one line, at most 200 characters, with `url`
/// (which may itself be a credential, like a chat webhook's) replaced by `<url>`.
pub fn excerpt(text: &str, url: &str) -> String {
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
    fn excerpts_never_carry_the_url_and_stay_short() {
        let url = "https://hooks.slack.com/services/T000/B000/XXXXSECRET";
        let e = excerpt(
            &format!("connection to {url} failed\n{}", "x".repeat(500)),
            url,
        );
        assert!(!e.contains("XXXXSECRET"));
        assert!(e.chars().count() <= 200 && !e.contains('\n'));
    }
}
