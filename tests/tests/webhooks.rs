//! Signed webhooks and team chat (issue 11), black-box against a local HTTP receiver
//! (`tests/webhook_sink.py`) that checks every signature with the reference Standard Webhooks
//! library (PyPI `standardwebhooks`), never with JITEA's own code: subscribers get the events
//! they named, signed, in order; Slack and Teams hear calls to act; a receiver that is down
//! gets everything afterwards, in order and once, from two server processes; a receiver that
//! refuses for good fails the delivery at once; a rotated secret signs from then on.
//!
//! Retries wait 0-30 s (then longer) in real time; the tests make the next attempt due at once
//! by moving `next_attempt_utc` back in the database.

use std::collections::HashSet;

use jitea_tests::webhook::{validate_chat, Received, WebhookSink};
use jitea_tests::*;

const PW: &str = "a-long-test-password";
const ROLE: &str = "Prod DBA";

fn env(sink: &WebhookSink, chat: bool) -> Vec<(&'static str, String)> {
    let mut v = vec![
        ("JITEA_WEBHOOK_ALLOW_HTTP", "true".to_string()),
        ("JITEA_PUBLIC_URL", "http://jitea.test".to_string()),
    ];
    if chat {
        v.push(("JITEA_SLACK_WEBHOOK_URL", sink.url("/slack")));
        v.push(("JITEA_TEAMS_WEBHOOK_URL", sink.url("/teams")));
    }
    v
}

