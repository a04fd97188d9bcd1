//! The `aws_sso` target kind (issue 12, item 1), black-box against moto's server: the test
//! sets up IAM Identity Center with AWS's own CLI (users, permission sets, an account) and
//! looks at the assignments with `aws sso-admin list-account-assignments`, never through
//! JITEA. A granted role becomes an account assignment, expiry removes it, drift made by hand
//! is found and repaired, users are named by user name or email, and a person with no user in
//! the identity store gets a clear error.

use std::time::Instant;

use jitea_tests::aws::{Moto, REGION};
use jitea_tests::*;

const PW: &str = "a-long-test-password";

struct Aws {
    moto: Moto,
    instance: String,
    store: String,
    account: String,
    read_only: String,
}

fn aws() -> Aws {
    let moto = Moto::start();
    let (instance, store) = moto.instance();
    let account = moto.create_account("prod");
    let read_only = moto.create_permission_set(&instance, "ReadOnly", "PT2H");
    Aws {
        moto,
        instance,
        store,
        account,
        read_only,
    }
}

impl Aws {
    fn start_jitea(&self, backend: Backend) -> Server {
        let env = self.moto.env();
        let mut pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        pairs.push(("JITEA_RETRY_BASE_MS", "50"));
        Server::start_with(backend, &pairs)
    }

    fn target(&self, s: &Server, admin: &str, principal_from: &str) -> i64 {
        s.make_target(
            admin,
            json!({
                "name": format!("aws-{principal_from}"), "kind": "aws_sso", "drift_policy": "repair",
                "principal_from": principal_from,
                "settings": {"region": REGION, "instance_arn": self.instance, "identity_store_id": self.store},
            }),
        )
    }

    fn entitlement(&self, s: &Server, admin: &str, target: i64, ps: &str) -> Value {
        s.post(
            "/api/v1/db-roles",
            admin,
            json!({"target_id": target, "ref": {"account_id": self.account, "permission_set_arn": ps}, "is_jit_managed": true}),
        )
        .expect(201)
        .body
    }

    fn holders(&self, ps: &str) -> Vec<(String, String)> {
        let mut v = self.moto.assignments(&self.instance, &self.account, ps);
        v.sort();
        v
    }
}

fn request(s: &Server, login: &str, role: i64) -> i64 {
    let token = s.login(login, PW);
    let req = s
        .post(
            "/api/v1/requests",
            &token,
            json!({"role_id": role, "requested_duration_minutes": 30}),
        )
        .expect(201)
        .body;
    req["grant_id"].as_i64().expect("a grant")
}

fn wait_status(s: &Server, admin: &str, gid: i64, status: &str) -> Value {
    let mut last = Value::Null;
    let ok = s.eventually(30.0, || {
        last = s.get(&format!("/api/v1/grants/{gid}"), admin).body;
        last["status"] == status
    });
    assert!(ok, "grant {gid} never became {status}: {last}");
    last
}

fn an_aws_sso_grant_is_an_account_assignment_until_it_expires(backend: Backend) {
    let a = aws();
    let alice = a.moto.create_user(&a.store, "alice", "alice@example.com");
    let mallory = a
        .moto
        .create_user(&a.store, "mallory", "mallory@example.com");
    let s = a.start_jitea(backend);
    let admin = s.admin_token();
    let target = a.target(&s, &admin, "login");
    let ent = a.entitlement(&s, &admin, target, &a.read_only);
    // The entitlement speaks of what it is, and its key is derived from that.
    assert_eq!(ent["ref"]["account_id"], a.account.as_str(), "{ent}");
    assert_eq!(ent["ref"]["permission_set_arn"], a.read_only.as_str());
    assert_eq!(
        ent["db_role_name"],
        format!("{}:{}", a.account, a.read_only)
    );
    let ent_id = ent["id"].as_i64().unwrap();

    // The target test reaches AWS with the credentials, finds the permission set and says
    // how long a session outlives a removal.
    let t = s
        .post(&format!("/api/v1/targets/{target}/test"), &admin, json!({}))
        .expect(200)
        .body;
    assert_eq!(t["reachable"], true, "{t}");
    assert_eq!(t["db_roles"][0]["exists"], true, "{t}");
    let note = t["db_roles"][0]["note"].as_str().unwrap_or_default();
    assert!(note.contains("PT2H"), "{t}");

    let role = s.open_role(&admin, "AWS prod read", 60, &[ent_id]);
    s.create_user(&admin, json!({"login_name": "alice", "password": PW}));
    let gid = request(&s, "alice", role);
    let g = wait_status(&s, &admin, gid, "active");
    assert_eq!(g["assignments"][0]["state"], "added", "{g}");
    assert_eq!(
        a.holders(&a.read_only),
        vec![("USER".to_string(), alice.clone())]
    );

    // Drift made by hand with the AWS CLI: found, and removed under `repair`.
    a.moto
        .assign(&a.instance, &a.account, &a.read_only, &mallory);
    let (_, findings) = s.reconcile_now(&admin);
    let found = findings
        .iter()
        .find(|f| f["kind"] == "unexpected")
        .cloned()
        .unwrap_or_default();
    assert_eq!(found["login_name"], "mallory", "{findings:?}");
    assert_eq!(found["action"], "removed", "{findings:?}");
    assert_eq!(
        a.holders(&a.read_only),
        vec![("USER".to_string(), alice.clone())],
        "the hand-made assignment is gone, the granted one kept"
    );

    // Expiry removes the assignment (seen through the AWS CLI) within seconds.
    s.db.set_grant_ends_in(gid, 1.0);
    let ends = Instant::now() + std::time::Duration::from_secs(1);
    assert!(
        s.eventually(15.0, || a.holders(&a.read_only).is_empty()),
        "the assignment outlived the grant"
    );
    let lag = Instant::now().saturating_duration_since(ends);
    eprintln!(
        "aws_sso ({backend:?}): assignment gone {} ms after valid_to (including one aws CLI call)",
        lag.as_millis()
    );
    let g = wait_status(&s, &admin, gid, "expired");
    assert_eq!(g["assignments"][0]["state"], "dropped", "{g}");
}
on_each_backend!(an_aws_sso_grant_is_an_account_assignment_until_it_expires);

