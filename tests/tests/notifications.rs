//! Notifications (issue 11, first slice), black-box against a real SMTP server (PyPI
//! aiosmtpd, `tests/smtp_sink.py`): the approver is emailed about a new request with a link
//! to it, the requester about the decision and the access; a server refusing the first
//! attempts gets the message once after the retries; a delivery that used its attempts is
//! shown as failed and can be retried; two server processes on one database deliver each
//! message once.
//!
//! Retries wait 0-30 s (then longer) in real time; the tests make the next attempt due at once
//! by moving `next_attempt_utc` back in the database.

use std::collections::HashSet;

use jitea_tests::smtp::{Mail, SmtpSink};
use jitea_tests::*;

const PW: &str = "a-long-test-password";
const ROLE: &str = "Prod DBA";

struct World {
    s: Server,
    sink: SmtpSink,
    admin: String,
    role: i64,
}

fn env_of(sink: &SmtpSink) -> Vec<(&'static str, String)> {
    sink.env()
}

fn start(backend: Backend, sink: &SmtpSink) -> Server {
    let env = env_of(sink);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Server::start_with(backend, &env)
}

/// A server mailing to a sink that refuses its first `refuse` messages, with a role that needs
/// an approval from the user `appr` (appr@example.test).
fn world(backend: Backend, refuse: u32) -> World {
    let sink = SmtpSink::start(refuse);
    let s = start(backend, &sink);
    let admin = s.admin_token();
    let role = setup_role(&s, &admin);
    World {
        s,
        sink,
        admin,
        role,
    }
}

fn setup_role(s: &Server, admin: &str) -> i64 {
    let target = s.noop_target(admin, "t");
    let dbr = s.make_db_role(admin, target, "writer");
    let role = s.make_role(
        admin,
        json!({"role_name": ROLE, "max_duration_minutes": 120, "requires_justification": true}),
    );
    s.map_db_role(admin, role, dbr, true);
    s.open_to_all(admin, role);
    let appr = s.create_user(
        admin,
        json!({"login_name": "appr", "password": PW, "email": "appr@example.test"}),
    );
    s.post(
        &format!("/api/v1/roles/{role}/approvers"),
        admin,
        json!({"approver_type": "user", "approver_user_id": appr}),
    )
    .expect(201);
    role
}

impl World {
    fn user(&self, login: &str, email: Option<&str>) -> String {
        let mut body = json!({"login_name": login, "password": PW});
        if let Some(e) = email {
            body["email"] = json!(e);
        }
        self.s.create_user(&self.admin, body);
        self.s.login(login, PW)
    }

    fn ask(&self, token: &str, why: &str) -> i64 {
        ask(&self.s, token, self.role, why)
    }

    fn mail_to(&self, to: &str) -> Vec<Mail> {
        mail_to(&self.sink, to)
    }

    fn deliveries(&self, query: &str) -> Vec<Value> {
        let r = self
            .s
            .get(
                &format!("/api/v1/notifications/deliveries?{query}"),
                &self.admin,
            )
            .expect(200);
        r.body["items"].as_array().unwrap().clone()
    }

    /// Waits until the (only) delivery is in `status`, making each retry due at once
    /// instead of waiting out the backoff.
    fn push_until(&self, status: &str) -> Value {
        let mut last = Value::Null;
        let reached = self.s.eventually(120.0, || {
            last = self.deliveries("").first().cloned().unwrap_or(Value::Null);
            if last["status"] == status {
                return true;
            }
            if last["status"] == "pending" && last["attempts"].as_i64().unwrap_or(0) > 0 {
                self.s.db.exec(
                    "UPDATE notification_deliveries SET next_attempt_utc = created_utc \
                     WHERE status = 'pending' AND attempts > 0",
                );
            }
            false
        });
        assert!(reached, "the delivery never became {status}: {last}");
        last
    }

    fn metric(&self, name: &str) -> i64 {
        metric(&self.s, name)
    }

    /// `holder` asks, `approver` approves, and the grant becomes active: (request, grant).
    fn active_grant(&self, holder: &str, approver: &str, why: &str) -> (i64, i64) {
        let rid = self.ask(holder, why);
        self.s
            .post(
                &format!("/api/v1/requests/{rid}/approve"),
                approver,
                json!({}),
            )
            .expect(200);
        let gid = self
            .s
            .get(&format!("/api/v1/requests/{rid}"), holder)
            .expect(200)
            .body["grant_id"]
            .as_i64()
            .expect("a grant");
        assert!(self.s.eventually(30.0, || {
            self.s.get(&format!("/api/v1/grants/{gid}"), holder).body["status"] == "active"
        }));
        (rid, gid)
    }
}

