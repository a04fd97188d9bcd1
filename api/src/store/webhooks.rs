//! Webhook subscriptions (`webhook_subscriptions`): where signed event POSTs go, for which
//! event types, and with which secret. The secret is read only by the sender
//! (`secret_of`); every listing leaves it out.

use chrono::{DateTime, Utc};
use jitea_shared::{Page, WebhookEventType, WebhookSubscription};
use sqlx_oldapi::any::AnyRow;

use super::paging::{fetch_page, Order, PageReq};
use super::rows::{get, opt_str, time};
use super::{Db, StoreError, Q};

const COLS: &str =
    "id, url, events_json, description, is_enabled, created_by, created_utc, updated_utc";

/// The event types as stored: a JSON array of their texts.
pub fn events_json(events: &[WebhookEventType]) -> String {
    serde_json::Value::from(events.iter().map(|e| e.as_str()).collect::<Vec<_>>()).to_string()
}

fn events_of(text: &str) -> Result<Vec<WebhookEventType>, StoreError> {
    let v: Vec<String> = serde_json::from_str(text)
        .map_err(|e| StoreError::Internal(format!("column events_json: {e}")))?;
    v.iter()
        .map(|s| {
            s.parse()
                .map_err(|_| StoreError::Internal(format!("column events_json: unknown {s:?}")))
        })
        .collect()
}

fn map(r: &AnyRow) -> Result<WebhookSubscription, StoreError> {
    Ok(WebhookSubscription {
        id: get(r, "id")?,
        url: get(r, "url")?,
        events: events_of(&get::<String>(r, "events_json")?)?,
        description: opt_str(r, "description")?,
        is_enabled: get(r, "is_enabled")?,
        created_by: get(r, "created_by")?,
        created_utc: time(r, "created_utc")?,
        updated_utc: time(r, "updated_utc")?,
    })
}

/// A subscription to insert.
pub struct NewSubscription<'a> {
    pub url: &'a str,
    pub events: &'a [WebhookEventType],
    pub description: Option<&'a str>,
    pub secret: &'a str,
    pub created_by: &'a str,
}

pub async fn insert(
    db: &mut Db<'_>,
    s: &NewSubscription<'_>,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    db.insert(
        "webhook_subscriptions",
        &[
            ("url", s.url.into()),
            ("events_json", events_json(s.events).into()),
            ("description", s.description.map(str::to_string).into()),
            ("secret", s.secret.into()),
            ("is_enabled", true.into()),
            ("created_by", s.created_by.into()),
            ("created_utc", now.into()),
            ("updated_utc", now.into()),
        ],
    )
    .await
}

pub async fn get_by_id(
    db: &mut Db<'_>,
    id: i64,
) -> Result<Option<WebhookSubscription>, StoreError> {
    let q = Q::new(format!(
        "SELECT {COLS} FROM webhook_subscriptions WHERE id = ?"
    ))
    .bind(id);
    db.fetch_optional(&q).await?.as_ref().map(map).transpose()
}

/// Subscriptions, newest first.
pub async fn list(db: &mut Db<'_>, page: PageReq) -> Result<Page<WebhookSubscription>, StoreError> {
    let q = Q::new(format!(
        "SELECT {COLS} FROM webhook_subscriptions WHERE 1 = 1"
    ));
    fetch_page(db, q, "id", Order::NewestFirst, page, map, |s| s.id).await
}

/// Every enabled subscription (the fan-out matches events against them).
pub async fn enabled(db: &mut Db<'_>) -> Result<Vec<WebhookSubscription>, StoreError> {
    let q = Q::new(format!(
        "SELECT {COLS} FROM webhook_subscriptions WHERE is_enabled = ? ORDER BY id"
    ))
    .bind(true);
    db.fetch_all(&q).await?.iter().map(map).collect()
}

/// A change to apply; `None` keeps the value.
pub struct Change<'a> {
    pub url: Option<&'a str>,
    pub events: Option<&'a [WebhookEventType]>,
    pub description: Option<Option<&'a str>>,
    pub is_enabled: Option<bool>,
}

/// Applies `c`; false when there is no such subscription.
pub async fn update(
    db: &mut Db<'_>,
    id: i64,
    c: &Change<'_>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut q = Q::new("UPDATE webhook_subscriptions SET updated_utc = ?").bind(now);
    if let Some(v) = c.url {
        q.push_bind(", url = ?", v.to_string());
    }
    if let Some(v) = c.events {
        q.push_bind(", events_json = ?", events_json(v));
    }
    if let Some(v) = c.description {
        q.push_bind(", description = ?", v.map(str::to_string));
    }
    if let Some(v) = c.is_enabled {
        q.push_bind(", is_enabled = ?", v);
    }
    q.push_bind(" WHERE id = ?", id);
    Ok(db.execute(&q).await? == 1)
}

/// Deletes a subscription; false when there was none. Its pending deliveries fail at their
/// next attempt ("the subscription was deleted").
pub async fn delete(db: &mut Db<'_>, id: i64) -> Result<bool, StoreError> {
    let q = Q::new("DELETE FROM webhook_subscriptions WHERE id = ?").bind(id);
    Ok(db.execute(&q).await? == 1)
}

/// What the sender needs of a subscription as it is now.
pub struct Endpoint {
    pub url: String,
    pub secret: String,
    pub is_enabled: bool,
}

/// The subscription's current URL, secret and state (a changed URL or a rotated secret
/// applies to deliveries still pending).
pub async fn endpoint(db: &mut Db<'_>, id: i64) -> Result<Option<Endpoint>, StoreError> {
    let q =
        Q::new("SELECT url, secret, is_enabled FROM webhook_subscriptions WHERE id = ?").bind(id);
    match db.fetch_optional(&q).await? {
        Some(r) => Ok(Some(Endpoint {
            url: get(&r, "url")?,
            secret: get(&r, "secret")?,
            is_enabled: get(&r, "is_enabled")?,
        })),
        None => Ok(None),
    }
}

/// Replaces the secret; false when there is no such subscription.
pub async fn set_secret(
    db: &mut Db<'_>,
    id: i64,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let q = Q::new("UPDATE webhook_subscriptions SET secret = ?, updated_utc = ? WHERE id = ?")
        .bind(secret)
        .bind(now)
        .bind(id);
    Ok(db.execute(&q).await? == 1)
}
