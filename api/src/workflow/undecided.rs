//! Requests that expire undecided: a pending request (or extension) whose role's approval
//! window closed (the engine's sweep, `expire_undecided`), and a pending extension whose grant
//! ended (`lapse_in_tx`, called wherever a grant's end is recorded). Each becomes `expired`,
//! is audited (`request_expired` with `why`) and its requester is told (outbox
//! `request.expired`), exactly once: the store moves each request by compare-and-set.

use chrono::{DateTime, Utc};
use jitea_shared::*;
use serde_json::json;

use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};
use crate::store::requests::{self as req_store, Lapsed, Undecided};
use crate::store::{outbox, Db, StoreError};

/// Audits requests that `store::requests::expire_pending` moved to `expired` and tells their
/// requesters (outbox `request.expired`). `why`: `approval_window` or `grant_ended`.
async fn record_expired(
    db: &mut Db<'_>,
    lapsed: &[Lapsed],
    why: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if lapsed.is_empty() {
        return Ok(());
    }
    let mut events = Vec::with_capacity(lapsed.len());
    let mut messages = Vec::with_capacity(lapsed.len());
    for r in lapsed {
        let mut e = Event::new("request_expired", actor)
            .user(r.user_id)
            .request(r.id)
            .details(json!({"why": why, "decide_by_utc": r.decide_by_utc, "extends_grant_id": r.extends_grant_id}));
        if let Some(g) = r.extends_grant_id {
            e = e.grant(g);
        }
        events.push(e);
        messages.push((
            "request.expired",
            json!({"request_id": r.id, "user_id": r.user_id, "role_id": r.role_id, "status": RequestStatus::Expired, "why": why}),
        ));
    }
    outbox::enqueue_many(db, messages, now).await?;
    audit::write_many(db, events, now).await
}

/// The engine's sweep: every pending request (or extension) whose approval window closed by
/// `now` becomes `expired`, audited, its requester told. A compare-and-set per request, so
/// with several replicas sweeping each request expires exactly once. Returns how many this
/// call expired.
pub async fn expire_undecided(state: &AppState, now: DateTime<Utc>) -> Result<usize, StoreError> {
    {
        let mut c = state.store.conn().await?;
        let mut db = Db::new(&mut c, state.store.dialect());
        if !req_store::any_window_closed(&mut db, now).await? {
            return Ok(0);
        }
    }
    let actor = Actor::system("expiry");
    let mut tx = state.store.begin_write().await?;
    let mut db = tx.db();
    let lapsed =
        req_store::expire_pending(&mut db, Undecided::WindowClosed, &actor.login_name, now).await?;
    record_expired(&mut db, &lapsed, "approval_window", &actor, now).await?;
    tx.commit().await?;
    Ok(lapsed.len())
}

/// Inside the transaction that records the end of `grant_ids`: their pending extensions
/// lapse (`expired`, audited, the requester told through the outbox).
pub async fn lapse_in_tx(
    db: &mut Db<'_>,
    grant_ids: &[i64],
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let lapsed = req_store::expire_pending(
        db,
        Undecided::ExtensionsOf(grant_ids),
        &actor.login_name,
        now,
    )
    .await?;
    record_expired(db, &lapsed, "grant_ended", actor, now).await
}