#[test]
fn users_are_named_by_email_and_someone_aws_does_not_know_gets_a_clear_error() {
    let a = aws();
    let bob = a
        .moto
        .create_user(&a.store, "robert.aws", "bob@example.com");
    let s = a.start_jitea(Backend::Sqlite);
    let admin = s.admin_token();
    let target = a.target(&s, &admin, "email");
    let ent = a.entitlement(&s, &admin, target, &a.read_only)["id"]
        .as_i64()
        .unwrap();
    let role = s.open_role(&admin, "AWS prod read", 60, &[ent]);

    // bob's JITEA login is not his AWS user name; his email is how the target names him.
    s.create_user(
        &admin,
        json!({"login_name": "bob", "password": PW, "email": "bob@example.com"}),
    );
    let gid = request(&s, "bob", role);
    wait_status(&s, &admin, gid, "active");
    assert_eq!(a.holders(&a.read_only), vec![("USER".to_string(), bob)]);
    // Reconciliation names him the same way: nothing is unexplained.
    let (_, findings) = s.reconcile_now(&admin);
    assert!(findings.is_empty(), "{findings:?}");
    s.post(
        &format!("/api/v1/grants/{gid}/revoke"),
        &admin,
        json!({"reason": "done"}),
    )
    .expect(200);
    assert!(s.eventually(15.0, || a.holders(&a.read_only).is_empty()));

    // carol has an email the identity store does not know, dave has none: neither gets
    // access, and the grant says why.
    for (login, email) in [("carol", Some("carol@example.com")), ("dave", None)] {
        let mut body = json!({"login_name": login, "password": PW});
        if let Some(e) = email {
            body["email"] = json!(e);
        }
        s.create_user(&admin, body);
        let gid = request(&s, login, role);
        let mut last = Value::Null;
        assert!(
            s.eventually(30.0, || {
                last = s.get(&format!("/api/v1/grants/{gid}"), &admin).body;
                last["assignments"][0]["add_error"]
                    .as_str()
                    .is_some_and(|e| e.contains("no principal"))
            }),
            "{login}: {last}"
        );
        assert_ne!(last["status"], "active", "{last}");
    }
    assert!(a.holders(&a.read_only).is_empty());
}

#[test]
fn users_mapped_by_external_id_keep_their_principal_until_access_is_removed() {
    let a = aws();
    let cara = a.moto.create_user(&a.store, "c.ortiz", "cara@example.com");
    let other = a
        .moto
        .create_user(&a.store, "someone.else", "else@example.com");
    let s = a.start_jitea(Backend::Sqlite);
    let admin = s.admin_token();
    let target = a.target(&s, &admin, "external_id");
    let ent = a.entitlement(&s, &admin, target, &a.read_only)["id"]
        .as_i64()
        .unwrap();
    let role = s.open_role(&admin, "AWS prod read", 60, &[ent]);
    let uid = s.create_user(&admin, json!({"login_name": "cara", "password": PW}));
    let eve = s.create_user(&admin, json!({"login_name": "eve", "password": PW}));

    // Not mapped yet: no access, and the grant says why.
    let gid = request(&s, "cara", role);
    let mut last = Value::Null;
    assert!(
        s.eventually(30.0, || {
            last = s.get(&format!("/api/v1/grants/{gid}"), &admin).body;
            last["assignments"][0]["add_error"]
                .as_str()
                .is_some_and(|e| e.contains("no principal"))
        }),
        "{last}"
    );
    s.post(
        &format!("/api/v1/grants/{gid}/revoke"),
        &admin,
        json!({"reason": "retry"}),
    )
    .expect(200);

    // Mapped to her Identity Store user id: the assignment is hers.
    let p = s
        .put(
            &format!("/api/v1/targets/{target}/principals/{uid}"),
            &admin,
            json!({"principal": cara}),
        )
        .expect(200)
        .body;
    assert_eq!(p["login_name"], "cara");
    // One user per principal on a target.
    s.put(
        &format!("/api/v1/targets/{target}/principals/{eve}"),
        &admin,
        json!({"principal": cara}),
    )
    .expect(409);
    s.put(
        &format!("/api/v1/targets/{target}/principals/{eve}"),
        &admin,
        json!({"principal": "has space"}),
    )
    .expect(400);
    let list = s
        .get(&format!("/api/v1/targets/{target}/principals"), &admin)
        .expect(200)
        .body;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{list}");

    let gid = request(&s, "cara", role);
    wait_status(&s, &admin, gid, "active");
    assert_eq!(
        a.holders(&a.read_only),
        vec![("USER".to_string(), cara.clone())]
    );

    // Remapped while her access is live: removal still names the principal that got it.
    s.put(
        &format!("/api/v1/targets/{target}/principals/{uid}"),
        &admin,
        json!({"principal": other}),
    )
    .expect(200);
    s.post(
        &format!("/api/v1/grants/{gid}/revoke"),
        &admin,
        json!({"reason": "done"}),
    )
    .expect(200);
    assert!(
        s.eventually(15.0, || a.holders(&a.read_only).is_empty()),
        "the assignment of the principal that got the access is gone"
    );
    let path = format!("/api/v1/targets/{target}/principals/{uid}");
    s.call("DELETE", &path, Some(&admin), None).expect(204);
    s.call("DELETE", &path, Some(&admin), None).expect(404);
}

