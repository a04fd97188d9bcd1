//! Extensions: how much more time a live grant may get, and the limits a role sets on it.
//!
//! Why here: the extension request, its approval and the web app's "Extend" offer must agree
//! on the same limits; the request and the approval both call [`check`] with the grant as it
//! is at that moment and `now` as a parameter.

use chrono::{DateTime, TimeDelta, Utc};

use super::validation::FieldError;

/// The longest approval window a role may set: 30 days.
pub const MAX_APPROVAL_WINDOW_MINUTES: i64 = 43_200;
/// The most extensions a role may allow per grant.
pub const MAX_EXTENSIONS_LIMIT: i64 = 100;
/// The longest total a role may allow: three years.
pub const MAX_TOTAL_MINUTES_LIMIT: i64 = 1_576_800;

/// A role's limits on extensions, with its defaults applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtensionLimits {
    /// Longest single extension (default: the role's maximum duration).
    pub max_single_minutes: i64,
    /// Most extensions per grant (default 3).
    pub max_extensions: i64,
    /// Longest a grant may last from its start, extensions included (default 3 × maximum).
    pub max_total_minutes: i64,
}

impl ExtensionLimits {
    pub fn for_role(
        max_duration_minutes: i64,
        max_extension_minutes: Option<i64>,
        max_extensions: i64,
        max_total_minutes: Option<i64>,
    ) -> Self {
        Self {
            max_single_minutes: max_extension_minutes.unwrap_or(max_duration_minutes),
            max_extensions,
            max_total_minutes: max_total_minutes
                .unwrap_or_else(|| max_duration_minutes.saturating_mul(3)),
        }
    }
}

/// The facts about a grant an extension depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrantFacts {
    /// `active` (a grant still provisioning or already ended cannot be extended).
    pub active: bool,
    /// An early end (revoke, failure) has been decided.
    pub ending: bool,
    pub valid_from: DateTime<Utc>,
    pub valid_to: DateTime<Utc>,
    /// Extensions approved so far.
    pub extensions: i64,
}

/// Why an extension is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The grant is not active, is ending or has ended.
    NotExtendable,
    /// The grant already had the most extensions the role allows.
    TooMany { max: i64 },
    /// More minutes than one extension may add.
    TooLong { max: i64 },
    /// The grant would last longer than the role allows in total.
    TotalExceeded { max_total: i64, total_after: i64 },
}

impl Refusal {
    /// The stable error code clients see.
    pub fn code(self) -> &'static str {
        match self {
            Self::NotExtendable => "grant_not_extendable",
            Self::TooMany { .. } => "too_many_extensions",
            Self::TooLong { .. } => "extension_too_long",
            Self::TotalExceeded { .. } => "total_duration_exceeded",
        }
    }

    pub fn message(self) -> String {
        match self {
            Self::NotExtendable => {
                "only an active grant that is not ending can be extended".to_string()
            }
            Self::TooMany { max } => {
                format!("this grant has had the most extensions the role allows ({max})")
            }
            Self::TooLong { max } => {
                format!("one extension can add between 1 and {max} minutes for this role")
            }
            Self::TotalExceeded {
                max_total,
                total_after,
            } => format!(
                "with this extension the access would last {total_after} minutes in all; the role allows at most {max_total}"
            ),
        }
    }
}

/// Whole minutes from `from` to `to`, rounded up.
fn minutes_between(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    let d = to - from;
    let whole = d.num_minutes();
    if d > TimeDelta::minutes(whole) {
        whole + 1
    } else {
        whole
    }
}

