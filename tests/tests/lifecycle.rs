//! The grant lifecycle's ownership rules, tried the way a slow target or a crash would:
//! whatever ends a grant wins over an add still in flight, ending access survives a crash
//! between its steps, reconciliation never re-adds access policy no longer allows, the
//! whitelist and the optional mapping mean what they say.

use std::time::Duration;

use jitea_tests::targets::{PgTarget, PG_ADMIN_URL};
use jitea_tests::*;

const PW: &str = "a-long-test-password";

/// A server with a target, db role(s) mapped into a pre-approved role, eligible to all.
struct World {
    s: Server,
    admin: String,
    role: i64,
    target: i64,
}

fn world(
    backend: Backend,
    env: &[(&str, &str)],
    kind: &str,
    url_env: Option<&str>,
    db_roles: &[(&str, bool, bool)],
) -> World {
    let mut env = env.to_vec();
    env.push(("JITEA_RETRY_BASE_MS", "50"));
    let s = Server::start_with(backend, &env);
    let admin = s.admin_token();
    let mut t = json!({"name": "prod", "kind": kind});
    if let Some(u) = url_env {
        t["connection_url_env"] = json!(u);
    }
    let target = s.make_target(&admin, t);
    let role = s.make_role(
        &admin,
        json!({"role_name": "Prod", "max_duration_minutes": 60, "requires_approval": false, "requires_justification": false}),
    );
    // (db role name, JIT-managed, required)
    for (name, managed, required) in db_roles {
        let dbr = s.make_db_role(&admin, target, name);
        s.map_db_role(&admin, role, dbr, *required);
        if !managed {
            s.patch(
                &format!("/api/v1/db-roles/{dbr}"),
                &admin,
                json!({"is_jit_managed": false}),
            )
            .expect(200);
        }
    }
    s.open_to_all(&admin, role);
    World {
        s,
        admin,
        role,
        target,
    }
}

impl World {
    fn user(&self, login: &str) -> (i64, String) {
        let id = self
            .s
            .create_user(&self.admin, json!({"login_name": login, "password": PW}));
        (id, self.s.login(login, PW))
    }

    fn request(&self, token: &str) -> Value {
        self.s
            .post(
                "/api/v1/requests",
                token,
                json!({"role_id": self.role, "requested_duration_minutes": 30}),
            )
            .expect(201)
            .body
    }

    /// Sends the user's request from another thread (its provisioning may be slow) and
    /// returns that thread and the grant id, which exists as soon as the request committed.
    fn request_in_background(&self, token: &str, uid: i64) -> (std::thread::JoinHandle<u16>, i64) {
        let (base, token, role) = (self.s.base.clone(), token.to_string(), self.role);
        let requester = std::thread::spawn(move || {
            ureq::post(&format!("{base}/api/v1/requests"))
                .header("Authorization", &format!("Bearer {token}"))
                .send_json(json!({"role_id": role, "requested_duration_minutes": 30}))
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        });
        let mut gid = 0;
        let found = self.s.eventually(5.0, || {
            let list = self
                .s
                .get(&format!("/api/v1/grants?user_id={uid}"), &self.admin)
                .expect(200)
                .body;
            gid = list["items"][0]["id"].as_i64().unwrap_or(0);
            gid > 0
        });
        assert!(found, "the request's grant never appeared");
        (requester, gid)
    }

    fn grant(&self, id: i64) -> Value {
        self.s
            .get(&format!("/api/v1/grants/{id}"), &self.admin)
            .expect(200)
            .body
    }

    fn wait_status(&self, id: i64, status: &str) -> Value {
        let mut last = Value::Null;
        let ok = self.s.eventually(20.0, || {
            last = self.grant(id);
            last["status"] == status
        });
        assert!(ok, "grant {id} never became {status}: {last}");
        last
    }