#[test]
fn aws_sso_targets_and_entitlements_are_checked_field_by_field() {
    let s = Server::start(Backend::Sqlite);
    let admin = s.admin_token();
    let field = |r: &Resp| r.body["error"]["details"]["fields"][0]["field"].clone();
    let r = s
        .post(
            "/api/v1/targets",
            &admin,
            json!({"name": "aws", "kind": "aws_sso"}),
        )
        .expect(400);
    assert_eq!(field(&r), "settings", "{}", r.body);
    let settings = json!({"region": "us-east-1", "instance_arn": "arn:aws:sso:::instance/ssoins-0123456789abcdef", "identity_store_id": "d-0123456789"});
    let mut bad = settings.clone();
    bad["instance_arn"] = json!("arn:aws:iam::123456789012:role/admin");
    let r = s
        .post(
            "/api/v1/targets",
            &admin,
            json!({"name": "aws", "kind": "aws_sso", "settings": bad}),
        )
        .expect(400);
    assert_eq!(field(&r), "settings.instance_arn", "{}", r.body);
    // Settings are for the kinds that take them.
    let r = s
        .post(
            "/api/v1/targets",
            &admin,
            json!({"name": "pg", "kind": "postgres", "connection_url_env": "JITEA_TARGET_X", "settings": settings}),
        )
        .expect(400);
    assert_eq!(field(&r), "settings", "{}", r.body);
    let target = s.make_target(
        &admin,
        json!({"name": "aws", "kind": "aws_sso", "settings": settings}),
    );
    let t = s
        .get(&format!("/api/v1/targets/{target}"), &admin)
        .expect(200)
        .body;
    assert_eq!(t["settings"], settings);
    assert_eq!(t["principal_from"], "login");

    let ps = "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef";
    for (body, f) in [
        (
            json!({"target_id": target, "db_role_name": "ReadOnly"}),
            "ref",
        ),
        (
            json!({"target_id": target, "ref": {"account_id": "12345", "permission_set_arn": ps}}),
            "ref.account_id",
        ),
        (
            json!({"target_id": target, "ref": {"account_id": "123456789012", "permission_set_arn": "ReadOnly"}}),
            "ref.permission_set_arn",
        ),
        (
            json!({"target_id": target, "ref": {"account_id": "123456789012"}}),
            "ref.permission_set_arn",
        ),
        (
            json!({"target_id": target, "db_role_name": "other", "ref": {"account_id": "123456789012", "permission_set_arn": ps}}),
            "db_role_name",
        ),
    ] {
        let r = s.post("/api/v1/db-roles", &admin, body.clone()).expect(400);
        assert_eq!(field(&r), f, "{body} → {}", r.body);
    }
    let ok = s
        .post(
            "/api/v1/db-roles",
            &admin,
            json!({"target_id": target, "ref": {"account_id": "123456789012", "permission_set_arn": ps}}),
        )
        .expect(201)
        .body;
    assert_eq!(ok["db_role_name"], format!("123456789012:{ps}"));
    // The same permission set on the same account once only.
    s.post(
        "/api/v1/db-roles",
        &admin,
        json!({"target_id": target, "ref": {"account_id": "123456789012", "permission_set_arn": ps}}),
    )
    .expect(409);
    // A database target's roles take no ref.
    let pg = s.make_target(
        &admin,
        json!({"name": "pg", "kind": "postgres", "connection_url_env": "JITEA_TARGET_X"}),
    );
    let r = s
        .post(
            "/api/v1/db-roles",
            &admin,
            json!({"target_id": pg, "db_role_name": "r", "ref": {"account_id": "123456789012"}}),
        )
        .expect(400);
    assert_eq!(field(&r), "ref", "{}", r.body);
}
