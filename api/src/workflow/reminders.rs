//! Reminders before a grant ends (issue 11 item 2): `JITEA_REMINDER_MINUTES` (default 15)
//! before an active grant's end, its holder is told once (outbox `grant.expiring`, which the
//! live stream and email deliver with a way to extend it) and the reminder is audited
//! (`grant_expiry_reminder`, a timeline step). An extension clears the mark, so the new end
//! gets its own reminder. Run by the engine on each pass; a compare-and-set per grant, so with
//! several replicas each end is reminded exactly once.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;

use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};
use crate::store::{grants as grant_store, outbox, reminders, Db, StoreError};

/// Grants reminded per engine pass at most (the rest follow on the next pass).
const BATCH: i64 = 500;

/// Reminds the holders of grants ending within the lead time from `now`; returns how many
/// this call reminded.
pub async fn remind_due(state: &AppState, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let lead = state.config.reminder_minutes;
    if lead <= 0 {
        return Ok(0);
    }
    let until = now + TimeDelta::minutes(lead);
    let ids = {
        let mut c = state.store.conn().await?;
        reminders::due(
            &mut Db::new(&mut c, state.store.dialect()),
            now,
            until,
            BATCH,
        )
        .await?
    };
    let mut reminded = 0;
    for id in ids {
        if remind_one(state, id, now, until).await? {
            reminded += 1;
        }
    }
    Ok(reminded)
}

/// One grant's reminder, in one transaction: the mark, the outbox row and the audit row.
async fn remind_one(
    state: &AppState,
    id: i64,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut tx = state.store.begin_write().await?;
    let mut db = tx.db();
    if !reminders::mark(&mut db, id, now, until).await? {
        return Ok(false);
    }
    let Some(g) = grant_store::get_by_id(&mut db, id).await? else {
        return Ok(false);
    };
    let minutes_left = (g.valid_to_utc - now).num_minutes();
    outbox::enqueue(
        &mut db,
        "grant.expiring",
        &json!({
            "grant_id": g.id, "request_id": g.request_id, "user_id": g.user_id,
            "role_id": g.role_id, "valid_to_utc": g.valid_to_utc, "minutes_left": minutes_left,
        }),
        now,
    )
    .await?;
    let actor = Actor::system("expiry");
    let mut e = Event::new("grant_expiry_reminder", &actor)
        .user(g.user_id)
        .grant(g.id)
        .details(json!({"valid_to_utc": g.valid_to_utc, "minutes_left": minutes_left}));
    if let Some(r) = g.request_id {
        e = e.request(r);
    }
    audit::write(&mut db, e, now).await?;
    tx.commit().await?;
    Ok(true)
}
