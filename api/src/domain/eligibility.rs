//! May user U request role R? (seed 2.1 `sp_User_Eligibility_Check`, made precise in
//! DESIGN.md "Rules").
//!
//! Why this order: an explicit per-user override is an administrator's deliberate exception
//! and beats any rule; among rules, the most specific scope that says anything about the user
//! wins, so a `user` rule can carve an exception out of a `team` rule, a `team` rule out of a
//! `department` rule, and so on down to `all`. Within one scope the highest priority wins and,
//! for a privileged-access tool, an unresolved conflict must fail closed: deny wins a tie.
//! Nothing matching means no access (default deny).

use chrono::{DateTime, Utc};
use jitea_shared::ScopeType;
use serde::{Deserialize, Serialize};

use super::{same_name, Window};

/// The facts about the requesting user that eligibility depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectUser {
    pub id: i64,
    pub is_active: bool,
    pub department: Option<String>,
    pub division: Option<String>,
    /// Teams the user is an *active* member of (inactive memberships must be left out).
    pub active_team_ids: Vec<i64>,
    pub seniority_level: Option<i64>,
}

/// The facts about a role that the domain rules read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleFacts {
    pub id: i64,
    pub is_enabled: bool,
    pub requires_approval: bool,
    pub auto_approve_min_seniority: Option<i64>,
    pub max_duration_minutes: i64,
    pub requires_ticket: bool,
    pub ticket_regex: Option<String>,
    pub requires_justification: bool,
}

/// A per-user exception for one role (`user_role_eligibility`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EligibilityOverride {
    pub can_request: bool,
    pub window: Window,
    pub priority: i64,
}

/// One of the role's scope-based rules (`role_eligibility_rules`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EligibilityRule {
    pub id: i64,
    pub scope_type: ScopeType,
    /// User id or team id (as decimal text), department or division name; ignored for `all`.
    pub scope_value: Option<String>,
    pub can_request: bool,
    pub window: Window,
    pub priority: i64,
}

/// The outcome of [`resolve_eligibility`], with the reason so it can be shown and audited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Eligibility {
    pub eligible: bool,
    pub reason: EligibilityReason,
}

/// Which step of the resolution decided, so a user or an auditor can see *why*.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EligibilityReason {
    UserInactive,
    RoleDisabled,
    Override {
        can_request: bool,
        priority: i64,
    },
    Rule {
        rule_id: i64,
        scope_type: ScopeType,
        scope_value: Option<String>,
        priority: i64,
        can_request: bool,
        /// The other matching rules at the same scope and priority (ascending ids). When the
        /// winner is a deny and this is non-empty, deny won a tie.
        tied_rule_ids: Vec<i64>,
    },
    NoMatchingRule,
}

