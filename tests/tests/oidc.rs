//! Single sign-on against a real OpenID provider (npm `oidc-provider`, started by the harness):
//! the whole authorization-code flow over HTTP, its failure modes (tampered state, replayed
//! code, open redirects), provider access tokens as bearer tokens (audience, key rotation),
//! and switching password sign-in off except for the bootstrap admin.

use std::time::Duration;

use jitea_tests::oidc::{self, Browser, Page, Provider, AUDIENCE, OTHER_AUDIENCE, SERVICE_CLIENT};
use jitea_tests::*;

fn session_cookie(p: &Page) -> Option<String> {
    p.cookie_set("jitea_session").filter(|v| !v.is_empty())
}

fn me_with_cookie(s: &Server, cookie: &str) -> RawResp {
    s.with_headers(
        "GET",
        "/api/v1/me",
        &[("Cookie", &format!("jitea_session={cookie}"))],
        None,
    )
}

fn failures(s: &Server, admin: &str) -> Vec<String> {
    s.audit(admin, "event_type=oidc_login_failed")
        .iter()
        .map(|e| e["details"]["code"].as_str().unwrap_or("").to_string())
        .collect()
}

fn code_flow_signs_in_and_creates_the_user(backend: Backend) {
    let o = oidc::start(backend, &[]);
    let s = &o.server;
    let admin = s.admin_token();

    let providers = s
        .call("GET", "/api/v1/auth/providers", None, None)
        .expect(200);
    assert_eq!(providers.body["local"], json!(true), "{}", providers.text);
    assert_eq!(
        providers.body["oidc"]["login_url"],
        json!("/api/v1/auth/oidc/login"),
        "{}",
        providers.text
    );

    let mut b = Browser::default();
    let callback = b.sign_in_at_provider(s, "/requests/7?tab=grants", "u-1001");
    let done = b.get(&callback);
    assert_eq!(done.status, 302, "{}", done.body);
    assert_eq!(done.location.as_deref(), Some("/requests/7?tab=grants"));
    let cookie = session_cookie(&done).expect("the callback sets the session cookie");
    let set = done.set_cookies.join(" | ");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );

    let me = me_with_cookie(s, &cookie);
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["login_name"], json!("alice"));
    assert_eq!(me.body["source"], json!("oidc"));
    assert_eq!(me.body["external_id"], json!("u-1001"));
    assert_eq!(me.body["department"], json!("Engineering"));
    assert_eq!(me.body["email"], json!("alice@example.test"));
    assert_eq!(me.body["is_admin"], json!(false));
    // The session restores like a password session (CSRF token for changes).
    let sess = s.with_headers(
        "GET",
        "/api/v1/auth/session",
        &[("Cookie", &format!("jitea_session={cookie}"))],
        None,
    );
    assert_eq!(sess.status, 200, "{}", sess.text);
    assert!(sess.body["csrf_token"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));

    let created = s.audit(&admin, "event_type=user_created");
    assert!(
        created
            .iter()
            .any(|e| e["actor_login_name"] == json!("system:oidc")),
        "{created:?}"
    );

    // The same callback again (same state, same code): single use, no session.
    let again = b.get(&callback);
    assert_eq!(again.status, 302);
    assert_eq!(
        again.location.as_deref(),
        Some("/login?error=oidc_state_invalid")
    );
    assert!(session_cookie(&again).is_none(), "{:?}", again.set_cookies);

    // The used code with a fresh sign-in's state: the provider refuses the replayed code.
    let fresh = b.sign_in_at_provider(s, "/", "u-1001");
    let new_state = fresh
        .split("state=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let old_code = callback
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let replay = b.get(&s.url(&format!(
        "/api/v1/auth/oidc/callback?code={old_code}&state={new_state}"
    )));
    assert_eq!(replay.status, 302);
    assert_eq!(
        replay.location.as_deref(),
        Some("/login?error=oidc_code_rejected")
    );
    assert!(session_cookie(&replay).is_none());

    // A second person in the admins group at the provider becomes an admin; changes of
    // provider facts are audited as coming from the provider.
    let mut b2 = Browser::default();
    let cb = b2.sign_in_at_provider(s, "/", "u-1002");
    let p = b2.get(&cb);
    let me = me_with_cookie(s, &session_cookie(&p).expect("bob signed in"));
    assert_eq!(
        (me.body["login_name"].clone(), me.body["is_admin"].clone()),
        (json!("bob"), json!(true)),
        "{}",
        me.text
    );

    let f = failures(s, &admin);
    assert!(
        f.contains(&"oidc_state_invalid".to_string())
            && f.contains(&"oidc_code_rejected".to_string()),
        "{f:?}"
    );
}
on_each_backend!(code_flow_signs_in_and_creates_the_user);