fn ask(s: &Server, token: &str, role: i64, why: &str) -> i64 {
    s.post(
        "/api/v1/requests",
        token,
        json!({"role_id": role, "requested_duration_minutes": 30, "justification": why}),
    )
    .expect(201)
    .id()
}

fn mail_to(sink: &SmtpSink, to: &str) -> Vec<Mail> {
    sink.messages()
        .into_iter()
        .filter(|m| m.to() == to)
        .collect()
}

fn metric(s: &Server, name: &str) -> i64 {
    let r = s.with_headers("GET", "/metrics", &[], None);
    let line = format!("{name}{{channel=\"email\"}} ");
    r.text
        .lines()
        .find_map(|l| l.strip_prefix(line.as_str()))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /metrics"))
}

/// The first `http://jitea.test/...` link in a message's text.
fn link(m: &Mail) -> String {
    let at = m
        .raw
        .find("http://jitea.test/")
        .expect("a link into the app");
    m.raw[at..]
        .split(|c: char| c.is_whitespace() || c == '"' || c == '<')
        .next()
        .unwrap()
        .to_string()
}

fn approver_is_emailed_and_requester_hears_the_decision(backend: Backend) {
    let w = world(backend, 0);
    let req = w.user("req", Some("req@example.test"));
    // An approver without an email address is skipped, not an error.
    let nomail =
        w.s.create_user(&w.admin, json!({"login_name": "nomail", "password": PW}));
    w.s.post(
        &format!("/api/v1/roles/{}/approvers", w.role),
        &w.admin,
        json!({"approver_type": "user", "approver_user_id": nomail}),
    )
    .expect(201);
    let rid = w.ask(&req, "incident 42 on the orders db");

    assert!(
        w.s.eventually(30.0, || !w.mail_to("appr@example.test").is_empty()),
        "the approver was never emailed"
    );
    let m = w.mail_to("appr@example.test").remove(0);
    let subject = m.header("Subject").unwrap();
    assert!(
        subject.contains(ROLE) && subject.contains("req"),
        "{subject}"
    );
    for said in [
        "req asks for the role Prod DBA",
        "30 minutes",
        "incident 42 on the orders db",
    ] {
        assert!(
            m.raw.contains(said),
            "the message does not say {said:?}:\n{}",
            m.raw
        );
    }
    assert!(m.header("Message-ID").unwrap().starts_with("<jitea."));
    // The link leads to this request's decision page, and the approver can decide from it.
    let l = link(&m);
    assert_eq!(l, format!("http://jitea.test/approvals/{rid}"));
    let id_in_link: i64 = l.rsplit('/').next().unwrap().parse().unwrap();
    let appr = w.s.login("appr", PW);
    w.s.get(&format!("/api/v1/requests/{id_in_link}"), &appr)
        .expect(200);
    w.s.post(
        &format!("/api/v1/requests/{id_in_link}/approve"),
        &appr,
        json!({"comment": "ok"}),
    )
    .expect(200);

    // The requester hears the decision and that the access is in place.
    assert!(
        w.s.eventually(30.0, || w.mail_to("req@example.test").len() >= 2),
        "the requester was not told: {:?}",
        w.sink.messages()
    );
    let subjects: Vec<String> = w
        .mail_to("req@example.test")
        .iter()
        .map(|m| m.header("Subject").unwrap())
        .collect();
    assert!(
        subjects.contains(&format!("Approved: {ROLE}")),
        "{subjects:?}"
    );
    assert!(
        subjects.contains(&format!("Your access to {ROLE} is active")),
        "{subjects:?}"
    );
    let to_req = w.mail_to("req@example.test");
    assert!(link(&to_req[0]).ends_with("/history"));
    // Nobody else was mailed, and the user without an address has no delivery.
    assert_eq!(w.sink.messages().len(), 3);
    // (The server records a delivery as sent just after the SMTP server has taken it.)
    assert!(w
        .s
        .eventually(10.0, || w.deliveries("status=sent").len() == 3));
    let all = w.deliveries("");
    assert_eq!(all.len(), 3, "{all:?}");
    assert!(all.iter().all(|d| d["recipient_user_id"] != json!(nomail)));
    assert!(w.metric("jitea_notifications_sent_total") >= 3);
}
on_each_backend!(approver_is_emailed_and_requester_hears_the_decision);