impl EligibilityReason {
    /// One human sentence, e.g. "denied by team rule #12 (priority 5); deny wins a tie with
    /// rule #13".
    pub fn explain(&self) -> String {
        match self {
            EligibilityReason::UserInactive => "not eligible: the user account is inactive".into(),
            EligibilityReason::RoleDisabled => "not eligible: the role is disabled".into(),
            EligibilityReason::Override {
                can_request,
                priority,
            } => format!(
                "{} by a per-user override (priority {priority})",
                verb(*can_request)
            ),
            EligibilityReason::Rule {
                rule_id,
                scope_type,
                priority,
                can_request,
                tied_rule_ids,
                ..
            } => {
                let mut s = format!(
                    "{} by {scope_type} rule #{rule_id} (priority {priority})",
                    verb(*can_request)
                );
                if !tied_rule_ids.is_empty() {
                    let ids = tied_rule_ids
                        .iter()
                        .map(|id| format!("#{id}"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let plural = if tied_rule_ids.len() == 1 { "" } else { "s" };
                    if *can_request {
                        s.push_str(&format!("; tied with allowing rule{plural} {ids}"));
                    } else {
                        s.push_str(&format!("; deny wins a tie with rule{plural} {ids}"));
                    }
                }
                s
            }
            EligibilityReason::NoMatchingRule => {
                "not eligible: no active override or eligibility rule matches this user".into()
            }
        }
    }
}

fn verb(can_request: bool) -> &'static str {
    if can_request {
        "allowed"
    } else {
        "denied"
    }
}

/// Whether `rule` is about `user` (ignoring its window).
///
/// Ids are stored as text in `scope_value`; text that is not an integer matches nobody rather
/// than being an error, because a broken rule must never widen access.
fn rule_matches(rule: &EligibilityRule, user: &SubjectUser) -> bool {
    let value = rule.scope_value.as_deref();
    let as_id = || value.and_then(|v| v.trim().parse::<i64>().ok());
    match rule.scope_type {
        ScopeType::User => as_id() == Some(user.id),
        ScopeType::Team => as_id().is_some_and(|team| user.active_team_ids.contains(&team)),
        ScopeType::Department => matches!(
            (value, user.department.as_deref()),
            (Some(v), Some(d)) if same_name(v, d)
        ),
        ScopeType::Division => matches!(
            (value, user.division.as_deref()),
            (Some(v), Some(d)) if same_name(v, d)
        ),
        ScopeType::All => true,
    }
}

/// Decides whether `user` may request `role` at `now`.
///
/// `rules` must be the rules of `role` only (the caller filters by role); every rule passed
/// in is considered. The result does not depend on the order of `rules`.
pub fn resolve_eligibility(
    user: &SubjectUser,
    role: &RoleFacts,
    user_override: Option<&EligibilityOverride>,
    rules: &[EligibilityRule],
    now: DateTime<Utc>,
) -> Eligibility {
    let decide = |eligible: bool, reason: EligibilityReason| Eligibility { eligible, reason };

    if !user.is_active {
        return decide(false, EligibilityReason::UserInactive);
    }
    if !role.is_enabled {
        return decide(false, EligibilityReason::RoleDisabled);
    }
    if let Some(o) = user_override.filter(|o| o.window.contains(now)) {
        return decide(
            o.can_request,
            EligibilityReason::Override {
                can_request: o.can_request,
                priority: o.priority,
            },
        );
    }

    let matching: Vec<&EligibilityRule> = rules
        .iter()
        .filter(|r| r.window.contains(now) && rule_matches(r, user))
        .collect();
    let Some(rank) = matching
        .iter()
        .map(|r| r.scope_type.specificity_rank())
        .min()
    else {
        return decide(false, EligibilityReason::NoMatchingRule);
    };
    let in_scope = matching
        .into_iter()
        .filter(|r| r.scope_type.specificity_rank() == rank);
    let top_priority = in_scope
        .clone()
        .map(|r| r.priority)
        .max()
        .unwrap_or_default();
    let mut contenders: Vec<&EligibilityRule> =
        in_scope.filter(|r| r.priority == top_priority).collect();
    // Denies first (deny wins a tie), then the lowest id so the reported winner is stable.
    contenders.sort_by_key(|r| (r.can_request, r.id));
    let winner = contenders[0];
    let mut tied_rule_ids: Vec<i64> = contenders[1..].iter().map(|r| r.id).collect();
    tied_rule_ids.sort_unstable();

    decide(
        winner.can_request,
        EligibilityReason::Rule {
            rule_id: winner.id,
            scope_type: winner.scope_type,
            scope_value: winner.scope_value.clone(),
            priority: winner.priority,
            can_request: winner.can_request,
            tied_rule_ids,
        },
    )
}

// ------------------------------------------------------------------ the rule index

/// What a rule is about, normalised so that a rule matches a user exactly when its key is one
/// of the user's keys ([`subject_keys`]): the same test as `rule_matches`, as a hash lookup.
/// A catalogue of 50,000 rules is resolved for one user by looking up a handful of keys
/// instead of reading every rule of every role.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ScopeKey {
    User(i64),
    Team(i64),
    /// The department's name as [`name_key`] normalises it.
    Department(String),
    Division(String),
    All,
}

/// The form under which two names are [`same_name`]: trimmed and lower-cased character by
/// character (as `same_name` compares them); `None` for a blank name, which matches nothing.
pub fn name_key(name: &str) -> Option<String> {
    let t = name.trim();
    (!t.is_empty()).then(|| t.chars().flat_map(char::to_lowercase).collect())
}

/// The key a rule is filed under, or `None` when it can match nobody (an id that is not an
/// integer, a blank name).
pub fn rule_key(scope_type: ScopeType, scope_value: Option<&str>) -> Option<ScopeKey> {
    let as_id = || scope_value.and_then(|v| v.trim().parse::<i64>().ok());
    match scope_type {
        ScopeType::User => as_id().map(ScopeKey::User),
        ScopeType::Team => as_id().map(ScopeKey::Team),
        ScopeType::Department => scope_value.and_then(name_key).map(ScopeKey::Department),
        ScopeType::Division => scope_value.and_then(name_key).map(ScopeKey::Division),
        ScopeType::All => Some(ScopeKey::All),
    }
}

