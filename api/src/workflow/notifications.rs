//! Notification deliveries as admins see them (the list and the retry of a failed one), and
//! each user's own notification settings.

use jitea_shared::{DeliveryStatus, NotificationDelivery, NotificationSettings, Page, User};
use serde_json::json;

use crate::domain::notifications::MuteKind;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};
use crate::store::notifications as store;
use crate::store::paging::PageReq;
use crate::store::Db;

/// Deliveries, newest first, optionally of one status.
pub async fn list(
    state: &AppState,
    status: Option<DeliveryStatus>,
    page: PageReq,
) -> ApiResult<Page<NotificationDelivery>> {
    let mut c = state.store.conn().await?;
    Ok(store::list(&mut Db::new(&mut c, state.store.dialect()), status, page).await?)
}

/// Puts a failed delivery back to pending, due now, with its attempts budget renewed; audited
/// in the same transaction. 404 for an unknown id, 409 `delivery_not_failed` otherwise.
pub async fn retry(state: &AppState, admin: &User, id: i64) -> ApiResult<NotificationDelivery> {
    let now = state.now();
    let mut tx = state.store.begin_write().await?;
    let mut db = tx.db();
    let before = store::get_by_id(&mut db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("delivery"))?;
    if !store::retry(&mut db, id, now).await? {
        return Err(ApiError::new(
            409,
            "delivery_not_failed",
            format!(
                "only a failed delivery can be retried; this one is {}",
                before.status
            ),
        ));
    }
    audit::write(
        &mut db,
        Event::new(
            "notification_retried",
            &Actor::user(admin.id, &admin.login_name),
        )
        .details(
            json!({"delivery_id": id, "event_type": before.event_type, "channel": before.channel,
                   "recipient_user_id": before.recipient_user_id, "attempts": before.attempts,
                   "last_error": before.last_error}),
        ),
        now,
    )
    .await?;
    let after = store::get_by_id(&mut db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("delivery"))?;
    tx.commit().await?;
    Ok(after)
}

/// The caller's notification settings.
pub async fn settings(state: &AppState, user: &User) -> ApiResult<NotificationSettings> {
    let mut c = state.store.conn().await?;
    let muted = store::mutes(&mut Db::new(&mut c, state.store.dialect()), user.id).await?;
    Ok(settings_of(&muted))
}

fn settings_of(muted: &[String]) -> NotificationSettings {
    let has = |k: MuteKind| muted.iter().any(|m| m == k.as_str());
    NotificationSettings {
        mute_reminders: has(MuteKind::Reminders),
        mute_decisions: has(MuteKind::Decisions),
    }
}

/// Replaces the caller's notification settings; audited (`notification_settings_changed`).
pub async fn set_settings(
    state: &AppState,
    user: &User,
    wanted: &NotificationSettings,
) -> ApiResult<NotificationSettings> {
    let now = state.now();
    let kinds: Vec<&str> = [
        (wanted.mute_reminders, MuteKind::Reminders),
        (wanted.mute_decisions, MuteKind::Decisions),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, k)| k.as_str())
    .collect();
    let mut tx = state.store.begin_write().await?;
    let mut db = tx.db();
    store::set_mutes(&mut db, user.id, &kinds, now).await?;
    audit::write(
        &mut db,
        Event::new(
            "notification_settings_changed",
            &Actor::user(user.id, &user.login_name),
        )
        .user(user.id)
        .details(json!({"muted": kinds})),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(settings_of(
        &kinds.iter().map(|k| k.to_string()).collect::<Vec<_>>(),
    ))
}
