//! Directory sync against a real OpenLDAP server (`tests/src/ldap.rs`): first sync creates
//! everyone with managers and teams, a changed department changes eligibility, a disabled or
//! removed user is deactivated and loses a live grant on the real PostgreSQL target, the
//! mass-deactivation guard refuses a run whose filter matches nobody (and `force` overrides
//! it), a dry run changes nothing but reports the plan, plain LDAP is refused unless allowed.

use jitea_tests::ldap::{Slapd, GROUPS, PEOPLE};
use jitea_tests::targets::{PgTarget, PG_ADMIN_URL};
use jitea_tests::*;

const PW: &str = "a-long-test-password";

fn person(p: &str, uid: &str, dept: &str, title: &str, manager: Option<&str>) -> String {
    let mut s = format!(
        "dn: uid={p}{uid},{PEOPLE}\nobjectClass: inetOrgPerson\nuid: {p}{uid}\ncn: {uid}\nsn: {uid}-surname\ngivenName: {uid}\ndisplayName: {uid} display\nmail: {uid}@jitea.test\ndepartmentNumber: {dept}\nou: Engineering\ntitle: {title}\n"
    );
    if let Some(m) = manager {
        s.push_str(&format!("manager: uid={p}{m},{PEOPLE}\n"));
    }
    s.push('\n');
    s
}

/// boss ← ann ← bob, boss ← cat; dan is disabled (AD flag); one entry with an invalid login;
/// group `oncall` = ann, bob.
fn org(p: &str) -> String {
    let mut s = String::new();
    s += &person(p, "boss", "Exec", "CTO", None);
    s += &person(p, "ann", "Payments", "Senior Engineer", Some("boss"));
    s += &person(p, "bob", "Payments", "Engineer", Some("ann"));
    s += &person(p, "cat", "Sales", "Account Manager", Some("boss"));
    s += &format!(
        "dn: uid={p}dan,{PEOPLE}\nobjectClass: inetOrgPerson\nobjectClass: jiteaAdAccount\nuid: {p}dan\ncn: dan\nsn: dan\ndepartmentNumber: Payments\nuserAccountControl: 514\n\n"
    );
    s += &format!(
        "dn: cn=bad entry,{PEOPLE}\nobjectClass: inetOrgPerson\nuid: bad login with spaces\ncn: bad entry\nsn: bad\n\n"
    );
    s += &format!(
        "dn: cn=oncall,{GROUPS}\nobjectClass: groupOfNames\ncn: oncall\nmember: uid={p}ann,{PEOPLE}\nmember: uid={p}bob,{PEOPLE}\n\n"
    );
    s
}

fn title_config(dir: &std::path::Path) -> String {
    let path = dir.join("jitea.toml");
    std::fs::write(
        &path,
        "ldap_title_seniority = { \"Senior Engineer\" = 5, \"CTO\" = 9 }\n",
    )
    .unwrap();
    path.display().to_string()
}

fn env_for(ldap: &Slapd, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let config = title_config(&ldap.dir);
    let mut env: Vec<(String, String)> = ldap.env();
    env.push(("JITEA_CONFIG".into(), config));
    env.push(("JITEA_RETRY_BASE_MS".into(), "50".into()));
    for (k, v) in extra {
        env.retain(|(ek, _)| ek != k);
        env.push((k.to_string(), v.to_string()));
    }
    env
}

fn server(backend: Backend, ldap: &Slapd, extra: &[(&str, &str)]) -> Server {
    let env = env_for(ldap, extra);
    let refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    Server::start_with(backend, &refs)
}

/// The same database, a new process with other directory settings.
fn restart(s: Server, ldap: &Slapd, extra: &[(&str, &str)]) -> Server {
    let env = env_for(ldap, extra);
    let refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    s.restart_with(&refs)
}

fn sync(s: &Server, admin: &str, body: Value) -> Value {
    s.post("/api/v1/jobs/directory-sync", admin, body)
        .expect(200)
        .body
}

fn user(s: &Server, admin: &str, login: &str) -> Value {
    let list = s
        .get(&format!("/api/v1/users?search={login}&limit=50"), admin)
        .expect(200)
        .body;
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["login_name"] == login)
        .cloned()
        .unwrap_or(Value::Null)
}

fn counts(run: &Value) -> [i64; 5] {
    ["created", "updated", "deactivated", "unchanged", "errors"].map(|k| run[k].as_i64().unwrap())
}

