//! The web app (built by Trunk into `JITEA_WEB_DIR`, default `./dist`) served at `/` with SPA
//! fallback, and the security headers on every response: a strict Content-Security-Policy
//! (the only inline script allowed is Trunk's loader, by hash), no framing, no sniffing, no
//! referrer, no caching of API answers.

use std::path::{Path, PathBuf};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// What the web app needs at run time, computed once at start-up.
#[derive(Debug, Clone)]
pub struct WebAssets {
    /// The built app, when `index.html` exists there.
    pub dir: Option<PathBuf>,
    /// The Content-Security-Policy for the app and the API.
    pub csp: String,
}

/// Swagger UI ships inline scripts and styles; it gets a looser policy of its own.
const SWAGGER_CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// SHA-256 hashes (CSP source form) of the inline `<script>` blocks of an HTML page.
pub fn inline_script_hashes(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(tag_end) = after.find('>') else {
            break;
        };
        let open_tag = &after[..tag_end];
        let body_start = &after[tag_end + 1..];
        let Some(close) = body_start.find("</script>") else {
            break;
        };
        if !open_tag.contains("src=") {
            let body = &body_start[..close];
            out.push(format!(
                "'sha256-{}'",
                STANDARD.encode(Sha256::digest(body.as_bytes()))
            ));
        }
        rest = &body_start[close..];
    }
    out
}

pub fn csp_for(hashes: &[String]) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{}{}; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        if hashes.is_empty() { "" } else { " " },
        hashes.join(" ")
    )
}

impl WebAssets {
    pub fn load(dir: &Path) -> Self {
        match std::fs::read_to_string(dir.join("index.html")) {
            Ok(html) => Self {
                dir: Some(dir.to_path_buf()),
                csp: csp_for(&inline_script_hashes(&html)),
            },
            Err(_) => Self {
                dir: None,
                csp: csp_for(&[]),
            },
        }
    }
}

/// Adds the security headers to every response.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let path = req.path().to_string();
    let csp = req
        .app_data::<web::Data<WebAssets>>()
        .map(|w| w.csp.clone())
        .unwrap_or_else(|| csp_for(&[]));
    // HSTS only when HTTPS is known from configuration (`JITEA_PUBLIC_URL`, or a trusted
    // proxy's `X-Forwarded-Proto`), never from a client header alone.
    let https = req
        .app_data::<web::Data<crate::state::AppState>>()
        .is_some_and(|st| super::auth::is_https(req.request(), &st.config));
    let mut res = next.call(req).await?;
    let h = res.headers_mut();
    let set = |h: &mut actix_web::http::header::HeaderMap, k: &'static str, v: &str| {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(HeaderName::from_static(k), v);
        }
    };
    let policy = if path.starts_with("/swagger-ui") {
        SWAGGER_CSP
    } else {
        csp.as_str()
    };
    set(h, "content-security-policy", policy);
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "no-referrer");
    set(h, "cross-origin-opener-policy", "same-origin");
    set(
        h,
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), payment=()",
    );
    if https {
        set(
            h,
            "strict-transport-security",
            "max-age=31536000; includeSubDomains",
        );
    }
    if (path.starts_with("/api/") || path.starts_with("/scim/")) && !h.contains_key("cache-control")
    {
        set(h, "cache-control", "no-store");
    }
    Ok(res)
}

/// Serves a file of the built app, or `index.html` for client-side routes.
pub async fn spa(
    req: HttpRequest,
    assets: web::Data<WebAssets>,
) -> actix_web::Result<HttpResponse> {
    let Some(dir) = &assets.dir else {
        return Ok(HttpResponse::NotFound().content_type("text/html; charset=utf-8").body(
            "<!doctype html><title>JITEA</title><p>The web app is not built. Run <code>scripts/run.sh</code>, or use the API at <a href=\"/swagger-ui/\">/swagger-ui/</a>.</p>",
        ));
    };
    let rel = req.path().trim_start_matches('/');
    let candidate = dir.join(rel);
    // Only plain files inside the app directory; anything else is a client-side route.
    let safe = !rel.split('/').any(|p| p == ".." || p.starts_with('.'));
    let file = if safe && !rel.is_empty() && candidate.is_file() {
        candidate
    } else {
        dir.join("index.html")
    };
    let named = actix_files::NamedFile::open(file)?;
    let mut res = named.into_response(&req);
    if req.path() == "/" || !req.path().contains('.') {
        res.headers_mut().insert(
            actix_web::http::header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        );
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_inline_scripts_are_hashed() {
        let html = r#"<script src="/a.js"></script><script type="module">init()</script>"#;
        let h = inline_script_hashes(html);
        assert_eq!(h.len(), 1);
        assert_eq!(
            h[0],
            format!("'sha256-{}'", STANDARD.encode(Sha256::digest(b"init()")))
        );
        let csp = csp_for(&h);
        assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"));
        assert!(csp.contains("frame-ancestors 'none'"));
    }
}
