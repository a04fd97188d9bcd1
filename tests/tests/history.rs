//! History is never lost (issue 7, item 9): removing an approver, a db-role mapping or an
//! override records the whole removed row in the audit details, and the audit log refuses
//! UPDATE and DELETE even from someone writing to the database directly.

use jitea_tests::*;

const PW: &str = "a-long-test-password";

fn removals_record_the_whole_removed_row(backend: Backend) {
    let s = Server::start(backend);
    let admin = s.admin_token();
    let bob = s.create_user(&admin, json!({"login_name": "bob", "password": PW}));
    let role = s
        .post(
            "/api/v1/roles",
            &admin,
            json!({"role_name": "R", "max_duration_minutes": 60}),
        )
        .expect(201)
        .id();

    // An approver.
    let a = s
        .post(
            &format!("/api/v1/roles/{role}/approvers"),
            &admin,
            json!({"approver_type": "user", "approver_user_id": bob}),
        )
        .expect(201)
        .body;
    let aid = a["id"].as_i64().unwrap();
    s.call(
        "DELETE",
        &format!("/api/v1/roles/{role}/approvers/{aid}"),
        Some(&admin),
        None,
    )
    .expect(204);
    let e = s.audit(&admin, "event_type=approver_removed").remove(0);
    assert_eq!(e["details"]["removed"], a, "the whole row: {e}");
    assert_eq!(e["details"]["removed"]["approver_login_name"], "bob");

    // A db-role mapping.
    let target = s.noop_target(&admin, "t");
    let dbr = s.make_db_role(&admin, target, "writer");
    let path = format!("/api/v1/roles/{role}/db-roles/{dbr}");
    s.put(&path, &admin, json!({"is_required": false}))
        .expect(200);
    s.call("DELETE", &path, Some(&admin), None).expect(204);
    let e = s.audit(&admin, "event_type=role_db_role_removed").remove(0);
    let removed = &e["details"]["removed"];
    assert_eq!(removed["db_role_name"], "writer", "{e}");
    assert_eq!(removed["target_name"], "t", "{e}");
    assert_eq!(removed["is_required"], false, "{e}");

    // An eligibility override.
    let path = format!("/api/v1/users/{bob}/eligibility-overrides/{role}");
    s.put(&path, &admin, json!({"can_request": true, "priority": 7}))
        .expect(200);
    s.call("DELETE", &path, Some(&admin), None).expect(204);
    let e = s
        .audit(&admin, "event_type=eligibility_override_deleted")
        .remove(0);
    assert_eq!(e["details"]["removed"]["can_request"], true, "{e}");
    assert_eq!(e["details"]["removed"]["priority"], 7, "{e}");
    assert_eq!(e["details"]["removed"]["created_by"], "root", "{e}");
}
on_each_backend!(removals_record_the_whole_removed_row);

fn the_audit_log_refuses_update_and_delete(backend: Backend) {
    let s = Server::start(backend);
    let admin = s.admin_token();
    s.post("/api/v1/teams", &admin, json!({"team_name": "t"}))
        .expect(201);
    let count = || s.db.scalar("SELECT COUNT(*) AS n FROM audit_log");
    let before = count();
    assert!(before > 0);
    let mut tampering = vec![
        "UPDATE audit_log SET event_type = 'nothing_happened'",
        "UPDATE audit_log SET details_json = NULL WHERE id = (SELECT MAX(id) FROM audit_log)",
        "DELETE FROM audit_log",
        "DELETE FROM audit_log WHERE event_type = 'team_created'",
    ];
    if backend == Backend::Postgres {
        tampering.push("TRUNCATE audit_log");
    }
    for sql in tampering {
        let r = s.db.try_exec(sql);
        assert!(
            r.as_ref()
                .is_err_and(|e| e.contains("audit_log is append-only")),
            "{sql} must be refused: {r:?}"
        );
    }
    assert_eq!(count(), before);
    assert_eq!(
        s.db.scalar("SELECT COUNT(*) AS n FROM audit_log WHERE event_type = 'nothing_happened'"),
        0
    );
    // No route writes to the audit log: the documented `/audit` paths are read-only.
    let spec = s
        .call("GET", "/api/v1/openapi.json", None, None)
        .expect(200)
        .body;
    let paths = spec["paths"].as_object().unwrap();
    let audit: Vec<_> = paths.iter().filter(|(p, _)| p.contains("audit")).collect();
    assert!(!audit.is_empty());
    for (p, ops) in audit {
        let methods: Vec<&String> = ops.as_object().unwrap().keys().collect();
        assert_eq!(methods, vec!["get"], "{p} must be read-only");
    }
    // Appending still works.
    s.post("/api/v1/teams", &admin, json!({"team_name": "u"}))
        .expect(201);
    assert!(count() > before);
}
on_each_backend!(the_audit_log_refuses_update_and_delete);
