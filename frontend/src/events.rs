//! Live updates from the server (`GET /api/v1/events`, server-sent events).
//!
//! Why a single "version" counter: every list on every page is a resource that reads
//! [`Live::version`], so one bump after any event refetches exactly what the current page
//! shows, with no per-page subscription code. Bumps are debounced so a burst of events (an
//! approval issues a request event and a grant event) costs one refetch.
//!
//! The browser's `EventSource` is used directly: it is same-origin, so the HttpOnly session
//! cookie goes along, and it reconnects by itself after network trouble. Only when it gives up
//! (state CLOSED, e.g. the server answered 401) do we re-check the session and retry later.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use jitea_shared::LiveEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::prelude::*;
use web_sys::{EventSource, MessageEvent};

use crate::components::toast::{ToastKind, Toasts};
use crate::session::Session;

/// Event names the server sends.
pub const TOPICS: &[&str] = &[
    "request.created",
    "request.approval_counted",
    "request.approved",
    "request.denied",
    "request.cancelled",
    "request.auto_approved",
    "request.expired",
    "grant.active",
    "grant.expired",
    "grant.revoked",
    "grant.failed",
    "grant.extended",
    "grant.expiring",
];

/// State of the event stream, for the header indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveState {
    Off,
    Connecting,
    Live,
    Reconnecting,
}

/// Live-update context: the version every list depends on, and the stream state.
#[derive(Clone, Copy)]
pub struct Live {
    pub version: RwSignal<u64>,
    pub state: RwSignal<LiveState>,
}

impl Live {
    /// Makes every list on the page refetch (also used after the user's own changes).
    pub fn bump(&self) {
        self.version.update(|v| *v += 1);
    }

    /// Bumps once after a short pause, however many times it is called meanwhile.
    fn bump_soon(self) {
        if BUMP_PENDING.with(|p| p.replace(true)) {
            return;
        }
        set_timeout(
            move || {
                BUMP_PENDING.with(|p| p.set(false));
                self.bump();
            },
            Duration::from_millis(250),
        );
    }
}

/// An open stream and the JS callbacks it calls (they must live as long as the stream).
struct Connection {
    source: EventSource,
    _callbacks: Vec<Closure<dyn FnMut(web_sys::Event)>>,
}

thread_local! {
    static CONNECTION: RefCell<Option<Connection>> = const { RefCell::new(None) };
    static BUMP_PENDING: Cell<bool> = const { Cell::new(false) };
    /// Increases on every (re)connect so a stale retry timer does nothing.
    static GENERATION: Cell<u64> = const { Cell::new(0) };
}

/// Creates the live context and keeps the stream open exactly while someone is signed in.
pub fn provide_live(session: Session, toasts: Toasts) -> Live {
    let live = Live {
        version: RwSignal::new(0),
        state: RwSignal::new(LiveState::Off),
    };
    provide_context(live);
    Effect::new(move |_| {
        if session.signed_in.get() {
            connect(live, session, toasts);
        } else {
            disconnect(live);
        }
    });
    live
}

fn disconnect(live: Live) {
    GENERATION.with(|g| g.set(g.get() + 1));
    if let Some(c) = CONNECTION.with(|c| c.borrow_mut().take()) {
        c.source.close();
    }
    live.state.set(LiveState::Off);
}

fn connect(live: Live, session: Session, toasts: Toasts) {
    disconnect(live);
    let generation = GENERATION.with(|g| g.get());
    let source = match EventSource::new("/api/v1/events") {
        Ok(s) => s,
        Err(_) => {
            live.state.set(LiveState::Reconnecting);
            retry_later(live, session, toasts, generation);
            return;
        }
    };
    live.state.set(LiveState::Connecting);
    let mut callbacks = Vec::new();

    // After a reconnect, events may have been missed: refetch once the stream is back.
    let was_down = Cell::new(false);
    let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
        live.state.set(LiveState::Live);
        if was_down.replace(false) {
            live.bump_soon();
        }
    });
    source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    callbacks.push(on_open);

    let src = source.clone();
    let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
        live.state.set(LiveState::Reconnecting);
        if src.ready_state() == EventSource::CLOSED {
            // The browser gave up (e.g. 401 or the server is down): check the session, then
            // retry ourselves.
            spawn_local(session.refresh());
            retry_later(live, session, toasts, generation);
        }
    });
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    callbacks.push(on_error);

    for topic in TOPICS {
        let cb = Closure::<dyn FnMut(web_sys::Event)>::new(move |ev: web_sys::Event| {
            live.bump_soon();
            if let Some(msg) = ev.dyn_ref::<MessageEvent>() {
                notify_own(msg, session, toasts);
            }
        });
        let _ = source.add_event_listener_with_callback(topic, cb.as_ref().unchecked_ref());
        callbacks.push(cb);
    }

    CONNECTION.with(|c| {
        *c.borrow_mut() = Some(Connection {
            source,
            _callbacks: callbacks,
        })
    });
}

fn retry_later(live: Live, session: Session, toasts: Toasts, generation: u64) {
    set_timeout(
        move || {
            let current = GENERATION.with(|g| g.get()) == generation;
            if current && session.signed_in.get_untracked() {
                connect(live, session, toasts);
            }
        },
        Duration::from_secs(5),
    );
}

/// Tells the requester when a decision about their own request or grant arrives, whatever
/// page they are on.
fn notify_own(msg: &MessageEvent, session: Session, toasts: Toasts) {
    let Some(data) = msg.data().as_string() else {
        return;
    };
    let Ok(ev) = crate::json::parse::<LiveEvent>(&data) else {
        return;
    };
    if ev.user_id.is_none() || ev.user_id != Some(session.user_id_untracked()) {
        return;
    }
    let rid = ev.request_id.map(|r| format!(" #{r}")).unwrap_or_default();
    let (kind, text) = match ev.topic.as_str() {
        "request.approved" => (
            ToastKind::Success,
            format!("Your request{rid} was approved."),
        ),
        "request.denied" => (ToastKind::Error, format!("Your request{rid} was denied.")),
        "request.expired" => (
            ToastKind::Info,
            format!("Your request{rid} expired without a decision."),
        ),
        "grant.active" => (ToastKind::Success, "Your access is now active.".to_string()),
        "grant.extended" => (ToastKind::Success, "Your access was extended.".to_string()),
        "grant.expiring" => (
            ToastKind::Info,
            "One of your grants ends soon. Extend it if you still need it.".to_string(),
        ),
        "grant.expired" => (
            ToastKind::Info,
            "One of your grants has expired.".to_string(),
        ),
        "grant.revoked" => (
            ToastKind::Error,
            "One of your grants was revoked.".to_string(),
        ),
        "grant.failed" => (
            ToastKind::Error,
            "Granting your access failed on a target.".to_string(),
        ),
        _ => return,
    };
    toasts.live(kind, text);
}
