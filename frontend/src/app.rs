//! The app root: contexts, router, page frame, and the sign-in guards.

use leptos::prelude::*;
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::hooks::use_location;
use leptos_router::path;

use crate::api::encode;
use crate::components::countdown::provide_clock;
use crate::components::nav::TopBar;
use crate::components::states::{Empty, Loading};
use crate::components::toast::{provide_toasts, ToastHost};
use crate::events::provide_live;
use crate::pages::admin::{
    audit::AuditPage, directory::DirectoryPage, eligibility::EligibilityPage, grants::GrantsPage,
    notifications::NotificationsPage, roles::RolesPage, targets::TargetsPage, teams::TeamsPage,
    users::UsersPage, AdminOverview,
};
use crate::pages::{
    approval_detail::ApprovalDetailPage, approvals::ApprovalsPage, dashboard::DashboardPage,
    history::HistoryPage, login::LoginPage, request::RequestPage,
};
use crate::session::provide_session;

#[component]
pub fn App() -> impl IntoView {
    let toasts = provide_toasts();
    let session = provide_session();
    provide_live(session, toasts);
    provide_clock();

    view! {
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <TopBar/>
            <main id="main" class="container" tabindex="-1">
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=path!("/login") view=LoginPage/>
                    <Route path=path!("/") view=|| guarded(|| view! { <DashboardPage/> }.into_any(), false)/>
                    <Route path=path!("/request") view=|| guarded(|| view! { <RequestPage/> }.into_any(), false)/>
                    <Route path=path!("/history") view=|| guarded(|| view! { <HistoryPage/> }.into_any(), false)/>
                    <Route path=path!("/approvals") view=|| guarded(|| view! { <ApprovalsPage/> }.into_any(), false)/>
                    <Route
                        path=path!("/approvals/:id")
                        view=|| guarded(|| view! { <ApprovalDetailPage/> }.into_any(), false)
                    />
                    <Route path=path!("/admin") view=|| guarded(|| view! { <AdminOverview/> }.into_any(), true)/>
                    <Route path=path!("/admin/roles") view=|| guarded(|| view! { <RolesPage/> }.into_any(), true)/>
                    <Route path=path!("/admin/teams") view=|| guarded(|| view! { <TeamsPage/> }.into_any(), true)/>
                    <Route
                        path=path!("/admin/eligibility")
                        view=|| guarded(|| view! { <EligibilityPage/> }.into_any(), true)
                    />
                    <Route path=path!("/admin/users") view=|| guarded(|| view! { <UsersPage/> }.into_any(), true)/>
                    <Route
                        path=path!("/admin/targets")
                        view=|| guarded(|| view! { <TargetsPage/> }.into_any(), true)
                    />
                    <Route
                        path=path!("/admin/directory")
                        view=|| guarded(|| view! { <DirectoryPage/> }.into_any(), true)
                    />
                    <Route path=path!("/admin/grants") view=|| guarded(|| view! { <GrantsPage/> }.into_any(), true)/>
                    <Route
                        path=path!("/admin/notifications")
                        view=|| guarded(|| view! { <NotificationsPage/> }.into_any(), true)
                    />
                    <Route path=path!("/admin/audit") view=|| guarded(|| view! { <AuditPage/> }.into_any(), true)/>
                </Routes>
            </main>
            <ToastHost/>
        </Router>
    }
}

/// A page of the app, as a plain function: the guard below is then compiled once, not once
/// per route.
type Page = fn() -> AnyView;

fn guarded(page: Page, admin_only: bool) -> AnyView {
    view! { <Guard page=page admin_only=admin_only/> }.into_any()
}

/// Shows its page only to a signed-in user; otherwise sends them to `/login?next=<here>`.
/// Waits for the first session check so a signed-in user never sees the sign-in form flash.
/// Admin pages are for admins and auditors (auditors get them read-only).
#[component]
fn Guard(page: Page, admin_only: bool) -> impl IntoView {
    let session = expect_context::<crate::session::Session>();
    let location = use_location();
    let allowed = Memo::new(move |_| !admin_only || session.can_view_admin());
    move || {
        if !session.checked.get() {
            return view! { <Loading label="Checking your session…"/> }.into_any();
        }
        if !session.signed_in.get() {
            let here = location.pathname.get_untracked() + &location.search.get_untracked();
            let to = if here == "/" {
                "/login".to_string()
            } else {
                format!("/login?next={}", encode(&here))
            };
            return view! { <Redirect path=to/> }.into_any();
        }
        if !allowed.get() {
            return view! {
                <Empty title="Administrators and auditors only">
                    <p>"Your account cannot open the admin pages."</p>
                </Empty>
            }
            .into_any();
        }
        page()
    }
}

#[component]
fn NotFound() -> impl IntoView {
    crate::components::set_title("Page not found");
    view! {
        <Empty title="Page not found">
            <p>
                "There is nothing at this address. " <a href="/">"Go to the dashboard"</a> "."
            </p>
        </Empty>
    }
}
