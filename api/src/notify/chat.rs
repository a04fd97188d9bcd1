//! Chat message bodies: a Slack incoming-webhook body (Block Kit) and a Teams incoming-webhook
//! (or Workflows "when a webhook request is received") body carrying an Adaptive Card 1.4.
//! Pure functions over the same [`Facts`] the email templates use; nothing here sends.
//!
//! Chat messages go to a channel, so the wording is in the third person. Each says who wants
//! what, for how long, why, the ticket if any, and links into the app; decisions are made
//! there (no approve button: a link button only).
//!
//! User text (names, role, justification, ticket, reason) can never ping or inject a link:
//! - Slack: every Block Kit text that carries it is `plain_text` (never parsed for mentions or
//!   links, `emoji: false`); the top-level `text` fallback is mrkdwn, so there `&`, `<` and `>`
//!   are escaped as Slack documents, and `link_names` is never set, so `@channel` stays text.
//! - Teams: TextBlock text and FactSet titles and values are a Markdown subset (bold, italic,
//!   lists, `[text](url)` links; no HTML), so Markdown punctuation is backslash-escaped and line
//!   breaks become spaces.
//!
//! Long text is cut with "…" to the Block Kit limits (header 150, section text 3000, field 2000,
//! button 75 characters) and to sizes that keep a Teams card well under its 28 KB.

use serde_json::{json, Value};

use super::email::{duration, Facts};

/// Slack: header text (plain_text) at most.
pub const SLACK_HEADER_MAX: usize = 150;
/// Slack: a section's text at most.
pub const SLACK_SECTION_TEXT_MAX: usize = 3000;
/// Slack: one section field's text at most.
pub const SLACK_FIELD_MAX: usize = 2000;
/// Slack: fields in one section at most.
pub const SLACK_FIELDS_MAX: usize = 10;
/// Slack: a button's text at most.
pub const SLACK_BUTTON_TEXT_MAX: usize = 75;
/// Slack: a context element's text (a text object: 3000 at most); kept short.
const SLACK_CONTEXT_MAX: usize = 300;
/// The justification and reason in a message (both formats), before escaping.
const LONG_TEXT_MAX: usize = 1500;
/// Names, role and ticket in a message, before escaping.
const SHORT_TEXT_MAX: usize = 200;
/// The Slack top-level `text` (notification and fallback), after escaping. Slack advises at
/// most 4,000 characters there.
const SLACK_FALLBACK_MAX: usize = 3000;

const BUTTON_TEXT: &str = "Open in JITEA";

