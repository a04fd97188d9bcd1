//! The server and its OpenAPI document agree (what schemathesis found when they did not):
//! undeclared methods on documented paths get 405 with `Allow`; bodies must be JSON objects;
//! an integral number written as a float is that integer; text limits count what was sent;
//! the document states the limits the server enforces.

use jitea_tests::{json, Backend, Server, Value};

/// Sends any method (TRACE, OPTIONS, ...) without a body: (status, Allow header, JSON body).
fn send(srv: &Server, method: &str, path: &str, token: Option<&str>) -> (u16, String, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .allow_non_standard_methods(true)
        .build()
        .into();
    let mut b = ureq::http::Request::builder()
        .method(method)
        .uri(srv.url(path));
    if let Some(t) = token {
        b = b.header("Authorization", format!("Bearer {t}"));
    }
    let mut r = agent
        .run(b.body(()).unwrap())
        .expect("HTTP transport error");
    let allow = r
        .headers()
        .get("allow")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let text = r.body_mut().read_to_string().unwrap_or_default();
    (
        r.status().as_u16(),
        allow,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

#[test]
fn undeclared_method_on_a_documented_path_is_405_with_allow() {
    let srv = Server::start(Backend::Sqlite);
    let admin = srv.admin_token();
    for (method, path, allow) in [
        ("TRACE", "/healthz", "GET"),
        ("DELETE", "/api/v1/me", "GET"),
        ("PUT", "/api/v1/users", "GET, POST"),
        ("TRACE", "/api/v1/users/1", "GET, PATCH"),
        ("OPTIONS", "/api/v1/auth/login", "POST"),
    ] {
        let (status, got_allow, body) = send(&srv, method, path, Some(&admin));
        assert_eq!(status, 405, "{method} {path}: {body}");
        assert_eq!(got_allow, allow, "{method} {path}: Allow header");
        assert_eq!(body["error"]["code"], "method_not_allowed", "{body}");
        assert!(body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
    // Unknown paths stay 404; documented methods still reach their route.
    let (status, _, body) = send(&srv, "TRACE", "/api/v1/no-such-thing", Some(&admin));
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "route_not_found");
    let (status, _, body) = send(&srv, "GET", "/api/v1/users/abc", Some(&admin));
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "invalid_path");
}

#[test]
fn a_body_that_is_not_an_object_is_refused_and_changes_nothing() {
    let srv = Server::start(Backend::Sqlite);
    let admin = srv.admin_token();
    let team = srv
        .post(
            "/api/v1/teams",
            &admin,
            json!({"team_name": "ops", "description": "kept"}),
        )
        .expect(201)
        .id();
    for body in [
        b"[null, null]".as_slice(),
        b"[\"x\"]",
        b"42",
        b"\"text\"",
        b"null",
    ] {
        srv.raw(
            "PATCH",
            &format!("/api/v1/teams/{team}"),
            Some(&admin),
            "application/json",
            body,
        )
        .expect_error(400, "invalid_body");
    }
    let t = srv
        .get(&format!("/api/v1/teams/{team}"), &admin)
        .expect(200);
    assert_eq!(t.body["description"], "kept");
}

#[test]
fn an_integral_float_is_that_integer_and_a_fraction_is_refused() {
    let srv = Server::start(Backend::Sqlite);
    let admin = srv.admin_token();
    let team = srv
        .post("/api/v1/teams", &admin, json!({"team_name": "ops"}))
        .expect(201)
        .id();
    let user = srv.create_user(&admin, json!({"login_name": "floaty"}));
    srv.raw(
        "POST",
        &format!("/api/v1/teams/{team}/members"),
        Some(&admin),
        "application/json",
        format!("{{\"user_id\": {user}.0}}").as_bytes(),
    )
    .expect(200);
    srv.raw(
        "POST",
        &format!("/api/v1/teams/{team}/members"),
        Some(&admin),
        "application/json",
        format!("{{\"user_id\": {user}.5}}").as_bytes(),
    )
    .expect_error(400, "invalid_body");
}

#[test]
fn text_limits_count_what_was_sent() {
    let srv = Server::start(Backend::Sqlite);
    let admin = srv.admin_token();
    // 256 characters of which 255 are spaces: too long as sent, even if trimming would fit.
    let padded = format!("x{}", " ".repeat(255));
    let r = srv
        .post("/api/v1/teams", &admin, json!({"team_name": padded}))
        .expect_error(400, "validation_failed");
    assert_eq!(r.body["error"]["details"]["fields"][0]["code"], "too_long");
    // A control character is refused even where trimming would remove it.
    let r = srv
        .post(
            "/api/v1/teams",
            &admin,
            json!({"team_name": "ops", "department": "Eng\n"}),
        )
        .expect_error(400, "validation_failed");
    assert_eq!(
        r.body["error"]["details"]["fields"][0]["code"],
        "invalid_characters"
    );
    // Multi-line fields keep newlines; blank optional text is still "not set".
    let r = srv
        .post(
            "/api/v1/teams",
            &admin,
            json!({"team_name": "  ops  ", "description": "line one\nline two", "division": "   "}),
        )
        .expect(201);
    assert_eq!(r.body["team_name"], "ops");
    assert_eq!(r.body["description"], "line one\nline two");
    assert_eq!(r.body["division"], Value::Null);
}

#[test]
fn the_document_states_the_limits_the_server_enforces() {
    let srv = Server::start(Backend::Sqlite);
    let admin = srv.admin_token();
    let doc = srv
        .call("GET", "/api/v1/openapi.json", None, None)
        .expect(200)
        .body;
    let limit = doc["paths"]["/api/v1/users"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .expect("limit parameter")
        .clone();
    assert_eq!(limit["schema"]["minimum"], 1, "{limit}");
    assert_eq!(limit["schema"]["maximum"], 500, "{limit}");
    for bad in ["0", "501"] {
        srv.get(&format!("/api/v1/users?limit={bad}"), &admin)
            .expect_error(400, "invalid_query");
    }
    let seniority = &doc["components"]["schemas"]["UserCreate"]["properties"]["seniority_level"];
    assert_eq!(seniority["minimum"], 0, "{seniority}");
    assert_eq!(seniority["maximum"], 1000, "{seniority}");
    srv.post(
        "/api/v1/users",
        &admin,
        json!({"login_name": "old", "seniority_level": 1001}),
    )
    .expect_error(400, "validation_failed");
    let login = &doc["components"]["schemas"]["UserCreate"]["properties"]["login_name"];
    assert!(login["pattern"].as_str().is_some(), "{login}");
    srv.post("/api/v1/users", &admin, json!({"login_name": "a b"}))
        .expect_error(400, "validation_failed");
    // PATCH bodies whose fields are all optional may be left out, and the document says so.
    let body = &doc["paths"]["/api/v1/teams/{id}"]["patch"]["requestBody"];
    assert_ne!(body["required"], true, "{body}");
}
