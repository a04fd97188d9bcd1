//! The top bar: brand, main navigation (collapsing behind a Menu button on phones), the
//! live-update indicator, and the signed-in user with sign-out.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;

use crate::api;
use crate::components::states::{live_resource, run_busy};
use crate::components::toast::use_toasts;
use crate::events::{Live, LiveState};
use crate::format;
use crate::session::Session;

#[component]
pub fn TopBar() -> impl IntoView {
    let session = expect_context::<Session>();
    let open = RwSignal::new(false);
    let location = use_location();
    // Close the phone menu after every navigation.
    Effect::new(move |_| {
        location.pathname.with(|_| ());
        open.set(false);
    });

    view! {
        <header class="topbar">
            <div class="topbar-inner">
                <a href="/" class="brand">
                    <span class="brand-mark" aria-hidden="true"></span>
                    "JITEA"
                </a>
                <LiveIndicator/>
                <Show when=move || session.signed_in.get()>
                    <button
                        type="button"
                        class="menu-toggle"
                        aria-controls="main-nav"
                        aria-expanded=move || open.get().to_string()
                        data-testid="nav-toggle"
                        on:click=move |_| open.update(|o| *o = !*o)
                    >
                        <span aria-hidden="true">"☰ "</span>
                        "Menu"
                    </button>
                    <div id="main-nav" class="nav-panel" class:open=move || open.get()>
                        <MainNav/>
                        <UserBox/>
                    </div>
                </Show>
            </div>
        </header>
    }
}

#[component]
fn MainNav() -> impl IntoView {
    let session = expect_context::<Session>();
    // How many requests wait for this user's decision, so approvers notice without looking.
    let queue = live_resource(api::pending_approvals);
    let waiting = move || {
        let me = session.user_id();
        queue
            .get()
            .and_then(|r| r.ok())
            .map_or(0, |l| l.iter().filter(|r| r.user_id != me).count())
    };
    view! {
        <nav class="nav" aria-label="Main">
            <A href="/" exact=true attr:class="nav-link" {..} data-testid="nav-dashboard">
                "Dashboard"
            </A>
            <A href="/request" attr:class="nav-link" {..} data-testid="nav-request">
                "Request access"
            </A>
            <A href="/history" attr:class="nav-link" {..} data-testid="nav-history">
                "History"
            </A>
            <A href="/approvals" attr:class="nav-link" {..} data-testid="nav-approvals">
                "Approvals"
                {move || {
                    let n = waiting();
                    (n > 0)
                        .then(|| {
                            view! {
                                <span class="count" data-testid="approvals-count">
                                    {n}
                                    <span class="sr-only">" waiting"</span>
                                </span>
                            }
                        })
                }}
            </A>
            <Show when=move || session.can_view_admin()>
                <A href="/admin" attr:class="nav-link" {..} data-testid="nav-admin">
                    "Admin"
                </A>
            </Show>
        </nav>
    }
}

#[component]
fn UserBox() -> impl IntoView {
    let session = expect_context::<Session>();
    let toasts = use_toasts();
    let navigate = use_navigate();
    let busy = RwSignal::new(false);
    let sign_out = move |_| {
        let navigate = navigate.clone();
        run_busy(busy, async move {
            if let Err(e) = session.sign_out().await {
                toasts.error(format!("Signed out here, but the server said: {e}"));
            } else {
                toasts.info("You are signed out.");
            }
            navigate("/login", NavigateOptions::default());
        });
    };
    let name = move || {
        session
            .user
            .with(|u| u.as_ref().map(format::user_label).unwrap_or_default())
    };
    let role = move || {
        session.user.with(|u| match u {
            Some(u) if u.is_admin => "admin",
            Some(u) if u.is_auditor => "auditor",
            _ => "",
        })
    };
    view! {
        <div class="userbox">
            <span class="whoami" data-testid="whoami">
                {name}
                {move || {
                    let r = role();
                    (!r.is_empty()).then(|| view! { <span class="badge badge-muted">{r}</span> })
                }}
            </span>
            <button
                type="button"
                class="btn btn-secondary btn-small"
                data-testid="signout"
                disabled=busy
                on:click=sign_out
            >
                {move || if busy.get() { "Signing out…" } else { "Sign out" }}
            </button>
        </div>
    }
}

/// "live" while the event stream is open, "reconnecting" while it is not.
#[component]
fn LiveIndicator() -> impl IntoView {
    let live = expect_context::<Live>();
    let state = move || live.state.get();
    view! {
        <Show when=move || state() != LiveState::Off>
            <span
                class=move || match state() {
                    LiveState::Live => "live live-on",
                    _ => "live live-off",
                }
                data-testid="live-indicator"
                data-state=move || match state() {
                    LiveState::Live => "live",
                    LiveState::Connecting => "connecting",
                    _ => "reconnecting",
                }
                title="Lists on this page update by themselves while live."
            >
                <span class="live-dot" aria-hidden="true"></span>
                {move || match state() {
                    LiveState::Live => "live",
                    LiveState::Connecting => "connecting…",
                    _ => "reconnecting…",
                }}
            </span>
        </Show>
    }
}