    /// Unexpected members the reconciler finds now.
    fn unexpected_after_reconcile(&self) -> Vec<Value> {
        let run = self
            .s
            .post("/api/v1/jobs/reconcile", &self.admin, json!({}))
            .expect(200)
            .body;
        assert_eq!(
            run["targets_checked"], 1,
            "the reconciler did not look at the target: {run}"
        );
        let report = self
            .s
            .get(
                &format!("/api/v1/reports/drift?run_id={}", run["id"]),
                &self.admin,
            )
            .expect(200)
            .body;
        let findings = report["findings"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| panic!("no findings list: {report}"));
        findings
            .into_iter()
            .filter(|f| f["kind"] == "unexpected")
            .collect()
    }
}

/// An admin revokes while the target's add is still in flight (the noop target takes 1.5 s
/// per add). The revoke must win: the add that lands afterwards is undone at once, the grant
/// ends `revoked`, and reconciliation finds nobody left in the role.
fn revoke_racing_a_slow_add_leaves_no_access(backend: Backend) {
    let w = world(
        backend,
        &[("JITEA_NOOP_ADD_DELAY_MS", "1500")],
        "noop",
        None,
        &[("reader", true, true)],
    );
    let (uid, token) = w.user("slowpoke");
    let (requester, gid) = w.request_in_background(&token, uid);
    std::thread::sleep(Duration::from_millis(300));
    let revoked = w.s.post(
        &format!("/api/v1/grants/{gid}/revoke"),
        &w.admin,
        json!({"reason": "race"}),
    );
    assert!(
        revoked.status == 200 || revoked.status == 202,
        "{revoked:?}"
    );
    assert_eq!(requester.join().unwrap(), 201);
    let g = w.wait_status(gid, "revoked");
    assert_eq!(g["assignments"][0]["state"], "dropped", "{g}");
    let left = w.unexpected_after_reconcile();
    assert!(
        left.is_empty(),
        "access outlived its revoked grant: {left:?}"
    );
    let types: Vec<String> =
        w.s.audit(&w.admin, &format!("grant_id={gid}"))
            .iter()
            .map(|e| e["event_type"].as_str().unwrap_or_default().to_string())
            .collect();
    assert!(types.contains(&"role_added".to_string()), "{types:?}");
    assert!(types.contains(&"role_dropped".to_string()), "{types:?}");
}
on_each_backend!(revoke_racing_a_slow_add_leaves_no_access);

/// The same race against a real PostgreSQL target: another session holds
/// `LOCK TABLE pg_auth_members IN SHARE MODE`, which blocks the GRANT; the revoke arrives
/// meanwhile. After the lock is released the membership must not exist.
#[test]
fn revoke_racing_a_blocked_grant_on_postgres_leaves_no_membership() {
    let mut pg = PgTarget::new();
    let (reader, login) = (pg.name("reader"), pg.name("racer"));
    pg.exec(&format!("CREATE ROLE \"{reader}\" NOLOGIN"));
    pg.exec(&format!("CREATE ROLE \"{login}\" LOGIN"));
    let w = world(
        Backend::Sqlite,
        &[("JITEA_TARGET_LC_PG", PG_ADMIN_URL)],
        "postgres",
        Some("JITEA_TARGET_LC_PG"),
        &[(&reader, true, true)],
    );
    let (uid, token) = w.user(&login);

    let mut locker = PgTarget::new();
    locker.exec("BEGIN");
    locker.exec("LOCK TABLE pg_auth_members IN SHARE MODE");
    let (requester, gid) = w.request_in_background(&token, uid);
    std::thread::sleep(Duration::from_millis(500));
    // Release the lock while the revoke waits for the grant's lease.
    let unlock = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        locker.exec("COMMIT");
        locker
    });
    let revoked = w.s.post(
        &format!("/api/v1/grants/{gid}/revoke"),
        &w.admin,
        json!({"reason": "race"}),
    );
    assert!(
        revoked.status == 200 || revoked.status == 202,
        "{revoked:?}"
    );
    drop(unlock.join().unwrap());
    assert_eq!(requester.join().unwrap(), 201);
    w.wait_status(gid, "revoked");
    assert!(
        pg.members(&reader).is_empty(),
        "membership outlived the revoke: {:?}",
        pg.members(&reader)
    );
}

