//! The SCIM 2.0 service provider at `/scim/v2`, driven over HTTP as an identity provider
//! would, on SQLite and PostgreSQL: users and groups (teams) created, found, replaced,
//! patched and deleted; deactivation through PATCH ending a live grant at once; ETags;
//! SCIM errors; and the SCIM token as a credential that works on `/scim/v2` only.

use jitea_tests::*;

const PW: &str = "scim-test-password-123";
const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const JITEA: &str = "urn:jitea:params:scim:schemas:extension:jitea:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// A new SCIM token named `name` (admin call); returns (id, token).
fn new_token(s: &Server, admin: &str, name: &str) -> (i64, String) {
    let r = s
        .post("/api/v1/scim/tokens", admin, json!({"name": name}))
        .expect(201);
    let token = r.body["token"].as_str().expect("token shown").to_string();
    (r.id(), token)
}

fn scim(s: &Server, method: &str, path: &str, token: &str, body: Option<Value>) -> Resp {
    s.call(
        method,
        &format!("/scim/v2{path}"),
        Some(token),
        body.as_ref(),
    )
}

/// Asserts a SCIM error body with this status and `scimType`.
fn scim_error(r: &Resp, status: u16, scim_type: Option<&str>) {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.body["schemas"], json!([ERROR]), "{}", r.text);
    assert_eq!(r.body["status"], json!(status.to_string()), "{}", r.text);
    match scim_type {
        Some(t) => assert_eq!(r.body["scimType"], json!(t), "{}", r.text),
        None => assert!(r.body.get("scimType").is_none(), "{}", r.text),
    }
}

fn user_doc(login: &str) -> Value {
    json!({
        "schemas": [USER, ENT, JITEA],
        "userName": login,
        "externalId": format!("ext-{login}"),
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "displayName": format!("Ada {login}"),
        "title": "Engineer",
        "emails": [{"value": format!("{login}@example.com"), "primary": true}],
        "active": true,
        ENT: {"department": "Payments", "division": "EU", "employeeNumber": "E-42"},
        JITEA: {"seniorityLevel": 3},
    })
}