#[test]
fn tampered_state_fails_and_return_to_cannot_leave_the_app() {
    let o = oidc::start(Backend::Sqlite, &[]);
    let s = &o.server;
    let admin = s.admin_token();

    // An existing local user with the same login is linked to the provider's person.
    s.create_user(&admin, json!({"login_name": "dave", "department": "Old"}));

    let mut b = Browser::default();
    let callback = b.sign_in_at_provider(s, "//evil.example/steal", "u-1004");
    let state = callback
        .split("state=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let mut chars: Vec<char> = state.chars().collect();
    chars[0] = if chars[0] == 'A' { 'B' } else { 'A' };
    let tampered_state: String = chars.into_iter().collect();
    let tampered = b.get(&callback.replace(state, &tampered_state));
    assert_eq!(tampered.status, 302);
    assert_eq!(
        tampered.location.as_deref(),
        Some("/login?error=oidc_state_invalid")
    );
    assert!(session_cookie(&tampered).is_none());

    // A callback without the browser that started the sign-in (the binding cookie) fails.
    let mut other = Browser::default();
    let callback2 = b.sign_in_at_provider(s, "/", "u-1004");
    let foreign = other.get(&callback2);
    assert_eq!(
        foreign.location.as_deref(),
        Some("/login?error=oidc_state_invalid")
    );
    assert!(session_cookie(&foreign).is_none());

    // The untampered first callback still works, and lands on `/`, not the other site.
    let ok = b.get(&callback);
    assert_eq!(ok.status, 302, "{}", ok.body);
    assert_eq!(ok.location.as_deref(), Some("/"));
    let me = me_with_cookie(s, &session_cookie(&ok).expect("signed in"));
    assert_eq!(me.body["login_name"], json!("dave"), "{}", me.text);
    assert_eq!(me.body["source"], json!("oidc"));
    assert_eq!(me.body["department"], json!("Sales"));
    assert_eq!(me.body["is_auditor"], json!(true));
    let upd = s.audit(&admin, "event_type=user_updated");
    assert!(
        upd.iter()
            .any(|e| e["actor_login_name"] == json!("system:oidc")
                && e["details"]["before"]["department"] == json!("Old")
                && e["details"]["after"]["department"] == json!("Sales")),
        "{upd:?}"
    );

    for bad in [
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
    ] {
        let mut b = Browser::default();
        let cb = b.sign_in_at_provider(s, bad, "u-1004");
        let p = b.get(&cb);
        assert_eq!(p.location.as_deref(), Some("/"), "return_to {bad:?}");
    }

    // A deactivated user cannot sign in through the provider.
    let carol = s.create_user(&admin, json!({"login_name": "carol"}));
    s.post(
        &format!("/api/v1/users/{carol}/deactivate"),
        &admin,
        json!({}),
    )
    .expect(200);
    let mut b = Browser::default();
    let cb = b.sign_in_at_provider(s, "/", "u-1003");
    let p = b.get(&cb);
    assert_eq!(
        p.location.as_deref(),
        Some("/login?error=oidc_user_inactive")
    );
    assert!(session_cookie(&p).is_none());
    assert!(failures(s, &admin).contains(&"oidc_user_inactive".to_string()));

    // Someone the provider calls by the bootstrap admin's login does not become that admin:
    // the break-glass account stays local.
    let mut b = Browser::default();
    let cb = b.sign_in_at_provider(s, "/", "u-1005");
    let p = b.get(&cb);
    assert_eq!(
        p.location.as_deref(),
        Some("/login?error=oidc_user_conflict")
    );
    assert!(session_cookie(&p).is_none());
    let root = s.get("/api/v1/me", &admin).expect(200);
    assert_eq!(root.body["source"], json!("local"), "{}", root.text);
}

#[test]
fn provider_access_tokens_are_bearer_tokens_for_their_audience_only() {
    let o = oidc::start(Backend::Sqlite, &[]);
    let s = &o.server;
    let admin = s.admin_token();

    // A valid provider token for a client that is no JITEA user: 401.
    let token = o
        .provider
        .client_credentials_token(SERVICE_CLIENT, AUDIENCE);
    s.get("/api/v1/me", &token)
        .expect_error(401, "invalid_token");

    s.create_user(&admin, json!({"login_name": "svc-deploy"}));
    let me = s.get("/api/v1/me", &token);
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["login_name"], json!("svc-deploy"));

    let other = o
        .provider
        .client_credentials_token(SERVICE_CLIENT, OTHER_AUDIENCE);
    s.get("/api/v1/me", &other)
        .expect_error(401, "invalid_token");

    // A token that is not the provider's and not JITEA's.
    let mut forged = token.clone();
    forged.pop();
    forged.push(if token.ends_with('A') { 'B' } else { 'A' });
    assert_eq!(s.get("/api/v1/me", &forged).status, 401);

    // Key rotation at the provider: a token signed with the new key names a kid JITEA has not
    // seen; JITEA re-reads the provider's keys and accepts it. (JITEA re-reads at most once a
    // second, so give it that second after the first read.)
    let old_kid = Provider::kid_of(&token);
    let new_kid = o.provider.rotate_keys();
    assert_ne!(old_kid, new_kid);
    std::thread::sleep(Duration::from_millis(1100));
    let rotated = o
        .provider
        .client_credentials_token(SERVICE_CLIENT, AUDIENCE);
    assert_eq!(Provider::kid_of(&rotated), new_kid);
    let me = s.get("/api/v1/me", &rotated);
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["login_name"], json!("svc-deploy"));

    // A person's access token (code flow, as a CLI would get one) maps by the login claim.
    s.create_user(&admin, json!({"login_name": "alice"}));
    let user_token = o.provider.user_access_token(s, "u-1001", AUDIENCE);
    let me_alice = s.get("/api/v1/me", &user_token);
    assert_eq!(me_alice.status, 200, "{}", me_alice.text);
    assert_eq!(me_alice.body["login_name"], json!("alice"));

    // Its user deactivated: 401.
    s.post(
        &format!("/api/v1/users/{}/deactivate", me.body["id"]),
        &admin,
        json!({}),
    )
    .expect(200);
    s.get("/api/v1/me", &rotated)
        .expect_error(401, "user_inactive");
}

