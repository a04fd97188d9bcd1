//! Crash safety: the server is killed with SIGKILL while grants are being issued and expired
//! on a real PostgreSQL target. After a restart, the target and the records agree: no
//! membership exists without an active grant, and every active grant's membership exists.

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use jitea_tests::targets::{PgTarget, PG_ADMIN_URL};
use jitea_tests::*;

const PW: &str = "a-long-test-password";
const USERS: usize = 24;

#[test]
fn sigkill_during_issue_and_expiry_leaves_target_and_records_consistent() {
    let mut pg = PgTarget::new();
    let reader = pg.name("reader");
    pg.exec(&format!("CREATE ROLE \"{reader}\" NOLOGIN"));
    let logins: Vec<String> = (0..USERS).map(|i| pg.name(&format!("u{i}"))).collect();
    for l in &logins {
        pg.exec(&format!("CREATE ROLE \"{l}\" LOGIN"));
    }
    let env = [
        ("JITEA_TARGET_PG_URL", PG_ADMIN_URL),
        ("JITEA_RETRY_BASE_MS", "50"),
    ];
    let s = Server::start_with(Backend::Sqlite, &env);
    let admin = s.admin_token();
    let target = s.make_target(
        &admin,
        json!({"name": "prod", "kind": "postgres", "connection_url_env": "JITEA_TARGET_PG_URL"}),
    );
    let dbr = s.make_db_role(&admin, target, &reader);
    let role = s.open_role(&admin, "Read", 60, &[dbr]);
    let tokens: Vec<String> = logins
        .iter()
        .map(|l| {
            s.create_user(&admin, json!({"login_name": l, "password": PW}));
            s.login(l, PW)
        })
        .collect();

    // Half the users get access now, ending over the next second or so.
    for (i, t) in tokens.iter().enumerate().take(USERS / 2) {
        let g = s
            .post(
                "/api/v1/requests",
                t,
                json!({"role_id": role, "requested_duration_minutes": 30}),
            )
            .expect(201)
            .body["grant_id"]
            .as_i64()
            .unwrap();
        s.db.set_grant_ends_in(g, 0.2 + 0.1 * i as f64);
    }
    // The other half request concurrently while expiry runs; the server dies in the middle.
    let pid = s.pid();
    let s = Arc::new(s);
    let issuers: Vec<_> = tokens[USERS / 2..]
        .iter()
        .cloned()
        .map(|t| {
            let s = s.clone();
            thread::spawn(move || {
                s.try_call(
                    "POST",
                    "/api/v1/requests",
                    Some(&t),
                    Some(&json!({"role_id": role, "requested_duration_minutes": 30})),
                )
            })
        })
        .collect();
    thread::sleep(Duration::from_millis(600));
    let killed = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success());
    for h in issuers {
        let _ = h.join();
    }
    let s = Arc::try_unwrap(s).ok().expect("issuer threads finished");

    // Restart on the same database: catch-up expiry, provisioning retries, start-up reconcile.
    let s = s.restart_with(&env);
    let admin = s.admin_token();
    let settled = s.eventually(30.0, || {
        let prov = s.get("/api/v1/grants?status=provisioning", &admin).body["items"]
            .as_array()
            .map(|a| a.len())
            .unwrap_or(1);
        let active = s.get("/api/v1/grants?status=active&limit=500", &admin).body["items"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let now = chrono::Utc::now();
        let overdue = active.iter().any(|g| {
            g["valid_to_utc"]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .is_some_and(|t| t < now)
        });
        let reconciled =
            s.get("/api/v1/reports/drift", &admin).body["run"]["trigger_source"] == "startup";
        prov == 0 && !overdue && reconciled
    });
    assert!(settled, "the restarted server did not settle");

    let active: Vec<String> = s.get("/api/v1/grants?status=active&limit=500", &admin).body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["user_login_name"].as_str().unwrap().to_string())
        .collect();
    let mut members = pg.members(&reader);
    members.sort();
    let mut expected = active.clone();
    expected.sort();
    if members != expected {
        let grants = s.get("/api/v1/grants?limit=500", &admin).body;
        let drift = s.get("/api/v1/reports/drift", &admin).body;
        panic!("target members must be exactly the logins with an active grant\nmembers:  {members:?}\nexpected: {expected:?}\ngrants: {grants}\ndrift: {drift}");
    }
    // Every grant that ended is confirmed dropped on the target.
    for status in ["expired", "revoked", "failed"] {
        for g in s
            .get(&format!("/api/v1/grants?status={status}&limit=500"), &admin)
            .body["items"]
            .as_array()
            .unwrap()
        {
            assert!(
                !members.contains(&g["user_login_name"].as_str().unwrap().to_string()),
                "{status} grant still has access: {g}"
            );
        }
    }
    assert!(
        !active.is_empty() || USERS / 2 > 0,
        "the scenario issued nothing"
    );
}
