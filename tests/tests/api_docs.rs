//! The OpenAPI document is complete and current: it matches the committed
//! `openapi/openapi.json`, every actix route in `api/src/http` is annotated and documented,
//! every operation except the public ones requires the bearer token, and Swagger UI is served
//! from the binary (no CDN).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use jitea_tests::{Backend, Server, Value};

// ------------------------------------------------------------------------------- helpers

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Operations anyone may call: sign-in (token or browser session) and the ops endpoints.
const PUBLIC: [&str; 8] = [
    "/api/v1/auth/login",
    "/api/v1/auth/session",
    "/api/v1/auth/providers",
    "/api/v1/auth/oidc/login",
    "/api/v1/auth/oidc/callback",
    "/healthz",
    "/readyz",
    "/metrics",
];

/// Routes outside `/api/v1`.
const ROOT_ROUTES: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

fn workspace_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// One `#[get("...")]`-style route attribute found in the handler sources.
#[derive(Debug)]
struct RouteAttr {
    at: String,
    method: String,
    /// The full served path: `/api/v1` + the attribute's path, or the root path for ops.
    path: String,
    /// The attribute block above the route holds `#[utoipa::path(...)]`.
    annotated: bool,
}

/// If `line` is a route attribute, its method and path.
fn parse_route_attr(line: &str) -> Option<(String, String)> {
    let rest = line.trim_start().strip_prefix("#[")?;
    let rest = rest.strip_prefix("actix_web::").unwrap_or(rest);
    let method = METHODS
        .iter()
        .find(|m| rest.starts_with(&format!("{m}(")))?;
    let (_, after_quote) = rest.split_once('"')?;
    let (path, _) = after_quote.split_once('"')?;
    Some((method.to_string(), path.to_string()))
}

/// The attribute lines directly above line `i`: everything up to a blank line, a comment, or
/// the end of the previous item.
fn attribute_block(lines: &[&str], i: usize) -> Vec<String> {
    lines[..i]
        .iter()
        .rev()
        .map(|l| l.trim())
        .take_while(|l| {
            !l.is_empty()
                && !l.starts_with("//")
                && *l != "}"
                && !l.ends_with(';')
                && !l.ends_with('{')
        })
        .map(str::to_string)
        .collect()
}

/// Every route attribute in `api/src/http/*.rs`.
fn route_attrs() -> Vec<RouteAttr> {
    let dir = workspace_file("api/src/http");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        for (i, line) in lines.iter().enumerate() {
            let Some((method, path)) = parse_route_attr(line) else {
                continue;
            };
            let full = if ROOT_ROUTES.contains(&path.as_str()) {
                path
            } else {
                format!("/api/v1{path}")
            };
            out.push(RouteAttr {
                at: format!("api/src/http/{name}:{}", i + 1),
                method,
                path: full,
                annotated: attribute_block(&lines, i)
                    .iter()
                    .any(|l| l.contains("#[utoipa::path")),
            });
        }
    }
    assert!(
        out.len() > 20,
        "found only {} route attributes in {}; is the scan broken?",
        out.len(),
        dir.display()
    );
    out
}

/// GET /api/v1/openapi.json from a fresh server.
fn served_document() -> Value {
    let srv = Server::start(Backend::Sqlite);
    let r = srv.call("GET", "/api/v1/openapi.json", None, None);
    assert_eq!(
        r.status, 200,
        "GET /api/v1/openapi.json must serve the document; got: {}",
        r.text
    );
    assert!(
        r.body["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.")),
        "not an OpenAPI 3 document: {}",
        r.text
    );
    r.body
}

/// (method, path) of every documented operation.
fn documented_operations(doc: &Value) -> BTreeSet<(String, String)> {
    doc["paths"]
        .as_object()
        .expect("the document has paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.to_lowercase(), path.clone()))
        })
        .filter(|(m, _)| METHODS.contains(&m.as_str()))
        .collect()
}

/// Up to `max` JSON pointers at which `a` and `b` differ.
fn json_diff(a: &Value, b: &Value, at: &str, out: &mut Vec<String>, max: usize) {
    if out.len() >= max || a == b {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let (va, vb) = (
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                );
                json_diff(
                    va,
                    vb,
                    &format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                    max,
                );
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                json_diff(va, vb, &format!("{at}/{i}"), out, max);
            }
        }
        _ => out.push(format!(
            "{at}: committed {} vs served {}",
            short(a),
            short(b)
        )),
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 120 {
        format!("{}…", s.chars().take(120).collect::<String>())
    } else {
        s
    }
}

/// GET with a plain agent, for headers: (status, content type, body).
fn fetch(url: &str) -> (u16, String, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut r = agent
        .get(url)
        .call()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = r
        .body_mut()
        .with_config()
        .limit(50 << 20)
        .read_to_string()
        .unwrap_or_default();
    (r.status().as_u16(), ct, body)
}

/// The relative `src=` / `href=` targets of an HTML page.
fn page_assets(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for piece in html.split(attr).skip(1) {
            if let Some((target, _)) = piece.split_once('"') {
                out.push(target.to_string());
            }
        }
    }
    out
}

