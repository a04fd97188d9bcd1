//! Separation of duties: nobody changes the facts that decide their own access.
//!
//! Why: eligibility, auto-approval and approver rights are computed from a user's seniority,
//! department, division, manager, team memberships, app roles and per-user overrides (and
//! rules that name the user). If a person could edit those facts about themselves, every
//! other guardrail (approval, eligibility, "no self-approval") could be sidestepped in two
//! steps. So a change to any of them is refused when the actor is the subject, admins
//! included: another admin must make it, and that change is audited with before and after.
//!
//! This module is the single rule; `workflow::separation` applies it (and audits refusals),
//! and every handler that changes such a fact calls it. Facts that only describe a person
//! (display name, e-mail, job title) are not covered: they decide nothing.

use jitea_shared::{User, UserUpdate};

use super::same_name;

/// A fact about a user that decides what that user may access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fact {
    Seniority,
    Department,
    Division,
    Manager,
    TeamMembership,
    AppRoles,
    EligibilityOverride,
    /// An eligibility rule of scope `user` that names the user.
    EligibilityRule,
}

impl Fact {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Seniority => "seniority_level",
            Self::Department => "department",
            Self::Division => "division",
            Self::Manager => "manager",
            Self::TeamMembership => "team_membership",
            Self::AppRoles => "app_roles",
            Self::EligibilityOverride => "eligibility_override",
            Self::EligibilityRule => "eligibility_rule",
        }
    }
}

/// Whether `actor_id` may change access-deciding facts of `subject_id`: never their own.
pub fn may_change_subject(actor_id: i64, subject_id: i64) -> bool {
    actor_id != subject_id
}

/// The access-deciding facts that applying `patch` to `before` would actually change.
/// A field sent with its current value changes nothing (forms often send every field).
pub fn changed_facts(before: &User, patch: &UserUpdate) -> Vec<Fact> {
    let mut out = Vec::new();
    if patch
        .seniority_level
        .is_some_and(|s| before.seniority_level != s)
    {
        out.push(Fact::Seniority);
    }
    if patch
        .department
        .as_ref()
        .is_some_and(|d| *d != before.department)
    {
        out.push(Fact::Department);
    }
    if patch
        .division
        .as_ref()
        .is_some_and(|d| *d != before.division)
    {
        out.push(Fact::Division);
    }
    if patch
        .manager_login_name
        .as_ref()
        .is_some_and(|m| *m != before.manager_login_name)
    {
        out.push(Fact::Manager);
    }
    let admin = patch.is_admin.is_some_and(|v| v != before.is_admin);
    let auditor = patch.is_auditor.is_some_and(|v| v != before.is_auditor);
    if admin || auditor {
        out.push(Fact::AppRoles);
    }
    out
}

/// Whether creating a user with `new_login` would make them `actor`'s manager (the manager
/// decides the actor's requests, so the actor would be choosing their own approver).
pub fn creates_own_manager(actor: &User, new_login: &str) -> bool {
    actor
        .manager_login_name
        .as_deref()
        .is_some_and(|m| same_name(m, new_login))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> User {
        let now = crate::clock::Clock::now(&crate::clock::SystemClock);
        User {
            id: 7,
            login_name: "ada".into(),
            given_name: None,
            surname: None,
            display_name: None,
            email: None,
            division: Some("Tech".into()),
            department: Some("Platform".into()),
            job_title: None,
            seniority_level: Some(3),
            manager_login_name: Some("CORP\\boss".into()),
            is_active: true,
            is_admin: true,
            is_auditor: false,
            has_password: true,
            source: "local".into(),
            external_id: None,
            last_ad_sync_utc: None,
            created_utc: now,
            updated_utc: now,
            created_by: "x".into(),
            updated_by: "x".into(),
        }
    }

    #[test]
    fn nobody_changes_their_own_facts() {
        assert!(!may_change_subject(7, 7));
        assert!(may_change_subject(7, 8));
    }

    #[test]
    fn only_real_changes_of_deciding_facts_count() {
        let u = user();
        let none = UserUpdate::default();
        assert!(changed_facts(&u, &none).is_empty());
        let same = UserUpdate {
            seniority_level: Some(Some(3)),
            department: Some(Some("Platform".into())),
            division: Some(Some("Tech".into())),
            manager_login_name: Some(Some("CORP\\boss".into())),
            is_admin: Some(true),
            is_auditor: Some(false),
            display_name: Some(Some("New name".into())),
            ..Default::default()
        };
        assert!(changed_facts(&u, &same).is_empty());
        let all = UserUpdate {
            seniority_level: Some(Some(9)),
            department: Some(None),
            division: Some(Some("Other".into())),
            manager_login_name: Some(None),
            is_auditor: Some(true),
            ..Default::default()
        };
        assert_eq!(
            changed_facts(&u, &all),
            vec![
                Fact::Seniority,
                Fact::Department,
                Fact::Division,
                Fact::Manager,
                Fact::AppRoles
            ]
        );
    }

    #[test]
    fn creating_your_own_manager_is_noticed() {
        let u = user();
        assert!(creates_own_manager(&u, "corp\\BOSS"));
        assert!(!creates_own_manager(&u, "someone"));
        let no_manager = User {
            manager_login_name: None,
            ..user()
        };
        assert!(!creates_own_manager(&no_manager, "corp\\boss"));
    }
}