/// What any chat message says, as raw text (escaped by each format).
struct Message {
    headline: String,
    summary: String,
    facts: Vec<(&'static str, String)>,
    context: String,
    link: String,
}

/// The topics whose message asks a decision of an approver.
fn is_approval_topic(topic: &str) -> bool {
    matches!(topic, "request.created" | "request.approval_counted")
}

/// The message for a topic. `for_approvers` chooses the approval-needed wording for the
/// request topics that can need a decision (`request.created` pending,
/// `request.approval_counted`); the grant topics have their own wording whoever reads them,
/// and any other topic a generic headline.
fn compose(topic: &str, f: &Facts, public_url: &str, for_approvers: bool) -> Message {
    let base = public_url.trim_end_matches('/');
    let who = clip(&one_line(&f.requester), SHORT_TEXT_MAX);
    let role = clip(&one_line(&f.role), SHORT_TEXT_MAX);
    let decision_page = match f.request_id {
        Some(id) => format!("{base}/approvals/{id}"),
        None => format!("{base}/approvals"),
    };
    let (headline, summary, link) = match topic {
        t if is_approval_topic(t) && for_approvers => (
            format!("Decision needed: {who} asks for {role}"),
            if t == "request.approval_counted" {
                format!("{who} asks for the role {role}. An approval is in and the next one is yours to give: approve or deny it in JITEA.")
            } else {
                format!("{who} asks for the role {role}. Approve or deny it in JITEA.")
            },
            decision_page,
        ),
        "request.created" => (
            format!("{who} asked for {role}"),
            format!("{who} asked for the role {role}; the request waits for approval."),
            decision_page,
        ),
        "request.approval_counted" => (
            format!("Approval counted: {role} for {who}"),
            format!("An approval of {who}'s request for {role} was recorded; it waits for the next one."),
            decision_page,
        ),
        "grant.break_glass" => (
            format!("Break-glass use: {role} by {who}"),
            format!("{who} used break-glass access to {role}, granted at once without an approver. It needs an after-the-fact review."),
            format!("{base}/approvals"),
        ),
        "grant.failed" => (
            format!("Provisioning failed: {role} for {who}"),
            format!("Access to {role} for {who} could not be set up on its target."),
            format!("{base}/admin/grants"),
        ),
        "grant.revoke_failed" => (
            format!("Access could not be removed: {role} for {who}"),
            format!("Access to {role} for {who} could not be removed from its target; JITEA keeps retrying."),
            format!("{base}/admin/grants"),
        ),
        "drift.found" => (
            "Drift found on targets".to_string(),
            "Reconciliation found access on a target that no grant explains, or access a grant should give that is missing.".to_string(),
            format!("{base}/admin/targets"),
        ),
        "directory.sync_refused" => (
            "Directory sync refused".to_string(),
            "The directory sync stopped before deactivating more users than its guard allows. Nothing was changed.".to_string(),
            format!("{base}/admin/directory"),
        ),
        _ => {
            let topic = clip(&one_line(topic), 60);
            (
                format!("JITEA: {topic}: {role} for {who}"),
                format!("{topic}: {role} for {who}."),
                decision_page,
            )
        }
    };
    // A run's event (drift, a refused sync) is about no one request: only its reason.
    let about_access = !f.requester.is_empty() || f.request_id.is_some() || f.grant_id.is_some();
    let mut facts = vec![
        ("Requester", who),
        ("Role", role),
        ("For how long", duration(f.duration_minutes)),
        (
            "Why",
            f.justification
                .as_deref()
                .map(|j| clip(&one_line(j), LONG_TEXT_MAX))
                .unwrap_or_else(|| "(no justification given)".into()),
        ),
    ];
    if !about_access {
        facts.clear();
    }
    if let Some(t) = &f.ticket {
        facts.push(("Ticket", clip(&one_line(t), SHORT_TEXT_MAX)));
    }
    if let Some(v) = &f.valid_to {
        facts.push(("Access ends (UTC)", clip(&one_line(v), SHORT_TEXT_MAX)));
    }
    if let Some(r) = &f.reason {
        facts.push(("Reason", clip(&one_line(r), LONG_TEXT_MAX)));
    }
    let context = match (f.request_id, f.grant_id) {
        (Some(r), Some(g)) => format!("JITEA, just-in-time access · request #{r} · grant #{g}"),
        (Some(r), None) => format!("JITEA, just-in-time access · request #{r}"),
        (None, Some(g)) => format!("JITEA, just-in-time access · grant #{g}"),
        (None, None) => "JITEA, just-in-time access".into(),
    };
    Message {
        headline,
        summary,
        facts,
        context,
        link,
    }
}

/// A Slack incoming-webhook body: `text` (the notification and fallback, mrkdwn-escaped) and
/// `blocks` (header, a section with the facts as fields, a context line and one link button).
pub fn slack(topic: &str, f: &Facts, public_url: &str, for_approvers: bool) -> Value {
    let m = compose(topic, f, public_url, for_approvers);
    let plain =
        |s: &str, max: usize| json!({"type": "plain_text", "text": clip(s, max), "emoji": false});
    let fields: Vec<Value> = m
        .facts
        .iter()
        .take(SLACK_FIELDS_MAX)
        .map(|(label, value)| plain(&format!("{label}\n{value}"), SLACK_FIELD_MAX))
        .collect();
    let mut fallback = format!(
        "{}\n{}",
        slack_escape(&m.headline),
        slack_escape(&m.summary)
    );
    for (label, value) in &m.facts {
        fallback.push_str(&format!("\n{label}: {}", slack_escape(value)));
    }
    let fallback = format!(
        "{}\n{}",
        clip_escaped(
            &fallback,
            SLACK_FALLBACK_MAX.saturating_sub(m.link.chars().count() + 1),
        ),
        slack_escape(&m.link)
    );
    json!({
        "text": fallback,
        "blocks": [
            {"type": "header", "text": plain(&m.headline, SLACK_HEADER_MAX)},
            {
                "type": "section",
                "text": plain(&m.summary, SLACK_SECTION_TEXT_MAX),
                "fields": fields,
            },
            {"type": "context", "elements": [plain(&m.context, SLACK_CONTEXT_MAX)]},
            {
                "type": "actions",
                "elements": [{
                    "type": "button",
                    "text": plain(BUTTON_TEXT, SLACK_BUTTON_TEXT_MAX),
                    "url": m.link,
                }],
            },
        ],
    })
}

/// A Teams incoming-webhook / Workflows body: a `message` with one Adaptive Card 1.4
/// attachment (title, summary, a FactSet and one Action.OpenUrl).
pub fn teams(topic: &str, f: &Facts, public_url: &str, for_approvers: bool) -> Value {
    let m = compose(topic, f, public_url, for_approvers);
    let facts: Vec<Value> = m
        .facts
        .iter()
        .map(|(label, value)| json!({"title": teams_escape(label), "value": teams_escape(value)}))
        .collect();
    let fallback = format!("{} {}", teams_escape(&m.headline), teams_escape(&m.summary));
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "fallbackText": fallback,
                "body": [
                    {"type": "TextBlock", "text": teams_escape(&m.headline), "size": "Medium", "weight": "Bolder", "wrap": true},
                    {"type": "TextBlock", "text": teams_escape(&m.summary), "wrap": true},
                    {"type": "FactSet", "facts": facts},
                    {"type": "TextBlock", "text": teams_escape(&m.context), "isSubtle": true, "size": "Small", "wrap": true},
                ],
                "actions": [{"type": "Action.OpenUrl", "title": BUTTON_TEXT, "url": m.link}],
            },
        }],
    })
}

