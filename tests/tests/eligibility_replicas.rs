//! Each process keeps the catalogue in memory for eligibility; a change made through another
//! process on the same database is seen by the very next request (the catalogue's version is
//! read per use), by the role picker, the eligibility checker and request creation alike.

use jitea_tests::*;

const PW: &str = "a-long-test-password";

fn requestable(s: &Server, token: &str) -> Vec<(i64, String, Vec<String>)> {
    s.get("/api/v1/me/requestable-roles", token)
        .expect(200)
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let db_roles = r["db_roles"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["db_role_name"].as_str().unwrap().to_string())
                .collect();
            (
                r["role"]["id"].as_i64().unwrap(),
                r["role"]["role_name"].as_str().unwrap().to_string(),
                db_roles,
            )
        })
        .collect()
}

fn catalogue_changes_on_one_process_are_seen_by_the_other(backend: Backend) {
    let a = Server::start(backend);
    let b = Server::start_on(a.db.shared());
    let admin = a.admin_token();
    let target = b
        .post(
            "/api/v1/targets",
            &admin,
            json!({"name": "t", "kind": "noop"}),
        )
        .expect(201)
        .id();
    let db_role = |name: &str| {
        b.post(
            "/api/v1/db-roles",
            &admin,
            json!({"target_id": target, "db_role_name": name}),
        )
        .expect(201)
        .id()
    };
    let (reader, writer) = (db_role("reader"), db_role("writer"));
    let role = b
        .post(
            "/api/v1/roles",
            &admin,
            json!({"role_name": "Read prod", "max_duration_minutes": 60}),
        )
        .expect(201)
        .id();
    b.put(
        &format!("/api/v1/roles/{role}/db-roles/{reader}"),
        &admin,
        json!({}),
    )
    .expect(200);
    b.post(
        "/api/v1/eligibility-rules",
        &admin,
        json!({"role_id": role, "scope_type": "all"}),
    )
    .expect(201);
    let uid = a.create_user(&admin, json!({"login_name": "ann", "password": PW}));
    let ann = a.login("ann", PW);

    // Process A loads its catalogue; process B changes it.
    assert_eq!(
        requestable(&a, &ann),
        vec![(role, "Read prod".to_string(), vec!["reader".to_string()])]
    );
    let deny = b
        .post(
            "/api/v1/eligibility-rules",
            &admin,
            json!({"role_id": role, "scope_type": "user", "scope_value": uid.to_string(), "can_request": false}),
        )
        .expect(201)
        .id();
    assert!(requestable(&a, &ann).is_empty(), "A still offers the role");
    let check = a
        .get(
            &format!("/api/v1/eligibility/check?user_id={uid}&role_id={role}"),
            &ann,
        )
        .expect(200);
    assert_eq!(check.body["eligible"], false);
    assert_eq!(check.body["reason"]["rule_id"], deny);
    a.post(
        "/api/v1/requests",
        &ann,
        json!({"role_id": role, "requested_duration_minutes": 30, "justification": "incident"}),
    )
    .expect_error(403, "not_eligible");

    // Lifting the deny, renaming the role and mapping another db role all show at once on A.
    b.call(
        "DELETE",
        &format!("/api/v1/eligibility-rules/{deny}"),
        Some(&admin),
        None,
    )
    .expect(204);
    b.patch(
        &format!("/api/v1/roles/{role}"),
        &admin,
        json!({"role_name": "Read production"}),
    )
    .expect(200);
    b.put(
        &format!("/api/v1/roles/{role}/db-roles/{writer}"),
        &admin,
        json!({}),
    )
    .expect(200);
    assert_eq!(
        requestable(&a, &ann),
        vec![(
            role,
            "Read production".to_string(),
            vec!["reader".to_string(), "writer".to_string()]
        )]
    );
    let r = a
        .post(
            "/api/v1/requests",
            &ann,
            json!({"role_id": role, "requested_duration_minutes": 30, "justification": "incident"}),
        )
        .expect(201);
    assert_eq!(r.body["status"], "pending");

    // Disabling the role on B: A no longer offers it.
    b.patch(
        &format!("/api/v1/roles/{role}"),
        &admin,
        json!({"is_enabled": false}),
    )
    .expect(200);
    assert!(
        requestable(&a, &ann).is_empty(),
        "A still offers a disabled role"
    );
}
on_each_backend!(catalogue_changes_on_one_process_are_seen_by_the_other);
