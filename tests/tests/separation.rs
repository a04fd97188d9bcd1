//! Separation of duties (issue 7, item 4): nobody — admins included — changes the facts that
//! decide their own access; another admin may, and that change is audited with before and
//! after. Admins decide requests only where the role's approvers name them (unless
//! `JITEA_ADMINS_MAY_APPROVE`), and approval re-checks the role's current maximum duration.

use jitea_tests::*;

const PW: &str = "a-long-test-password";

struct Org {
    root: String,
    ada: String,
    ada_id: i64,
    bob: String,
    bob_id: i64,
    carol: String,
    carol_id: i64,
    role: i64,
}

/// root (bootstrap admin), ada (a second admin, not an approver), bob (the role's named
/// approver), carol (a requester); one role that needs approval, open to everyone.
fn org(s: &Server) -> Org {
    let root = s.admin_token();
    let ada_id = s.create_user(
        &root,
        json!({"login_name": "ada", "password": PW, "is_admin": true, "seniority_level": 1, "department": "Ops"}),
    );
    let bob_id = s.create_user(&root, json!({"login_name": "bob", "password": PW}));
    let carol_id = s.create_user(&root, json!({"login_name": "carol", "password": PW}));
    let role = s
        .post(
            "/api/v1/roles",
            &root,
            json!({"role_name": "Manual", "max_duration_minutes": 120, "requires_justification": false}),
        )
        .expect(201)
        .id();
    s.post(
        "/api/v1/eligibility-rules",
        &root,
        json!({"role_id": role, "scope_type": "all"}),
    )
    .expect(201);
    s.post(
        &format!("/api/v1/roles/{role}/approvers"),
        &root,
        json!({"approver_type": "user", "approver_user_id": bob_id}),
    )
    .expect(201);
    Org {
        ada: s.login("ada", PW),
        bob: s.login("bob", PW),
        carol: s.login("carol", PW),
        root,
        ada_id,
        bob_id,
        carol_id,
        role,
    }
}

fn last_audit(s: &Server, token: &str, event: &str, user: i64) -> Value {
    s.audit(token, &format!("event_type={event}&user_id={user}"))
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no {event} audit row for user {user}"))
}

