//! A real OpenID provider for the OIDC tests (npm `oidc-provider`, started from
//! `tests/oidc/provider.mjs`), a JITEA server configured for it, and a minimal browser
//! (cookie jar, no automatic redirects) that walks the provider's login and consent pages.
//!
//! The provider is installed by `scripts/ensure_oidc_provider.sh` (run here once per test
//! process; idempotent). If it cannot be installed or started the test fails; it never skips.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::{free_port, Backend, Server, Value};

/// Audience (resource indicator) of provider access tokens meant for JITEA in these tests.
pub const AUDIENCE: &str = "urn:jitea:api";
/// Another API's audience: its tokens must be refused.
pub const OTHER_AUDIENCE: &str = "urn:other-api";
pub const WEB_CLIENT: (&str, &str) = ("jitea-web", "jitea-web-secret");
pub const SERVICE_CLIENT: (&str, &str) = ("svc-deploy", "svc-deploy-secret");

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The node_modules folder holding oidc-provider (installing it if needed).
fn provider_modules() -> &'static str {
    static M: OnceLock<String> = OnceLock::new();
    M.get_or_init(|| {
        let out = Command::new(repo_root().join("scripts/ensure_oidc_provider.sh"))
            .stderr(Stdio::inherit())
            .output()
            .expect("run scripts/ensure_oidc_provider.sh");
        assert!(
            out.status.success(),
            "scripts/ensure_oidc_provider.sh failed: the OIDC tests need npm oidc-provider and Node.js"
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .expect("ensure_oidc_provider.sh printed no folder")
            .trim()
            .to_string()
    })
}

/// A running oidc-provider.
pub struct Provider {
    pub issuer: String,
    child: Child,
}

impl Provider {
    /// Starts a provider whose web client redirects to `jitea_base`'s callback.
    pub fn start(jitea_base: &str) -> Self {
        Self::start_with(jitea_base, &[])
    }

