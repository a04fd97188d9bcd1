//! Extensions and approval windows, black-box: an extension moves a live grant's end without
//! touching the target (no gap, no second grant), follows the role's policy like a new
//! request, is refused past the role's limits with its own codes, lapses when its grant ends
//! first, and of concurrent extensions exactly one wins; a request nobody decides within the
//! role's approval window expires exactly once, even with two processes sweeping.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use jitea_tests::targets::{PgTarget, PG_ADMIN_URL};
use jitea_tests::*;

const PW: &str = "a-long-test-password";

struct World {
    s: Server,
    admin: String,
    dbr: i64,
}

fn world(s: Server) -> World {
    let admin = s.admin_token();
    let target = s.noop_target(&admin, "t");
    let dbr = s.make_db_role(&admin, target, "reader");
    World { s, admin, dbr }
}

impl World {
    fn user(&self, login: &str) -> (i64, String) {
        let id = self
            .s
            .create_user(&self.admin, json!({"login_name": login, "password": PW}));
        (id, self.s.login(login, PW))
    }

    /// A role everyone may request with `settings` (pre-approved unless they say otherwise).
    fn role(&self, name: &str, settings: Value) -> i64 {
        let mut body = json!({"role_name": name, "max_duration_minutes": 60, "requires_approval": false, "requires_justification": false});
        for (k, v) in settings.as_object().unwrap() {
            body[k] = v.clone();
        }
        let role = self.s.make_role(&self.admin, body);
        self.s.map_db_role(&self.admin, role, self.dbr, true);
        self.s.open_to_all(&self.admin, role);
        role
    }

    fn approver_for(&self, role: i64, user_id: i64) {
        self.s
            .post(
                &format!("/api/v1/roles/{role}/approvers"),
                &self.admin,
                json!({"approver_type": "user", "approver_user_id": user_id}),
            )
            .expect(201);
    }

    /// An active grant of `role` for the holder of `token` (the role must be pre-approved for
    /// them, or `approver` must approve it).
    fn active_grant(&self, token: &str, role: i64, approver: Option<&str>) -> Value {
        let r = self
            .s
            .post(
                "/api/v1/requests",
                token,
                json!({"role_id": role, "requested_duration_minutes": 30, "justification": "work"}),
            )
            .expect(201)
            .body;
        if let Some(a) = approver {
            self.s
                .post(
                    &format!("/api/v1/requests/{}/approve", r["id"]),
                    a,
                    json!({}),
                )
                .expect(200);
        }
        let gid = self
            .s
            .get(&format!("/api/v1/requests/{}", r["id"]), token)
            .body["grant_id"]
            .as_i64()
            .expect("a grant");
        let mut g = Value::Null;
        assert!(
            self.s.eventually(10.0, || {
                g = self.grant(token, gid);
                g["status"] == "active"
            }),
            "grant not active: {g}"
        );
        g
    }

    fn grant(&self, token: &str, id: i64) -> Value {
        self.s
            .get(&format!("/api/v1/grants/{id}"), token)
            .expect(200)
            .body
    }

    fn extend(&self, token: &str, grant: i64, body: Value) -> Resp {
        self.s
            .post(&format!("/api/v1/grants/{grant}/extend"), token, body)
    }
}