/// A crash between deactivation's steps (the user is inactive in the database, the target
/// still has the membership or lost it halfway): reconciliation must not re-add access for an
/// inactive user, and the engine ends the grant.
fn deactivated_user_loses_access_even_after_a_crash(backend: Backend) {
    let mut pg = PgTarget::new();
    let (reader, login) = (pg.name("reader"), pg.name("leaver"));
    pg.exec(&format!("CREATE ROLE \"{reader}\" NOLOGIN"));
    pg.exec(&format!("CREATE ROLE \"{login}\" LOGIN"));
    let w = world(
        backend,
        &[("JITEA_TARGET_LC_PG", PG_ADMIN_URL)],
        "postgres",
        Some("JITEA_TARGET_LC_PG"),
        &[(&reader, true, true)],
    );
    let (uid, token) = w.user(&login);
    let req = w.request(&token);
    let gid = req["grant_id"].as_i64().unwrap();
    w.wait_status(gid, "active");
    assert_eq!(pg.members(&reader), vec![login.clone()]);

    // The crash: only the user row says inactive; the target lost the membership halfway.
    let inactive = match backend {
        Backend::Sqlite | Backend::Mssql => "0",
        Backend::Postgres => "false",
    };
    w.s.db.exec(&format!(
        "UPDATE users SET is_active = {inactive} WHERE id = {uid}"
    ));
    pg.exec(&format!("REVOKE \"{reader}\" FROM \"{login}\""));

    let run =
        w.s.post("/api/v1/jobs/reconcile", &w.admin, json!({}))
            .expect(200)
            .body;
    assert!(
        pg.members(&reader).is_empty(),
        "reconciliation re-added access for an inactive user (run {run})"
    );
    w.s.post("/api/v1/jobs/expire", &w.admin, json!({}))
        .expect(200);
    let g = w.wait_status(gid, "revoked");
    assert!(
        g["revoke_reason"]
            .as_str()
            .unwrap_or_default()
            .contains("inactive"),
        "{g}"
    );
    assert!(pg.members(&reader).is_empty());
}
on_each_backend!(deactivated_user_loses_access_even_after_a_crash);

/// Deactivation is one decision: the user is inactive, every live grant ends and pending
/// requests are cancelled.
fn deactivation_ends_everything_at_once(backend: Backend) {
    let w = world(backend, &[], "noop", None, &[("reader", true, true)]);
    let (uid, token) = w.user("leaver");
    let gid = w.request(&token)["grant_id"].as_i64().unwrap();
    w.wait_status(gid, "active");
    let u =
        w.s.post(
            &format!("/api/v1/users/{uid}/deactivate"),
            &w.admin,
            json!({}),
        )
        .expect(200)
        .body;
    assert_eq!(u["is_active"], false);
    let g = w.grant(gid);
    assert_eq!(g["status"], "revoked", "{g}");
    assert_eq!(g["assignments"][0]["state"], "dropped", "{g}");
}
on_each_backend!(deactivation_ends_everything_at_once);

