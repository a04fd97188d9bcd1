//! Browser sessions and what the web app relies on: the HttpOnly SameSite=Strict session
//! cookie, CSRF protection of cookie-authenticated changes, security headers on every
//! response, and the live event stream scoped to what each caller may see.

use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use jitea_tests::*;

const PW: &str = "a-long-test-password";

fn session_cookie(r: &RawResp) -> String {
    let set = r
        .header_values("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("jitea_session="))
        .expect("session cookie set")
        .to_string();
    set.split(';').next().unwrap().to_string()
}

#[test]
fn browser_session_uses_an_httponly_cookie_and_requires_the_csrf_token_for_changes() {
    let s = Server::start(Backend::Sqlite);
    let admin = s.admin_token();
    s.create_user(&admin, json!({"login_name": "web", "password": PW}));
    let role = s.post("/api/v1/roles", &admin, json!({"role_name": "R", "max_duration_minutes": 60, "requires_approval": false, "requires_justification": false})).expect(201).id();
    s.post(
        "/api/v1/eligibility-rules",
        &admin,
        json!({"role_id": role, "scope_type": "all"}),
    )
    .expect(201);

    let login = s.with_headers(
        "POST",
        "/api/v1/auth/session",
        &[],
        Some(&json!({"login_name": "web", "password": PW})),
    );
    assert_eq!(login.status, 200, "{}", login.text);
    let set = login.header_values("set-cookie").join(" | ");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/"),
        "{set}"
    );
    assert!(
        login.body.get("token").is_none(),
        "the page must never see the token: {}",
        login.text
    );
    let csrf = login.body["csrf_token"].as_str().unwrap().to_string();
    let cookie = session_cookie(&login);

    // Reads work with the cookie alone; the session can be restored after a reload.
    let me = s.with_headers("GET", "/api/v1/me", &[("Cookie", &cookie)], None);
    assert_eq!(
        (me.status, me.body["login_name"].as_str()),
        (200, Some("web"))
    );
    let restored = s.with_headers("GET", "/api/v1/auth/session", &[("Cookie", &cookie)], None);
    assert_eq!(restored.body["csrf_token"], csrf.as_str());

    // Changes need the CSRF token bound to this session.
    let body = json!({"role_id": role, "requested_duration_minutes": 10});
    let no_token = s.with_headers(
        "POST",
        "/api/v1/requests",
        &[("Cookie", &cookie)],
        Some(&body),
    );
    assert_eq!(
        (no_token.status, no_token.body["error"]["code"].as_str()),
        (403, Some("csrf_failed"))
    );
    let wrong = s.with_headers(
        "POST",
        "/api/v1/requests",
        &[("Cookie", &cookie), ("X-CSRF-Token", "0000")],
        Some(&body),
    );
    assert_eq!(wrong.status, 403);
    assert!(
        s.get("/api/v1/requests", &admin).body["items"]
            .as_array()
            .unwrap()
            .is_empty(),
        "a refused change must change nothing"
    );
    let ok = s.with_headers(
        "POST",
        "/api/v1/requests",
        &[("Cookie", &cookie), ("X-CSRF-Token", &csrf)],
        Some(&body),
    );
    assert_eq!(ok.status, 201, "{}", ok.text);

    // An API token is not accepted as a cookie (it carries no CSRF binding).
    let api_cookie = format!("jitea_session={}", s.login("web", PW));
    let r = s.with_headers("GET", "/api/v1/me", &[("Cookie", &api_cookie)], None);
    assert_eq!(r.status, 401);

    // Sign-out clears the cookie.
    let out = s.with_headers(
        "POST",
        "/api/v1/auth/logout",
        &[("Cookie", &cookie), ("X-CSRF-Token", &csrf)],
        None,
    );
    assert_eq!(out.status, 204, "{}", out.text);
    let cleared = out.header_values("set-cookie").join(" ");
    assert!(
        cleared.contains("jitea_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
}

#[test]
fn every_response_carries_the_security_headers() {
    let s = Server::start(Backend::Sqlite);
    let admin = s.admin_token();
    let auth = format!("Bearer {admin}");
    for path in [
        "/api/v1/me",
        "/healthz",
        "/",
        "/admin/roles",
        "/api/v1/nope",
    ] {
        let r = s.with_headers("GET", path, &[("Authorization", &auth)], None);
        let csp = r
            .header("content-security-policy")
            .unwrap_or_else(|| panic!("no CSP on {path}"));
        assert!(
            csp.contains("default-src 'self'")
                && csp.contains("frame-ancestors 'none'")
                && csp.contains("object-src 'none'"),
            "{path}: {csp}"
        );
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"), "{path}");
    }
    let api = s.with_headers("GET", "/api/v1/me", &[("Authorization", &auth)], None);
    assert_eq!(api.header("cache-control"), Some("no-store"));
}

fn wait_for(rx: &Receiver<String>, secs: u64, mut f: impl FnMut(&str) -> bool) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            let hit = f(&line);
            seen.push(line);
            if hit {
                return seen;
            }
        }
    }
    panic!("event not seen within {secs} s; got {seen:?}");
}

#[test]
fn live_events_reach_the_approver_and_not_unrelated_users() {
    let s = Server::start(Backend::Sqlite);
    let admin = s.admin_token();
    let role = s.post("/api/v1/roles", &admin, json!({"role_name": "Manual", "max_duration_minutes": 60, "requires_justification": false})).expect(201).id();
    s.post(
        "/api/v1/eligibility-rules",
        &admin,
        json!({"role_id": role, "scope_type": "all"}),
    )
    .expect(201);
    s.create_user(&admin, json!({"login_name": "req", "password": PW}));
    let appr = s.create_user(&admin, json!({"login_name": "appr", "password": PW}));
    s.create_user(&admin, json!({"login_name": "other", "password": PW}));
    s.post(
        &format!("/api/v1/roles/{role}/approvers"),
        &admin,
        json!({"approver_type": "user", "approver_user_id": appr}),
    )
    .expect(201);
    let (req, appr, other) = (
        s.login("req", PW),
        s.login("appr", PW),
        s.login("other", PW),
    );

    let appr_stream = s.stream_lines("/api/v1/events", &appr);
    let req_stream = s.stream_lines("/api/v1/events", &req);
    let other_stream = s.stream_lines("/api/v1/events", &other);
    for rx in [&appr_stream, &req_stream, &other_stream] {
        wait_for(rx, 5, |l| l == "event: hello");
    }

    let rid = s
        .post(
            "/api/v1/requests",
            &req,
            json!({"role_id": role, "requested_duration_minutes": 10}),
        )
        .expect(201)
        .id();
    let seen = wait_for(&appr_stream, 5, |l| {
        l.starts_with("data:") && l.contains(&format!("\"request_id\":{rid}"))
    });
    assert!(
        seen.iter().any(|l| l == "event: request.created"),
        "{seen:?}"
    );

    s.post(
        &format!("/api/v1/requests/{rid}/approve"),
        &appr,
        json!({"comment": "ok"}),
    )
    .expect(200);
    wait_for(&req_stream, 5, |l| l == "event: request.approved");
    wait_for(&req_stream, 5, |l| l == "event: grant.active");

    // The unrelated user's own event arrives, and nothing about the other request came first.
    s.post(
        "/api/v1/requests",
        &other,
        json!({"role_id": role, "requested_duration_minutes": 10}),
    )
    .expect(201);
    let seen = wait_for(&other_stream, 5, |l| l == "event: request.created");
    assert!(
        !seen
            .iter()
            .any(|l| l.contains(&format!("\"request_id\":{rid}"))),
        "leaked another user's request: {seen:?}"
    );
}