/// Every key a rule about `user` can have (each once).
pub fn subject_keys(user: &SubjectUser) -> Vec<ScopeKey> {
    let mut teams = user.active_team_ids.clone();
    teams.sort_unstable();
    teams.dedup();
    let mut keys = vec![ScopeKey::User(user.id), ScopeKey::All];
    keys.extend(teams.into_iter().map(ScopeKey::Team));
    keys.extend(
        user.department
            .as_deref()
            .and_then(name_key)
            .map(ScopeKey::Department),
    );
    keys.extend(
        user.division
            .as_deref()
            .and_then(name_key)
            .map(ScopeKey::Division),
    );
    keys
}

/// Every role's rules, filed by [`ScopeKey`]. Rules that can match nobody are left out.
#[derive(Debug, Default)]
pub struct RuleIndex {
    by_key: std::collections::HashMap<ScopeKey, Vec<(i64, EligibilityRule)>>,
    len: usize,
}

impl RuleIndex {
    /// Builds the index from `(role id, rule)` pairs.
    pub fn new(rules: impl IntoIterator<Item = (i64, EligibilityRule)>) -> Self {
        let mut index = Self::default();
        for (role_id, rule) in rules {
            index.insert(role_id, rule);
        }
        index.shrink_to_fit();
        index
    }

    /// Files one rule of role `role_id` (a rule that can match nobody is dropped).
    pub fn insert(&mut self, role_id: i64, rule: EligibilityRule) {
        if let Some(key) = rule_key(rule.scope_type, rule.scope_value.as_deref()) {
            self.by_key.entry(key).or_default().push((role_id, rule));
            self.len += 1;
        }
    }

    /// Gives back the spare capacity of the buffers (most keys name one rule).
    pub fn shrink_to_fit(&mut self) {
        for rules in self.by_key.values_mut() {
            rules.shrink_to_fit();
        }
        self.by_key.shrink_to_fit();
    }

