//! Webhook subscriptions (admins): create (the secret is answered once), list, change,
//! rotate the secret, delete; every change audited in its transaction, never with the secret.

use jitea_shared::{Page, User, WebhookCreated, WebhookEventType, WebhookSubscription};
use serde_json::json;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};
use crate::store::paging::PageReq;
use crate::store::webhooks::{self as store, Change, NewSubscription};
use crate::store::Db;

/// A checked new subscription (the handler validated its fields).
pub struct Subscribe {
    pub url: String,
    pub events: Vec<WebhookEventType>,
    pub description: Option<String>,
}

/// A new subscription secret: `whsec_` + base64 of 32 random bytes (Standard Webhooks).
pub fn new_secret() -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::random();
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// The subscription as it is now, with the secret it was just given (the only answer that
/// shows it).
async fn with_secret(db: &mut Db<'_>, id: i64, secret: String) -> ApiResult<WebhookCreated> {
    let subscription = store::get_by_id(db, id)
        .await?
        .ok_or_else(ApiError::internal)?;
    Ok(WebhookCreated {
        subscription,
        secret,
    })
}

fn actor(admin: &User) -> Actor {
    Actor::user(admin.id, &admin.login_name)
}

fn events_text(events: &[WebhookEventType]) -> Vec<&'static str> {
    events.iter().map(|e| e.as_str()).collect()
}

pub async fn create(state: &AppState, admin: &User, s: Subscribe) -> ApiResult<WebhookCreated> {
    let secret = new_secret();
    let now = state.now();
    let mut tx = state.store.begin_write().await?;
    let mut db = tx.db();
    let id = store::insert(
        &mut db,
        &NewSubscription {
            url: &s.url,
            events: &s.events,
            description: s.description.as_deref(),
            secret: &secret,
            created_by: &admin.login_name,
        },
        now,
    )
    .await?;
    audit::write(
        &mut db,
        Event::new("webhook_created", &actor(admin)).details(json!({
            "webhook_id": id, "url": s.url, "events": events_text(&s.events),
            "description": s.description,
        })),
        now,
    )
    .await?;
    let created = with_secret(&mut db, id, secret).await?;
    tx.commit().await?;
    Ok(created)
}

pub async fn list(state: &AppState, page: PageReq) -> ApiResult<Page<WebhookSubscription>> {
    let mut c = state.store.conn().await?;
    Ok(store::list(&mut Db::new(&mut c, state.store.dialect()), page).await?)
}

pub async fn get(state: &AppState, id: i64) -> ApiResult<WebhookSubscription> {
    let mut c = state.store.conn().await?;
    store::get_by_id(&mut Db::new(&mut c, state.store.dialect()), id)
        .await?
        .ok_or_else(|| ApiError::not_found("webhook subscription"))
}

/// A checked change (the handler validated its fields).
pub struct Update {
    pub url: Option<String>,
    pub events: Option<Vec<WebhookEventType>>,
    pub description: Option<Option<String>>,
    pub is_enabled: Option<bool>,
}

pub async fn update(
    state: &AppState,
    admin: &User,
    id: i64,
    u: Update,
) -> ApiResult<WebhookSubscription> {
    let now = state.now();
    let mut tx = state.store.begin_write().await?;
    let mut db = tx.db();
    let before = store::get_by_id(&mut db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("webhook subscription"))?;
    let change = Change {
        url: u.url.as_deref(),
        events: u.events.as_deref(),
        description: u.description.as_ref().map(|d| d.as_deref()),
        is_enabled: u.is_enabled,
    };
    store::update(&mut db, id, &change, now).await?;
    let after = store::get_by_id(&mut db, id)
        .await?
        .ok_or_else(ApiError::internal)?;
    audit::write(
        &mut db,
        Event::new("webhook_updated", &actor(admin)).details(json!({
            "webhook_id": id,
            "before": {"url": before.url, "events": events_text(&before.events),
                       "description": before.description, "is_enabled": before.is_enabled},
            "after": {"url": after.url, "events": events_text(&after.events),
                      "description": after.description, "is_enabled": after.is_enabled},
        })),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// A new secret for the subscription, answered once; the old one stops signing at once
/// (deliveries are signed when sent, so pending ones carry the new signature).
pub async fn rotate_secret(state: &AppState, admin: &User, id: i64) -> ApiResult<WebhookCreated> {
    let secret = new_secret();
    let now = state.now();
    let mut tx = state.store.begin_write().await?;
    let mut db = tx.db();
    if !store::set_secret(&mut db, id, &secret, now).await? {
        return Err(ApiError::not_found("webhook subscription"));
    }
    audit::write(
        &mut db,
        Event::new("webhook_secret_rotated", &actor(admin)).details(json!({"webhook_id": id})),
        now,
    )
    .await?;
    let created = with_secret(&mut db, id, secret).await?;
    tx.commit().await?;
    Ok(created)
}

/// Deletes a subscription; its pending deliveries fail at their next attempt. 404 if unknown.
pub async fn delete(state: &AppState, admin: &User, id: i64) -> ApiResult<()> {
    let now = state.now();
    let mut tx = state.store.begin_write().await?;
    let mut db = tx.db();
    let before = store::get_by_id(&mut db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("webhook subscription"))?;
    store::delete(&mut db, id).await?;
    audit::write(
        &mut db,
        Event::new("webhook_deleted", &actor(admin)).details(json!({
            "webhook_id": id, "removed": {"url": before.url, "events": events_text(&before.events),
            "description": before.description, "is_enabled": before.is_enabled},
        })),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn secrets_are_32_random_bytes_and_differ() {
        let a = new_secret();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(a.strip_prefix("whsec_").expect("prefix"))
            .expect("base64");
        assert_eq!(raw.len(), 32);
        assert_ne!(a, new_secret());
    }
}
