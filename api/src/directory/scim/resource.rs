//! Users and groups as SCIM documents, and SCIM documents read back into what JITEA stores.
//! Values are validated like every other source of people (`directory::mapping`): at most
//! 255 characters, no control characters, trimmed, blank meaning "not set"; logins as
//! everywhere in JITEA.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};

use super::filter::{get_ci, parse_attr_path, AttrPath};
use super::{ScimError, ENTERPRISE_SCHEMA, GROUP_SCHEMA, JITEA_SCHEMA, USER_SCHEMA};
use crate::directory::mapping::{clean_login, clean_text, MAX_TEXT};

/// Seniority range JITEA accepts (the API's is 0..=1000; SCIM's starts at 1).
pub const SENIORITY: std::ops::RangeInclusive<i64> = 1..=1000;

/// A user as the store reads it for SCIM.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimUser {
    pub id: i64,
    pub login_name: String,
    pub external_id: Option<String>,
    pub source: String,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub job_title: Option<String>,
    pub department: Option<String>,
    pub division: Option<String>,
    pub employee_number: Option<String>,
    pub seniority_level: Option<i64>,
    pub manager_login_name: Option<String>,
    /// The manager's id, when the manager is a known user.
    pub manager: Option<i64>,
    pub is_active: bool,
    pub is_admin: bool,
    pub is_auditor: bool,
    pub created_utc: DateTime<Utc>,
    pub updated_utc: DateTime<Utc>,
}

/// A team as the store reads it for SCIM, with the ids of its active members.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimGroup {
    pub id: i64,
    pub name: String,
    pub external_id: Option<String>,
    pub source: String,
    pub created_utc: DateTime<Utc>,
    pub updated_utc: DateTime<Utc>,
    pub members: Vec<i64>,
}

/// The weak ETag of a resource last changed at `updated` (RFC 7644 §3.14).
pub fn version(updated: DateTime<Utc>) -> String {
    format!("W/\"{}\"", updated.timestamp_micros())
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn put_opt(m: &mut Map<String, Value>, k: &str, v: &Option<String>) {
    if let Some(v) = v {
        m.insert(k.to_string(), json!(v));
    }
}

/// The user's SCIM document; `base` is the absolute URL of `/scim/v2`.
pub fn user_doc(u: &ScimUser, base: &str) -> Value {
    let mut m = Map::new();
    let mut schemas = vec![json!(USER_SCHEMA)];
    m.insert("id".into(), json!(u.id.to_string()));
    put_opt(&mut m, "externalId", &u.external_id);
    m.insert("userName".into(), json!(u.login_name));
    let mut name = Map::new();
    put_opt(&mut name, "givenName", &u.given_name);
    put_opt(&mut name, "familyName", &u.surname);
    if !name.is_empty() {
        m.insert("name".into(), Value::Object(name));
    }
    put_opt(&mut m, "displayName", &u.display_name);
    put_opt(&mut m, "title", &u.job_title);
    m.insert("active".into(), json!(u.is_active));
    if let Some(e) = &u.email {
        m.insert("emails".into(), json!([{ "value": e }]));
    }
    let mut ent = Map::new();
    put_opt(&mut ent, "employeeNumber", &u.employee_number);
    put_opt(&mut ent, "division", &u.division);
    put_opt(&mut ent, "department", &u.department);
    if let Some(mid) = u.manager {
        ent.insert(
            "manager".into(),
            json!({"value": mid.to_string(), "$ref": format!("{base}/Users/{mid}")}),
        );
    }
    if !ent.is_empty() {
        schemas.push(json!(ENTERPRISE_SCHEMA));
        m.insert(ENTERPRISE_SCHEMA.into(), Value::Object(ent));
    }
    if let Some(s) = u.seniority_level {
        schemas.push(json!(JITEA_SCHEMA));
        m.insert(JITEA_SCHEMA.into(), json!({"seniorityLevel": s}));
    }
    m.insert("schemas".into(), json!(schemas));
    m.insert(
        "meta".into(),
        json!({
            "resourceType": "User",
            "created": time(u.created_utc),
            "lastModified": time(u.updated_utc),
            "location": format!("{base}/Users/{}", u.id),
            "version": version(u.updated_utc),
        }),
    );
    Value::Object(m)
}

/// The group's SCIM document.
pub fn group_doc(g: &ScimGroup, base: &str) -> Value {
    let mut m = Map::new();
    m.insert("schemas".into(), json!([GROUP_SCHEMA]));
    m.insert("id".into(), json!(g.id.to_string()));
    put_opt(&mut m, "externalId", &g.external_id);
    m.insert("displayName".into(), json!(g.name));
    if !g.members.is_empty() {
        let members: Vec<Value> = g
            .members
            .iter()
            .map(|id| {
                json!({
                    "value": id.to_string(),
                    "$ref": format!("{base}/Users/{id}"),
                    "type": "User",
                })
            })
            .collect();
        m.insert("members".into(), json!(members));
    }
    m.insert(
        "meta".into(),
        json!({
            "resourceType": "Group",
            "created": time(g.created_utc),
            "lastModified": time(g.updated_utc),
            "location": format!("{base}/Groups/{}", g.id),
            "version": version(g.updated_utc),
        }),
    );
    Value::Object(m)
}

/// What a User document asks JITEA to store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserInput {
    pub login_name: String,
    pub external_id: Option<String>,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub job_title: Option<String>,
    pub department: Option<String>,
    pub division: Option<String>,
    pub employee_number: Option<String>,
    /// The manager's SCIM id (resolved to a login by the workflow).
    pub manager_id: Option<i64>,
    pub seniority_level: Option<i64>,
    /// None when the document does not say (a new user is active).
    pub active: Option<bool>,
}

