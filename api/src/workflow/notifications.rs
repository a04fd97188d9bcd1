//! Notification deliveries as admins see them: the list and the retry of a failed one.

use jitea_shared::{DeliveryStatus, NotificationDelivery, Page, User};
use serde_json::json;

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
