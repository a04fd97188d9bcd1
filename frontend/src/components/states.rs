//! Loading, empty and error states, and the live resource helper every list uses.

use std::future::Future;
use std::pin::Pin;

use leptos::prelude::*;

use crate::api::{ApiError, ApiResult};
use crate::events::Live;

/// The latest answer of a live fetch: `None` until the first one arrives.
pub type Res<T> = RwSignal<Option<ApiResult<T>>>;

/// A boxed fetch: one concrete type per result type `T`, whatever closure made it.
type Fetch<T> = Box<dyn Fn() -> Pin<Box<dyn Future<Output = ApiResult<T>>>>>;

/// Data that refetches whenever a live event arrives (or [`Live::bump`] is called), and
/// whenever a signal read by `fetch` (before its first `.await`) changes. While it refetches
/// the old data stays on screen, so live updates do not flicker; an answer that arrives after
/// a newer fetch started is dropped.
///
/// Deliberately a signal plus an effect rather than Leptos' `LocalResource`: the resource
/// machinery, compiled once per call site, was a large share of the wasm. The fetcher is
/// boxed so what remains is compiled once per result type.
pub fn live_resource<T, Fut>(fetch: impl Fn() -> Fut + 'static) -> Res<T>
where
    T: Send + Sync + 'static,
    Fut: Future<Output = ApiResult<T>> + 'static,
{
    boxed_resource(Box::new(move || Box::pin(fetch())))
}

fn boxed_resource<T: Send + Sync + 'static>(fetch: Fetch<T>) -> Res<T> {
    let live = expect_context::<Live>();
    let data: Res<T> = RwSignal::new(None);
    let latest = StoredValue::new(0u64);
    Effect::new(move |_| {
        live.version.track();
        let fut = fetch();
        let seq = latest.get_value() + 1;
        latest.set_value(seq);
        leptos::task::spawn_local(async move {
            let answer = fut.await;
            // Dropped if a newer fetch started meanwhile, or the page is gone.
            if latest.try_get_value() == Some(seq) {
                data.set(Some(answer));
            }
        });
    });
    data
}

/// Shows a resource: a spinner until the first answer, the error state on failure, else
/// `render(data)`.
pub fn fetched<T, V>(res: Res<T>, render: impl Fn(T) -> V + Send + Sync + 'static) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    move || match res.get() {
        None => view! { <Loading/> }.into_any(),
        Some(Err(e)) => view! { <ErrorState error=e/> }.into_any(),
        Some(Ok(v)) => render(v).into_any(),
    }
}

/// Where a list stands. Rendering the status apart from the rows (which go in a keyed
/// `<For>`) keeps unchanged rows, and anything typed into them, across live refreshes.
#[derive(Debug, Clone, PartialEq)]
pub enum ListState {
    Loading,
    Failed(ApiError),
    Empty,
    Ready,
}

/// The [`ListState`] of a resource; `is_empty` says whether loaded data has no rows.
pub fn list_state<T>(
    res: Res<T>,
    is_empty: impl Fn(&T) -> bool + Send + Sync + 'static,
) -> Memo<ListState>
where
    T: Send + Sync + 'static,
{
    Memo::new(move |_| {
        res.with(|r| match r {
            None => ListState::Loading,
            Some(Err(e)) => ListState::Failed(e.clone()),
            Some(Ok(v)) if is_empty(v) => ListState::Empty,
            Some(Ok(_)) => ListState::Ready,
        })
    })
}

/// Loading / error / empty for a list; nothing once it is ready (the caller shows rows).
#[component]
pub fn ListStatus(
    state: Memo<ListState>,
    #[prop(into)] empty: String,
    #[prop(optional)] children: Option<ChildrenFn>,
) -> impl IntoView {
    let empty = StoredValue::new(empty);
    let children = StoredValue::new(children);
    move || match state.get() {
        ListState::Loading => view! { <Loading/> }.into_any(),
        ListState::Failed(e) => view! { <ErrorState error=e/> }.into_any(),
        ListState::Empty => {
            let body = children.with_value(|c| c.as_ref().map(|c| c()));
            view! {
                <div class="state state-empty" data-testid="empty">
                    <p class="state-title">{empty.get_value()}</p>
                    {body.map(|b| view! { <div class="state-body">{b}</div> })}
                </div>
            }
            .into_any()
        }
        ListState::Ready => ().into_any(),
    }
}

#[component]
pub fn Loading(#[prop(optional, into)] label: Option<String>) -> impl IntoView {
    let label = label.unwrap_or_else(|| "Loading…".into());
    view! {
        <div class="state state-loading" data-testid="loading" role="status">
            <span class="spinner" aria-hidden="true"></span>
            <span>{label}</span>
        </div>
    }
}

#[component]
pub fn Empty(
    #[prop(into)] title: String,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="state state-empty" data-testid="empty">
            <p class="state-title">{title}</p>
            {children.map(|c| view! { <div class="state-body">{c()}</div> })}
        </div>
    }
}

/// A failed load, with a retry that refetches every list on the page.
#[component]
pub fn ErrorState(error: ApiError) -> impl IntoView {
    let live = expect_context::<Live>();
    let title = match error.status {
        403 => "You do not have access to this.",
        404 => "Not found.",
        0 => "The server could not be reached.",
        _ => "Something went wrong while loading.",
    };
    view! {
        <div class="state state-error" data-testid="error" role="alert">
            <p class="state-title">{title}</p>
            <p class="muted">{error.message.clone()}</p>
            <button type="button" class="btn btn-secondary btn-small" on:click=move |_| live.bump()>
                "Try again"
            </button>
        </div>
    }
}

/// Runs `fut` for a button unless one is already in flight; `busy` is true meanwhile, which
/// the button binds to `disabled` so double clicks cannot send twice.
pub fn run_busy(busy: RwSignal<bool>, fut: impl Future<Output = ()> + 'static) {
    run_boxed(busy, Box::pin(fut));
}

/// The non-generic part of [`run_busy`], compiled once for every button.
fn run_boxed(busy: RwSignal<bool>, fut: Pin<Box<dyn Future<Output = ()>>>) {
    if busy.get_untracked() {
        return;
    }
    busy.set(true);
    leptos::task::spawn_local(async move {
        fut.await;
        busy.set(false);
    });
}
