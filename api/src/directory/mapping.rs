//! Directory entries → JITEA user facts, as configured (`JITEA_LDAP_ATTR_*`). Pure: no I/O.
//!
//! Every value from the directory is validated like any input: at most 255 characters (128
//! for login names, which also allow only letters, digits and `. _ - @ \`), no control
//! characters (NUL included); an entry that fails is reported and skipped, never a crash.

use std::collections::{BTreeSet, HashMap};

use crate::config::LdapConfig;

/// One entry as read: its DN and attribute values, keyed by lower-case attribute name.
#[derive(Debug, Clone, Default)]
pub struct RawEntry {
    pub dn: String,
    pub attrs: HashMap<String, Vec<Vec<u8>>>,
}

impl RawEntry {
    fn first(&self, attr: &str) -> Option<&[u8]> {
        self.attrs
            .get(&attr.to_ascii_lowercase())
            .and_then(|v| v.first())
            .map(Vec::as_slice)
    }

    fn all(&self, attr: &str) -> &[Vec<u8>] {
        self.attrs
            .get(&attr.to_ascii_lowercase())
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

/// The facts JITEA keeps about a directory user (compared with the stored user).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub department: Option<String>,
    pub division: Option<String>,
    pub job_title: Option<String>,
    pub seniority_level: Option<i64>,
    pub manager_login_name: Option<String>,
}

/// A user entry, mapped and validated.
#[derive(Debug, Clone)]
pub struct DirUser {
    pub dn: String,
    /// entryUUID / objectGUID (hex), or the normalised DN when the entry has neither.
    pub external_id: String,
    pub login_name: String,
    pub facts: Facts,
    /// The manager's DN, normalised; resolved to a login by `resolve_managers`.
    pub manager_dn: Option<String>,
    /// Active Directory's `userAccountControl` has bit 2 (ACCOUNTDISABLE) set.
    pub disabled: bool,
    /// DNs of the groups the entry names in `memberOf`, as written (team names keep their case).
    pub member_of: Vec<String>,
}

/// A group entry: becomes the team of the same name.
#[derive(Debug, Clone)]
pub struct DirGroup {
    pub name: String,
    /// Normalised member DNs.
    pub members: Vec<String>,
}

pub const MAX_TEXT: usize = 255;
pub const MAX_LOGIN: usize = 128;

fn utf8(field: &str, v: &[u8]) -> Result<String, String> {
    String::from_utf8(v.to_vec()).map_err(|_| format!("{field} is not valid UTF-8"))
}

/// Bounded, free of control characters, trimmed; blank is "not set".
pub fn clean_text(field: &str, v: &str, max: usize) -> Result<Option<String>, String> {
    if v.chars().count() > max {
        return Err(format!("{field} is longer than {max} characters"));
    }
    if v.chars().any(char::is_control) {
        return Err(format!("{field} contains control characters"));
    }
    let v = v.trim();
    Ok((!v.is_empty()).then(|| v.to_string()))
}

/// The same rule as logins typed into the API.
pub fn clean_login(v: &str) -> Result<String, String> {
    let v = clean_text("login", v, MAX_LOGIN)?.ok_or_else(|| "login is empty".to_string())?;
    if v.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@' | '\\'))
    {
        Ok(v)
    } else {
        Err("login must be letters, digits, . _ - @ \\ only".into())
    }
}

/// A DN in a form two spellings of the same DN share: lower case, no blanks around `,`/`=`.
pub fn normalize_dn(dn: &str) -> String {
    let mut out = String::with_capacity(dn.len());
    let mut pending_space = false;
    for c in dn.trim().chars() {
        if c == ' ' {
            pending_space = true;
            continue;
        }
        if pending_space && !(matches!(c, ',' | '=') || out.ends_with([',', '='])) {
            out.push(' ');
        }
        pending_space = false;
        out.extend(c.to_lowercase());
    }
    out
}

fn text_attr(e: &RawEntry, attr: &str, field: &str) -> Result<Option<String>, String> {
    match e.first(attr) {
        Some(v) => clean_text(field, &utf8(field, v)?, MAX_TEXT),
        None => Ok(None),
    }
}

/// Seniority from its attribute (0..=1000), else from the job title through the table.
fn seniority(
    e: &RawEntry,
    cfg: &LdapConfig,
    job_title: Option<&str>,
) -> Result<Option<i64>, String> {
    if let Some(attr) = &cfg.attrs.seniority {
        if let Some(v) = text_attr(e, attr, "seniority")? {
            let n: i64 = v
                .parse()
                .map_err(|_| format!("seniority `{v}` is not a whole number"))?;
            if !(0..=1000).contains(&n) {
                return Err("seniority must be between 0 and 1000".into());
            }
            return Ok(Some(n));
        }
    }
    Ok(job_title.and_then(|t| {
        let t = t.to_lowercase();
        cfg.title_seniority
            .iter()
            .find(|(title, _)| *title == t)
            .map(|(_, n)| *n)
    }))
}

/// Maps one user entry; `Err` names what is wrong with it.
pub fn map_user(e: &RawEntry, cfg: &LdapConfig) -> Result<DirUser, String> {
    clean_text("dn", &e.dn, 1024)?.ok_or_else(|| "the entry has no DN".to_string())?;
    let a = &cfg.attrs;
    let login_raw = e
        .first(&a.login)
        .ok_or_else(|| format!("no {} (login) attribute", a.login))?;
    let login_name = clean_login(&utf8("login", login_raw)?)?;
    let job_title = text_attr(e, &a.job_title, "job_title")?;
    let facts = Facts {
        given_name: text_attr(e, &a.given_name, "given_name")?,
        surname: text_attr(e, &a.surname, "surname")?,
        display_name: text_attr(e, &a.display_name, "display_name")?,
        email: text_attr(e, &a.email, "email")?,
        department: text_attr(e, &a.department, "department")?,
        division: text_attr(e, &a.division, "division")?,
        seniority_level: seniority(e, cfg, job_title.as_deref())?,
        job_title,
        manager_login_name: None,
    };
    let manager_dn = text_attr(e, &a.manager, "manager")?.map(|d| normalize_dn(&d));
    let external_id = match e.first(&a.external_id) {
        // objectGUID is 16 raw bytes: kept as hex.
        Some(v) if a.external_id.eq_ignore_ascii_case("objectGUID") => hex::encode(v),
        Some(v) => clean_text("external id", &utf8("external id", v)?, MAX_TEXT)?
            .unwrap_or_else(|| normalize_dn(&e.dn)),
        None => normalize_dn(&e.dn),
    };
    let disabled = match e.first("userAccountControl") {
        Some(v) => {
            let s = utf8("userAccountControl", v)?;
            let n: i64 = s
                .trim()
                .parse()
                .map_err(|_| format!("userAccountControl `{s}` is not a number"))?;
            n & 2 != 0
        }
        None => false,
    };
    let mut member_of = Vec::new();
    for v in e.all("memberOf") {
        if let Some(d) = clean_text("memberOf", &utf8("memberOf", v)?, 1024)? {
            member_of.push(d);
        }
    }
    Ok(DirUser {
        dn: e.dn.clone(),
        external_id,
        login_name,
        facts,
        manager_dn,
        disabled,
        member_of,
    })
}

/// Maps one group entry (`cn` and `member` DNs).
pub fn map_group(e: &RawEntry) -> Result<DirGroup, String> {
    let name = text_attr(e, "cn", "group name")?
        .or_else(|| team_name_from_dn(&e.dn))
        .ok_or_else(|| "the group has no cn".to_string())?;
    let mut members = Vec::new();
    for v in e.all("member") {
        if let Some(d) = clean_text("member", &utf8("member", v)?, 1024)? {
            members.push(normalize_dn(&d));
        }
    }
    Ok(DirGroup { name, members })
}

/// The value of a DN's first RDN (`cn=Ops,ou=groups,…` → `Ops`), validated as a team name.
pub fn team_name_from_dn(dn: &str) -> Option<String> {
    let first = dn.split(',').next()?;
    let (_, v) = first.split_once('=')?;
    clean_text("group name", v, MAX_TEXT).ok().flatten()
}

/// Fills in each user's manager login from the manager DN, when the manager is among the
/// users read (a manager outside the search is left unset).
pub fn resolve_managers(users: &mut [DirUser]) {
    let by_dn: HashMap<String, String> = users
        .iter()
        .map(|u| (normalize_dn(&u.dn), u.login_name.clone()))
        .collect();
    for u in users.iter_mut() {
        u.facts.manager_login_name = u.manager_dn.as_ref().and_then(|d| by_dn.get(d).cloned());
    }
}

/// Team names per user DN (normalised): from the groups when a group search ran, else from
/// each user's `memberOf`.
pub fn teams_by_user(
    users: &[DirUser],
    groups: Option<&[DirGroup]>,
) -> HashMap<String, BTreeSet<String>> {
    let mut out: HashMap<String, BTreeSet<String>> = HashMap::new();
    match groups {
        Some(groups) => {
            for g in groups {
                for m in &g.members {
                    out.entry(m.clone()).or_default().insert(g.name.clone());
                }
            }
        }
        None => {
            for u in users {
                let set = out.entry(normalize_dn(&u.dn)).or_default();
                for g in &u.member_of {
                    if let Some(n) = team_name_from_dn(g) {
                        set.insert(n);
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{LdapAttrs, LdapConfig};

    fn cfg() -> LdapConfig {
        LdapConfig {
            url: "ldaps://x".into(),
            starttls: false,
            allow_plain: false,
            bind_dn: None,
            bind_password: None,
            ca_file: None,
            user_base: "dc=x".into(),
            user_filter: "(objectClass=person)".into(),
            group_base: None,
            group_filter: "(objectClass=group)".into(),
            attrs: LdapAttrs {
                login: "sAMAccountName".into(),
                given_name: "givenName".into(),
                surname: "sn".into(),
                display_name: "displayName".into(),
                email: "mail".into(),
                department: "department".into(),
                division: "division".into(),
                job_title: "title".into(),
                manager: "manager".into(),
                seniority: None,
                external_id: "objectGUID".into(),
            },
            title_seniority: vec![("senior engineer".into(), 5)],
            max_deactivate_percent: 10,
            page_size: 100,
        }
    }

    fn entry(dn: &str, kv: &[(&str, &[u8])]) -> RawEntry {
        let mut e = RawEntry {
            dn: dn.into(),
            ..Default::default()
        };
        for (k, v) in kv {
            e.attrs
                .entry(k.to_ascii_lowercase())
                .or_default()
                .push(v.to_vec());
        }
        e
    }

    #[test]
    fn maps_ad_attributes_disabled_flag_guid_and_title_seniority() {
        let e = entry(
            "CN=Ann Lee, OU=Staff,DC=x",
            &[
                ("sAMAccountName", b"ann"),
                ("title", b"Senior Engineer"),
                ("department", b" Payments "),
                ("userAccountControl", b"514"),
                ("objectGUID", &[0xde, 0xad, 0xbe, 0xef]),
                ("memberOf", b"CN=Ops,OU=Groups,DC=x"),
                ("manager", b"CN=Bob,OU=Staff,DC=x"),
            ],
        );
        let u = map_user(&e, &cfg()).unwrap();
        assert_eq!(u.login_name, "ann");
        assert_eq!(u.facts.department.as_deref(), Some("Payments"));
        assert_eq!(u.facts.seniority_level, Some(5));
        assert!(u.disabled);
        assert_eq!(u.external_id, "deadbeef");
        assert_eq!(u.manager_dn.as_deref(), Some("cn=bob,ou=staff,dc=x"));
        let teams = teams_by_user(&[u], None);
        assert!(teams["cn=ann lee,ou=staff,dc=x"].contains("Ops"));
    }

    #[test]
    fn bad_values_are_errors_not_panics() {
        for (attr, v) in [
            ("sAMAccountName", &b"a\0b"[..]),
            ("sAMAccountName", b"has space"),
            ("sAMAccountName", &[0xff, 0xfe]),
            ("department", b"x\x07y"),
            ("userAccountControl", b"lots"),
        ] {
            let mut kv: Vec<(&str, &[u8])> = vec![(attr, v)];
            if attr != "sAMAccountName" {
                kv.push(("sAMAccountName", b"ok"));
            }
            assert!(
                map_user(&entry("cn=a,dc=x", &kv), &cfg()).is_err(),
                "{attr}"
            );
        }
        let long = "d".repeat(256);
        let kv: Vec<(&str, &[u8])> =
            vec![("sAMAccountName", b"ok"), ("department", long.as_bytes())];
        assert!(map_user(&entry("cn=a,dc=x", &kv), &cfg()).is_err());
        assert!(map_user(&entry("cn=a,dc=x", &[]), &cfg()).is_err());
    }

    #[test]
    fn managers_resolve_by_normalised_dn() {
        let mut users = vec![
            map_user(
                &entry("cn=Boss,dc=x", &[("sAMAccountName", b"boss")]),
                &cfg(),
            )
            .unwrap(),
            map_user(
                &entry(
                    "cn=Ann,dc=x",
                    &[("sAMAccountName", b"ann"), ("manager", b"CN=Boss, DC=X")],
                ),
                &cfg(),
            )
            .unwrap(),
        ];
        resolve_managers(&mut users);
        assert_eq!(users[1].facts.manager_login_name.as_deref(), Some("boss"));
        assert_eq!(users[0].facts.manager_login_name, None);
    }
}
