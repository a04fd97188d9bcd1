//! Notifications, fed from the outbox table: the live event stream behind
//! `GET /api/v1/events` (`live`), and deliveries (`fanout` turns events into deliveries per
//! channel and recipient, `deliveries` sends them with retries, in order per recipient).
//! Channels: `email` (SMTP), `chat` (Slack Block Kit and Teams Adaptive Card messages),
//! `webhook` (signed POSTs, Standard Webhooks, and the chat channels' plain POSTs).

use std::sync::atomic::{AtomicU64, Ordering};

use jitea_shared::NotificationChannel;

pub mod chat;
pub mod deliveries;
pub mod email;
pub mod fanout;
pub mod live;
pub mod webhook;

const CHANNELS: usize = 4;
static SENT: [AtomicU64; CHANNELS] = [const { AtomicU64::new(0) }; CHANNELS];
static FAILED: [AtomicU64; CHANNELS] = [const { AtomicU64::new(0) }; CHANNELS];

fn slot(c: NotificationChannel) -> usize {
    NotificationChannel::ALL
        .iter()
        .position(|x| *x == c)
        .unwrap_or(0)
        .min(CHANNELS - 1)
}

/// Counts a delivery this process sent (`jitea_notifications_sent_total{channel}`).
pub fn count_sent(c: NotificationChannel) {
    SENT[slot(c)].fetch_add(1, Ordering::Relaxed);
}

/// Counts a failed attempt of this process (`jitea_notifications_failed_total{channel}`).
pub fn count_failed(c: NotificationChannel) {
    FAILED[slot(c)].fetch_add(1, Ordering::Relaxed);
}

/// (channel, sent, failed attempts) of this process, for `/metrics`.
pub fn counts() -> Vec<(NotificationChannel, u64, u64)> {
    NotificationChannel::ALL
        .iter()
        .map(|c| {
            (
                *c,
                SENT[slot(*c)].load(Ordering::Relaxed),
                FAILED[slot(*c)].load(Ordering::Relaxed),
            )
        })
        .collect()
}
