//! Break-glass access: the rules, without I/O.
//!
//! A role marked `break_glass` grants at once to eligible users, bypassing approvers, but only
//! with a justification, and every such grant needs an after-the-fact review by someone who
//! may decide the role's requests (never its holder), within the role's review window.
//! Why break-glass wins over the other auto-approval reasons: a pre-approved or seniority
//! bypass is quiet by design; a break-glass grant must always be loud and reviewed, whatever
//! else the role says.

use chrono::{DateTime, TimeDelta, Utc};
use jitea_shared::{AutoApprovalReason, BreakGlassStatus, ReviewOutcome};

use super::validation::FieldError;

/// Longest review window a role may set: 30 days.
pub const MAX_REVIEW_WINDOW_MINUTES: i64 = 43_200;
/// Longest review comment, in characters (after trimming).
pub const MAX_REVIEW_COMMENT_CHARS: usize = 4000;

/// How a request for a role is approved: a break-glass role always by `break_glass` (at once);
/// otherwise the role's policy (`policy`, from `domain::auto_approval`).
pub fn approval(
    break_glass: bool,
    policy: Option<AutoApprovalReason>,
) -> Option<AutoApprovalReason> {
    if break_glass {
        Some(AutoApprovalReason::BreakGlass)
    } else {
        policy
    }
}

/// Whether a request for the role needs a justification: always for break-glass.
pub fn requires_justification(role_requires: bool, break_glass: bool) -> bool {
    role_requires || break_glass
}

/// When the review of a break-glass grant issued at `now` is due.
pub fn review_due(now: DateTime<Utc>, review_window_minutes: i64) -> DateTime<Utc> {
    now.checked_add_signed(TimeDelta::minutes(review_window_minutes))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// A role's review window must be 1..=30 days (in minutes).
pub fn validate_settings(review_window_minutes: i64) -> Result<(), Vec<FieldError>> {
    if (1..=MAX_REVIEW_WINDOW_MINUTES).contains(&review_window_minutes) {
        return Ok(());
    }
    Err(vec![FieldError::new(
        "review_window_minutes",
        "review_window_out_of_range",
        format!(
            "the review window must be between 1 and {MAX_REVIEW_WINDOW_MINUTES} minutes (30 days)"
        ),
    )])
}

/// A review as asked for: the comment trimmed, 1..=4000 characters; `revoke` only with `flag`.
/// Returns the trimmed comment.
pub fn validate_review(
    outcome: ReviewOutcome,
    comment: &str,
    revoke: bool,
) -> Result<String, Vec<FieldError>> {
    let comment = comment.trim();
    let mut errors = Vec::new();
    if comment.is_empty() {
        errors.push(FieldError::new(
            "comment",
            "comment_required",
            "a review needs a comment",
        ));
    } else if comment.chars().count() > MAX_REVIEW_COMMENT_CHARS {
        errors.push(FieldError::new(
            "comment",
            "comment_too_long",
            format!("the comment must be at most {MAX_REVIEW_COMMENT_CHARS} characters"),
        ));
    }
    if revoke && outcome != ReviewOutcome::Flag {
        errors.push(FieldError::new(
            "revoke",
            "revoke_needs_flag",
            "only a `flag` review can revoke the grant",
        ));
    }
    if errors.is_empty() {
        Ok(comment.to_string())
    } else {
        Err(errors)
    }
}

/// What decides whether a grant may be reviewed by someone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReviewFacts {
    pub break_glass: bool,
    pub holder_id: i64,
    pub reviewed: bool,
}

/// Why a review is refused, in the order the checks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewRefusal {
    /// The holder reviewing their own grant (403 `self_review`).
    SelfReview,
    /// The caller may not decide the role's requests (404, or 403 for auditors and admins).
    NotAnApprover,
    /// Only break-glass grants are reviewed (409 `not_break_glass`).
    NotBreakGlass,
    /// A grant is reviewed once (409 `already_reviewed`).
    AlreadyReviewed,
}

/// May `reviewer_id` (who `may_decide` the role's requests, by `decision_right`) review the
/// grant? Checked before the compare-and-set that records the review, which settles races.
pub fn check_review(
    facts: ReviewFacts,
    reviewer_id: i64,
    may_decide: bool,
) -> Result<(), ReviewRefusal> {
    if reviewer_id == facts.holder_id {
        return Err(ReviewRefusal::SelfReview);
    }
    if !may_decide {
        return Err(ReviewRefusal::NotAnApprover);
    }
    if !facts.break_glass {
        return Err(ReviewRefusal::NotBreakGlass);
    }
    if facts.reviewed {
        return Err(ReviewRefusal::AlreadyReviewed);
    }
    Ok(())
}