    /// How many rules can match someone.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The rules about `user`, by role id (windows not yet applied: `resolve_eligibility` does
    /// that). Passing a role's entry to `resolve_eligibility` decides exactly as passing all of
    /// the role's rules, since the others do not match `user`.
    pub fn matching(
        &self,
        user: &SubjectUser,
    ) -> std::collections::HashMap<i64, Vec<EligibilityRule>> {
        let mut out: std::collections::HashMap<i64, Vec<EligibilityRule>> =
            std::collections::HashMap::new();
        for key in subject_keys(user) {
            for (role_id, rule) in self.by_key.get(&key).into_iter().flatten() {
                out.entry(*role_id).or_default().push(rule.clone());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeDelta, TimeZone};
    use proptest::prelude::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap()
    }

    fn user() -> SubjectUser {
        SubjectUser {
            id: 7,
            is_active: true,
            department: Some("Finance".into()),
            division: Some("EMEA".into()),
            active_team_ids: vec![3, 4],
            seniority_level: Some(2),
        }
    }

    fn role() -> RoleFacts {
        RoleFacts {
            id: 1,
            is_enabled: true,
            requires_approval: true,
            auto_approve_min_seniority: None,
            max_duration_minutes: 60,
            requires_ticket: false,
            ticket_regex: None,
            requires_justification: true,
        }
    }

    fn rule(
        id: i64,
        scope: ScopeType,
        value: Option<&str>,
        allow: bool,
        prio: i64,
    ) -> EligibilityRule {
        EligibilityRule {
            id,
            scope_type: scope,
            scope_value: value.map(str::to_string),
            can_request: allow,
            window: Window::ALWAYS,
            priority: prio,
        }
    }

    fn expired() -> Window {
        Window {
            valid_from: None,
            valid_to: Some(now() - TimeDelta::minutes(1)),
        }
    }

    fn future() -> Window {
        Window {
            valid_from: Some(now() + TimeDelta::minutes(1)),
            valid_to: None,
        }
    }

    fn with_window(mut r: EligibilityRule, window: Window) -> EligibilityRule {
        r.window = window;
        r
    }

    fn ovr(allow: bool, window: Window) -> EligibilityOverride {
        EligibilityOverride {
            can_request: allow,
            window,
            priority: 100,
        }
    }

    /// A short label of what decided, for compact tables.
    fn decider(e: &Eligibility) -> String {
        match &e.reason {
            EligibilityReason::UserInactive => "inactive".into(),
            EligibilityReason::RoleDisabled => "disabled".into(),
            EligibilityReason::Override { .. } => "override".into(),
            EligibilityReason::Rule { rule_id, .. } => format!("rule:{rule_id}"),
            EligibilityReason::NoMatchingRule => "none".into(),
        }
    }

    use ScopeType::{All, Department, Division, Team, User};

    #[test]
    fn resolution_table() {
        let inactive = SubjectUser {
            is_active: false,
            ..user()
        };
        let no_dept = SubjectUser {
            department: None,
            division: None,
            ..user()
        };
        let blank_dept = SubjectUser {
            department: Some("  ".into()),
            ..user()
        };
        let disabled = RoleFacts {
            is_enabled: false,
            ..role()
        };
        type Case<'a> = (
            &'a str,
            SubjectUser,
            RoleFacts,
            Option<EligibilityOverride>,
            Vec<EligibilityRule>,
            bool,
            &'a str,
        );
        let cases: Vec<Case> = vec![
            (
                "inactive user, allow-all",
                inactive.clone(),
                role(),
                None,
                vec![rule(1, All, None, true, 0)],
                false,
                "inactive",
            ),
            (
                "inactive user, allowing override",
                inactive,
                role(),
                Some(ovr(true, Window::ALWAYS)),
                vec![],
                false,
                "inactive",
            ),
            (
                "disabled role",
                user(),
                disabled.clone(),
                Some(ovr(true, Window::ALWAYS)),
                vec![rule(1, All, None, true, 0)],
                false,
                "disabled",
            ),
            ("no rules", user(), role(), None, vec![], false, "none"),
            (
                "allow all",
                user(),
                role(),
                None,
                vec![rule(1, All, None, true, 0)],
                true,
                "rule:1",
            ),
            (
                "deny all",
                user(),
                role(),
                None,
                vec![rule(1, All, None, false, 0)],
                false,
                "rule:1",
            ),
            (
                "all ignores its scope_value",
                user(),
                role(),
                None,
                vec![rule(1, All, Some("x"), true, 0)],
                true,
                "rule:1",
            ),
            (
                "override deny beats user allow",
                user(),
                role(),
                Some(ovr(false, Window::ALWAYS)),
                vec![rule(1, User, Some("7"), true, 9)],
                false,
                "override",
            ),
            (
                "override allow beats user deny",
                user(),
                role(),
                Some(ovr(true, Window::ALWAYS)),
                vec![rule(1, User, Some("7"), false, 9)],
                true,
                "override",
            ),
            (
                "expired override ignored",
                user(),
                role(),
                Some(ovr(false, expired())),
                vec![rule(1, All, None, true, 0)],
                true,
                "rule:1",
            ),
            (
                "future override ignored",
                user(),
                role(),
                Some(ovr(true, future())),
                vec![],
                false,
                "none",
            ),
            (
                "user deny beats higher all allow",
                user(),
                role(),
                None,
                vec![
                    rule(1, All, None, true, 99),
                    rule(2, User, Some("7"), false, 0),
                ],
                false,
                "rule:2",
            ),
            (
                "other user's rule ignored",
                user(),
                role(),
                None,
                vec![
                    rule(1, User, Some("8"), false, 0),
                    rule(2, All, None, true, 0),
                ],
                true,
                "rule:2",
            ),
            (
                "user id is trimmed",
                user(),
                role(),
                None,
                vec![rule(1, User, Some(" 7 "), true, 0)],
                true,
                "rule:1",
            ),
            (
                "non-numeric user value matches nobody",
                user(),
                role(),
                None,
                vec![rule(1, User, Some("seven"), true, 0)],
                false,
                "none",
            ),
            (
                "team member",
                user(),
                role(),
                None,
                vec![rule(1, Team, Some("4"), true, 0)],
                true,
                "rule:1",
            ),
            (
                "not a team member",
                user(),
                role(),
                None,
                vec![rule(1, Team, Some("5"), true, 0)],
                false,
                "none",
            ),
            (
                "team deny beats department allow",
                user(),
                role(),
                None,
                vec![
                    rule(1, Department, Some("Finance"), true, 50),
                    rule(2, Team, Some("3"), false, 0),
                ],
                false,
                "rule:2",
            ),
            (
                "department case-insensitive and trimmed",
                user(),
                role(),
                None,
                vec![rule(1, Department, Some("  fINANCE "), true, 0)],
                true,
                "rule:1",
            ),
            (
                "other department",
                user(),
                role(),
                None,
                vec![rule(1, Department, Some("Sales"), true, 0)],
                false,
                "none",
            ),
            (
                "no department matches no department rule",
                no_dept.clone(),
                role(),
                None,
                vec![rule(1, Department, Some("Finance"), true, 0)],
                false,
                "none",
            ),
            (
                "no division matches no division rule",
                no_dept,
                role(),
                None,
                vec![rule(1, Division, Some("EMEA"), true, 0)],
                false,
                "none",
            ),
            (
                "blank department never matches",
                blank_dept,
                role(),
                None,
                vec![rule(1, Department, Some(""), true, 0)],
                false,
                "none",
            ),
            (
                "department beats division",
                user(),
                role(),
                None,
                vec![
                    rule(1, Division, Some("emea"), false, 9),
                    rule(2, Department, Some("Finance"), true, 0),
                ],
                true,
                "rule:2",
            ),
            (
                "division beats all",
                user(),
                role(),
                None,
                vec![
                    rule(1, All, None, false, 9),
                    rule(2, Division, Some("EMEA"), true, 0),
                ],
                true,
                "rule:2",
            ),
            (
                "higher priority allow beats deny in scope",
                user(),
                role(),
                None,
                vec![
                    rule(1, Team, Some("3"), false, 1),
                    rule(2, Team, Some("4"), true, 2),
                ],
                true,
                "rule:2",
            ),
            (
                "higher priority deny beats allow in scope",
                user(),
                role(),
                None,
                vec![
                    rule(1, Team, Some("3"), false, 2),
                    rule(2, Team, Some("4"), true, 1),
                ],
                false,
                "rule:1",
            ),
            (
                "deny wins a tie",
                user(),
                role(),
                None,
                vec![
                    rule(13, Team, Some("3"), true, 5),
                    rule(12, Team, Some("4"), false, 5),
                ],
                false,
                "rule:12",
            ),
            (
                "lowest id reported among tied allows",
                user(),
                role(),
                None,
                vec![rule(9, All, None, true, 0), rule(4, All, None, true, 0)],
                true,
                "rule:4",
            ),
            (
                "expired user rule falls through to team",
                user(),
                role(),
                None,
                vec![
                    with_window(rule(1, User, Some("7"), false, 0), expired()),
                    rule(2, Team, Some("3"), true, 0),
                ],
                true,
                "rule:2",
            ),
            (
                "future rule ignored",
                user(),
                role(),
                None,
                vec![with_window(rule(1, All, None, true, 0), future())],
                false,
                "none",
            ),
            (
                "non-matching specific scope does not shadow",
                user(),
                role(),
                None,
                vec![
                    rule(1, Team, Some("99"), false, 0),
                    rule(2, All, None, true, 0),
                ],
                true,
                "rule:2",
            ),
        ];
        for (name, u, r, o, rules, eligible, expected) in cases {
            let got = resolve_eligibility(&u, &r, o.as_ref(), &rules, now());
            assert_eq!(got.eligible, eligible, "{name}: {got:?}");
            assert_eq!(decider(&got), expected, "{name}: {got:?}");
        }
    }

