//! The directory sync's Active Directory mapping against a real Samba AD domain controller
//! (`tests/src/samba.rs`): `sAMAccountName` logins, `objectGUID` ids, `userAccountControl`'s
//! disabled bit, teams from `memberOf`, managers, LDAPS verified against the DC's CA.
//! Samba listens on fixed ports, so this is one test.

use jitea_tests::samba::{SambaDc, STAFF, USER_PW};
use jitea_tests::*;

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

#[test]
fn samba_ad_users_groups_managers_and_disabled_accounts() {
    let dc = SambaDc::start();
    for (login, given, sn, dept, title) in [
        ("boss", "Boss", "Big", "Exec", "CTO"),
        ("ann", "Ann", "Lee", "Payments", "Senior Engineer"),
        ("bob", "Bob", "Ray", "Payments", "Engineer"),
        ("dan", "Dan", "Dis", "Payments", "Engineer"),
    ] {
        dc.tool(&[
            "user",
            "create",
            login,
            USER_PW,
            &format!("--userou={}", STAFF.split(',').next().unwrap()),
            &format!("--given-name={given}"),
            &format!("--surname={sn}"),
            &format!("--department={dept}"),
            &format!("--job-title={title}"),
        ]);
    }
    dc.tool(&["user", "disable", "dan"]);
    dc.tool(&["group", "add", "oncall"]);
    dc.tool(&["group", "addmembers", "oncall", "ann,bob"]);
    dc.modify(&format!(
        "dn: CN=Ann Lee,{STAFF}\nchangetype: modify\nreplace: manager\nmanager: CN=Boss Big,{STAFF}\n-\n"
    ));
    let config = dc.dir.join("jitea.toml");
    std::fs::write(
        &config,
        "ldap_title_seniority = { \"Senior Engineer\" = 5 }\n",
    )
    .unwrap();
    let mut env = dc.env();
    env.push(("JITEA_CONFIG".into(), config.display().to_string()));
    env.push(("JITEA_LDAP_MAX_DEACTIVATE_PERCENT".into(), "50".into()));
    let refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let s = Server::start_with(Backend::Sqlite, &refs);
    let admin = s.admin_token();

    let run = s
        .post("/api/v1/jobs/directory-sync", &admin, json!({}))
        .expect(200)
        .body;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["created"], 3, "dan is disabled and not created: {run}");
    assert_eq!(run["errors"], 0, "{run}");
    assert_eq!(user(&s, &admin, "dan"), Value::Null);
    let ann = user(&s, &admin, "ann");
    assert_eq!(ann["source"], "directory");
    assert_eq!(ann["department"], "Payments");
    assert_eq!(ann["manager_login_name"], "boss");
    assert_eq!(ann["seniority_level"], 5);
    let guid = ann["external_id"].as_str().unwrap();
    assert!(
        guid.len() == 32 && guid.chars().all(|c| c.is_ascii_hexdigit()),
        "objectGUID as hex: {guid}"
    );
    let teams = s.get("/api/v1/teams", &admin).expect(200).body;
    let oncall = teams["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["team_name"] == "oncall")
        .expect("team from memberOf")["id"]
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
    assert_eq!(names, vec!["ann", "bob"]);

    // Disabled in AD (userAccountControl 514): deactivated.
    dc.tool(&["user", "disable", "bob"]);
    let run = s
        .post("/api/v1/jobs/directory-sync", &admin, json!({}))
        .expect(200)
        .body;
    assert_eq!(run["deactivated"], 1, "{run}");
    assert_eq!(run["changes"][0]["reason"], "disabled", "{run}");
    assert_eq!(user(&s, &admin, "bob")["is_active"], false);
    assert_eq!(user(&s, &admin, "ann")["is_active"], true);
}
