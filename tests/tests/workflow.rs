//! The whole access workflow over HTTP, on SQLite and PostgreSQL: an admin sets up the
//! organisation, requesters ask, policies auto-approve or an approver decides, grants are
//! provisioned, expire, and the audit log shows every step.

use jitea_tests::*;

struct Org {
    admin: String,
    mgr: String,
    sam: String,
    jun: String,
    jun_id: i64,
    sam_id: i64,
    pre_role: i64,
    bypass_role: i64,
}

const PW: &str = "a-long-test-password";

fn setup(s: &Server) -> Org {
    let admin = s.admin_token();
    let target = s.noop_target(&admin, "warehouse");
    let reader = s.make_db_role(&admin, target, "reader");
    let writer = s.make_db_role(&admin, target, "writer");
    let team = s
        .post(
            "/api/v1/teams",
            &admin,
            json!({"team_name": "ops", "department": "Eng"}),
        )
        .expect(201)
        .id();

    s.create_user(&admin, json!({"login_name": "mgr", "department": "Eng", "division": "Tech", "seniority_level": 9, "password": PW}));
    let sam_id = s.create_user(&admin, json!({"login_name": "sam", "department": "Eng", "division": "Tech", "seniority_level": 5, "manager_login_name": "mgr", "password": PW}));
    let jun_id = s.create_user(&admin, json!({"login_name": "jun", "department": "Eng", "division": "Tech", "seniority_level": 1, "manager_login_name": "mgr", "password": PW}));
    for u in [sam_id, jun_id] {
        s.post(
            &format!("/api/v1/teams/{team}/members"),
            &admin,
            json!({"user_id": u}),
        )
        .expect(200);
    }

    let pre_role = s
        .post("/api/v1/roles", &admin, json!({"role_name": "Prod read", "max_duration_minutes": 60, "requires_approval": false, "requires_justification": true}))
        .expect(201)
        .id();
    let bypass_role = s
        .post("/api/v1/roles", &admin, json!({"role_name": "Prod write", "max_duration_minutes": 120, "requires_approval": true, "auto_approve_min_seniority": 5}))
        .expect(201)
        .id();
    s.map_db_role(&admin, pre_role, reader, true);
    s.map_db_role(&admin, bypass_role, reader, true);
    s.map_db_role(&admin, bypass_role, writer, true);
    s.open_to_all(&admin, pre_role);
    s.post(
        "/api/v1/eligibility-rules",
        &admin,
        json!({"role_id": bypass_role, "scope_type": "team", "scope_value": team.to_string()}),
    )
    .expect(201);
    s.post(
        &format!("/api/v1/roles/{bypass_role}/approvers"),
        &admin,
        json!({"approver_type": "manager"}),
    )
    .expect(201);
    // The junior is also a listed approver, to prove self-approval is refused regardless.
    s.post(
        &format!("/api/v1/roles/{bypass_role}/approvers"),
        &admin,
        json!({"approver_type": "user", "approver_user_id": jun_id}),
    )
    .expect(201);

    Org {
        mgr: s.login("mgr", PW),
        sam: s.login("sam", PW),
        jun: s.login("jun", PW),
        admin,
        jun_id,
        sam_id,
        pre_role,
        bypass_role,
    }
}

fn request(s: &Server, token: &str, role: i64, minutes: i64) -> Resp {
    s.post("/api/v1/requests", token, json!({"role_id": role, "requested_duration_minutes": minutes, "justification": "incident 42 follow-up"}))
}

fn grant(s: &Server, token: &str, id: i64) -> Value {
    s.get(&format!("/api/v1/grants/{id}"), token)
        .expect(200)
        .body
}

