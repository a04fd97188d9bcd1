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
    let target = a
        .post(
            "/api/v1/targets",
            &admin,
            json!({"name": "t", "kind": "noop"}),
        )
        .expect(201)
        .id();
    let dbr = a
        .post(
            "/api/v1/db-roles",
            &admin,
            json!({"target_id": target, "db_role_name": "r"}),
        )
        .expect(201)
        .id();
    let mut roles = Vec::new();
    for i in 0..10 {
        let role = a.post("/api/v1/roles", &admin, json!({"role_name": format!("role{i}"), "max_duration_minutes": 60, "requires_approval": false, "requires_justification": false})).expect(201).id();
        a.put(
            &format!("/api/v1/roles/{role}/db-roles/{dbr}"),
            &admin,
            json!({}),
        )
        .expect(200);
        a.post(
            "/api/v1/eligibility-rules",
            &admin,
            json!({"role_id": role, "scope_type": "all"}),
        )
        .expect(201);
        roles.push(role);
    }
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