fn nobody_changes_their_own_access_facts(backend: Backend) {
    let s = Server::start(backend);
    let o = org(&s);
    let me = format!("/api/v1/users/{}", o.ada_id);

    // Own seniority, department, manager, app roles: refused, unchanged.
    for body in [
        json!({"seniority_level": 9}),
        json!({"department": "Security"}),
        json!({"manager_login_name": "bob"}),
        json!({"is_auditor": true}),
        json!({"is_admin": false}),
    ] {
        s.patch(&me, &o.ada, body.clone())
            .expect_error(403, "self_change_forbidden");
    }
    let u = s.get(&me, &o.ada).expect(200).body;
    assert_eq!(u["seniority_level"], 1);
    assert_eq!(u["department"], "Ops");
    assert!(u["manager_login_name"].is_null());
    assert_eq!(u["is_auditor"], false);
    // Facts that decide nothing, or values sent unchanged, are fine.
    s.patch(
        &me,
        &o.ada,
        json!({"display_name": "Ada L.", "seniority_level": 1, "department": "Ops"}),
    )
    .expect(200);

    // Own eligibility override: refused, none exists.
    let ovr = format!(
        "/api/v1/users/{}/eligibility-overrides/{}",
        o.ada_id, o.role
    );
    s.put(&ovr, &o.ada, json!({"can_request": true}))
        .expect_error(403, "self_change_forbidden");
    let list = s
        .get(
            &format!("/api/v1/users/{}/eligibility-overrides", o.ada_id),
            &o.ada,
        )
        .expect(200)
        .body;
    assert!(list.as_array().unwrap().is_empty(), "{list}");

    // Own team membership: refused, not a member.
    let team = s
        .post("/api/v1/teams", &o.root, json!({"team_name": "DBAs"}))
        .expect(201)
        .id();
    let members = format!("/api/v1/teams/{team}/members");
    s.post(&members, &o.ada, json!({"user_id": o.ada_id}))
        .expect_error(403, "self_change_forbidden");
    assert!(s
        .get(&members, &o.ada)
        .expect(200)
        .body
        .as_array()
        .unwrap()
        .is_empty());

    // A rule of scope `user` naming oneself is an override by another name.
    s.post(
        "/api/v1/eligibility-rules",
        &o.ada,
        json!({"role_id": o.role, "scope_type": "user", "scope_value": o.ada_id.to_string()}),
    )
    .expect_error(403, "self_change_forbidden");

    // Every refusal is audited.
    let refused = s.audit(
        &o.root,
        &format!("event_type=self_change_refused&user_id={}", o.ada_id),
    );
    assert_eq!(refused.len(), 8, "{refused:?}");

    // Another admin may do all of it, audited with before and after.
    s.patch(&me, &o.root, json!({"seniority_level": 9}))
        .expect(200);
    let e = last_audit(&s, &o.root, "user_updated", o.ada_id);
    assert_eq!(e["details"]["before"]["seniority_level"], 1, "{e}");
    assert_eq!(e["details"]["after"]["seniority_level"], 9, "{e}");

    s.put(&ovr, &o.root, json!({"can_request": true}))
        .expect(200);
    s.put(&ovr, &o.root, json!({"can_request": false}))
        .expect(200);
    let e = last_audit(&s, &o.root, "eligibility_override_set", o.ada_id);
    assert_eq!(e["details"]["before"]["can_request"], true, "{e}");
    assert_eq!(e["details"]["after"]["can_request"], false, "{e}");

    s.post(&members, &o.root, json!({"user_id": o.ada_id}))
        .expect(200);
    let e = last_audit(&s, &o.root, "team_member_added", o.ada_id);
    assert!(e["details"]["before"].is_null(), "{e}");
    assert_eq!(e["details"]["after"]["is_active"], true, "{e}");
    s.call(
        "DELETE",
        &format!("/api/v1/teams/{team}/members/{}", o.ada_id),
        Some(&o.root),
        None,
    )
    .expect(200);
    let e = last_audit(&s, &o.root, "team_member_removed", o.ada_id);
    assert_eq!(e["details"]["before"]["is_active"], true, "{e}");
    assert_eq!(e["details"]["after"]["is_active"], false, "{e}");

    // Nor create the user who would be their own manager (and so decide their requests).
    s.patch(&me, &o.root, json!({"manager_login_name": "zed"}))
        .expect(200);
    s.post(
        "/api/v1/users",
        &o.ada,
        json!({"login_name": "ZED", "password": PW}),
    )
    .expect_error(403, "self_change_forbidden");
    s.post(
        "/api/v1/users",
        &o.root,
        json!({"login_name": "zed", "password": PW}),
    )
    .expect(201);

    // A member of a team cannot switch that team on or off either.
    s.post(&members, &o.root, json!({"user_id": o.ada_id}))
        .expect(200);
    s.patch(
        &format!("/api/v1/teams/{team}"),
        &o.ada,
        json!({"is_active": false}),
    )
    .expect_error(403, "self_change_forbidden");
}
on_each_backend!(nobody_changes_their_own_access_facts);

fn request(s: &Server, token: &str, role: i64, minutes: i64) -> i64 {
    s.post(
        "/api/v1/requests",
        token,
        json!({"role_id": role, "requested_duration_minutes": minutes}),
    )
    .expect(201)
    .id()
}

