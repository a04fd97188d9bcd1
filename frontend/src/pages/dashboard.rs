//! The requester's dashboard: live grants with a countdown to expiry and the db roles each
//! one grants, an "Extend" form on each active grant (prominent in its last 15 minutes), plus
//! requests still waiting for a decision.

use jitea_shared::*;
use leptos::prelude::*;

use crate::api;
use crate::components::badge::{GrantBadge, RequestBadge};
use crate::components::countdown::{use_clock, Countdown, DecideBy};
use crate::components::extension::ExtensionBadge;
use crate::components::field::{FieldError, FormError, FormErrors};
use crate::components::reason::{validate_reason, ReasonFields};
use crate::components::states::{fetched, live_resource, run_busy, Empty, Res};
use crate::components::toast::use_toasts;
use crate::events::Live;
use crate::format;
use crate::session::Session;

/// The last stretch of a grant in which "Extend" is offered prominently (seconds).
const ENDS_SOON: i64 = 15 * 60;

#[component]
pub fn DashboardPage() -> impl IntoView {
    crate::components::set_title("Your access");
    let session = expect_context::<Session>();
    let grants = live_resource(|| async {
        // Active first, then those still being set up on their targets.
        let mut all = api::my_grants(GrantStatus::Active).await?.items;
        all.extend(api::my_grants(GrantStatus::Provisioning).await?.items);
        all.sort_by_key(|g| g.valid_to_utc);
        Ok(all)
    });
    let pending = live_resource(move || {
        let me = session.user_id();
        async move { api::list_requests(Some(me), Some(RequestStatus::Pending), None, 50).await }
    });
    let extend = Extend::new();
    let greeting = move || {
        session.user.with(|u| {
            u.as_ref()
                .map(|u| u.given_name.clone().unwrap_or_else(|| u.login_name.clone()))
                .unwrap_or_default()
        })
    };

    view! {
        <div class="page-head">
            <div>
                <h1>"Your access"</h1>
                <p class="muted">"Hello " {greeting} ". Grants end by themselves when their time is up."</p>
            </div>
            <a class="btn btn-primary" href="/request">"Request access"</a>
        </div>

        <section aria-labelledby="grants-h" data-testid="active-grants">
            <h2 id="grants-h">"Active grants"</h2>
            {fetched(grants, move |list: Vec<Grant>| {
                if list.is_empty() {
                    return view! {
                        <Empty title="No active grants">
                            <p>"You have no access right now. " <a href="/request">"Request a role"</a> " when you need one."</p>
                        </Empty>
                    }
                    .into_any();
                }
                view! {
                    <div class="grid cards">
                        {list
                            .into_iter()
                            .map(|g| view! { <GrantCard grant=g extend=extend pending=pending/> })
                            .collect_view()}
                    </div>
                }
                .into_any()
            })}
        </section>

        <section aria-labelledby="pending-h">
            <h2 id="pending-h">"Waiting for a decision"</h2>
            {fetched(pending, |page: Page<AccessRequest>| {
                if page.items.is_empty() {
                    return view! { <p class="muted">"Nothing is waiting for an approver."</p> }.into_any();
                }
                view! {
                    <ul class="list">
                        {page
                            .items
                            .into_iter()
                            .map(|r| {
                                view! {
                                    <li class="list-row">
                                        <span class="strong">{r.role_name.clone()}</span>
                                        {(r.kind == RequestKind::Extension).then(|| view! { <ExtensionBadge/> })}
                                        <span class="muted">{format::minutes(r.requested_duration_minutes)}</span>
                                        <RequestBadge status=r.status reason=r.auto_approval_reason/>
                                        <PendingAge created=r.created_utc/>
                                        {r.decide_by_utc.map(|at| view! {
                                            <span class="muted small">"decide by " <DecideBy at=at/></span>
                                        })}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                    <p><a href="/history">"See all your requests"</a></p>
                }
                .into_any()
            })}
        </section>

        {notification_settings()}
    }
}

/// The user's own notification settings: loaded once, not live (a live refresh must not undo
/// boxes being ticked), saved with "Save". The form is disabled until they are loaded.
fn notification_settings() -> impl IntoView {
    let toasts = use_toasts();
    let reminders = RwSignal::new(false);
    let decisions = RwSignal::new(false);
    let busy = RwSignal::new(true);
    leptos::task::spawn_local(async move {
        match api::notification_settings().await {
            Ok(s) => {
                reminders.try_set(s.mute_reminders);
                decisions.try_set(s.mute_decisions);
                busy.try_set(false);
            }
            Err(e) => toasts.error(format!(
                "Your notification settings could not be loaded: {e}"
            )),
        }
    });
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (r, d) = (reminders.get_untracked(), decisions.get_untracked());
        run_busy(busy, async move {
            match api::save_notification_settings(r, d).await {
                Ok(_) => toasts.success("Notification settings saved."),
                Err(e) => toasts.error(format!("Not saved: {e}")),
            }
        });
    };
    view! {
        <section aria-labelledby="notify-h" data-testid="notification-settings">
            <h2 id="notify-h">"Notifications"</h2>
            <form class="card form compact" data-testid="notification-form" data-ready=move || (!busy.get()).to_string() on:submit=save>
                <div class="field check">
                    <input id="mute-reminders" type="checkbox" data-testid="mute-reminders" bind:checked=reminders/>
                    <label for="mute-reminders">"No reminders before my access ends"</label>
                </div>
                <div class="field check">
                    <input id="mute-decisions" type="checkbox" data-testid="mute-decisions" bind:checked=decisions/>
                    <label for="mute-decisions">"No messages about decisions on my requests"</label>
                </div>
                <p class="muted small">
                    "Security alerts (your access revoked or failing, break-glass use) and requests waiting for your approval are always sent."
                </p>
                <div class="actions">
                    <button type="submit" class="btn btn-secondary" data-testid="notification-save" disabled=busy>"Save"</button>
                </div>
            </form>
        </section>
    }
}

#[component]
fn PendingAge(created: chrono::DateTime<chrono::Utc>) -> impl IntoView {
    let clock = use_clock();
    view! {
        <time class="muted small" datetime=format::iso(&created)>
            {move || format!("asked {}", format::ago(&created, &clock.0.get()))}
        </time>
    }
}

/// The extend form's state. The page keeps it, not the card: a live refresh re-renders the
/// cards, and what was typed must survive that. One form is open at a time.
#[derive(Clone, Copy)]
struct Extend {
    /// The grant whose form is open.
    open: RwSignal<Option<i64>>,
    minutes: RwSignal<String>,
    justification: RwSignal<String>,
    ticket: RwSignal<String>,
    errors: FormErrors,
    busy: RwSignal<bool>,
    /// The grant's role, once loaded (for its limits and what it requires).
    role: RwSignal<Option<Role>>,
}

impl Extend {
    fn new() -> Self {
        Extend {
            open: RwSignal::new(None),
            minutes: RwSignal::new(String::new()),
            justification: RwSignal::new(String::new()),
            ticket: RwSignal::new(String::new()),
            errors: FormErrors::new(),
            busy: RwSignal::new(false),
            role: RwSignal::new(None),
        }
    }

    /// Opens the form for grant `g` (closing any other) and loads its role's rules; closes
    /// it if it is open.
    fn toggle(self, g: i64, role_id: i64) {
        if self.open.get_untracked() == Some(g) {
            self.open.set(None);
            return;
        }
        self.errors.clear();
        self.minutes.set("30".into());
        self.justification.set(String::new());
        self.ticket.set(String::new());
        self.role.set(None);
        self.open.set(Some(g));
        let role = self.role;
        leptos::task::spawn_local(async move {
            // Not requestable any more: the API will say so when the form is sent.
            if let Ok(list) = api::requestable_roles().await {
                role.set(list.into_iter().map(|r| r.role).find(|r| r.id == role_id));
            }
        });
    }

    /// The most minutes one extension may add, when the role is known.
    fn max_minutes(self) -> Option<i64> {
        self.role.with(|r| {
            r.as_ref()
                .map(|r| r.max_extension_minutes.unwrap_or(r.max_duration_minutes))
        })
    }
}

/// Asks for more time on grant `grant`: minutes, and the justification and ticket its role
/// may require. Checks what it can before sending; the API's messages land on their fields.
#[component]
fn ExtendForm(grant: i64, extend: Extend) -> impl IntoView {
    let live = expect_context::<Live>();
    let toasts = use_toasts();
    let Extend {
        minutes,
        justification,
        ticket,
        errors,
        busy,
        role,
        ..
    } = extend;
    let first = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = first.get() {
            let _ = input.focus();
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let (m, j, t) = (
            minutes.get_untracked(),
            justification.get_untracked(),
            ticket.get_untracked(),
        );
        let max = extend.max_minutes();
        let extra = m.trim().parse::<i64>().unwrap_or(0);
        if extra < 1 || max.is_some_and(|max| extra > max) {
            errors.set_field(
                "extra_minutes",
                match max {
                    Some(max) => format!("Choose between 1 and {max} minutes for this role."),
                    None => "Enter the minutes to add, at least 1.".into(),
                },
            );
        }
        if let Some(r) = role.get_untracked() {
            validate_reason(&r, &j, &t, errors);
        }
        if errors.has_fields() {
            errors.set_form("Please fix the highlighted fields.");
            return;
        }
        let body = GrantExtend {
            extra_minutes: extra,
            justification: format::opt_text(&j),
            ticket_ref: format::opt_text(&t),
        };
        run_busy(busy, async move {
            match api::extend_grant(grant, &body).await {
                Ok(r) => {
                    extend.open.set(None);
                    let more = format::minutes(extra);
                    toasts.success(if r.status == RequestStatus::Pending {
                        format!("Extension of {more} for {} sent for approval.", r.role_name)
                    } else {
                        format!("{} extended by {more}.", r.role_name)
                    });
                }
                Err(e) => {
                    errors.show_api(&e);
                    if e.code == "extension_too_long" {
                        errors.set_field("extra_minutes", e.message.clone());
                    }
                }
            }
            live.bump();
        });
    };
    view! {
        <form class="form compact bordered" id=format!("extend-{grant}") data-testid="extend-form" on:submit=submit novalidate>
            <FormError errors=errors/>
            <div class="field">
                <label for="extend-minutes">"Minutes to add"</label>
                <input
                    id="extend-minutes"
                    type="number"
                    inputmode="numeric"
                    min="1"
                    max=move || extend.max_minutes().map(|m| m.to_string())
                    step="1"
                    data-testid="extend-minutes"
                    node_ref=first
                    aria-invalid=errors.invalid("extra_minutes")
                    aria-describedby=move || {
                        let mut ids = vec!["extend-help".to_string()];
                        ids.extend(errors.describedby("extra_minutes")());
                        ids.join(" ")
                    }
                    bind:value=minutes
                />
                <p class="help" id="extend-help">
                    {move || match extend.max_minutes() {
                        Some(m) => format!("At most {} at a time.", format::minutes(m)),
                        None => "Added to the current end.".into(),
                    }}
                </p>
                <FieldError errors=errors field="extra_minutes"/>
            </div>
            <ReasonFields prefix="extend" justification=justification ticket=ticket errors=errors role=role/>
            <div class="actions">
                <button type="submit" class="btn btn-primary btn-small" data-testid="extend-submit" disabled=busy>
                    {move || if busy.get() { "Sending…" } else { "Ask for more time" }}
                </button>
                <button type="button" class="btn btn-secondary btn-small" on:click=move |_| extend.open.set(None)>
                    "Cancel"
                </button>
            </div>
        </form>
    }
}

/// One live grant: role, time left, and what it grants on which target; for an active grant
/// the extension waiting for approval, or an "Extend" action.
#[component]
fn GrantCard(grant: Grant, extend: Extend, pending: Res<Page<AccessRequest>>) -> impl IntoView {
    let g = grant;
    let clock = use_clock();
    let (id, role_id, end) = (g.id, g.role_id, g.valid_to_utc);
    let soon = move || (end - clock.0.get()).num_seconds() < ENDS_SOON;
    let extendable = g.status == GrantStatus::Active && g.pending_end.is_none();
    // Scheduled access not started yet: the engine provisions it at its start.
    let start = g.valid_from_utc;
    let scheduled = g.status == GrantStatus::Provisioning && start > clock.0.get_untracked();
    let note = if scheduled {
        Some(format!(
            "Scheduled: this access starts at {} and ends at {}.",
            format::time(&start),
            format::time(&end)
        ))
    } else if g.revoke_failed {
        Some("Removing this access keeps failing on a target; it is being retried.".to_string())
    } else if g.pending_end.is_some() {
        Some("This access is being ended.".to_string())
    } else if g.status == GrantStatus::Provisioning {
        Some(
            g.status_detail
                .clone()
                .unwrap_or_else(|| "Being set up on the target…".to_string()),
        )
    } else {
        None
    };
    view! {
        <article class="card grant-card" data-testid="grant-card" data-grant-id=g.id data-status=g.status.as_str()>
            <header class="card-head">
                <h3 class="card-title" data-testid="grant-role-name">{g.role_name.clone()}</h3>
                <span class="badges">
                    {g.break_glass.then(|| view! { <span class="badge badge-danger" data-testid="break-glass-badge">"Break-glass"</span> })}
                    <GrantBadge status=g.status revoke_failed=g.revoke_failed/>
                </span>
            </header>
            {g.break_glass.then(|| view! {
                <p class="note" data-testid="break-glass-note">
                    {match (&g.review, g.review_due_utc) {
                        (Some(r), _) => format!("Break-glass use reviewed by {}: {}.", r.reviewer_login_name, r.outcome.as_str()),
                        (None, Some(d)) => format!("Break-glass use: the role's approvers were told and review it by {}.", format::time(&d)),
                        (None, None) => "Break-glass use: the role's approvers were told and will review it.".to_string(),
                    }}
                </p>
            })}
            <div class="countdown-row" data-testid=if scheduled { "grant-scheduled" } else { "grant-running" }>
                <span class="muted small">{if scheduled { "Starts in" } else { "Ends in" }}</span>
                <Countdown until=if scheduled { start } else { end }/>
            </div>
            <p class="muted small" data-testid="grant-window">
                {format!("{} → {}", format::time(&g.valid_from_utc), format::time(&g.valid_to_utc))}
                {(g.extensions > 0).then(|| format!(" · extended {}×", g.extensions))}
            </p>
            {note.map(|n| view! { <p class="note">{n}</p> })}
            {match (extendable, g.pending_extension_id) {
                (false, _) => None,
                (true, Some(rid)) => Some(view! {
                    <p class="note" data-testid="pending-extension" data-request-id=rid>
                        {move || {
                            let m = pending.with(|p| {
                                p.as_ref()
                                    .and_then(|p| p.as_ref().ok())
                                    .and_then(|p| p.items.iter().find(|r| r.id == rid))
                                    .map(|r| r.requested_duration_minutes)
                            });
                            match m {
                                Some(m) => format!("Extension of {} waiting for approval.", format::minutes(m)),
                                None => "An extension is waiting for approval.".to_string(),
                            }
                        }}
                    </p>
                }
                .into_any()),
                (true, None) => Some(view! {
                    {move || soon().then(|| view! {
                        <p class="note" data-testid="ends-soon">"Ends soon. Extend it if you still need it."</p>
                    })}
                    <div class="actions">
                        <button
                            type="button"
                            class=move || if soon() { "btn btn-primary btn-small" } else { "btn btn-secondary btn-small" }
                            data-testid="extend-open"
                            aria-expanded=move || (extend.open.get() == Some(id)).to_string()
                            aria-controls=move || (extend.open.get() == Some(id)).then(|| format!("extend-{id}"))
                            on:click=move |_| extend.toggle(id, role_id)
                        >
                            "Extend"
                            <span class="sr-only">{format!(" {}", g.role_name)}</span>
                        </button>
                    </div>
                    {move || (extend.open.get() == Some(id)).then(|| view! { <ExtendForm grant=id extend=extend/> })}
                }
                .into_any()),
            }}
            <h4 class="subhead">"Database roles"</h4>
            {if g.assignments.is_empty() {
                view! { <p class="muted small">"No database roles recorded yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="dbroles" data-testid="grant-db-roles">
                        {g
                            .assignments
                            .iter()
                            .map(|a| {
                                view! {
                                    <li>
                                        <code>{a.db_role_name.clone()}</code>
                                        <span class="muted small">" on " {a.target_name.clone()}</span>
                                        <span class=format!("astate astate-{}", a.state)>{a.state.replace('_', " ")}</span>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </article>
    }
}
