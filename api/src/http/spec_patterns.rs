//! The patterns and lengths the OpenAPI document states for text fields say exactly what the
//! server's checks in `support.rs` accept: for any string, "matches the documented pattern and
//! length" and "the server takes it" agree. Without this, schemathesis finds the difference
//! one random string at a time.

use proptest::prelude::*;
use regex::Regex;
use serde_json::Value;

use super::support::{login_name, name, opt_text};

/// The served document as JSON.
fn document() -> Value {
    serde_json::to_value(super::app::openapi_document()).unwrap()
}

/// (pattern, max_length) of a body schema's property.
fn rule(doc: &Value, schema: &str, field: &str) -> (Regex, Option<usize>) {
    let p = &doc["components"]["schemas"][schema]["properties"][field];
    let pattern = p["pattern"]
        .as_str()
        .unwrap_or_else(|| panic!("{schema}.{field} has no pattern: {p}"));
    (
        Regex::new(pattern).unwrap_or_else(|e| panic!("{schema}.{field}: {e}")),
        p["maxLength"].as_u64().map(|n| n as usize),
    )
}

fn allowed(rule: &(Regex, Option<usize>), s: &str) -> bool {
    rule.0.is_match(s) && rule.1.is_none_or(|max| s.chars().count() <= max)
}

/// Characters where the rules differ: letters, the login punctuation, ASCII and Unicode
/// whitespace, control characters (C0, DEL, C1 such as U+0085), a BOM, non-ASCII letters.
const ALPHABET: &[char] = &[
    'a', 'Z', '7', '.', '_', '-', '@', '\\', ' ', '\t', '\n', '\r', '\u{0b}', '\u{0c}', '\0',
    '\u{1f}', '\u{7f}', '\u{85}', '\u{a0}', '\u{2003}', '\u{3000}', '\u{feff}', 'é', '/',
];

fn text() -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(ALPHABET), 0..6)
        .prop_map(|v| v.into_iter().collect())
}

proptest! {
    #[test]
    fn documented_text_rules_match_the_server(s in text()) {
        let doc = document();
        let login = rule(&doc, "UserCreate", "login_name");
        prop_assert_eq!(allowed(&login, &s), login_name(&s).is_ok(), "login_name {:?}", s);

        // Blank means "no manager" (http/users.rs), anything else must be a login name.
        let manager = rule(&doc, "UserCreate", "manager_login_name");
        let server = s.trim().is_empty() || login_name(&s).is_ok();
        prop_assert_eq!(allowed(&manager, &s), server, "manager_login_name {:?}", s);

        let team_name = rule(&doc, "TeamCreate", "team_name");
        prop_assert_eq!(allowed(&team_name, &s), name("team_name", &s, 255).is_ok(), "team_name {:?}", s);

        let description = rule(&doc, "TeamCreate", "description");
        prop_assert_eq!(
            allowed(&description, &s),
            opt_text("description", Some(&s), 4000, true).is_ok(),
            "description {:?}", s
        );

        let department = rule(&doc, "TeamCreate", "department");
        prop_assert_eq!(
            allowed(&department, &s),
            opt_text("department", Some(&s), 255, false).is_ok(),
            "department {:?}", s
        );
    }
}

#[test]
fn documented_lengths_match_the_server() {
    let doc = document();
    for (schema, field, max, multiline) in [
        ("TeamCreate", "team_name", 255, false),
        ("TeamCreate", "description", 4000, true),
        ("UserCreate", "email", 255, false),
        ("DbRoleCreate", "db_role_name", 128, false),
        ("DbRoleCreate", "role_type", 50, false),
    ] {
        let r = rule(&doc, schema, field);
        assert_eq!(r.1, Some(max), "{schema}.{field} maxLength");
        let fits = "x".repeat(max);
        let over = format!("{fits} ");
        assert!(allowed(&r, &fits) && opt_text(field, Some(&fits), max, multiline).is_ok());
        assert!(!allowed(&r, &over) && opt_text(field, Some(&over), max, multiline).is_err());
    }
    let login = rule(&doc, "UserCreate", "login_name");
    let longest = "a".repeat(128);
    assert!(allowed(&login, &longest) && login_name(&longest).is_ok());
    let too_long = "a".repeat(129);
    assert!(!allowed(&login, &too_long) && login_name(&too_long).is_err());
}
