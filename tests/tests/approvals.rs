//! Several approvals (issue 10 item 3), black-box: a role may need N distinct approvals,
//! optionally in stages ordered by its approver entries' priority; one deny ends the request;
//! nobody counts twice, not even under a race; the request and the approver queue show who
//! has approved and who may still decide.

use std::sync::{Arc, Barrier};
use std::thread;

use jitea_tests::*;

const PW: &str = "a-long-test-password";

struct World {
    s: Server,
    admin: String,
    requester: String,
    requester_id: i64,
    role: i64,
}

/// A role needing `settings` (e.g. `required_approvals`), mapped to a noop target and open to
/// everyone, with a requester.
fn world(backend: Backend, settings: Value) -> World {
    let s = Server::start(backend);
    let admin = s.admin_token();
    let target = s.noop_target(&admin, "t");
    let dbr = s.make_db_role(&admin, target, "writer");
    let mut body = json!({"role_name": "Prod DBA", "max_duration_minutes": 60, "requires_justification": false});
    for (k, v) in settings.as_object().unwrap() {
        body[k] = v.clone();
    }
    let role = s.make_role(&admin, body);
    s.map_db_role(&admin, role, dbr, true);
    s.open_to_all(&admin, role);
    let requester_id = s.create_user(&admin, json!({"login_name": "req", "password": PW}));
    World {
        requester: s.login("req", PW),
        s,
        admin,
        requester_id,
        role,
    }
}

impl World {
    /// A user named by an approver entry of the role at `priority`; returns their token.
    fn approver(&self, login: &str, priority: i64) -> String {
        let id = self
            .s
            .create_user(&self.admin, json!({"login_name": login, "password": PW}));
        self.s
            .post(
                &format!("/api/v1/roles/{}/approvers", self.role),
                &self.admin,
                json!({"approver_type": "user", "approver_user_id": id, "priority": priority}),
            )
            .expect(201);
        self.s.login(login, PW)
    }

    fn ask(&self) -> i64 {
        self.s
            .post(
                "/api/v1/requests",
                &self.requester,
                json!({"role_id": self.role, "requested_duration_minutes": 30}),
            )
            .expect(201)
            .id()
    }

    fn decide(&self, token: &str, rid: i64, what: &str) -> Resp {
        self.s.post(
            &format!("/api/v1/requests/{rid}/{what}"),
            token,
            json!({"comment": format!("{what} by test")}),
        )
    }

    fn request(&self, rid: i64) -> Value {
        self.s
            .get(&format!("/api/v1/requests/{rid}"), &self.admin)
            .expect(200)
            .body
    }

    fn grants(&self) -> usize {
        let g = self
            .s
            .get(
                &format!("/api/v1/grants?user_id={}", self.requester_id),
                &self.admin,
            )
            .expect(200)
            .body;
        g["items"].as_array().unwrap().len()
    }

    fn count(&self, event: &str, rid: i64) -> usize {
        self.s
            .audit(&self.admin, &format!("event_type={event}&request_id={rid}"))
            .len()
    }
}

fn logins(entries: &Value) -> Vec<String> {
    entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["approver_login_name"].as_str().unwrap_or("?").to_string())
        .collect()
}

