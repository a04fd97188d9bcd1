//! All grants, filterable, with manual revoke (a reason is required and goes to the audit
//! log). Assignments show, per db role, what happened on the target.

use jitea_shared::*;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::AdminFrame;
use crate::api;
use crate::components::badge::GrantBadge;
use crate::components::countdown::Countdown;
use crate::components::states::{list_state, live_resource, run_busy, ListStatus};
use crate::components::toast::use_toasts;
use crate::events::Live;
use crate::format;
use crate::session::Session;

#[component]
pub fn GrantsPage() -> impl IntoView {
    crate::components::set_title("Grants");
    let query = use_query_map();
    let initial = query
        .with_untracked(|q| q.get("status"))
        .unwrap_or_else(|| "active".into());
    let status = RwSignal::new(initial);
    let revoke_failed = RwSignal::new(
        query
            .with_untracked(|q| q.get("revoke_failed"))
            .is_some_and(|v| v == "true"),
    );
    let grants = live_resource(move || {
        let s = status.with(|s| s.parse::<GrantStatus>().ok());
        let rf = revoke_failed.get();
        async move { api::list_grants(s, rf, None).await }
    });

    let state = list_state(grants, |p| p.items.is_empty());

    view! {
        <AdminFrame title="Grants" intro="Access handed out, live and past. Revoking ends a grant early on every target.">
            <div class="toolbar">
                <div class="field inline">
                    <label for="grant-status">"Status"</label>
                    <select id="grant-status" data-testid="grant-status" on:change=move |ev| status.set(event_target_value(&ev))>
                        <option value="" selected=move || status.with(String::is_empty)>"All"</option>
                        {GrantStatus::ALL.iter().map(|s| {
                            let v = s.as_str();
                            view! { <option value=v selected=move || status.with(|x| x == v)>{v}</option> }
                        }).collect_view()}
                    </select>
                </div>
                <div class="field check inline">
                    <input id="grant-revoke-failed" type="checkbox" bind:checked=revoke_failed/>
                    <label for="grant-revoke-failed">"Only failing revocations"</label>
                </div>
            </div>
            <section data-testid="admin-grants" aria-label="Grants">
                <ListStatus state=state empty="No grants match"/>
                <ul class="rows">
                    <For
                        each=move || grants.get().and_then(|r| r.ok()).map(|p| p.items).unwrap_or_default()
                        key=|g| (g.id, g.updated_utc)
                        let:g
                    >
                        <GrantRow grant=g/>
                    </For>
                </ul>
            </section>
        </AdminFrame>
    }
}

#[component]
fn GrantRow(grant: Grant) -> impl IntoView {
    let session = expect_context::<Session>();
    let live = expect_context::<Live>();
    let toasts = use_toasts();
    let id = grant.id;
    let open = RwSignal::new(false);
    let reason = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let revocable = grant.status.is_live() && grant.pending_end.is_none();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let r = reason.get_untracked().trim().to_string();
        if r.is_empty() {
            error.set(Some(
                "Give a reason; it is recorded in the audit log.".into(),
            ));
            return;
        }
        run_busy(busy, async move {
            match api::revoke_grant(id, &r).await {
                Ok(g) => {
                    toasts.success(format!("Grant #{} of {} revoked.", g.id, g.user_login_name));
                    open.set(false);
                    live.bump();
                }
                Err(e) => {
                    error.set(Some(e.field("reason").unwrap_or(&e.message).to_string()));
                    toasts.error(format!("Not revoked: {e}"));
                }
            }
        });
    };
    let until = grant.valid_to_utc;
    let live_grant = grant.status == GrantStatus::Active;
    view! {
        <li class="row card" data-testid="admin-grant-row" data-grant-id=grant.id data-status=grant.status.as_str()>
            <div class="row-main">
                <div class="row-title">
                    <span class="strong">{format!("{} · {}", grant.user_login_name, grant.role_name)}</span>
                    <span class="muted small">{format!("#{}", grant.id)}</span>
                </div>
                <GrantBadge status=grant.status revoke_failed=grant.revoke_failed/>
            </div>
            <dl class="facts facts-inline">
                <dt>"From"</dt>
                <dd>{format::time(&grant.valid_from_utc)}</dd>
                <dt>"Until"</dt>
                <dd>{format::time(&grant.valid_to_utc)}</dd>
                {live_grant.then(|| view! { <dt>"Left"</dt><dd><Countdown until=until/></dd> })}
                {grant.request_id.map(|r| view! { <dt>"Request"</dt><dd>{format!("#{r}")}</dd> })}
            </dl>
            {grant.status_detail.clone().map(|d| view! { <p class="note small">{d}</p> })}
            {grant.revoke_reason.clone().map(|r| view! { <p class="small">"Revoked: " <span class="quote-inline">{r}</span></p> })}
            {(!grant.assignments.is_empty()).then(|| view! {
                <ul class="dbroles">
                    {grant.assignments.iter().map(|a| view! {
                        <li>
                            <code>{a.db_role_name.clone()}</code>
                            <span class="muted small">" on " {a.target_name.clone()}</span>
                            <span class=format!("astate astate-{}", a.state)>{a.state.replace('_', " ")}</span>
                            {a.add_error.clone().or(a.drop_error.clone()).map(|e| view! { <span class="small danger-text">{e}</span> })}
                        </li>
                    }).collect_view()}
                </ul>
            })}
            {(session.admin_now() && revocable).then(|| view! {
                <div class="row-actions">
                    <Show
                        when=move || open.get()
                        fallback=move || view! {
                            <button type="button" class="btn btn-danger-outline btn-small" data-testid="revoke-grant" on:click=move |_| open.set(true)>
                                "Revoke…"
                            </button>
                        }
                    >
                        <form class="inline-form" on:submit=submit>
                            <label for=format!("revoke-reason-{id}")>"Reason"</label>
                            <input
                                id=format!("revoke-reason-{id}")
                                type="text"
                                data-testid="revoke-reason"
                                aria-invalid=move || error.with(Option::is_some).to_string()
                                aria-describedby=move || error.with(Option::is_some).then(|| format!("revoke-err-{id}"))
                                bind:value=reason
                            />
                            <button type="submit" class="btn btn-danger btn-small" data-testid="revoke-confirm" disabled=busy>
                                {move || if busy.get() { "Revoking…" } else { "Revoke now" }}
                            </button>
                            <button type="button" class="btn btn-secondary btn-small" on:click=move |_| open.set(false)>"Cancel"</button>
                        </form>
                    </Show>
                </div>
            })}
            {move || error.get().map(|m| view! { <p class="field-error" id=format!("revoke-err-{id}") data-testid="field-error-reason">{m}</p> })}
        </li>
    }
}
