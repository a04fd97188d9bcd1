//! Concurrency: racing decisions on one request end in exactly one outcome, on SQLite and
//! PostgreSQL.

use std::sync::{Arc, Barrier};
use std::thread;

use jitea_tests::*;

const PW: &str = "a-long-test-password";

struct Fixture {
    admin: String,
    requester: String,
    requester_id: i64,
    approvers: Vec<String>,
    role: i64,
}

fn fixture(s: &Server, approvers: usize) -> Fixture {
    let admin = s.admin_token();
    let target = s.noop_target(&admin, "t");
    let dbr = s.make_db_role(&admin, target, "writer");
    let role = s.make_role(
        &admin,
        json!({"role_name": "Manual", "max_duration_minutes": 60, "requires_justification": false}),
    );
    s.map_db_role(&admin, role, dbr, true);
    s.open_to_all(&admin, role);
    let requester_id = s.create_user(&admin, json!({"login_name": "req", "password": PW}));
    let mut tokens = Vec::new();
    for i in 0..approvers {
        let login = format!("appr{i}");
        let id = s.create_user(&admin, json!({"login_name": login, "password": PW}));
        s.post(
            &format!("/api/v1/roles/{role}/approvers"),
            &admin,
            json!({"approver_type": "user", "approver_user_id": id}),
        )
        .expect(201);
        tokens.push(s.login(&login, PW));
    }
    Fixture {
        requester: s.login("req", PW),
        admin,
        requester_id,
        approvers: tokens,
        role,
    }
}

fn twenty_concurrent_approvals_issue_one_grant(backend: Backend) {
    let s = Arc::new(Server::start(backend));
    let f = fixture(&s, 4);
    let rid = s
        .post(
            "/api/v1/requests",
            &f.requester,
            json!({"role_id": f.role, "requested_duration_minutes": 30}),
        )
        .expect(201)
        .id();

    let barrier = Arc::new(Barrier::new(20));
    let handles: Vec<_> = (0..20)
        .map(|i| {
            let (s, b, token) = (s.clone(), barrier.clone(), f.approvers[i % 4].clone());
            thread::spawn(move || {
                b.wait();
                s.post(
                    &format!("/api/v1/requests/{rid}/approve"),
                    &token,
                    json!({"comment": format!("attempt {i}")}),
                )
            })
        })
        .collect();
    let results: Vec<Resp> = handles.into_iter().map(|h| h.join().unwrap()).collect();

    for r in &results {
        assert!(
            r.status == 200 || (r.status == 409 && r.code() == "request_not_pending"),
            "unexpected: {} {}",
            r.status,
            r.text
        );
    }
    let req = s
        .get(&format!("/api/v1/requests/{rid}"), &f.admin)
        .expect(200)
        .body;
    assert_eq!(req["status"], "approved");
    assert_eq!(
        req["approvals"].as_array().unwrap().len(),
        1,
        "exactly one decision recorded: {req}"
    );
    let winner = req["approvals"][0]["approver_login_name"]
        .as_str()
        .unwrap()
        .to_string();
    // Only the winning approver's retries may succeed; every other approver got a conflict.
    let ok_count = results.iter().filter(|r| r.status == 200).count();
    assert!((1..=5).contains(&ok_count), "{ok_count} successes");
    for r in results.iter().filter(|r| r.status == 200) {
        assert_eq!(
            r.body["approvals"][0]["approver_login_name"],
            winner.as_str()
        );
    }

    let grants = s
        .get(
            &format!("/api/v1/grants?user_id={}", f.requester_id),
            &f.admin,
        )
        .expect(200)
        .body;
    assert_eq!(
        grants["items"].as_array().unwrap().len(),
        1,
        "exactly one grant: {grants}"
    );
    assert_eq!(
        s.audit(
            &f.admin,
            &format!("event_type=request_approved&request_id={rid}")
        )
        .len(),
        1
    );
    assert_eq!(
        s.audit(
            &f.admin,
            &format!("event_type=grant_created&request_id={rid}")
        )
        .len(),
        1
    );
}
on_each_backend!(twenty_concurrent_approvals_issue_one_grant);

fn approve_racing_cancel_ends_in_exactly_one(backend: Backend) {
    let s = Arc::new(Server::start(backend));
    let f = fixture(&s, 1);
    for round in 0..8 {
        let rid = s
            .post(
                "/api/v1/requests",
                &f.requester,
                json!({"role_id": f.role, "requested_duration_minutes": 30}),
            )
            .expect(201)
            .id();
        let barrier = Arc::new(Barrier::new(2));
        let (s1, b1, appr) = (s.clone(), barrier.clone(), f.approvers[0].clone());
        let approve = thread::spawn(move || {
            b1.wait();
            s1.post(&format!("/api/v1/requests/{rid}/approve"), &appr, json!({}))
        });
        let (s2, b2, req) = (s.clone(), barrier.clone(), f.requester.clone());
        let cancel = thread::spawn(move || {
            b2.wait();
            s2.post(&format!("/api/v1/requests/{rid}/cancel"), &req, json!({}))
        });
        let (a, c) = (approve.join().unwrap(), cancel.join().unwrap());
        let final_req = s
            .get(&format!("/api/v1/requests/{rid}"), &f.admin)
            .expect(200)
            .body;
        let status = final_req["status"].as_str().unwrap().to_string();
        let approved_rows = s
            .audit(
                &f.admin,
                &format!("event_type=request_approved&request_id={rid}"),
            )
            .len();
        let cancelled_rows = s
            .audit(
                &f.admin,
                &format!("event_type=request_cancelled&request_id={rid}"),
            )
            .len();
        match status.as_str() {
            "approved" => {
                assert_eq!(a.status, 200, "round {round}: {}", a.text);
                assert_eq!(c.status, 409, "round {round}: {}", c.text);
                assert_eq!((approved_rows, cancelled_rows), (1, 0));
                let gid = final_req["grant_id"]
                    .as_i64()
                    .expect("approved request has a grant");
                // Clear the way for the next round.
                s.post(
                    &format!("/api/v1/grants/{gid}/revoke"),
                    &f.admin,
                    json!({"reason": "next round"}),
                )
                .expect(200);
            }
            "cancelled" => {
                assert_eq!(c.status, 200, "round {round}: {}", c.text);
                assert_eq!(a.status, 409, "round {round}: {}", a.text);
                assert_eq!((approved_rows, cancelled_rows), (0, 1));
                assert!(final_req["grant_id"].is_null());
            }
            other => panic!("round {round}: unexpected status {other}"),
        }
    }
}
on_each_backend!(approve_racing_cancel_ends_in_exactly_one);

fn concurrent_duplicate_requests_create_one(backend: Backend) {
    let s = Arc::new(Server::start(backend));
    let f = fixture(&s, 1);
    let barrier = Arc::new(Barrier::new(10));
    let handles: Vec<_> = (0..10)
        .map(|_| {
            let (s, b, t, role) = (s.clone(), barrier.clone(), f.requester.clone(), f.role);
            thread::spawn(move || {
                b.wait();
                s.post(
                    "/api/v1/requests",
                    &t,
                    json!({"role_id": role, "requested_duration_minutes": 30}),
                )
            })
        })
        .collect();
    let results: Vec<Resp> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(results.iter().filter(|r| r.status == 201).count(), 1);
    for r in results.iter().filter(|r| r.status != 201) {
        assert_eq!(
            (r.status, r.code()),
            (409, "duplicate_request"),
            "{}",
            r.text
        );
    }
    let list = s.get("/api/v1/requests", &f.requester).expect(200).body;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}
on_each_backend!(concurrent_duplicate_requests_create_one);
