//! Live provisioning against the real PostgreSQL and MariaDB servers on this machine: grants
//! become role memberships, expiry removes them (and ends sessions that switched to the role),
//! admin revoke and failures behave, and reconciliation finds and repairs drift.

use jitea_tests::targets::{MysqlTarget, PgTarget, MYSQL_ADMIN_URL, PG_ADMIN_URL};
use jitea_tests::*;

const PW: &str = "a-long-test-password";

/// A JITEA server with one target, one db role mapped into a pre-approved role, eligible to all.
struct Setup {
    s: Server,
    admin: String,
    target: i64,
    role: i64,
}

fn setup(kind: &str, url_env: &str, url: &str, db_role: &str, extra_env: &[(&str, &str)]) -> Setup {
    let mut env = vec![(url_env, url), ("JITEA_RETRY_BASE_MS", "50")];
    env.extend_from_slice(extra_env);
    let s = Server::start_with(Backend::Sqlite, &env);
    let admin = s.admin_token();
    let target = s.make_target(
        &admin,
        json!({"name": "prod", "kind": kind, "connection_url_env": url_env}),
    );
    let dbr = s.make_db_role(&admin, target, db_role);
    let role = s.open_role(&admin, "Prod read", 60, &[dbr]);
    let test = s
        .post(&format!("/api/v1/targets/{target}/test"), &admin, json!({}))
        .expect(200)
        .body;
    assert_eq!(test["reachable"], true, "{test}");
    assert_eq!(test["db_roles"][0]["exists"], true, "{test}");
    Setup {
        s,
        admin,
        target,
        role,
    }
}

impl Setup {
    /// Creates a JITEA user for `login` and has it request the role; returns the grant.
    fn grant_for(&self, login: &str) -> Value {
        self.s
            .create_user(&self.admin, json!({"login_name": login, "password": PW}));
        let token = self.s.login(login, PW);
        let req = self
            .s
            .post(
                "/api/v1/requests",
                &token,
                json!({"role_id": self.role, "requested_duration_minutes": 30}),
            )
            .expect(201)
            .body;
        assert_eq!(req["status"], "auto_approved");
        self.grant(req["grant_id"].as_i64().unwrap())
    }

    fn grant(&self, id: i64) -> Value {
        self.s
            .get(&format!("/api/v1/grants/{id}"), &self.admin)
            .expect(200)
            .body
    }

    fn wait_status(&self, id: i64, status: &str) -> Value {
        let mut last = Value::Null;
        let ok = self.s.eventually(15.0, || {
            last = self.grant(id);
            last["status"] == status
        });
        assert!(ok, "grant {id} never became {status}: {last}");
        last
    }
}

#[test]
fn postgres_membership_follows_the_grant_and_sessions_end_at_expiry() {
    let mut pg = PgTarget::new();
    let (reader, alice, table) = (pg.name("reader"), pg.name("alice"), pg.name("secret"));
    pg.exec(&format!("CREATE ROLE \"{reader}\" NOLOGIN"));
    pg.exec(&format!("CREATE ROLE \"{alice}\" LOGIN"));
    pg.exec(&format!("CREATE TABLE \"{table}\" (x int)"));
    pg.exec(&format!("GRANT SELECT ON \"{table}\" TO \"{reader}\""));
    let st = setup(
        "postgres",
        "JITEA_TARGET_PG_URL",
        PG_ADMIN_URL,
        &reader,
        &[],
    );

    let g = st.grant_for(&alice);
    assert_eq!(g["status"], "active");
    assert_eq!(g["assignments"][0]["state"], "added");
    assert_eq!(pg.members(&reader), vec![alice.clone()]);

    // A session that switched to the role can read; at expiry it is ended.
    let mut session = pg.session_as(&alice);
    session.exec(&format!("SET ROLE \"{reader}\"")).unwrap();
    session.exec(&format!("SELECT * FROM \"{table}\"")).unwrap();

    let gid = g["id"].as_i64().unwrap();
    st.s.db.set_grant_ends_in(gid, 1.0);
    let g = st.wait_status(gid, "expired");
    assert_eq!(g["assignments"][0]["state"], "dropped");
    assert!(pg.members(&reader).is_empty(), "membership left behind");
    assert!(
        session.exec("SELECT 1").is_err(),
        "the session that had SET ROLE is still alive"
    );
    let mut fresh = pg.session_as(&alice);
    assert!(
        fresh.exec(&format!("SET ROLE \"{reader}\"")).is_err(),
        "a new session can still switch to the role"
    );
    assert!(fresh.exec(&format!("SELECT * FROM \"{table}\"")).is_err());
    let expired = st.s.audit(
        &st.admin,
        &format!("event_type=grant_expired&grant_id={gid}"),
    );
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0]["actor_login_name"], "system:expiry");
}