fn a_refusing_server_gets_the_message_once_after_retries(backend: Backend) {
    let w = world(backend, 3);
    let req = w.user("req", None);
    w.ask(&req, "deploy");
    let sent = w.push_until("sent");
    assert_eq!(sent["attempts"], 4, "{sent}");
    // The last refusal stays on record.
    assert!(
        sent["last_error"].as_str().unwrap().contains("451"),
        "{sent}"
    );
    assert_eq!(w.mail_to("appr@example.test").len(), 1);
    assert_eq!(w.sink.messages().len(), 1);
    assert!(w.metric("jitea_notifications_failed_total") >= 3);
}
on_each_backend!(a_refusing_server_gets_the_message_once_after_retries);

fn a_failed_delivery_is_listed_and_can_be_retried(backend: Backend) {
    let w = world(backend, 8);
    let req = w.user("req", None);
    w.ask(&req, "deploy");
    w.push_until("failed");
    let failed = w.deliveries("status=failed").remove(0);
    assert_eq!(failed["attempts"], 8);
    assert!(
        failed["last_error"].as_str().unwrap().contains("451"),
        "{failed}"
    );
    assert!(w.deliveries("status=pending").is_empty());
    assert!(w.sink.messages().is_empty());
    let id = failed["id"].as_i64().unwrap();

    // Only admins see or retry deliveries.
    w.s.get("/api/v1/notifications/deliveries", &req)
        .expect_error(403, "forbidden");
    let retried =
        w.s.post(
            &format!("/api/v1/notifications/deliveries/{id}/retry"),
            &w.admin,
            json!({}),
        )
        .expect(200);
    assert_eq!(retried.body["status"], "pending");
    assert!(
        w.s.eventually(30.0, || w.mail_to("appr@example.test").len() == 1),
        "the retried delivery was not sent"
    );
    assert!(w
        .s
        .eventually(10.0, || w.deliveries("status=sent").len() == 1));
    // A sent delivery is not retried, and an unknown one is 404.
    w.s.post(
        &format!("/api/v1/notifications/deliveries/{id}/retry"),
        &w.admin,
        json!({}),
    )
    .expect_error(409, "delivery_not_failed");
    w.s.post(
        "/api/v1/notifications/deliveries/999999/retry",
        &w.admin,
        json!({}),
    )
    .expect_error(404, "not_found");
    let audited = w.s.audit(&w.admin, "event_type=notification_retried");
    assert_eq!(audited.len(), 1, "{audited:?}");
    assert_eq!(audited[0]["details"]["delivery_id"], id);
    assert_eq!(w.sink.messages().len(), 1);
}
on_each_backend!(a_failed_delivery_is_listed_and_can_be_retried);

fn two_processes_deliver_each_message_once(backend: Backend) {
    let sink = SmtpSink::start(0);
    let a = start(backend, &sink);
    let env = env_of(&sink);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let b = Server::start_on_with(a.db.shared(), &env);
    let admin = a.admin_token();
    let role = setup_role(&a, &admin);
    let appr = a.login("appr", PW);
    let mut rids = Vec::new();
    for i in 0..8 {
        let login = format!("user{i}");
        a.create_user(
            &admin,
            json!({"login_name": login, "password": PW, "email": format!("{login}@example.test")}),
        );
        let server = if i % 2 == 0 { &a } else { &b };
        rids.push(ask(server, &server.login(&login, PW), role, "work"));
    }
    let sent = |db: &TestDb| {
        db.scalar("SELECT COUNT(*) AS n FROM notification_deliveries WHERE status = 'sent'")
    };
    // The approver is told of all 8 before anyone decides (a request decided before its event
    // is fanned out no longer asks anyone: its approvers are looked up when it is).
    assert!(
        a.eventually(60.0, || sent(&a.db) == 8),
        "approval requests sent: {}",
        sent(&a.db)
    );
    // Half are approved (on either process): requester mails follow.
    for (i, rid) in rids.iter().enumerate().take(4) {
        let server = if i % 2 == 0 { &b } else { &a };
        server
            .post(
                &format!("/api/v1/requests/{rid}/approve"),
                &appr,
                json!({"comment": "ok"}),
            )
            .expect(200);
    }
    // 8 approval requests + 4 x (approved, access active).
    let expected = 16;
    assert!(
        a.eventually(60.0, || sent(&a.db) == expected),
        "sent {} of {expected}",
        sent(&a.db)
    );
    assert_eq!(
        a.db.scalar("SELECT COUNT(*) AS n FROM notification_deliveries"),
        expected
    );
    let mails = sink.messages();
    let ids: HashSet<String> = mails
        .iter()
        .map(|m| m.header("Message-ID").unwrap())
        .collect();
    assert_eq!(mails.len() as i64, expected, "each message exactly once");
    assert_eq!(ids.len() as i64, expected);
    assert_eq!(mail_to(&sink, "appr@example.test").len(), 8);
    for i in 0..4 {
        assert_eq!(mail_to(&sink, &format!("user{i}@example.test")).len(), 2);
    }
    // Every attempt was recorded once.
    assert_eq!(
        a.db.scalar("SELECT COUNT(*) AS n FROM notification_attempts"),
        expected
    );
}
on_each_backend!(two_processes_deliver_each_message_once);