fn full_workflow(backend: Backend) {
    let s = Server::start(backend);
    let o = setup(&s);

    // The junior sees both roles, and whether each would be approved at once.
    let roles = s
        .get("/api/v1/me/requestable-roles", &o.jun)
        .expect(200)
        .body;
    let by_name = |n: &str| {
        roles
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["role"]["role_name"] == n)
            .cloned()
            .unwrap_or_else(|| panic!("{n} not requestable: {roles}"))
    };
    assert_eq!(by_name("Prod read")["would_auto_approve"], true);
    assert_eq!(
        by_name("Prod read")["auto_approval_reason"],
        "pre_approved_role"
    );
    assert_eq!(by_name("Prod write")["would_auto_approve"], false);
    assert_eq!(
        by_name("Prod write")["db_roles"].as_array().unwrap().len(),
        2
    );
    let sam_roles = s
        .get("/api/v1/me/requestable-roles", &o.sam)
        .expect(200)
        .body;
    let sam_write = sam_roles
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role"]["role_name"] == "Prod write")
        .unwrap();
    assert_eq!(sam_write["auto_approval_reason"], "seniority_bypass");

    // Pre-approved: auto_approved with an active grant, its db role added on the target.
    let pre = request(&s, &o.jun, o.pre_role, 30).expect(201).body;
    assert_eq!(pre["status"], "auto_approved");
    assert_eq!(pre["auto_approval_reason"], "pre_approved_role");
    let g = grant(&s, &o.jun, pre["grant_id"].as_i64().expect("grant issued"));
    assert_eq!(g["status"], "active");
    assert_eq!(g["assignments"][0]["db_role_name"], "reader");
    assert_eq!(g["assignments"][0]["state"], "added");

    // A second request for the same role points at the first.
    let dup = request(&s, &o.jun, o.pre_role, 30).expect_error(409, "duplicate_request");
    assert_eq!(dup.body["error"]["details"]["request_id"], pre["id"]);

    // Seniority bypass: the senior is auto-approved, the junior waits.
    let senior = request(&s, &o.sam, o.bypass_role, 60).expect(201).body;
    assert_eq!(senior["status"], "auto_approved");
    assert_eq!(senior["auto_approval_reason"], "seniority_bypass");
    assert_eq!(
        grant(&s, &o.sam, senior["grant_id"].as_i64().unwrap())["status"],
        "active"
    );
    let junior = request(&s, &o.jun, o.bypass_role, 60).expect(201).body;
    assert_eq!(junior["status"], "pending");
    assert!(junior["grant_id"].is_null());
    let rid = junior["id"].as_i64().unwrap();

    // The requester cannot approve their own request, even as a listed approver.
    s.post(
        &format!("/api/v1/requests/{rid}/approve"),
        &o.jun,
        json!({}),
    )
    .expect_error(403, "self_approval");
    assert!(
        !s.get("/api/v1/approvals/pending", &o.jun).expect(200).body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == rid)
    );
    assert_eq!(
        s.get(&format!("/api/v1/requests/{rid}"), &o.jun)
            .expect(200)
            .body["status"],
        "pending"
    );

    // The manager sees it in the queue and approves with a comment.
    let queue = s.get("/api/v1/approvals/pending", &o.mgr).expect(200).body;
    let item = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == rid)
        .expect("request in the manager's queue");
    assert_eq!(item["user_login_name"], "jun");
    assert_eq!(item["user_seniority_snapshot"], 1);
    let approved = s
        .post(
            &format!("/api/v1/requests/{rid}/approve"),
            &o.mgr,
            json!({"comment": "go ahead"}),
        )
        .expect(200)
        .body;
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["approvals"][0]["approver_login_name"], "mgr");
    assert_eq!(approved["approvals"][0]["decision_comment"], "go ahead");
    let gid = approved["grant_id"]
        .as_i64()
        .expect("grant issued on approval");
    let g = grant(&s, &o.jun, gid);
    assert_eq!(g["status"], "active");
    assert!(g["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["state"] == "added"));
    assert!(
        s.get("/api/v1/approvals/pending", &o.mgr).expect(200).body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Another user's grant is invisible; the user's own list has both grants.
    s.get(&format!("/api/v1/grants/{gid}"), &o.sam)
        .expect_error(404, "not_found");
    let mine = s
        .get("/api/v1/me/grants?status=active", &o.jun)
        .expect(200)
        .body;
    assert_eq!(mine["items"].as_array().unwrap().len(), 2);

    // Expiry: run the job as of a time after every grant's end.
    let later = (chrono::Utc::now() + chrono::Duration::hours(3)).to_rfc3339();
    let out = s.cli(&["expire", "--at", &later]);
    assert!(out.contains("\"processed\":3"), "expiry output: {out}");
    let g = grant(&s, &o.jun, gid);
    assert_eq!(g["status"], "expired");
    assert!(
        g["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["state"] == "dropped"),
        "{g}"
    );
    assert_eq!(
        s.get(&format!("/api/v1/requests/{rid}"), &o.jun)
            .expect(200)
            .body["status"],
        "expired"
    );
    assert!(s
        .get("/api/v1/me/grants?status=active", &o.jun)
        .expect(200)
        .body["items"]
        .as_array()
        .unwrap()
        .is_empty());

    // The audit log shows every step, with actor, user, request and grant.
    let events = s.audit(&o.admin, &format!("request_id={rid}"));
    let kinds: Vec<&str> = events
        .iter()
        .rev()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    for expected in [
        "request_created",
        "self_approval_refused",
        "request_approved",
        "grant_created",
        "role_added",
        "grant_issued",
        "role_dropped",
        "grant_expired",
    ] {
        assert!(kinds.contains(&expected), "missing {expected} in {kinds:?}");
    }
    let approved_row = events
        .iter()
        .find(|e| e["event_type"] == "request_approved")
        .unwrap();
    assert_eq!(approved_row["actor_login_name"], "mgr");
    assert_eq!(approved_row["target_user_id"], o.jun_id);
    let refused = events
        .iter()
        .find(|e| e["event_type"] == "self_approval_refused")
        .unwrap();
    assert_eq!(refused["actor_user_id"], o.jun_id);
    let expired = events
        .iter()
        .find(|e| e["event_type"] == "grant_expired")
        .unwrap();
    assert_eq!(expired["actor_login_name"], "system:expiry");
    assert_eq!(expired["grant_id"], gid);
    let auto = s.audit(
        &o.admin,
        &format!("event_type=request_auto_approved&user_id={}", o.sam_id),
    );
    assert_eq!(auto.len(), 1);
    assert_eq!(auto[0]["details"]["reason"], "seniority_bypass");

    // Once expired, the same role can be requested again.
    request(&s, &o.jun, o.pre_role, 15).expect(201);
}
on_each_backend!(full_workflow);

fn eligibility_is_explained_and_enforced(backend: Backend) {
    let s = Server::start(backend);
    let o = setup(&s);
    // Deny the junior at user scope: more specific than the team allow.
    s.post("/api/v1/eligibility-rules", &o.admin, json!({"role_id": o.bypass_role, "scope_type": "user", "scope_value": o.jun_id.to_string(), "can_request": false})).expect(201);
    let check = s
        .get(
            &format!(
                "/api/v1/eligibility/check?user_id={}&role_id={}",
                o.jun_id, o.bypass_role
            ),
            &o.admin,
        )
        .expect(200)
        .body;
    assert_eq!(check["eligible"], false);
    assert_eq!(check["reason"]["kind"], "rule");
    assert_eq!(check["reason"]["scope_type"], "user");
    assert!(
        check["explanation"].as_str().unwrap().contains("user"),
        "{check}"
    );
    request(&s, &o.jun, o.bypass_role, 30).expect_error(403, "not_eligible");
    assert_eq!(s.audit(&o.admin, "event_type=request_refused").len(), 1);
    assert!(!s
        .get("/api/v1/me/requestable-roles", &o.jun)
        .expect(200)
        .body
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["role"]["id"] == o.bypass_role));

    // A per-user override beats every rule while its window is open.
    s.put(
        &format!(
            "/api/v1/users/{}/eligibility-overrides/{}",
            o.jun_id, o.bypass_role
        ),
        &o.admin,
        json!({"can_request": true}),
    )
    .expect(200);
    let check = s
        .get(
            &format!(
                "/api/v1/eligibility/check?user_id={}&role_id={}",
                o.jun_id, o.bypass_role
            ),
            &o.jun,
        )
        .expect(200)
        .body;
    assert_eq!(check["eligible"], true);
    assert_eq!(check["reason"]["kind"], "override");

    // Eligibility is re-checked at approval: revoke it, and the approval is refused.
    let rid = request(&s, &o.jun, o.bypass_role, 30).expect(201).id();
    s.put(
        &format!(
            "/api/v1/users/{}/eligibility-overrides/{}",
            o.jun_id, o.bypass_role
        ),
        &o.admin,
        json!({"can_request": false}),
    )
    .expect(200);
    s.post(
        &format!("/api/v1/requests/{rid}/approve"),
        &o.mgr,
        json!({}),
    )
    .expect_error(409, "requester_not_eligible");
    let denied = s
        .post(
            &format!("/api/v1/requests/{rid}/deny"),
            &o.mgr,
            json!({"comment": "not eligible any more"}),
        )
        .expect(200)
        .body;
    assert_eq!(denied["status"], "denied");
    assert!(denied["grant_id"].is_null());

    // A disabled role is never requestable.
    s.patch(
        &format!("/api/v1/roles/{}", o.pre_role),
        &o.admin,
        json!({"is_enabled": false}),
    )
    .expect(200);
    request(&s, &o.sam, o.pre_role, 30).expect_error(403, "role_disabled");
}
on_each_backend!(eligibility_is_explained_and_enforced);

fn revoke_and_deactivation_remove_access(backend: Backend) {
    let s = Server::start(backend);
    let o = setup(&s);
    let g1 = request(&s, &o.sam, o.pre_role, 30).expect(201).body["grant_id"]
        .as_i64()
        .unwrap();
    // Non-admins cannot revoke; a reason is required.
    s.post(
        &format!("/api/v1/grants/{g1}/revoke"),
        &o.mgr,
        json!({"reason": "x"}),
    )
    .expect_error(403, "forbidden");
    s.post(
        &format!("/api/v1/grants/{g1}/revoke"),
        &o.admin,
        json!({"reason": "  "}),
    )
    .expect_error(400, "validation_failed");
    let g = s
        .post(
            &format!("/api/v1/grants/{g1}/revoke"),
            &o.admin,
            json!({"reason": "suspicious activity"}),
        )
        .expect(200)
        .body;
    assert_eq!(g["status"], "revoked");
    assert_eq!(g["revoke_reason"], "suspicious activity");
    assert_eq!(g["assignments"][0]["state"], "dropped");
    // Revoking again is a no-op success.
    s.post(
        &format!("/api/v1/grants/{g1}/revoke"),
        &o.admin,
        json!({"reason": "again"}),
    )
    .expect(200);
    assert_eq!(
        s.audit(&o.admin, &format!("event_type=grant_revoked&grant_id={g1}"))
            .len(),
        1
    );

    // Deactivation revokes live grants, cancels pending requests and blocks sign-in.
    let g2 = request(&s, &o.sam, o.bypass_role, 30).expect(201).body["grant_id"]
        .as_i64()
        .unwrap();
    let pending = request(&s, &o.jun, o.bypass_role, 30).expect(201).id();
    s.post(
        &format!("/api/v1/users/{}/deactivate", o.sam_id),
        &o.admin,
        json!({}),
    )
    .expect(200);
    s.post(
        &format!("/api/v1/users/{}/deactivate", o.jun_id),
        &o.admin,
        json!({}),
    )
    .expect(200);
    assert_eq!(grant(&s, &o.admin, g2)["status"], "revoked");
    assert_eq!(
        s.get(&format!("/api/v1/requests/{pending}"), &o.admin)
            .expect(200)
            .body["status"],
        "cancelled"
    );
    s.get("/api/v1/me", &o.sam)
        .expect_error(401, "user_inactive");
    s.call(
        "POST",
        "/api/v1/auth/login",
        None,
        Some(&json!({"login_name": "sam", "password": PW})),
    )
    .expect_error(401, "invalid_credentials");
}
on_each_backend!(revoke_and_deactivation_remove_access);
