//! The outbox: events for live streams, email and webhooks, written in the same transaction
//! as the state change so that nothing is announced that did not happen and nothing that
//! happened is lost. Delivery comes with the notifications issue.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{Db, StoreError};

pub async fn enqueue(
    db: &mut Db<'_>,
    topic: &str,
    payload: &Value,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    db.insert(
        "outbox",
        &[
            ("created_utc", now.into()),
            ("topic", topic.into()),
            ("payload_json", payload.to_string().into()),
            ("available_utc", now.into()),
            ("attempts", 0i64.into()),
        ],
    )
    .await
}

/// Enqueues many messages at once (batched expiry).
pub async fn enqueue_many(
    db: &mut Db<'_>,
    items: Vec<(&str, Value)>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let rows = items
        .into_iter()
        .map(|(topic, payload)| {
            vec![
                now.into(),
                topic.into(),
                payload.to_string().into(),
                now.into(),
                0i64.into(),
            ]
        })
        .collect();
    db.insert_many(
        "outbox",
        &[
            "created_utc",
            "topic",
            "payload_json",
            "available_utc",
            "attempts",
        ],
        rows,
    )
    .await
}

/// The newest outbox id (0 when empty).
pub async fn max_id(db: &mut Db<'_>) -> Result<i64, StoreError> {
    let row = db
        .fetch_optional(&super::Q::new("SELECT MAX(id) AS id FROM outbox"))
        .await?;
    Ok(match row {
        Some(r) => super::rows::opt_i64(&r, "id")?.unwrap_or(0),
        None => 0,
    })
}

/// Outbox rows after `after_id`, oldest first: (id, topic, payload JSON).
pub async fn since(
    db: &mut Db<'_>,
    after_id: i64,
    limit: i64,
) -> Result<Vec<(i64, String, String)>, StoreError> {
    let mut q =
        super::Q::new("SELECT id, topic, payload_json FROM outbox WHERE id > ? ORDER BY id")
            .bind(after_id);
    q.limit(limit);
    db.fetch_all(&q)
        .await?
        .iter()
        .map(|r| {
            Ok((
                super::rows::get(r, "id")?,
                super::rows::get(r, "topic")?,
                super::rows::get(r, "payload_json")?,
            ))
        })
        .collect()
}

/// Deletes up to `limit` outbox rows that are done with and older than `before`: rows marked
/// delivered before it, and unmarked rows created before it. Returns how many it deleted.
///
/// Why unmarked rows count as done: the live-event poller (`notify/live.rs`) does not mark
/// rows; each process reads forward from its own position every 200 ms, so a row older than
/// the retention period (hours) has long been passed by every running poller. Notifications
/// turn rows into deliveries (`notify/fanout.rs`), which carry what they need: a row counts as
/// done for them once the fan-out cursor has passed it, and a row not yet fanned out is never
/// deleted, however old.
pub async fn prune(db: &mut Db<'_>, before: DateTime<Utc>, limit: i64) -> Result<u64, StoreError> {
    let mut q = super::Q::new(
        "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE ((delivered_utc IS NOT NULL AND delivered_utc < ?) \
         OR (delivered_utc IS NULL AND created_utc < ?)) \
         AND id <= (SELECT last_outbox_id FROM notification_cursor WHERE id = 1) ORDER BY id",
    )
    .bind(before)
    .bind(before);
    q.limit(limit).push(")");
    db.execute(&q).await
}

/// One outbox row with its creation time.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub id: i64,
    pub topic: String,
    pub payload: String,
    pub created_utc: DateTime<Utc>,
}

/// Outbox rows after `after_id`, oldest first, with their creation times.
pub async fn rows_after(
    db: &mut Db<'_>,
    after_id: i64,
    limit: i64,
) -> Result<Vec<OutboxRow>, StoreError> {
    let mut q = super::Q::new(
        "SELECT id, topic, payload_json, created_utc FROM outbox WHERE id > ? ORDER BY id",
    )
    .bind(after_id);
    q.limit(limit);
    db.fetch_all(&q)
        .await?
        .iter()
        .map(|r| {
            Ok(OutboxRow {
                id: super::rows::get(r, "id")?,
                topic: super::rows::get(r, "topic")?,
                payload: super::rows::get(r, "payload_json")?,
                created_utc: super::rows::time(r, "created_utc")?,
            })
        })
        .collect()
}
