//! The request form. Only roles the user may request now are offered
//! (`GET /me/requestable-roles`); picking one shows its limits, what it grants, what must be
//! filled in, and whether the request will be auto-approved and why. The form checks those
//! rules before sending and shows the API's own field messages next to the fields.

use jitea_shared::*;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use crate::api;
use crate::components::field::{FieldError, FormError, FormErrors};
use crate::components::reason::{validate_reason, ReasonFields};
use crate::components::states::{list_state, live_resource, run_busy, ListState, ListStatus};
use crate::components::toast::use_toasts;
use crate::events::Live;
use crate::format;
use crate::session::Session;

/// The client-side version of the API's request validation (same fields, same limits).
fn validate(role: &Role, duration: &str, justification: &str, ticket: &str, errors: FormErrors) {
    match duration.trim().parse::<i64>() {
        Ok(d) if (1..=role.max_duration_minutes).contains(&d) => {}
        Ok(_) => errors.set_field(
            "requested_duration_minutes",
            format!(
                "Choose between 1 and {} minutes for this role.",
                role.max_duration_minutes
            ),
        ),
        Err(_) => errors.set_field(
            "requested_duration_minutes",
            "Enter the duration in whole minutes.",
        ),
    }
    validate_reason(role, justification, ticket, errors);
}

/// What will happen to the request, and why.
fn auto_hint(rr: &RequestableRole, my_seniority: Option<i64>) -> (&'static str, String, String) {
    match (rr.would_auto_approve, rr.auto_approval_reason) {
        (true, Some(AutoApprovalReason::PreApprovedRole)) => (
            "hint hint-auto",
            "Will be auto-approved · pre-approved role".into(),
            "This role does not need an approver: access is granted as soon as you submit.".into(),
        ),
        (true, Some(AutoApprovalReason::SeniorityBypass)) => (
            "hint hint-auto",
            "Will be auto-approved · seniority bypass".into(),
            match (my_seniority, rr.role.auto_approve_min_seniority) {
                (Some(mine), Some(min)) => format!(
                    "Your seniority level ({mine}) is at least this role's auto-approve level ({min}), so no approver is needed."
                ),
                _ => "Your seniority lets you skip approval for this role.".into(),
            },
        ),
        (true, Some(AutoApprovalReason::BreakGlass)) => (
            "hint hint-auto",
            "Break-glass · granted at once".into(),
            format!(
                "Emergency access: granted as soon as you submit, with a justification. The role's approvers and the admins are told, and an approver reviews it within {} minutes.",
                rr.role.review_window_minutes
            ),
        ),
        (true, None) => (
            "hint hint-auto",
            "Will be auto-approved".into(),
            "Access is granted as soon as you submit.".into(),
        ),
        (false, _) => (
            "hint hint-pending",
            "Needs an approver".into(),
            match rr.role.auto_approve_min_seniority {
                Some(min) => format!(
                    "An approver must decide. (Seniority level {min} or above would skip approval.)"
                ),
                None => "An approver must decide before access is granted.".into(),
            },
        ),
    }
}

