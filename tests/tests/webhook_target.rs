//! The `webhook` target kind (issue 12, item 3), black-box against a local receiver that
//! implements JITEA's target contract (`TargetWebhookCall` / `TargetWebhookAnswer` in the
//! OpenAPI document) and checks every call's signature with the reference Standard Webhooks
//! library (PyPI `standardwebhooks`), not with JITEA's code: a granted role is added there,
//! removed on revoke, checked by the target test, and an unexplained member is found by
//! reconciliation.

use jitea_tests::webhook::WebhookSink;
use jitea_tests::*;

const PW: &str = "a-long-test-password";
/// `whsec_` + base64 of 32 bytes, shared by the server's environment and the receiver.
const SECRET: &str = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

fn calls(sink: &WebhookSink) -> Vec<Value> {
    sink.at("/target")
        .iter()
        .map(|r| {
            assert!(r.verified, "the reference library verified {}", r.body);
            r.json()
        })
        .collect()
}

fn a_webhook_target_is_driven_by_signed_calls(backend: Backend) {
    let sink = WebhookSink::start();
    sink.set_secret(SECRET);
    sink.offer(&["writer"]);
    let url = sink.url("/target");
    let s = Server::start_with(
        backend,
        &[
            ("JITEA_TARGET_OPS_URL", url.as_str()),
            ("JITEA_TARGET_OPS_URL_SECRET", SECRET),
            ("JITEA_WEBHOOK_ALLOW_HTTP", "true"),
        ],
    );
    let admin = s.admin_token();
    // Admins' alerts reach a subscriber too: drift found by reconciliation (issue 11).
    let alerts = WebhookSink::start();
    let sub = s
        .post(
            "/api/v1/webhooks",
            &admin,
            json!({"url": alerts.url("/hooks"), "events": ["drift.found"]}),
        )
        .expect(201);
    alerts.set_secret(sub.body["secret"].as_str().unwrap());
    let target = s.make_target(
        &admin,
        json!({"name": "ops", "kind": "webhook", "connection_url_env": "JITEA_TARGET_OPS_URL"}),
    );
    let writer = s.make_db_role(&admin, target, "writer");
    let ghost = s.make_db_role(&admin, target, "ghost");
    // The target test pings and asks for each entitlement.
    let t = s
        .post(&format!("/api/v1/targets/{target}/test"), &admin, json!({}))
        .expect(200)
        .body;
    assert_eq!(t["reachable"], true, "{t}");
    let exists = |id: i64| {
        t["db_roles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["db_role_id"] == id)
            .map(|r| r["exists"].clone())
    };
    assert_eq!(exists(writer), Some(json!(true)));
    assert_eq!(exists(ghost), Some(json!(false)));

    let role = s.open_role(&admin, "Ops writer", 60, &[writer]);
    s.create_user(&admin, json!({"login_name": "alice", "password": PW}));
    let alice = s.login("alice", PW);
    let rid = s
        .post(
            "/api/v1/requests",
            &alice,
            json!({"role_id": role, "requested_duration_minutes": 30}),
        )
        .expect(201)
        .id();
    let gid = s.get(&format!("/api/v1/requests/{rid}"), &alice).body["grant_id"]
        .as_i64()
        .expect("a grant");
    assert!(s.eventually(30.0, || {
        s.get(&format!("/api/v1/grants/{gid}"), &alice).body["status"] == "active"
    }));
    assert_eq!(sink.holders("writer"), ["alice"]);

    // Someone added outside JITEA is found by reconciliation.
    let mut state: Value =
        serde_json::from_str(&std::fs::read_to_string(sink_state(&sink)).unwrap()).unwrap();
    state["entitlements"]["writer"]
        .as_array_mut()
        .unwrap()
        .push(json!("mallory"));
    std::fs::write(sink_state(&sink), state.to_string()).unwrap();
    let (run, findings) = s.reconcile_now(&admin);
    assert!(
        findings
            .iter()
            .any(|f| f["kind"] == "unexpected" && f["login_name"] == "mallory"),
        "{findings:?}"
    );
    assert!(
        s.eventually(30.0, || !alerts.at("/hooks").is_empty()),
        "the drift alert is sent"
    );
    let alert = alerts.at("/hooks")[0].json();
    assert_eq!(alert["type"], "drift.found");
    assert_eq!(alert["data"]["run_id"], run["id"]);
    assert!(alert["data"]["findings"].as_i64().unwrap() >= 1, "{alert}");
    assert!(alerts.at("/hooks")[0].verified);

    // Revoked: removed there, and the call was a signed `drop` for alice.
    s.post(
        &format!("/api/v1/grants/{gid}/revoke"),
        &admin,
        json!({"reason": "done"}),
    )
    .expect(200);
    assert!(s.eventually(30.0, || !sink
        .holders("writer")
        .contains(&"alice".to_string())));
    let ops: Vec<(String, String)> = calls(&sink)
        .iter()
        .map(|c| {
            (
                c["op"].as_str().unwrap_or_default().to_string(),
                c["principal"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(ops.contains(&("add".into(), "alice".into())), "{ops:?}");
    assert!(ops.contains(&("drop".into(), "alice".into())), "{ops:?}");
    let ids: std::collections::HashSet<String> = sink
        .at("/target")
        .iter()
        .map(|r| r.header("webhook-id"))
        .collect();
    assert_eq!(
        ids.len(),
        sink.at("/target").len(),
        "a fresh key per operation"
    );
}
on_each_backend!(a_webhook_target_is_driven_by_signed_calls);

fn sink_state(sink: &WebhookSink) -> std::path::PathBuf {
    sink.state_file()
}

#[test]
fn a_webhook_target_without_its_secret_is_not_configured_and_says_so() {
    let sink = WebhookSink::start();
    let url = sink.url("/target");
    let s = Server::start_with(Backend::Sqlite, &[("JITEA_TARGET_OPS_URL", url.as_str())]);
    let admin = s.admin_token();
    let target = s.make_target(
        &admin,
        json!({"name": "ops", "kind": "webhook", "connection_url_env": "JITEA_TARGET_OPS_URL"}),
    );
    let t = s
        .post(&format!("/api/v1/targets/{target}/test"), &admin, json!({}))
        .expect(200)
        .body;
    assert_eq!(t["reachable"], false, "{t}");
    let e = t["error"].as_str().unwrap_or_default();
    assert!(e.contains("JITEA_TARGET_OPS_URL_SECRET"), "{e}");
    assert!(!e.contains(&url), "the URL is never shown: {e}");
    assert!(sink.received().is_empty(), "nothing unsigned was sent");
}