fn create_user(s: &Server, token: &str, login: &str) -> i64 {
    let r = scim(s, "POST", "/Users", token, Some(user_doc(login))).expect(201);
    r.body["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("numeric id")
}

fn patch_ops(ops: Value) -> Value {
    json!({"schemas": [PATCH], "Operations": ops})
}

fn scim_users_crud_filter_and_etags(backend: Backend) {
    let s = Server::start(backend);
    let admin = s.admin_token();
    let (_, token) = new_token(&s, &admin, "okta");

    // Create: 201, SCIM media type, Location and ETag headers, the document as sent.
    let created = s.with_headers(
        "POST",
        "/scim/v2/Users",
        &[
            ("Authorization", &format!("Bearer {token}")),
            ("Content-Type", "application/scim+json"),
        ],
        Some(&user_doc("ada.lovelace")),
    );
    assert_eq!(created.status, 201, "{}", created.text);
    assert!(created
        .header("content-type")
        .unwrap_or("")
        .starts_with("application/scim+json"));
    let u = created.body.clone();
    let id = u["id"].as_str().unwrap().to_string();
    let etag = created.header("etag").expect("ETag").to_string();
    assert!(etag.starts_with("W/\""), "{etag}");
    assert_eq!(u["meta"]["version"], json!(etag));
    assert_eq!(created.header("location"), u["meta"]["location"].as_str());
    assert!(u["meta"]["location"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/scim/v2/Users/{id}")));
    assert_eq!(u["meta"]["resourceType"], "User");
    assert_eq!(u["userName"], "ada.lovelace");
    assert_eq!(u["name"]["familyName"], "Lovelace");
    assert_eq!(u["emails"][0]["value"], "ada.lovelace@example.com");
    assert_eq!(u[ENT]["employeeNumber"], "E-42");
    assert_eq!(u[JITEA]["seniorityLevel"], 3);

    // JITEA sees the same person, provisioned by SCIM, with no app role.
    let j = s
        .get(&format!("/api/v1/users/{id}"), &admin)
        .expect(200)
        .body;
    assert_eq!(j["source"], "scim");
    assert_eq!(j["external_id"], "ext-ada.lovelace");
    assert_eq!(j["department"], "Payments");
    assert_eq!(j["seniority_level"], 3);
    assert_eq!(
        (j["is_admin"].clone(), j["is_auditor"].clone()),
        (json!(false), json!(false))
    );

    // A manager by SCIM id; more users for filters and paging.
    let boss = create_user(&s, &token, "grace.hopper");
    let mut doc = user_doc("alan.turing");
    doc[ENT]["manager"] = json!({"value": boss.to_string()});
    let alan = scim(&s, "POST", "/Users", &token, Some(doc))
        .expect(201)
        .body;
    assert_eq!(alan[ENT]["manager"]["value"], json!(boss.to_string()));
    let j = s
        .get(
            &format!("/api/v1/users/{}", alan["id"].as_str().unwrap()),
            &admin,
        )
        .expect(200)
        .body;
    assert_eq!(j["manager_login_name"], "grace.hopper");

    // Filters: eq (userName ignores case), co, sw, externalId, and/or; paging.
    let names = |r: &Resp| -> Vec<String> {
        r.body["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["userName"].as_str().unwrap().to_string())
            .collect()
    };
    let r = scim(
        &s,
        "GET",
        "/Users?filter=userName%20eq%20%22ADA.LOVELACE%22",
        &token,
        None,
    )
    .expect(200);
    assert_eq!(r.body["totalResults"], 1);
    assert_eq!(names(&r), vec!["ada.lovelace"]);
    let r = scim(
        &s,
        "GET",
        "/Users?filter=userName%20co%20%22.h%22",
        &token,
        None,
    )
    .expect(200);
    assert_eq!(names(&r), vec!["grace.hopper"]);
    let r = scim(
        &s,
        "GET",
        "/Users?filter=displayName%20sw%20%22ada%20a%22",
        &token,
        None,
    )
    .expect(200);
    assert_eq!(names(&r), vec!["ada.lovelace", "alan.turing"]);
    let r = scim(
        &s,
        "GET",
        "/Users?filter=externalId%20eq%20%22ext-grace.hopper%22",
        &token,
        None,
    )
    .expect(200);
    assert_eq!(names(&r), vec!["grace.hopper"]);
    let r = scim(
        &s,
        "GET",
        "/Users?filter=externalId%20eq%20%22EXT-grace.hopper%22",
        &token,
        None,
    )
    .expect(200);
    assert_eq!(r.body["totalResults"], 0, "externalId is case-exact");
    let all = scim(&s, "GET", "/Users", &token, None).expect(200);
    let total = all.body["totalResults"].as_i64().unwrap();
    assert_eq!(
        total, 4,
        "the bootstrap admin and three SCIM users: {}",
        all.text
    );
    let p = scim(&s, "GET", "/Users?startIndex=2&count=2", &token, None).expect(200);
    assert_eq!(
        (
            p.body["startIndex"].clone(),
            p.body["itemsPerPage"].clone(),
            p.body["totalResults"].clone()
        ),
        (json!(2), json!(2), json!(4))
    );
    let p = scim(&s, "GET", "/Users?count=0", &token, None).expect(200);
    assert_eq!(
        (p.body["totalResults"].clone(), p.body["Resources"].clone()),
        (json!(4), json!([]))
    );
    let only = scim(
        &s,
        "GET",
        &format!("/Users/{id}?attributes=userName"),
        &token,
        None,
    )
    .expect(200);
    assert!(only.body.get("displayName").is_none() && only.body["userName"] == "ada.lovelace");

    // Filter errors are 400 invalidFilter, never a 500.
    for bad in [
        "userName%20zz%20%22x%22",
        "userName%20eq",
        "(userName%20eq%20%22x%22",
        "%22x%22",
    ] {
        scim_error(
            &scim(&s, "GET", &format!("/Users?filter={bad}"), &token, None),
            400,
            Some("invalidFilter"),
        );
    }
    scim_error(
        &scim(&s, "GET", "/Users?count=many", &token, None),
        400,
        Some("invalidValue"),
    );

    // Replace: the change shows, the ETag moves; a stale If-Match is 412 and changes nothing.
    let mut doc = user_doc("ada.lovelace");
    doc["displayName"] = json!("Countess of Lovelace");
    let auth = format!("Bearer {token}");
    let put = s.with_headers(
        "PUT",
        &format!("/scim/v2/Users/{id}"),
        &[("Authorization", &auth), ("If-Match", &etag)],
        Some(&doc),
    );
    assert_eq!(put.status, 200, "{}", put.text);
    assert_eq!(put.body["displayName"], "Countess of Lovelace");
    let new_etag = put.header("etag").unwrap().to_string();
    assert_ne!(new_etag, etag);
    doc["displayName"] = json!("Lost update");
    let stale = s.with_headers(
        "PUT",
        &format!("/scim/v2/Users/{id}"),
        &[("Authorization", &auth), ("If-Match", &etag)],
        Some(&doc),
    );
    assert_eq!(stale.status, 412, "{}", stale.text);
    assert_eq!(stale.body["schemas"], json!([ERROR]));
    let stale = s.with_headers(
        "DELETE",
        &format!("/scim/v2/Users/{id}"),
        &[("Authorization", &auth), ("If-Match", &etag)],
        None,
    );
    assert_eq!(stale.status, 412, "{}", stale.text);
    let now = scim(&s, "GET", &format!("/Users/{id}"), &token, None).expect(200);
    assert_eq!(now.body["displayName"], "Countess of Lovelace");
    assert_eq!(now.body["active"], true);

    // Bad input: clear SCIM errors.
    scim_error(
        &scim(&s, "POST", "/Users", &token, Some(user_doc("grace.HOPPER"))),
        409,
        Some("uniqueness"),
    );
    let mut d = user_doc("x1");
    d[JITEA]["seniorityLevel"] = json!(0);
    scim_error(
        &scim(&s, "POST", "/Users", &token, Some(d)),
        400,
        Some("invalidValue"),
    );
    let mut d = user_doc("x2");
    d["displayName"] = json!("nul\u{0}byte");
    scim_error(
        &scim(&s, "POST", "/Users", &token, Some(d)),
        400,
        Some("invalidValue"),
    );
    let mut d = user_doc("x3");
    d[ENT]["manager"] = json!({"value": "999999"});
    scim_error(
        &scim(&s, "POST", "/Users", &token, Some(d)),
        400,
        Some("invalidValue"),
    );
    let bad = s.raw(
        "POST",
        "/scim/v2/Users",
        Some(&token),
        "application/scim+json",
        b"{not json",
    );
    scim_error(&bad, 400, Some("invalidSyntax"));
    let mut d = user_doc("ada.lovelace");
    d["userName"] = json!("ada.renamed");
    scim_error(
        &scim(&s, "PUT", &format!("/Users/{id}"), &token, Some(d)),
        400,
        Some("mutability"),
    );
    scim_error(&scim(&s, "GET", "/Users/424242", &token, None), 404, None);
    scim_error(&scim(&s, "GET", "/Users/abc", &token, None), 404, None);
    scim_error(&scim(&s, "GET", "/NoSuchThing", &token, None), 404, None);
    let m = scim(&s, "POST", &format!("/Users/{id}"), &token, Some(json!({})));
    scim_error(&m, 405, None);
    let big = json!({"schemas": [USER], "userName": "big", "displayName": "x".repeat(300 * 1024)});
    scim_error(&scim(&s, "POST", "/Users", &token, Some(big)), 413, None);

    // Discovery describes what is served.
    let spc = scim(&s, "GET", "/ServiceProviderConfig", &token, None)
        .expect(200)
        .body;
    assert_eq!(spc["patch"]["supported"], true);
    assert_eq!(spc["bulk"]["supported"], false);
    assert_eq!(spc["filter"]["maxResults"], 200);
    assert_eq!(spc["etag"]["supported"], true);
    let rts = scim(&s, "GET", "/ResourceTypes", &token, None)
        .expect(200)
        .body;
    assert_eq!(rts["totalResults"], 2);
    scim(&s, "GET", &format!("/Schemas/{JITEA}"), &token, None).expect(200);
}

/// A noop target, a db role on it, a pre-approved role mapped to it that everyone may request.
fn pre_approved_role(s: &Server, admin: &str) -> i64 {
    let target = s
        .post(
            "/api/v1/targets",
            admin,
            json!({"name": "scim-noop", "kind": "noop"}),
        )
        .expect(201)
        .id();
    let db_role = s
        .post(
            "/api/v1/db-roles",
            admin,
            json!({"target_id": target, "db_role_name": "reader"}),
        )
        .expect(201)
        .id();
    let role = s
        .post("/api/v1/roles", admin, json!({"role_name": "Prod read", "max_duration_minutes": 60, "requires_approval": false}))
        .expect(201)
        .id();
    s.put(
        &format!("/api/v1/roles/{role}/db-roles/{db_role}"),
        admin,
        json!({}),
    )
    .expect(200);
    s.post(
        "/api/v1/eligibility-rules",
        admin,
        json!({"role_id": role, "scope_type": "all"}),
    )
    .expect(201);
    role
}

fn scim_patch_active_false_ends_live_access(backend: Backend) {
    let s = Server::start(backend);
    let admin = s.admin_token();
    let (_, token) = new_token(&s, &admin, "entra");
    let role = pre_approved_role(&s, &admin);
    let id = create_user(&s, &token, "leaver");
    s.put(
        &format!("/api/v1/users/{id}/password"),
        &admin,
        json!({"password": PW}),
    )
    .expect(204);
    let session = s.login("leaver", PW);
    let req = s
        .post(
            "/api/v1/requests",
            &session,
            json!({"role_id": role, "requested_duration_minutes": 30, "justification": "on call"}),
        )
        .expect(201)
        .body;
    let grant_id = req["grant_id"].as_i64().expect("auto-approved grant");
    assert!(s.eventually(10.0, || s
        .get(&format!("/api/v1/grants/{grant_id}"), &admin)
        .body["status"]
        == "active"));

    // The identity provider switches the person off.
    let r = scim(
        &s,
        "PATCH",
        &format!("/Users/{id}"),
        &token,
        Some(patch_ops(
            json!([{"op": "replace", "path": "active", "value": false}]),
        )),
    )
    .expect(200);
    assert_eq!(r.body["active"], false);

    // At once: the grant is revoked, the session refused, the user inactive, all audited.
    let g = s
        .get(&format!("/api/v1/grants/{grant_id}"), &admin)
        .expect(200)
        .body;
    assert_eq!(g["status"], "revoked", "{g}");
    s.get("/api/v1/me", &session).expect(401);
    assert_eq!(
        s.get(&format!("/api/v1/users/{id}"), &admin).body["is_active"],
        false
    );
    let audit = s.audit(&admin, &format!("user_id={id}"));
    let deact = audit
        .iter()
        .find(|e| e["event_type"] == "user_deactivated")
        .expect("user_deactivated audited");
    assert_eq!(deact["actor_login_name"], "scim:entra", "{deact}");

    // Back on through PATCH (path-less form): active again, no access comes back by itself.
    let r = scim(
        &s,
        "PATCH",
        &format!("/Users/{id}"),
        &token,
        Some(patch_ops(
            json!([{"op": "Replace", "value": {"active": true}}]),
        )),
    )
    .expect(200);
    assert_eq!(r.body["active"], true);
    assert_eq!(
        s.get(&format!("/api/v1/grants/{grant_id}"), &admin).body["status"],
        "revoked"
    );
    // `active` cannot be unassigned.
    scim_error(
        &scim(
            &s,
            "PATCH",
            &format!("/Users/{id}"),
            &token,
            Some(patch_ops(json!([{"op": "remove", "path": "active"}]))),
        ),
        400,
        Some("mutability"),
    );
    // Other PATCH forms: extension attributes and sub-attributes.
    let r = scim(
        &s,
        "PATCH",
        &format!("/Users/{id}"),
        &token,
        Some(patch_ops(json!([
            {"op": "replace", "path": format!("{ENT}:department"), "value": "Risk"},
            {"op": "remove", "path": "name.givenName"},
            {"op": "add", "path": format!("{JITEA}:seniorityLevel"), "value": 7},
        ]))),
    )
    .expect(200);
    assert_eq!(r.body[ENT]["department"], "Risk");
    assert!(r.body["name"].get("givenName").is_none(), "{}", r.text);
    let j = s
        .get(&format!("/api/v1/users/{id}"), &admin)
        .expect(200)
        .body;
    assert_eq!(
        (
            j["department"].clone(),
            j["seniority_level"].clone(),
            j["given_name"].clone()
        ),
        (json!("Risk"), json!(7), Value::Null)
    );
    scim_error(
        &scim(
            &s,
            "PATCH",
            &format!("/Users/{id}"),
            &token,
            Some(json!({"Operations": []})),
        ),
        400,
        Some("invalidSyntax"),
    );
}

fn scim_delete_deactivates_and_keeps_history(backend: Backend) {
    let s = Server::start(backend);
    let admin = s.admin_token();
    let (_, token) = new_token(&s, &admin, "okta");
    let role = pre_approved_role(&s, &admin);
    let id = create_user(&s, &token, "gone");
    s.put(
        &format!("/api/v1/users/{id}/password"),
        &admin,
        json!({"password": PW}),
    )
    .expect(204);
    let session = s.login("gone", PW);
    let grant_id = s
        .post(
            "/api/v1/requests",
            &session,
            json!({"role_id": role, "requested_duration_minutes": 30, "justification": "x"}),
        )
        .expect(201)
        .body["grant_id"]
        .as_i64()
        .expect("grant");

    let r = scim(&s, "DELETE", &format!("/Users/{id}"), &token, None);
    assert_eq!(r.status, 204, "{}", r.text);
    // Gone for SCIM ...
    scim_error(
        &scim(&s, "GET", &format!("/Users/{id}"), &token, None),
        404,
        None,
    );
    scim_error(
        &scim(&s, "DELETE", &format!("/Users/{id}"), &token, None),
        404,
        None,
    );
    let r = scim(
        &s,
        "GET",
        "/Users?filter=userName%20eq%20%22gone%22",
        &token,
        None,
    )
    .expect(200);
    assert_eq!(r.body["totalResults"], 0);
    // ... deactivated in JITEA, access ended, history intact.
    let u = s
        .get(&format!("/api/v1/users/{id}"), &admin)
        .expect(200)
        .body;
    assert_eq!(u["is_active"], false);
    assert_eq!(u["login_name"], "gone");
    assert_eq!(
        s.get(&format!("/api/v1/grants/{grant_id}"), &admin).body["status"],
        "revoked"
    );
    s.get("/api/v1/me", &session).expect(401);
    let events: Vec<String> = s
        .audit(&admin, &format!("user_id={id}"))
        .iter()
        .map(|e| e["event_type"].as_str().unwrap().to_string())
        .collect();
    for e in ["scim_user_created", "user_deactivated", "scim_user_deleted"] {
        assert!(events.iter().any(|x| x == e), "{e} missing from {events:?}");
    }
    // The userName stays the deleted person's: a new person cannot take over their history.
    scim_error(
        &scim(&s, "POST", "/Users", &token, Some(user_doc("gone"))),
        409,
        Some("uniqueness"),
    );
}

fn scim_groups_are_teams(backend: Backend) {
    let s = Server::start(backend);
    let admin = s.admin_token();
    let (_, token) = new_token(&s, &admin, "okta");
    let a = create_user(&s, &token, "member.a");
    let b = create_user(&s, &token, "member.b");

    let g = scim(&s, "POST", "/Groups", &token, Some(json!({"schemas": [GROUP], "displayName": "SRE", "externalId": "g-1", "members": [{"value": a.to_string()}]}))).expect(201).body;
    let gid: i64 = g["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(g["members"][0]["value"], json!(a.to_string()));
    let team = s
        .get(&format!("/api/v1/teams/{gid}"), &admin)
        .expect(200)
        .body;
    assert_eq!(
        (team["team_name"].clone(), team["is_active"].clone()),
        (json!("SRE"), json!(true))
    );
    let ids = |s: &Server| -> Vec<i64> {
        s.get(&format!("/api/v1/teams/{gid}/members"), &admin)
            .expect(200)
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["user_id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(ids(&s), vec![a]);

    // PATCH add, then remove by value filter.
    scim(
        &s,
        "PATCH",
        &format!("/Groups/{gid}"),
        &token,
        Some(patch_ops(
            json!([{"op": "add", "path": "members", "value": [{"value": b.to_string()}]}]),
        )),
    )
    .expect(200);
    let mut now = ids(&s);
    now.sort();
    assert_eq!(now, vec![a, b]);
    let r = scim(
        &s,
        "PATCH",
        &format!("/Groups/{gid}"),
        &token,
        Some(patch_ops(
            json!([{"op": "remove", "path": format!("members[value eq \"{a}\"]")}]),
        )),
    )
    .expect(200);
    assert_eq!(
        r.body["members"],
        json!([{"value": b.to_string(), "type": "User", "$ref": r.body["members"][0]["$ref"]}])
    );
    assert_eq!(ids(&s), vec![b]);
    // The removal is history, not a deletion.
    let hist = s
        .get(
            &format!("/api/v1/teams/{gid}/members?include_removed=true"),
            &admin,
        )
        .expect(200)
        .body;
    assert!(
        hist.as_array()
            .unwrap()
            .iter()
            .any(|m| m["user_id"] == a && m["is_active"] == false),
        "{hist}"
    );
    // Filter groups by name; a second group of the same name is a conflict.
    let r = scim(
        &s,
        "GET",
        "/Groups?filter=displayName%20eq%20%22sre%22",
        &token,
        None,
    )
    .expect(200);
    assert_eq!(r.body["totalResults"], 1);
    scim_error(
        &scim(
            &s,
            "POST",
            "/Groups",
            &token,
            Some(json!({"schemas": [GROUP], "displayName": "SRE"})),
        ),
        409,
        Some("uniqueness"),
    );
    scim_error(
        &scim(
            &s,
            "PATCH",
            &format!("/Groups/{gid}"),
            &token,
            Some(patch_ops(
                json!([{"op": "remove", "path": "members[value eq \"999\"]"}]),
            )),
        ),
        400,
        Some("noTarget"),
    );
    // Replace renames and sets the members.
    let r = scim(&s, "PUT", &format!("/Groups/{gid}"), &token, Some(json!({"schemas": [GROUP], "displayName": "SRE EU", "members": [{"value": a.to_string()}]}))).expect(200);
    assert_eq!(r.body["displayName"], "SRE EU");
    assert_eq!(ids(&s), vec![a]);

    // DELETE switches the team off and hides it from SCIM; JITEA keeps it.
    assert_eq!(
        scim(&s, "DELETE", &format!("/Groups/{gid}"), &token, None).status,
        204
    );
    scim_error(
        &scim(&s, "GET", &format!("/Groups/{gid}"), &token, None),
        404,
        None,
    );
    let team = s
        .get(&format!("/api/v1/teams/{gid}"), &admin)
        .expect(200)
        .body;
    assert_eq!(team["is_active"], false);
    let audit = s.audit(&admin, "event_type=scim_group_deleted");
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["actor_login_name"], "scim:okta");
}

fn scim_cannot_touch_what_it_did_not_provision(backend: Backend) {
    let s = Server::start(backend);
    let admin = s.admin_token();
    let (_, token) = new_token(&s, &admin, "hostile");
    let me = s.get("/api/v1/me", &admin).expect(200).body;
    let root = me["id"].as_i64().unwrap();
    let local = s.create_user(
        &admin,
        json!({"login_name": "local.person", "password": PW}),
    );

    // The bootstrap admin is visible but cannot be deactivated, renamed, changed or deleted.
    let p = format!("/Users/{root}");
    let off = patch_ops(json!([{"op": "replace", "path": "active", "value": false}]));
    scim_error(&scim(&s, "PATCH", &p, &token, Some(off.clone())), 403, None);
    let mut rename = user_doc("root-renamed");
    rename["active"] = json!(false);
    scim_error(&scim(&s, "PUT", &p, &token, Some(rename)), 403, None);
    scim_error(&scim(&s, "DELETE", &p, &token, None), 403, None);
    scim_error(
        &scim(&s, "PATCH", &format!("/Users/{local}"), &token, Some(off)),
        403,
        None,
    );
    let still = s.get("/api/v1/me", &admin).expect(200).body;
    assert_eq!(
        (
            still["is_active"].clone(),
            still["is_admin"].clone(),
            still["login_name"].clone()
        ),
        (json!(true), json!(true), json!("root"))
    );
    s.admin_token();

    // Nothing in a SCIM document makes an admin or auditor.
    let mut d = user_doc("wannabe");
    d["is_admin"] = json!(true);
    d["roles"] = json!([{"value": "admin"}]);
    let id = scim(&s, "POST", "/Users", &token, Some(d)).expect(201).body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let u = s
        .get(&format!("/api/v1/users/{id}"), &admin)
        .expect(200)
        .body;
    assert_eq!(
        (u["is_admin"].clone(), u["is_auditor"].clone()),
        (json!(false), json!(false))
    );
    // Once JITEA gives a SCIM user an app role, SCIM can no longer change it.
    s.patch(
        &format!("/api/v1/users/{id}"),
        &admin,
        json!({"is_auditor": true}),
    )
    .expect(200);
    scim_error(
        &scim(&s, "DELETE", &format!("/Users/{id}"), &token, None),
        403,
        None,
    );

    // Nor can it put the admin into a team, or change a team made in JITEA.
    let r = scim(
        &s,
        "POST",
        "/Groups",
        &token,
        Some(
            json!({"schemas": [GROUP], "displayName": "Admins?", "members": [{"value": root.to_string()}]}),
        ),
    );
    scim_error(&r, 403, None);
    assert!(
        s.get("/api/v1/teams", &admin).body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["team_name"] != "Admins?"),
        "nothing half-written"
    );
    let team = s
        .post("/api/v1/teams", &admin, json!({"team_name": "Local team"}))
        .expect(201)
        .id();
    scim_error(
        &scim(&s, "DELETE", &format!("/Groups/{team}"), &token, None),
        403,
        None,
    );
    assert_eq!(
        s.get(&format!("/api/v1/teams/{team}"), &admin).body["is_active"],
        true
    );
}

fn scim_tokens_work_on_scim_only(backend: Backend) {
    let s = Server::start(backend);
    let admin = s.admin_token();

    // Created: shown once; listed with its prefix only; audited without it.
    let created = s
        .post("/api/v1/scim/tokens", &admin, json!({"name": "okta"}))
        .expect(201)
        .body;
    let token = created["token"].as_str().unwrap().to_string();
    assert!(
        token.starts_with("jitea_scim_") && token.len() > 40,
        "{token}"
    );
    assert!(token.starts_with(created["token_prefix"].as_str().unwrap()));
    let list = s.get("/api/v1/scim/tokens", &admin).expect(200);
    assert!(!list.text.contains(&token), "a list never shows the token");
    assert_eq!(list.body["items"][0]["name"], "okta");
    assert_eq!(
        list.body["items"][0]["token_prefix"],
        created["token_prefix"]
    );
    assert!(list.body["items"][0].get("token").is_none());
    let audit = s.audit(&admin, "event_type=scim_token_created");
    assert_eq!(audit.len(), 1);
    assert!(!audit[0].to_string().contains(&token));
    s.post("/api/v1/scim/tokens", &admin, json!({"name": ""}))
        .expect(400);
    s.post(
        "/api/v1/scim/tokens",
        &admin,
        json!({"name": "x".repeat(101)}),
    )
    .expect(400);

    // The SCIM token opens /scim/v2 and nothing else: every documented /api/v1 operation
    // that needs a caller refuses it with 401.
    scim(&s, "GET", "/Users", &token, None).expect(200);
    let doc = s
        .call("GET", "/api/v1/openapi.json", None, None)
        .expect(200)
        .body;
    let public = [
        "/api/v1/auth/login",
        "/api/v1/auth/session",
        "/api/v1/auth/providers",
        "/api/v1/auth/oidc/login",
        "/api/v1/auth/oidc/callback",
    ];
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/api/v1/") || public.contains(&path.as_str()) {
            continue;
        }
        let concrete = path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "1" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        for method in item.as_object().unwrap().keys() {
            let m = method.to_uppercase();
            let body = (m != "GET" && m != "DELETE").then(|| json!({}));
            let r = s.call(&m, &concrete, Some(&token), body.as_ref());
            assert_eq!(
                r.status, 401,
                "{m} {concrete} with a SCIM token: {}",
                r.text
            );
            checked += 1;
        }
    }
    assert!(checked >= 60, "only {checked} operations checked");

    // JITEA's own tokens (even an admin's) do not open /scim/v2; neither does nothing.
    let r = s.get_with_auth_header("/scim/v2/Users", &format!("Bearer {admin}"));
    scim_error(&r, 401, None);
    let r = s.call("GET", "/scim/v2/ServiceProviderConfig", None, None);
    scim_error(&r, 401, None);
    let raw = s.with_headers("GET", "/scim/v2/Users", &[], None);
    assert!(raw
        .header("www-authenticate")
        .is_some_and(|h| h.starts_with("Bearer")));

    // Revoked: refused at once; revoking again is harmless; unknown ids are 404.
    let id = created["id"].as_i64().unwrap();
    assert_eq!(
        s.call(
            "DELETE",
            &format!("/api/v1/scim/tokens/{id}"),
            Some(&admin),
            None
        )
        .status,
        204
    );
    scim_error(&scim(&s, "GET", "/Users", &token, None), 401, None);
    assert_eq!(
        s.call(
            "DELETE",
            &format!("/api/v1/scim/tokens/{id}"),
            Some(&admin),
            None
        )
        .status,
        204
    );
    s.call("DELETE", "/api/v1/scim/tokens/424242", Some(&admin), None)
        .expect(404);
    let listed = &s.get("/api/v1/scim/tokens", &admin).expect(200).body["items"][0];
    assert_eq!(listed["revoked_by"], "root");
    assert!(listed["last_used_utc"].is_string(), "{listed}");
    assert_eq!(s.audit(&admin, "event_type=scim_token_revoked").len(), 1);
}

/// Concurrent replaces naming the same version: exactly one wins, the others get 412 and
/// change nothing.
fn scim_if_match_is_compare_and_set(backend: Backend) {
    let s = Server::start(backend);
    let admin = s.admin_token();
    let (_, token) = new_token(&s, &admin, "okta");
    let id = create_user(&s, &token, "contended");
    let etag = scim(&s, "GET", &format!("/Users/{id}"), &token, None)
        .expect(200)
        .body["meta"]["version"]
        .as_str()
        .unwrap()
        .to_string();
    let auth = format!("Bearer {token}");
    let results: Vec<(u16, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let (s, auth, etag) = (&s, auth.clone(), etag.clone());
                scope.spawn(move || {
                    let mut doc = user_doc("contended");
                    doc["displayName"] = json!(format!("writer {i}"));
                    let r = s.with_headers(
                        "PUT",
                        &format!("/scim/v2/Users/{id}"),
                        &[("Authorization", &auth), ("If-Match", &etag)],
                        Some(&doc),
                    );
                    (r.status, format!("writer {i}"))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let winners: Vec<&String> = results
        .iter()
        .filter(|(st, _)| *st == 200)
        .map(|(_, w)| w)
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    assert!(
        results.iter().all(|(st, _)| *st == 200 || *st == 412),
        "{results:?}"
    );
    let now = scim(&s, "GET", &format!("/Users/{id}"), &token, None)
        .expect(200)
        .body;
    assert_eq!(now["displayName"], json!(winners[0]));
    assert_eq!(
        s.audit(
            &admin,
            &format!("event_type=scim_user_updated&user_id={id}")
        )
        .len(),
        1
    );
}

on_each_backend!(scim_users_crud_filter_and_etags);
on_each_backend!(scim_if_match_is_compare_and_set);
on_each_backend!(scim_patch_active_false_ends_live_access);
on_each_backend!(scim_delete_deactivates_and_keeps_history);
on_each_backend!(scim_groups_are_teams);
on_each_backend!(scim_cannot_touch_what_it_did_not_provision);
on_each_backend!(scim_tokens_work_on_scim_only);
