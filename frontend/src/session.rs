//! Who is signed in.
//!
//! The session itself is an HttpOnly cookie the page cannot read; what the page keeps is the
//! signed-in [`User`] (for the nav and for "is this my own request?") and, inside
//! [`crate::api`], the CSRF token. Both live in memory only, so a reload asks the server
//! (`GET /auth/session`) instead of trusting anything stored in the browser.

use jitea_shared::{SessionInfo, User};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiResult};

/// The session state, provided as context by the app root.
#[derive(Clone, Copy)]
pub struct Session {
    /// The signed-in user; `None` when signed out.
    pub user: RwSignal<Option<User>>,
    /// False until the first `GET /auth/session` has answered, so pages do not flash the
    /// sign-in form for a user who is in fact signed in.
    pub checked: RwSignal<bool>,
    /// Whether someone is signed in; a memo so guards re-render only on sign-in/out.
    pub signed_in: Memo<bool>,
}

impl Session {
    fn new() -> Self {
        let user = RwSignal::new(None::<User>);
        Session {
            user,
            checked: RwSignal::new(false),
            signed_in: Memo::new(move |_| user.with(Option::is_some)),
        }
    }

    /// Accepts a session answer from the server.
    fn accept(&self, info: SessionInfo) {
        api::set_csrf(Some(info.csrf_token));
        // Re-check when the server says the session ends, so an idle page drops to the
        // sign-in form on time instead of at the next failing click.
        let ms = (info.expires_utc - chrono::Utc::now())
            .num_milliseconds()
            .clamp(5_000, i64::from(i32::MAX)) as u64;
        let me = *self;
        set_timeout(
            move || spawn_local(me.refresh()),
            std::time::Duration::from_millis(ms),
        );
        // Only a real change notifies, so a background re-check does not re-render pages.
        if self.user.with_untracked(|u| u.as_ref() != Some(&info.user)) {
            self.user.set(Some(info.user));
        }
        self.checked.set(true);
    }

    /// Forgets the session locally (after sign-out or when the server says 401).
    pub fn clear(&self) {
        api::set_csrf(None);
        self.user.set(None);
        self.checked.set(true);
    }

    /// Signs in with a built-in account.
    pub async fn sign_in(self, login: &str, password: &str) -> ApiResult<()> {
        let info = api::sign_in(login, password).await?;
        self.accept(info);
        Ok(())
    }

    /// Signs out on the server, then locally (locally even if the server call failed, so the
    /// button always does what it says).
    pub async fn sign_out(self) -> ApiResult<()> {
        let r = api::sign_out().await;
        self.clear();
        r
    }

    /// Asks the server whether the cookie session is still valid.
    pub async fn refresh(self) {
        match api::session().await {
            Ok(info) => self.accept(info),
            Err(e) if e.status == 401 || e.status == 403 => self.clear(),
            // Network trouble: keep what we have; the next call will tell.
            Err(_) => self.checked.set(true),
        }
    }

    pub fn is_admin(&self) -> bool {
        self.user.with(|u| u.as_ref().is_some_and(|u| u.is_admin))
    }

    /// Whether the user is an admin, read once (without subscribing) when a page is built:
    /// forms and action buttons are simply left out for auditors.
    pub fn admin_now(&self) -> bool {
        self.user
            .with_untracked(|u| u.as_ref().is_some_and(|u| u.is_admin))
    }

    /// Admins and auditors may open the admin pages (auditors read-only).
    pub fn can_view_admin(&self) -> bool {
        self.user
            .with(|u| u.as_ref().is_some_and(|u| u.is_admin || u.is_auditor))
    }

    /// The signed-in user's id (0 when signed out, which matches nobody).
    pub fn user_id(&self) -> i64 {
        self.user.with(|u| u.as_ref().map_or(0, |u| u.id))
    }

    /// Like [`Session::user_id`] but without subscribing (for event callbacks).
    pub fn user_id_untracked(&self) -> i64 {
        self.user.with_untracked(|u| u.as_ref().map_or(0, |u| u.id))
    }
}

/// Creates the session context, checks the cookie session once, and drops to signed-out
/// whenever any API call answers 401.
pub fn provide_session() -> Session {
    let s = Session::new();
    provide_context(s);
    api::on_unauthorized(move || s.clear());
    spawn_local(s.refresh());
    s
}
