//! How many approvals a request needs, and whose approval counts next (issue 10 item 3).
//!
//! A role may require `required_approvals` distinct approvals (1..=5). Without stages, any
//! approvers of the request give them, in any order. With `approval_stages`, the role's
//! approver entries form stages by their `priority` (the seed's "approval order"; lowest
//! first): stage k opens when stage k-1 has approved, each stage gives one approval, and the
//! last stage gives the rest. So a staged request needs at least one approval per stage:
//! `max(required_approvals, stages)`. A deny by anyone who may decide the request ends it at
//! any stage (a later stage may veto early); approvals only count from the open stage.

use super::validation::FieldError;

/// The most approvals a role may require.
pub const MAX_REQUIRED_APPROVALS: i64 = 5;

/// The rule a request was asked under (copied from its role when it was made).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApprovalRule {
    pub required: i64,
    pub staged: bool,
}

/// Where a pending request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Distinct approvals so far.
    pub approved: i64,
    /// Approvals needed in all (at least one per stage when staged).
    pub required: i64,
    /// The open stage, 1-based (None without stages).
    pub stage: Option<i64>,
    /// Number of stages (1 without stages).
    pub stages: i64,
    /// The `priority` of the approver entries whose approval counts now (None: any entry).
    pub open_priority: Option<i64>,
}

impl Progress {
    /// Whether the approvals so far are enough.
    pub fn complete(&self) -> bool {
        self.approved >= self.required
    }
}

/// The stages of a role: its approver entries' distinct priorities, lowest first.
pub fn stage_priorities(priorities: impl IntoIterator<Item = i64>) -> Vec<i64> {
    let mut p: Vec<i64> = priorities.into_iter().collect();
    p.sort_unstable();
    p.dedup();
    p
}

/// Where a request under `rule`, whose role's stages are `stages`, stands after `approved`
/// distinct approvals. A role whose entries all share one priority has one stage: staging
/// then changes nothing.
pub fn progress(rule: ApprovalRule, stages: &[i64], approved: i64) -> Progress {
    let required = rule.required.clamp(1, MAX_REQUIRED_APPROVALS);
    let approved = approved.max(0);
    if !rule.staged || stages.len() <= 1 {
        return Progress {
            approved,
            required,
            stage: None,
            stages: 1,
            open_priority: None,
        };
    }
    let count = i64::try_from(stages.len()).unwrap_or(i64::MAX);
    let open = approved.min(count - 1);
    Progress {
        approved,
        required: required.max(count),
        stage: Some(open + 1),
        stages: count,
        open_priority: usize::try_from(open)
            .ok()
            .and_then(|i| stages.get(i))
            .copied(),
    }
}

/// `progress` for a request asked under (`required`, `staged`) whose role's approver entries
/// have `priorities`.
pub fn progress_of(
    required: i64,
    staged: bool,
    priorities: impl IntoIterator<Item = i64>,
    approved: i64,
) -> Progress {
    let rule = ApprovalRule { required, staged };
    progress(rule, &stage_priorities(priorities), approved)
}

/// Checks a role's `required_approvals` before it is saved.
pub fn validate_required_approvals(required: i64) -> Result<(), Vec<FieldError>> {
    if (1..=MAX_REQUIRED_APPROVALS).contains(&required) {
        return Ok(());
    }
    Err(vec![FieldError::new(
        "required_approvals",
        "required_approvals_out_of_range",
        format!("a role requires between 1 and {MAX_REQUIRED_APPROVALS} approvals"),
    )])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ONE: ApprovalRule = ApprovalRule {
        required: 1,
        staged: false,
    };

    #[test]
    fn one_approval_without_stages_is_todays_rule() {
        let p = progress(ONE, &[0, 5], 0);
        assert_eq!(
            (p.required, p.stage, p.stages, p.open_priority),
            (1, None, 1, None)
        );
        assert!(!p.complete());
        assert!(progress(ONE, &[0, 5], 1).complete());
    }

    #[test]
    fn unstaged_needs_n_from_anyone() {
        let rule = ApprovalRule {
            required: 3,
            staged: false,
        };
        assert!(!progress(rule, &[1, 2], 2).complete());
        assert!(progress(rule, &[1, 2], 3).complete());
        assert_eq!(progress(rule, &[1, 2], 2).open_priority, None);
    }

    #[test]
    fn stages_open_in_priority_order_and_the_last_gives_the_rest() {
        let rule = ApprovalRule {
            required: 3,
            staged: true,
        };
        let stages = stage_priorities([20, 10, 10, 20]);
        assert_eq!(stages, vec![10, 20]);
        let at = |n| progress(rule, &stages, n);
        assert_eq!((at(0).stage, at(0).open_priority), (Some(1), Some(10)));
        assert_eq!((at(1).stage, at(1).open_priority), (Some(2), Some(20)));
        assert_eq!((at(2).stage, at(2).open_priority), (Some(2), Some(20)));
        assert!(!at(2).complete());
        assert!(at(3).complete());
    }

    #[test]
    fn each_stage_approves_at_least_once() {
        let rule = ApprovalRule {
            required: 1,
            staged: true,
        };
        let p = progress(rule, &[1, 2, 3], 0);
        assert_eq!((p.required, p.stages), (3, 3));
    }

    #[test]
    fn one_stage_is_no_staging() {
        let rule = ApprovalRule {
            required: 2,
            staged: true,
        };
        let p = progress(rule, &[7], 1);
        assert_eq!((p.stage, p.open_priority, p.required), (None, None, 2));
    }

    #[test]
    fn the_limit_is_one_to_five() {
        assert!(validate_required_approvals(1).is_ok());
        assert!(validate_required_approvals(5).is_ok());
        for bad in [0, 6, -1, i64::MAX] {
            let e = validate_required_approvals(bad).unwrap_err();
            assert_eq!(e[0].code, "required_approvals_out_of_range");
        }
    }

    proptest! {
        /// The open stage never goes back, never passes the last, and stage k is open only
        /// once each earlier stage has given an approval; the total is never below the
        /// role's number.
        #[test]
        fn stages_advance_one_approval_at_a_time(
            required in 1i64..=5,
            staged: bool,
            prios in proptest::collection::vec(0i64..6, 0..6),
            approved in 0i64..12,
        ) {
            let rule = ApprovalRule { required, staged };
            let stages = stage_priorities(prios);
            let now = progress(rule, &stages, approved);
            let next = progress(rule, &stages, approved + 1);
            prop_assert!(now.required >= required);
            prop_assert!(now.stage <= next.stage);
            if let Some(k) = now.stage {
                prop_assert!(k <= now.stages);
                prop_assert!(approved >= k - 1);
                prop_assert!(now.required >= now.stages);
                prop_assert_eq!(now.open_priority, Some(stages[(k - 1) as usize]));
            }
            prop_assert_eq!(now.complete(), approved >= now.required);
        }
    }
}
