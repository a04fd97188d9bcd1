//! `GET /api/v1/events`: server-sent events, scoped to what the caller may see — their own
//! requests and grants, requests they may decide, and everything for auditors and admins.
//! Browsers reconnect by themselves (`retry:` is set); a keep-alive comment goes out every 15 s.

use std::time::Duration;

use actix_web::web::Bytes;
use actix_web::{get, web, HttpResponse};
use jitea_shared::{LiveEvent, User};
use tokio::sync::broadcast::error::RecvError;

use crate::auth::AuthUser;
use crate::state::AppState;
use crate::store::{requests as req_store, Db};
use crate::workflow::approvers::approval_right;

use super::errors::CommonErrors;

async fn visible(st: &AppState, user: &User, ev: &LiveEvent) -> bool {
    if user.is_admin || user.is_auditor || ev.user_id == Some(user.id) {
        return true;
    }
    let Some(rid) = ev.request_id.filter(|_| ev.topic.starts_with("request.")) else {
        return false;
    };
    let Ok(mut c) = st.store.conn().await else {
        return false;
    };
    let mut db = Db::new(&mut c, st.store.dialect());
    match req_store::get_by_id(&mut db, rid).await {
        Ok(Some(req)) => matches!(approval_right(&mut db, user, &req).await, Ok(Some(_))),
        _ => false,
    }
}

fn frame(event: &str, data: &str) -> Bytes {
    Bytes::from(format!("event: {event}\ndata: {data}\n\n"))
}

/// Live events for the signed-in user (`text/event-stream`; each `data` is a `LiveEvent`).
#[utoipa::path(
    tag = "me",
    responses((status = 200, description = "Server-sent events: `event: <topic>`, `data: LiveEvent`", content_type = "text/event-stream", body = LiveEvent), CommonErrors),
    security(("bearer" = []))
)]
#[get("/events")]
pub async fn events(st: web::Data<AppState>, me: AuthUser) -> HttpResponse {
    let rx = st.live.subscribe();
    let state = (rx, st.into_inner(), me.0, true);
    let stream = futures_util::stream::unfold(state, |(mut rx, st, user, first)| async move {
        if first {
            let hello = Bytes::from("retry: 2000\nevent: hello\ndata: {}\n\n");
            return Some((Ok::<_, actix_web::Error>(hello), (rx, st, user, false)));
        }
        loop {
            tokio::select! {
                ev = rx.recv() => match ev {
                    Ok(ev) => {
                        if visible(&st, &user, &ev).await {
                            let data = serde_json::to_string(&ev).unwrap_or_else(|_| "{}".into());
                            return Some((Ok(frame(&ev.topic, &data)), (rx, st, user, false)));
                        }
                    }
                    // Fell behind: tell the page to refetch everything.
                    Err(RecvError::Lagged(_)) => return Some((Ok(frame("resync", "{}")), (rx, st, user, false))),
                    Err(RecvError::Closed) => return None,
                },
                _ = tokio::time::sleep(Duration::from_secs(15)) => {
                    return Some((Ok(Bytes::from(": keep-alive\n\n")), (rx, st, user, false)));
                }
            }
        }
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(stream)
}
