//! Fan-out: outbox events after the cursor become deliveries, one per (event, channel,
//! recipient), following `domain::notifications`. The deliveries and the cursor's
//! compare-and-set advance are one transaction, so two replicas never fan out one event twice
//! (the loser's advance finds the cursor moved and its transaction is dropped); the unique
//! idempotency key `"{outbox_id}:{channel}:{recipient}"` is the second guard.
//!
//! Who and what is read before the write transaction (SQLite holds one writer at a time);
//! a fact that changes in between (an approver leaves a team) is told as it was read.

use chrono::{DateTime, Utc};
use jitea_shared::{
    NotificationChannel, User, WebhookEvent, WebhookEventType, WebhookSubscription,
};
use serde_json::Value;

use crate::domain::notifications::{for_chat, mute_kind, notices, subscribed, Audience, Notice};
use crate::state::AppState;
use crate::store::notifications::{self as store, self as notif_store, NewDelivery};
use crate::store::{
    catalog, grants as grant_store, outbox, requests as req_store, users, webhooks, Db, StoreError,
};
use crate::workflow::approvers::{deciders, reviewers};

use super::chat;
use super::email::{approval_needed, status_change, Facts};

/// Events read per transaction.
const BATCH: i64 = 200;

/// How long a gap in outbox ids may be an uncommitted transaction rather than a rolled-back
/// one. Ids are taken at insert but become visible at commit, so on PostgreSQL and SQL Server
/// id 11 can be seen before id 10; a cursor that passed 11 would never see 10.
const SETTLE: chrono::TimeDelta = chrono::TimeDelta::seconds(5);

/// How many of `rows` (ids after `from`, ascending) may be fanned out now: all up to the first
/// gap in the ids, and past a gap only once the row after it is older than `SETTLE` (a
/// transaction holding the missing id has then long committed or rolled back).
fn settled(from: i64, rows: &[outbox::OutboxRow], now: DateTime<Utc>) -> usize {
    let mut expected = from + 1;
    for (i, r) in rows.iter().enumerate() {
        if r.id != expected && now - r.created_utc < SETTLE {
            return i;
        }
        expected = r.id + 1;
    }
    rows.len()
}

/// Fans out every event after the cursor; returns how many deliveries it created.
pub async fn run_once(state: &AppState) -> Result<usize, StoreError> {
    let mut total = 0;
    loop {
        let (from, mut rows, subs) = {
            let mut c = state.store.conn().await?;
            let mut db = Db::new(&mut c, state.store.dialect());
            let from = store::cursor(&mut db).await?;
            let rows = outbox::rows_after(&mut db, from, BATCH).await?;
            (from, rows, webhooks::enabled(&mut db).await?)
        };
        let read = rows.len();
        rows.truncate(settled(from, &rows, state.now()));
        let Some(to) = rows.last().map(|r| r.id) else {
            return Ok(total);
        };
        let mut planned = Vec::new();
        // Whether any chat channel may be configured: looked at once per batch.
        let chat_on = state.config.chat.any();
        for r in &rows {
            let v: Value = serde_json::from_str(&r.payload).unwrap_or(Value::Null);
            planned.extend(webhook_deliveries(r, &v, &subs));
            planned.extend(plan(state, chat_on, r.id, &r.topic, &v).await?);
        }
        let now = state.now();
        let mut tx = state.store.begin_write().await?;
        let mut db = tx.db();
        if !store::advance_cursor(&mut db, from, to).await? {
            // Another process fanned these out; read on from where it left the cursor.
            drop(tx);
            continue;
        }
        for d in &planned {
            store::insert(&mut db, d, now).await?;
        }
        tx.commit().await?;
        total += planned.len();
        if rows.len() < read || (read as i64) < BATCH {
            return Ok(total);
        }
    }
}