    #[test]
    fn tie_reports_the_other_rules() {
        let rules = vec![
            rule(13, Team, Some("3"), true, 5),
            rule(12, Team, Some("4"), false, 5),
            rule(20, Team, Some("4"), true, 1),
            rule(30, All, None, true, 5),
        ];
        let got = resolve_eligibility(&user(), &role(), None, &rules, now());
        assert_eq!(
            got.reason,
            EligibilityReason::Rule {
                rule_id: 12,
                scope_type: Team,
                scope_value: Some("4".into()),
                priority: 5,
                can_request: false,
                tied_rule_ids: vec![13],
            }
        );
        assert_eq!(
            got.reason.explain(),
            "denied by team rule #12 (priority 5); deny wins a tie with rule #13"
        );
    }

    #[test]
    fn explain_table() {
        let r = |allow: bool, tied: Vec<i64>| EligibilityReason::Rule {
            rule_id: 12,
            scope_type: Department,
            scope_value: Some("Finance".into()),
            priority: 5,
            can_request: allow,
            tied_rule_ids: tied,
        };
        let cases = [
            (
                EligibilityReason::UserInactive,
                "not eligible: the user account is inactive",
            ),
            (
                EligibilityReason::RoleDisabled,
                "not eligible: the role is disabled",
            ),
            (
                EligibilityReason::Override {
                    can_request: true,
                    priority: 3,
                },
                "allowed by a per-user override (priority 3)",
            ),
            (
                EligibilityReason::Override {
                    can_request: false,
                    priority: 0,
                },
                "denied by a per-user override (priority 0)",
            ),
            (
                r(true, vec![]),
                "allowed by department rule #12 (priority 5)",
            ),
            (
                r(true, vec![13]),
                "allowed by department rule #12 (priority 5); tied with allowing rule #13",
            ),
            (
                r(false, vec![]),
                "denied by department rule #12 (priority 5)",
            ),
            (
                r(false, vec![13, 14]),
                "denied by department rule #12 (priority 5); deny wins a tie with rules #13, #14",
            ),
            (
                EligibilityReason::NoMatchingRule,
                "not eligible: no active override or eligibility rule matches this user",
            ),
        ];
        for (reason, text) in cases {
            assert_eq!(reason.explain(), text);
        }
    }

