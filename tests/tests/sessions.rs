//! Sessions end when they should: logout, a password reset, an app-role change and
//! deactivation end every token issued before (401 `session_revoked` at the next call), for
//! bearer tokens and browser cookies alike; the live event stream closes too, and is capped.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use jitea_tests::*;

const PW: &str = "a-long-test-password";

fn user(s: &Server, admin: &str, login: &str) -> i64 {
    s.create_user(admin, json!({"login_name": login, "password": PW}))
}

/// Signs a browser in; returns the cookie pair (`jitea_session=...`) and the CSRF token.
fn browser(s: &Server, login: &str) -> (String, String) {
    let r = s.with_headers(
        "POST",
        "/api/v1/auth/session",
        &[],
        Some(&json!({"login_name": login, "password": PW})),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let set = r.header("set-cookie").expect("cookie").to_string();
    let pair = set.split(';').next().unwrap().to_string();
    (pair, r.body["csrf_token"].as_str().unwrap().to_string())
}

fn me_status(s: &Server, token: &str) -> (u16, String) {
    let r = s.get("/api/v1/me", token);
    (r.status, r.code().to_string())
}

fn cookie_me(s: &Server, cookie: &str) -> u16 {
    s.with_headers("GET", "/api/v1/me", &[("Cookie", cookie)], None)
        .status
}

fn logout_ends_every_token_of_the_user(backend: Backend) {
    let s = Server::start(backend);
    let admin = s.admin_token();
    user(&s, &admin, "alice");
    user(&s, &admin, "bob");
    let t1 = s.login("alice", PW);
    let t2 = s.login("alice", PW);
    let (cookie, _) = browser(&s, "alice");
    let other = s.login("bob", PW);
    assert_eq!(me_status(&s, &t1).0, 200);
    assert_eq!(cookie_me(&s, &cookie), 200);

    s.call("POST", "/api/v1/auth/logout", Some(&t1), None)
        .expect(204);
    assert_eq!(me_status(&s, &t1), (401, "session_revoked".into()));
    assert_eq!(me_status(&s, &t2), (401, "session_revoked".into()));
    assert_eq!(cookie_me(&s, &cookie), 401);
    let r = s.with_headers("GET", "/api/v1/auth/session", &[("Cookie", &cookie)], None);
    assert_eq!(r.status, 401, "{}", r.text);
    // Other users are untouched; signing in again works.
    assert_eq!(me_status(&s, &other).0, 200);
    let t3 = s.login("alice", PW);
    assert_eq!(me_status(&s, &t3).0, 200);
}
on_each_backend!(logout_ends_every_token_of_the_user);

fn cookie_logout_ends_bearer_tokens_too(backend: Backend) {
    let s = Server::start(backend);
    let admin = s.admin_token();
    user(&s, &admin, "carol");
    let bearer = s.login("carol", PW);
    let (cookie, csrf) = browser(&s, "carol");
    let r = s.with_headers(
        "POST",
        "/api/v1/auth/logout",
        &[("Cookie", &cookie), ("X-CSRF-Token", &csrf)],
        None,
    );
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(me_status(&s, &bearer), (401, "session_revoked".into()));
    assert_eq!(cookie_me(&s, &cookie), 401);
}
on_each_backend!(cookie_logout_ends_bearer_tokens_too);

fn password_reset_ends_tokens(backend: Backend) {
    let s = Server::start(backend);
    let admin = s.admin_token();
    let id = user(&s, &admin, "dave");
    let t = s.login("dave", PW);
    let (cookie, _) = browser(&s, "dave");
    s.put(
        &format!("/api/v1/users/{id}/password"),
        &admin,
        json!({"password": "a-brand-new-passphrase"}),
    )
    .expect(204);
    assert_eq!(me_status(&s, &t), (401, "session_revoked".into()));
    assert_eq!(cookie_me(&s, &cookie), 401);
    let t2 = s.login("dave", "a-brand-new-passphrase");
    assert_eq!(me_status(&s, &t2).0, 200);
    // The admin's own token is not affected by resetting someone else's password.
    assert_eq!(me_status(&s, &admin).0, 200);
}
on_each_backend!(password_reset_ends_tokens);

fn app_role_change_ends_tokens(backend: Backend) {
    let s = Server::start(backend);
    let admin = s.admin_token();
    let id = user(&s, &admin, "erin");
    s.patch(
        &format!("/api/v1/users/{id}"),
        &admin,
        json!({"is_admin": true}),
    )
    .expect(200);
    let t = s.login("erin", PW);
    assert_eq!(s.get("/api/v1/users", &t).status, 200);
    // Demoted: the admin token must not keep working for its remaining lifetime.
    s.patch(
        &format!("/api/v1/users/{id}"),
        &admin,
        json!({"is_admin": false}),
    )
    .expect(200);
    let r = s.get("/api/v1/users", &t);
    r.expect_error(401, "session_revoked");
    // A change of other facts does not end sessions.
    let t2 = s.login("erin", PW);
    s.patch(
        &format!("/api/v1/users/{id}"),
        &admin,
        json!({"department": "ops"}),
    )
    .expect(200);
    assert_eq!(me_status(&s, &t2).0, 200);
    s.patch(
        &format!("/api/v1/users/{id}"),
        &admin,
        json!({"is_auditor": true}),
    )
    .expect(200);
    assert_eq!(me_status(&s, &t2), (401, "session_revoked".into()));
}
on_each_backend!(app_role_change_ends_tokens);

fn deactivation_ends_tokens_for_good(backend: Backend) {
    let s = Server::start(backend);
    let admin = s.admin_token();
    let id = user(&s, &admin, "frank");
    let t = s.login("frank", PW);
    s.post(&format!("/api/v1/users/{id}/deactivate"), &admin, json!({}))
        .expect(200);
    assert_eq!(me_status(&s, &t).0, 401);
    // Re-activating the account does not bring the old tokens back.
    s.post(&format!("/api/v1/users/{id}/activate"), &admin, json!({}))
        .expect(200);
    assert_eq!(me_status(&s, &t), (401, "session_revoked".into()));
    assert_eq!(me_status(&s, &s.login("frank", PW)).0, 200);
}
on_each_backend!(deactivation_ends_tokens_for_good);

/// Waits until the stream's sender is gone (the server closed the stream).
fn closes_within(rx: &Receiver<String>, secs: u64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(_) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return true,
        }
    }
    false
}

