//! Sign-in throttling rules. A counter per key (a login name, a client address) counts failed
//! sign-ins; from `max_failures` on, each further failure locks the key for a delay that
//! doubles per failure (capped), and while a key is locked every attempt is refused, even
//! with the right password, so guessing during a lockout gains nothing. A counter untouched
//! for `reset_after` starts over.

use chrono::{DateTime, Duration, Utc};

/// The state of one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    pub failures: i64,
    pub window_start: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
    /// Attempts refused during the current (or last) lockout, not yet audited.
    pub refused: i64,
    pub updated: DateTime<Utc>,
}

impl Counter {
    pub fn zero(now: DateTime<Utc>) -> Self {
        Self {
            failures: 0,
            window_start: now,
            locked_until: None,
            refused: 0,
            updated: now,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Failures before the first lockout.
    pub max_failures: i64,
    /// The first lockout; each later failure doubles it.
    pub base_lock: Duration,
    /// The longest lockout.
    pub max_lock: Duration,
    /// A counter with no failure for this long starts over.
    pub reset_after: Duration,
}

impl Policy {
    pub fn new(max_failures: i64, base_lock_secs: i64) -> Self {
        Self {
            max_failures: max_failures.max(1),
            base_lock: Duration::seconds(base_lock_secs.max(1)),
            max_lock: Duration::hours(1),
            reset_after: Duration::hours(1),
        }
    }

    /// The same policy with `factor` times the failures (client addresses are shared by many
    /// people behind one NAT or proxy).
    pub fn scaled(self, factor: i64) -> Self {
        Self {
            max_failures: self.max_failures * factor,
            ..self
        }
    }
}

/// Seconds left in the key's lockout (rounded up), if it is locked at `now`.
pub fn locked_for(c: &Counter, now: DateTime<Utc>) -> Option<i64> {
    let until = c.locked_until?;
    if until <= now {
        return None;
    }
    let ms = (until - now).num_milliseconds();
    Some(((ms + 999) / 1000).max(1))
}

/// What one more failure at `now` does to the counter. Returns the new counter and whether a
/// lockout started with it.
pub fn after_failure(p: &Policy, c: &Counter, now: DateTime<Utc>) -> (Counter, bool) {
    let mut n = c.clone();
    if n.failures > 0 && now - n.updated >= p.reset_after && locked_for(&n, now).is_none() {
        n = Counter::zero(now);
    }
    if n.failures == 0 {
        n.window_start = now;
    }
    n.failures += 1;
    n.updated = now;
    let over = n.failures - p.max_failures;
    if over >= 0 {
        let factor = 1i64 << over.min(20);
        let lock = p
            .base_lock
            .checked_mul(factor as i32)
            .unwrap_or(p.max_lock)
            .min(p.max_lock);
        n.locked_until = Some(now + lock);
        // The refusals of the previous lockout are reported with this one.
        return (n, true);
    }
    (n, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + s, 0).unwrap()
    }

    #[test]
    fn locks_after_max_failures_with_growing_delays() {
        let p = Policy::new(3, 10);
        let mut c = Counter::zero(t(0));
        for i in 0..2 {
            let (n, started) = after_failure(&p, &c, t(i));
            assert!(!started);
            assert_eq!(locked_for(&n, t(i)), None);
            c = n;
        }
        let (c, started) = after_failure(&p, &c, t(2));
        assert!(started);
        assert_eq!(locked_for(&c, t(2)), Some(10));
        assert_eq!(locked_for(&c, t(12)), None);
        let (c, _) = after_failure(&p, &c, t(12));
        assert_eq!(locked_for(&c, t(12)), Some(20));
        let (c, _) = after_failure(&p, &c, t(40));
        assert_eq!(locked_for(&c, t(40)), Some(40));
    }

    #[test]
    fn delays_are_capped_and_counters_reset_after_quiet() {
        let p = Policy::new(1, 10);
        let mut c = Counter::zero(t(0));
        for i in 0..40 {
            c = after_failure(&p, &c, t(i * 4000)).0;
            assert!(locked_for(&c, t(i * 4000)).unwrap() <= 3600);
        }
        let p = Policy::new(3, 10);
        let (c, _) = after_failure(&p, &Counter::zero(t(0)), t(0));
        let (c, _) = after_failure(&p, &c, t(1));
        let (c, started) = after_failure(&p, &c, t(1 + 7200));
        assert!(!started);
        assert_eq!(c.failures, 1);
    }
}
