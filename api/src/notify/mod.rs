//! Notifications, fed from the outbox table: the live event stream behind
//! `GET /api/v1/events` (`live`), and deliveries to people (`fanout` turns events into
//! deliveries per channel and recipient, `deliveries` sends them with retries, `email` is the
//! SMTP channel; `chat` renders Slack and Teams webhook bodies, not sent yet). Chat delivery,
//! webhooks and reminders come later and slot in as further channels.

use std::sync::atomic::AtomicU64;

pub mod chat;
pub mod deliveries;
pub mod email;
pub mod fanout;
pub mod live;

/// Emails this process has sent (`jitea_notifications_sent_total{channel="email"}`).
pub static EMAIL_SENT: AtomicU64 = AtomicU64::new(0);
/// Failed email attempts of this process (`jitea_notifications_failed_total{channel="email"}`).
pub static EMAIL_FAILED: AtomicU64 = AtomicU64::new(0);
