//! Notifications, fed from the outbox table. Today: the live event stream behind
//! `GET /api/v1/events`. Email and webhooks (with delivery marking and retries) come with the
//! notifications issue and read the same outbox.

pub mod live;