fn approvers_are_told_stage_by_stage_never_the_requester(backend: Backend) {
    let sink = SmtpSink::start(0);
    let s = start(backend, &sink);
    let admin = s.admin_token();
    let target = s.noop_target(&admin, "t");
    let dbr = s.make_db_role(&admin, target, "writer");
    let role = s.make_role(
        &admin,
        json!({"role_name": ROLE, "max_duration_minutes": 60, "requires_justification": false,
               "required_approvals": 2, "approval_stages": true}),
    );
    s.map_db_role(&admin, role, dbr, true);
    s.open_to_all(&admin, role);
    let user = |login: &str| {
        s.create_user(
            &admin,
            json!({"login_name": login, "password": PW, "email": format!("{login}@example.test")}),
        )
    };
    let (lead, b, c, gone, req) = (
        user("lead"),
        user("b"),
        user("c"),
        user("gone"),
        user("req"),
    );
    let team = s
        .post("/api/v1/teams", &admin, json!({"team_name": "sec"}))
        .expect(201)
        .id();
    for m in [b, c, gone, req] {
        s.post(
            &format!("/api/v1/teams/{team}/members"),
            &admin,
            json!({"user_id": m}),
        )
        .expect(200);
    }
    s.post(
        &format!("/api/v1/users/{gone}/deactivate"),
        &admin,
        json!({}),
    )
    .expect(200);
    // Stage 1: the lead; stage 2: the team.
    for entry in [
        json!({"approver_type": "user", "approver_user_id": lead, "priority": 10}),
        json!({"approver_type": "team", "approver_team_id": team, "priority": 20}),
    ] {
        s.post(&format!("/api/v1/roles/{role}/approvers"), &admin, entry)
            .expect(201);
    }
    let rid = ask(&s, &s.login("req", PW), role, "work");
    assert!(s.eventually(30.0, || !mail_to(&sink, "lead@example.test").is_empty()));
    s.post(
        &format!("/api/v1/requests/{rid}/approve"),
        &s.login("lead", PW),
        json!({"comment": "ok"}),
    )
    .expect(200);
    assert!(
        s.eventually(30.0, || mail_to(&sink, "b@example.test").len() == 1
            && mail_to(&sink, "c@example.test").len() == 1),
        "the second stage was not told: {:?}",
        sink.messages()
    );
    let sent = || {
        s.db.scalar("SELECT COUNT(*) AS n FROM notification_deliveries WHERE status = 'sent'")
    };
    assert!(s.eventually(10.0, || sent() == 3));
    // The lead is not asked again, the deactivated member and the requester never.
    assert_eq!(
        s.db.scalar("SELECT COUNT(*) AS n FROM notification_deliveries"),
        3
    );
    assert_eq!(mail_to(&sink, "lead@example.test").len(), 1);
    assert!(mail_to(&sink, "gone@example.test").is_empty());
    assert!(mail_to(&sink, "req@example.test").is_empty());
}
on_each_backend!(approvers_are_told_stage_by_stage_never_the_requester);

