//! Validation of a new request against its role, and of a role's own settings.
//!
//! Why all errors at once: a request form should show every problem in one round trip, so
//! the checks collect [`FieldError`]s instead of stopping at the first. Codes are stable
//! (the web app and API clients switch on them); messages are for people.

use regex::{Regex, RegexBuilder};
use serde::Serialize;

use super::RoleFacts;

/// Longest justification accepted, in characters.
pub const MAX_JUSTIFICATION_CHARS: usize = 4000;
/// Longest ticket reference accepted, in characters (seed: `nvarchar(255)`).
pub const MAX_TICKET_CHARS: usize = 255;
/// Longest ticket pattern accepted, in characters (seed: `TicketRegex nvarchar(255)`).
pub const MAX_TICKET_REGEX_CHARS: usize = 255;
/// Longest grant a role may allow: one year, in minutes.
pub const MAX_ROLE_DURATION_MINUTES: i64 = 525_600;
/// Compiled-size cap for administrator-supplied patterns, so a pathological pattern cannot
/// exhaust the service's memory.
pub const TICKET_REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Stable error codes produced by this module.
pub mod codes {
    pub const DURATION_OUT_OF_RANGE: &str = "duration_out_of_range";
    pub const JUSTIFICATION_REQUIRED: &str = "justification_required";
    pub const JUSTIFICATION_TOO_LONG: &str = "justification_too_long";
    pub const TICKET_REQUIRED: &str = "ticket_required";
    pub const TICKET_FORMAT: &str = "ticket_format";
    pub const TICKET_TOO_LONG: &str = "ticket_too_long";
    pub const MAX_DURATION_OUT_OF_RANGE: &str = "max_duration_out_of_range";
    pub const TICKET_REGEX_INVALID: &str = "ticket_regex_invalid";
    pub const SENIORITY_OUT_OF_RANGE: &str = "seniority_out_of_range";
}

/// One problem with one input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The JSON field name the problem is about, e.g. `ticket_ref`.
    pub field: &'static str,
    /// A stable code from [`codes`].
    pub code: &'static str,
    pub message: String,
}

impl FieldError {
    pub(crate) fn new(field: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        FieldError {
            field,
            code,
            message: message.into(),
        }
    }
}

/// What the requester typed, as received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestInput<'a> {
    pub duration_minutes: i64,
    pub justification: Option<&'a str>,
    pub ticket_ref: Option<&'a str>,
}

/// Treats empty and whitespace-only text as absent: "   " is not a justification.
fn present(text: Option<&str>) -> Option<&str> {
    text.filter(|t| !t.trim().is_empty())
}

/// Compiles a ticket pattern for a full match.
///
/// The pattern is compiled on its own first: that proves its groups are balanced, so the
/// `^(?:...)$` wrapper cannot be escaped by a pattern like `a)|(b` (which, wrapped, would
/// only anchor one alternative and accept any ticket that starts with `a`).
fn compile_full_match(re: &str) -> Result<Regex, String> {
    if re.trim().is_empty() {
        return Err("the ticket pattern must not be empty".into());
    }
    if re.chars().count() > MAX_TICKET_REGEX_CHARS {
        return Err(format!(
            "the ticket pattern must be at most {MAX_TICKET_REGEX_CHARS} characters"
        ));
    }
    let build = |pattern: &str| {
        RegexBuilder::new(pattern)
            .size_limit(TICKET_REGEX_SIZE_LIMIT)
            .build()
            .map_err(|e| format!("invalid ticket pattern: {e}"))
    };
    build(re)?;
    build(&format!("^(?:{re})$"))
}