/// Slack mrkdwn escaping: exactly `&`, `<` and `>`, as Slack documents
/// (https://api.slack.com/reference/surfaces/formatting#escaping).
pub fn slack_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Adaptive Card text (Markdown subset: emphasis, lists, `[text](url)` links; no HTML):
/// backslash-escapes what can start emphasis, code, a link or a tag (`( ) ! #` are harmless
/// once `[` is escaped and no line can start inside a value), and makes line breaks spaces.
pub fn teams_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in one_line(s).chars() {
        if matches!(c, '\\' | '*' | '_' | '~' | '`' | '[' | ']' | '<' | '>') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Control characters (line breaks included) become spaces.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// At most `max` characters: longer text keeps its first `max - 1` and ends in "…".
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// [`clip`] for mrkdwn-escaped text: never cuts an entity (`&amp;`) in two.
fn clip_escaped(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    if let Some(amp) = out.rfind('&') {
        if !out[amp..].contains(';') {
            out.truncate(amp);
        }
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://jitea.example/";

    fn facts() -> Facts {
        Facts {
            requester: "Ann Example".into(),
            role: "prod_db_read".into(),
            duration_minutes: Some(120),
            justification: Some("incident 42 & the pager".into()),
            ticket: Some("INC-1".into()),
            request_id: Some(7),
            grant_id: Some(3),
            ..Facts::default()
        }
    }

    fn hostile() -> Facts {
        Facts {
            requester: "<!channel> Mallory".into(),
            role: "<https://evil.example|prod>".into(),
            duration_minutes: Some(90),
            justification: Some(format!(
                "*bold* [click](https://evil.example) <at>Boss</at> {}",
                "x".repeat(5000)
            )),
            ticket: Some("<@U123> &lt;".into()),
            request_id: Some(7),
            grant_id: Some(4),
            valid_to: Some("2026-12-03 12:00".into()),
            reason: Some("<!here> _it_\nbroke".into()),
            role_id: Some(3),
        }
    }

    /// (topic, for_approvers, link path) for every topic the module words itself, and one it
    /// does not.
    #[test]
    fn a_runs_alert_names_its_findings_and_links_to_where_they_are_seen() {
        let f = Facts {
            reason: Some("run 3: 2 finding(s), 1 repaired, 0 error(s)".into()),
            ..Facts::default()
        };
        let s = slack("drift.found", &f, URL, false).to_string();
        assert!(
            s.contains("Drift found on targets") && s.contains("2 finding(s)"),
            "{s}"
        );
        assert!(
            s.contains("/admin/targets") && !s.contains("Requester"),
            "{s}"
        );
        let t = teams("directory.sync_refused", &f, URL, false).to_string();
        assert!(
            t.contains("Directory sync refused") && t.contains("/admin/directory"),
            "{t}"
        );
    }

    const CASES: &[(&str, bool, &str)] = &[
        ("request.created", true, "/approvals/7"),
        ("request.approval_counted", true, "/approvals/7"),
        ("request.created", false, "/approvals/7"),
        ("request.approval_counted", false, "/approvals/7"),
        ("grant.break_glass", false, "/approvals"),
        ("grant.break_glass", true, "/approvals"),
        ("grant.failed", false, "/admin/grants"),
        ("grant.revoke_failed", false, "/admin/grants"),
        ("request.denied", false, "/approvals/7"),
    ];

    /// Every string in a JSON value.
    fn strings(v: &Value) -> Vec<String> {
        match v {
            Value::String(s) => vec![s.clone()],
            Value::Array(a) => a.iter().flat_map(strings).collect(),
            Value::Object(o) => o.values().flat_map(strings).collect(),
            _ => vec![],
        }
    }

    fn slack_texts(p: &Value) -> Vec<(String, String)> {
        // (type of text object, text) of every text object in the blocks.
        fn walk(v: &Value, out: &mut Vec<(String, String)>) {
            match v {
                Value::Object(o) => {
                    if let (Some(Value::String(t)), Some(Value::String(s))) =
                        (o.get("type"), o.get("text"))
                    {
                        out.push((t.clone(), s.clone()));
                    }
                    o.values().for_each(|x| walk(x, out));
                }
                Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
                _ => {}
            }
        }
        let mut out = vec![];
        walk(&p["blocks"], &mut out);
        out
    }

    #[test]
    fn every_topic_names_who_what_how_long_why_and_the_ticket_with_the_right_link() {
        for &(topic, for_approvers, path) in CASES {
            let link = format!("https://jitea.example{path}");
            let s = slack(topic, &facts(), URL, for_approvers);
            let all = strings(&s).join("\n");
            for needle in [
                "Ann Example",
                "prod_db_read",
                "2 hour(s)",
                "incident 42 & the pager",
                "INC-1",
            ] {
                assert!(all.contains(needle), "{topic}: slack lacks {needle}: {all}");
            }
            assert_eq!(
                s["blocks"][3]["elements"][0]["url"],
                link.as_str(),
                "{topic}"
            );
            assert_eq!(
                s["blocks"][3]["elements"][0]["text"]["text"],
                "Open in JITEA"
            );
            assert!(s["text"].as_str().unwrap_or("").contains(&link), "{topic}");
            assert!(s["text"]
                .as_str()
                .unwrap_or("")
                .contains("incident 42 &amp; the pager"));

            let t = teams(topic, &facts(), URL, for_approvers);
            assert_eq!(t["type"], "message");
            let att = &t["attachments"][0];
            assert_eq!(
                att["contentType"],
                "application/vnd.microsoft.card.adaptive"
            );
            assert_eq!(att["content"]["version"], "1.4");
            let all = strings(&t).join("\n");
            for needle in [
                "Ann Example",
                "prod\\_db\\_read",
                "2 hour(s)",
                "incident 42 & the pager",
                "INC-1",
            ] {
                assert!(all.contains(needle), "{topic}: teams lacks {needle}: {all}");
            }
            assert_eq!(
                att["content"]["actions"][0]["url"],
                link.as_str(),
                "{topic}"
            );
            assert_eq!(att["content"]["actions"][0]["type"], "Action.OpenUrl");
        }
    }

    #[test]
    fn the_wording_follows_the_topic_and_audience() {
        let h = |topic, a| slack(topic, &facts(), URL, a)["blocks"][0]["text"]["text"].clone();
        assert_eq!(
            h("request.created", true),
            "Decision needed: Ann Example asks for prod_db_read"
        );
        assert_eq!(
            h("request.approval_counted", true),
            "Decision needed: Ann Example asks for prod_db_read"
        );
        assert_eq!(
            h("request.created", false),
            "Ann Example asked for prod_db_read"
        );
        assert_eq!(
            h("grant.break_glass", true),
            "Break-glass use: prod_db_read by Ann Example"
        );
        assert_eq!(
            h("grant.failed", true),
            "Provisioning failed: prod_db_read for Ann Example"
        );
        assert_eq!(
            h("grant.revoke_failed", false),
            "Access could not be removed: prod_db_read for Ann Example"
        );
        assert_eq!(
            h("request.denied", false),
            "JITEA: request.denied: prod_db_read for Ann Example"
        );
        let bg = strings(&teams("grant.break_glass", &facts(), URL, false)).join("\n");
        assert!(bg.contains("after-the-fact review") && bg.contains("incident 42"));
    }

    #[test]
    fn a_request_without_a_justification_or_ticket_says_so() {
        let f = Facts {
            justification: None,
            ticket: None,
            ..facts()
        };
        let s = slack("request.created", &f, URL, true);
        let all = strings(&s).join("\n");
        assert!(all.contains("(no justification given)"));
        assert!(!all.contains("Ticket"));
        let all = strings(&teams("request.created", &f, URL, true)).join("\n");
        assert!(all.contains("(no justification given)"));
    }

    #[test]
    fn hostile_text_cannot_ping_or_link_in_slack_and_stays_within_the_limits() {
        for &(topic, for_approvers, path) in CASES {
            let s = slack(topic, &hostile(), URL, for_approvers);
            // mrkdwn (the fallback text) carries no raw control character from user text.
            let fallback = s["text"].as_str().unwrap_or_default();
            assert!(
                !fallback.contains('<') && !fallback.contains('>'),
                "{fallback}"
            );
            assert!(fallback.contains("&lt;!channel&gt; Mallory"));
            assert!(
                fallback.chars().count() <= SLACK_FALLBACK_MAX,
                "{}",
                fallback.chars().count()
            );
            assert!(fallback.ends_with(&format!("https://jitea.example{path}")));
            // Every text object in the blocks is plain_text (never parsed for mentions/links).
            let texts = slack_texts(&s);
            assert!(!texts.is_empty());
            for (kind, _) in &texts {
                assert_eq!(kind, "plain_text");
            }
            assert!(s["blocks"]
                .as_array()
                .map(|b| b.iter().all(|b| b.get("type").is_some()))
                .unwrap_or(false));
            assert_eq!(s.get("link_names"), None);
            // Limits.
            let b = &s["blocks"];
            assert!(
                b[0]["text"]["text"]
                    .as_str()
                    .unwrap_or_default()
                    .chars()
                    .count()
                    <= SLACK_HEADER_MAX
            );
            assert!(
                b[1]["text"]["text"]
                    .as_str()
                    .unwrap_or_default()
                    .chars()
                    .count()
                    <= SLACK_SECTION_TEXT_MAX
            );
            let fields = b[1]["fields"].as_array().cloned().unwrap_or_default();
            assert!(!fields.is_empty() && fields.len() <= SLACK_FIELDS_MAX);
            for fl in &fields {
                assert!(fl["text"].as_str().unwrap_or_default().chars().count() <= SLACK_FIELD_MAX);
            }
            let why = fields
                .iter()
                .filter_map(|f| f["text"].as_str())
                .find(|t| t.starts_with("Why\n"))
                .unwrap_or_default();
            assert!(why.ends_with('…') && why.contains("*bold*"), "{why}");
            assert!(
                b[3]["elements"][0]["text"]["text"]
                    .as_str()
                    .unwrap_or_default()
                    .chars()
                    .count()
                    <= SLACK_BUTTON_TEXT_MAX
            );
            // The only URL anywhere is ours.
            assert_eq!(b[3]["elements"].as_array().map(Vec::len), Some(1));
        }
        // A long display name and role are cut in the header with "…".
        let f = Facts {
            requester: "R".repeat(400),
            role: "r".repeat(400),
            ..hostile()
        };
        let h = slack("request.created", &f, URL, true)["blocks"][0]["text"]["text"].clone();
        let h = h.as_str().unwrap_or_default();
        assert_eq!(h.chars().count(), SLACK_HEADER_MAX);
        assert!(h.ends_with('…'));
    }

    #[test]
    fn hostile_text_cannot_link_mention_or_format_in_teams() {
        for &(topic, for_approvers, path) in CASES {
            let t = teams(topic, &hostile(), URL, for_approvers);
            let card = &t["attachments"][0]["content"];
            let mut texts: Vec<String> = card["body"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .flat_map(|e| {
                    let mut v: Vec<String> =
                        e["text"].as_str().map(String::from).into_iter().collect();
                    for f in e["facts"].as_array().cloned().unwrap_or_default() {
                        v.extend(f["title"].as_str().map(String::from));
                        v.extend(f["value"].as_str().map(String::from));
                    }
                    v
                })
                .collect();
            texts.extend(card["fallbackText"].as_str().map(String::from));
            for s in &texts {
                // Every Markdown/HTML-significant character is escaped.
                let cs: Vec<char> = s.chars().collect();
                for (i, c) in cs.iter().enumerate() {
                    if matches!(c, '[' | ']' | '<' | '>' | '*' | '_' | '`' | '~') {
                        let escapes = cs[..i].iter().rev().take_while(|&&b| b == '\\').count();
                        assert!(escapes % 2 == 1, "unescaped {c:?} at {i} in {s}");
                    }
                }
                assert!(!s.contains('\n'));
            }
            let all = texts.join("\n");
            assert!(all.contains("\\<!channel\\> Mallory"), "{all}");
            assert!(all.contains("\\[click\\](https://evil.example)"), "{all}");
            // Long text is cut; the card stays small.
            assert!(
                serde_json::to_string(&t)
                    .map(|s| s.len())
                    .unwrap_or(usize::MAX)
                    < 12_000
            );
            assert!(all.contains('…'));
            assert_eq!(card["actions"].as_array().map(Vec::len), Some(1));
            assert_eq!(
                card["actions"][0]["url"],
                format!("https://jitea.example{path}").as_str()
            );
        }
    }

    #[test]
    fn escaping_and_clipping() {
        assert_eq!(slack_escape("a & <b> *c*"), "a &amp; &lt;b&gt; *c*");
        assert_eq!(
            teams_escape("a_b *c* [d](e) \\ <at>\n#1"),
            "a\\_b \\*c\\* \\[d\\](e) \\\\ \\<at\\> #1"
        );
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip_escaped("ab&amp;cd", 5), "ab…");
        assert_eq!(clip_escaped("ab&amp;cd", 8), "ab&amp;…");
    }

    /// Every topic's Slack and Teams body, ordinary and hostile, in the form
    /// `tests/chat_validate.mjs` reads; written to the file `JITEA_CHAT_SAMPLES` names
    /// (otherwise only built).
    #[test]
    fn samples_for_the_vendor_validators() {
        let mut out = vec![];
        for (fname, f) in [
            ("plain", facts()),
            ("hostile", hostile()),
            (
                "minimal",
                Facts {
                    requester: "Bo".into(),
                    role: "r".into(),
                    ..Facts::default()
                },
            ),
        ] {
            for &(topic, for_approvers, _) in CASES {
                let name = format!(
                    "{topic}{}/{fname}",
                    if for_approvers { "/approvers" } else { "" }
                );
                out.push(json!({"kind": "slack", "name": name, "payload": slack(topic, &f, URL, for_approvers)}));
                out.push(json!({"kind": "teams", "name": name, "payload": teams(topic, &f, URL, for_approvers)}));
            }
        }
        assert_eq!(out.len(), 3 * CASES.len() * 2);
        for topic in ["drift.found", "directory.sync_refused"] {
            let f = Facts {
                reason: Some("run 3: 2 finding(s), 1 repaired, 0 error(s)".into()),
                ..Facts::default()
            };
            out.push(
                json!({"kind": "slack", "name": topic, "payload": slack(topic, &f, URL, false)}),
            );
            out.push(
                json!({"kind": "teams", "name": topic, "payload": teams(topic, &f, URL, false)}),
            );
        }
        if let Ok(path) = std::env::var("JITEA_CHAT_SAMPLES") {
            let text = serde_json::to_string_pretty(&Value::Array(out)).expect("samples serialise");
            std::fs::write(&path, text).expect("samples written");
        }
    }
}