/// Checks an extension of `extra_minutes` on grant `g` at `now` and returns the grant's new
/// end. A grant that is due (`valid_to <= now`) counts as ended: the engine may already be
/// removing it.
pub fn check(
    limits: &ExtensionLimits,
    g: &GrantFacts,
    extra_minutes: i64,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, Refusal> {
    if !g.active || g.ending || g.valid_to <= now {
        return Err(Refusal::NotExtendable);
    }
    if g.extensions >= limits.max_extensions {
        return Err(Refusal::TooMany {
            max: limits.max_extensions,
        });
    }
    if !(1..=limits.max_single_minutes).contains(&extra_minutes) {
        return Err(Refusal::TooLong {
            max: limits.max_single_minutes,
        });
    }
    let new_end = TimeDelta::try_minutes(extra_minutes)
        .and_then(|d| g.valid_to.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let total_after = minutes_between(g.valid_from, new_end);
    if total_after > limits.max_total_minutes {
        return Err(Refusal::TotalExceeded {
            max_total: limits.max_total_minutes,
            total_after,
        });
    }
    Ok(new_end)
}

/// Checks a role's lifecycle settings (approval window and extension limits) before they are
/// saved.
pub fn validate_settings(
    max_duration_minutes: i64,
    approval_window_minutes: i64,
    max_extension_minutes: Option<i64>,
    max_extensions: i64,
    max_total_minutes: Option<i64>,
) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    if !(1..=MAX_APPROVAL_WINDOW_MINUTES).contains(&approval_window_minutes) {
        errors.push(FieldError::new(
            "approval_window_minutes",
            "approval_window_out_of_range",
            format!("the approval window must be between 1 and {MAX_APPROVAL_WINDOW_MINUTES} minutes (30 days)"),
        ));
    }
    if max_extension_minutes
        .is_some_and(|m| !(1..=super::validation::MAX_ROLE_DURATION_MINUTES).contains(&m))
    {
        errors.push(FieldError::new(
            "max_extension_minutes",
            "max_extension_out_of_range",
            format!(
                "the longest extension must be between 1 and {} minutes",
                super::validation::MAX_ROLE_DURATION_MINUTES
            ),
        ));
    }
    if !(0..=MAX_EXTENSIONS_LIMIT).contains(&max_extensions) {
        errors.push(FieldError::new(
            "max_extensions",
            "max_extensions_out_of_range",
            format!("the number of extensions must be between 0 and {MAX_EXTENSIONS_LIMIT}"),
        ));
    }
    if max_total_minutes.is_some_and(|t| t < max_duration_minutes || t > MAX_TOTAL_MINUTES_LIMIT) {
        errors.push(FieldError::new(
            "max_total_minutes",
            "max_total_out_of_range",
            format!("the longest total must be between the role's maximum duration ({max_duration_minutes}) and {MAX_TOTAL_MINUTES_LIMIT} minutes"),
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 2, 12, 0, 0).unwrap()
    }

    fn grant(extensions: i64) -> GrantFacts {
        GrantFacts {
            active: true,
            ending: false,
            valid_from: t0(),
            valid_to: t0() + TimeDelta::minutes(60),
            extensions,
        }
    }

    fn limits() -> ExtensionLimits {
        ExtensionLimits::for_role(60, None, 3, None)
    }

    #[test]
    fn defaults_follow_the_role_maximum() {
        assert_eq!(
            limits(),
            ExtensionLimits {
                max_single_minutes: 60,
                max_extensions: 3,
                max_total_minutes: 180
            }
        );
        let custom = ExtensionLimits::for_role(60, Some(15), 1, Some(90));
        assert_eq!(custom.max_single_minutes, 15);
        assert_eq!(custom.max_total_minutes, 90);
    }

    #[test]
    fn an_extension_moves_the_end_by_the_extra_minutes() {
        let now = t0() + TimeDelta::minutes(50);
        assert_eq!(
            check(&limits(), &grant(0), 30, now),
            Ok(t0() + TimeDelta::minutes(90))
        );
    }

    #[test]
    fn refusals_have_their_own_codes() {
        let now = t0() + TimeDelta::minutes(50);
        let l = limits();
        assert_eq!(
            check(&l, &grant(3), 10, now).unwrap_err().code(),
            "too_many_extensions"
        );
        assert_eq!(
            check(&l, &grant(0), 61, now).unwrap_err().code(),
            "extension_too_long"
        );
        assert_eq!(
            check(&l, &grant(0), 0, now).unwrap_err().code(),
            "extension_too_long"
        );
        // 60 + 60 + 60 = 180 is allowed, one more minute is not.
        let mut g = grant(2);
        g.valid_to = t0() + TimeDelta::minutes(120);
        assert!(check(&l, &g, 60, now).is_ok());
        g.valid_to = t0() + TimeDelta::minutes(121);
        assert_eq!(
            check(&l, &g, 60, now),
            Err(Refusal::TotalExceeded {
                max_total: 180,
                total_after: 181
            })
        );
    }

    #[test]
    fn a_grant_that_is_due_ending_or_not_active_cannot_be_extended() {
        let g = grant(0);
        assert_eq!(
            check(&limits(), &g, 10, g.valid_to),
            Err(Refusal::NotExtendable)
        );
        let ending = GrantFacts { ending: true, ..g };
        assert_eq!(
            check(&limits(), &ending, 10, t0()),
            Err(Refusal::NotExtendable)
        );
        let provisioning = GrantFacts { active: false, ..g };
        assert_eq!(
            check(&limits(), &provisioning, 10, t0()),
            Err(Refusal::NotExtendable)
        );
    }

    #[test]
    fn settings_are_checked() {
        assert!(validate_settings(60, 1440, None, 3, None).is_ok());
        let errs = validate_settings(60, 0, Some(0), 101, Some(59)).unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "approval_window_minutes",
                "max_extension_minutes",
                "max_extensions",
                "max_total_minutes"
            ]
        );
    }

    proptest! {
        /// Whatever the limits and the grant, an accepted extension never lets the grant last
        /// longer than the role's total, never adds more than one extension may, and always
        /// moves the end later.
        #[test]
        fn accepted_extensions_stay_within_every_limit(
            max in 1i64..2000, single in proptest::option::of(1i64..2000),
            count in 0i64..5, total in proptest::option::of(1i64..6000),
            held in 1i64..4000, done in 0i64..6, extra in -5i64..2500, elapsed in 0i64..4000,
        ) {
            let l = ExtensionLimits::for_role(max, single, count, total);
            let g = GrantFacts {
                active: true, ending: false, valid_from: t0(),
                valid_to: t0() + TimeDelta::minutes(held), extensions: done,
            };
            let now = t0() + TimeDelta::minutes(elapsed);
            if let Ok(end) = check(&l, &g, extra, now) {
                prop_assert!(end > g.valid_to);
                prop_assert!(extra <= l.max_single_minutes);
                prop_assert!(done < l.max_extensions);
                prop_assert!((end - g.valid_from).num_minutes() <= l.max_total_minutes);
                prop_assert!(now < g.valid_to);
            }
        }
    }
}
