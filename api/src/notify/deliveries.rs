//! The delivery engine: claims due pending deliveries with a lease (like the expiry engine
//! claims grants: `Q::claim`, skipping rows another process has locked), sends each, and
//! records the attempt and its outcome in one fenced update that only lands while this holder
//! still owns the lease. A failure is retried with exponential backoff and full jitter
//! (`domain::notifications::retry_after`); after the last attempt the delivery is `failed`.
//!
//! Delivery is at-least-once: a crash after the SMTP server accepted a message and before the
//! outcome is recorded sends it again once the lease lapses (`LEASE`). The resent message
//! carries the same Message-ID (derived from the idempotency key), so a receiver can drop the
//! duplicate. Nothing else sends a delivery twice: claims skip leased rows and the record is
//! fenced by the lease.

use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::watch;

use crate::domain::notifications::retry_after;
use crate::state::AppState;
use crate::store::notifications::{self as store, Outcome, Outgoing};
use crate::store::{Db, StoreError};
use crate::workflow::grants::lease::new_lease_id;

use super::email::Mailer;
use super::fanout;

/// How long a claim holds: longer than a batch takes at the SMTP timeout (30 s a message).
const LEASE: Duration = Duration::from_secs(300);
/// Deliveries claimed at once.
const BATCH: i64 = 5;
/// How often the engine looks for new events and due deliveries.
const POLL: Duration = Duration::from_millis(500);

/// What one pass did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Pass {
    /// Deliveries created from new outbox events.
    pub fanned_out: usize,
    pub sent: usize,
    /// Failed attempts that will be retried.
    pub retrying: usize,
    /// Deliveries that used their last attempt.
    pub failed: usize,
}

/// One pass: fan out new events, then send every due delivery (email only when a mailer is
/// configured; without one no email delivery is ever created).
pub async fn run_once(state: &AppState, mailer: Option<&Mailer>) -> Result<Pass, StoreError> {
    let mut pass = Pass {
        fanned_out: fanout::run_once(state).await?,
        ..Pass::default()
    };
    let Some(mailer) = mailer else {
        return Ok(pass);
    };
    loop {
        let owner = new_lease_id(&state.owner);
        let ids = claim(state, &owner).await?;
        if ids.is_empty() {
            return Ok(pass);
        }
        for id in ids {
            deliver(state, mailer, &owner, id, &mut pass).await?;
        }
    }
}

async fn claim(state: &AppState, owner: &str) -> Result<Vec<i64>, StoreError> {
    let now = state.now();
    let until =
        now + chrono::Duration::from_std(LEASE).unwrap_or_else(|_| chrono::Duration::minutes(5));
    let mut tx = state.store.begin_write().await?;
    let ids = store::claim_due(&mut tx.db(), owner, now, until, BATCH).await?;
    tx.commit().await?;
    Ok(ids)
}

/// Sends one claimed delivery and records the outcome (fenced by `owner`).
async fn deliver(
    state: &AppState,
    mailer: &Mailer,
    owner: &str,
    id: i64,
    pass: &mut Pass,
) -> Result<(), StoreError> {
    let d = {
        let mut c = state.store.conn().await?;
        store::held(&mut Db::new(&mut c, state.store.dialect()), id, owner).await?
    };
    let Some(d) = d else {
        return Ok(());
    };
    let result = match d.channel.as_str() {
        "email" => mailer.send(&d).await,
        other => Err(format!("unknown channel {other}")),
    };
    let now = state.now();
    let outcome = outcome(&d, result, now, rand::random::<f64>());
    let mut tx = state.store.begin_write().await?;
    let recorded = store::record(&mut tx.db(), id, owner, &outcome, now).await?;
    tx.commit().await?;
    if !recorded {
        tracing::warn!(
            delivery_id = id,
            "notification: lease lost before the outcome was recorded"
        );
        return Ok(());
    }
    count(&outcome, pass);
    Ok(())
}

fn outcome(d: &Outgoing, result: Result<(), String>, now: DateTime<Utc>, jitter: f64) -> Outcome {
    match result {
        Ok(()) => Outcome::Sent,
        Err(e) => match retry_after(d.attempts + 1, jitter) {
            Some(delay) => Outcome::Retry(now + delay, e),
            None => Outcome::Failed(e),
        },
    }
}

fn count(outcome: &Outcome, pass: &mut Pass) {
    match outcome {
        Outcome::Sent => {
            pass.sent += 1;
            super::EMAIL_SENT.fetch_add(1, Ordering::Relaxed);
        }
        Outcome::Retry(_, e) | Outcome::Failed(e) => {
            super::EMAIL_FAILED.fetch_add(1, Ordering::Relaxed);
            if matches!(outcome, Outcome::Failed(_)) {
                pass.failed += 1;
                tracing::warn!(error = %e, "notification: delivery failed for good");
            } else {
                pass.retrying += 1;
                tracing::info!(error = %e, "notification: attempt failed, will retry");
            }
        }
    }
}

/// The mailer for the configured SMTP server, if any.
pub fn mailer(state: &AppState) -> Option<Mailer> {
    let cfg = state.config.smtp.as_ref()?;
    match Mailer::new(cfg) {
        Ok(m) => Some(m),
        Err(e) => {
            tracing::error!(error = %e, "email notifications: the SMTP settings cannot be used");
            None
        }
    }
}

/// Runs until `shutdown` turns true.
pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    let mailer = mailer(&state);
    loop {
        if let Err(e) = run_once(&state, mailer.as_ref()).await {
            tracing::warn!(error = %e, "notifications: a pass failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = shutdown.changed() => {
                if *shutdown.borrow() { break; }
            }
        }
    }
}
