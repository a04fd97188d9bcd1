//! Pure business rules of JITEA: eligibility resolution, the auto-approval decision, request
//! and role-setting validation, state transitions, approver matching and duration math.
//!
//! Why a separate layer: these are the rules the seed kept in T-SQL stored procedures. Keeping
//! them free of I/O, async and clocks (`now` is always a parameter) lets every database
//! dialect, every HTTP handler and every background job share one implementation, and lets
//! the rules be tested exhaustively with tables and property tests instead of through a
//! database. Callers load the facts (user, role, rules, approvers), call a function here, and
//! persist the outcome.

pub mod approval_stages;
pub mod approvers;
pub mod auto_approval;
pub mod break_glass;
pub mod duration;
pub mod eligibility;
pub mod entitlements;
pub mod errors;
pub mod extension;
pub mod notifications;
pub mod separation;
pub mod throttle;
pub mod transitions;
pub mod validation;
pub mod window;

pub use approvers::{may_approve, may_approve_at, ApproverEntry, Candidate, Requester};
pub use auto_approval::auto_approval;
pub use duration::{grant_window, is_due, remaining_seconds};
pub use eligibility::{
    resolve_eligibility, Eligibility, EligibilityOverride, EligibilityReason, EligibilityRule,
    RoleFacts, SubjectUser,
};
pub use errors::DomainError;
pub use transitions::{
    grant_is_terminal, grant_transition, is_idempotent_grant_repeat, is_idempotent_repeat,
    request_is_terminal, request_transition, GrantAction, GrantTransitionError, RequestAction,
    TransitionError,
};
pub use validation::{
    validate_reason, validate_request, validate_role_settings, validate_ticket_regex, FieldError,
    RequestInput,
};
pub use window::Window;

/// Compares two organisational names (department, division, login name) the way the seed's
/// SQL Server did with its default case-insensitive collation, ignoring surrounding
/// whitespace that directory syncs tend to leave behind.
///
/// A blank value never matches anything: an empty department on a rule is an administrator's
/// mistake and must not quietly match every user whose department is also empty.
pub fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() || b.is_empty() {
        return false;
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

#[cfg(test)]
mod tests {
    use super::same_name;
    use proptest::prelude::*;

    #[test]
    fn same_name_table() {
        let cases = [
            ("Finance", "Finance", true),
            ("Finance", "finance", true),
            ("  Finance ", "FINANCE", true),
            ("Straße", "STRASSE", false), // lower-casing, not full case folding
            ("Ärzte", "ärzte", true),
            ("Finance", "Finances", false),
            ("", "", false),
            ("  ", " ", false),
            ("", "Finance", false),
        ];
        for (a, b, expected) in cases {
            assert_eq!(same_name(a, b), expected, "same_name({a:?}, {b:?})");
        }
    }

    proptest! {
        #[test]
        fn same_name_is_symmetric(a in "[ a-zA-Z]{0,8}", b in "[ a-zA-Z]{0,8}") {
            prop_assert_eq!(same_name(&a, &b), same_name(&b, &a));
        }

        #[test]
        fn same_name_ignores_case_and_padding(a in "[a-zA-Z]{1,8}", pad in " {0,3}") {
            let padded = format!("{pad}{}{pad}", a.to_uppercase());
            prop_assert!(same_name(&a, &padded));
        }
    }
}
