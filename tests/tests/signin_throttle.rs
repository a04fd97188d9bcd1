//! Sign-in cannot be guessed or flooded: failed sign-ins are throttled per login name and per
//! client address (429 with `Retry-After`, growing delays), the right password during a
//! lockout is refused the same way, refused attempts are audited once per burst with their
//! count, and new passwords must not be weak.

use std::time::Duration;

use jitea_tests::*;

const PW: &str = "a-long-test-password";

fn attempt(s: &Server, login: &str, password: &str, headers: &[(&str, &str)]) -> RawResp {
    s.with_headers(
        "POST",
        "/api/v1/auth/login",
        headers,
        Some(&json!({"login_name": login, "password": password})),
    )
}

fn thirty_wrong_passwords_are_throttled_and_the_right_one_is_refused_during_cool_down(
    backend: Backend,
) {
    let s = Server::start(backend);
    let admin = s.admin_token();
    s.create_user(&admin, json!({"login_name": "victim", "password": PW}));
    let mut statuses = Vec::new();
    let mut retry_after = Vec::new();
    for i in 0..30 {
        let r = attempt(&s, "victim", &format!("guess-number-{i}"), &[]);
        statuses.push(r.status);
        if r.status == 429 {
            assert_eq!(r.body["error"]["code"], "too_many_attempts", "{}", r.text);
            let secs: u64 = r
                .header("retry-after")
                .expect("Retry-After on 429")
                .parse()
                .unwrap();
            assert!((1..=3600).contains(&secs), "{secs}");
            retry_after.push(secs);
        } else {
            assert_eq!(r.status, 401, "{}", r.text);
        }
    }
    assert!(statuses[..5].iter().all(|&c| c == 401), "{statuses:?}");
    assert!(statuses[5..].iter().all(|&c| c == 429), "{statuses:?}");
    // The right password during the cool-down is refused exactly like a wrong one.
    let r = attempt(&s, "victim", PW, &[]);
    assert_eq!(r.status, 429, "{}", r.text);
    assert_eq!(r.body["error"]["code"], "too_many_attempts");
    assert!(r.header("retry-after").is_some());
    // So is a browser sign-in, and another spelling of the login.
    let r = s.with_headers(
        "POST",
        "/api/v1/auth/session",
        &[],
        Some(&json!({"login_name": "VICTIM", "password": PW})),
    );
    assert_eq!(r.status, 429, "{}", r.text);
    // Other accounts still sign in.
    s.admin_token();
}
on_each_backend!(
    thirty_wrong_passwords_are_throttled_and_the_right_one_is_refused_during_cool_down
);

#[test]
fn lockouts_grow_and_refusals_are_audited_once_per_burst() {
    let s = Server::start_with(
        Backend::Sqlite,
        &[
            ("JITEA_LOGIN_MAX_FAILURES", "3"),
            ("JITEA_LOGIN_LOCKOUT_SECS", "2"),
        ],
    );
    let admin = s.admin_token();
    s.create_user(&admin, json!({"login_name": "slow", "password": PW}));
    for _ in 0..3 {
        assert_eq!(attempt(&s, "slow", "wrong-password-x", &[]).status, 401);
    }
    let mut refused = 0;
    for _ in 0..10 {
        let r = attempt(&s, "slow", "wrong-password-x", &[]);
        if r.status == 429 {
            refused += 1;
            assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() <= 2);
        }
    }
    assert!(refused >= 5, "{refused}");
    std::thread::sleep(Duration::from_millis(2600));
    // After the cool-down one more failure locks for twice as long.
    assert_eq!(attempt(&s, "slow", "wrong-password-x", &[]).status, 401);
    let r = attempt(&s, "slow", PW, &[]);
    assert_eq!(r.status, 429);
    let secs: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((3..=4).contains(&secs), "{secs}");
    std::thread::sleep(Duration::from_millis(4500));
    assert_eq!(attempt(&s, "slow", PW, &[]).status, 200);

    let rows = s.audit(&admin, "event_type=login_throttled");
    assert_eq!(rows.len(), 2, "one row per burst: {rows:?}");
    let counts: Vec<i64> = rows
        .iter()
        .map(|r| r["details"]["refused_attempts"].as_i64().unwrap())
        .collect();
    assert!(counts.contains(&refused), "{counts:?} vs {refused}");
    assert!(counts.contains(&1), "{counts:?}");
    let failed = s.audit(&admin, "event_type=login_failed");
    assert_eq!(failed.len(), 4, "only real failures are audited one by one");
}