    #[test]
    fn reason_serialises_with_kind_tag() {
        let cases = [
            (
                EligibilityReason::UserInactive,
                serde_json::json!({"kind": "user_inactive"}),
            ),
            (
                EligibilityReason::RoleDisabled,
                serde_json::json!({"kind": "role_disabled"}),
            ),
            (
                EligibilityReason::NoMatchingRule,
                serde_json::json!({"kind": "no_matching_rule"}),
            ),
            (
                EligibilityReason::Override {
                    can_request: true,
                    priority: 2,
                },
                serde_json::json!({"kind": "override", "can_request": true, "priority": 2}),
            ),
            (
                EligibilityReason::Rule {
                    rule_id: 12,
                    scope_type: Team,
                    scope_value: Some("4".into()),
                    priority: 5,
                    can_request: false,
                    tied_rule_ids: vec![13],
                },
                serde_json::json!({
                    "kind": "rule", "rule_id": 12, "scope_type": "team", "scope_value": "4",
                    "priority": 5, "can_request": false, "tied_rule_ids": [13]
                }),
            ),
        ];
        for (reason, json) in cases {
            assert_eq!(serde_json::to_value(&reason).unwrap(), json);
            let back: EligibilityReason = serde_json::from_value(json).unwrap();
            assert_eq!(back, reason);
        }
    }

    // ---- properties -------------------------------------------------------------------

    fn arb_user() -> impl Strategy<Value = SubjectUser> {
        (
            1i64..4,
            any::<bool>(),
            proptest::option::of(prop::sample::select(vec![
                "Finance", "finance ", "Sales", "",
            ])),
            proptest::option::of(prop::sample::select(vec!["EMEA", "emea", "APAC"])),
            prop::collection::vec(1i64..5, 0..3),
        )
            .prop_map(|(id, is_active, dept, div, teams)| SubjectUser {
                id,
                is_active,
                department: dept.map(str::to_string),
                division: div.map(str::to_string),
                active_team_ids: teams,
                seniority_level: None,
            })
    }

    fn arb_window() -> impl Strategy<Value = Window> {
        prop_oneof![
            3 => Just(Window::ALWAYS),
            1 => Just(expired()),
            1 => Just(future()),
            1 => Just(Window {
                valid_from: Some(now() - TimeDelta::hours(1)),
                valid_to: Some(now() + TimeDelta::hours(1)),
            }),
        ]
    }

    fn arb_scope_and_value() -> impl Strategy<Value = (ScopeType, Option<String>)> {
        prop_oneof![
            (1i64..4).prop_map(|id| (User, Some(id.to_string()))),
            (1i64..5).prop_map(|id| (Team, Some(id.to_string()))),
            prop::sample::select(vec!["Finance", "FINANCE", "Sales"])
                .prop_map(|d| (Department, Some(d.to_string()))),
            prop::sample::select(vec!["EMEA", " emea", "APAC"])
                .prop_map(|d| (Division, Some(d.to_string()))),
            Just((All, None)),
        ]
    }

