//! Start-up behaviour of the binary: configuration errors, migrations run by several processes
//! at once, checksum protection, bootstrap admin.

use std::process::Output;

use jitea_tests::*;

fn run(db: &TestDb, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = db.command();
    for (k, v) in env {
        c.env(k, v);
    }
    c.args(args).output().expect("run jitea")
}

#[test]
fn bad_configuration_stops_with_one_line_naming_the_setting() {
    let db = TestDb::new(Backend::Sqlite);
    for (var, value) in [
        ("JITEA_BIND", "not-an-address"),
        ("JITEA_DATABASE_URL", "mysql://root@localhost/x"),
        ("JITEA_BOOTSTRAP_ADMIN", "no-colon"),
        ("JITEA_TOKEN_TTL_MINUTES", "forever"),
        ("JITEA_JWT_SECRET", "short"),
    ] {
        let out = run(&db, &["serve"], &[(var, value)]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{var}={value} should stop start-up"
        );
        let err = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 1, "one line for {var}: {err}");
        assert!(lines[0].contains(var), "{var} not named: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

fn concurrent_migrations_apply_once(backend: Backend) {
    let db = TestDb::new(backend);
    let children: Vec<_> = (0..3)
        .map(|_| {
            db.command()
                .arg("migrate")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "concurrent migrate failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The schema works and the version is recorded once: a server starts on it.
    let s = Server::start_on(db);
    let token = s.admin_token();
    s.get("/api/v1/me", &token).expect(200);
}
on_each_backend!(concurrent_migrations_apply_once);

fn changed_checksum_refuses_to_start(backend: Backend) {
    let db = TestDb::new(backend);
    assert!(run(&db, &["migrate"], &[]).status.success());
    db.exec("UPDATE jitea_migrations SET checksum = 'tampered' WHERE version = 1");
    let out = run(&db, &["migrate"], &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("checksum"), "{err}");
    assert!(err.contains("0001_core"), "{err}");
}
on_each_backend!(changed_checksum_refuses_to_start);

#[test]
fn bootstrap_admin_is_created_once() {
    let db = TestDb::new(Backend::Sqlite);
    let s = Server::start_on(db);
    let token = s.admin_token();
    let users = s.get("/api/v1/users", &token).expect(200).body;
    let admins: Vec<&Value> = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["is_admin"] == true)
        .collect();
    assert_eq!(admins.len(), 1);
    assert_eq!(admins[0]["login_name"], ADMIN_LOGIN);
    // A restart with another bootstrap password does not reset the existing admin.
    let s2 = Server::restart_with(s, &[("JITEA_BOOTSTRAP_ADMIN", "root:another-password-99")]);
    s2.admin_token();
    let r = s2.call(
        "POST",
        "/api/v1/auth/login",
        None,
        Some(&json!({"login_name": "root", "password": "another-password-99"})),
    );
    r.expect_error(401, "invalid_credentials");
    assert_eq!(
        s2.audit(&s2.admin_token(), "event_type=admin_bootstrapped")
            .len(),
        1
    );
}
