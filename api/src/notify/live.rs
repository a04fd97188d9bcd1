//! The live event hub: a poller reads new outbox rows (written in the same transaction as each
//! state change, by this or any other process on the database) and broadcasts them to the
//! server-sent-event subscribers of this process.

use std::sync::Arc;
use std::time::Duration;

use jitea_shared::LiveEvent;
use serde_json::Value;
use tokio::sync::{broadcast, watch};

use crate::state::AppState;
use crate::store::{outbox, Db};
use crate::workflow::approvers::{decision_facts, DecisionFacts};

/// An event as broadcast to this process's streams, with what decides who may see it,
/// loaded once per event rather than once per stream.
#[derive(Debug)]
pub struct Published {
    pub event: LiveEvent,
    /// For a request's events (and a break-glass grant's `grant.break_glass`): who may
    /// decide the request, i.e. the role's approvers.
    pub decision: Option<DecisionFacts>,
}

/// How often the outbox is read; the live latency budget is one second.
const POLL: Duration = Duration::from_millis(200);

pub fn channel() -> broadcast::Sender<Arc<Published>> {
    broadcast::channel(1024).0
}

fn to_event(topic: String, payload: &str) -> LiveEvent {
    let v: Value = serde_json::from_str(payload).unwrap_or(Value::Null);
    LiveEvent {
        topic,
        request_id: v["request_id"].as_i64(),
        grant_id: v["grant_id"].as_i64(),
        user_id: v["user_id"].as_i64(),
    }
}

async fn publish(state: &AppState, event: LiveEvent) -> Published {
    let decision = match event
        .request_id
        .filter(|_| event.topic.starts_with("request.") || event.topic == "grant.break_glass")
    {
        Some(rid) => match state.store.conn().await {
            Ok(mut c) => decision_facts(&mut Db::new(&mut c, state.store.dialect()), rid)
                .await
                .unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "live events: loading who may decide failed");
                    None
                }),
            Err(_) => None,
        },
        None => None,
    };
    Published { event, decision }
}

/// Runs until `shutdown` turns true, starting after the newest existing outbox row.
pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    let mut last = loop {
        match state.store.conn().await {
            Ok(mut c) => match outbox::max_id(&mut Db::new(&mut c, state.store.dialect())).await {
                Ok(id) => break id,
                Err(e) => tracing::warn!(error = %e, "live events: reading the outbox failed"),
            },
            Err(e) => tracing::warn!(error = %e, "live events: no database connection"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    loop {
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = shutdown.changed() => {
                if *shutdown.borrow() { break; }
            }
        }
        if state.live.receiver_count() == 0 {
            // Nobody listens: skip ahead without reading payloads.
            if let Ok(mut c) = state.store.conn().await {
                if let Ok(id) = outbox::max_id(&mut Db::new(&mut c, state.store.dialect())).await {
                    last = id;
                }
            }
            continue;
        }
        let rows = match state.store.conn().await {
            Ok(mut c) => {
                outbox::since(&mut Db::new(&mut c, state.store.dialect()), last, 500).await
            }
            Err(e) => Err(e),
        };
        match rows {
            Ok(rows) => {
                for (id, topic, payload) in rows {
                    last = id;
                    let _ = state
                        .live
                        .send(Arc::new(publish(&state, to_event(topic, &payload)).await));
                }
            }
            Err(e) => tracing::warn!(error = %e, "live events: reading the outbox failed"),
        }
    }
}