/// What a Group document asks JITEA to store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupInput {
    pub name: String,
    pub external_id: Option<String>,
    /// Member user ids, without duplicates, in the order given.
    pub members: Vec<i64>,
}

fn text(obj: Option<&Value>, key: &str, field: &str) -> Result<Option<String>, ScimError> {
    match obj.and_then(|o| get_ci(o, key)) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => clean_text(field, s, MAX_TEXT).map_err(ScimError::invalid_value),
        Some(_) => Err(ScimError::invalid_value(format!(
            "{field} must be a string"
        ))),
    }
}

fn id_value(v: &Value, field: &str) -> Result<i64, ScimError> {
    let s = match v {
        Value::String(s) => s.trim(),
        _ => {
            return Err(ScimError::invalid_value(format!(
                "{field} must be a string id"
            )))
        }
    };
    s.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ScimError::invalid_value(format!("{field} `{s}` is not a known id")))
}

fn require_schema(doc: &Value, urn: &str) -> Result<(), ScimError> {
    let ok = get_ci(doc, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| {
            s.iter()
                .any(|x| x.as_str().is_some_and(|x| x.eq_ignore_ascii_case(urn)))
        });
    if ok {
        Ok(())
    } else {
        Err(ScimError::invalid_syntax(format!(
            "`schemas` must contain {urn}"
        )))
    }
}

fn primary_email(doc: &Value) -> Result<Option<String>, ScimError> {
    let items = match get_ci(doc, "emails") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(ScimError::invalid_value("emails must be an array")),
    };
    let chosen = items
        .iter()
        .find(|e| get_ci(e, "primary") == Some(&Value::Bool(true)))
        .or_else(|| items.first());
    match chosen {
        None => Ok(None),
        Some(e @ Value::Object(_)) => text(Some(e), "value", "emails.value"),
        Some(_) => Err(ScimError::invalid_value("each email must be an object")),
    }
}

fn manager_id(ent: Option<&Value>) -> Result<Option<i64>, ScimError> {
    match ent.and_then(|e| get_ci(e, "manager")) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(v @ Value::String(_)) => id_value(v, "manager").map(Some),
        Some(m @ Value::Object(_)) => match get_ci(m, "value") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(v) => id_value(v, "manager.value").map(Some),
        },
        Some(_) => Err(ScimError::invalid_value("manager must be an object")),
    }
}

fn seniority(ext: Option<&Value>) -> Result<Option<i64>, ScimError> {
    match ext.and_then(|e| get_ci(e, "seniorityLevel")) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            // An integral number written as a float (3.0) is that integer.
            let v = n.as_i64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
                    .map(|f| f as i64)
            });
            match v {
                Some(v) if SENIORITY.contains(&v) => Ok(Some(v)),
                _ => Err(ScimError::invalid_value(format!(
                    "seniorityLevel must be a whole number from {} to {}",
                    SENIORITY.start(),
                    SENIORITY.end()
                ))),
            }
        }
        Some(_) => Err(ScimError::invalid_value("seniorityLevel must be a number")),
    }
}

