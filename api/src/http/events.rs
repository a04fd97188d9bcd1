//! `GET /api/v1/events`: server-sent events, scoped to what the caller may see — their own
//! requests and grants, requests they may decide, and everything for auditors and admins.
//! Browsers reconnect by themselves (`retry:` is set); a keep-alive comment goes out every 5 s.
//!
//! A stream is not a way around session rules: the caller's token and account are checked
//! again before every event and every 5 s while idle, and the stream ends when the token
//! expires or its session ends (logout, password or app-role change, deactivation). Streams are
//! capped per user and per process (`JITEA_EVENTS_MAX_PER_USER`, `JITEA_EVENTS_MAX_TOTAL`;
//! 429 `too_many_streams` beyond).

use std::sync::Arc;
use std::time::Duration;

use actix_web::web::Bytes;
use actix_web::{get, web, HttpResponse};
use jitea_shared::{LiveEvent, User};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::broadcast::Receiver;

use crate::auth::extract::{token_user, Session};
use crate::auth::limits::StreamSlot;
use crate::auth::token::Verified;
use crate::error::ApiResult;
use crate::notify::live::Published;
use crate::state::AppState;
use crate::store::{users, Db};

use super::errors::{CommonErrors, ThrottleErrors};

/// How often an idle stream re-checks its caller (and sends a keep-alive).
const RECHECK: Duration = Duration::from_secs(5);

/// Whether the caller may see an event: their own, everything for auditors and admins, and a
/// request's events for those who may decide it (decided in memory from the facts the hub
/// loaded once for the event; no query per stream).
fn visible(user: &User, teams: &[i64], p: &Published) -> bool {
    let ev = &p.event;
    if user.is_admin || user.is_auditor || ev.user_id == Some(user.id) {
        return true;
    }
    p.decision
        .as_ref()
        .is_some_and(|d| d.may_decide(user, teams))
}

fn frame(event: &str, data: &str) -> Bytes {
    Bytes::from(format!("event: {event}\ndata: {data}\n\n"))
}

struct Stream {
    rx: Receiver<Arc<Published>>,
    st: Arc<AppState>,
    user: User,
    /// The caller's active teams, refreshed with the caller at every re-check.
    teams: Vec<i64>,
    token: Verified,
    first: bool,
    _slot: StreamSlot,
}

impl Stream {
    /// The caller as they are now, or `None` when the stream must end.
    async fn recheck(&mut self) -> bool {
        if self.st.now() >= self.token.expires {
            return false;
        }
        match token_user(&self.st, &self.token).await {
            Ok(u) => {
                self.user = u;
                if let Ok(mut c) = self.st.store.conn().await {
                    let mut db = Db::new(&mut c, self.st.store.dialect());
                    if let Ok(t) = users::active_team_ids(&mut db, self.user.id).await {
                        self.teams = t;
                    }
                }
                true
            }
            // A database hiccup keeps the stream; anything else about the caller ends it.
            Err(e) => e.status == 503,
        }
    }

    fn until_next_check(&self) -> Duration {
        let left = (self.token.expires - self.st.now())
            .to_std()
            .unwrap_or(Duration::ZERO);
        RECHECK.min(left)
    }
}

/// Live events for the signed-in user (`text/event-stream`; each `data` is a `LiveEvent`).
#[utoipa::path(
    tag = "me",
    responses((status = 200, description = "Server-sent events: `event: <topic>`, `data: LiveEvent`", content_type = "text/event-stream", body = LiveEvent), CommonErrors, ThrottleErrors),
    security(("bearer" = []))
)]
#[get("/events")]
pub async fn events(st: web::Data<AppState>, me: Session) -> ApiResult<HttpResponse> {
    let slot = st.limits.stream_slot(me.user.id)?;
    let state = Stream {
        rx: st.live.subscribe(),
        st: st.into_inner(),
        user: me.user,
        teams: Vec::new(),
        token: me.token,
        first: true,
        _slot: slot,
    };
    let stream = futures_util::stream::unfold(state, |mut s| async move {
        if s.first {
            s.first = false;
            let hello = Bytes::from("retry: 2000\nevent: hello\ndata: {}\n\n");
            return Some((Ok::<_, actix_web::Error>(hello), s));
        }
        loop {
            let wait = s.until_next_check();
            tokio::select! {
                ev = s.rx.recv() => match ev {
                    Ok(ev) => {
                        if !s.recheck().await {
                            return None;
                        }
                        if visible(&s.user, &s.teams, &ev) {
                            let data = serde_json::to_string(&ev.event).unwrap_or_else(|_| "{}".into());
                            return Some((Ok(frame(&ev.event.topic, &data)), s));
                        }
                    }
                    // Fell behind: tell the page to refetch everything.
                    Err(RecvError::Lagged(_)) => {
                        if !s.recheck().await {
                            return None;
                        }
                        return Some((Ok(frame("resync", "{}")), s));
                    }
                    Err(RecvError::Closed) => return None,
                },
                _ = tokio::time::sleep(wait) => {
                    if !s.recheck().await {
                        return None;
                    }
                    return Some((Ok(Bytes::from(": keep-alive\n\n")), s));
                }
            }
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(stream))
}
