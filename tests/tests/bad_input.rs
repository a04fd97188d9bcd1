//! Bad input gets the documented 4xx with a stable error code — and changes nothing.
//!
//! Every test that touches the database runs on SQLite and PostgreSQL (`on_each_backend!`);
//! checks that never get past HTTP parsing run on SQLite only. "Changes nothing" is shown by
//! taking a snapshot of the affected resources and the audit log before the bad call and
//! comparing it afterwards.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jitea_tests::{json, on_each_backend, Backend, Resp, Server, Value};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};

// ------------------------------------------------------------------------------- helpers

/// A signing secret the known-key server is started with, so tests can mint tokens the
/// server would accept and then break exactly one claim.
const KNOWN_SECRET: &str = "bad-input-tests-known-secret-0123456789";
const OTHER_SECRET: &str = "a-completely-different-secret-9876543210";

/// Ids that exist in no fresh database.
const MISSING: i64 = 999_999;

/// A server with an admin and two ordinary users, each signed in.
struct Fixture {
    srv: Server,
    admin: String,
    admin_id: i64,
    alice: String,
    alice_id: i64,
    bob: String,
}

impl Fixture {
    fn new(backend: Backend) -> Self {
        Self::with_server(Server::start(backend))
    }

    fn with_server(srv: Server) -> Self {
        let admin = srv.admin_token();
        let admin_id = srv.get("/api/v1/me", &admin).expect(200).id();
        let (alice_id, alice) = user(&srv, &admin, "alice");
        let (_, bob) = user(&srv, &admin, "bob");
        Self {
            srv,
            admin,
            admin_id,
            alice,
            alice_id,
            bob,
        }
    }

    /// Creates a role anyone may request; `extra` overrides the defaults.
    fn role(&self, name: &str, extra: Value) -> i64 {
        let mut body = json!({"role_name": name, "max_duration_minutes": 60});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let role_id = self
            .srv
            .post("/api/v1/roles", &self.admin, body)
            .expect(201)
            .id();
        self.srv
            .post(
                "/api/v1/eligibility-rules",
                &self.admin,
                json!({"role_id": role_id, "scope_type": "all"}),
            )
            .expect(201);
        role_id
    }

    /// A role that needs approval, with the admin as its approver.
    fn approval_role(&self) -> i64 {
        let role_id = self.role("needs-approval", json!({"requires_approval": true}));
        self.srv
            .post(
                &format!("/api/v1/roles/{role_id}/approvers"),
                &self.admin,
                json!({"approver_type": "user", "approver_user_id": self.admin_id}),
            )
            .expect(201);
        role_id
    }

    /// Everything a bad call could have changed: roles, users, requests, grants, audit.
    fn snapshot(&self) -> Value {
        let list = |path: &str| {
            let r = self
                .srv
                .get(&format!("{path}?limit=500"), &self.admin)
                .expect(200);
            assert!(
                r.body["next_cursor"].is_null(),
                "snapshot of {path} needs paging"
            );
            r.body["items"].clone()
        };
        json!({
            "roles": list("/api/v1/roles"),
            "users": list("/api/v1/users"),
            "requests": list("/api/v1/requests"),
            "grants": list("/api/v1/grants"),
            "audit": self.srv.audit(&self.admin, ""),
        })
    }

    #[track_caller]
    fn assert_unchanged(&self, before: &Value, after_what: &str) {
        let after = self.snapshot();
        for key in ["roles", "users", "requests", "grants", "audit"] {
            assert_eq!(before[key], after[key], "{after_what} changed the {key}");
        }
    }
}

/// Creates a user with a password and signs them in; returns (id, token).
fn user(srv: &Server, admin: &str, login: &str) -> (i64, String) {
    let password = format!("{login}-password-123");
    let id = srv.create_user(admin, json!({"login_name": login, "password": password}));
    (id, srv.login(login, &password))
}

/// A request body that is valid for a role made by `Fixture::role`.
fn request_body(role_id: i64) -> Value {
    json!({"role_id": role_id, "requested_duration_minutes": 30, "justification": "incident"})
}

/// Sends raw JSON text with the right content type.
fn raw_json(srv: &Server, method: &str, path: &str, token: &str, body: &str) -> Resp {
    srv.raw(
        method,
        path,
        Some(token),
        "application/json",
        body.as_bytes(),
    )
}

