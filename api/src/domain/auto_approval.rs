//! Whether a new request skips the human approval step (seed 2.5, exactly).
//!
//! Why only two reasons: the seed names them (`PreApprovedRole`, `SeniorityBypass`) and they
//! are recorded on the request and in the audit log, so an auditor can tell a policy decision
//! from a human one. Eligibility is checked before this and is not repeated here.

use jitea_shared::AutoApprovalReason;

use super::RoleFacts;

/// `None` means the request stays `pending` until an approver decides.
///
/// 1. A role that does not require approval is pre-approved.
/// 2. Otherwise, if the role sets a minimum seniority and the user has a seniority level at
///    least that high, seniority bypasses approval.
/// 3. Otherwise a human must approve. A user without a seniority level never bypasses.
pub fn auto_approval(role: &RoleFacts, user_seniority: Option<i64>) -> Option<AutoApprovalReason> {
    if !role.requires_approval {
        return Some(AutoApprovalReason::PreApprovedRole);
    }
    match (role.auto_approve_min_seniority, user_seniority) {
        (Some(min), Some(level)) if level >= min => Some(AutoApprovalReason::SeniorityBypass),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use AutoApprovalReason::{PreApprovedRole, SeniorityBypass};

    fn role(requires_approval: bool, min: Option<i64>) -> RoleFacts {
        RoleFacts {
            id: 1,
            is_enabled: true,
            requires_approval,
            auto_approve_min_seniority: min,
            max_duration_minutes: 60,
            requires_ticket: false,
            ticket_regex: None,
            requires_justification: false,
        }
    }

    #[test]
    fn seed_2_5_table() {
        // (requires_approval, min seniority, user seniority, expected)
        let cases = [
            (false, None, None, Some(PreApprovedRole)),
            (false, Some(5), Some(1), Some(PreApprovedRole)),
            (false, Some(5), Some(9), Some(PreApprovedRole)), // rule 1 comes first
            (false, None, Some(9), Some(PreApprovedRole)),
            (true, None, None, None),
            (true, None, Some(100), None),
            (true, Some(5), None, None), // no seniority never bypasses
            (true, Some(5), Some(4), None),
            (true, Some(5), Some(5), Some(SeniorityBypass)), // >= is inclusive
            (true, Some(5), Some(6), Some(SeniorityBypass)),
            (true, Some(0), Some(0), Some(SeniorityBypass)),
            (true, Some(0), None, None),
        ];
        for (requires, min, level, expected) in cases {
            assert_eq!(
                auto_approval(&role(requires, min), level),
                expected,
                "requires_approval={requires} min={min:?} level={level:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn roles_without_approval_are_always_pre_approved(
            min in proptest::option::of(-10i64..10), level in proptest::option::of(-10i64..10)
        ) {
            prop_assert_eq!(auto_approval(&role(false, min), level), Some(PreApprovedRole));
        }

        #[test]
        fn seniority_bypass_iff_level_reaches_minimum(
            min in proptest::option::of(-10i64..10), level in proptest::option::of(-10i64..10)
        ) {
            let bypass = matches!((min, level), (Some(m), Some(l)) if l >= m);
            let expected = if bypass { Some(SeniorityBypass) } else { None };
            prop_assert_eq!(auto_approval(&role(true, min), level), expected);
        }

        #[test]
        fn more_seniority_never_removes_a_bypass(
            min in -10i64..10, level in -10i64..10, extra in 0i64..10
        ) {
            if auto_approval(&role(true, Some(min)), Some(level)).is_some() {
                prop_assert!(auto_approval(&role(true, Some(min)), Some(level + extra)).is_some());
            }
        }
    }
}