/// One delivery per enabled subscription that names the event: its body is the Standard
/// Webhooks payload (`WebhookEvent`), fixed now so every retry sends the same bytes.
fn webhook_deliveries(
    r: &outbox::OutboxRow,
    v: &Value,
    subs: &[WebhookSubscription],
) -> Vec<NewDelivery> {
    let Ok(event_type) = r.topic.parse::<WebhookEventType>() else {
        return Vec::new();
    };
    let body = serde_json::to_string(&WebhookEvent {
        event_type,
        timestamp: r.created_utc,
        data: v.clone(),
    })
    .unwrap_or_default();
    subs.iter()
        .filter(|s| subscribed(&s.events, &r.topic))
        .map(|s| NewDelivery {
            outbox_id: r.id,
            event_type: r.topic.clone(),
            channel: NotificationChannel::Webhook.as_str(),
            recipient_user_id: None,
            address: s.url.clone(),
            subject: r.topic.clone(),
            body_text: body.clone(),
            body_html: None,
            subscription_id: Some(s.id),
        })
        .collect()
}

/// The email and chat deliveries one event calls for (none when neither is configured).
async fn plan(
    state: &AppState,
    chat_on: bool,
    outbox_id: i64,
    topic: &str,
    v: &Value,
) -> Result<Vec<NewDelivery>, StoreError> {
    let Some(public_url) = &state.config.public_url else {
        return Ok(Vec::new());
    };
    if state.config.smtp.is_none() && !chat_on {
        return Ok(Vec::new());
    }
    let wanted = notices(topic, v["status"].as_str());
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let mut c = state.store.conn().await?;
    let mut db = Db::new(&mut c, state.store.dialect());
    let facts = load_facts(&mut db, v).await?;
    let mut out = Vec::new();
    if for_chat(topic, v["status"].as_str()) {
        let key = match facts.role_id {
            Some(id) => catalog::get_role(&mut db, id)
                .await?
                .and_then(|r| r.chat_channel),
            None => None,
        };
        let routes = state.config.chat.routes(key.as_deref());
        out.extend(chat_deliveries(
            outbox_id, topic, &facts, public_url, &routes,
        ));
    }
    if state.config.smtp.is_none() {
        return Ok(out);
    }
    for n in wanted {
        let rendered = match n.audience {
            Audience::Approvers => approval_needed(&facts, public_url),
            a => status_change(topic, &facts, public_url, a != Audience::Requester),
        };
        let mute = mute_kind(topic, n);
        for u in recipients(&mut db, n, v).await? {
            if let Some(kind) = mute {
                if notif_store::is_muted(&mut db, u.id, kind.as_str()).await? {
                    tracing::debug!(user_id = u.id, topic, "notification muted by the user");
                    continue;
                }
            }
            let Some(address) = u.email.filter(|e| !e.trim().is_empty()) else {
                tracing::debug!(
                    user_id = u.id,
                    topic,
                    "notification skipped: the user has no email address"
                );
                continue;
            };
            out.push(NewDelivery {
                outbox_id,
                event_type: topic.to_string(),
                channel: NotificationChannel::Email.as_str(),
                recipient_user_id: Some(u.id),
                address,
                subject: rendered.subject.clone(),
                body_text: rendered.text.clone(),
                body_html: Some(rendered.html.clone()),
                subscription_id: None,
            });
        }
    }
    Ok(out)
}

/// One message per configured chat channel (the team's room): Block Kit for Slack, an
/// Adaptive Card for Teams, rendered now.
fn chat_deliveries(
    outbox_id: i64,
    topic: &str,
    facts: &Facts,
    public_url: &str,
    routes: &[(NotificationChannel, String)],
) -> Vec<NewDelivery> {
    let for_approvers = matches!(topic, "request.created" | "request.approval_counted");
    let subject = if for_approvers {
        approval_needed(facts, public_url).subject
    } else {
        status_change(topic, facts, public_url, true).subject
    };
    routes
        .iter()
        .map(|(c, address)| {
            let body = match c {
                NotificationChannel::Teams => chat::teams(topic, facts, public_url, for_approvers),
                _ => chat::slack(topic, facts, public_url, for_approvers),
            };
            NewDelivery {
                outbox_id,
                event_type: topic.to_string(),
                channel: c.as_str(),
                recipient_user_id: None,
                address: address.clone(),
                subject: subject.clone(),
                body_text: body.to_string(),
                body_html: None,
                subscription_id: None,
            }
        })
        .collect()
}