#[test]
fn mariadb_membership_follows_the_grant_and_sessions_end_at_expiry() {
    let mut my = MysqlTarget::new();
    let (reader, bob, table) = (my.name("reader"), my.name("bob"), my.name("secret"));
    my.exec(&format!("CREATE ROLE `{reader}`"));
    my.exec(&format!(
        "CREATE USER `{bob}`@`%` IDENTIFIED BY 'bob-Pass-123'"
    ));
    my.exec(&format!("CREATE TABLE test.`{table}` (x int)"));
    my.exec(&format!("GRANT SELECT ON test.`{table}` TO `{reader}`"));
    let st = setup(
        "mysql",
        "JITEA_TARGET_MY_URL",
        MYSQL_ADMIN_URL,
        &reader,
        &[],
    );

    let g = st.grant_for(&bob);
    assert_eq!(g["status"], "active", "{g}");
    assert_eq!(my.members(&reader), vec![bob.clone()]);
    // The role is the default role, so it applies at the next login without SET ROLE.
    let mut session = my.session_as(&bob, "bob-Pass-123");
    session
        .exec(&format!("SELECT * FROM test.`{table}`"))
        .unwrap();

    let gid = g["id"].as_i64().unwrap();
    st.s.db.set_grant_ends_in(gid, 1.0);
    st.wait_status(gid, "expired");
    assert!(my.members(&reader).is_empty(), "membership left behind");
    assert!(
        session.exec("SELECT 1").is_err(),
        "the old session is still alive"
    );
    let mut fresh = my.session_as(&bob, "bob-Pass-123");
    assert!(
        fresh
            .exec(&format!("SELECT * FROM test.`{table}`"))
            .is_err(),
        "a new session can still read"
    );
}

#[test]
fn admin_revoke_and_deactivation_remove_access_at_once() {
    let mut pg = PgTarget::new();
    let (reader, u1, u2) = (pg.name("reader"), pg.name("u1"), pg.name("u2"));
    pg.exec(&format!("CREATE ROLE \"{reader}\" NOLOGIN"));
    pg.exec(&format!("CREATE ROLE \"{u1}\" LOGIN"));
    pg.exec(&format!("CREATE ROLE \"{u2}\" LOGIN"));
    let st = setup(
        "postgres",
        "JITEA_TARGET_PG_URL",
        PG_ADMIN_URL,
        &reader,
        &[],
    );
    let g1 = st.grant_for(&u1)["id"].as_i64().unwrap();
    let g2 = st.grant_for(&u2)["id"].as_i64().unwrap();
    assert_eq!(pg.members(&reader), vec![u1.clone(), u2.clone()]);
    let mut session = pg.session_as(&u1);
    session.exec(&format!("SET ROLE \"{reader}\"")).unwrap();

    let g =
        st.s.post(
            &format!("/api/v1/grants/{g1}/revoke"),
            &st.admin,
            json!({"reason": "leaver"}),
        )
        .expect(200)
        .body;
    assert_eq!(g["status"], "revoked");
    assert_eq!(pg.members(&reader), vec![u2.clone()]);
    assert!(session.exec("SELECT 1").is_err());

    let users = st.s.get("/api/v1/users?q=u2", &st.admin).expect(200).body;
    let uid = users["items"][0]["id"].as_i64().unwrap();
    st.s.post(
        &format!("/api/v1/users/{uid}/deactivate"),
        &st.admin,
        json!({}),
    )
    .expect(200);
    assert_eq!(st.grant(g2)["status"], "revoked");
    assert!(pg.members(&reader).is_empty());
}

