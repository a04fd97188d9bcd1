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
