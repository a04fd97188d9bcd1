//! Break-glass access, black-box: a break-glass role grants at once without an approver but
//! only with a justification (and its ticket rule); the role's approvers and the admins are
//! told live, an approver of another role is not; an approver of the role reviews the grant
//! once (`accept`, or `flag` that can revoke it), never its holder, and of concurrent reviews
//! exactly one wins; unreviewed and overdue grants show in the report and on the overview; a
//! grant that is not break-glass refuses a review.

use std::sync::mpsc::Receiver;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use jitea_tests::*;

const PW: &str = "a-long-test-password";

struct World {
    s: Server,
    admin: String,
    dbr: i64,
    /// A break-glass role (review window 90 minutes) and its named approver.
    role: i64,
    approver: String,
    approver_id: i64,
    /// Someone who holds (or will hold) the break-glass grant.
    holder: String,
    holder_id: i64,
}

fn world(s: Server) -> World {
    let admin = s.admin_token();
    let target = s.noop_target(&admin, "t");
    let dbr = s.make_db_role(&admin, target, "reader");
    let mut w = World {
        s,
        admin,
        dbr,
        role: 0,
        approver: String::new(),
        approver_id: 0,
        holder: String::new(),
        holder_id: 0,
    };
    w.role = w.role(
        "Emergency",
        json!({"break_glass": true, "review_window_minutes": 90}),
    );
    (w.approver_id, w.approver) = w.user("ann");
    w.approver_for(w.role, w.approver_id);
    (w.holder_id, w.holder) = w.user("hal");
    w
}

impl World {
    fn user(&self, login: &str) -> (i64, String) {
        let id = self
            .s
            .create_user(&self.admin, json!({"login_name": login, "password": PW}));
        (id, self.s.login(login, PW))
    }