/// Where a break-glass grant's review stands at `now`.
pub fn status(
    review_due: Option<DateTime<Utc>>,
    outcome: Option<ReviewOutcome>,
    now: DateTime<Utc>,
) -> BreakGlassStatus {
    match outcome {
        Some(ReviewOutcome::Accept) => BreakGlassStatus::Accepted,
        Some(ReviewOutcome::Flag) => BreakGlassStatus::Flagged,
        None if review_due.is_some_and(|d| d <= now) => BreakGlassStatus::Overdue,
        None => BreakGlassStatus::Unreviewed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;
    use AutoApprovalReason::{BreakGlass, PreApprovedRole, SeniorityBypass};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 3, 8, 0, 0).unwrap()
    }

    #[test]
    fn break_glass_wins_over_every_policy() {
        for policy in [None, Some(PreApprovedRole), Some(SeniorityBypass)] {
            assert_eq!(approval(true, policy), Some(BreakGlass));
            assert_eq!(approval(false, policy), policy);
        }
    }

    #[test]
    fn a_justification_is_always_required_for_break_glass() {
        assert!(requires_justification(false, true));
        assert!(requires_justification(true, true));
        assert!(requires_justification(true, false));
        assert!(!requires_justification(false, false));
    }

    #[test]
    fn the_review_is_due_one_window_after_the_grant() {
        assert_eq!(review_due(t0(), 90), t0() + TimeDelta::minutes(90));
        assert_eq!(
            review_due(DateTime::<Utc>::MAX_UTC, 1),
            DateTime::<Utc>::MAX_UTC
        );
    }

    #[test]
    fn the_review_window_is_one_minute_to_thirty_days() {
        for ok in [1, 1440, MAX_REVIEW_WINDOW_MINUTES] {
            assert!(validate_settings(ok).is_ok(), "{ok}");
        }
        for bad in [i64::MIN, -1, 0, MAX_REVIEW_WINDOW_MINUTES + 1, i64::MAX] {
            let e = validate_settings(bad).unwrap_err();
            assert_eq!(e[0].field, "review_window_minutes");
            assert_eq!(e[0].code, "review_window_out_of_range");
        }
    }

    #[test]
    fn a_review_needs_a_comment_and_only_a_flag_revokes() {
        use ReviewOutcome::{Accept, Flag};
        assert_eq!(validate_review(Accept, "  fine  ", false).unwrap(), "fine");
        assert_eq!(validate_review(Flag, "no", true).unwrap(), "no");
        let codes = |r: Result<String, Vec<FieldError>>| -> Vec<&'static str> {
            r.unwrap_err().iter().map(|e| e.code).collect()
        };
        assert_eq!(
            codes(validate_review(Accept, " \n\t", false)),
            ["comment_required"]
        );
        assert_eq!(
            codes(validate_review(Accept, &"x".repeat(4001), false)),
            ["comment_too_long"]
        );
        assert!(validate_review(Accept, &"é".repeat(4000), false).is_ok());
        assert_eq!(
            codes(validate_review(Accept, "", true)),
            ["comment_required", "revoke_needs_flag"]
        );
    }

    #[test]
    fn review_refusals_in_order() {
        let f = |bg, reviewed| ReviewFacts {
            break_glass: bg,
            holder_id: 1,
            reviewed,
        };
        use ReviewRefusal::*;
        // (facts, reviewer, may decide, expected)
        let cases = [
            (f(true, false), 2, true, Ok(())),
            (f(true, false), 1, true, Err(SelfReview)), // even if the holder were an approver
            (f(false, true), 1, false, Err(SelfReview)),
            (f(true, false), 2, false, Err(NotAnApprover)),
            (f(false, false), 2, false, Err(NotAnApprover)), // learns nothing about the grant
            (f(false, false), 2, true, Err(NotBreakGlass)),
            (f(true, true), 2, true, Err(AlreadyReviewed)),
        ];
        for (facts, reviewer, may, expected) in cases {
            assert_eq!(
                check_review(facts, reviewer, may),
                expected,
                "{facts:?} {reviewer} {may}"
            );
        }
    }

    #[test]
    fn status_of_a_review() {
        let due = Some(t0());
        let before = t0() - TimeDelta::seconds(1);
        assert_eq!(status(due, None, before), BreakGlassStatus::Unreviewed);
        assert_eq!(status(due, None, t0()), BreakGlassStatus::Overdue);
        assert_eq!(status(None, None, t0()), BreakGlassStatus::Unreviewed);
        for now in [before, t0() + TimeDelta::days(9)] {
            assert_eq!(
                status(due, Some(ReviewOutcome::Accept), now),
                BreakGlassStatus::Accepted
            );
            assert_eq!(
                status(due, Some(ReviewOutcome::Flag), now),
                BreakGlassStatus::Flagged
            );
        }
    }

    proptest! {
        #[test]
        fn only_someone_else_who_may_decide_reviews_an_unreviewed_break_glass_grant(
            bg: bool, reviewed: bool, holder in 1i64..4, reviewer in 1i64..4, may: bool
        ) {
            let facts = ReviewFacts { break_glass: bg, holder_id: holder, reviewed };
            let allowed = check_review(facts, reviewer, may).is_ok();
            prop_assert_eq!(allowed, bg && !reviewed && may && holder != reviewer);
        }

        #[test]
        fn overdue_iff_unreviewed_and_due(secs in -100_000i64..100_000, reviewed in proptest::option::of(any::<bool>())) {
            let now = t0() + TimeDelta::seconds(secs);
            let outcome = reviewed.map(|a| if a { ReviewOutcome::Accept } else { ReviewOutcome::Flag });
            let s = status(Some(t0()), outcome, now);
            prop_assert_eq!(s == BreakGlassStatus::Overdue, outcome.is_none() && now >= t0());
        }
    }
}