/// Checks a new request against its role; every problem is reported.
///
/// The ticket is matched as given (not trimmed): what is validated is what gets stored, so a
/// caller that wants to forgive stray spaces trims before calling. A stored pattern that no
/// longer compiles fails closed with `ticket_format` rather than accepting any ticket; a
/// blank stored pattern is treated as no pattern.
pub fn validate_request(role: &RoleFacts, input: &RequestInput) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    let max = role.max_duration_minutes;

    if !(1..=max).contains(&input.duration_minutes) {
        errors.push(FieldError::new(
            "requested_duration_minutes",
            codes::DURATION_OUT_OF_RANGE,
            format!("duration must be between 1 and {max} minutes for this role"),
        ));
    }
    errors.extend(reason_errors(role, input.justification, input.ticket_ref));
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The justification and ticket rules alone, for asks whose length is checked elsewhere
/// (an extension's `extra_minutes` against the role's extension limits).
pub fn validate_reason(
    role: &RoleFacts,
    justification: Option<&str>,
    ticket_ref: Option<&str>,
) -> Result<(), Vec<FieldError>> {
    let errors = reason_errors(role, justification, ticket_ref);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn reason_errors(
    role: &RoleFacts,
    justification: Option<&str>,
    ticket_ref: Option<&str>,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let input = RequestInput {
        duration_minutes: 0,
        justification,
        ticket_ref,
    };
    match present(input.justification) {
        None if role.requires_justification => errors.push(FieldError::new(
            "justification",
            codes::JUSTIFICATION_REQUIRED,
            "a justification is required for this role",
        )),
        Some(j) if j.chars().count() > MAX_JUSTIFICATION_CHARS => errors.push(FieldError::new(
            "justification",
            codes::JUSTIFICATION_TOO_LONG,
            format!("the justification must be at most {MAX_JUSTIFICATION_CHARS} characters"),
        )),
        _ => {}
    }

    let pattern = present(role.ticket_regex.as_deref());
    match present(input.ticket_ref) {
        None if role.requires_ticket => errors.push(FieldError::new(
            "ticket_ref",
            codes::TICKET_REQUIRED,
            match pattern {
                Some(re) => format!("a ticket reference matching {re} is required for this role"),
                None => "a ticket reference is required for this role".to_string(),
            },
        )),
        None => {}
        Some(t) if t.chars().count() > MAX_TICKET_CHARS => errors.push(FieldError::new(
            "ticket_ref",
            codes::TICKET_TOO_LONG,
            format!("the ticket reference must be at most {MAX_TICKET_CHARS} characters"),
        )),
        Some(t) if t.chars().any(char::is_control) => errors.push(FieldError::new(
            "ticket_ref",
            codes::TICKET_FORMAT,
            "the ticket reference must not contain control characters",
        )),
        Some(t) => {
            if let Some(re) = pattern {
                match compile_full_match(re) {
                    Ok(full) if full.is_match(t) => {}
                    Ok(_) => errors.push(FieldError::new(
                        "ticket_ref",
                        codes::TICKET_FORMAT,
                        format!("the ticket reference must match the pattern {re}"),
                    )),
                    Err(_) => errors.push(FieldError::new(
                        "ticket_ref",
                        codes::TICKET_FORMAT,
                        "the role's ticket pattern is invalid, so no ticket can be accepted; \
                         ask an administrator to fix the role",
                    )),
                }
            }
        }
    }
    errors
}

/// Checks a ticket pattern an administrator wants to save on a role.
pub fn validate_ticket_regex(re: &str) -> Result<(), String> {
    compile_full_match(re).map(|_| ())
}

/// Checks a role's settings before they are saved.
///
/// Every combination of `requires_ticket` and `ticket_regex` is legitimate (a pattern without
/// "required" validates a ticket only when one is given; "required" without a pattern accepts
/// any non-blank ticket), so the flag is accepted for a stable signature but not checked.
pub fn validate_role_settings(
    max_duration_minutes: i64,
    _requires_ticket: bool,
    ticket_regex: Option<&str>,
    auto_approve_min_seniority: Option<i64>,
) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    if !(1..=MAX_ROLE_DURATION_MINUTES).contains(&max_duration_minutes) {
        errors.push(FieldError::new(
            "max_duration_minutes",
            codes::MAX_DURATION_OUT_OF_RANGE,
            format!(
                "the maximum duration must be between 1 and {MAX_ROLE_DURATION_MINUTES} minutes \
                 (one year)"
            ),
        ));
    }
    if let Some(Err(message)) = ticket_regex.map(validate_ticket_regex) {
        errors.push(FieldError::new(
            "ticket_regex",
            codes::TICKET_REGEX_INVALID,
            message,
        ));
    }
    if auto_approve_min_seniority.is_some_and(|s| s < 0) {
        errors.push(FieldError::new(
            "auto_approve_min_seniority",
            codes::SENIORITY_OUT_OF_RANGE,
            "the minimum seniority for auto-approval must be 0 or more",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// A role's `chat_channel`: a KEY of lower-case letters, digits and `_` (1-32), whose
/// `JITEA_SLACK_WEBHOOK_URL_KEY` or `JITEA_TEAMS_WEBHOOK_URL_KEY` is set (`configured`).
pub fn validate_chat_channel(key: Option<&str>, configured: bool) -> Result<(), Vec<FieldError>> {
    let Some(key) = key else { return Ok(()) };
    let well_formed = (1..=32).contains(&key.len())
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    let problem = if !well_formed {
        FieldError::new(
            "chat_channel",
            "invalid_chat_channel",
            "chat_channel must be 1-32 lower-case letters, digits or _",
        )
    } else if !configured {
        let k = key.to_ascii_uppercase();
        FieldError::new(
            "chat_channel",
            "chat_channel_not_configured",
            format!("set JITEA_SLACK_WEBHOOK_URL_{k} or JITEA_TEAMS_WEBHOOK_URL_{k} on the server first"),
        )
    } else {
        return Ok(());
    };
    Err(vec![problem])
}

/// What is wrong with an outbound webhook URL (a subscription or a chat channel), if
/// anything: it must be `https://` (or `http://` when allowed), with a host, no user name or
/// password, at most 300 characters, no spaces or control characters.
pub fn webhook_url_problem(url: &str, allow_http: bool) -> Option<&'static str> {
    if url.chars().count() > 300 {
        return Some("must be at most 300 characters");
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("must not contain spaces or control characters");
    }
    let Ok(u) = url::Url::parse(url) else {
        return Some("is not a URL");
    };
    match u.scheme() {
        "https" => {}
        "http" if allow_http => {}
        "http" => {
            return Some("must use https:// (plain http:// needs JITEA_WEBHOOK_ALLOW_HTTP=true)")
        }
        _ => return Some("must be an https:// URL"),
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Some("needs a host");
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Some("must not carry a user name or password");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::codes::*;
    use super::*;
    use proptest::prelude::*;

    const JIRA: &str = "[A-Z]{2,10}-[0-9]{1,6}";

    fn role() -> RoleFacts {
        RoleFacts {
            id: 1,
            is_enabled: true,
            requires_approval: true,
            auto_approve_min_seniority: None,
            max_duration_minutes: 240,
            requires_ticket: true,
            ticket_regex: Some(JIRA.into()),
            requires_justification: true,
        }
    }

    fn relaxed() -> RoleFacts {
        RoleFacts {
            requires_ticket: false,
            ticket_regex: None,
            requires_justification: false,
            ..role()
        }
    }

    fn input<'a>(d: i64, j: Option<&'a str>, t: Option<&'a str>) -> RequestInput<'a> {
        RequestInput {
            duration_minutes: d,
            justification: j,
            ticket_ref: t,
        }
    }

    /// The codes of the errors, in order; empty when valid.
    fn codes_of(r: Result<(), Vec<FieldError>>) -> Vec<&'static str> {
        r.err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.code)
            .collect()
    }

    #[test]
    fn a_chat_channel_is_a_configured_lower_case_key() {
        assert!(validate_chat_channel(None, false).is_ok());
        assert!(validate_chat_channel(Some("payments_2"), true).is_ok());
        let code = |k: &str, ok: bool| validate_chat_channel(Some(k), ok).unwrap_err()[0].code;
        assert_eq!(code("Payments", true), "invalid_chat_channel");
        assert_eq!(code("", true), "invalid_chat_channel");
        assert_eq!(code(&"a".repeat(33), true), "invalid_chat_channel");
        assert_eq!(code("payments", false), "chat_channel_not_configured");
    }

    #[test]
    fn webhook_urls_are_https_with_a_host_and_no_credentials() {
        assert!(webhook_url_problem("https://u:p@h/x", false).is_some());
        assert!(webhook_url_problem("ftp://h/x", true).is_some());
        assert!(webhook_url_problem("https://h/x y", false).is_some());
        assert!(webhook_url_problem("http://127.0.0.1:8/x", false).is_some());
        assert!(webhook_url_problem("http://127.0.0.1:8/x", true).is_none());
        assert!(webhook_url_problem(&format!("https://h/{}", "a".repeat(300)), false).is_some());
        assert!(webhook_url_problem("https://receiver.example/hooks", false).is_none());
    }

    #[test]
    fn request_table() {
        let long_j = "x".repeat(4001);
        let max_j = "é".repeat(4000);
        let long_t = format!("AB-{}", "1".repeat(253));
        let blank_pattern = RoleFacts {
            ticket_regex: Some("  ".into()),
            ..role()
        };
        let broken_pattern = RoleFacts {
            ticket_regex: Some("a)|(b".into()),
            ..role()
        };
        let optional_ticket = RoleFacts {
            requires_ticket: false,
            ..role()
        };
        let misconfigured = RoleFacts {
            max_duration_minutes: 0,
            ..relaxed()
        };
        let cases: Vec<(&str, RoleFacts, RequestInput, Vec<&str>)> = vec![
            (
                "all good",
                role(),
                input(60, Some("incident"), Some("OPS-42")),
                vec![],
            ),
            (
                "relaxed role, nothing given",
                relaxed(),
                input(1, None, None),
                vec![],
            ),
            (
                "max duration inclusive",
                role(),
                input(240, Some("j"), Some("OPS-1")),
                vec![],
            ),
            (
                "zero duration",
                role(),
                input(0, Some("j"), Some("OPS-1")),
                vec![DURATION_OUT_OF_RANGE],
            ),
            (
                "negative duration",
                role(),
                input(-5, Some("j"), Some("OPS-1")),
                vec![DURATION_OUT_OF_RANGE],
            ),
            (
                "over max",
                role(),
                input(241, Some("j"), Some("OPS-1")),
                vec![DURATION_OUT_OF_RANGE],
            ),
            (
                "misconfigured role max 0",
                misconfigured,
                input(1, None, None),
                vec![DURATION_OUT_OF_RANGE],
            ),
            (
                "missing justification",
                role(),
                input(60, None, Some("OPS-1")),
                vec![JUSTIFICATION_REQUIRED],
            ),
            (
                "blank justification",
                role(),
                input(60, Some(" \t\n "), Some("OPS-1")),
                vec![JUSTIFICATION_REQUIRED],
            ),
            (
                "justification too long",
                role(),
                input(60, Some(&long_j), Some("OPS-1")),
                vec![JUSTIFICATION_TOO_LONG],
            ),
            (
                "4000 multibyte chars ok",
                role(),
                input(60, Some(&max_j), Some("OPS-1")),
                vec![],
            ),
            (
                "too long even if optional",
                relaxed(),
                input(60, Some(&long_j), None),
                vec![JUSTIFICATION_TOO_LONG],
            ),
            (
                "missing ticket",
                role(),
                input(60, Some("j"), None),
                vec![TICKET_REQUIRED],
            ),
            (
                "blank ticket",
                role(),
                input(60, Some("j"), Some("  ")),
                vec![TICKET_REQUIRED],
            ),
            (
                "ticket wrong format",
                role(),
                input(60, Some("j"), Some("ops-1")),
                vec![TICKET_FORMAT],
            ),
            (
                "ticket prefix only",
                role(),
                input(60, Some("j"), Some("OPS-1 and more")),
                vec![TICKET_FORMAT],
            ),
            (
                "ticket suffix only",
                role(),
                input(60, Some("j"), Some("see OPS-1")),
                vec![TICKET_FORMAT],
            ),
            (
                "ticket padded is not trimmed",
                role(),
                input(60, Some("j"), Some(" OPS-1")),
                vec![TICKET_FORMAT],
            ),
            (
                "ticket with newline",
                role(),
                input(60, Some("j"), Some("OPS-1\n")),
                vec![TICKET_FORMAT],
            ),
            (
                "ticket with NUL, no pattern",
                relaxed(),
                input(60, None, Some("A\0B")),
                vec![TICKET_FORMAT],
            ),
            (
                "ticket too long",
                role(),
                input(60, Some("j"), Some(&long_t)),
                vec![TICKET_TOO_LONG],
            ),
            (
                "optional ticket given is still checked",
                optional_ticket.clone(),
                input(60, Some("j"), Some("nope")),
                vec![TICKET_FORMAT],
            ),
            (
                "optional ticket absent",
                optional_ticket,
                input(60, Some("j"), None),
                vec![],
            ),
            (
                "required ticket, no pattern, anything goes",
                RoleFacts {
                    ticket_regex: None,
                    ..role()
                },
                input(60, Some("j"), Some("whatever 1")),
                vec![],
            ),
            (
                "blank stored pattern means no pattern",
                blank_pattern,
                input(60, Some("j"), Some("x")),
                vec![],
            ),
            (
                "broken stored pattern fails closed",
                broken_pattern.clone(),
                input(60, Some("j"), Some("a")),
                vec![TICKET_FORMAT],
            ),
            (
                "broken stored pattern, escape attempt",
                broken_pattern,
                input(60, Some("j"), Some("anything")),
                vec![TICKET_FORMAT],
            ),
            (
                "everything wrong at once",
                role(),
                input(0, None, None),
                vec![
                    DURATION_OUT_OF_RANGE,
                    JUSTIFICATION_REQUIRED,
                    TICKET_REQUIRED,
                ],
            ),
        ];
        for (name, r, i, expected) in cases {
            assert_eq!(codes_of(validate_request(&r, &i)), expected, "{name}");
        }
    }

    #[test]
    fn messages_name_the_limits() {
        let errs = validate_request(&role(), &input(999, None, Some("x"))).unwrap_err();
        assert_eq!(errs[0].field, "requested_duration_minutes");
        assert!(errs[0].message.contains("240"), "{}", errs[0].message);
        assert_eq!(errs[2].field, "ticket_ref");
        assert!(errs[2].message.contains(JIRA), "{}", errs[2].message);
        let json = serde_json::to_value(&errs[1]).unwrap();
        assert_eq!(json["field"], "justification");
        assert_eq!(json["code"], "justification_required");
    }

    #[test]
    fn ticket_regex_table() {
        let long = "a".repeat(256);
        let cases: Vec<(&str, bool)> = vec![
            (JIRA, true),
            ("INC[0-9]+", true),
            ("(?i)chg-\\d+", true),
            ("a|b", true),
            ("", false),
            ("   ", false),
            ("[", false),
            ("a)|(b", false), // would escape the ^(?:...)$ wrapper
            ("(", false),
            ("\\", false),
            (&long, false),
            ("\\w{1000}\\w{1000}\\w{1000}", false), // over the 1 MiB compiled-size limit
        ];
        for (re, ok) in cases {
            assert_eq!(validate_ticket_regex(re).is_ok(), ok, "{re:?}");
        }
    }

    #[test]
    fn role_settings_table() {
        // (max duration, requires ticket, pattern, min seniority, expected codes)
        type Case<'a> = (i64, bool, Option<&'a str>, Option<i64>, Vec<&'a str>);
        let cases: Vec<Case> = vec![
            (60, false, None, None, vec![]),
            (1, true, Some(JIRA), Some(0), vec![]),
            (525_600, true, None, Some(7), vec![]),
            (525_601, false, None, None, vec![MAX_DURATION_OUT_OF_RANGE]),
            (0, false, None, None, vec![MAX_DURATION_OUT_OF_RANGE]),
            (-1, false, None, None, vec![MAX_DURATION_OUT_OF_RANGE]),
            (60, false, Some(JIRA), None, vec![]), // pattern without "required" is fine
            (60, true, Some("["), None, vec![TICKET_REGEX_INVALID]),
            (60, true, Some(""), None, vec![TICKET_REGEX_INVALID]),
            (60, false, None, Some(-1), vec![SENIORITY_OUT_OF_RANGE]),
            (
                0,
                true,
                Some("("),
                Some(-3),
                vec![
                    MAX_DURATION_OUT_OF_RANGE,
                    TICKET_REGEX_INVALID,
                    SENIORITY_OUT_OF_RANGE,
                ],
            ),
        ];
        for (max, req, re, sen, expected) in cases {
            assert_eq!(
                codes_of(validate_role_settings(max, req, re, sen)),
                expected,
                "{max} {req} {re:?} {sen:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn any_duration_in_range_passes(
            max in 1i64..=525_600, frac in 0.0f64..=1.0, j in "[a-z]{1,20}"
        ) {
            let d = (1 + ((max - 1) as f64 * frac) as i64).clamp(1, max);
            let r = RoleFacts { max_duration_minutes: max, ..role() };
            prop_assert_eq!(validate_request(&r, &input(d, Some(&j), Some("OPS-7"))), Ok(()));
        }

        #[test]
        fn any_duration_out_of_range_fails(
            max in 1i64..=525_600,
            d in prop_oneof![i64::MIN..=0, 525_601i64..=i64::MAX],
        ) {
            let r = RoleFacts { max_duration_minutes: max, ..relaxed() };
            let under = validate_request(&r, &input(d, None, None));
            prop_assert_eq!(codes_of(under), vec![DURATION_OUT_OF_RANGE]);
            let over = max.saturating_add(1 + d.unsigned_abs() as i64 % 1000);
            let above = validate_request(&r, &input(over, None, None));
            prop_assert_eq!(codes_of(above), vec![DURATION_OUT_OF_RANGE]);
        }

        #[test]
        fn matching_tickets_pass_and_prefix_matches_fail(
            ticket in "[A-Z]{2,10}-[0-9]{1,6}",
            tail in "[a-z ./#]{1,10}",
            head in "[a-z ./#]{1,10}",
        ) {
            let ok = input(30, Some("why"), Some(&ticket));
            prop_assert_eq!(validate_request(&role(), &ok), Ok(()));
            let longer = format!("{ticket}{tail}");
            let got = validate_request(&role(), &input(30, Some("why"), Some(&longer)));
            prop_assert_eq!(codes_of(got), vec![TICKET_FORMAT]);
            let earlier = format!("{head}{ticket}");
            let got = validate_request(&role(), &input(30, Some("why"), Some(&earlier)));
            prop_assert_eq!(codes_of(got), vec![TICKET_FORMAT]);
        }

        #[test]
        fn at_most_one_error_per_field(
            d in -10i64..300,
            j in proptest::option::of(".{0,10}"),
            t in proptest::option::of(".{0,10}"),
            requires_ticket in any::<bool>(),
            requires_justification in any::<bool>(),
        ) {
            let r = RoleFacts { requires_ticket, requires_justification, ..role() };
            if let Err(errs) = validate_request(&r, &input(d, j.as_deref(), t.as_deref())) {
                let mut fields: Vec<_> = errs.iter().map(|e| e.field).collect();
                let n = fields.len();
                fields.dedup();
                prop_assert_eq!(fields.len(), n);
            }
        }

        #[test]
        fn validate_ticket_regex_never_panics(re in ".{0,40}") {
            let _ = validate_ticket_regex(&re);
        }

        #[test]
        fn an_accepted_pattern_is_enforced_in_full(lit in "[a-z]{1,8}", extra in "[a-z]{1,4}") {
            prop_assert!(validate_ticket_regex(&lit).is_ok());
            let r = RoleFacts { ticket_regex: Some(lit.clone()), ..relaxed() };
            prop_assert_eq!(validate_request(&r, &input(5, None, Some(&lit))), Ok(()));
            let longer = format!("{lit}{extra}");
            let got = validate_request(&r, &input(5, None, Some(&longer)));
            prop_assert_eq!(codes_of(got), vec![TICKET_FORMAT]);
        }
    }
}