fn sync_creates_updates_and_deactivates(backend: Backend) {
    let mut pg = PgTarget::new();
    let p = pg.prefix.clone();
    let ldap = Slapd::start(&org(&p));
    let reader = pg.name("reader");
    pg.exec(&format!("CREATE ROLE \"{reader}\" NOLOGIN"));
    pg.exec(&format!("CREATE ROLE \"{p}cat\" LOGIN"));
    let s = server(
        backend,
        &ldap,
        &[
            ("JITEA_TARGET_DIR_PG", PG_ADMIN_URL),
            ("JITEA_LDAP_MAX_DEACTIVATE_PERCENT", "50"),
        ],
    );
    let admin = s.admin_token();
    // A local user with a directory login is adopted (matched by login name), not duplicated.
    let boss_id = s.create_user(
        &admin,
        json!({"login_name": format!("{p}BOSS"), "password": PW, "department": "Old"}),
    );

    // A dry run reports the plan and changes nothing.
    let dry = sync(&s, &admin, json!({"dry_run": true}));
    assert_eq!(dry["status"], "succeeded", "{dry}");
    assert_eq!(dry["dry_run"], true);
    assert_eq!(counts(&dry), [3, 1, 0, 0, 1], "{dry}");
    assert_eq!(
        dry["entries_seen"], 6,
        "paged search read every entry: {dry}"
    );
    let planned: Vec<&str> = dry["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert_eq!(planned.iter().filter(|a| **a == "create").count(), 3);
    assert_eq!(planned.iter().filter(|a| **a == "update").count(), 1);
    assert!(dry["entry_errors"][0]["dn"]
        .as_str()
        .unwrap()
        .starts_with("cn=bad entry"));
    assert_eq!(user(&s, &admin, &format!("{p}ann")), Value::Null);
    // The CLI's dry run too.
    let out = s.cli(&["directory-sync", "--dry-run"]);
    assert!(out.contains("\"created\":3"), "{out}");
    assert_eq!(user(&s, &admin, &format!("{p}ann")), Value::Null);

    // The first sync creates everyone enabled, managers resolved, seniority from the title.
    let run = sync(&s, &admin, json!({}));
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(counts(&run), [3, 1, 0, 0, 1], "{run}");
    let boss = user(&s, &admin, &format!("{p}BOSS"));
    assert_eq!(boss["id"], boss_id, "adopted, not duplicated");
    assert_eq!(boss["source"], "directory");
    assert_eq!(boss["department"], "Exec");
    assert_eq!(boss["seniority_level"], 9);
    let ann = user(&s, &admin, &format!("{p}ann"));
    assert_eq!(ann["source"], "directory");
    assert_eq!(ann["department"], "Payments");
    assert_eq!(ann["division"], "Engineering");
    // The manager's login as JITEA knows it (the adopted user keeps its spelling).
    assert!(ann["manager_login_name"]
        .as_str()
        .unwrap()
        .eq_ignore_ascii_case(&format!("{p}boss")));
    assert_eq!(ann["seniority_level"], 5);
    assert!(ann["external_id"].as_str().unwrap().len() >= 32, "{ann}");
    assert!(ann["last_ad_sync_utc"].is_string());
    let bob = user(&s, &admin, &format!("{p}bob"));
    assert_eq!(bob["manager_login_name"], format!("{p}ann"));
    assert_eq!(user(&s, &admin, &format!("{p}dan")), Value::Null);
    let teams = s.get("/api/v1/teams", &admin).expect(200).body;
    let oncall = teams["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["team_name"] == "oncall")
        .expect("team oncall")["id"]
        .as_i64()
        .unwrap();
    let members = s
        .get(&format!("/api/v1/teams/{oncall}/members"), &admin)
        .expect(200)
        .body;
    let mut names: Vec<String> = members
        .as_array()
        .or_else(|| members["items"].as_array())
        .unwrap()
        .iter()
        .map(|m| m["login_name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(names, vec![format!("{p}ann"), format!("{p}bob")]);
    // Audited with counts.
    let audits = s.audit(&admin, "event_type=directory_sync_run");
    assert!(
        audits
            .iter()
            .any(|a| a["details"]["created"] == 3 && a["details"]["message"].is_null()),
        "{audits:?}"
    );

    // A second sync changes nothing.
    let again = sync(&s, &admin, json!({}));
    assert_eq!(counts(&again), [0, 0, 0, 4, 1], "{again}");

    // A changed department changes eligibility.
    let payments = s
        .post(
            "/api/v1/roles",
            &admin,
            json!({"role_name": "Payments DB", "max_duration_minutes": 60}),
        )
        .expect(201)
        .id();
    s.post(
        "/api/v1/eligibility-rules",
        &admin,
        json!({"role_id": payments, "scope_type": "department", "scope_value": "Payments"}),
    )
    .expect(201);
    let bob_id = bob["id"].as_i64().unwrap();
    let check = |uid: i64| {
        s.get(
            &format!("/api/v1/eligibility/check?user_id={uid}&role_id={payments}"),
            &admin,
        )
        .expect(200)
        .body["eligible"]
            .as_bool()
            .unwrap()
    };
    assert!(check(bob_id));
    ldap.modify(&format!(
        "dn: uid={p}bob,{PEOPLE}\nchangetype: modify\nreplace: departmentNumber\ndepartmentNumber: Sales\n-\n"
    ));
    let run = sync(&s, &admin, json!({}));
    assert_eq!(counts(&run), [0, 1, 0, 3, 1], "{run}");
    assert_eq!(run["changes"][0]["fields"], json!(["department"]), "{run}");
    assert!(!check(bob_id), "bob left Payments in the directory");

    // A live grant on the PostgreSQL target, for cat.
    let target = s.make_target(
        &admin,
        json!({"name": "prod", "kind": "postgres", "connection_url_env": "JITEA_TARGET_DIR_PG"}),
    );
    let dbr = s.make_db_role(&admin, target, &reader);
    let prod = s.open_role(&admin, "Prod", 60, &[dbr]);
    let cat = user(&s, &admin, &format!("{p}cat"));
    let cat_id = cat["id"].as_i64().unwrap();
    s.put(
        &format!("/api/v1/users/{cat_id}/password"),
        &admin,
        json!({"password": PW}),
    )
    .expect(204);
    let cat_token = s.login(&format!("{p}cat"), PW);
    let req = s
        .post(
            "/api/v1/requests",
            &cat_token,
            json!({"role_id": prod, "requested_duration_minutes": 30}),
        )
        .expect(201)
        .body;
    let gid = req["grant_id"].as_i64().unwrap();
    assert!(s.eventually(20.0, || s
        .get(&format!("/api/v1/grants/{gid}"), &admin)
        .expect(200)
        .body["status"]
        == "active"));
    assert_eq!(pg.members(&reader), vec![format!("{p}cat")]);

    // cat is disabled in the directory (AD's flag): deactivated, the grant ends at once.
    ldap.modify(&format!(
        "dn: uid={p}cat,{PEOPLE}\nchangetype: modify\nadd: objectClass\nobjectClass: jiteaAdAccount\n-\nadd: userAccountControl\nuserAccountControl: 514\n-\n"
    ));
    let run = sync(&s, &admin, json!({}));
    assert_eq!(counts(&run), [0, 0, 1, 3, 1], "{run}");
    assert_eq!(run["changes"][0]["reason"], "disabled");
    assert_eq!(user(&s, &admin, &format!("{p}cat"))["is_active"], false);
    assert!(
        pg.members(&reader).is_empty(),
        "the disabled user's membership is still on the target"
    );
    let g = s
        .get(&format!("/api/v1/grants/{gid}"), &admin)
        .expect(200)
        .body;
    assert_eq!(g["status"], "revoked", "{g}");
    s.get("/api/v1/me", &cat_token).expect(401);

    // Enabled again in the directory: JITEA keeps the user deactivated until an admin acts.
    ldap.modify(&format!(
        "dn: uid={p}cat,{PEOPLE}\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: 512\n-\n"
    ));
    let run = sync(&s, &admin, json!({}));
    assert_eq!(counts(&run), [0, 0, 0, 4, 1], "{run}");
    assert_eq!(user(&s, &admin, &format!("{p}cat"))["is_active"], false);

    // bob is removed from the directory: deactivated, and out of the team.
    ldap.delete(&format!("uid={p}bob,{PEOPLE}"));
    let run = sync(&s, &admin, json!({}));
    assert_eq!(run["deactivated"], 1, "{run}");
    assert_eq!(run["changes"][0]["reason"], "not_found");
    assert_eq!(user(&s, &admin, &format!("{p}bob"))["is_active"], false);
    drop(ldap);
}
on_each_backend!(sync_creates_updates_and_deactivates);

fn guard_refuses_mass_deactivation_unless_forced(backend: Backend) {
    let p = jitea_tests::targets::prefix();
    let ldap = Slapd::start(&org(&p));
    let s = server(backend, &ldap, &[]);
    let admin = s.admin_token();
    let run = sync(&s, &admin, json!({}));
    assert_eq!(run["created"], 4, "{run}");

    // A filter that matches nobody: every user would go.
    let s = restart(
        s,
        &ldap,
        &[("JITEA_LDAP_USER_FILTER", "(uid=nobody-matches-this)")],
    );
    let admin = s.admin_token();
    let run = sync(&s, &admin, json!({}));
    assert_eq!(run["status"], "refused", "{run}");
    assert_eq!(run["deactivated"], 4, "the plan is reported: {run}");
    assert!(run["message"]
        .as_str()
        .unwrap()
        .contains("nothing was changed"));
    assert_eq!(user(&s, &admin, &format!("{p}ann"))["is_active"], true);
    let audits = s.audit(&admin, "event_type=directory_sync_run");
    assert!(audits.iter().any(|a| a["details"]["status"] == "refused"));
    // Admins are told (issue 11): the run's event is in the outbox for every channel.
    assert_eq!(
        s.db.scalar("SELECT COUNT(*) AS n FROM outbox WHERE topic = 'directory.sync_refused'"),
        1
    );
    // The refused run is recorded; `force` applies it.
    let runs = s
        .get("/api/v1/reports/directory-sync-runs?limit=1", &admin)
        .expect(200)
        .body;
    assert_eq!(
        runs["items"][0]["status"], "refused",
        "newest first: {runs}"
    );
    assert!(runs["next_cursor"].is_string());
    let forced = sync(&s, &admin, json!({"force": true}));
    assert_eq!(forced["status"], "succeeded", "{forced}");
    assert_eq!(forced["forced"], true);
    assert_eq!(forced["deactivated"], 4, "{forced}");
    assert_eq!(user(&s, &admin, &format!("{p}ann"))["is_active"], false);
}
on_each_backend!(guard_refuses_mass_deactivation_unless_forced);

fn plain_ldap_is_refused_unless_allowed(backend: Backend) {
    let p = jitea_tests::targets::prefix();
    let ldap = Slapd::start(&org(&p));
    let url = ldap.ldap_url();
    let s = server(backend, &ldap, &[("JITEA_LDAP_URL", &url)]);
    let admin = s.admin_token();
    let run = sync(&s, &admin, json!({}));
    assert_eq!(run["status"], "failed", "{run}");
    assert!(
        run["message"]
            .as_str()
            .unwrap()
            .contains("plain LDAP is refused"),
        "{run}"
    );
    assert_eq!(run["created"], 0);
    assert!(!run.to_string().contains("sync-secret-pw"));
    // StartTLS on the same port, certificate verified against the test CA.
    let s = restart(
        s,
        &ldap,
        &[("JITEA_LDAP_URL", &url), ("JITEA_LDAP_STARTTLS", "true")],
    );
    let admin = s.admin_token();
    let run = sync(&s, &admin, json!({"dry_run": true}));
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["created"], 4);
    // Without the CA the certificate is not trusted: verification is never switched off.
    let s = restart(
        s,
        &ldap,
        &[
            ("JITEA_LDAP_URL", &url),
            ("JITEA_LDAP_STARTTLS", "true"),
            ("JITEA_LDAP_CA_FILE", "/etc/ssl/certs/ca-certificates.crt"),
        ],
    );
    let admin = s.admin_token();
    let run = sync(&s, &admin, json!({"dry_run": true}));
    assert_eq!(run["status"], "failed", "{run}");
    // Plain LDAP when explicitly allowed.
    let s = restart(
        s,
        &ldap,
        &[("JITEA_LDAP_URL", &url), ("JITEA_LDAP_ALLOW_PLAIN", "true")],
    );
    let admin = s.admin_token();
    let run = sync(&s, &admin, json!({"dry_run": true}));
    assert_eq!(run["status"], "succeeded", "{run}");
}
on_each_backend!(plain_ldap_is_refused_unless_allowed);

#[test]
fn directory_sync_without_a_directory_is_a_conflict() {
    let s = Server::start(Backend::Sqlite);
    let admin = s.admin_token();
    s.post("/api/v1/jobs/directory-sync", &admin, json!({}))
        .expect_error(409, "directory_not_configured");
    s.post(
        "/api/v1/jobs/directory-sync",
        &admin,
        json!({"dry_run": "yes"}),
    )
    .expect(400);
}