/// The users a notice goes to: active ones only.
async fn recipients(db: &mut Db<'_>, n: Notice, v: &Value) -> Result<Vec<User>, StoreError> {
    let users = match n.audience {
        Audience::Approvers => match v["request_id"].as_i64() {
            Some(rid) => deciders(db, rid).await?,
            None => Vec::new(),
        },
        Audience::Reviewers => match v["request_id"].as_i64() {
            Some(rid) => reviewers(db, rid).await?,
            None => Vec::new(),
        },
        Audience::Requester => match v["user_id"].as_i64() {
            Some(uid) => users::get_by_id(db, uid).await?.into_iter().collect(),
            None => Vec::new(),
        },
        Audience::Admins => users::active_admins(db).await?,
    };
    Ok(users.into_iter().filter(|u| u.is_active).collect())
}

/// What the message says: the request's and grant's facts named by the payload.
async fn load_facts(db: &mut Db<'_>, v: &Value) -> Result<Facts, StoreError> {
    let mut f = Facts {
        request_id: v["request_id"].as_i64(),
        grant_id: v["grant_id"].as_i64(),
        reason: summary(v),
        ..Facts::default()
    };
    if let Some(r) = match f.request_id {
        Some(id) => req_store::get_by_id(db, id).await?,
        None => None,
    } {
        f.requester = r.user_login_name;
        f.role = r.role_name;
        f.duration_minutes = Some(r.requested_duration_minutes);
        f.justification = r.justification;
        f.ticket = r.ticket_ref;
        f.role_id = Some(r.role_id);
    }
    if let Some(g) = match f.grant_id {
        Some(id) => grant_store::get_by_id(db, id).await?,
        None => None,
    } {
        f.requester = g.user_login_name;
        f.role = g.role_name;
        f.valid_to = Some(utc(g.valid_to_utc));
        f.reason = g.revoke_reason;
        f.role_id = Some(g.role_id);
        f.request_id = f.request_id.or(g.request_id);
    }
    Ok(f)
}

/// What a run's event says in one line (drift found, a refused directory sync).
fn summary(v: &Value) -> Option<String> {
    if let Some(n) = v["findings"].as_i64() {
        return Some(format!(
            "run {}: {n} finding(s), {} repaired, {} error(s)",
            v["run_id"].as_i64().unwrap_or(0),
            v["repaired"].as_i64().unwrap_or(0),
            v["errors"].as_i64().unwrap_or(0)
        ));
    }
    v["message"].as_str().map(str::to_string)
}

fn utc(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn row(id: i64, age_secs: i64, now: DateTime<Utc>) -> outbox::OutboxRow {
        outbox::OutboxRow {
            id,
            topic: "t".into(),
            payload: "{}".into(),
            created_utc: now - chrono::TimeDelta::seconds(age_secs),
        }
    }

    #[test]
    fn a_fresh_gap_holds_the_cursor_and_an_old_one_does_not() {
        let now = Utc.timestamp_opt(1_800_000_000, 0).single().expect("time");
        let rows = [
            row(11, 0, now),
            row(12, 0, now),
            row(14, 1, now),
            row(15, 0, now),
        ];
        assert_eq!(settled(10, &rows, now), 2, "14 waits for 13");
        let rows = [row(11, 0, now), row(13, 60, now), row(14, 0, now)];
        assert_eq!(settled(10, &rows, now), 3, "12 rolled back long ago");
        assert_eq!(settled(9, &rows[..1], now), 0, "10 may still commit");
        assert_eq!(settled(10, &[], now), 0);
    }
}
