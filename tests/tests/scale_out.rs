//! Scale-out: two `jitea serve` processes on one PostgreSQL database expire 500 grants that
//! fall due together; every grant is expired exactly once.

use std::collections::HashMap;

use jitea_tests::*;

const PW: &str = "a-long-test-password";

#[test]
fn two_processes_expire_500_grants_exactly_once() {
    let a = Server::start(Backend::Postgres);
    let b = Server::start_on(a.db.shared());
    let admin = a.admin_token();
    let target = a.noop_target(&admin, "t");
    let dbr = a.make_db_role(&admin, target, "r");
    let roles: Vec<i64> = (0..10)
        .map(|i| a.open_role(&admin, &format!("role{i}"), 60, &[dbr]))
        .collect();
    let mut grant_ids = Vec::new();
    for u in 0..50 {
        let login = format!("user{u}");
        a.create_user(&admin, json!({"login_name": login, "password": PW}));
        let token = a.login(&login, PW);
        for (i, role) in roles.iter().enumerate() {
            // Spread the requests over both processes.
            let server = if (u + i) % 2 == 0 { &a } else { &b };
            let r = server
                .post(
                    "/api/v1/requests",
                    &token,
                    json!({"role_id": role, "requested_duration_minutes": 30}),
                )
                .expect(201)
                .body;
            grant_ids.push(r["grant_id"].as_i64().unwrap());
        }
    }
    assert_eq!(grant_ids.len(), 500);
    a.db.exec("UPDATE grants SET valid_to_utc = now() + interval '2 seconds'");

    let done = a.eventually(60.0, || {
        a.get("/api/v1/grants?status=active&limit=1", &admin).body["items"]
            .as_array()
            .is_some_and(|v| v.is_empty())
    });
    assert!(done, "grants still active");
    let expired = a.audit(&admin, "event_type=grant_expired");
    let mut per_grant: HashMap<i64, usize> = HashMap::new();
    for e in &expired {
        *per_grant
            .entry(e["grant_id"].as_i64().unwrap())
            .or_default() += 1;
    }
    assert_eq!(per_grant.len(), 500, "every grant expired");
    assert!(
        per_grant.values().all(|n| *n == 1),
        "some grant expired twice: {:?}",
        per_grant
            .iter()
            .filter(|(_, n)| **n > 1)
            .collect::<Vec<_>>()
    );
    for id in grant_ids {
        assert!(per_grant.contains_key(&id));
    }
    let statuses = a
        .get("/api/v1/grants?status=expired&limit=500", &admin)
        .body;
    assert_eq!(statuses["items"].as_array().unwrap().len(), 500);
}

/// Two processes on one database run one scheduled reconciliation per interval between them,
/// not one each.
#[test]
fn two_processes_reconcile_once_per_interval() {
    let env = [("JITEA_RECONCILE_INTERVAL_SECS", "10")];
    let a = Server::start_with(Backend::Postgres, &env);
    let b = Server::start_on_with(a.db.shared(), &env);
    let admin = a.admin_token();
    a.post(
        "/api/v1/targets",
        &admin,
        json!({"name": "t", "kind": "noop"}),
    )
    .expect(201);
    // Both processes tick at about 10 s and 20 s after their start.
    std::thread::sleep(std::time::Duration::from_secs(23));
    let runs: Vec<Value> = a
        .audit(&admin, "event_type=reconciliation_run")
        .into_iter()
        .filter(|e| e["details"]["trigger"] == "schedule")
        .collect();
    let mut starts: Vec<chrono::DateTime<chrono::Utc>> = runs
        .iter()
        .map(|e| e["event_utc"].as_str().unwrap().parse().unwrap())
        .collect();
    starts.sort();
    assert!(
        (1..=2).contains(&starts.len()),
        "expected one scheduled pass per interval across both processes, got {}: {runs:?}",
        starts.len()
    );
    for w in starts.windows(2) {
        assert!(
            (w[1] - w[0]).num_milliseconds() >= 9_000,
            "two scheduled passes within one interval: {starts:?}"
        );
    }
    drop(b);
}
