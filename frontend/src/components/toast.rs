//! Toasts: short feedback after an action ("Request submitted", "Approval failed: ...").
//!
//! At most one action toast is shown at a time (a new one replaces the old), so feedback
//! never piles up and browser tests find exactly one `data-testid="toast"`. Notifications
//! pushed by live events (someone else decided your request) are kept apart, as
//! `data-testid="live-toast"`, so they never hide the result of what the user just did.

use std::time::Duration;

use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToastKind {
    Success,
    Error,
    Info,
}

impl ToastKind {
    fn name(self) -> &'static str {
        match self {
            ToastKind::Success => "success",
            ToastKind::Error => "error",
            ToastKind::Info => "info",
        }
    }

    fn class(self) -> &'static str {
        match self {
            ToastKind::Success => "toast toast-success",
            ToastKind::Error => "toast toast-error",
            ToastKind::Info => "toast toast-info",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ToastItem {
    id: u64,
    kind: ToastKind,
    text: String,
    /// Pushed by a live event rather than by the user's own action.
    live: bool,
}

/// The toast context; `Copy` so any handler can capture it.
#[derive(Clone, Copy)]
pub struct Toasts {
    items: RwSignal<Vec<ToastItem>>,
    next: StoredValue<u64>,
}

impl Toasts {
    fn push(&self, kind: ToastKind, text: String, live: bool) {
        let id = self.next.get_value();
        self.next.set_value(id + 1);
        self.items.update(|v| {
            v.retain(|t| t.live != live);
            v.push(ToastItem {
                id,
                kind,
                text,
                live,
            });
        });
        // Errors stay longer: they usually need reading.
        let ms = if kind == ToastKind::Error { 9000 } else { 5000 };
        let items = self.items;
        set_timeout(
            move || items.update(|v| v.retain(|t| t.id != id)),
            Duration::from_millis(ms),
        );
    }

    pub fn success(&self, text: impl Into<String>) {
        self.push(ToastKind::Success, text.into(), false);
    }

    pub fn error(&self, text: impl Into<String>) {
        self.push(ToastKind::Error, text.into(), false);
    }

    pub fn info(&self, text: impl Into<String>) {
        self.push(ToastKind::Info, text.into(), false);
    }

    /// A notification caused by a live event.
    pub fn live(&self, kind: ToastKind, text: impl Into<String>) {
        self.push(kind, text.into(), true);
    }

    fn dismiss(&self, id: u64) {
        self.items.update(|v| v.retain(|t| t.id != id));
    }
}

pub fn provide_toasts() -> Toasts {
    let t = Toasts {
        items: RwSignal::new(Vec::new()),
        next: StoredValue::new(1),
    };
    provide_context(t);
    t
}

pub fn use_toasts() -> Toasts {
    expect_context::<Toasts>()
}

/// Where toasts appear. A polite live region, so screen readers announce them.
#[component]
pub fn ToastHost() -> impl IntoView {
    let toasts = use_toasts();
    view! {
        <div class="toasts" role="status" aria-live="polite">
            {move || {
                toasts
                    .items
                    .get()
                    .into_iter()
                    .map(|t| {
                        let id = t.id;
                        let testid = if t.live { "live-toast" } else { "toast" };
                        view! {
                            <div class=t.kind.class() data-testid=testid data-kind=t.kind.name()>
                                <span class="toast-text">{t.text}</span>
                                <button
                                    type="button"
                                    class="toast-close"
                                    aria-label="Dismiss notification"
                                    on:click=move |_| toasts.dismiss(id)
                                >
                                    "×"
                                </button>
                            </div>
                        }
                    })
                    .collect_view()
            }}
        </div>
    }
}