    /// A role everyone may request, with `settings` over "needs an approver, no justification".
    fn role(&self, name: &str, settings: Value) -> i64 {
        let mut body = json!({"role_name": name, "max_duration_minutes": 60, "requires_approval": true, "requires_justification": false});
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

    fn ask(&self, token: &str, role: i64, body: Value) -> Resp {
        let mut b = json!({"role_id": role, "requested_duration_minutes": 30});
        for (k, v) in body.as_object().unwrap() {
            b[k] = v.clone();
        }
        self.s.post("/api/v1/requests", token, b)
    }

    /// The holder's break-glass grant of the world's role, once active.
    fn break_glass_grant(&self) -> Value {
        let r = self
            .ask(
                &self.holder,
                self.role,
                json!({"justification": "prod is down, INC-1"}),
            )
            .expect(201)
            .body;
        let gid = r["grant_id"].as_i64().expect("a grant at once");
        self.active(gid)
    }

    fn active(&self, gid: i64) -> Value {
        let mut g = Value::Null;
        assert!(
            self.s.eventually(10.0, || {
                g = self.grant(gid);
                g["status"] == "active"
            }),
            "grant not active: {g}"
        );
        g
    }

    fn grant(&self, id: i64) -> Value {
        self.s
            .get(&format!("/api/v1/grants/{id}"), &self.admin)
            .expect(200)
            .body
    }

    fn review(&self, token: &str, grant: i64, body: Value) -> Resp {
        self.s
            .post(&format!("/api/v1/grants/{grant}/review"), token, body)
    }

    fn report(&self, query: &str) -> Vec<Value> {
        let r = self
            .s
            .get(&format!("/api/v1/reports/break-glass?{query}"), &self.admin)
            .expect(200);
        r.body["items"].as_array().unwrap().clone()
    }

    fn overview(&self) -> (i64, i64) {
        let o = self
            .s
            .get("/api/v1/reports/overview", &self.admin)
            .expect(200)
            .body;
        (
            o["break_glass_unreviewed"].as_i64().unwrap(),
            o["break_glass_overdue"].as_i64().unwrap(),
        )
    }

    /// Moves a grant's review due time `secs` seconds into the past (database clock).
    fn make_overdue(&self, grant: i64, secs: i64) {
        let sql = match self.s.db.backend {
            Backend::Sqlite => format!(
                "UPDATE grants SET review_due_utc = strftime('%Y-%m-%d %H:%M:%f', 'now', '-{secs} seconds') || '+00:00' WHERE id = {grant}"
            ),
            Backend::Postgres => format!(
                "UPDATE grants SET review_due_utc = now() - interval '{secs} seconds' WHERE id = {grant}"
            ),
            Backend::Mssql => format!(
                "UPDATE grants SET review_due_utc = DATEADD(second, -{secs}, SYSDATETIMEOFFSET()) WHERE id = {grant}"
            ),
        };
        self.s.db.exec(&sql);
    }
}

fn at(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

fn fields(r: &Resp) -> Vec<String> {
    r.body["error"]["details"]["fields"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f["field"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

on_each_backend!(a_break_glass_role_grants_at_once_without_an_approver);
fn a_break_glass_role_grants_at_once_without_an_approver(backend: Backend) {
    let w = world(Server::start(backend));

    // The justification is mandatory, though the role itself does not ask for one.
    let r = w
        .ask(&w.holder, w.role, json!({}))
        .expect_error(400, "validation_failed");
    assert_eq!(fields(&r), ["justification"], "{}", r.text);
    let r = w
        .ask(&w.holder, w.role, json!({"justification": "   "}))
        .expect_error(400, "validation_failed");
    assert_eq!(fields(&r), ["justification"], "{}", r.text);

    // With one, it is granted at once: no approver decided anything.
    let req = w
        .ask(
            &w.holder,
            w.role,
            json!({"justification": "prod is down, INC-1"}),
        )
        .expect(201)
        .body;
    assert_eq!(req["status"], "auto_approved", "{req}");
    assert_eq!(req["auto_approval_reason"], "break_glass", "{req}");
    assert!(req["approvals"].as_array().unwrap().is_empty(), "{req}");
    let gid = req["grant_id"].as_i64().expect("a grant at once");
    let g = w.active(gid);
    assert_eq!(g["break_glass"], true, "{g}");
    assert!(g["review"].is_null(), "{g}");
    let due = at(&g["review_due_utc"]) - at(&g["created_utc"]);
    assert!(
        (89 * 60..=90 * 60 + 5).contains(&due.num_seconds()),
        "review due {due} after the grant, not the role's 90 minutes: {g}"
    );
    // The holder sees it flagged on their own grant.
    let mine =
        w.s.get(&format!("/api/v1/grants/{gid}"), &w.holder)
            .expect(200)
            .body;
    assert_eq!(mine["break_glass"], true);

    // Audited loudly, with the justification.
    let used = w.s.audit(&w.admin, "event_type=break_glass_used");
    assert_eq!(used.len(), 1, "{used:?}");
    assert_eq!(used[0]["grant_id"], gid);
    assert_eq!(
        used[0]["details"]["justification"], "prod is down, INC-1",
        "{used:?}"
    );

    // Unreviewed on the report and the overview.
    let items = w.report("");
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["grant_id"], gid);
    assert_eq!(items[0]["review_status"], "unreviewed");
    assert_eq!(items[0]["user_login_name"], "hal");
    assert_eq!(items[0]["role_name"], "Emergency");
    assert_eq!(items[0]["justification"], "prod is down, INC-1");
    assert_eq!(w.overview(), (1, 0));

    // A break-glass role's ticket rule still applies.
    let ticketed = w.role(
        "Emergency DB",
        json!({"break_glass": true, "requires_ticket": true, "ticket_regex": "INC-[0-9]+"}),
    );
    let r = w
        .ask(&w.holder, ticketed, json!({"justification": "db down"}))
        .expect_error(400, "validation_failed");
    assert_eq!(fields(&r), ["ticket_ref"], "{}", r.text);
    let r = w
        .ask(
            &w.holder,
            ticketed,
            json!({"justification": "db down", "ticket_ref": "INC-7"}),
        )
        .expect(201);
    assert_eq!(r.body["auto_approval_reason"], "break_glass");

    // Extending a break-glass grant is immediate and audited, and the one review covers it.
    let ext =
        w.s.post(
            &format!("/api/v1/grants/{gid}/extend"),
            &w.holder,
            json!({"extra_minutes": 10, "justification": "still down"}),
        )
        .expect(201)
        .body;
    assert_eq!(ext["status"], "auto_approved", "{ext}");
    let g2 = w.grant(gid);
    assert_eq!(g2["extensions"], 1, "{g2}");
    assert_eq!(
        g2["review_due_utc"], g["review_due_utc"],
        "the review covers the extension"
    );
    assert_eq!(
        w.s.audit(
            &w.admin,
            &format!("event_type=break_glass_used&grant_id={gid}")
        )
        .len(),
        2
    );
}

/// Reads lines from `rx` until one contains `needle` (true) or `secs` pass (false); returns
/// the lines read.
fn read_until(rx: &Receiver<String>, needle: &str, secs: u64) -> (bool, Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) => {
                let hit = line.contains(needle);
                seen.push(line);
                if hit {
                    return (true, seen);
                }
            }
            Err(_) => break,
        }
    }
    (false, seen)
}

on_each_backend!(the_roles_approvers_and_admins_are_told_live_others_are_not);
fn the_roles_approvers_and_admins_are_told_live_others_are_not(backend: Backend) {
    let w = world(Server::start(backend));
    // An approver of another role, and someone asking for that role.
    let other = w.role("Reports", json!({}));
    let (bob_id, bob) = w.user("bob");
    w.approver_for(other, bob_id);
    let (_, carl) = w.user("carl");

    let streams: Vec<_> = [&w.approver, &w.admin, &bob]
        .into_iter()
        .map(|t| {
            let rx = w.s.stream_lines("/api/v1/events", t);
            assert!(read_until(&rx, "event: hello", 5).0, "hello");
            rx
        })
        .collect();

    let gid = w.break_glass_grant()["id"].as_i64().unwrap();
    for (who, rx) in ["the role's approver", "an admin"].iter().zip(&streams) {
        let (told, seen) = read_until(rx, "event: grant.break_glass", 10);
        assert!(told, "{who} was not told: {seen:?}");
        let data = seen
            .iter()
            .skip_while(|l| !l.contains("event: grant.break_glass"))
            .find(|l| l.starts_with("data:"));
        let data = match data {
            Some(d) => d.clone(),
            None => rx.recv_timeout(Duration::from_secs(5)).unwrap(),
        };
        assert!(data.contains(&format!("\"grant_id\":{gid}")), "{data}");
    }

    // The other role's approver is told about a request they may decide, which the outbox
    // delivers after the break-glass event: by then they would have had it.
    w.ask(&carl, other, json!({})).expect(201);
    let (got_later, seen) = read_until(&streams[2], "event: request.created", 10);
    assert!(
        got_later,
        "the other approver's own event never came: {seen:?}"
    );
    assert!(
        !seen.iter().any(|l| l.contains("grant.break_glass")),
        "an approver of another role was told: {seen:?}"
    );
}

on_each_backend!(an_approver_of_the_role_reviews_once_never_the_holder);
fn an_approver_of_the_role_reviews_once_never_the_holder(backend: Backend) {
    let w = world(Server::start(backend));
    let gid = w.break_glass_grant()["id"].as_i64().unwrap();
    let ok = json!({"outcome": "accept", "comment": "checked with the on-call lead"});

    // Not the holder, even though they may see the grant.
    w.review(&w.holder, gid, ok.clone())
        .expect_error(403, "self_review");
    // Nobody who may not decide the role's requests.
    let other = w.role("Reports", json!({}));
    let (bob_id, bob) = w.user("bob");
    w.approver_for(other, bob_id);
    w.review(&bob, gid, ok.clone())
        .expect_error(404, "not_found");
    let (_, plain) = w.user("pat");
    w.review(&plain, gid, ok.clone())
        .expect_error(404, "not_found");
    w.review(&w.admin, gid, ok.clone())
        .expect_error(403, "not_an_approver");
    // A comment is required; only a flag revokes.
    for bad in [
        json!({"outcome": "accept"}),
        json!({"outcome": "accept", "comment": "  "}),
        json!({"outcome": "accept", "comment": "x".repeat(4001)}),
        json!({"outcome": "accept", "comment": "fine", "revoke": true}),
        json!({"outcome": "maybe", "comment": "fine"}),
    ] {
        let r = w.review(&w.approver, gid, bad.clone());
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
    }
    assert!(w.grant(gid)["review"].is_null());

    // The role's approver finds it in their review queue; nobody else does.
    let queue = |token: &str| -> Vec<i64> {
        w.s.get("/api/v1/approvals/reviews", token).expect(200).body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["grant_id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(queue(&w.approver), [gid]);
    for token in [&w.holder, &bob, &plain, &w.admin] {
        assert!(queue(token).is_empty());
    }

    let g = w.review(&w.approver, gid, ok.clone()).expect(200).body;
    assert_eq!(g["review"]["outcome"], "accept", "{g}");
    assert_eq!(g["review"]["comment"], "checked with the on-call lead");
    assert_eq!(g["review"]["reviewer_login_name"], "ann");
    assert_eq!(g["review"]["reviewer_user_id"], w.approver_id);
    assert_eq!(g["status"], "active", "an accepted grant stays: {g}");

    // Once; and reviewed, it leaves the queue.
    w.review(&w.approver, gid, ok)
        .expect_error(409, "already_reviewed");
    assert!(queue(&w.approver).is_empty());
    let audited = w.s.audit(&w.admin, "event_type=grant_reviewed");
    assert_eq!(audited.len(), 1, "{audited:?}");
    assert_eq!(audited[0]["details"]["outcome"], "accept");
    assert_eq!(audited[0]["details"]["revoked"], false);
    assert_eq!(
        w.s.audit(&w.admin, "event_type=self_review_refused").len(),
        1
    );

    let items = w.report("status=accepted");
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["review"]["reviewer_login_name"], "ann");
    assert!(w.report("status=unreviewed").is_empty());
    assert_eq!(w.overview(), (0, 0));
}

on_each_backend!(a_flag_review_can_revoke_the_grant);
fn a_flag_review_can_revoke_the_grant(backend: Backend) {
    let w = world(Server::start(backend));
    let gid = w.break_glass_grant()["id"].as_i64().unwrap();
    let g = w
        .review(
            &w.approver,
            gid,
            json!({"outcome": "flag", "comment": "no incident at that time", "revoke": true}),
        )
        .expect(200)
        .body;
    assert_eq!(g["review"]["outcome"], "flag", "{g}");
    let mut g = g;
    assert!(
        w.s.eventually(10.0, || {
            g = w.grant(gid);
            g["status"] == "revoked"
        }),
        "grant not revoked: {g}"
    );
    assert!(g["revoke_reason"]
        .as_str()
        .unwrap()
        .contains("no incident at that time"));
    assert_eq!(g["revoked_by_user_id"], w.approver_id);
    let reviewed = w.s.audit(&w.admin, "event_type=grant_reviewed");
    assert_eq!(reviewed[0]["details"]["revoked"], true, "{reviewed:?}");
    // The holder's timeline tells it in order.
    let steps: Vec<String> =
        w.s.get(
            &format!("/api/v1/requests/{}/timeline", g["request_id"]),
            &w.holder,
        )
        .expect(200)
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["step"].as_str().unwrap().to_string())
        .collect();
    let pos = |s: &str| {
        steps
            .iter()
            .position(|x| x == s)
            .unwrap_or_else(|| panic!("no {s} in {steps:?}"))
    };
    assert!(pos("break_glass_used") < pos("grant_reviewed"), "{steps:?}");
    assert!(pos("grant_reviewed") < pos("grant_revoked"), "{steps:?}");

    let items = w.report("");
    assert_eq!(items[0]["review_status"], "flagged", "{items:?}");
    assert_eq!(items[0]["grant_status"], "revoked", "{items:?}");
    assert_eq!(w.report("status=flagged").len(), 1);
    assert_eq!(w.overview(), (0, 0));

    // A flag without revoke leaves the access in place.
    let (_, hana) = w.user("hana");
    let r = w
        .ask(&hana, w.role, json!({"justification": "db locked"}))
        .expect(201);
    let g2 = r.body["grant_id"].as_i64().unwrap();
    w.active(g2);
    let g = w
        .review(
            &w.approver,
            g2,
            json!({"outcome": "flag", "comment": "ask first next time"}),
        )
        .expect(200)
        .body;
    assert_eq!(g["status"], "active", "{g}");
    assert_eq!(w.report("status=flagged").len(), 2);
}

on_each_backend!(of_ten_concurrent_reviews_exactly_one_wins);
fn of_ten_concurrent_reviews_exactly_one_wins(backend: Backend) {
    let w = world(Server::start(backend));
    let gid = w.break_glass_grant()["id"].as_i64().unwrap();
    let mut tokens = vec![w.approver.clone()];
    for i in 0..3 {
        let (id, t) = w.user(&format!("rev{i}"));
        w.approver_for(w.role, id);
        tokens.push(t);
    }
    let w = Arc::new(w);
    let barrier = Arc::new(Barrier::new(10));
    let handles: Vec<_> = (0..10)
        .map(|i| {
            let (w, b, token) = (w.clone(), barrier.clone(), tokens[i % 4].clone());
            thread::spawn(move || {
                b.wait();
                w.review(
                    &token,
                    gid,
                    json!({"outcome": if i % 2 == 0 { "accept" } else { "flag" }, "comment": format!("review {i}")}),
                )
            })
        })
        .collect();
    let results: Vec<Resp> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let won: Vec<&Resp> = results.iter().filter(|r| r.status == 200).collect();
    assert_eq!(
        won.len(),
        1,
        "{:?}",
        results.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    for r in results.iter().filter(|r| r.status != 200) {
        assert_eq!(r.status, 409, "{}", r.text);
        assert_eq!(r.code(), "already_reviewed", "{}", r.text);
    }
    let g = w.grant(gid);
    assert_eq!(g["review"]["comment"], won[0].body["review"]["comment"]);
    assert_eq!(w.s.audit(&w.admin, "event_type=grant_reviewed").len(), 1);
}

on_each_backend!(an_overdue_review_shows_on_the_report_and_the_overview);
fn an_overdue_review_shows_on_the_report_and_the_overview(backend: Backend) {
    let w = world(Server::start(backend));
    let late = w.break_glass_grant()["id"].as_i64().unwrap();
    let (_, hana) = w.user("hana");
    let r = w
        .ask(&hana, w.role, json!({"justification": "db locked"}))
        .expect(201);
    let fresh = r.body["grant_id"].as_i64().unwrap();
    assert_eq!(w.overview(), (2, 0));

    w.make_overdue(late, 60);
    let overdue = w.report("status=overdue");
    assert_eq!(overdue.len(), 1, "{overdue:?}");
    assert_eq!(overdue[0]["grant_id"], late);
    let unreviewed = w.report("status=unreviewed");
    assert_eq!(unreviewed.len(), 1, "{unreviewed:?}");
    assert_eq!(unreviewed[0]["grant_id"], fresh);
    assert_eq!(w.overview(), (2, 1));

    // Paged newest first, and `since` leaves out older grants.
    let page =
        w.s.get("/api/v1/reports/break-glass?limit=1", &w.admin)
            .expect(200)
            .body;
    assert_eq!(page["items"][0]["grant_id"], fresh);
    let cursor = page["next_cursor"].as_str().expect("a second page");
    let next =
        w.s.get(
            &format!("/api/v1/reports/break-glass?limit=1&cursor={cursor}"),
            &w.admin,
        )
        .expect(200)
        .body;
    assert_eq!(next["items"][0]["grant_id"], late);
    assert!(next["next_cursor"].is_null());
    assert!(w.report("since=2999-01-01T00:00:00Z").is_empty());
    assert_eq!(w.report("since=2000-01-01T00:00:00Z").len(), 2);
    w.s.get("/api/v1/reports/break-glass?status=late", &w.admin)
        .expect(400);

    // A late review still counts: no longer overdue.
    w.review(
        &w.approver,
        late,
        json!({"outcome": "accept", "comment": "late but fine"}),
    )
    .expect(200);
    assert_eq!(w.overview(), (1, 0));
    assert!(w.report("status=overdue").is_empty());
    // Only auditors and admins read the report.
    w.s.get("/api/v1/reports/break-glass", &w.approver)
        .expect(403);
}

on_each_backend!(a_grant_that_is_not_break_glass_refuses_a_review);
fn a_grant_that_is_not_break_glass_refuses_a_review(backend: Backend) {
    let w = world(Server::start(backend));
    let plain = w.role("Ops", json!({"requires_approval": false}));
    w.approver_for(plain, w.approver_id);
    let r = w.ask(&w.holder, plain, json!({})).expect(201).body;
    assert_eq!(r["auto_approval_reason"], "pre_approved_role");
    let gid = r["grant_id"].as_i64().unwrap();
    let g = w.active(gid);
    assert_eq!(g["break_glass"], false, "{g}");
    assert!(g["review_due_utc"].is_null(), "{g}");
    w.review(
        &w.approver,
        gid,
        json!({"outcome": "accept", "comment": "fine"}),
    )
    .expect_error(409, "not_break_glass");
    assert!(w.report("").is_empty());
    assert_eq!(w.overview(), (0, 0));
}

on_each_backend!(the_review_window_is_validated_like_the_other_role_settings);
fn the_review_window_is_validated_like_the_other_role_settings(backend: Backend) {
    let w = world(Server::start(backend));
    for bad in [0, -5, 43_201] {
        let r = w
            .s
            .post(
                "/api/v1/roles",
                &w.admin,
                json!({"role_name": format!("bad {bad}"), "max_duration_minutes": 60, "review_window_minutes": bad}),
            )
            .expect_error(400, "validation_failed");
        assert_eq!(fields(&r), ["review_window_minutes"], "{}", r.text);
        w.s.patch(
            &format!("/api/v1/roles/{}", w.role),
            &w.admin,
            json!({"review_window_minutes": bad}),
        )
        .expect_error(400, "validation_failed");
    }
    let r =
        w.s.patch(
            &format!("/api/v1/roles/{}", w.role),
            &w.admin,
            json!({"review_window_minutes": 43_200, "break_glass": false}),
        )
        .expect(200)
        .body;
    assert_eq!(r["review_window_minutes"], 43_200);
    assert_eq!(r["break_glass"], false);
    // No longer break-glass: a request waits for its approver again.
    let req = w
        .ask(&w.holder, w.role, json!({"justification": "x"}))
        .expect(201)
        .body;
    assert_eq!(req["status"], "pending", "{req}");
}