#[test]
fn local_login_off_leaves_only_the_bootstrap_admin_as_break_glass() {
    let s = Server::start_with(Backend::Sqlite, &[("JITEA_LOCAL_LOGIN", "false")]);
    let admin = s.admin_token();
    s.create_user(
        &admin,
        json!({"login_name": "pat", "password": "a-long-test-password"}),
    );
    let providers = s
        .call("GET", "/api/v1/auth/providers", None, None)
        .expect(200);
    assert_eq!(providers.body, json!({"local": false, "oidc": null}));
    s.call(
        "POST",
        "/api/v1/auth/login",
        None,
        Some(&json!({"login_name": "pat", "password": "a-long-test-password"})),
    )
    .expect_error(403, "local_login_disabled");
    s.call(
        "POST",
        "/api/v1/auth/session",
        None,
        Some(&json!({"login_name": "pat", "password": "a-long-test-password"})),
    )
    .expect_error(403, "local_login_disabled");
    let glass = s.audit(&admin, "event_type=break_glass_login");
    assert!(
        glass
            .iter()
            .any(|e| e["actor_login_name"] == json!(ADMIN_LOGIN)),
        "{glass:?}"
    );
}

#[test]
fn bad_id_tokens_end_with_a_clear_error_and_no_session() {
    let o = oidc::start(Backend::Sqlite, &[]);
    let s = &o.server;
    let admin = s.admin_token();
    let past = chrono::Utc::now().timestamp() - 3600;
    let cases = [
        (
            json!({"nonce": "not-the-sign-in-nonce"}),
            "oidc_nonce_mismatch",
        ),
        (
            json!({"exp": past, "iat": past - 600}),
            "oidc_token_expired",
        ),
        (json!({"aud": "another-client"}), "oidc_token_invalid"),
        (json!({"iss": "https://evil.example"}), "oidc_token_invalid"),
        (json!({"_foreign_key": true}), "oidc_token_invalid"),
    ];
    for (changes, code) in cases {
        let mut b = Browser::default();
        let cb = b.sign_in_at_provider(s, "/", "u-1001");
        o.provider.tamper_next_id_token(changes.clone());
        let p = b.get(&cb);
        assert_eq!(
            p.location.as_deref(),
            Some(format!("/login?error={code}").as_str()),
            "{changes}"
        );
        assert!(
            session_cookie(&p).is_none(),
            "{changes}: {:?}",
            p.set_cookies
        );
    }
    // Nobody was signed in or created by any of them.
    let users = s.get("/api/v1/users?q=alice", &admin).expect(200);
    assert_eq!(users.body["items"], json!([]), "{}", users.text);
    let f = failures(s, &admin);
    for code in [
        "oidc_nonce_mismatch",
        "oidc_token_expired",
        "oidc_token_invalid",
    ] {
        assert!(f.contains(&code.to_string()), "{code} not audited: {f:?}");
    }
    // And the provider is fine: an untampered sign-in works.
    let mut b = Browser::default();
    let cb = b.sign_in_at_provider(s, "/", "u-1001");
    assert!(session_cookie(&b.get(&cb)).is_some());
}

