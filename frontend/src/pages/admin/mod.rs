//! Administration. Admins can change things; auditors see the same pages read-only (every
//! form and action button checks [`Session::is_admin`]).

pub mod audit;
pub mod directory;
pub mod eligibility;
pub mod grants;
pub mod notifications;
pub mod roles;
pub mod targets;
pub mod teams;
pub mod users;

use jitea_shared::*;
use leptos::prelude::*;
use leptos_router::components::A;

use crate::api;
use crate::components::states::{fetched, live_resource, run_busy};
use crate::components::toast::use_toasts;
use crate::events::Live;
use crate::session::Session;

/// Sub-navigation shared by every admin page, and the read-only notice for auditors.
#[component]
pub fn AdminFrame(
    #[prop(into)] title: String,
    #[prop(into)] intro: String,
    children: Children,
) -> impl IntoView {
    let session = expect_context::<Session>();
    view! {
        <nav class="subnav" aria-label="Administration">
            <A href="/admin" exact=true attr:class="subnav-link">"Overview"</A>
            <A href="/admin/roles" attr:class="subnav-link">"Roles"</A>
            <A href="/admin/teams" attr:class="subnav-link">"Teams"</A>
            <A href="/admin/eligibility" attr:class="subnav-link">"Eligibility"</A>
            <A href="/admin/users" attr:class="subnav-link">"Users"</A>
            <A href="/admin/directory" attr:class="subnav-link">"Directory"</A>
            <A href="/admin/targets" attr:class="subnav-link">"Targets"</A>
            <A href="/admin/grants" attr:class="subnav-link">"Grants"</A>
            {session.is_admin().then(|| view! {
                <A href="/admin/notifications" attr:class="subnav-link">"Notifications"</A>
            })}
            <A href="/admin/audit" attr:class="subnav-link">"Audit log"</A>
        </nav>
        <div class="page-head">
            <div>
                <h1>{title}</h1>
                <p class="muted">{intro}</p>
            </div>
        </div>
        {(!session.is_admin()).then(|| view! {
            <p class="note" data-testid="read-only-note">"You are an auditor: these pages are read-only for you."</p>
        })}
        {children()}
    }
}

/// A role's name from a loaded list, or `#id` if it is not in it.
pub fn role_name(roles: &[Role], id: i64) -> String {
    roles
        .iter()
        .find(|r| r.id == id)
        .map(|r| r.role_name.clone())
        .unwrap_or_else(|| format!("#{id}"))
}

/// A user's label from a loaded list, or `#id`.
pub fn user_name(users: &[User], id: i64) -> String {
    users
        .iter()
        .find(|u| u.id == id)
        .map(crate::format::user_label)
        .unwrap_or_else(|| format!("#{id}"))
}

#[component]
pub fn AdminOverview() -> impl IntoView {
    crate::components::set_title("Administration");
    let session = expect_context::<Session>();
    let overview = live_resource(api::overview);
    view! {
        <AdminFrame title="Administration" intro="The state of access right now. Numbers update by themselves.">
            <section data-testid="admin-overview" aria-label="Overview">
                {fetched(overview, |o: Overview| {
                    let cards = [
                        ("Pending requests", o.pending_requests, "/approvals", "warn", "overview-pending"),
                        ("Active grants", o.active_grants, "/admin/grants", "ok", "overview-active"),
                        ("Expiring within an hour", o.expiring_next_hour, "/admin/grants", "info", "overview-expiring"),
                        ("Being provisioned", o.provisioning_grants, "/admin/grants?status=provisioning", "info", "overview-provisioning"),
                        ("Failed grants", o.failed_grants, "/admin/grants?status=failed", "danger", "overview-failed"),
                        ("Revocations failing", o.revoke_failed_grants, "/admin/grants?revoke_failed=true", "danger", "overview-revoke-failed"),
                        ("Break-glass uses to review", o.break_glass_unreviewed, "/approvals", "warn", "overview-break-glass"),
                        ("Break-glass reviews overdue", o.break_glass_overdue, "/approvals", "danger", "overview-break-glass-overdue"),
                    ];
                    view! {
                        <div class="grid stats">
                            {cards
                                .into_iter()
                                .map(|(label, n, href, kind, testid)| {
                                    let alarm = n > 0 && kind == "danger";
                                    view! {
                                        <a class="card stat" class:stat-alarm=alarm href=href data-testid=testid>
                                            <span class=format!("stat-num stat-{kind}")>{n}</span>
                                            <span class="stat-label">{label}</span>
                                        </a>
                                    }
                                })
                                .collect_view()}
                        </div>
                    }
                })}
            </section>
            {session.admin_now().then(|| view! {
                <JobButtons/>
            })}
        </AdminFrame>
    }
}

/// Run the background jobs now instead of waiting for their schedule.
#[component]
fn JobButtons() -> impl IntoView {
    let toasts = use_toasts();
    let live = expect_context::<Live>();
    let run = move |job: &'static str, label: &'static str, busy: RwSignal<bool>| {
        move |_| {
            run_busy(busy, async move {
                match api::run_job(job).await {
                    Ok(_) => {
                        toasts.success(format!("{label} finished."));
                        live.bump();
                    }
                    Err(e) => toasts.error(format!("{label} failed: {e}")),
                }
            })
        }
    };
    let (b1, b2) = (RwSignal::new(false), RwSignal::new(false));
    view! {
        <section class="card">
            <h2 class="subhead">"Jobs"</h2>
            <p class="muted small">"Both also run on their own schedule."</p>
            <div class="actions">
                <button type="button" class="btn btn-secondary" disabled=b1 on:click=run("expire", "Expiry run", b1)>
                    {move || if b1.get() { "Running…" } else { "Expire due grants now" }}
                </button>
                <button type="button" class="btn btn-secondary" disabled=b2 on:click=run("reconcile", "Reconciliation", b2)>
                    {move || if b2.get() { "Running…" } else { "Reconcile targets now" }}
                </button>
            </div>
        </section>
    }
}
