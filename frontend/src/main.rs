//! JITEA web app: a client-side-rendered Leptos SPA, served by the API server from the same
//! origin (so the session cookie and `/api/v1` need no CORS). Trunk builds it from
//! `frontend/index.html`.

mod api;
mod app;
mod components;
mod events;
mod format;
mod json;
mod pages;
mod read;
mod session;

fn main() {
    leptos::mount::mount_to_body(app::App);
}