// --------------------------------------------------------------------------------- tests

#[test]
fn served_document_matches_committed_openapi_json() {
    let committed_path = workspace_file("openapi/openapi.json");
    let Ok(text) = std::fs::read_to_string(&committed_path) else {
        eprintln!("note: {} does not exist yet (generate it with `jitea openapi`); skipping the drift check", committed_path.display());
        return;
    };
    let committed: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", committed_path.display()));
    let served = served_document();
    let mut diffs = Vec::new();
    json_diff(&committed, &served, "", &mut diffs, 20);
    assert!(
        diffs.is_empty(),
        "openapi/openapi.json is out of date; regenerate it with `jitea openapi > openapi/openapi.json`. First differences:\n{}",
        diffs.join("\n")
    );
}

#[test]
fn every_route_attribute_has_a_utoipa_path() {
    let missing: Vec<String> = route_attrs()
        .iter()
        .filter(|r| !r.annotated)
        .map(|r| format!("{} {} {}", r.at, r.method, r.path))
        .collect();
    assert!(
        missing.is_empty(),
        "routes without #[utoipa::path(...)] directly above them:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_route_is_in_the_served_document() {
    let documented = documented_operations(&served_document());
    let missing: Vec<String> = route_attrs()
        .iter()
        .filter(|r| !documented.contains(&(r.method.clone(), r.path.clone())))
        .map(|r| format!("{} {} {}", r.at, r.method.to_uppercase(), r.path))
        .collect();
    assert!(
        missing.is_empty(),
        "routes missing from /api/v1/openapi.json (registered outside api_routes/ops_routes?):\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_documented_operation_is_a_route() {
    let routes: BTreeSet<(String, String)> = route_attrs()
        .into_iter()
        .map(|r| (r.method, r.path))
        .collect();
    let extra: Vec<String> = documented_operations(&served_document())
        .into_iter()
        .filter(|op| !routes.contains(op))
        .map(|(m, p)| format!("{} {p}", m.to_uppercase()))
        .collect();
    assert!(
        extra.is_empty(),
        "documented operations with no route attribute in api/src/http:\n{}",
        extra.join("\n")
    );
}

#[test]
fn operations_require_bearer_except_public_ones() {
    let doc = served_document();
    let global = doc.get("security").cloned().unwrap_or(Value::Null);
    let mut wrong = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let security = op.get("security").unwrap_or(&global);
            let bearer = security
                .as_array()
                .is_some_and(|reqs| reqs.iter().any(|r| r.get("bearer").is_some()));
            let public = PUBLIC.contains(&path.as_str());
            if bearer == public {
                let want = if public {
                    "no bearer requirement"
                } else {
                    "security: [{bearer: []}]"
                };
                wrong.push(format!(
                    "{} {path}: expected {want}, has {security}",
                    method.to_uppercase()
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "operations with the wrong security requirement:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn document_declares_bearer_security_scheme() {
    let doc = served_document();
    let scheme = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(
        scheme["type"], "http",
        "components.securitySchemes.bearer must be an http scheme: {scheme}"
    );
    assert!(
        scheme["scheme"]
            .as_str()
            .is_some_and(|s| s.eq_ignore_ascii_case("bearer")),
        "components.securitySchemes.bearer must use the bearer scheme: {scheme}"
    );
}

#[test]
fn swagger_ui_is_served_offline() {
    let srv = Server::start(Backend::Sqlite);
    let (status, ct, html) = fetch(&srv.url("/swagger-ui/"));
    assert_eq!(status, 200, "GET /swagger-ui/: {html}");
    assert!(
        ct.starts_with("text/html"),
        "GET /swagger-ui/ content type: {ct}"
    );
    assert!(
        html.contains("swagger-ui"),
        "not the Swagger UI page: {html}"
    );
    let assets = page_assets(&html);
    assert!(!assets.is_empty(), "the page loads no assets: {html}");
    for asset in assets {
        assert!(
            !asset.contains("://") && !asset.starts_with("//"),
            "Swagger UI loads {asset} from elsewhere; it must be vendored"
        );
        let (status, _, body) =
            fetch(&srv.url(&format!("/swagger-ui/{}", asset.trim_start_matches("./"))));
        assert_eq!(
            status,
            200,
            "Swagger UI asset {asset} is not served: {}",
            short(&Value::String(body))
        );
    }
}

#[test]
fn swagger_ui_loads_the_served_document() {
    let srv = Server::start(Backend::Sqlite);
    let (status, _, js) = fetch(&srv.url("/swagger-ui/swagger-initializer.js"));
    assert_eq!(status, 200, "GET /swagger-ui/swagger-initializer.js: {js}");
    assert!(
        js.contains("\"/api/v1/openapi.json\""),
        "Swagger UI must load /api/v1/openapi.json: {js}"
    );
    let (status, ct, body) = fetch(&srv.url("/api/v1/openapi.json"));
    assert_eq!(
        status, 200,
        "the document Swagger UI loads is not served: {body}"
    );
    assert!(
        ct.starts_with("application/json"),
        "GET /api/v1/openapi.json content type: {ct}"
    );
}