#[test]
fn provisioning_that_keeps_failing_ends_failed_with_nothing_left() {
    let mut pg = PgTarget::new();
    let reader = pg.name("reader");
    pg.exec(&format!("CREATE ROLE \"{reader}\" NOLOGIN"));
    let st = setup(
        "postgres",
        "JITEA_TARGET_PG_URL",
        PG_ADMIN_URL,
        &reader,
        &[],
    );
    // The JITEA user has no login on the target: every GRANT fails.
    let ghost = pg.name("ghost");
    let g = st.grant_for(&ghost);
    assert_eq!(g["status"], "provisioning", "{g}");
    assert!(
        g["status_detail"]
            .as_str()
            .unwrap()
            .contains("provisioning failed"),
        "{g}"
    );
    assert_eq!(g["assignments"][0]["state"], "add_failed");
    let gid = g["id"].as_i64().unwrap();
    let g = st.wait_status(gid, "failed");
    assert!(g["attempts"].as_i64().unwrap() >= 5, "{g}");
    let req =
        st.s.get(&format!("/api/v1/requests/{}", g["request_id"]), &st.admin)
            .expect(200)
            .body;
    assert_eq!(req["status"], "revoked");
    assert!(pg.members(&reader).is_empty());
    assert_eq!(
        st.s.audit(
            &st.admin,
            &format!("event_type=grant_provisioning_failed&grant_id={gid}")
        )
        .len(),
        1
    );
}