/// At-least-once, and its bound: a process killed after the SMTP server has the message and
/// before the send is recorded leaves the delivery leased; once the lease lapses (moved back
/// here instead of waiting five minutes) the next process sends it again, with the same
/// Message-ID, exactly once more.
fn a_crash_between_send_and_record_sends_one_copy_with_the_same_message_id(backend: Backend) {
    let sink = SmtpSink::start_holding(0, 600);
    let env = env_of(&sink);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let s = Server::start_with(backend, &env);
    let admin = s.admin_token();
    let role = setup_role(&s, &admin);
    s.create_user(&admin, json!({"login_name": "req", "password": PW}));
    ask(&s, &s.login("req", PW), role, "work");
    assert!(s.eventually(30.0, || sink.messages().len() == 1));
    // The server waits for the "250" that is held back: kill it now.
    let s = s.restart_with(&env);
    let state = |s: &Server| {
        s.db.scalar("SELECT COUNT(*) AS n FROM notification_deliveries WHERE status = 'pending' AND attempts = 0 AND lease_owner IS NOT NULL")
    };
    assert_eq!(
        state(&s),
        1,
        "the send was never recorded and the lease is still held"
    );
    s.db.exec(
        "UPDATE notification_deliveries SET lease_until_utc = created_utc WHERE status = 'pending'",
    );
    let sent = |s: &Server| {
        s.db.scalar("SELECT COUNT(*) AS n FROM notification_deliveries WHERE status = 'sent' AND attempts = 1")
    };
    assert!(
        s.eventually(30.0, || sent(&s) == 1),
        "the lapsed delivery was not sent again"
    );
    let mails = sink.messages();
    assert_eq!(mails.len(), 2, "one copy more, not more");
    assert_eq!(mails[0].header("Message-ID"), mails[1].header("Message-ID"));
    assert_eq!(
        s.db.scalar("SELECT COUNT(*) AS n FROM notification_attempts"),
        1
    );
}
on_each_backend!(a_crash_between_send_and_record_sends_one_copy_with_the_same_message_id);

