//! Account state changes that affect access: activation and deactivation.

use jitea_shared::User;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};
use crate::store::{sessions, users};

use super::grants;

/// Activates or deactivates a user. Deactivation is one transaction (inactive, live grants
/// ending, pending requests cancelled) followed by the removal on targets; see
/// `grants::deactivate_user`. Returns the user and the grants whose removal a target has not
/// confirmed yet (the engine keeps retrying them).
pub async fn set_active(
    state: &AppState,
    by: &User,
    id: i64,
    active: bool,
) -> ApiResult<(User, Vec<i64>)> {
    if id == by.id && !active {
        return Err(ApiError::conflict(
            "cannot_deactivate_self",
            "you cannot deactivate your own account",
        ));
    }
    let actor = Actor::user(by.id, &by.login_name);
    if !active {
        return grants::deactivate_user(state, &actor, id)
            .await?
            .ok_or_else(|| ApiError::not_found("user"));
    }
    let now = state.now();
    let mut tx = state.store.begin_write().await?;
    let mut db = tx.db();
    let before = users::get_by_id(&mut db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    if !before.is_active {
        users::set_active(&mut db, id, true, &by.login_name, now).await?;
        sessions::bump_epoch(&mut db, id, now).await?;
        audit::write(&mut db, Event::new("user_activated", &actor).user(id), now).await?;
    }
    let u = users::get_by_id(&mut db, id)
        .await?
        .ok_or_else(ApiError::internal)?;
    tx.commit().await?;
    Ok((u, Vec::new()))
}