fn admins_decide_only_as_approvers_unless_configured(backend: Backend) {
    let s = Server::start(backend);
    let o = org(&s);
    let rid = request(&s, &o.carol, o.role, 30);

    // An admin the role does not name neither sees nor decides the request.
    let q = s.get("/api/v1/approvals/pending", &o.ada).expect(200).body;
    assert!(q["items"].as_array().unwrap().is_empty(), "{q}");
    for verb in ["approve", "deny"] {
        s.post(&format!("/api/v1/requests/{rid}/{verb}"), &o.ada, json!({}))
            .expect_error(403, "not_an_approver");
    }
    let r = s
        .get(&format!("/api/v1/requests/{rid}"), &o.ada)
        .expect(200);
    assert_eq!(r.body["status"], "pending");

    // The named approver does.
    let q = s.get("/api/v1/approvals/pending", &o.bob).expect(200).body;
    assert_eq!(q["items"][0]["id"], rid, "{q}");
    s.post(
        &format!("/api/v1/requests/{rid}/approve"),
        &o.bob,
        json!({}),
    )
    .expect(200);
    let _ = (o.bob_id, o.carol_id);

    // With the setting on, an admin may decide any request but their own.
    let s = s.restart_with(&[("JITEA_ADMINS_MAY_APPROVE", "true")]);
    let root = s.admin_token();
    let ada = s.login("ada", PW);
    let carol = s.login("carol", PW);
    let other = s
        .post(
            "/api/v1/roles",
            &root,
            json!({"role_name": "Other", "max_duration_minutes": 60, "requires_justification": false}),
        )
        .expect(201)
        .id();
    s.post(
        "/api/v1/eligibility-rules",
        &root,
        json!({"role_id": other, "scope_type": "all"}),
    )
    .expect(201);
    let rid = request(&s, &carol, other, 30);
    let q = s.get("/api/v1/approvals/pending", &ada).expect(200).body;
    assert_eq!(q["items"][0]["id"], rid, "{q}");
    let own = request(&s, &ada, other, 30);
    let q = s.get("/api/v1/approvals/pending", &ada).expect(200).body;
    assert!(
        !q["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == own),
        "{q}"
    );
    s.post(&format!("/api/v1/requests/{own}/approve"), &ada, json!({}))
        .expect_error(403, "self_approval");
    let r = s
        .post(&format!("/api/v1/requests/{rid}/approve"), &ada, json!({}))
        .expect(200);
    assert_eq!(r.body["status"], "approved");
    let e = s
        .audit(
            &root,
            &format!("event_type=request_approved&request_id={rid}"),
        )
        .remove(0);
    assert_eq!(e["details"]["approver_right"], "admin", "{e}");
}
on_each_backend!(admins_decide_only_as_approvers_unless_configured);

fn approval_rechecks_the_current_maximum_duration(backend: Backend) {
    let s = Server::start(backend);
    let o = org(&s);
    let rid = request(&s, &o.carol, o.role, 90);
    s.patch(
        &format!("/api/v1/roles/{}", o.role),
        &o.root,
        json!({"max_duration_minutes": 60}),
    )
    .expect(200);
    let r = s
        .post(
            &format!("/api/v1/requests/{rid}/approve"),
            &o.bob,
            json!({}),
        )
        .expect_error(409, "duration_exceeds_max");
    assert_eq!(r.body["error"]["details"]["max_duration_minutes"], 60);
    let req = s
        .get(&format!("/api/v1/requests/{rid}"), &o.carol)
        .expect(200);
    assert_eq!(req.body["status"], "pending");
    assert!(req.body["grant_id"].is_null());
    let refused = s.audit(
        &o.root,
        &format!("event_type=approval_refused&request_id={rid}"),
    );
    assert_eq!(refused[0]["details"]["why"], "duration_exceeds_max");
    // Denying it is still possible; a request within the new maximum is approved.
    s.post(&format!("/api/v1/requests/{rid}/deny"), &o.bob, json!({}))
        .expect(200);
    let rid = request(&s, &o.carol, o.role, 60);
    s.post(
        &format!("/api/v1/requests/{rid}/approve"),
        &o.bob,
        json!({}),
    )
    .expect(200);
    let _ = &o.ada;
}
on_each_backend!(approval_rechecks_the_current_maximum_duration);