#[component]
pub fn RequestPage() -> impl IntoView {
    crate::components::set_title("Request access");
    let session = expect_context::<Session>();
    let live = expect_context::<Live>();
    let toasts = use_toasts();
    let navigate = use_navigate();
    let query = use_query_map();
    let roles = live_resource(api::requestable_roles);

    // `?role=<id>` preselects a role (links from elsewhere may use it).
    let selected = RwSignal::new(query.get_untracked().get("role").unwrap_or_default());
    let duration = RwSignal::new(String::new());
    let justification = RwSignal::new(String::new());
    let ticket = RwSignal::new(String::new());
    // Scheduled access: a local date and time from the form (empty: as soon as approved).
    let start = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let busy = RwSignal::new(false);

    // The chosen role, looked up in the latest list (the list refetches on live events; the
    // form itself is never rebuilt, so typing is never interrupted).
    let selected_id = Memo::new(move |_| selected.with(|s| s.parse::<i64>().ok()));
    let role_of = move || -> Option<RequestableRole> {
        let id = selected_id.get()?;
        roles
            .get()
            .and_then(|r| r.ok())
            .and_then(|list| list.into_iter().find(|r| r.role.id == id))
    };
    let state = list_state(roles, Vec::is_empty);

    // A new role: a sensible default duration (an hour, or the role's maximum if shorter),
    // and the old role's messages no longer apply.
    Effect::new(move |prev: Option<Option<i64>>| {
        let id = selected_id.get();
        let max = role_of().map(|r| r.role.max_duration_minutes);
        let changed = prev.is_some_and(|p| p != id);
        if let Some(max) = max {
            if changed || duration.with_untracked(String::is_empty) {
                duration.set(max.min(60).to_string());
            }
        }
        if changed {
            errors.clear();
        }
        id
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let Some(rr) = role_of() else {
            errors.set_field("role_id", "Choose a role.");
            return;
        };
        let (d, j, t) = (
            duration.get_untracked(),
            justification.get_untracked(),
            ticket.get_untracked(),
        );
        validate(&rr.role, &d, &j, &t, errors);
        let start_utc = match format::parse_local(&start.get_untracked()) {
            Ok(s) => s,
            Err(m) => {
                errors.set_field("start_utc", m);
                None
            }
        };
        if errors.has_fields() {
            errors.set_form("Please fix the highlighted fields.");
            return;
        }
        let body = RequestCreate {
            role_id: rr.role.id,
            requested_duration_minutes: d.trim().parse().unwrap_or(0),
            justification: format::opt_text(&j),
            ticket_ref: format::opt_text(&t),
            start_utc,
        };
        let navigate = navigate.clone();
        run_busy(busy, async move {
            match api::create_request(&body).await {
                Ok(r) => {
                    justification.set(String::new());
                    ticket.set(String::new());
                    start.set(String::new());
                    live.bump();
                    if r.status == RequestStatus::AutoApproved {
                        let why = r
                            .auto_approval_reason
                            .map(format::auto_reason)
                            .unwrap_or("auto-approved");
                        toasts.success(format!("Access to {} granted ({why}).", r.role_name));
                        navigate("/", NavigateOptions::default());
                    } else {
                        toasts.success(format!(
                            "Request #{} for {} sent for approval.",
                            r.id, r.role_name
                        ));
                        navigate("/history", NavigateOptions::default());
                    }
                }
                Err(e) => {
                    errors.show_api(&e);
                    toasts.error(format!("Request not sent: {}", e.message));
                }
            }
        });
    };

    let my_seniority = move || {
        session
            .user
            .with(|u| u.as_ref().and_then(|u| u.seniority_level))
    };

    view! {
        <div class="page-head">
            <div>
                <h1>"Request access"</h1>
                <p class="muted">"Ask for a role for a limited time. Only roles you may request are listed."</p>
            </div>
        </div>
        <ListStatus state=state empty="No roles available to you">
            <p>"No role is open to you right now. Ask an administrator about eligibility."</p>
        </ListStatus>
        <Show when=move || state.get() == ListState::Ready>
                <div class="split">
                    <form class="card form" data-testid="request-form" on:submit=submit.clone() novalidate>
                        <FormError errors=errors/>
                        <div class="field">
                            <label for="request-role">"Role"</label>
                            <select
                                id="request-role"
                                data-testid="request-role"
                                aria-invalid=errors.invalid("role_id")
                                aria-describedby=errors.describedby("role_id")
                                on:change=move |ev| selected.set(event_target_value(&ev))
                            >
                                <option value="" selected=move || selected.with(String::is_empty)>
                                    "Choose a role…"
                                </option>
                                {move || {
                                    let sel = selected.get_untracked();
                                    roles
                                        .get()
                                        .and_then(|r| r.ok())
                                        .unwrap_or_default()
                                        .into_iter()
                                        .map(|r| {
                                            let id = r.role.id.to_string();
                                            let is_sel = id == sel;
                                            view! { <option value=id selected=is_sel>{r.role.role_name}</option> }
                                        })
                                        .collect_view()
                                }}
                            </select>
                            <FieldError errors=errors field="role_id"/>
                        </div>
                        <div class="field">
                            <label for="request-duration">
                                "Duration (minutes)"
                            </label>
                            <input
                                id="request-duration"
                                type="number"
                                inputmode="numeric"
                                min="1"
                                max=move || role_of().map(|r| r.role.max_duration_minutes.to_string())
                                step="1"
                                data-testid="request-duration"
                                aria-invalid=errors.invalid("requested_duration_minutes")
                                aria-describedby=move || {
                                    let mut ids = vec!["duration-help".to_string()];
                                    ids.extend(errors.describedby("requested_duration_minutes")());
                                    ids.join(" ")
                                }
                                bind:value=duration
                            />
                            <p class="help" id="duration-help">
                                {move || match role_of() {
                                    Some(r) => format!("At most {} ({} minutes).", format::minutes(r.role.max_duration_minutes), r.role.max_duration_minutes),
                                    None => "Choose a role to see its limit.".into(),
                                }}
                            </p>
                            <FieldError errors=errors field="requested_duration_minutes"/>
                        </div>
                        <div class="field">
                            <label for="request-start">"Start at " <span class="req">"(optional)"</span></label>
                            <input
                                id="request-start"
                                type="datetime-local"
                                data-testid="request-start"
                                aria-invalid=errors.invalid("start_utc")
                                aria-describedby=move || {
                                    let mut ids = vec!["start-help".to_string()];
                                    ids.extend(errors.describedby("start_utc")());
                                    ids.join(" ")
                                }
                                bind:value=start
                            />
                            <p class="help" id="start-help">
                                "Leave empty to start as soon as it is approved. Scheduled access starts at this time (your local time), at most 7 days ahead, and lasts the duration above."
                            </p>
                            <FieldError errors=errors field="start_utc"/>
                        </div>
                        <ReasonFields
                            prefix="request"
                            justification=justification
                            ticket=ticket
                            errors=errors
                            role=Signal::derive(move || role_of().map(|r| r.role))
                        />
                        <button
                            type="submit"
                            class="btn btn-primary"
                            data-testid="request-submit"
                            disabled=busy
                        >
                            {move || if busy.get() { "Sending…" } else { "Submit request" }}
                        </button>
                    </form>
                    <aside class="card role-info" aria-live="polite" aria-label="About the selected role">
                        {move || match role_of() {
                            None => view! {
                                <p class="muted">"Choose a role to see what it grants and whether it needs approval."</p>
                            }
                            .into_any(),
                            Some(rr) => {
                                let (class, title, why) = auto_hint(&rr, my_seniority());
                                let r = rr.role.clone();
                                view! {
                                    <h2 class="card-title">{r.role_name.clone()}</h2>
                                    {r.description.clone().map(|d| view! { <p>{d}</p> })}
                                    <div class=class data-testid="request-auto-approve-hint" data-auto=rr.would_auto_approve.to_string()>
                                        <p class="strong">{title}</p>
                                        <p class="small">{why}</p>
                                    </div>
                                    <dl class="facts">
                                        <dt>"Longest grant"</dt>
                                        <dd>{format::minutes(r.max_duration_minutes)}</dd>
                                        <dt>"Ticket"</dt>
                                        <dd>
                                            {if r.requires_ticket {
                                                match r.ticket_regex.clone() {
                                                    Some(p) => view! { "required, matching " <code>{p}</code> }.into_any(),
                                                    None => view! { "required" }.into_any(),
                                                }
                                            } else {
                                                view! { "not required" }.into_any()
                                            }}
                                        </dd>
                                        <dt>"Justification"</dt>
                                        <dd>{if r.requires_justification { "required" } else { "not required" }}</dd>
                                    </dl>
                                    <h3 class="subhead">"Grants these database roles"</h3>
                                    {if rr.db_roles.is_empty() {
                                        view! { <p class="muted small">"No database roles are mapped to this role."</p> }.into_any()
                                    } else {
                                        view! {
                                            <ul class="dbroles">
                                                {rr
                                                    .db_roles
                                                    .iter()
                                                    .map(|d| view! {
                                                        <li>
                                                            <code>{d.db_role_name.clone()}</code>
                                                            <span class="muted small">" on " {d.target_name.clone()}</span>
                                                        </li>
                                                    })
                                                    .collect_view()}
                                            </ul>
                                        }
                                        .into_any()
                                    }}
                                }
                                .into_any()
                            }
                        }}
                    </aside>
                </div>
        </Show>
    }
}