/// The (field, code) pairs listed in `details.fields` of a `validation_failed` error.
fn field_codes(r: &Resp) -> Vec<(String, String)> {
    r.body["error"]["details"]["fields"]
        .as_array()
        .unwrap_or_else(|| panic!("validation error without details.fields: {}", r.text))
        .iter()
        .map(|f| {
            (
                f["field"].as_str().unwrap_or("").to_string(),
                f["code"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[track_caller]
fn assert_field_error(r: &Resp, field: &str, code: &str) {
    let fields = field_codes(r);
    assert!(
        fields.iter().any(|(f, c)| f == field && c == code),
        "expected field error {field}/{code}, got {fields:?}; body: {}",
        r.text
    );
}

/// JWT claims as the server issues them, for `sub`, valid for an hour.
fn claims(sub: i64) -> Value {
    let now = chrono::Utc::now().timestamp();
    // `sep` is the bootstrap admin's session epoch (created, then its password set: 1).
    json!({"sub": sub.to_string(), "login": "root", "iss": "jitea", "aud": "jitea-api", "iat": now, "exp": now + 3600, "jti": "minted", "sep": 1})
}

/// The key id the server gives a secret configured by `JITEA_JWT_SECRET`.
fn static_kid(secret: &str) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(b"jitea-kid:");
    h.update(secret.as_bytes());
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("s-{}", &hex[..16])
}

fn mint(secret: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(static_kid(secret));
    encode(
        &header,
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// Replaces a token's header, keeping its payload and signature.
fn with_header(token: &str, header: &str) -> String {
    let (_, rest) = token.split_once('.').unwrap();
    format!("{}.{rest}", URL_SAFE_NO_PAD.encode(header))
}

/// A fixture whose server signs with `KNOWN_SECRET`.
fn known_key_fixture(backend: Backend) -> Fixture {
    Fixture::with_server(Server::start_with(
        backend,
        &[("JITEA_JWT_SECRET", KNOWN_SECRET)],
    ))
}

/// Asserts a token is refused with 401 `code` on a read and a write, and that nothing —
/// including the audit log — changed.
#[track_caller]
fn assert_token_refused(fx: &Fixture, token: &str, code: &str) {
    let before = fx.snapshot();
    fx.srv
        .call("GET", "/api/v1/me", Some(token), None)
        .expect_error(401, code);
    fx.srv
        .post(
            "/api/v1/roles",
            token,
            json!({"role_name": "forged", "max_duration_minutes": 5}),
        )
        .expect_error(401, code);
    fx.assert_unchanged(&before, "a refused token");
}

// ------------------------------------------------------------------ malformed JSON bodies

fn malformed_json_on_create_request(backend: Backend) {
    let fx = Fixture::new(backend);
    fx.role("db-read", json!({}));
    let before = fx.snapshot();
    raw_json(
        &fx.srv,
        "POST",
        "/api/v1/requests",
        &fx.alice,
        r#"{"role_id":"#,
    )
    .expect_error(400, "invalid_json");
    fx.assert_unchanged(&before, "malformed JSON on POST /requests");
}
on_each_backend!(malformed_json_on_create_request);

fn malformed_json_on_create_role(backend: Backend) {
    let fx = Fixture::new(backend);
    let before = fx.snapshot();
    raw_json(
        &fx.srv,
        "POST",
        "/api/v1/roles",
        &fx.admin,
        r#"{"role_id":"#,
    )
    .expect_error(400, "invalid_json");
    fx.assert_unchanged(&before, "malformed JSON on POST /roles");
}
on_each_backend!(malformed_json_on_create_role);

// ------------------------------------------------------------------------- wrong types

fn wrong_types_are_invalid_body(backend: Backend) {
    let fx = Fixture::new(backend);
    let role_id = fx.role("db-read", json!({}));
    let before = fx.snapshot();
    let cases = [
        (
            "/api/v1/requests",
            &fx.alice,
            json!({"role_id": "abc", "requested_duration_minutes": 30, "justification": "x"}),
        ),
        (
            "/api/v1/requests",
            &fx.alice,
            json!({"role_id": role_id, "requested_duration_minutes": "30", "justification": "x"}),
        ),
        (
            "/api/v1/roles",
            &fx.admin,
            json!({"role_name": "typed", "max_duration_minutes": "x"}),
        ),
        (
            "/api/v1/users",
            &fx.admin,
            json!({"login_name": "mallory", "is_admin": "yes"}),
        ),
    ];
    for (path, token, body) in cases {
        let r = fx.srv.post(path, token, body.clone());
        assert_eq!(
            (r.status, r.code()),
            (400, "invalid_body"),
            "POST {path} {body}: {}",
            r.text
        );
    }
    fx.assert_unchanged(&before, "wrongly typed bodies");
}
on_each_backend!(wrong_types_are_invalid_body);

// ------------------------------------------------------- unknown fields / mass assignment

fn request_with_status_field_is_refused(backend: Backend) {
    let fx = Fixture::new(backend);
    let role_id = fx.role("db-read", json!({}));
    let before = fx.snapshot();
    let mut body = request_body(role_id);
    body["status"] = json!("approved");
    fx.srv
        .post("/api/v1/requests", &fx.alice, body)
        .expect_error(400, "invalid_body");
    fx.assert_unchanged(&before, "POST /requests with `status`");
}
on_each_backend!(request_with_status_field_is_refused);

fn request_for_someone_else_is_refused(backend: Backend) {
    let fx = Fixture::new(backend);
    let role_id = fx.role("db-read", json!({}));
    let before = fx.snapshot();
    let mut body = request_body(role_id);
    body["user_id"] = json!(fx.admin_id);
    fx.srv
        .post("/api/v1/requests", &fx.alice, body)
        .expect_error(400, "invalid_body");
    fx.assert_unchanged(&before, "POST /requests with another `user_id`");
}
on_each_backend!(request_for_someone_else_is_refused);

fn user_create_with_id_is_refused(backend: Backend) {
    let fx = Fixture::new(backend);
    let before = fx.snapshot();
    let body = json!({"id": 1, "login_name": "mallory", "password": "mallory-password-123"});
    fx.srv
        .post("/api/v1/users", &fx.admin, body)
        .expect_error(400, "invalid_body");
    fx.assert_unchanged(&before, "POST /users with `id`");
}
on_each_backend!(user_create_with_id_is_refused);

fn user_patch_of_read_only_fields_is_refused(backend: Backend) {
    let fx = Fixture::new(backend);
    let before = fx.snapshot();
    let path = format!("/api/v1/users/{}", fx.alice_id);
    for body in [
        json!({"login_name": "root"}),
        json!({"has_password": false}),
        json!({"display_name": "A", "login_name": "x"}),
    ] {
        let r = fx.srv.patch(&path, &fx.admin, body.clone());
        assert_eq!(
            (r.status, r.code()),
            (400, "invalid_body"),
            "PATCH {path} {body}: {}",
            r.text
        );
    }
    fx.assert_unchanged(&before, "PATCH /users/{id} with read-only fields");
}
on_each_backend!(user_patch_of_read_only_fields_is_refused);

fn approve_with_grant_id_is_refused(backend: Backend) {
    let fx = Fixture::new(backend);
    let role_id = fx.approval_role();
    let req = fx
        .srv
        .post("/api/v1/requests", &fx.alice, request_body(role_id))
        .expect(201);
    assert_eq!(req.body["status"], "pending", "setup: {}", req.text);
    let before = fx.snapshot();
    let path = format!("/api/v1/requests/{}/approve", req.id());
    fx.srv
        .post(&path, &fx.admin, json!({"grant_id": 1}))
        .expect_error(400, "invalid_body");
    fx.assert_unchanged(&before, "approve with `grant_id`");
    let after = fx
        .srv
        .get(&format!("/api/v1/requests/{}", req.id()), &fx.admin)
        .expect(200);
    assert_eq!(
        after.body["status"], "pending",
        "the request must still be pending: {}",
        after.text
    );
    assert!(
        after.body["grant_id"].is_null(),
        "no grant may be issued: {}",
        after.text
    );
}
on_each_backend!(approve_with_grant_id_is_refused);

// --------------------------------------------------------------- size and content type

fn oversized_body_is_payload_too_large(backend: Backend) {
    let fx = Fixture::new(backend);
    let role_id = fx.role("db-read", json!({}));
    let before = fx.snapshot();
    let mut body = request_body(role_id);
    body["justification"] = json!("j".repeat(70_000));
    fx.srv
        .post("/api/v1/requests", &fx.alice, body)
        .expect_error(413, "payload_too_large");
    fx.assert_unchanged(&before, "a 70,000-character body");
}
on_each_backend!(oversized_body_is_payload_too_large);

fn text_plain_body_is_unsupported_media_type(backend: Backend) {
    let fx = Fixture::new(backend);
    let role_id = fx.role("db-read", json!({}));
    let before = fx.snapshot();
    let body = request_body(role_id).to_string();
    fx.srv
        .raw(
            "POST",
            "/api/v1/requests",
            Some(&fx.alice),
            "text/plain",
            body.as_bytes(),
        )
        .expect_error(415, "unsupported_media_type");
    fx.assert_unchanged(&before, "a text/plain body");
}
on_each_backend!(text_plain_body_is_unsupported_media_type);

// ------------------------------------------------------------------ ids and routes

fn unknown_ids_are_not_found(backend: Backend) {
    let fx = Fixture::new(backend);
    let before = fx.snapshot();
    for path in ["/api/v1/roles", "/api/v1/requests", "/api/v1/grants"] {
        fx.srv
            .get(&format!("{path}/{MISSING}"), &fx.admin)
            .expect_error(404, "not_found");
    }
    fx.srv
        .post(
            &format!("/api/v1/requests/{MISSING}/approve"),
            &fx.admin,
            json!({}),
        )
        .expect_error(404, "not_found");
    fx.assert_unchanged(&before, "calls on unknown ids");
}
on_each_backend!(unknown_ids_are_not_found);

#[test]
fn non_numeric_id_is_invalid_path() {
    let srv = Server::start(Backend::Sqlite);
    let admin = srv.admin_token();
    for path in [
        "/api/v1/roles/abc",
        "/api/v1/requests/1.5",
        "/api/v1/grants/-",
        "/api/v1/users/99999999999999999999",
    ] {
        let r = srv.get(path, &admin);
        assert_eq!(
            (r.status, r.code()),
            (400, "invalid_path"),
            "GET {path}: {}",
            r.text
        );
    }
}

#[test]
fn paths_outside_the_api_belong_to_the_web_app() {
    let srv = Server::start(Backend::Sqlite);
    // Client-side routes of the single-page app: answered with HTML (the app, or a page that
    // says it is not built), never with a server error.
    let r = srv.call("GET", "/no-such-page", None, None);
    assert!(
        r.status == 200 || r.status == 404,
        "GET /no-such-page: {} {}",
        r.status,
        r.text
    );
    assert!(
        r.text.contains("<title>JITEA</title>") || r.text.contains("<html"),
        "{}",
        r.text
    );
}

#[test]
fn unknown_route_is_route_not_found() {
    let srv = Server::start(Backend::Sqlite);
    let admin = srv.admin_token();
    for path in ["/api/v1/no-such-thing", "/api/v1/roles/1/nothing"] {
        let r = srv.get(path, &admin);
        assert_eq!(
            (r.status, r.code()),
            (404, "route_not_found"),
            "GET {path}: {}",
            r.text
        );
    }
}

// ------------------------------------------------------------------- query values

fn bad_limit_is_invalid_query(backend: Backend) {
    let fx = Fixture::new(backend);
    for q in ["limit=0", "limit=-1", "limit=abc", "limit=100000"] {
        for path in ["/api/v1/roles", "/api/v1/requests", "/api/v1/audit"] {
            let r = fx.srv.get(&format!("{path}?{q}"), &fx.admin);
            assert_eq!(
                (r.status, r.code()),
                (400, "invalid_query"),
                "GET {path}?{q}: {}",
                r.text
            );
        }
    }
}
on_each_backend!(bad_limit_is_invalid_query);

fn garbage_cursor_is_invalid_cursor(backend: Backend) {
    let fx = Fixture::new(backend);
    // Garbage, and well-formed base64 of cursors the API never hands out.
    let mut cursors = vec!["garbage".to_string()];
    cursors.extend(["id:-1", "id:0", "id:abc", "user:1"].map(|c| URL_SAFE_NO_PAD.encode(c)));
    for path in [
        "/api/v1/roles",
        "/api/v1/requests",
        "/api/v1/grants",
        "/api/v1/users",
        "/api/v1/audit",
    ] {
        for cursor in &cursors {
            let r = fx.srv.get(&format!("{path}?cursor={cursor}"), &fx.admin);
            assert_eq!(
                (r.status, r.code()),
                (400, "invalid_cursor"),
                "GET {path}?cursor={cursor}: {}",
                r.text
            );
        }
    }
}
on_each_backend!(garbage_cursor_is_invalid_cursor);

fn unknown_status_filter_is_invalid_query(backend: Backend) {
    let fx = Fixture::new(backend);
    for path in [
        "/api/v1/requests?status=bogus",
        "/api/v1/grants?status=bogus",
        "/api/v1/roles?is_enabled=maybe",
    ] {
        let r = fx.srv.get(path, &fx.admin);
        assert_eq!(
            (r.status, r.code()),
            (400, "invalid_query"),
            "GET {path}: {}",
            r.text
        );
    }
}
on_each_backend!(unknown_status_filter_is_invalid_query);

/// `%` and `_` in a search are characters to look for, not SQL LIKE wildcards.
fn user_search_treats_wildcards_literally(backend: Backend) {
    let fx = Fixture::new(backend);
    let logins = |q: &str| -> Vec<String> {
        let r = fx
            .srv
            .get(&format!("/api/v1/users?q={q}"), &fx.admin)
            .expect(200);
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["login_name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        logins("lic"),
        ["alice"],
        "a plain substring search finds alice"
    );
    for q in ["%25", "_", "a%25e", "b_b"] {
        assert_eq!(
            logins(q),
            Vec::<String>::new(),
            "no login contains {q:?} literally"
        );
    }
}
on_each_backend!(user_search_treats_wildcards_literally);

// ------------------------------------------------------------------------ tokens

fn missing_token_is_unauthenticated(backend: Backend) {
    let fx = Fixture::new(backend);
    let before = fx.snapshot();
    fx.srv
        .call("GET", "/api/v1/me", None, None)
        .expect_error(401, "unauthenticated");
    fx.srv
        .call(
            "POST",
            "/api/v1/roles",
            None,
            Some(&json!({"role_name": "anon", "max_duration_minutes": 5})),
        )
        .expect_error(401, "unauthenticated");
    fx.assert_unchanged(&before, "calls without a token");
}
on_each_backend!(missing_token_is_unauthenticated);

fn malformed_authorization_header_is_invalid_token(backend: Backend) {
    let fx = Fixture::new(backend);
    let before = fx.snapshot();
    let basic = format!("Basic {}", URL_SAFE_NO_PAD.encode("root:root-password-123"));
    for header in [
        "Bearer garbage",
        "Bearer a.b.c",
        "Basic xxx",
        basic.as_str(),
        "Bearer",
        fx.admin.as_str(),
    ] {
        let r = fx.srv.get_with_auth_header("/api/v1/me", header);
        assert_eq!(
            (r.status, r.code()),
            (401, "invalid_token"),
            "Authorization: {header}: {}",
            r.text
        );
    }
    fx.assert_unchanged(&before, "malformed Authorization headers");
}
on_each_backend!(malformed_authorization_header_is_invalid_token);

fn token_signed_with_another_key_is_refused(backend: Backend) {
    let fx = Fixture::new(backend);
    assert_token_refused(
        &fx,
        &mint(OTHER_SECRET, &claims(fx.admin_id)),
        "invalid_token",
    );
}
on_each_backend!(token_signed_with_another_key_is_refused);

fn unsigned_alg_none_token_is_refused(backend: Backend) {
    let fx = Fixture::new(backend);
    let real = fx.admin.clone();
    let unsigned = with_header(&real, r#"{"alg":"none","typ":"JWT"}"#);
    let (head_and_payload, _) = unsigned.rsplit_once('.').unwrap();
    assert_token_refused(&fx, &format!("{head_and_payload}."), "invalid_token");
    assert_token_refused(&fx, &unsigned, "invalid_token");
}
on_each_backend!(unsigned_alg_none_token_is_refused);

fn alg_swapped_token_is_refused(backend: Backend) {
    let fx = Fixture::new(backend);
    let swapped = with_header(&fx.admin, r#"{"alg":"HS512","typ":"JWT"}"#);
    assert_token_refused(&fx, &swapped, "invalid_token");
}
on_each_backend!(alg_swapped_token_is_refused);

fn expired_token_from_another_key_is_refused(backend: Backend) {
    let fx = Fixture::new(backend);
    let mut c = claims(fx.admin_id);
    c["iat"] = json!(chrono::Utc::now().timestamp() - 7200);
    c["exp"] = json!(chrono::Utc::now().timestamp() - 3600);
    assert_token_refused(&fx, &mint(OTHER_SECRET, &c), "invalid_token");
    // The server's own key is not knowable here, so show the real token still works.
    fx.srv.get("/api/v1/me", &fx.admin).expect(200);
}
on_each_backend!(expired_token_from_another_key_is_refused);

/// The server can be given its signing key (`JITEA_JWT_SECRET`), so the checks below break
/// exactly one claim of an otherwise valid token. The first assertion proves the key is
/// really the server's: without it every refusal would be a signature failure.
fn minted_token_with_the_server_key_is_accepted(backend: Backend) {
    let fx = known_key_fixture(backend);
    let r = fx
        .srv
        .get("/api/v1/me", &mint(KNOWN_SECRET, &claims(fx.admin_id)))
        .expect(200);
    assert_eq!(
        r.id(),
        fx.admin_id,
        "the minted token must authenticate the admin: {}",
        r.text
    );
}
on_each_backend!(minted_token_with_the_server_key_is_accepted);

fn wrong_audience_is_refused(backend: Backend) {
    let fx = known_key_fixture(backend);
    let mut c = claims(fx.admin_id);
    c["aud"] = json!("some-other-api");
    assert_token_refused(&fx, &mint(KNOWN_SECRET, &c), "invalid_token");
}
on_each_backend!(wrong_audience_is_refused);

fn wrong_issuer_is_refused(backend: Backend) {
    let fx = known_key_fixture(backend);
    let mut c = claims(fx.admin_id);
    c["iss"] = json!("evil");
    assert_token_refused(&fx, &mint(KNOWN_SECRET, &c), "invalid_token");
}
on_each_backend!(wrong_issuer_is_refused);

fn expired_token_is_token_expired(backend: Backend) {
    let fx = known_key_fixture(backend);
    let mut c = claims(fx.admin_id);
    c["iat"] = json!(chrono::Utc::now().timestamp() - 7200);
    c["exp"] = json!(chrono::Utc::now().timestamp() - 3600);
    assert_token_refused(&fx, &mint(KNOWN_SECRET, &c), "token_expired");
}
on_each_backend!(expired_token_is_token_expired);

fn token_without_required_claims_is_refused(backend: Backend) {
    let fx = known_key_fixture(backend);
    for claim in ["exp", "iss", "aud", "sub"] {
        let mut c = claims(fx.admin_id);
        c.as_object_mut().unwrap().remove(claim);
        assert_token_refused(&fx, &mint(KNOWN_SECRET, &c), "invalid_token");
    }
}
on_each_backend!(token_without_required_claims_is_refused);

fn token_for_unknown_user_is_refused(backend: Backend) {
    let fx = known_key_fixture(backend);
    assert_token_refused(&fx, &mint(KNOWN_SECRET, &claims(MISSING)), "invalid_token");
    let mut c = claims(fx.admin_id);
    c["sub"] = json!("root");
    assert_token_refused(&fx, &mint(KNOWN_SECRET, &c), "invalid_token");
}
on_each_backend!(token_for_unknown_user_is_refused);

// ---------------------------------------------------------------------- permissions

fn non_admin_cannot_call_admin_routes(backend: Backend) {
    let fx = Fixture::new(backend);
    let before = fx.snapshot();
    let calls = [
        (
            "/api/v1/roles".to_string(),
            json!({"role_name": "sneaky", "max_duration_minutes": 5}),
        ),
        (
            "/api/v1/users".to_string(),
            json!({"login_name": "sneaky", "is_admin": true}),
        ),
        (
            format!("/api/v1/grants/{MISSING}/revoke"),
            json!({"reason": "because"}),
        ),
    ];
    for (path, body) in calls {
        let r = fx.srv.post(&path, &fx.alice, body);
        assert_eq!(
            (r.status, r.code()),
            (403, "forbidden"),
            "POST {path} as a requester: {}",
            r.text
        );
    }
    fx.assert_unchanged(&before, "admin routes called by a requester");
}
on_each_backend!(non_admin_cannot_call_admin_routes);

fn requester_cannot_read_someone_elses_request(backend: Backend) {
    let fx = Fixture::new(backend);
    let role_id = fx.approval_role();
    let req = fx
        .srv
        .post("/api/v1/requests", &fx.alice, request_body(role_id))
        .expect(201);
    let path = format!("/api/v1/requests/{}", req.id());
    fx.srv.get(&path, &fx.bob).expect_error(404, "not_found");
    fx.srv.get(&path, &fx.alice).expect(200);
}
on_each_backend!(requester_cannot_read_someone_elses_request);

// ----------------------------------------------------------------------- validation

fn role_with_zero_max_duration_is_invalid(backend: Backend) {
    let fx = Fixture::new(backend);
    let before = fx.snapshot();
    let r = fx.srv.post(
        "/api/v1/roles",
        &fx.admin,
        json!({"role_name": "zero", "max_duration_minutes": 0}),
    );
    let r = r.expect_error(400, "validation_failed");
    assert_field_error(&r, "max_duration_minutes", "max_duration_out_of_range");
    fx.assert_unchanged(&before, "a role with max_duration_minutes 0");
}
on_each_backend!(role_with_zero_max_duration_is_invalid);

fn role_with_invalid_ticket_regex_is_invalid(backend: Backend) {
    let fx = Fixture::new(backend);
    let before = fx.snapshot();
    for regex in ["(", "a)|(b"] {
        let body = json!({"role_name": "bad-regex", "max_duration_minutes": 60, "requires_ticket": true, "ticket_regex": regex});
        let r = fx
            .srv
            .post("/api/v1/roles", &fx.admin, body)
            .expect_error(400, "validation_failed");
        assert_field_error(&r, "ticket_regex", "ticket_regex_invalid");
    }
    fx.assert_unchanged(&before, "roles with invalid ticket patterns");
}
on_each_backend!(role_with_invalid_ticket_regex_is_invalid);

fn request_duration_out_of_range_is_invalid(backend: Backend) {
    let fx = Fixture::new(backend);
    let role_id = fx.role("db-read", json!({"max_duration_minutes": 60}));
    let before = fx.snapshot();
    for minutes in [0, -5, 61, i64::MAX] {
        let mut body = request_body(role_id);
        body["requested_duration_minutes"] = json!(minutes);
        let r = fx
            .srv
            .post("/api/v1/requests", &fx.alice, body)
            .expect_error(400, "validation_failed");
        let codes: Vec<String> = field_codes(&r).into_iter().map(|(_, c)| c).collect();
        assert!(
            codes.contains(&"duration_out_of_range".to_string()),
            "{minutes} minutes: {}",
            r.text
        );
    }
    fx.assert_unchanged(&before, "requests with out-of-range durations");
}
on_each_backend!(request_duration_out_of_range_is_invalid);

/// Field errors name the JSON field the client sent, so a form can put the message next to it.
fn duration_error_names_the_request_field(backend: Backend) {
    let fx = Fixture::new(backend);
    let role_id = fx.role("db-read", json!({}));
    let mut body = request_body(role_id);
    body["requested_duration_minutes"] = json!(0);
    let r = fx
        .srv
        .post("/api/v1/requests", &fx.alice, body)
        .expect_error(400, "validation_failed");
    assert_field_error(&r, "requested_duration_minutes", "duration_out_of_range");
}
on_each_backend!(duration_error_names_the_request_field);

fn missing_required_justification_is_invalid(backend: Backend) {
    let fx = Fixture::new(backend);
    let role_id = fx.role("db-read", json!({"requires_justification": true}));
    let before = fx.snapshot();
    for justification in [json!(null), json!(""), json!("   \n\t ")] {
        let body = json!({"role_id": role_id, "requested_duration_minutes": 30, "justification": justification});
        let r = fx
            .srv
            .post("/api/v1/requests", &fx.alice, body)
            .expect_error(400, "validation_failed");
        assert_field_error(&r, "justification", "justification_required");
    }
    fx.assert_unchanged(&before, "requests without the required justification");
}
on_each_backend!(missing_required_justification_is_invalid);

fn ticket_must_match_the_role_pattern_in_full(backend: Backend) {
    let fx = Fixture::new(backend);
    let role_id = fx.role(
        "db-admin",
        json!({"requires_ticket": true, "ticket_regex": r"INC-\d+"}),
    );
    let before = fx.snapshot();
    for ticket in ["INC-12x", "xINC-12", "INC-", "inc-12", "INC-12\nINC-13"] {
        let mut body = request_body(role_id);
        body["ticket_ref"] = json!(ticket);
        let r = fx
            .srv
            .post("/api/v1/requests", &fx.alice, body)
            .expect_error(400, "validation_failed");
        assert_field_error(&r, "ticket_ref", "ticket_format");
    }
    let r = fx
        .srv
        .post("/api/v1/requests", &fx.alice, request_body(role_id))
        .expect_error(400, "validation_failed");
    assert_field_error(&r, "ticket_ref", "ticket_required");
    fx.assert_unchanged(&before, "requests with non-matching tickets");
    let mut ok = request_body(role_id);
    ok["ticket_ref"] = json!("INC-12");
    fx.srv.post("/api/v1/requests", &fx.alice, ok).expect(201);
}
on_each_backend!(ticket_must_match_the_role_pattern_in_full);

fn wrong_password_is_invalid_credentials_and_audited(backend: Backend) {
    let fx = Fixture::new(backend);
    let before = fx.srv.audit(&fx.admin, "event_type=login_failed");
    for (login, password) in [
        ("root", "not-the-password"),
        ("nobody-here", "whatever-password"),
    ] {
        fx.srv
            .call(
                "POST",
                "/api/v1/auth/login",
                None,
                Some(&json!({"login_name": login, "password": password})),
            )
            .expect_error(401, "invalid_credentials");
    }
    let after = fx.srv.audit(&fx.admin, "event_type=login_failed");
    assert_eq!(
        after.len(),
        before.len() + 2,
        "each failed login writes one login_failed row: {after:?}"
    );
    let logins: Vec<&str> = after
        .iter()
        .filter_map(|e| e["actor_login_name"].as_str())
        .collect();
    assert!(
        logins.contains(&"root") && logins.contains(&"nobody-here"),
        "login_failed rows name the login tried: {after:?}"
    );
    let text = serde_json::to_string(&after).unwrap();
    assert!(
        !text.contains("not-the-password"),
        "the audit log must not record passwords: {text}"
    );
}
on_each_backend!(wrong_password_is_invalid_credentials_and_audited);

// ----------------------------------------------------------------- NUL characters

/// PostgreSQL cannot store U+0000 in text, so a NUL that reaches the database is a driver
/// error; it must be refused (or harmlessly matched) before that, never answered with a 5xx.
fn nul_characters_never_cause_5xx(backend: Backend) {
    let fx = Fixture::new(backend);
    let role_id = fx.approval_role();
    let pending = fx
        .srv
        .post("/api/v1/requests", &fx.alice, request_body(role_id))
        .expect(201)
        .id();
    let open_role = fx.role("pre-approved", json!({"requires_approval": false}));
    let auto = fx
        .srv
        .post("/api/v1/requests", &fx.alice, request_body(open_role))
        .expect(201);
    let grant_id = auto.body["grant_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("setup: no grant in {}", auto.text));
    let nul = "a\u{0}b";
    let mut request = request_body(role_id);
    request["justification"] = json!(nul);
    let (admin, bob) = (Some(fx.admin.as_str()), Some(fx.bob.as_str()));
    let calls: Vec<(&str, String, Option<&str>, Option<Value>)> = vec![
        (
            "POST",
            "/api/v1/auth/login".into(),
            None,
            Some(json!({"login_name": nul, "password": "whatever-password"})),
        ),
        ("POST", "/api/v1/requests".into(), bob, Some(request)),
        (
            "POST",
            format!("/api/v1/requests/{pending}/approve"),
            admin,
            Some(json!({"comment": nul})),
        ),
        (
            "POST",
            format!("/api/v1/requests/{pending}/deny"),
            admin,
            Some(json!({"comment": nul})),
        ),
        (
            "POST",
            format!("/api/v1/grants/{grant_id}/revoke"),
            admin,
            Some(json!({"reason": nul})),
        ),
        (
            "POST",
            "/api/v1/roles".into(),
            admin,
            Some(json!({"role_name": "r", "max_duration_minutes": 5, "ticket_regex": nul})),
        ),
        (
            "PATCH",
            format!("/api/v1/roles/{role_id}"),
            admin,
            Some(json!({"ticket_regex": nul})),
        ),
        (
            "POST",
            "/api/v1/roles".into(),
            admin,
            Some(json!({"role_name": nul, "max_duration_minutes": 5})),
        ),
        (
            "POST",
            "/api/v1/teams".into(),
            admin,
            Some(json!({"team_name": nul})),
        ),
        (
            "POST",
            "/api/v1/users".into(),
            admin,
            Some(json!({"login_name": "nul", "display_name": nul})),
        ),
        ("GET", "/api/v1/users?q=%00".into(), admin, None),
        ("GET", "/api/v1/users?department=%00".into(), admin, None),
        ("GET", "/api/v1/audit?event_type=%00".into(), admin, None),
        (
            "GET",
            "/api/v1/audit?actor_login_name=%00".into(),
            admin,
            None,
        ),
    ];
    let mut failures = Vec::new();
    for (method, path, token, body) in &calls {
        let r = fx.srv.call(method, path, *token, body.as_ref());
        if r.status >= 500 {
            failures.push(format!(
                "{method} {path} {} -> {} {}",
                body.clone().unwrap_or_default(),
                r.status,
                r.text
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "NUL characters caused server errors:\n{}",
        failures.join("\n")
    );
}
on_each_backend!(nul_characters_never_cause_5xx);

// --------------------------------------------------------------------------- sweep

/// The served OpenAPI document; falls back to `jitea openapi` (the same document) so the
/// sweep still runs when serving it is broken — `api_docs` reports that separately.
fn openapi_document(srv: &Server) -> Value {
    let r = srv.call("GET", "/api/v1/openapi.json", None, None);
    if r.status == 200 {
        return r.body;
    }
    eprintln!(
        "note: GET /api/v1/openapi.json answered {}; sweeping the `jitea openapi` output instead",
        r.status
    );
    serde_json::from_str(&srv.cli(&["openapi"])).expect("`jitea openapi` prints JSON")
}

/// Every documented operation as (method, path with `{params}` replaced by `MISSING`,
/// whether it is bearer-secured, whether it takes a body).
fn documented_operations(doc: &Value) -> Vec<(String, String, bool, bool)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let concrete: String = path
            .split('/')
            .map(|seg| {
                if seg.starts_with('{') {
                    MISSING.to_string()
                } else {
                    seg.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for (method, op) in item.as_object().unwrap() {
            let secured = op["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
            ops.push((
                method.to_uppercase(),
                concrete.clone(),
                secured,
                op.get("requestBody").is_some(),
            ));
        }
    }
    assert!(
        ops.len() > 20,
        "the document lists too few operations: {}",
        ops.len()
    );
    ops
}

fn no_documented_operation_answers_5xx(backend: Backend) {
    let fx = Fixture::new(backend);
    let ops = documented_operations(&openapi_document(&fx.srv));
    let garbage = json!({"zzz": 1});
    let mut failures = Vec::new();
    for (method, path, secured, has_body) in &ops {
        let anon = fx.srv.call(method, path, None, None);
        if anon.status >= 500 || (*secured && anon.status != 401) {
            failures.push(format!(
                "{method} {path} without a token -> {} {}",
                anon.status, anon.text
            ));
        }
        let admin = fx.srv.call(method, path, Some(&fx.admin), Some(&garbage));
        if admin.status >= 500 || (*has_body && !(400..500).contains(&admin.status)) {
            failures.push(format!(
                "{method} {path} as admin with {garbage} -> {} {}",
                admin.status, admin.text
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} operations misbehaved:\n{}",
        failures.len(),
        ops.len(),
        failures.join("\n")
    );
}
on_each_backend!(no_documented_operation_answers_5xx);