/// Provisioning hands the grant's lease back with the commit that activates it (and the
/// request's own commit took it, so no one else could start on the grant in between): when an
/// auto-approved request answers, the grant is active, every db role is added and nothing
/// holds the grant, so an admin's revoke right after is carried out in that same call.
fn provisioning_leaves_no_lease_behind(backend: Backend) {
    let w = world(
        backend,
        &[],
        "noop",
        None,
        &[("reader", true, true), ("writer", true, true)],
    );
    let (_, token) = w.user("quick");
    let gid = w.request(&token)["grant_id"].as_i64().unwrap();
    let g = w.grant(gid);
    assert_eq!(g["status"], "active", "{g}");
    assert!(
        g["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["state"] == "added"),
        "{g}"
    );
    let held = w.s.db.scalar(&format!(
        "SELECT COUNT(*) AS n FROM grants WHERE id = {gid} AND lease_owner IS NOT NULL"
    ));
    assert_eq!(
        held, 0,
        "the grant's lease is still held after provisioning"
    );
    let r =
        w.s.post(
            &format!("/api/v1/grants/{gid}/revoke"),
            &w.admin,
            json!({"reason": "done with it"}),
        )
        .expect(200)
        .body;
    assert_eq!(r["status"], "revoked", "{r}");
}
on_each_backend!(provisioning_leaves_no_lease_behind);

/// A mass expiry that takes several batches ends every grant exactly once: with
/// `JITEA_EXPIRY_BATCH=4`, eleven grants due together are claimed, removed (each batch's next
/// claim running while the previous batch's memberships are removed) and recorded in three
/// batches, every membership dropped, one `grant_expired` event each.
fn mass_expiry_over_several_batches_ends_each_grant_once(backend: Backend) {
    let w = world(
        backend,
        &[("JITEA_EXPIRY_BATCH", "4")],
        "noop",
        None,
        &[("reader", true, true), ("writer", true, false)],
    );
    let gids: Vec<i64> = (0..11)
        .map(|i| {
            let (_, token) = w.user(&format!("mass{i}"));
            w.request(&token)["grant_id"].as_i64().unwrap()
        })
        .collect();
    let later = (chrono::Utc::now() + chrono::Duration::hours(3)).to_rfc3339();
    let out = w.s.cli(&["expire", "--at", &later]);
    assert!(out.contains("\"processed\":11"), "expiry output: {out}");
    for gid in &gids {
        let g = w.grant(*gid);
        assert_eq!(g["status"], "expired", "{g}");
        assert!(
            g["assignments"]
                .as_array()
                .unwrap()
                .iter()
                .all(|a| a["state"] == "dropped"),
            "{g}"
        );
    }
    let events = w.s.audit(&w.admin, "event_type=grant_expired");
    let mut ended: Vec<i64> = events
        .iter()
        .map(|e| e["grant_id"].as_i64().unwrap())
        .collect();
    ended.sort_unstable();
    let mut expected = gids.clone();
    expected.sort_unstable();
    assert_eq!(ended, expected, "one grant_expired event per grant");
}
on_each_backend!(mass_expiry_over_several_batches_ends_each_grant_once);

/// A db role off the whitelist is never granted, and taking a db role off the whitelist ends
/// the live grants that hold it.
fn the_whitelist_means_what_it_says(backend: Backend) {
    let w = world(
        backend,
        &[],
        "noop",
        None,
        &[("reader", true, true), ("dba", false, true)],
    );
    let (_, token) = w.user("carol");
    let gid = w.request(&token)["grant_id"].as_i64().unwrap();
    let g = w.wait_status(gid, "active");
    let names: Vec<&str> = g["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["db_role_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec!["reader"],
        "an un-whitelisted db role was granted: {g}"
    );
    let created = w.s.audit(
        &w.admin,
        &format!("grant_id={gid}&event_type=grant_created"),
    );
    assert_eq!(
        created[0]["details"]["skipped_db_roles"][0]["db_role_name"], "dba",
        "{created:?}"
    );
    assert_eq!(
        created[0]["details"]["skipped_db_roles"][0]["reason"],
        "not_jit_managed"
    );

    // Now take `reader` off the whitelist: the engine ends the grant.
    let dbr = g["assignments"][0]["db_role_id"].as_i64().unwrap();
    w.s.patch(
        &format!("/api/v1/db-roles/{dbr}"),
        &w.admin,
        json!({"is_jit_managed": false}),
    )
    .expect(200);
    w.s.post("/api/v1/jobs/expire", &w.admin, json!({}))
        .expect(200);
    let g = w.wait_status(gid, "revoked");
    assert!(
        g["revoke_reason"]
            .as_str()
            .unwrap_or_default()
            .contains("JIT-managed"),
        "{g}"
    );
    assert_eq!(g["assignments"][0]["state"], "dropped");

    // A disabled role ends its grants too.
    let (_, token) = w.user("dave");
    w.s.patch(
        &format!("/api/v1/db-roles/{dbr}"),
        &w.admin,
        json!({"is_jit_managed": true}),
    )
    .expect(200);
    let gid = w.request(&token)["grant_id"].as_i64().unwrap();
    w.wait_status(gid, "active");
    w.s.patch(
        &format!("/api/v1/roles/{}", w.role),
        &w.admin,
        json!({"is_enabled": false}),
    )
    .expect(200);
    w.s.post("/api/v1/jobs/expire", &w.admin, json!({}))
        .expect(200);
    let g = w.wait_status(gid, "revoked");
    assert!(
        g["revoke_reason"]
            .as_str()
            .unwrap_or_default()
            .contains("disabled"),
        "{g}"
    );
    let _ = w.target;
}
on_each_backend!(the_whitelist_means_what_it_says);

/// A failing optional db role does not hold the grant back: it becomes active with that
/// assignment visibly failed and retried; a failing required one keeps it provisioning.
#[test]
fn optional_db_roles_do_not_hold_the_grant() {
    let mut pg = PgTarget::new();
    let (reader, login) = (pg.name("reader"), pg.name("opt"));
    let missing = pg.name("does_not_exist");
    pg.exec(&format!("CREATE ROLE \"{reader}\" NOLOGIN"));
    pg.exec(&format!("CREATE ROLE \"{login}\" LOGIN"));
    let w = world(
        Backend::Sqlite,
        &[("JITEA_TARGET_LC_PG", PG_ADMIN_URL)],
        "postgres",
        Some("JITEA_TARGET_LC_PG"),
        &[(&reader, true, true), (&missing, true, false)],
    );
    let (_, token) = w.user(&login);
    let gid = w.request(&token)["grant_id"].as_i64().unwrap();
    let g = w.wait_status(gid, "active");
    assert_eq!(pg.members(&reader), vec![login.clone()]);
    let opt = g["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["db_role_name"] == missing.as_str())
        .cloned()
        .unwrap();
    assert_eq!(opt["state"], "add_failed", "{g}");
    assert_eq!(opt["required"], false, "{g}");
    assert!(
        g["next_attempt_utc"].is_string(),
        "the optional db role is not retried: {g}"
    );

    // Once the role exists, the engine's retry adds it.
    pg.exec(&format!("CREATE ROLE \"{missing}\" NOLOGIN"));
    assert!(
        w.s.eventually(20.0, || {
            w.s.post("/api/v1/jobs/expire", &w.admin, json!({}))
                .expect(200);
            pg.members(&missing) == vec![login.clone()]
        }),
        "the optional db role was never retried"
    );
    // The membership shows on the target a moment before the add is recorded, and the retry
    // schedule is cleared in the transaction after that.
    let mut g = Value::Null;
    let settled = w.s.eventually(10.0, || {
        g = w.grant(gid);
        g["next_attempt_utc"].is_null()
            && g["assignments"]
                .as_array()
                .unwrap()
                .iter()
                .all(|a| a["state"] == "added")
    });
    assert!(settled, "the optional db role's retry never settled: {g}");
}

/// A target call longer than the lease (15 s) does not lose the grant: the lease is renewed
/// while the call runs, so the engine never takes the grant over and adds a second time, and
/// the holder records its add.
#[test]
fn a_long_target_call_keeps_its_lease() {
    let w = world(
        Backend::Sqlite,
        &[("JITEA_NOOP_ADD_DELAY_MS", "18000")],
        "noop",
        None,
        &[("reader", true, true)],
    );
    let (uid, token) = w.user("patient");
    let (requester, gid) = w.request_in_background(&token, uid);
    // Keep the engine busy past the lease's 15 s while the add is in flight.
    for _ in 0..10 {
        std::thread::sleep(Duration::from_secs(2));
        w.s.post("/api/v1/jobs/expire", &w.admin, json!({}))
            .expect(200);
    }
    assert_eq!(requester.join().unwrap(), 201);
    let g = w.wait_status(gid, "active");
    assert_eq!(g["assignments"][0]["state"], "added", "{g}");
    let adds =
        w.s.audit(&w.admin, &format!("grant_id={gid}&event_type=role_added"));
    assert_eq!(
        adds.len(),
        1,
        "the grant was taken over and added twice: {adds:?}"
    );
}