#[test]
fn one_address_guessing_many_logins_is_throttled_and_forwarded_headers_are_ignored() {
    let s = Server::start_with(Backend::Sqlite, &[("JITEA_LOGIN_MAX_FAILURES", "2")]);
    let admin = s.admin_token();
    s.create_user(&admin, json!({"login_name": "spray", "password": PW}));
    // 4 x 2 failures from one address, each on a different login, with a spoofed
    // X-Forwarded-For that must not count as another client (no JITEA_TRUST_PROXY).
    for i in 0..8 {
        let ip = format!("10.0.0.{i}");
        let r = attempt(
            &s,
            &format!("nobody{i}"),
            "wrong-password-x",
            &[("X-Forwarded-For", &ip)],
        );
        assert_eq!(r.status, 401, "{}", r.text);
    }
    let r = attempt(&s, "spray", PW, &[("X-Forwarded-For", "10.9.9.9")]);
    assert_eq!(r.status, 429, "{}", r.text);
}

#[test]
fn behind_a_trusted_proxy_the_forwarded_address_is_the_client() {
    let s = Server::start_with(
        Backend::Sqlite,
        &[
            ("JITEA_LOGIN_MAX_FAILURES", "2"),
            ("JITEA_TRUST_PROXY", "true"),
        ],
    );
    let admin = s.admin_token();
    s.create_user(&admin, json!({"login_name": "office", "password": PW}));
    for i in 0..8 {
        let r = attempt(
            &s,
            &format!("nobody{i}"),
            "wrong-password-x",
            &[("X-Forwarded-For", "203.0.113.7")],
        );
        assert_eq!(r.status, 401, "{}", r.text);
    }
    let r = attempt(&s, "office", PW, &[("X-Forwarded-For", "203.0.113.7")]);
    assert_eq!(r.status, 429, "{}", r.text);
    // Another client behind the same proxy is not locked out.
    let r = attempt(&s, "office", PW, &[("X-Forwarded-For", "198.51.100.4")]);
    assert_eq!(r.status, 200, "{}", r.text);
}

#[test]
fn weak_passwords_are_refused_with_a_field_error() {
    let s = Server::start(Backend::Sqlite);
    let admin = s.admin_token();
    for (login, pw) in [
        ("weak1", "password1234"),
        ("weak2", "Qwerty123456!"),
        ("weak3", "P@ssw0rd2024"),
        ("weak4", "111111111111"),
        ("mallory.long.name", "Mallory.Long.Name"),
        ("weak5", "short"),
    ] {
        let r = s.post(
            "/api/v1/users",
            &admin,
            json!({"login_name": login, "password": pw}),
        );
        assert_eq!(r.status, 400, "{login}/{pw}: {}", r.text);
        assert_eq!(r.code(), "validation_failed");
        assert_eq!(r.body["error"]["details"]["fields"][0]["field"], "password");
        assert_eq!(
            r.body["error"]["details"]["fields"][0]["code"],
            "weak_password"
        );
    }
    let id = s.create_user(&admin, json!({"login_name": "strong", "password": PW}));
    for pw in ["letmein12345", "0strong00000", "Strong123456"] {
        let r = s.put(
            &format!("/api/v1/users/{id}/password"),
            &admin,
            json!({"password": pw}),
        );
        assert_eq!(r.status, 400, "{pw}: {}", r.text);
        assert_eq!(
            r.body["error"]["details"]["fields"][0]["code"],
            "weak_password"
        );
    }
}

#[test]
fn a_weak_bootstrap_admin_password_stops_start_up() {
    let db = TestDb::new(Backend::Sqlite);
    let out = db
        .command()
        .env("JITEA_BOOTSTRAP_ADMIN", "root:password1234")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("JITEA_BOOTSTRAP_ADMIN"), "{err}");
}
