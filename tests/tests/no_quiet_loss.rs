//! No quiet loss (issue 7, item 8): the approver queue pages through every request the
//! approver may decide (one query, real cursors), the revoke-failures report shows every
//! failing live grant however many ended ones carry the flag, and old outbox rows are pruned.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::thread;

use jitea_tests::*;

const PW: &str = "a-long-test-password";

/// Creates a role needing approval, open to everyone, with one approver entry; returns its id.
fn role(s: &Server, admin: &str, name: &str, approver: Value) -> i64 {
    let id = s.make_role(
        admin,
        json!({"role_name": name, "max_duration_minutes": 60, "requires_justification": false}),
    );
    s.open_to_all(admin, id);
    s.post(&format!("/api/v1/roles/{id}/approvers"), admin, approver)
        .expect(201);
    id
}

fn ask(s: &Server, token: &str, role: i64) -> i64 {
    s.post(
        "/api/v1/requests",
        token,
        json!({"role_id": role, "requested_duration_minutes": 30}),
    )
    .expect(201)
    .id()
}

/// Every item id of the queue, following cursors with `limit` per page.
fn whole_queue(s: &Server, token: &str, limit: usize) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/approvals/pending?limit={limit}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = s.get(&path, token).expect(200).body;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= limit);
        ids.extend(items.iter().map(|r| r["id"].as_i64().unwrap()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return ids,
        }
    }
}

fn approver_sees_all_1050_pending_requests(backend: Backend) {
    let s = Arc::new(Server::start(backend));
    let admin = s.admin_token();
    let appr_id = s.create_user(
        &admin,
        json!({"login_name": "appr", "password": PW, "department": "Security"}),
    );
    let other_id = s.create_user(&admin, json!({"login_name": "other", "password": PW}));
    let team = s
        .post("/api/v1/teams", &admin, json!({"team_name": "Approvers"}))
        .expect(201)
        .id();
    s.post(
        &format!("/api/v1/teams/{team}/members"),
        &admin,
        json!({"user_id": appr_id}),
    )
    .expect(200);
    // r0's manager is the approver; r1 and r2 report to someone else.
    s.create_user(
        &admin,
        json!({"login_name": "r0", "password": PW, "manager_login_name": "APPR"}),
    );
    for r in ["r1", "r2"] {
        s.create_user(
            &admin,
            json!({"login_name": r, "password": PW, "manager_login_name": "other"}),
        );
    }
    let appr = s.login("appr", PW);
    let tokens: Vec<String> = ["r0", "r1", "r2"].iter().map(|r| s.login(r, PW)).collect();

    // Requests the approver may not decide come first (the old queue read the oldest 1,000
    // pending requests and filtered them): another approver's roles, and their own request.
    let foreign = role(
        &s,
        &admin,
        "foreign",
        json!({"approver_type": "user", "approver_user_id": other_id}),
    );
    for t in &tokens {
        ask(&s, t, foreign);
    }
    let dept_elsewhere = role(
        &s,
        &admin,
        "dept-elsewhere",
        json!({"approver_type": "department", "approver_department": "Finance"}),
    );
    ask(&s, &tokens[0], dept_elsewhere);

    // 345 roles the approver decides by name, team or department (any requester), and 15
    // decided by the requester's manager (only r0's requests): 345 * 3 + 15 = 1,050.
    let kinds: Vec<Value> = vec![
        json!({"approver_type": "user", "approver_user_id": appr_id}),
        json!({"approver_type": "team", "approver_team_id": team}),
        json!({"approver_type": "department", "approver_department": " security "}),
    ];
    let work: Vec<(String, Value, bool)> = (0..345)
        .map(|i| (format!("role-{i}"), kinds[i % 3].clone(), false))
        .chain((0..15).map(|i| {
            (
                format!("mgr-{i}"),
                json!({"approver_type": "manager"}),
                true,
            )
        }))
        .collect();
    let work = Arc::new(work);
    let tokens = Arc::new(tokens);
    let handles: Vec<_> = (0..4)
        .map(|w| {
            let (s, admin, work, tokens) = (s.clone(), admin.clone(), work.clone(), tokens.clone());
            thread::spawn(move || {
                let mut expected = Vec::new();
                let mut unexpected = Vec::new();
                for (name, entry, manager) in work.iter().skip(w).step_by(4) {
                    let id = role(&s, &admin, name, entry.clone());
                    for (i, t) in tokens.iter().enumerate() {
                        let rid = ask(&s, t, id);
                        if !manager || i == 0 {
                            expected.push(rid);
                        } else {
                            unexpected.push(rid);
                        }
                    }
                }
                (expected, unexpected)
            })
        })
        .collect();
    let mut expected = BTreeSet::new();
    for h in handles {
        let (e, _) = h.join().unwrap();
        expected.extend(e);
    }
    assert_eq!(expected.len(), 1050);
    // The approver's own request on a role they approve never shows.
    let own_role = role(
        &s,
        &admin,
        "own",
        json!({"approver_type": "user", "approver_user_id": appr_id}),
    );
    let own = ask(&s, &appr, own_role);

    let ids = whole_queue(&s, &appr, 100);
    assert_eq!(
        ids.len(),
        1050,
        "the queue must hold every decidable request"
    );
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "oldest first, no repeats"
    );
    assert_eq!(ids.iter().copied().collect::<BTreeSet<_>>(), expected);
    assert!(!ids.contains(&own));
    // One page of the maximum size and the default size agree with the paged walk.
    assert_eq!(whole_queue(&s, &appr, 500), ids);
    // An admin the roles do not name sees nothing (JITEA_ADMINS_MAY_APPROVE is off).
    assert!(whole_queue(&s, &admin, 500).is_empty());
    // A bad cursor is a 400, not an empty page.
    s.get("/api/v1/approvals/pending?cursor=nope", &appr)
        .expect_error(400, "invalid_cursor");
}
on_each_backend!(approver_sees_all_1050_pending_requests);