/// Reads a User document (a POST or PUT body, or a patched document).
pub fn read_user(doc: &Value) -> Result<UserInput, ScimError> {
    if !doc.is_object() {
        return Err(ScimError::invalid_syntax("the body must be a JSON object"));
    }
    require_schema(doc, USER_SCHEMA)?;
    let login = match get_ci(doc, "userName") {
        Some(Value::String(s)) => clean_login(s).map_err(|e| {
            ScimError::invalid_value(format!(
                "userName: {e} (1-128 characters of letters, digits, . _ - @ \\)"
            ))
        })?,
        None | Some(Value::Null) => return Err(ScimError::invalid_value("userName is required")),
        Some(_) => return Err(ScimError::invalid_value("userName must be a string")),
    };
    let name = get_ci(doc, "name");
    if name.is_some_and(|n| !n.is_object() && !n.is_null()) {
        return Err(ScimError::invalid_value("name must be an object"));
    }
    let ent = get_ci(doc, ENTERPRISE_SCHEMA);
    let jitea = get_ci(doc, JITEA_SCHEMA);
    for (ext, urn) in [(ent, ENTERPRISE_SCHEMA), (jitea, JITEA_SCHEMA)] {
        if ext.is_some_and(|e| !e.is_object() && !e.is_null()) {
            return Err(ScimError::invalid_value(format!("{urn} must be an object")));
        }
    }
    let active = match get_ci(doc, "active") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        // Entra ID sends `"active": "False"` in PATCH operations.
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Some(true),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Some(false),
        Some(_) => return Err(ScimError::invalid_value("active must be true or false")),
    };
    Ok(UserInput {
        login_name: login,
        external_id: text(Some(doc), "externalId", "externalId")?,
        given_name: text(name, "givenName", "name.givenName")?,
        surname: text(name, "familyName", "name.familyName")?,
        display_name: text(Some(doc), "displayName", "displayName")?,
        email: primary_email(doc)?,
        job_title: text(Some(doc), "title", "title")?,
        department: text(ent, "department", "department")?,
        division: text(ent, "division", "division")?,
        employee_number: text(ent, "employeeNumber", "employeeNumber")?,
        manager_id: manager_id(ent)?,
        seniority_level: seniority(jitea)?,
        active,
    })
}

/// Most members one group document may list.
pub const MAX_MEMBERS: usize = 10_000;

/// Reads a Group document.
pub fn read_group(doc: &Value) -> Result<GroupInput, ScimError> {
    if !doc.is_object() {
        return Err(ScimError::invalid_syntax("the body must be a JSON object"));
    }
    require_schema(doc, GROUP_SCHEMA)?;
    let name = match get_ci(doc, "displayName") {
        Some(Value::String(s)) => clean_text("displayName", s, MAX_TEXT)
            .map_err(ScimError::invalid_value)?
            .ok_or_else(|| ScimError::invalid_value("displayName must not be blank"))?,
        None | Some(Value::Null) => {
            return Err(ScimError::invalid_value("displayName is required"))
        }
        Some(_) => return Err(ScimError::invalid_value("displayName must be a string")),
    };
    let mut members = Vec::new();
    match get_ci(doc, "members") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            if items.len() > MAX_MEMBERS {
                return Err(ScimError::invalid_value(format!(
                    "a group lists at most {MAX_MEMBERS} members"
                )));
            }
            for it in items {
                if !it.is_object() {
                    return Err(ScimError::invalid_value("each member must be an object"));
                }
                if let Some(t) = get_ci(it, "type") {
                    if !t.as_str().is_some_and(|t| t.eq_ignore_ascii_case("User")) {
                        return Err(ScimError::invalid_value(
                            "members are users: a group cannot contain a group",
                        ));
                    }
                }
                let id = id_value(get_ci(it, "value").unwrap_or(&Value::Null), "members.value")?;
                if !members.contains(&id) {
                    members.push(id);
                }
            }
        }
        Some(_) => return Err(ScimError::invalid_value("members must be an array")),
    }
    Ok(GroupInput {
        name,
        external_id: text(Some(doc), "externalId", "externalId")?,
        members,
    })
}

