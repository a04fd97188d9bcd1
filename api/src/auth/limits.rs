//! Process-wide limits that protect the service from floods: how many password hashes run at
//! once, how many live event streams are open (per user and in total), and how many single
//! sign-ons are started (per client address and in total).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};

use crate::config::Config;
use crate::error::ApiError;

/// How long a sign-in waits for a hashing slot before it is turned away.
const ARGON2_WAIT: Duration = Duration::from_secs(3);

#[derive(Debug)]
pub struct Limits {
    argon2: Semaphore,
    argon2_wait: Duration,
    streams: Mutex<HashMap<i64, usize>>,
    max_streams_per_user: usize,
    max_streams_total: usize,
    sso_starts: Mutex<StartWindow>,
    sso_starts_per_address: u32,
}

/// Sign-on starts counted in the current minute: per client address and in total. A new
/// minute starts a new count, so memory never holds more than one minute of addresses.
#[derive(Debug, Default)]
struct StartWindow {
    minute: i64,
    total: u32,
    by_address: HashMap<String, u32>,
}

/// The whole process takes this many times the per-address limit of sign-on starts a minute.
const SSO_TOTAL_FACTOR: u32 = 50;

/// One open live stream; dropping it frees its place.
#[derive(Debug)]
pub struct StreamSlot {
    limits: Arc<Limits>,
    user_id: i64,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        if let Ok(mut m) = self.limits.streams.lock() {
            if let Some(n) = m.get_mut(&self.user_id) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    m.remove(&self.user_id);
                }
            }
        }
    }
}

impl Limits {
    pub fn new(config: &Config) -> Self {
        Self {
            argon2: Semaphore::new(config.argon2_concurrency.max(1)),
            argon2_wait: ARGON2_WAIT,
            streams: Mutex::new(HashMap::new()),
            max_streams_per_user: config.events_max_per_user.max(1),
            max_streams_total: config.events_max_total.max(1),
            sso_starts: Mutex::new(StartWindow::default()),
            sso_starts_per_address: config.oidc_starts_per_minute.max(1),
        }
    }

    /// A slot for one password hash or verification; 503 `auth_busy` after a short wait.
    pub async fn argon2_slot(&self) -> Result<SemaphorePermit<'_>, ApiError> {
        match tokio::time::timeout(self.argon2_wait, self.argon2.acquire()).await {
            Ok(Ok(p)) => Ok(p),
            _ => Err(ApiError::new(
                503,
                "auth_busy",
                "too many sign-ins are being checked right now; retry in a moment",
            )
            .with_details(serde_json::json!({"retry_after_secs": 1}))),
        }
    }

    /// Counts one single sign-on start from `address` at `now`; false when the address (or
    /// the whole process) has started too many this minute. Each start writes a pending
    /// sign-in, so an anonymous flood must not reach the store.
    pub fn sso_start(&self, address: Option<&str>, now: chrono::DateTime<chrono::Utc>) -> bool {
        let Ok(mut w) = self.sso_starts.lock() else {
            return false;
        };
        let minute = now.timestamp().div_euclid(60);
        if w.minute != minute {
            *w = StartWindow {
                minute,
                ..StartWindow::default()
            };
        }
        let per_address = self.sso_starts_per_address;
        if w.total >= per_address.saturating_mul(SSO_TOTAL_FACTOR) {
            return false;
        }
        let n = w
            .by_address
            .entry(address.unwrap_or("unknown").to_string())
            .or_insert(0);
        if *n >= per_address {
            return false;
        }
        *n += 1;
        w.total += 1;
        true
    }

    /// A place for one more live stream of `user_id`, or 429 `too_many_streams`.
    pub fn stream_slot(self: &Arc<Self>, user_id: i64) -> Result<StreamSlot, ApiError> {
        let mut m = self.streams.lock().map_err(|_| ApiError::internal())?;
        let total: usize = m.values().sum();
        let mine = m.get(&user_id).copied().unwrap_or(0);
        if mine >= self.max_streams_per_user {
            return Err(ApiError::new(
                429,
                "too_many_streams",
                format!(
                    "you already have {mine} live event streams open (the limit is {}); close one first",
                    self.max_streams_per_user
                ),
            )
            .with_details(serde_json::json!({"retry_after_secs": 5, "limit": self.max_streams_per_user, "scope": "user"})));
        }
        if total >= self.max_streams_total {
            return Err(ApiError::new(
                429,
                "too_many_streams",
                "the service has too many live event streams open; retry later",
            )
            .with_details(serde_json::json!({"retry_after_secs": 5, "limit": self.max_streams_total, "scope": "total"})));
        }
        *m.entry(user_id).or_insert(0) += 1;
        Ok(StreamSlot {
            limits: self.clone(),
            user_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(pairs: &[(&str, &str)]) -> Arc<Limits> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let c = Config::load(|k| m.get(k).cloned(), None).unwrap();
        let mut l = Limits::new(&c);
        l.argon2_wait = Duration::from_millis(50);
        Arc::new(l)
    }

    #[tokio::test]
    async fn password_hashing_beyond_the_limit_is_turned_away() {
        let l = limits(&[("JITEA_ARGON2_CONCURRENCY", "2")]);
        let a = l.argon2_slot().await.unwrap();
        let _b = l.argon2_slot().await.unwrap();
        let e = l.argon2_slot().await.unwrap_err();
        assert_eq!((e.status, e.code), (503, "auth_busy"));
        drop(a);
        assert!(l.argon2_slot().await.is_ok());
    }

    #[test]
    fn sign_on_starts_are_capped_per_address_and_in_total_per_minute() {
        let l = limits(&[("JITEA_OIDC_STARTS_PER_MINUTE", "2")]);
        let t0: chrono::DateTime<chrono::Utc> = "2026-12-02T10:00:05Z".parse().unwrap();
        assert!(l.sso_start(Some("10.0.0.1"), t0));
        assert!(l.sso_start(Some("10.0.0.1"), t0));
        assert!(
            !l.sso_start(Some("10.0.0.1"), t0),
            "third start in a minute"
        );
        assert!(
            l.sso_start(Some("10.0.0.2"), t0),
            "another address has its own count"
        );
        let next = t0 + chrono::Duration::seconds(60);
        assert!(
            l.sso_start(Some("10.0.0.1"), next),
            "a new minute starts afresh"
        );
        // The process as a whole: 50 × 2 starts a minute, whatever the addresses.
        let allowed = (0..200)
            .filter(|i| l.sso_start(Some(&format!("10.1.{}.{}", i / 250, i % 250)), next))
            .count();
        assert_eq!(allowed, 99, "100 a minute in total, one already used");
    }

    #[test]
    fn streams_are_capped_per_user_and_in_total_and_slots_free_on_drop() {
        let l = limits(&[
            ("JITEA_EVENTS_MAX_PER_USER", "2"),
            ("JITEA_EVENTS_MAX_TOTAL", "3"),
        ]);
        let a1 = l.stream_slot(1).unwrap();
        let _a2 = l.stream_slot(1).unwrap();
        assert_eq!(l.stream_slot(1).unwrap_err().code, "too_many_streams");
        let _b1 = l.stream_slot(2).unwrap();
        let e = l.stream_slot(3).unwrap_err();
        assert_eq!((e.status, e.code), (429, "too_many_streams"));
        drop(a1);
        assert!(l.stream_slot(3).is_ok());
        assert!(l.stream_slot(1).is_ok());
    }
}
