//! Process-wide limits that protect the service from floods: how many password hashes run at
//! once, and how many live event streams are open (per user and in total).

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
    streams: Mutex<HashMap<i64, usize>>,
    max_streams_per_user: usize,
    max_streams_total: usize,
}

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
            streams: Mutex::new(HashMap::new()),
            max_streams_per_user: config.events_max_per_user.max(1),
            max_streams_total: config.events_max_total.max(1),
        }
    }

    /// A slot for one password hash or verification; 503 `auth_busy` after a short wait.
    pub async fn argon2_slot(&self) -> Result<SemaphorePermit<'_>, ApiError> {
        match tokio::time::timeout(ARGON2_WAIT, self.argon2.acquire()).await {
            Ok(Ok(p)) => Ok(p),
            _ => Err(ApiError::new(
                503,
                "auth_busy",
                "too many sign-ins are being checked right now; retry in a moment",
            )
            .with_details(serde_json::json!({"retry_after_secs": 1}))),
        }
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