/// Behind a load balancer: the sign-in starts on one process and the provider's redirect
/// lands on another (same database, same public URL); the pending sign-in is in the database.
#[test]
fn a_sign_in_started_on_one_process_finishes_on_another() {
    let o = oidc::start(Backend::Postgres, &[]);
    let a = &o.server;
    let bind_b = format!("127.0.0.1:{}", free_port());
    let mut env = oidc::settings(&o.provider, &a.base);
    env.push(("JITEA_BIND", bind_b.as_str()));
    let b_server = Server::start_on_with(a.db.shared(), &env);

    let mut b = Browser::default();
    let callback = b.sign_in_at_provider(a, "/grants", "u-1001");
    let on_b = callback.replacen(&a.base, &b_server.base, 1);
    assert_ne!(on_b, callback);
    let done = b.get(&on_b);
    assert_eq!(done.location.as_deref(), Some("/grants"), "{}", done.body);
    let cookie = session_cookie(&done).expect("signed in on the other process");
    // The session works on both processes, and the state is used up for both.
    assert_eq!(me_with_cookie(a, &cookie).status, 200);
    assert_eq!(me_with_cookie(&b_server, &cookie).status, 200);
    let again = b.get(&callback);
    assert_eq!(
        again.location.as_deref(),
        Some("/login?error=oidc_state_invalid")
    );
}

/// An anonymous flood of sign-on starts cannot fill the pending sign-in table: beyond
/// `JITEA_OIDC_STARTS_PER_MINUTE` starts a minute from one address the browser is sent back
/// to the sign-in page and nothing is written.
#[test]
fn sign_on_starts_from_one_address_are_limited_per_minute() {
    let o = oidc::start(Backend::Sqlite, &[("JITEA_OIDC_STARTS_PER_MINUTE", "3")]);
    let s = &o.server;
    // The count is per calendar minute: do not start a few seconds before it turns.
    let second = chrono::Utc::now().timestamp().rem_euclid(60);
    if second >= 55 {
        std::thread::sleep(Duration::from_secs((61 - second) as u64));
    }
    let mut b = Browser::default();
    let starts: Vec<Page> = (0..5)
        .map(|_| b.get(&s.url("/api/v1/auth/oidc/login?return_to=/")))
        .collect();
    let to_provider = starts
        .iter()
        .filter(|p| {
            p.location
                .as_deref()
                .is_some_and(|l| l.starts_with(&o.provider.issuer))
        })
        .count();
    assert_eq!(to_provider, 3, "three starts reach the provider");
    for p in &starts[3..] {
        assert_eq!(p.status, 302);
        assert_eq!(
            p.location.as_deref(),
            Some("/login?error=too_many_attempts")
        );
    }
    assert_eq!(s.db.scalar("SELECT COUNT(*) AS n FROM oidc_logins"), 3);
}

/// A provider that keeps its ID tokens small (every claim but `sub` only at UserInfo): the
/// login, email, department and groups are read from its UserInfo endpoint with the access
/// token of the sign-in, so the person gets the same account and roles.
#[test]
fn claims_the_id_token_leaves_out_are_read_from_userinfo() {
    let o = oidc::start_with_provider(Backend::Sqlite, &[], &[("CONFORM_ID_TOKEN_CLAIMS", "1")]);
    let s = &o.server;
    let mut b = Browser::default();
    let callback = b.sign_in_at_provider(s, "/grants", "u-1002");
    let done = b.get(&callback);
    assert_eq!(done.location.as_deref(), Some("/grants"), "{}", done.body);
    let me = me_with_cookie(s, &session_cookie(&done).expect("signed in"));
    assert_eq!(me.body["login_name"], json!("bob"), "{}", me.text);
    assert_eq!(me.body["email"], json!("bob@example.test"));
    assert_eq!(me.body["department"], json!("Operations"));
    assert_eq!(me.body["is_admin"], json!(true), "from the groups claim");
    assert_eq!(me.body["external_id"], json!("u-1002"));
}