/// Parses `attributes` / `excludedAttributes` (comma-separated attribute paths).
pub fn attribute_list(s: &str) -> Result<Vec<AttrPath>, ScimError> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| parse_attr_path(p).map_err(ScimError::invalid_value))
        .collect()
}

fn ci_key(m: &Map<String, Value>, k: &str) -> Option<String> {
    m.keys().find(|x| x.eq_ignore_ascii_case(k)).cloned()
}

/// Where a path's attribute lives: the document (`None`) or an extension object's key.
fn scope_key(doc: &Map<String, Value>, p: &AttrPath, core: &str) -> Option<Option<String>> {
    match &p.urn {
        Some(u) if !u.eq_ignore_ascii_case(core) => ci_key(doc, u).map(Some),
        _ => Some(None),
    }
}

/// Applies `attributes` (only these, plus `id`, `schemas` and `meta`) or, failing that,
/// `excludedAttributes` (all but these) to a document (RFC 7644 §3.9).
pub fn project(doc: Value, attributes: &[AttrPath], excluded: &[AttrPath], core: &str) -> Value {
    match doc {
        Value::Object(src) if !attributes.is_empty() => {
            Value::Object(select(&src, attributes, core))
        }
        Value::Object(src) => Value::Object(exclude(src, excluded, core)),
        other => other,
    }
}

fn select(src: &Map<String, Value>, attributes: &[AttrPath], core: &str) -> Map<String, Value> {
    let mut out = Map::new();
    for k in ["schemas", "id", "meta"] {
        if let Some(v) = src.get(k) {
            out.insert(k.to_string(), v.clone());
        }
    }
    for p in attributes {
        let Some(scope) = scope_key(src, p, core) else {
            continue;
        };
        let container = match &scope {
            Some(k) => match src.get(k) {
                Some(Value::Object(m)) => m,
                _ => continue,
            },
            None => src,
        };
        let Some(key) = ci_key(container, &p.name) else {
            continue;
        };
        let mut value = container[&key].clone();
        if let (Some(sub), Value::Object(inner)) = (&p.sub, &value) {
            let mut keep = Map::new();
            if let Some(sk) = ci_key(inner, sub) {
                keep.insert(sk.clone(), inner[&sk].clone());
            }
            value = Value::Object(keep);
        }
        let target = match &scope {
            Some(k) => match out
                .entry(k.clone())
                .or_insert_with(|| Value::Object(Map::new()))
            {
                Value::Object(m) => m,
                _ => continue,
            },
            None => &mut out,
        };
        target.insert(key, value);
    }
    out
}