fn two_approvals_are_needed_and_each_approver_counts_once(backend: Backend) {
    let w = world(backend, json!({"required_approvals": 2}));
    let (ann, ben) = (w.approver("ann", 0), w.approver("ben", 0));
    let rid = w.ask();
    let r = w.request(rid);
    assert_eq!(r["required_approvals"], 2);
    assert_eq!(r["approval_progress"]["approved"], 0);
    assert_eq!(r["approval_progress"]["required"], 2);
    assert_eq!(r["approval_progress"]["stage"], Value::Null);
    assert_eq!(
        logins(&r["approval_progress"]["waiting_for"]),
        ["ann", "ben"]
    );

    let first = w.decide(&ann, rid, "approve").expect(200).body;
    assert_eq!(first["status"], "pending", "one of two approvals: {first}");
    assert_eq!(first["approval_progress"]["approved"], 1);
    assert_eq!(w.grants(), 0, "no access before the second approval");
    // Approving again changes nothing: the same person never counts twice.
    let again = w.decide(&ann, rid, "approve").expect(200).body;
    assert_eq!(again["status"], "pending");
    assert_eq!(again["approvals"].as_array().unwrap().len(), 1);
    // The requester sees who has approved and that one more is needed.
    let mine =
        w.s.get(&format!("/api/v1/requests/{rid}"), &w.requester)
            .expect(200)
            .body;
    assert_eq!(mine["approvals"][0]["approver_login_name"], "ann");
    assert_eq!(mine["approval_progress"]["approved"], 1);

    let done = w.decide(&ben, rid, "approve").expect(200).body;
    assert_eq!(done["status"], "approved");
    assert_eq!(done["approval_progress"], Value::Null);
    assert_eq!(done["approvals"].as_array().unwrap().len(), 2);
    assert_eq!(w.grants(), 1);
    assert_eq!(w.count("request_approval_counted", rid), 1);
    assert_eq!(w.count("request_approved", rid), 1);
    let timeline =
        w.s.get(&format!("/api/v1/requests/{rid}/timeline"), &w.requester)
            .expect(200)
            .body;
    let steps: Vec<&str> = timeline
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["summary"].as_str().unwrap())
        .collect();
    let counted = steps
        .iter()
        .position(|s| *s == "ann approved (1 of 2 approvals)");
    let approved = steps.iter().position(|s| *s == "ben approved");
    assert!(counted.is_some() && approved > counted, "{steps:?}");
}
on_each_backend!(two_approvals_are_needed_and_each_approver_counts_once);

fn stages_open_in_priority_order(backend: Backend) {
    let w = world(
        backend,
        json!({"required_approvals": 2, "approval_stages": true}),
    );
    let (sec, lead) = (w.approver("sec", 20), w.approver("lead", 10));
    let rid = w.ask();
    let r = w.request(rid);
    assert_eq!(r["approval_progress"]["stage"], 1);
    assert_eq!(r["approval_progress"]["stages"], 2);
    assert_eq!(logins(&r["approval_progress"]["waiting_for"]), ["lead"]);
    // The second stage's approver sees it in the queue, with its stage, but cannot approve yet.
    let queue = w.s.get("/api/v1/approvals/pending", &sec).expect(200).body;
    let item = &queue["items"][0];
    assert_eq!(item["id"], rid);
    assert_eq!(item["approval_progress"]["stage"], 1);
    let early = w.decide(&sec, rid, "approve");
    assert_eq!(early.status, 409, "{}", early.text);
    assert_eq!(early.code(), "stage_not_open");
    assert_eq!(early.body["error"]["details"]["stage"], 1);
    assert_eq!(w.request(rid)["approvals"].as_array().unwrap().len(), 0);

    let after_lead = w.decide(&lead, rid, "approve").expect(200).body;
    assert_eq!(after_lead["status"], "pending");
    assert_eq!(after_lead["approval_progress"]["stage"], 2);
    assert_eq!(
        logins(&after_lead["approval_progress"]["waiting_for"]),
        ["sec"]
    );
    // The first stage is done: its approver cannot give the second stage's approval too.
    let twice = w.decide(&lead, rid, "approve").expect(200).body;
    assert_eq!(twice["approvals"].as_array().unwrap().len(), 1);
    assert_eq!(twice["status"], "pending");
    assert_eq!(w.grants(), 0);

    let done = w.decide(&sec, rid, "approve").expect(200).body;
    assert_eq!(done["status"], "approved", "{done}");
    assert_eq!(w.grants(), 1);
}
on_each_backend!(stages_open_in_priority_order);