    /// As `start`, with extra environment for tests/oidc/provider.mjs (such as
    /// `CONFORM_ID_TOKEN_CLAIMS=1`).
    pub fn start_with(jitea_base: &str, env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let mut child = Command::new("node")
            .arg(repo_root().join("tests/oidc/provider.mjs"))
            .env("OIDC_PROVIDER_MODULES", provider_modules())
            .env("PORT", port.to_string())
            .env(
                "REDIRECT_URI",
                format!("{jitea_base}/api/v1/auth/oidc/callback"),
            )
            .env("AUDIENCE", AUDIENCE)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start node tests/oidc/provider.mjs (is Node.js installed?)");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(l) if l.starts_with("READY ") => {
                    return Self {
                        issuer: l["READY ".len()..].trim().to_string(),
                        child,
                    }
                }
                Ok(_) => continue,
                Err(_) => {
                    let _ = child.kill();
                    panic!(
                        "the OpenID provider (tests/oidc/provider.mjs) did not start within 30 s"
                    );
                }
            }
        }
    }

    /// Replaces the provider's signing key (the old one stays published); the new `kid`.
    pub fn rotate_keys(&self) -> String {
        let mut r = agent()
            .post(format!("{}/__test/rotate", self.issuer))
            .send_empty()
            .expect("rotate provider keys");
        let v: Value = r.body_mut().read_json().unwrap();
        v["kid"].as_str().unwrap().to_string()
    }

    /// Makes the next token response carry an ID token with these claims overwritten (and
    /// re-signed; `"_foreign_key": true` signs with a key the provider does not publish).
    pub fn tamper_next_id_token(&self, changes: Value) {
        let r = agent()
            .post(format!("{}/__test/tamper_next_id_token", self.issuer))
            .send_json(&changes)
            .expect("tamper request");
        assert_eq!(r.status().as_u16(), 204);
    }

    /// An access token from the client-credentials grant for `resource` (a JWT).
    pub fn client_credentials_token(&self, client: (&str, &str), resource: &str) -> String {
        let mut r = agent()
            .post(format!("{}/token", self.issuer))
            .header("Authorization", basic(client.0, client.1))
            .send_form([
                ("grant_type", "client_credentials"),
                ("resource", resource),
                ("scope", "jitea"),
            ])
            .expect("token request");
        let status = r.status().as_u16();
        let v: Value = r.body_mut().read_json().unwrap_or(Value::Null);
        assert_eq!(status, 200, "client_credentials token: {v}");
        v["access_token"].as_str().unwrap().to_string()
    }

    /// A user's access token for `resource` from the code flow of the web client (as a script
    /// or CLI would get one): the provider's login and consent as `account`, then the code
    /// exchanged with PKCE. The JWT carries `preferred_username`.
    pub fn user_access_token(&self, jitea: &Server, account: &str, resource: &str) -> String {
        use base64::Engine;
        use sha2::Digest;
        let verifier = "a-test-code-verifier-that-is-long-enough-0123456789";
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(sha2::Sha256::digest(verifier.as_bytes()));
        let callback = jitea.url("/api/v1/auth/oidc/callback");
        let auth = format!(
            "{}/auth?response_type=code&client_id={}&redirect_uri={}&scope=openid%20jitea&resource={}&state=s1&nonce=n1&code_challenge={challenge}&code_challenge_method=S256",
            self.issuer,
            WEB_CLIENT.0,
            url_encode(&callback),
            url_encode(resource)
        );
        let mut b = Browser::default();
        let back = b.walk_provider(auth, &callback, account);
        let code = back
            .split("code=")
            .nth(1)
            .and_then(|v| v.split('&').next())
            .expect("code in the redirect")
            .to_string();
        let mut r = agent()
            .post(format!("{}/token", self.issuer))
            .header("Authorization", basic(WEB_CLIENT.0, WEB_CLIENT.1))
            .send_form([
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", callback.as_str()),
                ("code_verifier", verifier),
                ("resource", resource),
            ])
            .expect("token request");
        let status = r.status().as_u16();
        let v: Value = r.body_mut().read_json().unwrap_or(Value::Null);
        assert_eq!(status, 200, "code exchange: {v}");
        v["access_token"].as_str().unwrap().to_string()
    }

    /// The `kid` in a JWT's header.
    pub fn kid_of(token: &str) -> String {
        let h = jsonwebtoken::decode_header(token).expect("JWT header");
        h.kid.unwrap_or_default()
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn basic(id: &str, secret: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// A JITEA server configured for `provider`, plus the provider itself.
pub struct OidcSetup {
    pub provider: Provider,
    pub server: Server,
}

/// Starts a provider and a JITEA server that signs in through it (login claim
/// `preferred_username`; email, department and groups mapped; `jitea-admins` /
/// `jitea-auditors` give the app roles; provider tokens with audience [`AUDIENCE`] accepted).
pub fn start(backend: Backend, extra: &[(&str, &str)]) -> OidcSetup {
    start_with_provider(backend, extra, &[])
}

/// As `start`, with extra environment for the provider.
pub fn start_with_provider(
    backend: Backend,
    extra: &[(&str, &str)],
    provider_env: &[(&str, &str)],
) -> OidcSetup {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let provider = Provider::start_with(&base, provider_env);
    let bind = format!("127.0.0.1:{port}");
    let mut env = settings(&provider, &base);
    env.push(("JITEA_BIND", bind.as_str()));
    env.extend_from_slice(extra);
    let server = Server::start_with(backend, &env);
    OidcSetup { provider, server }
}

/// The settings of a JITEA reached at `public_url` that signs in through `provider`.
pub fn settings<'a>(provider: &'a Provider, public_url: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("JITEA_PUBLIC_URL", public_url),
        ("JITEA_OIDC_ISSUER", provider.issuer.as_str()),
        ("JITEA_OIDC_CLIENT_ID", WEB_CLIENT.0),
        ("JITEA_OIDC_CLIENT_SECRET", WEB_CLIENT.1),
        ("JITEA_OIDC_CLAIM_EMAIL", "email"),
        ("JITEA_OIDC_CLAIM_DEPARTMENT", "department"),
        ("JITEA_OIDC_CLAIM_GROUPS", "groups"),
        ("JITEA_OIDC_ADMIN_GROUPS", "jitea-admins"),
        ("JITEA_OIDC_AUDITOR_GROUPS", "jitea-auditors"),
        ("JITEA_OIDC_AUDIENCE", AUDIENCE),
    ]
}

/// One answer as the minimal browser sees it.
#[derive(Debug, Clone)]
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub body: String,
}

impl Page {
    /// The value a `Set-Cookie` of this answer gives `name`, if any.
    pub fn cookie_set(&self, name: &str) -> Option<String> {
        self.set_cookies.iter().find_map(|c| {
            let first = c.split(';').next()?;
            let (n, v) = first.split_once('=')?;
            (n.trim() == name).then(|| v.trim().to_string())
        })
    }
}

/// A browser enough for the code flow: keeps cookies (all hosts here are 127.0.0.1, and
/// cookies do not separate ports), never follows redirects by itself.
#[derive(Default)]
pub struct Browser {
    pub cookies: BTreeMap<String, String>,
}

