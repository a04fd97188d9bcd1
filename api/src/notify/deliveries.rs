//! The delivery engine: claims due pending deliveries with a lease (like the expiry engine
//! claims grants: `Q::claim`, skipping rows another process has locked), sends each, and
//! records the attempt and its outcome in one fenced update that only lands while this holder
//! still owns the lease. A failure is retried with exponential backoff and full jitter
//! (`domain::notifications::retry_after`); after the last attempt, or at once when the
//! receiver refused the message itself (an SMTP 5xx, an HTTP 400/401/403/404/410/422 ...),
//! the delivery is `failed`.
//!
//! In order per recipient: the claim only takes the oldest pending delivery of each (channel,
//! address), so a receiver that was down gets everything afterwards in the order it happened.
//!
//! Delivery is at-least-once: a crash after the receiver accepted a message and before the
//! outcome is recorded sends it again once the lease lapses (`LEASE`). The resent message
//! carries the same Message-ID or `webhook-id` (the idempotency key), so a receiver can drop
//! the duplicate. Nothing else sends a delivery twice: claims skip leased rows and the record
//! is fenced by the lease.

use std::time::Duration;

use chrono::{DateTime, Utc};
use jitea_shared::NotificationChannel;
use serde::Serialize;
use tokio::sync::watch;

use crate::domain::notifications::retry_after;
use crate::state::AppState;
use crate::store::notifications::{self as store, Outcome, Outgoing};
use crate::store::{webhooks, Db, StoreError};
use crate::workflow::grants::lease::new_lease_id;

use super::email::Mailer;
use super::fanout;
use super::webhook::{Poster, SendError};
use crate::signing;

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

/// What sends: the mailer for the configured SMTP server (if any) and the HTTP client of
/// the chat and webhook channels.
pub struct Senders {
    pub mailer: Option<Mailer>,
    pub poster: Poster,
}

impl Senders {
    pub fn new(state: &AppState) -> Self {
        Self {
            mailer: mailer(state),
            poster: Poster::default(),
        }
    }
}

/// One pass: fan out new events, then send every due delivery, oldest first per recipient.
pub async fn run_once(state: &AppState, senders: &Senders) -> Result<Pass, StoreError> {
    let mut pass = Pass {
        fanned_out: fanout::run_once(state).await?,
        ..Pass::default()
    };
    loop {
        let owner = new_lease_id(&state.owner);
        let ids = claim(state, &owner).await?;
        if ids.is_empty() {
            return Ok(pass);
        }
        for id in ids {
            deliver(state, senders, &owner, id, &mut pass).await?;
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
    senders: &Senders,
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
    let channel = d.channel.parse::<NotificationChannel>().ok();
    let result = match channel {
        Some(c) => send(state, senders, c, &d).await,
        None => Err(SendError::permanent(format!(
            "unknown channel {}",
            d.channel
        ))),
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
    count(channel, &outcome, pass);
    Ok(())
}

/// One attempt over the delivery's channel.
async fn send(
    state: &AppState,
    senders: &Senders,
    channel: NotificationChannel,
    d: &Outgoing,
) -> Result<(), SendError> {
    match channel {
        NotificationChannel::Email => match &senders.mailer {
            Some(m) => m.send(d).await,
            None => Err(SendError::temporary(
                "email is not configured (JITEA_SMTP_HOST)",
            )),
        },
        NotificationChannel::Slack | NotificationChannel::Teams => {
            let Some(url) = state.config.chat.url(channel, &d.address) else {
                return Err(SendError::temporary(format!(
                    "no webhook URL is configured for {}",
                    d.address
                )));
            };
            senders
                .poster
                .post(&url, Vec::new(), d.body_text.clone())
                .await
        }
        NotificationChannel::Webhook => signed_post(state, senders, d).await,
    }
}

/// A Standard Webhooks POST: the delivery's idempotency key is the `webhook-id` (the same on
/// every retry), the timestamp is this attempt's, the URL and secret the subscription's as they
/// are now (the delivery's address, its queue, stays the URL it was fanned out to).
async fn signed_post(state: &AppState, senders: &Senders, d: &Outgoing) -> Result<(), SendError> {
    let sub = match d.subscription_id {
        Some(id) => {
            let mut c = state
                .store
                .conn()
                .await
                .map_err(|_| SendError::temporary("the database is not reachable"))?;
            webhooks::endpoint(&mut Db::new(&mut c, state.store.dialect()), id)
                .await
                .map_err(|_| SendError::temporary("the subscription could not be read"))?
        }
        None => None,
    };
    let endpoint = match sub {
        None => return Err(SendError::permanent("the subscription was deleted")),
        Some(e) if !e.is_enabled => {
            return Err(SendError::permanent("the subscription is disabled"))
        }
        Some(e) => e,
    };
    let ts = state.now().timestamp();
    let headers = signing::headers(&endpoint.secret, &d.idempotency_key, ts, &d.body_text)
        .ok_or_else(|| SendError::permanent("the subscription's secret is not valid"))?;
    senders
        .poster
        .post(&endpoint.url, headers, d.body_text.clone())
        .await
}

fn outcome(
    d: &Outgoing,
    result: Result<(), SendError>,
    now: DateTime<Utc>,
    jitter: f64,
) -> Outcome {
    match result {
        Ok(()) => Outcome::Sent,
        Err(e) if e.permanent => Outcome::Failed(e.message),
        Err(e) => match retry_after(d.attempts + 1, jitter) {
            Some(delay) => Outcome::Retry(now + delay, e.message),
            None => Outcome::Failed(e.message),
        },
    }
}

fn count(channel: Option<NotificationChannel>, outcome: &Outcome, pass: &mut Pass) {
    match outcome {
        Outcome::Sent => {
            pass.sent += 1;
            if let Some(c) = channel {
                super::count_sent(c);
            }
        }
        Outcome::Retry(_, e) | Outcome::Failed(e) => {
            if let Some(c) = channel {
                super::count_failed(c);
            }
            if matches!(outcome, Outcome::Failed(_)) {
                pass.failed += 1;
                tracing::warn!(channel = ?channel, error = %e, "notification: delivery failed for good");
            } else {
                pass.retrying += 1;
                tracing::info!(channel = ?channel, error = %e, "notification: attempt failed, will retry");
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
    let senders = Senders::new(&state);
    loop {
        if let Err(e) = run_once(&state, &senders).await {
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