fn exclude(mut out: Map<String, Value>, excluded: &[AttrPath], core: &str) -> Map<String, Value> {
    for p in excluded {
        let Some(scope) = scope_key(&out, p, core) else {
            continue;
        };
        let container = match &scope {
            Some(k) => match out.get_mut(k) {
                Some(Value::Object(m)) => m,
                _ => continue,
            },
            None => &mut out,
        };
        let Some(key) = ci_key(container, &p.name) else {
            continue;
        };
        if scope.is_none() && ["id", "schemas", "meta"].contains(&key.as_str()) {
            continue;
        }
        match (&p.sub, container.get_mut(&key)) {
            (Some(sub), Some(Value::Object(inner))) => {
                if let Some(sk) = ci_key(inner, sub) {
                    inner.remove(&sk);
                }
            }
            (Some(_), _) => {}
            (None, _) => {
                container.remove(&key);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> ScimUser {
        let t = DateTime::parse_from_rfc3339("2026-01-02T03:04:05.123456Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        ScimUser {
            id: 7,
            login_name: "alice".into(),
            external_id: Some("ext-7".into()),
            source: "scim".into(),
            given_name: Some("Alice".into()),
            surname: Some("Smith".into()),
            display_name: Some("Alice Smith".into()),
            email: Some("alice@example.com".into()),
            job_title: Some("SRE".into()),
            department: Some("Ops".into()),
            division: None,
            employee_number: Some("E7".into()),
            seniority_level: Some(4),
            manager_login_name: Some("bob".into()),
            manager: Some(3),
            is_active: true,
            is_admin: false,
            is_auditor: false,
            created_utc: t,
            updated_utc: t,
        }
    }

    #[test]
    fn a_user_document_reads_back_as_the_same_facts() {
        let doc = user_doc(&user(), "https://jitea.example/scim/v2");
        assert_eq!(doc["meta"]["version"], json!("W/\"1767323045123456\""));
        assert_eq!(
            doc["meta"]["location"],
            json!("https://jitea.example/scim/v2/Users/7")
        );
        assert_eq!(
            doc[ENTERPRISE_SCHEMA]["manager"]["$ref"],
            json!("https://jitea.example/scim/v2/Users/3")
        );
        let back = read_user(&doc).unwrap();
        assert_eq!(back.login_name, "alice");
        assert_eq!(back.manager_id, Some(3));
        assert_eq!(back.seniority_level, Some(4));
        assert_eq!(back.email.as_deref(), Some("alice@example.com"));
        assert_eq!(back.employee_number.as_deref(), Some("E7"));
        assert_eq!(back.active, Some(true));
    }

    #[test]
    fn bad_values_are_invalid_value() {
        let base = json!({"schemas": [USER_SCHEMA], "userName": "bob"});
        let with = |k: &str, v: Value| {
            let mut d = base.clone();
            d[k] = v;
            read_user(&d).map(|_| ()).unwrap_err().scim_type
        };
        assert_eq!(with("userName", json!("bad name")), Some("invalidValue"));
        assert_eq!(with("userName", json!(5)), Some("invalidValue"));
        assert_eq!(with("displayName", json!("a\u{0}b")), Some("invalidValue"));
        assert_eq!(
            with("displayName", json!("x".repeat(256))),
            Some("invalidValue")
        );
        assert_eq!(with("active", json!("no")), Some("invalidValue"));
        let mut d = base.clone();
        d["active"] = json!("False");
        assert_eq!(read_user(&d).unwrap().active, Some(false));
        assert_eq!(
            with(JITEA_SCHEMA, json!({"seniorityLevel": 0})),
            Some("invalidValue")
        );
        assert_eq!(
            with(JITEA_SCHEMA, json!({"seniorityLevel": 1001})),
            Some("invalidValue")
        );
        assert_eq!(
            with(JITEA_SCHEMA, json!({"seniorityLevel": "3"})),
            Some("invalidValue")
        );
        assert_eq!(
            with(ENTERPRISE_SCHEMA, json!({"manager": {"value": "x"}})),
            Some("invalidValue")
        );
        assert_eq!(
            with("schemas", json!([GROUP_SCHEMA])),
            Some("invalidSyntax")
        );
        let mut d = base.clone();
        d[JITEA_SCHEMA] = json!({"seniorityLevel": 3.0});
        assert_eq!(read_user(&d).unwrap().seniority_level, Some(3));
    }

    #[test]
    fn groups_hold_users_only() {
        let g = |m: Value| {
            read_group(&json!({"schemas": [GROUP_SCHEMA], "displayName": "ops", "members": m}))
        };
        assert_eq!(
            g(json!([{"value": "2"}, {"value": "2"}, {"value": "5", "type": "User"}]))
                .unwrap()
                .members,
            vec![2, 5]
        );
        assert_eq!(
            g(json!([{"value": "2", "type": "Group"}]))
                .unwrap_err()
                .scim_type,
            Some("invalidValue")
        );
        assert_eq!(
            g(json!([{"value": "abc"}])).unwrap_err().scim_type,
            Some("invalidValue")
        );
        assert_eq!(g(json!({})).unwrap_err().scim_type, Some("invalidValue"));
    }

    #[test]
    fn projection_keeps_or_drops_attributes() {
        let doc = user_doc(&user(), "b");
        let only = project(
            doc.clone(),
            &attribute_list("userName,name.givenName").unwrap(),
            &[],
            USER_SCHEMA,
        );
        assert_eq!(only["userName"], json!("alice"));
        assert_eq!(only["name"], json!({"givenName": "Alice"}));
        assert!(only.get("displayName").is_none());
        assert_eq!(only["id"], json!("7"));
        let ext = format!("{ENTERPRISE_SCHEMA}:department");
        let only = project(
            doc.clone(),
            &attribute_list(&ext).unwrap(),
            &[],
            USER_SCHEMA,
        );
        assert_eq!(only[ENTERPRISE_SCHEMA], json!({"department": "Ops"}));
        let without = project(
            doc,
            &[],
            &attribute_list("displayName,id,emails").unwrap(),
            USER_SCHEMA,
        );
        assert!(without.get("displayName").is_none() && without.get("emails").is_none());
        assert_eq!(without["id"], json!("7"));
    }
}