fn start_on(db: TestDb, env: &[(&'static str, String)]) -> Server {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Server::start_on_with(db, &env)
}

/// A role needing one approval from `appr`, open to everyone: its id.
fn setup_role(s: &Server, admin: &str) -> i64 {
    let target = s.noop_target(admin, "t");
    let dbr = s.make_db_role(admin, target, "writer");
    let role = s.make_role(
        admin,
        json!({"role_name": ROLE, "max_duration_minutes": 120, "requires_justification": true}),
    );
    s.map_db_role(admin, role, dbr, true);
    s.open_to_all(admin, role);
    let appr = s.create_user(admin, json!({"login_name": "appr", "password": PW}));
    s.post(
        &format!("/api/v1/roles/{role}/approvers"),
        admin,
        json!({"approver_type": "user", "approver_user_id": appr}),
    )
    .expect(201);
    role
}

fn subscribe(s: &Server, admin: &str, url: &str, events: Value) -> (i64, String) {
    let r = s
        .post(
            "/api/v1/webhooks",
            admin,
            json!({"url": url, "events": events, "description": "test receiver"}),
        )
        .expect(201);
    let secret = r.body["secret"].as_str().expect("the secret").to_string();
    (r.id(), secret)
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

fn deliveries(s: &Server, admin: &str, query: &str) -> Vec<Value> {
    s.get(&format!("/api/v1/notifications/deliveries?{query}"), admin)
        .expect(200)
        .body["items"]
        .as_array()
        .unwrap()
        .clone()
}

/// Makes every failed-and-waiting pending delivery due now, until `done` holds.
fn push_until(s: &Server, secs: f64, mut done: impl FnMut() -> bool) -> bool {
    s.eventually(secs, || {
        if done() {
            return true;
        }
        s.db.exec(
            "UPDATE notification_deliveries SET next_attempt_utc = created_utc \
             WHERE status = 'pending' AND attempts > 0",
        );
        false
    })
}

fn types(r: &[Received]) -> Vec<String> {
    r.iter()
        .map(|m| m.json()["type"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn metric(s: &Server, name: &str, channel: &str) -> i64 {
    let r = s.with_headers("GET", "/metrics", &[], None);
    let line = format!("{name}{{channel=\"{channel}\"}} ");
    r.text
        .lines()
        .find_map(|l| l.strip_prefix(line.as_str()))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} for {channel} in /metrics"))
}

fn subscribers_get_signed_events_and_chat_hears_calls_to_act(backend: Backend) {
    let sink = WebhookSink::start();
    let s = start_on(TestDb::new(backend), &env(&sink, true));
    let admin = s.admin_token();
    let role = setup_role(&s, &admin);
    let (sub, secret) = subscribe(
        &s,
        &admin,
        &sink.url("/hooks"),
        json!(["request.created", "request.approved", "grant.active"]),
    );
    assert!(secret.starts_with("whsec_"), "{secret}");
    sink.set_secret(&secret);
    // The secret is shown once: never in lists, reads or the audit log.
    let listed = s.get("/api/v1/webhooks", &admin).expect(200);
    assert_eq!(listed.body["items"][0]["id"], sub);
    assert!(!listed.text.contains(&secret) && listed.body["items"][0].get("secret").is_none());
    assert!(!s
        .get(&format!("/api/v1/webhooks/{sub}"), &admin)
        .expect(200)
        .text
        .contains(&secret));
    assert!(!s
        .get("/api/v1/audit?limit=200", &admin)
        .expect(200)
        .text
        .contains(&secret));

    s.create_user(&admin, json!({"login_name": "alice", "password": PW}));
    let alice = s.login("alice", PW);
    let rid = ask(&s, &alice, role, "incident <!channel> 42");
    assert!(
        s.eventually(30.0, || !sink.at("/slack").is_empty()
            && !sink.at("/teams").is_empty()),
        "the chat channels hear of the request"
    );
    s.post(
        &format!("/api/v1/requests/{rid}/approve"),
        &s.login("appr", PW),
        json!({}),
    )
    .expect(200);
    assert!(
        s.eventually(30.0, || sink.at("/hooks").len() >= 3),
        "three events: {:?}",
        types(&sink.at("/hooks"))
    );
    let hooks = sink.at("/hooks");
    assert_eq!(
        types(&hooks),
        ["request.created", "request.approved", "grant.active"],
        "the events subscribed to, in the order they happened"
    );
    let gid = s
        .get(&format!("/api/v1/requests/{rid}"), &alice)
        .expect(200)
        .body["grant_id"]
        .clone();
    assert_eq!(hooks[0].json()["data"]["request_id"], rid);
    assert_eq!(hooks[1].json()["data"]["request_id"], rid);
    assert_eq!(hooks[2].json()["data"]["grant_id"], gid);
    for h in &hooks {
        assert!(h.verified, "the reference library verified {}", h.body);
        assert!(h.json()["timestamp"].is_string());
        assert_eq!(h.header("content-type"), "application/json");
    }
    let ids: HashSet<String> = hooks.iter().map(|h| h.header("webhook-id")).collect();
    assert_eq!(ids.len(), 3, "one webhook-id per message");

    // Chat: the approvers' room hears the call to act (who, what, why, a link to decide),
    // not the requester's personal news (approved, active).
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let slack = sink.at("/slack");
    let teams = sink.at("/teams");
    assert_eq!(slack.len(), 1, "only the call to act goes to chat");
    assert_eq!(teams.len(), 1);
    for m in [&slack[0], &teams[0]] {
        assert!(m.body.contains("alice"), "{}", m.body);
        assert!(m.body.contains(ROLE), "{}", m.body);
        assert!(
            m.body
                .contains(&format!("http://jitea.test/approvals/{rid}")),
            "{}",
            m.body
        );
    }
    // What was really POSTed passes the vendors' own validators (@slack/types and
    // @slack/webhook with tsc; @microsoft/teams.cards and Microsoft's adaptivecards parser).
    validate_chat(&[("slack", slack[0].json()), ("teams", teams[0].json())]);
    let chat = deliveries(&s, &admin, "");
    assert!(chat
        .iter()
        .any(|d| d["channel"] == "slack" && d["address"] == "slack" && d["status"] == "sent"));
    // The chat URL (a secret) is never shown.
    assert!(!chat.iter().any(|d| d.to_string().contains("/slack")));
    let hook = chat
        .iter()
        .find(|d| d["channel"] == "webhook")
        .expect("a webhook delivery");
    assert_eq!(hook["subscription_id"], sub);
    assert!(metric(&s, "jitea_notifications_sent_total", "webhook") >= 3);
    assert!(metric(&s, "jitea_notifications_sent_total", "slack") >= 1);
}
on_each_backend!(subscribers_get_signed_events_and_chat_hears_calls_to_act);

fn a_receiver_that_was_down_gets_everything_afterwards_in_order_once(backend: Backend) {
    let mut sink = WebhookSink::start();
    let e = env(&sink, false);
    let a = start_on(TestDb::new(backend), &e);
    let b = start_on(a.db.shared(), &e);
    let admin = a.admin_token();
    let role = setup_role(&a, &admin);
    let (_, secret) = subscribe(&a, &admin, &sink.url("/hooks"), json!(["request.created"]));
    sink.set_secret(&secret);
    sink.stop();
    let mut rids = Vec::new();
    for i in 0..6 {
        let login = format!("user{i}");
        a.create_user(&admin, json!({"login_name": login, "password": PW}));
        let server = if i % 2 == 0 { &a } else { &b };
        rids.push(ask(server, &server.login(&login, PW), role, "work"));
    }
    let tried = |db: &TestDb| {
        db.scalar(
            "SELECT COUNT(*) AS n FROM notification_deliveries \
             WHERE channel = 'webhook' AND attempts > 0",
        )
    };
    assert!(
        a.eventually(30.0, || tried(&a.db) >= 1),
        "the first delivery was tried"
    );
    // While the receiver is down, only the oldest message is tried: the others wait behind it.
    std::thread::sleep(std::time::Duration::from_secs(2));
    a.db.exec(
        "UPDATE notification_deliveries SET next_attempt_utc = created_utc \
         WHERE status = 'pending' AND attempts > 0",
    );
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(tried(&a.db), 1, "later messages do not overtake the first");
    sink.resume();
    assert!(
        push_until(&a, 60.0, || sink.at("/hooks").len() >= 6),
        "all six arrive: {:?}",
        sink.at("/hooks").len()
    );
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let got = sink.at("/hooks");
    let order: Vec<i64> = got
        .iter()
        .map(|h| h.json()["data"]["request_id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        order, rids,
        "in the order the requests were made, each once"
    );
    assert!(got.iter().all(|h| h.verified));
    let ids: HashSet<String> = got.iter().map(|h| h.header("webhook-id")).collect();
    assert_eq!(ids.len(), 6);
}
on_each_backend!(a_receiver_that_was_down_gets_everything_afterwards_in_order_once);

#[test]
fn a_gone_receiver_fails_at_once_and_a_rotated_secret_signs_from_then_on() {
    let sink = WebhookSink::start();
    let s = start_on(TestDb::new(Backend::Sqlite), &env(&sink, false));
    let admin = s.admin_token();
    let role = setup_role(&s, &admin);
    sink.force("/gone", 410);
    let (gone, _) = subscribe(&s, &admin, &sink.url("/gone"), json!(["*"]));
    let (sub, old) = subscribe(&s, &admin, &sink.url("/hooks"), json!(["request.created"]));
    sink.set_secret(&old);
    s.create_user(&admin, json!({"login_name": "alice", "password": PW}));
    let alice = s.login("alice", PW);
    ask(&s, &alice, role, "one");
    assert!(s.eventually(30.0, || sink.at("/hooks").len() == 1));
    let failed = |d: &[Value]| {
        d.iter()
            .find(|d| d["subscription_id"] == gone && d["status"] == "failed")
            .cloned()
    };
    assert!(s.eventually(30.0, || failed(&deliveries(&s, &admin, "")).is_some()));
    let f = failed(&deliveries(&s, &admin, "")).unwrap();
    assert_eq!(f["attempts"], 1, "410 Gone is not retried: {f}");
    assert!(
        f["last_error"].as_str().unwrap().starts_with("HTTP 410"),
        "{f}"
    );
    // The receiver moved: after the admin changes the URL, the retried delivery goes there.
    s.patch(
        &format!("/api/v1/webhooks/{gone}"),
        &admin,
        json!({"url": sink.url("/moved")}),
    )
    .expect(200);
    s.post(
        &format!("/api/v1/notifications/deliveries/{}/retry", f["id"]),
        &admin,
        json!({}),
    )
    .expect(200);
    assert!(s.eventually(30.0, || !sink.at("/moved").is_empty()));

    // A new secret: the receiver still checking the old one refuses the next message...
    let rotated = s
        .post(
            &format!("/api/v1/webhooks/{sub}/rotate-secret"),
            &admin,
            json!({}),
        )
        .expect(200);
    let new = rotated.body["secret"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    s.create_user(&admin, json!({"login_name": "bob", "password": PW}));
    ask(&s, &s.login("bob", PW), role, "two");
    let refused = |s: &Server| {
        deliveries(s, &admin, "status=failed")
            .into_iter()
            .find(|d| d["subscription_id"] == sub)
    };
    assert!(s.eventually(30.0, || refused(&s).is_some()));
    assert_eq!(sink.at("/hooks").len(), 1);
    // ... and once it knows the new one, the admin's retry is signed with it and accepted.
    sink.set_secret(&new);
    let id = refused(&s).unwrap()["id"].as_i64().unwrap();
    s.post(
        &format!("/api/v1/notifications/deliveries/{id}/retry"),
        &admin,
        json!({}),
    )
    .expect(200);
    assert!(s.eventually(30.0, || sink.at("/hooks").len() == 2));
    assert!(sink.at("/hooks")[1].verified);

    // A disabled subscription gets nothing new; a deleted one is gone.
    s.patch(
        &format!("/api/v1/webhooks/{sub}"),
        &admin,
        json!({"is_enabled": false}),
    )
    .expect(200);
    s.create_user(&admin, json!({"login_name": "carol", "password": PW}));
    ask(&s, &s.login("carol", PW), role, "three");
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(sink.at("/hooks").len(), 2);
    s.call(
        "DELETE",
        &format!("/api/v1/webhooks/{sub}"),
        Some(&admin),
        None,
    )
    .expect(204);
    s.get(&format!("/api/v1/webhooks/{sub}"), &admin)
        .expect_error(404, "not_found");
    let audited: Vec<String> = s
        .audit(&admin, "")
        .iter()
        .map(|e| e["event_type"].as_str().unwrap_or_default().to_string())
        .collect();
    for t in [
        "webhook_created",
        "webhook_secret_rotated",
        "webhook_updated",
        "webhook_deleted",
    ] {
        assert!(audited.iter().any(|a| a == t), "{t} audited");
    }
}

#[test]
fn bad_subscriptions_are_refused_and_only_admins_manage_them() {
    // No JITEA_WEBHOOK_ALLOW_HTTP: https only.
    let s = Server::start(Backend::Sqlite);
    let admin = s.admin_token();
    let field = |body: Value, field: &str| {
        let r = s
            .post("/api/v1/webhooks", &admin, body)
            .expect_error(400, "validation_failed");
        assert_eq!(r.body["error"]["details"]["fields"][0]["field"], field);
    };
    field(
        json!({"url": "http://receiver.example/h", "events": ["*"]}),
        "url",
    );
    field(
        json!({"url": "ftp://receiver.example/h", "events": ["*"]}),
        "url",
    );
    field(
        json!({"url": "https://u:p@receiver.example/h", "events": ["*"]}),
        "url",
    );
    field(
        json!({"url": "https://receiver.example/h", "events": []}),
        "events",
    );
    s.post(
        "/api/v1/webhooks",
        &admin,
        json!({"url": "https://receiver.example/h", "events": ["no.such_event"]}),
    )
    .expect_error(400, "invalid_body");
    let ok = s
        .post(
            "/api/v1/webhooks",
            &admin,
            json!({"url": "https://receiver.example/h", "events": ["grant.revoked", "grant.revoked"]}),
        )
        .expect(201);
    assert_eq!(
        ok.body["events"],
        json!(["grant.revoked"]),
        "duplicates dropped"
    );
    s.create_user(&admin, json!({"login_name": "eve", "password": PW}));
    let eve = s.login("eve", PW);
    s.get("/api/v1/webhooks", &eve)
        .expect_error(403, "forbidden");
    s.post(
        "/api/v1/webhooks",
        &eve,
        json!({"url": "https://evil.example/h", "events": ["*"]}),
    )
    .expect(403);
    s.patch(
        "/api/v1/webhooks/999999",
        &admin,
        json!({"is_enabled": false}),
    )
    .expect_error(404, "not_found");
}

#[test]
fn a_role_with_its_own_chat_channel_is_announced_there_and_others_globally() {
    let sink = WebhookSink::start();
    let mut e = env(&sink, false);
    e.push(("JITEA_SLACK_WEBHOOK_URL", sink.url("/slack")));
    e.push((
        "JITEA_SLACK_WEBHOOK_URL_PAYMENTS",
        sink.url("/slack-payments"),
    ));
    let s = start_on(TestDb::new(Backend::Sqlite), &e);
    let admin = s.admin_token();
    let general = setup_role(&s, &admin);
    let target = s.noop_target(&admin, "t2");
    let dbr = s.make_db_role(&admin, target, "payer");
    let payments = s.make_role(
        &admin,
        json!({"role_name": "Payments", "max_duration_minutes": 60, "chat_channel": "payments"}),
    );
    s.map_db_role(&admin, payments, dbr, true);
    s.open_to_all(&admin, payments);
    let appr = s.login("appr", PW);
    let appr_id = s.get("/api/v1/me", &appr).expect(200).id();
    s.post(
        &format!("/api/v1/roles/{payments}/approvers"),
        &admin,
        json!({"approver_type": "user", "approver_user_id": appr_id}),
    )
    .expect(201);
    assert_eq!(
        s.get(&format!("/api/v1/roles/{payments}"), &admin)
            .expect(200)
            .body["chat_channel"],
        "payments"
    );
    // A key without a URL on the server is refused, and so is a malformed one.
    for (key, code) in [
        ("treasury", "chat_channel_not_configured"),
        ("Pay Ments", "invalid_chat_channel"),
    ] {
        let r = s
            .patch(
                &format!("/api/v1/roles/{general}"),
                &admin,
                json!({"chat_channel": key}),
            )
            .expect_error(400, "validation_failed");
        assert_eq!(r.body["error"]["details"]["fields"][0]["code"], code);
    }
    s.create_user(&admin, json!({"login_name": "alice", "password": PW}));
    let alice = s.login("alice", PW);
    let pay = s
        .post(
            "/api/v1/requests",
            &alice,
            json!({"role_id": payments, "requested_duration_minutes": 30, "justification": "pay run"}),
        )
        .expect(201)
        .id();
    let gen = ask(&s, &alice, general, "general work");
    assert!(s.eventually(30.0, || {
        !sink.at("/slack-payments").is_empty() && !sink.at("/slack").is_empty()
    }));
    std::thread::sleep(std::time::Duration::from_millis(1000));
    let own = sink.at("/slack-payments");
    let global = sink.at("/slack");
    assert_eq!((own.len(), global.len()), (1, 1));
    assert!(own[0].body.contains(&format!("/approvals/{pay}")));
    assert!(global[0].body.contains(&format!("/approvals/{gen}")));
    let addresses: Vec<String> = deliveries(&s, &admin, "")
        .iter()
        .map(|d| d["address"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        addresses.contains(&"slack:payments".to_string()),
        "{addresses:?}"
    );
    // Back to the global channel.
    s.patch(
        &format!("/api/v1/roles/{payments}"),
        &admin,
        json!({"chat_channel": null}),
    )
    .expect(200);
}
