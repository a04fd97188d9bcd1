//! Applies `domain::separation` for the handlers: a change to facts that decide a user's own
//! access is refused with 403 `self_change_forbidden` (admins included) and the attempt is
//! audited as `self_change_refused`.
//!
//! Every handler that changes such a fact calls `guard` before its own transaction (or
//! `refused` after dropping it, when the changed facts are only known from the stored row).

use jitea_shared::User;
use serde_json::json;

use crate::domain::separation::{may_change_subject, Fact};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};

/// The stable error code of every refusal.
pub const CODE: &str = "self_change_forbidden";

/// Ok when `actor` may change `facts` of `subject_id`; otherwise audits and refuses.
pub async fn guard(st: &AppState, actor: &User, subject_id: i64, facts: &[Fact]) -> ApiResult<()> {
    if facts.is_empty() || may_change_subject(actor.id, subject_id) {
        return Ok(());
    }
    Err(refused(st, actor, subject_id, facts).await)
}

/// Audits a refused self-change and returns the error to answer with. Call it with no write
/// transaction open (it writes its own).
pub async fn refused(st: &AppState, actor: &User, subject_id: i64, facts: &[Fact]) -> ApiError {
    let names: Vec<&str> = facts.iter().map(|f| f.as_str()).collect();
    let write = async {
        let mut tx = st.store.begin_write().await?;
        let mut db = tx.db();
        audit::write(
            &mut db,
            Event::new(
                "self_change_refused",
                &Actor::user(actor.id, &actor.login_name),
            )
            .user(subject_id)
            .details(json!({"facts": names})),
            st.now(),
        )
        .await?;
        tx.commit().await
    };
    if let Err(e) = write.await {
        return e.into();
    }
    ApiError::forbidden(
        CODE,
        format!(
            "you cannot change facts that decide your own access ({}); another admin must do it",
            names.join(", ")
        ),
    )
    .with_details(json!({"facts": names}))
}