/// A server mailing to `sink` whose admin has an address, with an auto-approved role on a
/// PostgreSQL target reached through `url`, and a requester `login` (req@example.test).
fn target_world(
    backend: Backend,
    sink: &SmtpSink,
    url: &str,
    db_role: &str,
    login: &str,
) -> (Server, i64) {
    let mut env = env_of(sink);
    env.push(("JITEA_TARGET_T_URL", url.to_string()));
    env.push(("JITEA_RETRY_BASE_MS", "10".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let s = Server::start_with(backend, &env);
    let admin = s.admin_token();
    let me = s.get("/api/v1/me", &admin).expect(200).body;
    s.patch(
        &format!("/api/v1/users/{}", me["id"]),
        &admin,
        json!({"email": "root@example.test"}),
    )
    .expect(200);
    let target = s.make_target(
        &admin,
        json!({"name": "t", "kind": "postgres", "connection_url_env": "JITEA_TARGET_T_URL"}),
    );
    let dbr = s.make_db_role(&admin, target, db_role);
    let role = s.open_role(&admin, "Prod read", 60, &[dbr]);
    s.create_user(
        &admin,
        json!({"login_name": login, "password": PW, "email": "req@example.test"}),
    );
    let r = s
        .post(
            "/api/v1/requests",
            &s.login(login, PW),
            json!({"role_id": role, "requested_duration_minutes": 30}),
        )
        .expect(201);
    assert_eq!(r.body["status"], "auto_approved");
    (s, r.body["grant_id"].as_i64().unwrap())
}

fn subjects(sink: &SmtpSink, to: &str) -> Vec<String> {
    mail_to(sink, to)
        .iter()
        .map(|m| m.header("Subject").unwrap())
        .collect()
}

/// Provisioning that fails for good is a security alert: the requester learns the access
/// could not be given, and the admins are told (live PostgreSQL target; the requester has no
/// login there, so every GRANT fails).
#[test]
fn provisioning_that_failed_is_told_to_the_requester_and_the_admins() {
    let sink = SmtpSink::start(0);
    let mut pg = targets::PgTarget::new();
    let reader = pg.name("reader");
    pg.exec(&format!("CREATE ROLE \"{reader}\" NOLOGIN"));
    let ghost = pg.name("ghost");
    let (s, _) = target_world(
        Backend::Sqlite,
        &sink,
        targets::PG_ADMIN_URL,
        &reader,
        &ghost,
    );
    assert!(
        s.eventually(120.0, || subjects(&sink, "root@example.test").len() == 1
            && subjects(&sink, "req@example.test").len() == 2),
        "{:?}",
        sink.messages()
    );
    assert_eq!(
        subjects(&sink, "root@example.test"),
        [format!("Provisioning failed: Prod read for {ghost}")]
    );
    let to_req = subjects(&sink, "req@example.test");
    assert!(
        to_req.contains(&"Approved automatically: Prod read".to_string()),
        "{to_req:?}"
    );
    assert!(
        to_req.contains(&"Your access to Prod read could not be given".to_string()),
        "{to_req:?}"
    );
    let admin_mail = mail_to(&sink, "root@example.test").remove(0);
    assert!(link(&admin_mail).ends_with("/admin/grants"));
}

/// Access that cannot be removed (the target is down) is a security alert for the admins,
/// and the target's URL is in no message.
fn admins_hear_of_access_that_cannot_be_removed(backend: Backend) {
    let sink = SmtpSink::start(0);
    let down = format!("postgres://postgres@127.0.0.1:{}/nothing", free_port());
    let (s, _) = target_world(backend, &sink, &down, "reader", "req");
    assert!(
        s.eventually(180.0, || subjects(&sink, "root@example.test").len() == 1),
        "{:?}",
        sink.messages()
    );
    assert_eq!(
        subjects(&sink, "root@example.test"),
        ["Access could not be removed: Prod read for req"]
    );
    assert!(sink
        .messages()
        .iter()
        .all(|m| !m.raw.contains("postgres://")));
}
on_each_backend!(admins_hear_of_access_that_cannot_be_removed);

/// Issue 10: a break-glass use is emailed to every approver of the role and every admin
/// (with the justification and a link to the review), never to its holder.
fn a_break_glass_use_is_emailed_to_the_roles_approvers_and_the_admins(backend: Backend) {
    let w = world(backend, 0);
    w.s.patch(
        &format!("/api/v1/roles/{}", w.role),
        &w.admin,
        json!({"break_glass": true}),
    )
    .expect(200);
    let admin_id = w.s.get("/api/v1/me", &w.admin).expect(200).id();
    w.s.patch(
        &format!("/api/v1/users/{admin_id}"),
        &w.admin,
        json!({"email": "root@example.test"}),
    )
    .expect(200);
    let holder = w.user("holder", Some("holder@example.test"));
    let rid = w.ask(&holder, "the payment queue is stuck");
    let req =
        w.s.get(&format!("/api/v1/requests/{rid}"), &holder)
            .expect(200)
            .body;
    assert_eq!(req["auto_approval_reason"], "break_glass", "{req}");
    for to in ["appr@example.test", "root@example.test"] {
        let mut got = Vec::new();
        assert!(
            w.s.eventually(60.0, || {
                got = w
                    .mail_to(to)
                    .into_iter()
                    .filter(|m| m.raw.contains("Break-glass use"))
                    .collect();
                !got.is_empty()
            }),
            "no break-glass email to {to}"
        );
        assert_eq!(got.len(), 1, "{to}");
        assert!(
            got[0].raw.contains("the payment queue is stuck"),
            "{}",
            got[0].raw
        );
        assert_eq!(link(&got[0]), "http://jitea.test/approvals");
    }
    assert!(w
        .mail_to("holder@example.test")
        .iter()
        .all(|m| !m.raw.contains("Break-glass use")));
}
on_each_backend!(a_break_glass_use_is_emailed_to_the_roles_approvers_and_the_admins);

/// Issue 11: the holder is reminded once before the grant ends (by email, with the way to
/// extend it, and on the timeline), and an extension's new end gets its own reminder.
fn the_holder_is_reminded_once_before_the_end_and_again_after_an_extension(backend: Backend) {
    let w = world(backend, 0);
    let holder = w.user("holder", Some("holder@example.test"));
    let approver = w.s.login("appr", PW);
    let (rid, gid) = w.active_grant(&holder, &approver, "month-end close");
    let reminders = || -> Vec<Mail> {
        w.mail_to("holder@example.test")
            .into_iter()
            .filter(|m| m.raw.contains("ends soon"))
            .collect()
    };
    // 10 minutes left, within the 15-minute lead: reminded.
    w.s.db.set_grant_ends_in(gid, 600.0);
    assert!(
        w.s.eventually(60.0, || !reminders().is_empty()),
        "no reminder"
    );
    let m = reminders().remove(0);
    assert_eq!(link(&m), "http://jitea.test/");
    assert!(m.raw.contains("extend it from your dashboard"), "{}", m.raw);
    let audited = |n: usize| {
        w.s.audit(
            &w.admin,
            &format!("event_type=grant_expiry_reminder&grant_id={gid}"),
        )
        .len()
            == n
    };
    assert!(w.s.eventually(10.0, || audited(1)));
    // More engine passes, run on demand: the same end is not reminded again.
    let passes = || {
        for _ in 0..2 {
            w.s.post("/api/v1/jobs/expire", &w.admin, json!({}))
                .expect(200);
        }
    };
    passes();
    assert!(audited(1), "one reminder per end");
    let timeline =
        w.s.get(&format!("/api/v1/requests/{rid}/timeline"), &holder)
            .expect(200)
            .body;
    assert!(
        timeline
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["step"] == "grant_expiry_reminder"),
        "{timeline}"
    );

    // Extended (the approver says yes): the new end is reminded too, once.
    let ext =
        w.s.post(
            &format!("/api/v1/grants/{gid}/extend"),
            &holder,
            json!({"extra_minutes": 30, "justification": "still closing"}),
        )
        .expect(201)
        .id();
    w.s.post(
        &format!("/api/v1/requests/{ext}/approve"),
        &approver,
        json!({}),
    )
    .expect(200);
    w.s.db.set_grant_ends_in(gid, 600.0);
    assert!(
        w.s.eventually(60.0, || reminders().len() == 2),
        "no second reminder"
    );
    assert!(w.s.eventually(10.0, || audited(2)));
    passes();
    assert!(audited(2), "one reminder per end");
    assert_eq!(reminders().len(), 2, "each end is reminded once");
}
on_each_backend!(the_holder_is_reminded_once_before_the_end_and_again_after_an_extension);

/// Issue 11: a user mutes their optional notices (decisions, reminders) and no longer gets
/// them; a security alert (access revoked) still comes. The settings are their own.
fn muted_notices_are_not_sent_but_security_alerts_are(backend: Backend) {
    let w = world(backend, 0);
    let holder = w.user("holder", Some("holder@example.test"));
    let path = "/api/v1/me/notification-settings";
    let none = w.s.get(path, &holder).expect(200).body;
    assert_eq!(
        none,
        json!({"mute_reminders": false, "mute_decisions": false})
    );
    let set = json!({"mute_reminders": true, "mute_decisions": true});
    assert_eq!(w.s.put(path, &holder, set.clone()).expect(200).body, set);
    assert_eq!(w.s.get(path, &holder).expect(200).body, set);
    // Both fields, nothing else.
    for bad in [
        json!({"mute_reminders": true}),
        json!({"mute_reminders": true, "mute_decisions": true, "mute_alerts": true}),
    ] {
        let r = w.s.put(path, &holder, bad.clone());
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
    }
    assert_eq!(
        w.s.audit(&w.admin, "event_type=notification_settings_changed")
            .len(),
        1
    );

    let approver = w.s.login("appr", PW);
    let (_, gid) = w.active_grant(&holder, &approver, "muted run");
    w.s.db.set_grant_ends_in(gid, 600.0);
    assert!(w.s.eventually(30.0, || {
        w.s.audit(
            &w.admin,
            &format!("event_type=grant_expiry_reminder&grant_id={gid}"),
        )
        .len()
            == 1
    }));
    w.s.post(
        &format!("/api/v1/grants/{gid}/revoke"),
        &w.admin,
        json!({"reason": "no longer needed"}),
    )
    .expect(200);
    assert!(
        w.s.eventually(60.0, || w
            .mail_to("holder@example.test")
            .iter()
            .any(|m| m.raw.contains("was revoked"))),
        "the security alert did not come"
    );
    // The alert was fanned out after the approval, the activation and the reminder: those
    // were muted, so it is the only message.
    let got: Vec<String> = w
        .mail_to("holder@example.test")
        .iter()
        .map(|m| m.header("Subject").unwrap_or_default())
        .collect();
    assert_eq!(got.len(), 1, "{got:?}");
}
on_each_backend!(muted_notices_are_not_sent_but_security_alerts_are);
