//! Widgets shared by the pages.

pub mod badge;
pub mod countdown;
pub mod extension;
pub mod field;
pub mod nav;
pub mod reason;
pub mod states;
pub mod timeline;
pub mod toast;

/// Sets the browser tab's title, so tabs, history and screen readers name the page.
pub fn set_title(page: &str) {
    if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
        doc.set_title(&format!("{page} · JITEA"));
    }
}