fn live_stream_closes_when_the_session_ends(backend: Backend) {
    let s = Server::start(backend);
    let admin = s.admin_token();
    let id = user(&s, &admin, "gina");
    let auditor = user(&s, &admin, "hank");
    s.patch(
        &format!("/api/v1/users/{auditor}"),
        &admin,
        json!({"is_auditor": true}),
    )
    .expect(200);

    // Demotion closes an auditor's stream (it would otherwise see every event).
    let ta = s.login("hank", PW);
    let rx_a = s.stream_lines("/api/v1/events", &ta);
    assert!(rx_a.recv_timeout(Duration::from_secs(5)).is_ok(), "hello");
    s.patch(
        &format!("/api/v1/users/{auditor}"),
        &admin,
        json!({"is_auditor": false}),
    )
    .expect(200);
    assert!(closes_within(&rx_a, 15), "stream kept open after demotion");

    // Deactivation closes the stream.
    let t = s.login("gina", PW);
    let rx = s.stream_lines("/api/v1/events", &t);
    assert!(rx.recv_timeout(Duration::from_secs(5)).is_ok(), "hello");
    s.post(&format!("/api/v1/users/{id}/deactivate"), &admin, json!({}))
        .expect(200);
    assert!(
        closes_within(&rx, 15),
        "stream kept open after deactivation"
    );
}
on_each_backend!(live_stream_closes_when_the_session_ends);

#[test]
fn live_stream_closes_at_logout_and_when_the_token_expires() {
    let s = Server::start_with(Backend::Sqlite, &[("JITEA_TOKEN_TTL_MINUTES", "1")]);
    let admin = s.admin_token();
    user(&s, &admin, "ivan");
    let t = s.login("ivan", PW);
    let rx = s.stream_lines("/api/v1/events", &t);
    assert!(rx.recv_timeout(Duration::from_secs(5)).is_ok(), "hello");
    let t2 = s.login("ivan", PW);
    s.call("POST", "/api/v1/auth/logout", Some(&t2), None)
        .expect(204);
    assert!(closes_within(&rx, 15), "stream kept open after logout");

    // A one-minute token's stream ends when the token does.
    let t3 = s.login("ivan", PW);
    let rx3 = s.stream_lines("/api/v1/events", &t3);
    assert!(rx3.recv_timeout(Duration::from_secs(5)).is_ok(), "hello");
    assert!(closes_within(&rx3, 75), "stream outlived its token");
}

#[test]
fn live_streams_are_capped_per_user_and_in_total() {
    let s = Server::start_with(
        Backend::Sqlite,
        &[
            ("JITEA_EVENTS_MAX_PER_USER", "2"),
            ("JITEA_EVENTS_MAX_TOTAL", "3"),
        ],
    );
    let admin = s.admin_token();
    user(&s, &admin, "judy");
    user(&s, &admin, "kim");
    let tj = s.login("judy", PW);
    let tk = s.login("kim", PW);
    let _a = s.stream_lines("/api/v1/events", &tj);
    let _b = s.stream_lines("/api/v1/events", &tj);
    let r = s.with_headers(
        "GET",
        "/api/v1/events",
        &[("Authorization", &format!("Bearer {tj}"))],
        None,
    );
    assert_eq!(r.status, 429, "{}", r.text);
    assert_eq!(r.body["error"]["code"], "too_many_streams");
    assert!(r.header("retry-after").is_some());
    let _c = s.stream_lines("/api/v1/events", &tk);
    let r = s.get("/api/v1/events", &tk);
    r.expect_error(429, "too_many_streams");
}
