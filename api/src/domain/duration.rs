//! Grant window arithmetic.
//!
//! Why here: the expiry engine, the API ("expires in ...") and the reports must agree to the
//! second on when access ends, so the math lives in one place and takes `now` as a parameter.

use chrono::{DateTime, TimeDelta, Utc};

/// The `[valid_from, valid_to)` of a grant decided at `decided_at` for `duration_minutes`.
///
/// The duration has been validated (1..=the role's maximum) before this is called. To keep a
/// bug elsewhere from producing an inverted window or a panic, a negative duration yields an
/// empty window (`valid_to == valid_from`) and an absurdly large one saturates at the latest
/// representable instant.
pub fn grant_window(
    decided_at: DateTime<Utc>,
    duration_minutes: i64,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let valid_to = TimeDelta::try_minutes(duration_minutes.max(0))
        .and_then(|d| decided_at.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    (decided_at, valid_to)
}

/// How far ahead scheduled access may start.
pub const MAX_SCHEDULE_AHEAD_DAYS: i64 = 7;

/// Why a requested start time is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartRefusal {
    /// Before `now` (beyond a minute of clock difference).
    InThePast,
    /// More than [`MAX_SCHEDULE_AHEAD_DAYS`] ahead.
    TooFarAhead,
}

/// Checks a requested start (scheduled access) at `now`: a start up to a minute in the past
/// (clocks differ) means "now"; later than 7 days ahead is refused. Returns the start to keep:
/// `None` for "as soon as approved".
pub fn check_start(
    start: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StartRefusal> {
    let Some(start) = start else {
        return Ok(None);
    };
    if start < now - TimeDelta::minutes(1) {
        return Err(StartRefusal::InThePast);
    }
    if start > now + TimeDelta::days(MAX_SCHEDULE_AHEAD_DAYS) {
        return Err(StartRefusal::TooFarAhead);
    }
    Ok((start > now).then_some(start))
}

/// The window of a grant decided at `decided_at` for a request that may name its start: it
/// starts at the later of the two and lasts the full duration from then.
pub fn scheduled_window(
    decided_at: DateTime<Utc>,
    start: Option<DateTime<Utc>>,
    duration_minutes: i64,
) -> (DateTime<Utc>, DateTime<Utc>) {
    grant_window(
        start.map_or(decided_at, |s| s.max(decided_at)),
        duration_minutes,
    )
}

/// Whether a requested duration still fits the role's (current) maximum.
pub fn within_max(requested_minutes: i64, max_minutes: i64) -> bool {
    (1..=max_minutes).contains(&requested_minutes)
}

/// Whether a grant ending at `valid_to` must be expired at `now` (the end is exclusive).
pub fn is_due(valid_to: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now >= valid_to
}

/// Whole seconds of access left, never negative.
///
/// Rounded *up*, so a grant that is not yet due never reports 0 seconds left: `0` means
/// exactly "due" (see [`is_due`]).
pub fn remaining_seconds(valid_to: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    let left = valid_to - now;
    if left <= TimeDelta::zero() {
        return 0;
    }
    let whole = left.num_seconds();
    if left > TimeDelta::seconds(whole) {
        whole + 1
    } else {
        whole
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    #[test]
    fn a_start_is_now_soon_or_at_most_a_week_ahead() {
        let now = Utc.with_ymd_and_hms(2026, 12, 2, 12, 0, 0).unwrap();
        assert_eq!(check_start(None, now), Ok(None));
        assert_eq!(
            check_start(Some(now - TimeDelta::seconds(30)), now),
            Ok(None)
        );
        assert_eq!(
            check_start(Some(now - TimeDelta::minutes(2)), now),
            Err(StartRefusal::InThePast)
        );
        let soon = now + TimeDelta::hours(3);
        assert_eq!(check_start(Some(soon), now), Ok(Some(soon)));
        let week = now + TimeDelta::days(7);
        assert_eq!(check_start(Some(week), now), Ok(Some(week)));
        assert_eq!(
            check_start(Some(week + TimeDelta::seconds(1)), now),
            Err(StartRefusal::TooFarAhead)
        );
        // Approved before the start: starts then; approved after it: starts at the approval,
        // for the whole duration.
        assert_eq!(scheduled_window(now, Some(soon), 60).0, soon);
        let late = soon + TimeDelta::minutes(5);
        assert_eq!(
            scheduled_window(late, Some(soon), 60),
            (late, late + TimeDelta::minutes(60))
        );
    }

    #[test]
    fn durations_are_rechecked_against_the_current_maximum() {
        assert!(within_max(60, 60));
        assert!(!within_max(61, 60));
        assert!(!within_max(0, 60));
    }

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap()
    }

    #[test]
    fn grant_window_table() {
        let cases = [
            (1, TimeDelta::minutes(1)),
            (60, TimeDelta::hours(1)),
            (525_600, TimeDelta::days(365)),
            (0, TimeDelta::zero()),
            (-5, TimeDelta::zero()),
        ];
        for (minutes, len) in cases {
            let (from, to) = grant_window(t0(), minutes);
            assert_eq!(from, t0());
            assert_eq!(to - from, len, "{minutes} minutes");
        }
        assert_eq!(grant_window(t0(), i64::MAX).1, DateTime::<Utc>::MAX_UTC);
    }

    #[test]
    fn is_due_and_remaining_table() {
        let end = t0() + TimeDelta::minutes(10);
        // (now offset from end, due, remaining seconds)
        let cases = [
            (TimeDelta::minutes(-10), false, 600),
            (TimeDelta::seconds(-1), false, 1),
            (TimeDelta::milliseconds(-1), false, 1), // rounds up, never 0 before due
            (TimeDelta::milliseconds(-1500), false, 2),
            (TimeDelta::zero(), true, 0), // end is exclusive
            (TimeDelta::milliseconds(1), true, 0),
            (TimeDelta::days(3), true, 0),
        ];
        for (offset, due, remaining) in cases {
            let now = end + offset;
            assert_eq!(is_due(end, now), due, "{offset}");
            assert_eq!(remaining_seconds(end, now), remaining, "{offset}");
        }
    }

    proptest! {
        #[test]
        fn window_length_equals_duration(minutes in 1i64..=525_600, offset in 0i64..1_000_000_000) {
            let at = t0() + TimeDelta::seconds(offset);
            let (from, to) = grant_window(at, minutes);
            prop_assert_eq!(from, at);
            prop_assert_eq!(to - from, TimeDelta::minutes(minutes));
        }

        #[test]
        fn due_iff_remaining_is_zero(end_ms in 0i64..10_000_000, now_ms in 0i64..10_000_000) {
            let end = t0() + TimeDelta::milliseconds(end_ms);
            let now = t0() + TimeDelta::milliseconds(now_ms);
            let left = remaining_seconds(end, now);
            prop_assert!(left >= 0);
            prop_assert_eq!(is_due(end, now), left == 0);
        }

        #[test]
        fn a_fresh_grant_is_not_due_until_its_end(
            minutes in 1i64..=525_600, into in 0i64..=525_600 * 60
        ) {
            let (from, to) = grant_window(t0(), minutes);
            let now = from + TimeDelta::seconds(into);
            prop_assert_eq!(is_due(to, now), into >= minutes * 60);
        }
    }
}