#[test]
fn revocation_that_keeps_failing_is_flagged_and_retried_until_done() {
    let mut pg = PgTarget::new();
    let (reader, u) = (pg.name("reader"), pg.name("u"));
    pg.exec(&format!("CREATE ROLE \"{reader}\" NOLOGIN"));
    pg.exec(&format!("CREATE ROLE \"{u}\" LOGIN"));
    let st = setup(
        "postgres",
        "JITEA_TARGET_PG_URL",
        PG_ADMIN_URL,
        &reader,
        &[],
    );
    let gid = st.grant_for(&u)["id"].as_i64().unwrap();

    // Point the target at an unset variable: the target is now unreachable.
    st.s.patch(
        &format!("/api/v1/targets/{}", st.target),
        &st.admin,
        json!({"connection_url_env": "JITEA_TARGET_NOT_SET_ANYWHERE"}),
    )
    .expect(200);
    st.s.post(
        &format!("/api/v1/grants/{gid}/revoke"),
        &st.admin,
        json!({"reason": "incident over"}),
    )
    .expect_error(502, "target_error");
    let g = st.grant(gid);
    assert_eq!(
        g["status"], "active",
        "never shown as ended while the target may still have it"
    );
    assert_eq!(g["pending_end"], "revoke");
    assert_eq!(pg.members(&reader), vec![u.clone()]);
    let ok =
        st.s.eventually(15.0, || st.grant(gid)["revoke_failed"] == true);
    assert!(ok, "revoke_failed never set: {}", st.grant(gid));
    let report =
        st.s.get("/api/v1/reports/revoke-failures", &st.admin)
            .expect(200)
            .body;
    assert!(report["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["id"] == gid));
    let metrics = st.s.call("GET", "/metrics", None, None).text;
    assert!(
        metrics.contains("jitea_grants_revoke_failed 1"),
        "{metrics}"
    );
    assert_eq!(
        st.s.audit(
            &st.admin,
            &format!("event_type=grant_revoke_failed&grant_id={gid}")
        )
        .len(),
        1
    );

    // The target comes back: the engine finishes the revocation.
    st.s.patch(
        &format!("/api/v1/targets/{}", st.target),
        &st.admin,
        json!({"connection_url_env": "JITEA_TARGET_PG_URL"}),
    )
    .expect(200);
    st.wait_status(gid, "revoked");
    assert!(pg.members(&reader).is_empty());
}

#[test]
fn reconciliation_finds_hand_made_changes_and_repair_fixes_them() {
    let mut pg = PgTarget::new();
    let (reader, alice, carol, table) = (
        pg.name("reader"),
        pg.name("alice"),
        pg.name("carol"),
        pg.name("secret"),
    );
    pg.exec(&format!("CREATE ROLE \"{reader}\" NOLOGIN"));
    pg.exec(&format!("CREATE ROLE \"{alice}\" LOGIN"));
    pg.exec(&format!("CREATE ROLE \"{carol}\" LOGIN"));
    pg.exec(&format!("CREATE TABLE \"{table}\" (x int)"));
    let st = setup(
        "postgres",
        "JITEA_TARGET_PG_URL",
        PG_ADMIN_URL,
        &reader,
        &[],
    );
    let gid = st.grant_for(&alice)["id"].as_i64().unwrap();

    // By hand on the target: alice's membership removed, carol added, and a direct grant.
    pg.exec(&format!("REVOKE \"{reader}\" FROM \"{alice}\""));
    pg.exec(&format!("GRANT \"{reader}\" TO \"{carol}\""));
    pg.exec(&format!("GRANT SELECT ON \"{table}\" TO \"{carol}\""));

    let run =
        st.s.post("/api/v1/jobs/reconcile", &st.admin, json!({}))
            .expect(200)
            .body;
    assert_eq!(run["status"], "succeeded");
    let drift =
        st.s.get("/api/v1/reports/drift", &st.admin)
            .expect(200)
            .body;
    assert_eq!(drift["run"]["id"], run["id"]);
    let find = |kind: &str, login: &str| {
        drift["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["kind"] == kind && f["login_name"] == login)
            .cloned()
    };
    let missing =
        find("missing", &alice).unwrap_or_else(|| panic!("missing not reported: {drift}"));
    assert_eq!(missing["action"], "re_added");
    assert_eq!(missing["grant_id"], gid);
    let unexpected =
        find("unexpected", &carol).unwrap_or_else(|| panic!("unexpected not reported: {drift}"));
    assert_eq!(
        unexpected["action"], "reported",
        "report-only policy must not remove"
    );
    assert_eq!(pg.members(&reader), vec![alice.clone(), carol.clone()]);
    let direct =
        st.s.get("/api/v1/reports/direct-grants", &st.admin)
            .expect(200)
            .body;
    assert!(
        direct["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["login_name"] == carol.as_str()
                && f["privilege"] == "SELECT"
                && f["object_name"].as_str().unwrap().ends_with(&table)),
        "{direct}"
    );

    // With the repair policy the unexpected member is removed.
    st.s.patch(
        &format!("/api/v1/targets/{}", st.target),
        &st.admin,
        json!({"drift_policy": "repair"}),
    )
    .expect(200);
    let out = st.s.cli(&["reconcile"]);
    assert!(out.contains("\"status\":\"succeeded\""), "{out}");
    let drift =
        st.s.get("/api/v1/reports/drift", &st.admin)
            .expect(200)
            .body;
    let removed = drift["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "unexpected" && f["login_name"] == carol.as_str())
        .cloned()
        .expect("carol reported again");
    assert_eq!(removed["action"], "removed");
    assert_eq!(pg.members(&reader), vec![alice.clone()]);
    assert!(!st.s.audit(&st.admin, "event_type=drift_found").is_empty());
    assert_eq!(
        st.s.audit(
            &st.admin,
            "event_type=reconciliation_run&actor_login_name=root"
        )
        .len(),
        1
    );
}