fn origin(url: &str) -> &str {
    let after = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[after..].find('/') {
        Some(i) => &url[..after + i],
        None => url,
    }
}

/// `loc` made absolute against `base`.
pub fn absolute(base: &str, loc: &str) -> String {
    if loc.starts_with("http://") || loc.starts_with("https://") {
        loc.to_string()
    } else {
        format!("{}{}", origin(base), loc)
    }
}

impl Browser {
    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn finish(&mut self, r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Page {
        let mut r = r.expect("HTTP transport error");
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let set_cookies: Vec<String> = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_string)
            .collect();
        for c in &set_cookies {
            let first = c.split(';').next().unwrap_or("");
            if let Some((n, v)) = first.split_once('=') {
                let gone = v.is_empty()
                    || c.to_ascii_lowercase().contains("max-age=0")
                    || c.to_ascii_lowercase().contains("expires=thu, 01 jan 1970");
                if gone {
                    self.cookies.remove(n.trim());
                } else {
                    self.cookies
                        .insert(n.trim().to_string(), v.trim().to_string());
                }
            }
        }
        let body = r.body_mut().read_to_string().unwrap_or_default();
        Page {
            status,
            location,
            set_cookies,
            body,
        }
    }

    pub fn get(&mut self, url: &str) -> Page {
        let mut b = agent().get(url);
        if !self.cookies.is_empty() {
            b = b.header("Cookie", self.cookie_header());
        }
        let r = b.call();
        self.finish(r)
    }

    pub fn post_form(&mut self, url: &str, form: &[(&str, &str)]) -> Page {
        let mut b = agent().post(url);
        if !self.cookies.is_empty() {
            b = b.header("Cookie", self.cookie_header());
        }
        let r = b.send_form(form.iter().copied());
        self.finish(r)
    }

    /// Starts a sign-in at JITEA and goes through the provider's login (as `account`, an
    /// account id of tests/oidc/provider.mjs such as `u-1001`) and consent pages; returns the
    /// callback URL the provider sends the browser to, without calling it.
    pub fn sign_in_at_provider(&mut self, s: &Server, return_to: &str, account: &str) -> String {
        let callback = s.url("/api/v1/auth/oidc/callback");
        let q: String = url_encode(return_to);
        let start = self.get(&s.url(&format!("/api/v1/auth/oidc/login?return_to={q}")));
        assert_eq!(start.status, 302, "login start: {}", start.body);
        let url = start.location.expect("login start redirects");
        assert!(
            url.contains("code_challenge_method=S256")
                && url.contains("nonce=")
                && url.contains("state="),
            "authorization request lacks PKCE/nonce/state: {url}"
        );
        self.walk_provider(url, &callback, account)
    }

    /// Follows the provider from an authorization URL through its login and consent pages
    /// until it redirects to `callback`; returns that URL.
    pub fn walk_provider(&mut self, mut url: String, callback: &str, account: &str) -> String {
        for _ in 0..20 {
            if url.starts_with(callback) {
                return url;
            }
            let p = self.get(&url);
            match p.status {
                301..=303 | 307 | 308 => {
                    url = absolute(
                        &url,
                        p.location.as_deref().expect("redirect without Location"),
                    );
                }
                200 => {
                    let action = form_action(&p.body)
                        .unwrap_or_else(|| panic!("no form on the provider page: {}", p.body));
                    let action = absolute(&url, &action);
                    let next = if p.body.contains("name=\"login\"") {
                        self.post_form(
                            &action,
                            &[("prompt", "login"), ("login", account), ("password", "any")],
                        )
                    } else {
                        self.post_form(&action, &[("prompt", "consent")])
                    };
                    assert!(
                        (301..=303).contains(&next.status),
                        "form post answered {}: {}",
                        next.status,
                        next.body
                    );
                    url = absolute(&action, next.location.as_deref().unwrap());
                }
                other => panic!("provider answered {other} at {url}: {}", p.body),
            }
        }
        panic!("the provider never redirected back to JITEA");
    }
}

fn form_action(html: &str) -> Option<String> {
    let i = html.find("<form")?;
    let rest = &html[i..];
    let a = rest.find("action=\"")? + "action=\"".len();
    let end = rest[a..].find('"')?;
    Some(
        rest[a..a + end]
            .replace("&amp;", "&")
            .replace("&#x2F;", "/"),
    )
}

/// Percent-encodes a query value.
pub fn url_encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