fn at(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

fn minutes_between(a: &Value, b: &Value) -> i64 {
    (at(b) - at(a)).num_minutes()
}

on_each_backend!(a_pre_approved_extension_moves_the_end_at_once);
fn a_pre_approved_extension_moves_the_end_at_once(backend: Backend) {
    let w = world(Server::start(backend));
    let role = w.role("Ops", json!({}));
    let (_, token) = w.user("ann");
    let g = w.active_grant(&token, role, None);
    let gid = g["id"].as_i64().unwrap();

    let r = w
        .extend(
            &token,
            gid,
            json!({"extra_minutes": 20, "justification": "still fixing"}),
        )
        .expect(201)
        .body;
    assert_eq!(r["kind"], "extension");
    assert_eq!(r["status"], "auto_approved");
    assert_eq!(r["grant_id"], gid);
    assert_eq!(r["extension"]["grant_id"], gid);
    assert_eq!(r["extension"]["previous_extensions"], 0);
    assert_eq!(r["requested_duration_minutes"], 20);

    let after = w.grant(&token, gid);
    assert_eq!(
        minutes_between(&g["valid_to_utc"], &after["valid_to_utc"]),
        20
    );
    assert_eq!(after["extensions"], 1);
    assert_eq!(after["status"], "active");
    // The membership was never touched: still the one add, no drop.
    assert_eq!(after["assignments"][0]["state"], "added");
    assert_eq!(
        after["assignments"][0]["add_attempt_utc"],
        g["assignments"][0]["add_attempt_utc"]
    );
    let drops =
        w.s.audit(&w.admin, &format!("grant_id={gid}&event_type=role_dropped"));
    assert!(drops.is_empty(), "{drops:?}");
    // One grant, still: no second grant was issued for the extension.
    let mine = w.s.get("/api/v1/me/grants", &token).expect(200).body;
    assert_eq!(mine["items"].as_array().map(Vec::len), Some(1), "{mine}");

    let ext = w.s.audit(
        &w.admin,
        &format!("grant_id={gid}&event_type=grant_extended"),
    );
    assert_eq!(ext.len(), 1);
    assert_eq!(ext[0]["details"]["extra_minutes"], 20);
    assert_eq!(ext[0]["details"]["extension_number"], 1);

    // A second request for the role is still refused while the grant lives, now pointing at
    // an extension that exists.
    w.s.post(
        "/api/v1/requests",
        &token,
        json!({"role_id": role, "requested_duration_minutes": 10}),
    )
    .expect_error(409, "duplicate_request");
}

on_each_backend!(an_extension_needing_approval_is_shown_as_one_and_decided);
fn an_extension_needing_approval_is_shown_as_one_and_decided(backend: Backend) {
    let w = world(Server::start(backend));
    let role = w.role(
        "Prod",
        json!({"requires_approval": true, "approval_window_minutes": 90}),
    );
    let (_, token) = w.user("bob");
    let (cid, carol) = w.user("carol");
    w.approver_for(role, cid);
    let g = w.active_grant(&token, role, Some(&carol));
    let gid = g["id"].as_i64().unwrap();

    let r = w
        .extend(
            &token,
            gid,
            json!({"extra_minutes": 15, "justification": "migration overran"}),
        )
        .expect(201)
        .body;
    assert_eq!(r["status"], "pending");
    let decide_by = at(&r["decide_by_utc"]) - at(&r["created_utc"]);
    assert_eq!(decide_by.num_minutes(), 90);
    // The grant shows the extension waiting, and its end has not moved yet.
    let waiting = w.grant(&token, gid);
    assert_eq!(waiting["pending_extension_id"], r["id"]);
    assert_eq!(waiting["valid_to_utc"], g["valid_to_utc"]);

    // The approver sees an extension of this grant, how long it has been held, and the
    // extensions before it.
    let queue =
        w.s.get("/api/v1/approvals/pending", &carol)
            .expect(200)
            .body;
    let item = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == r["id"])
        .expect("the extension is in the approver's queue")
        .clone();
    assert_eq!(item["kind"], "extension");
    assert_eq!(item["extension"]["grant_id"], gid);
    assert_eq!(
        item["extension"]["grant_valid_from_utc"],
        g["valid_from_utc"]
    );
    assert_eq!(item["extension"]["grant_valid_to_utc"], g["valid_to_utc"]);
    assert_eq!(item["extension"]["previous_extensions"], 0);
    assert!(item["decide_by_utc"].is_string());

    // One at a time.
    w.extend(
        &token,
        gid,
        json!({"extra_minutes": 5, "justification": "again"}),
    )
    .expect_error(409, "extension_pending");
    // Self-approval is refused as for any request.
    w.s.post(
        &format!("/api/v1/requests/{}/approve", r["id"]),
        &token,
        json!({}),
    )
    .expect_error(403, "self_approval");

    w.s.post(
        &format!("/api/v1/requests/{}/approve", r["id"]),
        &carol,
        json!({"comment": "ok"}),
    )
    .expect(200);
    let after = w.grant(&token, gid);
    assert_eq!(
        minutes_between(&g["valid_to_utc"], &after["valid_to_utc"]),
        15
    );
    assert_eq!(after["extensions"], 1);
    assert!(after["pending_extension_id"].is_null());

    // The next one is denied: the end stays where the first extension put it.
    let r2 = w
        .extend(
            &token,
            gid,
            json!({"extra_minutes": 10, "justification": "more"}),
        )
        .expect(201)
        .body;
    assert_eq!(r2["extension"]["previous_extensions"], 1);
    w.s.post(
        &format!("/api/v1/requests/{}/deny", r2["id"]),
        &carol,
        json!({"comment": "enough"}),
    )
    .expect(200);
    let denied = w.grant(&token, gid);
    assert_eq!(denied["valid_to_utc"], after["valid_to_utc"]);
    assert_eq!(denied["extensions"], 1);

    // The timeline tells the whole story in order, to the requester and to the approver,
    // from the first request or from an extension.
    for (viewer, id) in [(&token, &g["request_id"]), (&carol, &r2["id"])] {
        let steps: Vec<(String, String)> =
            w.s.get(&format!("/api/v1/requests/{id}/timeline"), viewer)
                .expect(200)
                .body
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    (
                        e["step"].as_str().unwrap().to_string(),
                        e["actor_login_name"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
        let names: Vec<&str> = steps.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(
            names,
            [
                "request_created",
                "request_approved",
                "grant_created",
                "role_added",
                "extension_requested",
                "request_approved",
                "grant_extended",
                "extension_requested",
                "request_denied"
            ],
            "{steps:?}"
        );
        assert_eq!(steps[1].1, "carol");
        assert_eq!(steps[4].1, "bob");
    }
}

on_each_backend!(extension_limits_are_refused_with_their_own_codes);
fn extension_limits_are_refused_with_their_own_codes(backend: Backend) {
    let w = world(Server::start(backend));
    // A 30-minute grant; 30 minutes at most per extension, two extensions, 80 minutes in all.
    let role = w.role(
        "Limited",
        json!({"max_extension_minutes": 30, "max_extensions": 2, "max_total_minutes": 80, "requires_justification": true}),
    );
    let (_, token) = w.user("dan");
    let (_, other) = w.user("eve");
    let g = w.active_grant(&token, role, None);
    let gid = g["id"].as_i64().unwrap();
    let ask = |token: &str, gid: i64, minutes: i64| {
        w.extend(
            token,
            gid,
            json!({"extra_minutes": minutes, "justification": "x"}),
        )
    };

    let e = ask(&token, gid, 31).expect_error(400, "extension_too_long");
    assert_eq!(e.body["error"]["details"]["max_extension_minutes"], 30);
    ask(&token, gid, 0).expect(400);
    w.extend(&token, gid, json!({"extra_minutes": 10}))
        .expect_error(400, "validation_failed");
    w.extend(&token, gid, json!({"extra_minutes": 10, "bogus": 1}))
        .expect(400);
    // Someone else's grant does not exist for them.
    ask(&other, gid, 10).expect_error(404, "not_found");
    ask(&token, 999_999, 10).expect_error(404, "not_found");

    // 30 + 30 = 60 ≤ 80; then 30 more would be 90 > 80, but 10 more (70) fits.
    ask(&token, gid, 30).expect(201);
    let e = ask(&token, gid, 30).expect_error(409, "total_duration_exceeded");
    assert_eq!(e.body["error"]["details"]["max_total_minutes"], 80);
    ask(&token, gid, 10).expect(201);
    ask(&token, gid, 1).expect_error(409, "too_many_extensions");
    assert_eq!(w.grant(&token, gid)["extensions"], 2);

    // A revoked grant cannot be extended.
    w.s.post(
        &format!("/api/v1/grants/{gid}/revoke"),
        &w.admin,
        json!({"reason": "done"}),
    )
    .expect(200);
    ask(&token, gid, 1).expect_error(409, "grant_not_extendable");

    // Role settings are checked.
    let e =
        w.s.patch(
            &format!("/api/v1/roles/{role}"),
            &w.admin,
            json!({"max_total_minutes": 59, "approval_window_minutes": 0, "max_extensions": 101}),
        )
        .expect_error(400, "validation_failed");
    let fields: Vec<&str> = e.body["error"]["details"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "approval_window_minutes",
            "max_extensions",
            "max_total_minutes"
        ]
    );
    let r =
        w.s.get(&format!("/api/v1/roles/{role}"), &w.admin)
            .expect(200)
            .body;
    assert_eq!(r["max_extensions"], 2);
    assert_eq!(r["approval_window_minutes"], 1440);
}

on_each_backend!(an_extension_pending_when_its_grant_ends_lapses);
fn an_extension_pending_when_its_grant_ends_lapses(backend: Backend) {
    let w = world(Server::start(backend));
    let role = w.role("Lapse", json!({"requires_approval": true}));
    let (_, token) = w.user("fay");
    let (cid, carol) = w.user("carol");
    w.approver_for(role, cid);
    let g = w.active_grant(&token, role, Some(&carol));
    let gid = g["id"].as_i64().unwrap();
    let r = w
        .extend(
            &token,
            gid,
            json!({"extra_minutes": 15, "justification": "more"}),
        )
        .expect(201)
        .body;
    let rid = r["id"].as_i64().unwrap();

    w.s.db.set_grant_ends_in(gid, 0.3);
    let mut req = Value::Null;
    assert!(
        w.s.eventually(10.0, || {
            req = w.s.get(&format!("/api/v1/requests/{rid}"), &token).body;
            req["status"] == "expired"
        }),
        "the extension did not lapse: {req}"
    );
    assert_eq!(w.grant(&token, gid)["status"], "expired");
    let lapsed = w.s.audit(
        &w.admin,
        &format!("request_id={rid}&event_type=request_expired"),
    );
    assert_eq!(lapsed.len(), 1);
    assert_eq!(lapsed[0]["details"]["why"], "grant_ended");
    // Too late to approve it now.
    w.s.post(
        &format!("/api/v1/requests/{rid}/approve"),
        &carol,
        json!({}),
    )
    .expect_error(409, "request_not_pending");
    // And the original request ended with its grant.
    let orig =
        w.s.get(&format!("/api/v1/requests/{}", g["request_id"]), &token)
            .body;
    assert_eq!(orig["status"], "expired");
}

on_each_backend!(of_concurrent_extensions_exactly_one_wins);
fn of_concurrent_extensions_exactly_one_wins(backend: Backend) {
    let w = world(Server::start(backend));
    // Pre-approved with a single extension allowed: the race is on the grant itself.
    let auto = w.role("Auto", json!({"max_extensions": 1}));
    // Needing approval: the race is on the one pending extension per grant.
    let gated = w.role("Gated", json!({"requires_approval": true}));
    let (_, token) = w.user("gus");
    let (cid, carol) = w.user("carol");
    w.approver_for(gated, cid);
    for (role, approver) in [(auto, None), (gated, Some(carol.as_str()))] {
        let g = w.active_grant(&token, role, approver);
        let gid = g["id"].as_i64().unwrap();
        let codes: Vec<(u16, String)> = std::thread::scope(|sc| {
            let hs: Vec<_> = (0..10)
                .map(|_| {
                    sc.spawn(|| {
                        let r = w.extend(
                            &token,
                            gid,
                            json!({"extra_minutes": 5, "justification": "race"}),
                        );
                        (r.status, r.code().to_string())
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let won = codes.iter().filter(|(s, _)| *s == 201).count();
        assert_eq!(won, 1, "{codes:?}");
        assert!(
            codes.iter().all(|(s, c)| *s == 201
                || (*s == 409
                    && [
                        "too_many_extensions",
                        "extension_pending",
                        "grant_not_extendable"
                    ]
                    .contains(&c.as_str()))),
            "{codes:?}"
        );
        let after = w.grant(&token, gid);
        if approver.is_none() {
            assert_eq!(after["extensions"], 1);
            assert_eq!(
                minutes_between(&g["valid_to_utc"], &after["valid_to_utc"]),
                5
            );
        } else {
            assert!(after["pending_extension_id"].is_i64());
            assert_eq!(after["valid_to_utc"], g["valid_to_utc"]);
        }
    }
}

/// Two processes on one database sweep approval windows; a request nobody decided expires
/// once, is audited once, and can no longer be approved.
#[test]
fn an_undecided_request_expires_once_with_two_replicas() {
    let w = world(Server::start(Backend::Postgres));
    let b = Server::start_on(w.s.db.shared());
    let role = w.role(
        "Slow",
        json!({"requires_approval": true, "approval_window_minutes": 1}),
    );
    let (_, token) = w.user("hal");
    let (cid, carol) = w.user("carol");
    w.approver_for(role, cid);
    let ids: Vec<i64> = (0..5)
        .map(|i| {
            let (_, t) = w.user(&format!("req{i}"));
            w.s.post(
                "/api/v1/requests",
                &t,
                json!({"role_id": role, "requested_duration_minutes": 10, "justification": "x"}),
            )
            .expect(201)
            .id()
        })
        .collect();
    let mine =
        w.s.post(
            "/api/v1/requests",
            &token,
            json!({"role_id": role, "requested_duration_minutes": 10, "justification": "x"}),
        )
        .expect(201)
        .body;
    // The window shows on the request and in the queue.
    let window = at(&mine["decide_by_utc"]) - at(&mine["created_utc"]);
    assert_eq!(window.num_minutes(), 1);
    let queue = b.get("/api/v1/approvals/pending", &carol).expect(200).body;
    assert!(queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["decide_by_utc"].is_string()));

    // Let the windows close in half a second rather than a minute.
    w.s.db.exec("UPDATE requests SET decide_by_utc = now() + interval '0.5 seconds' WHERE status = 'pending'");
    let all: Vec<i64> = ids
        .iter()
        .copied()
        .chain([mine["id"].as_i64().unwrap()])
        .collect();
    assert!(
        w.s.eventually(10.0, || all.iter().all(|id| {
            w.s.get(&format!("/api/v1/requests/{id}"), &w.admin).body["status"] == "expired"
        })),
        "requests did not expire"
    );
    // Give the other replica time to (wrongly) expire them a second time.
    std::thread::sleep(Duration::from_millis(1500));
    for id in &all {
        let events = w.s.audit(
            &w.admin,
            &format!("request_id={id}&event_type=request_expired"),
        );
        assert_eq!(events.len(), 1, "request {id}: {events:?}");
        assert_eq!(events[0]["details"]["why"], "approval_window");
    }
    b.post(
        &format!("/api/v1/requests/{}/approve", all[0]),
        &carol,
        json!({}),
    )
    .expect_error(409, "request_not_pending");
    // The requester may ask again.
    w.s.post(
        "/api/v1/requests",
        &token,
        json!({"role_id": role, "requested_duration_minutes": 10, "justification": "again"}),
    )
    .expect(201);
}

/// On a real PostgreSQL target: a grant extended shortly before its end keeps the membership
/// across the old end, polled every few milliseconds; it is never absent.
#[test]
fn an_extended_grant_never_leaves_a_gap_on_the_target() {
    let mut pg = PgTarget::new();
    let (reader, login) = (pg.name("reader"), pg.name("stayer"));
    pg.exec(&format!("CREATE ROLE \"{reader}\" NOLOGIN"));
    pg.exec(&format!("CREATE ROLE \"{login}\" LOGIN"));
    let s = Server::start_with(Backend::Postgres, &[("JITEA_TARGET_EXT_PG", PG_ADMIN_URL)]);
    let admin = s.admin_token();
    let target = s.make_target(
        &admin,
        json!({"name": "pg", "kind": "postgres", "connection_url_env": "JITEA_TARGET_EXT_PG"}),
    );
    let dbr = s.make_db_role(&admin, target, &reader);
    let role = s.open_role(&admin, "Live", 60, &[dbr]);
    s.create_user(&admin, json!({"login_name": login, "password": PW}));
    let token = s.login(&login, PW);
    let gid = s
        .post(
            "/api/v1/requests",
            &token,
            json!({"role_id": role, "requested_duration_minutes": 30}),
        )
        .expect(201)
        .body["grant_id"]
        .as_i64()
        .unwrap();
    assert!(s.eventually(10.0, || pg.members(&reader).contains(&login)));

    // The grant now ends in 1.5 s; extend it half-way there.
    s.db.set_grant_ends_in(gid, 1.5);
    let old_end = Instant::now() + Duration::from_millis(1500);
    std::thread::sleep(Duration::from_millis(700));
    s.post(
        &format!("/api/v1/grants/{gid}/extend"),
        &token,
        json!({"extra_minutes": 1}),
    )
    .expect(201);
    let mut polls = 0;
    while Instant::now() < old_end + Duration::from_millis(1500) {
        assert!(
            pg.members(&reader).contains(&login),
            "membership absent after {polls} polls"
        );
        polls += 1;
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(polls > 100, "only {polls} polls");
    let g = s
        .get(&format!("/api/v1/grants/{gid}"), &token)
        .expect(200)
        .body;
    assert_eq!(g["status"], "active");
    assert_eq!(g["extensions"], 1);
    let _ = target;
}
