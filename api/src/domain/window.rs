//! Validity windows of eligibility rules and overrides.
//!
//! Why half-open `[valid_from, valid_to)`: a rule that ends at 12:00 and its successor that
//! starts at 12:00 must never both be active (nor both inactive) at 12:00 exactly. An unset
//! bound means "since forever" / "until further notice".

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::DomainError;

/// A time range during which a rule or override is in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Window {
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_to: Option<DateTime<Utc>>,
}

impl Window {
    /// A window with no bounds: always active.
    pub const ALWAYS: Window = Window {
        valid_from: None,
        valid_to: None,
    };

    /// Whether `now` lies inside `[valid_from, valid_to)`, treating unset bounds as open.
    ///
    /// An inverted window (from >= to) contains no instant; [`Window::validate`] keeps such
    /// windows out of the database, and this keeps them harmless if one slips in anyway.
    pub fn contains(&self, now: DateTime<Utc>) -> bool {
        self.valid_from.is_none_or(|from| from <= now) && self.valid_to.is_none_or(|to| now < to)
    }

    /// Rejects a window whose start is not strictly before its end (an empty window is
    /// never active, so saving one is a mistake, not a way to disable a rule).
    pub fn validate(&self) -> Result<(), DomainError> {
        match (self.valid_from, self.valid_to) {
            (Some(valid_from), Some(valid_to)) if valid_from >= valid_to => {
                Err(DomainError::InvalidWindow {
                    valid_from,
                    valid_to,
                })
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeDelta, TimeZone};
    use proptest::prelude::*;

    fn t(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 6, 1, h, 0, 0).unwrap()
    }

    fn w(from: Option<u32>, to: Option<u32>) -> Window {
        Window {
            valid_from: from.map(t),
            valid_to: to.map(t),
        }
    }

    #[test]
    fn contains_table() {
        // (window, now hour, expected)
        let cases = [
            (w(None, None), 10, true),
            (w(Some(10), None), 9, false),
            (w(Some(10), None), 10, true), // start is inclusive
            (w(Some(10), None), 11, true),
            (w(None, Some(10)), 9, true),
            (w(None, Some(10)), 10, false), // end is exclusive
            (w(Some(8), Some(12)), 8, true),
            (w(Some(8), Some(12)), 11, true),
            (w(Some(8), Some(12)), 12, false),
            (w(Some(8), Some(12)), 7, false),
            (w(Some(12), Some(8)), 10, false), // inverted: never active
            (w(Some(10), Some(10)), 10, false), // empty: never active
        ];
        for (window, now, expected) in cases {
            assert_eq!(window.contains(t(now)), expected, "{window:?} at {now}h");
        }
    }

    #[test]
    fn validate_table() {
        let cases = [
            (w(None, None), true),
            (w(Some(1), None), true),
            (w(None, Some(1)), true),
            (w(Some(1), Some(2)), true),
            (w(Some(2), Some(2)), false),
            (w(Some(3), Some(2)), false),
        ];
        for (window, ok) in cases {
            assert_eq!(window.validate().is_ok(), ok, "{window:?}");
        }
        assert_eq!(
            w(Some(3), Some(2)).validate().unwrap_err().code(),
            "invalid_window"
        );
    }

    fn instant() -> impl Strategy<Value = DateTime<Utc>> {
        (0i64..10_000).prop_map(|m| t(0) + TimeDelta::minutes(m))
    }

    proptest! {
        #[test]
        fn contains_matches_half_open_definition(
            from in proptest::option::of(instant()),
            to in proptest::option::of(instant()),
            now in instant(),
        ) {
            let window = Window { valid_from: from, valid_to: to };
            let expected = from.is_none_or(|f| f <= now) && to.is_none_or(|t| now < t);
            prop_assert_eq!(window.contains(now), expected);
        }

        #[test]
        fn a_window_containing_some_instant_is_valid(
            from in proptest::option::of(instant()),
            to in proptest::option::of(instant()),
            now in instant(),
        ) {
            let window = Window { valid_from: from, valid_to: to };
            if window.contains(now) {
                prop_assert!(window.validate().is_ok());
            }
        }

        #[test]
        fn adjacent_windows_never_overlap(
            a in instant(), len1 in 1i64..500, len2 in 1i64..500, now in instant()
        ) {
            let mid = a + TimeDelta::minutes(len1);
            let first = Window { valid_from: Some(a), valid_to: Some(mid) };
            let second = Window {
                valid_from: Some(mid),
                valid_to: Some(mid + TimeDelta::minutes(len2)),
            };
            prop_assert!(!(first.contains(now) && second.contains(now)));
        }
    }
}