fn revoke_failures_report_shows_every_failing_live_grant(backend: Backend) {
    let s = Server::start(backend);
    let admin = s.admin_token();
    s.create_user(&admin, json!({"login_name": "eve", "password": PW}));
    let eve = s.login("eve", PW);
    let open = s.open_role(&admin, "Open", 60, &[]);
    let req = s
        .post(
            "/api/v1/requests",
            &eve,
            json!({"role_id": open, "requested_duration_minutes": 60}),
        )
        .expect(201)
        .body;
    let gid = req["grant_id"].as_i64().expect("auto-approved grant");
    // The live grant's removal "keeps failing"; then 1,024 newer grants that ended long ago
    // still carry the flag (more than one 500-row window of the old report).
    // SQL Server has no TRUE literal (a BIT column takes 1).
    let yes = if backend == Backend::Mssql {
        "1"
    } else {
        "TRUE"
    };
    s.db.exec(&format!(
        "UPDATE grants SET revoke_failed = {yes} WHERE id = {gid}"
    ));
    s.db.exec(&format!(
        "INSERT INTO grants (user_id, role_id, valid_from_utc, valid_to_utc, status, created_utc, updated_utc, revoke_failed) \
         SELECT user_id, role_id, valid_from_utc, valid_to_utc, 'revoked', created_utc, updated_utc, {yes} FROM grants WHERE id = {gid}"
    ));
    for _ in 0..10 {
        s.db.exec(&format!(
            "INSERT INTO grants (user_id, role_id, valid_from_utc, valid_to_utc, status, created_utc, updated_utc, revoke_failed) \
             SELECT user_id, role_id, valid_from_utc, valid_to_utc, 'revoked', created_utc, updated_utc, {yes} FROM grants WHERE status = 'revoked'",
        ));
    }
    let mut found = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = "/api/v1/reports/revoke-failures?limit=500".to_string();
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = s.get(&path, &admin).expect(200).body;
        for g in page["items"].as_array().unwrap() {
            assert_ne!(g["status"], "revoked", "ended grants are not failures: {g}");
            found.push(g["id"].as_i64().unwrap());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(found, vec![gid]);
}
on_each_backend!(revoke_failures_report_shows_every_failing_live_grant);

fn old_outbox_rows_are_pruned(backend: Backend) {
    let env = [("JITEA_OUTBOX_RETENTION_HOURS", "1")];
    let s = Server::start_with(backend, &env);
    let (old, new) = match backend {
        Backend::Sqlite => (
            "strftime('%Y-%m-%d %H:%M:%f', 'now', '-2 days') || '+00:00'",
            "strftime('%Y-%m-%d %H:%M:%f', 'now') || '+00:00'",
        ),
        Backend::Postgres => ("now() - interval '2 days'", "now()"),
        Backend::Mssql => (
            "DATEADD(day, -2, SYSDATETIMEOFFSET())",
            "SYSDATETIMEOFFSET()",
        ),
    };
    s.db.exec(&format!(
        "INSERT INTO outbox (created_utc, topic, payload_json, available_utc, attempts) VALUES ({new}, 'test.new', '{{}}', {new}, 0)"
    ));
    for _ in 0..3 {
        s.db.exec(&format!(
            "INSERT INTO outbox (created_utc, topic, payload_json, available_utc, attempts) VALUES ({old}, 'test.old', '{{}}', {old}, 0)"
        ));
    }
    s.db.exec(&format!(
        "INSERT INTO outbox (created_utc, topic, payload_json, available_utc, attempts, delivered_utc) VALUES ({old}, 'test.old', '{{}}', {old}, 1, {old})"
    ));
    let count = |topic_cond: &str| {
        s.db.scalar(&format!(
            "SELECT COUNT(*) AS n FROM outbox WHERE {topic_cond}"
        ))
    };
    assert_eq!(count("topic = 'test.old'"), 4);
    assert_eq!(count("topic = 'test.new'"), 1);
    // The prune job runs at start (and hourly).
    let s = s.restart_with(&env);
    let count = |topic_cond: &str| {
        s.db.scalar(&format!(
            "SELECT COUNT(*) AS n FROM outbox WHERE {topic_cond}"
        ))
    };
    assert!(
        s.eventually(10.0, || count("topic = 'test.old'") == 0),
        "old outbox rows were not pruned"
    );
    assert_eq!(count("topic = 'test.new'"), 1, "recent rows are kept");
}
on_each_backend!(old_outbox_rows_are_pruned);
