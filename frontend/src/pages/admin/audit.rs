//! The audit log browser: filter by event type, user, request, grant and time window; pages
//! load with the API's cursor ("Load older").

use jitea_shared::*;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::AdminFrame;
use crate::api::{self, AuditFilter};
use crate::components::field::{FieldError, FormErrors};
use crate::components::states::{live_resource, run_busy, Empty, ErrorState, Loading};
use crate::components::toast::use_toasts;
use crate::format;

/// Event types offered as suggestions (the filter accepts any text).
const KNOWN_EVENTS: &[&str] = &[
    "request_created",
    "request_auto_approved",
    "request_approved",
    "request_denied",
    "request_cancelled",
    "request_refused",
    "approval_refused",
    "self_approval_refused",
    "grant_created",
    "grant_issued",
    "grant_expired",
    "grant_revoked",
    "grant_revoke_requested",
    "grant_revoke_failed",
    "grant_provisioning_failed",
    "eligibility_override_set",
    "role_db_role_set",
    "user_created",
    "user_updated",
    "login_succeeded",
    "login_failed",
    "logout",
    "expiry_job_run",
    "reconciliation_run",
    "drift_found",
];

#[component]
pub fn AuditPage() -> impl IntoView {
    crate::components::set_title("Audit log");
    let toasts = use_toasts();
    let query = use_query_map();
    let q = |k: &str| query.with_untracked(|q| q.get(k)).unwrap_or_default();

    // What is typed, and what was applied (the list follows only the applied filter).
    let event_type = RwSignal::new(q("event_type"));
    let user_id = RwSignal::new(q("user_id"));
    let request_id = RwSignal::new(q("request_id"));
    let grant_id = RwSignal::new(q("grant_id"));
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let limit = RwSignal::new("50".to_string());
    let errors = FormErrors::new();
    let initial = AuditFilter {
        event_type: event_type.get_untracked(),
        user_id: user_id.get_untracked().parse().ok(),
        request_id: request_id.get_untracked().parse().ok(),
        grant_id: grant_id.get_untracked().parse().ok(),
        limit: 50,
        ..Default::default()
    };
    let applied = RwSignal::new(initial);

    let first = live_resource(move || {
        let f = applied.get();
        async move { api::audit(&f, None).await }
    });
    // Older pages. The log only grows at the top, so they stay valid across live refreshes.
    let older = RwSignal::new(Vec::<AuditEntry>::new());
    let older_cursor = RwSignal::new(None::<Option<String>>);
    let more_busy = RwSignal::new(false);

    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let id = |field: &'static str, s: RwSignal<String>| {
            format::opt_int(&s.get_untracked()).unwrap_or_else(|m| {
                errors.set_field(field, m);
                None
            })
        };
        let f = AuditFilter {
            event_type: event_type.get_untracked(),
            user_id: id("user_id", user_id),
            request_id: id("request_id", request_id),
            grant_id: id("grant_id", grant_id),
            from_utc: format::parse_local(&from.get_untracked()).unwrap_or_else(|m| {
                errors.set_field("from_utc", m);
                None
            }),
            to_utc: format::parse_local(&to.get_untracked()).unwrap_or_else(|m| {
                errors.set_field("to_utc", m);
                None
            }),
            limit: match limit.get_untracked().trim().parse::<u32>() {
                Ok(n) if (1..=api::MAX_LIMIT).contains(&n) => n,
                _ => {
                    errors.set_field("limit", format!("Between 1 and {}.", api::MAX_LIMIT));
                    50
                }
            },
        };
        if errors.has_fields() {
            return;
        }
        older.set(Vec::new());
        older_cursor.set(None);
        applied.set(f);
    };
    let reset = move |_| {
        for s in [event_type, user_id, request_id, grant_id, from, to] {
            s.set(String::new());
        }
        limit.set("50".into());
        errors.clear();
        older.set(Vec::new());
        older_cursor.set(None);
        applied.set(AuditFilter {
            limit: 50,
            ..Default::default()
        });
    };

    let next_cursor = move || -> Option<String> {
        match older_cursor.get() {
            Some(c) => c,
            None => first.get().and_then(|r| r.ok()).and_then(|p| p.next_cursor),
        }
    };
    let load_more = move |_| {
        let Some(cursor) = next_cursor() else { return };
        let f = applied.get_untracked();
        run_busy(more_busy, async move {
            match api::audit(&f, Some(cursor)).await {
                Ok(p) => {
                    older.update(|o| o.extend(p.items));
                    older_cursor.set(Some(p.next_cursor));
                }
                Err(e) => toasts.error(format!("Could not load older entries: {e}")),
            }
        });
    };

    let num_field = move |id: &'static str,
                          label: &'static str,
                          field: &'static str,
                          sig: RwSignal<String>| {
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <input id=id type="number" step="1" min="1" data-testid=id bind:value=sig
                    aria-invalid=errors.invalid(field) aria-describedby=errors.describedby(field)/>
                <FieldError errors=errors field=field/>
            </div>
        }
    };

    view! {
        <AdminFrame title="Audit log" intro="Everything that happened, newest first.">
            <form class="card form compact" data-testid="audit-filters" on:submit=apply novalidate>
                <div class="form-grid">
                    <div class="field">
                        <label for="audit-event-type">"Event type"</label>
                        <input id="audit-event-type" type="text" list="audit-events" spellcheck="false" data-testid="audit-event-type" bind:value=event_type/>
                        <datalist id="audit-events">
                            {KNOWN_EVENTS.iter().map(|e| view! { <option value=*e></option> }).collect_view()}
                        </datalist>
                    </div>
                    {num_field("audit-user-id", "User id", "user_id", user_id)}
                    {num_field("audit-request-id", "Request id", "request_id", request_id)}
                    {num_field("audit-grant-id", "Grant id", "grant_id", grant_id)}
                    <div class="field">
                        <label for="audit-from">"From " <span class="req">"(local time)"</span></label>
                        <input id="audit-from" type="datetime-local" data-testid="audit-from" bind:value=from
                            aria-invalid=errors.invalid("from_utc") aria-describedby=errors.describedby("from_utc")/>
                        <FieldError errors=errors field="from_utc"/>
                    </div>
                    <div class="field">
                        <label for="audit-to">"Until " <span class="req">"(local time, exclusive)"</span></label>
                        <input id="audit-to" type="datetime-local" data-testid="audit-to" bind:value=to
                            aria-invalid=errors.invalid("to_utc") aria-describedby=errors.describedby("to_utc")/>
                        <FieldError errors=errors field="to_utc"/>
                    </div>
                    {num_field("audit-limit", "Per page", "limit", limit)}
                </div>
                <div class="actions">
                    <button type="submit" class="btn btn-primary" data-testid="audit-apply">"Apply filters"</button>
                    <button type="button" class="btn btn-secondary" on:click=reset>"Reset"</button>
                </div>
            </form>
            <section data-testid="admin-audit" aria-label="Audit entries">
                {move || match first.get() {
                    None => view! { <Loading/> }.into_any(),
                    Some(Err(e)) => view! { <ErrorState error=e/> }.into_any(),
                    Some(Ok(p)) => {
                        let mut all = p.items;
                        older.with(|o| {
                            for e in o {
                                if !all.iter().any(|x| x.id == e.id) {
                                    all.push(e.clone());
                                }
                            }
                        });
                        if all.is_empty() {
                            return view! { <Empty title="No entries match these filters"/> }.into_any();
                        }
                        view! {
                            <div class="table-wrap">
                                <table class="table" data-testid="audit-table">
                                    <thead>
                                        <tr>
                                            <th scope="col">"When"</th>
                                            <th scope="col">"Event"</th>
                                            <th scope="col">"Actor"</th>
                                            <th scope="col">"About"</th>
                                            <th scope="col">"Details"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {all.into_iter().map(|e| view! { <AuditRow e=e/> }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }
                        .into_any()
                    }
                }}
                {move || next_cursor().map(|_| view! {
                    <div class="more">
                        <button type="button" class="btn btn-secondary" data-testid="audit-more" disabled=more_busy on:click=load_more>
                            {move || if more_busy.get() { "Loading…" } else { "Load older" }}
                        </button>
                    </div>
                })}
            </section>
        </AdminFrame>
    }
}

#[component]
fn AuditRow(e: AuditEntry) -> impl IntoView {
    let about = [
        e.target_user_id.map(|u| format!("user #{u}")),
        e.request_id.map(|r| format!("request #{r}")),
        e.grant_id.map(|g| format!("grant #{g}")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ");
    let details = match &e.details {
        serde_json::Value::Null => String::new(),
        serde_json::Value::Object(m) if m.is_empty() => String::new(),
        v => v.to_string(),
    };
    view! {
        <tr data-testid="audit-row" data-event-type=e.event_type.clone() data-audit-id=e.id>
            <td class="nowrap"><time datetime=format::iso(&e.event_utc)>{format::time_precise(&e.event_utc)}</time></td>
            <td><code>{e.event_type.clone()}</code></td>
            <td>{e.actor_login_name.clone()}</td>
            <td class="small">{about}</td>
            <td class="details"><code class="wrap">{details}</code></td>
        </tr>
    }
}