    /// Rules with unique ids (ids are primary keys in the database).
    fn arb_rules() -> impl Strategy<Value = Vec<EligibilityRule>> {
        prop::collection::vec(
            (arb_scope_and_value(), any::<bool>(), arb_window(), 0i64..3),
            0..8,
        )
        .prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(
                    |(i, ((scope_type, scope_value), can_request, window, priority))| {
                        EligibilityRule {
                            id: i as i64 + 1,
                            scope_type,
                            scope_value,
                            can_request,
                            window,
                            priority,
                        }
                    },
                )
                .collect()
        })
    }

    fn arb_override() -> impl Strategy<Value = Option<EligibilityOverride>> {
        proptest::option::of((any::<bool>(), arb_window(), 0i64..3).prop_map(
            |(can_request, window, priority)| EligibilityOverride {
                can_request,
                window,
                priority,
            },
        ))
    }

    proptest! {
        #[test]
        fn inactive_user_is_never_eligible(
            u in arb_user(), o in arb_override(), rules in arb_rules()
        ) {
            let u = SubjectUser { is_active: false, ..u };
            let got = resolve_eligibility(&u, &role(), o.as_ref(), &rules, now());
            prop_assert!(!got.eligible);
            prop_assert_eq!(got.reason, EligibilityReason::UserInactive);
        }

        #[test]
        fn disabled_role_is_never_eligible(
            u in arb_user(), o in arb_override(), rules in arb_rules()
        ) {
            let r = RoleFacts { is_enabled: false, ..role() };
            prop_assert!(!resolve_eligibility(&u, &r, o.as_ref(), &rules, now()).eligible);
        }

        #[test]
        fn decision_is_independent_of_rule_order(
            u in arb_user(),
            o in arb_override(),
            (rules, shuffled) in arb_rules()
                .prop_flat_map(|r| (Just(r.clone()), Just(r).prop_shuffle())),
        ) {
            prop_assert_eq!(
                resolve_eligibility(&u, &role(), o.as_ref(), &rules, now()),
                resolve_eligibility(&u, &role(), o.as_ref(), &shuffled, now())
            );
        }

        #[test]
        fn an_active_override_always_decides(
            u in arb_user(), allow in any::<bool>(), rules in arb_rules()
        ) {
            let u = SubjectUser { is_active: true, ..u };
            let o = ovr(allow, Window::ALWAYS);
            let got = resolve_eligibility(&u, &role(), Some(&o), &rules, now());
            prop_assert_eq!(got.eligible, allow);
        }

        #[test]
        fn a_matching_all_allow_never_changes_a_more_specific_decision(
            u in arb_user(), rules in arb_rules(), priority in -5i64..100
        ) {
            let before = resolve_eligibility(&u, &role(), None, &rules, now());
            if let EligibilityReason::Rule { scope_type, .. } = before.reason {
                prop_assume!(scope_type != All);
                let mut more = rules.clone();
                more.push(rule(1000, All, None, true, priority));
                prop_assert_eq!(resolve_eligibility(&u, &role(), None, &more, now()), before);
            }
        }

        #[test]
        fn a_deny_at_the_deciding_scope_and_top_priority_means_not_eligible(
            u in arb_user(), rules in arb_rules()
        ) {
            let u = SubjectUser { is_active: true, ..u };
            let before = resolve_eligibility(&u, &role(), None, &rules, now());
            if let EligibilityReason::Rule {
                rule_id, scope_type, scope_value, priority, ..
            } = before.reason
            {
                let mut more = rules.clone();
                more.push(EligibilityRule {
                    id: 1000,
                    scope_type,
                    scope_value: scope_value.clone(),
                    can_request: false,
                    window: Window::ALWAYS,
                    priority,
                });
                let after = resolve_eligibility(&u, &role(), None, &more, now());
                prop_assert!(!after.eligible);
                match after.reason {
                    EligibilityReason::Rule { scope_type: s, priority: p, tied_rule_ids, .. } => {
                        prop_assert_eq!(s, scope_type);
                        prop_assert_eq!(p, priority);
                        // The loser of the tie (old winner or new deny) is reported as tied.
                        prop_assert!(
                            tied_rule_ids.contains(&rule_id) || tied_rule_ids.contains(&1000)
                        );
                    }
                    other => prop_assert!(false, "unexpected reason {:?}", other),
                }
            }
        }

        #[test]
        fn eligible_only_with_an_allowing_decider(
            u in arb_user(), o in arb_override(), rules in arb_rules()
        ) {
            let got = resolve_eligibility(&u, &role(), o.as_ref(), &rules, now());
            let allowed_by = match &got.reason {
                EligibilityReason::Override { can_request, .. } => *can_request,
                EligibilityReason::Rule { can_request, .. } => *can_request,
                _ => false,
            };
            prop_assert_eq!(got.eligible, allowed_by);
        }

        #[test]
        fn inactive_rules_have_no_effect(u in arb_user(), rules in arb_rules()) {
            let active: Vec<EligibilityRule> =
                rules.iter().filter(|r| r.window.contains(now())).cloned().collect();
            prop_assert_eq!(
                resolve_eligibility(&u, &role(), None, &rules, now()),
                resolve_eligibility(&u, &role(), None, &active, now())
            );
        }
    }

    // ---- the rule index agrees with `rule_matches` and the reference resolution ----------

    /// Names and ids as they may be stored (by hand or by older versions): padded, signed,
    /// zero-led, not numbers, blank, and names whose lower case is not ASCII.
    fn arb_stored_value(scope: ScopeType) -> BoxedStrategy<Option<String>> {
        let v = |xs: Vec<&'static str>| {
            proptest::option::of(prop::sample::select(xs).prop_map(str::to_string)).boxed()
        };
        match scope {
            User | Team => v(vec![
                "1",
                "2",
                " 2 ",
                "+2",
                "02",
                "3",
                "x",
                "",
                "99999999999999999999",
            ]),
            Department => v(vec![
                "Finance",
                "FINANCE ",
                "finance",
                "Sales",
                "  ",
                "ΣΟΦΙΑ",
                "σοφια",
                "Ärzte",
            ]),
            Division => v(vec!["EMEA", " emea", "APAC", ""]),
            All => v(vec!["ignored"]),
        }
    }

    fn arb_wide_user() -> impl Strategy<Value = SubjectUser> {
        (
            1i64..4,
            proptest::option::of(prop::sample::select(vec![
                "Finance",
                "finance ",
                "Sales",
                "",
                "σοφιά",
                "Σοφια",
                "ärzte",
            ])),
            proptest::option::of(prop::sample::select(vec!["EMEA", "emea", "APAC", " "])),
            prop::collection::vec(1i64..5, 0..4),
        )
            .prop_map(|(id, dept, div, teams)| SubjectUser {
                id,
                is_active: true,
                department: dept.map(str::to_string),
                division: div.map(str::to_string),
                active_team_ids: teams,
                seniority_level: None,
            })
    }

    fn arb_catalogue_rules() -> impl Strategy<Value = Vec<(i64, EligibilityRule)>> {
        let scope = prop::sample::select(vec![User, Team, Department, Division, All]);
        prop::collection::vec(
            (
                1i64..5,
                scope.prop_flat_map(|s| (Just(s), arb_stored_value(s))),
                any::<bool>(),
                arb_window(),
                0i64..3,
            ),
            0..24,
        )
        .prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(
                    |(i, (role_id, (scope_type, scope_value), can_request, window, priority))| {
                        (
                            role_id,
                            EligibilityRule {
                                id: i as i64 + 1,
                                scope_type,
                                scope_value,
                                can_request,
                                window,
                                priority,
                            },
                        )
                    },
                )
                .collect()
        })
    }

    proptest! {
        #[test]
        fn a_rule_matches_exactly_when_its_key_is_the_users(
            u in arb_wide_user(),
            (scope_type, scope_value) in prop::sample::select(vec![User, Team, Department, Division, All])
                .prop_flat_map(|s| (Just(s), arb_stored_value(s))),
        ) {
            let r = EligibilityRule {
                id: 1, scope_type, scope_value: scope_value.clone(), can_request: true,
                window: Window::ALWAYS, priority: 0,
            };
            let by_key = rule_key(scope_type, scope_value.as_deref())
                .is_some_and(|k| subject_keys(&u).contains(&k));
            prop_assert_eq!(rule_matches(&r, &u), by_key);
        }

        #[test]
        fn name_keys_are_equal_exactly_for_same_names(
            a in "[ aAΣσςä]{0,4}", b in "[ aAΣσςä]{0,4}"
        ) {
            let keyed = name_key(&a).is_some() && name_key(&a) == name_key(&b);
            prop_assert_eq!(same_name(&a, &b), keyed);
        }

        #[test]
        fn the_index_decides_every_role_as_the_reference_does(
            u in arb_wide_user(), rules in arb_catalogue_rules(), o in arb_override()
        ) {
            let index = RuleIndex::new(rules.clone());
            let matching = index.matching(&u);
            for role_id in 1..5 {
                let r = RoleFacts { id: role_id, ..role() };
                let all: Vec<EligibilityRule> = rules
                    .iter()
                    .filter(|(id, _)| *id == role_id)
                    .map(|(_, rule)| rule.clone())
                    .collect();
                let reference = resolve_eligibility(&u, &r, o.as_ref(), &all, now());
                let indexed = resolve_eligibility(
                    &u, &r, o.as_ref(),
                    matching.get(&role_id).map_or(&[][..], Vec::as_slice), now(),
                );
                prop_assert_eq!(indexed, reference);
            }
        }
    }
}
