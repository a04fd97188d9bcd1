//! What every request handler and job shares.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use crate::auth::TokenKeys;
use crate::clock::Clock;
use crate::config::Config;
use crate::provision::Connectors;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub keys: TokenKeys,
    pub connectors: Connectors,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<Config>,
    /// Wakes the expiry engine early when work appears before its planned wake-up.
    pub expiry_wake: Arc<ExpiryWake>,
    /// This process's name on job leases.
    pub owner: String,
    /// Live events for server-sent-event subscribers (fed from the outbox).
    pub live: tokio::sync::broadcast::Sender<Arc<crate::notify::live::Published>>,
    /// Flood limits: concurrent password hashing, open live streams.
    pub limits: Arc<crate::auth::limits::Limits>,
    /// The OpenID Connect provider, when single sign-on is configured.
    pub oidc: Option<Arc<crate::auth::oidc::Oidc>>,
}

impl AppState {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

/// The expiry engine's alarm clock, shared with the code that creates work for it. The engine
/// publishes when it plans to wake next; a grant issued, extended or revoked in this process
/// wakes it early only if its own next instant comes before that. Waking the engine for every
/// new grant would run a whole pass per request under load, for grants that end hours later.
#[derive(Debug)]
pub struct ExpiryWake {
    notify: Notify,
    /// Unix milliseconds of the planned wake-up; `i64::MAX` while the engine is between
    /// reading the next due instant and publishing it (anything new then wakes it).
    planned_ms: AtomicI64,
}

impl Default for ExpiryWake {
    fn default() -> Self {
        Self {
            notify: Notify::new(),
            planned_ms: AtomicI64::new(i64::MAX),
        }
    }
}

impl ExpiryWake {
    /// Wakes the engine now (an end or a retry is due at once).
    pub fn now(&self) {
        self.notify.notify_one();
    }

    /// Wakes the engine if `at` comes before its planned wake-up.
    pub fn before(&self, at: DateTime<Utc>) {
        if at.timestamp_millis() < self.planned_ms.load(Ordering::SeqCst) {
            self.notify.notify_one();
        }
    }

    /// Engine side: about to read the next due instant; until `planned` publishes it, any new
    /// work wakes the engine (so nothing committed in between is slept through).
    pub fn planning(&self) {
        self.planned_ms.store(i64::MAX, Ordering::SeqCst);
    }

    /// Engine side: the instant it will wake at unless woken earlier.
    pub fn planned(&self, at: DateTime<Utc>) {
        self.planned_ms
            .store(at.timestamp_millis(), Ordering::SeqCst);
    }

    /// Engine side: resolves when woken (a wake-up sent while it was not waiting is kept).
    pub async fn notified(&self) {
        self.notify.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[tokio::test]
    async fn work_due_before_the_planned_wake_up_wakes_the_engine_and_later_work_does_not() {
        let w = ExpiryWake::default();
        let t = |s: i64| {
            Utc.timestamp_opt(1_800_000_000 + s, 0)
                .single()
                .expect("time")
        };
        w.planned(t(10));
        w.before(t(3600));
        let woke = tokio::time::timeout(std::time::Duration::from_millis(20), w.notified()).await;
        assert!(
            woke.is_err(),
            "a grant ending after the planned wake-up must not wake the engine"
        );
        w.before(t(5));
        tokio::time::timeout(std::time::Duration::from_millis(20), w.notified())
            .await
            .expect("a grant ending before the planned wake-up wakes the engine");
        // While the engine is planning, anything new wakes it.
        w.planning();
        w.before(t(3600));
        tokio::time::timeout(std::time::Duration::from_millis(20), w.notified())
            .await
            .expect("work created while the engine plans wakes it");
        w.now();
        tokio::time::timeout(std::time::Duration::from_millis(20), w.notified())
            .await
            .expect("an explicit wake");
    }
}