fn one_deny_ends_the_request_at_any_stage(backend: Backend) {
    let w = world(
        backend,
        json!({"required_approvals": 3, "approval_stages": true}),
    );
    let (first, second) = (w.approver("first", 1), w.approver("second", 2));
    let rid = w.ask();
    w.decide(&first, rid, "approve").expect(200);
    // The second stage, now open, denies: the request ends with one approval of three.
    let denied = w.decide(&second, rid, "deny").expect(200).body;
    assert_eq!(denied["status"], "denied");
    assert_eq!(w.grants(), 0);
    // A retry of the first approval is answered with the request as it is: denied.
    let retry = w.decide(&first, rid, "approve").expect(200).body;
    assert_eq!(retry["status"], "denied");
    let late = w.decide(&second, rid, "approve");
    assert_eq!(late.status, 409, "{}", late.text);
    assert_eq!(late.code(), "request_not_pending");

    // A new request: the second stage denies before the first has approved.
    let rid = w.ask();
    let early = w.decide(&second, rid, "deny").expect(200).body;
    assert_eq!(early["status"], "denied");
    assert_eq!(w.count("request_denied", rid), 1);
    assert_eq!(w.grants(), 0);
}
on_each_backend!(one_deny_ends_the_request_at_any_stage);

fn concurrent_approvals_count_each_approver_once(backend: Backend) {
    let w = Arc::new(world(backend, json!({"required_approvals": 3})));
    let tokens: Vec<String> = (0..6).map(|i| w.approver(&format!("a{i}"), 0)).collect();
    let rid = w.ask();
    let barrier = Arc::new(Barrier::new(20));
    let handles: Vec<_> = (0..20)
        .map(|i| {
            let (w, b, token) = (w.clone(), barrier.clone(), tokens[i % 6].clone());
            thread::spawn(move || {
                b.wait();
                w.decide(&token, rid, "approve")
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
    let req = w.request(rid);
    assert_eq!(req["status"], "approved");
    let mut who: Vec<String> = logins_of_approvals(&req);
    assert_eq!(who.len(), 3, "exactly three approvals: {req}");
    who.sort();
    who.dedup();
    assert_eq!(who.len(), 3, "three different approvers: {req}");
    assert_eq!(w.grants(), 1);
    assert_eq!(w.count("request_approval_counted", rid), 2);
    assert_eq!(w.count("request_approved", rid), 1);
    assert_eq!(w.count("grant_created", rid), 1);
}
on_each_backend!(concurrent_approvals_count_each_approver_once);

fn logins_of_approvals(req: &Value) -> Vec<String> {
    req["approvals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["approver_login_name"].as_str().unwrap().to_string())
        .collect()
}

fn the_rule_is_validated_and_kept_by_pending_requests(backend: Backend) {
    let w = world(backend, json!({}));
    let ann = w.approver("ann", 0);
    let _ben = w.approver("ben", 0);
    for bad in [0, 6] {
        let r = w.s.patch(
            &format!("/api/v1/roles/{}", w.role),
            &w.admin,
            json!({"required_approvals": bad}),
        );
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
        assert_eq!(r.code(), "validation_failed");
        assert_eq!(
            r.body["error"]["details"]["fields"][0]["code"],
            "required_approvals_out_of_range"
        );
    }
    let created = w.s.post(
        "/api/v1/roles",
        &w.admin,
        json!({"role_name": "Too many", "max_duration_minutes": 60, "required_approvals": 9}),
    );
    assert_eq!(created.status, 400, "{}", created.text);

    // Asked under "one approval"; the role then needs two: the request keeps its rule.
    let rid = w.ask();
    let role =
        w.s.patch(
            &format!("/api/v1/roles/{}", w.role),
            &w.admin,
            json!({"required_approvals": 2, "approval_stages": true}),
        )
        .expect(200)
        .body;
    assert_eq!(role["required_approvals"], 2);
    assert_eq!(role["approval_stages"], true);
    assert_eq!(w.request(rid)["required_approvals"], 1);
    let done = w.decide(&ann, rid, "approve").expect(200).body;
    assert_eq!(done["status"], "approved");
}
on_each_backend!(the_rule_is_validated_and_kept_by_pending_requests);
