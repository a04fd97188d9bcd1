//! The requester's request history: status (auto-approvals marked as such), the decision and
//! its comment, and a cancel button on pending requests. Older pages load on demand.

use jitea_shared::*;
use leptos::prelude::*;

use crate::api;
use crate::components::badge::RequestBadge;
use crate::components::extension::{request_facts, ExtensionBadge};
use crate::components::states::{list_state, live_resource, run_busy, ListStatus};
use crate::components::timeline::Timeline;
use crate::components::toast::use_toasts;
use crate::events::Live;
use crate::format;
use crate::session::Session;

/// Requests per page.
const PAGE: u32 = 50;

#[component]
pub fn HistoryPage() -> impl IntoView {
    crate::components::set_title("Request history");
    let session = expect_context::<Session>();
    let status_filter = RwSignal::new(String::new());
    let first = live_resource(move || {
        let me = session.user_id();
        let status = status_filter.with(|s| s.parse::<RequestStatus>().ok());
        async move { api::list_requests(Some(me), status, None, PAGE).await }
    });
    // Older pages, appended by "Load more"; kept across live refreshes of the first page
    // (requests only get newer, so the first page just grows at the top).
    let older = RwSignal::new(Vec::<AccessRequest>::new());
    let older_cursor = RwSignal::new(None::<Option<String>>);
    let loading_more = RwSignal::new(false);
    let toasts = use_toasts();
    Effect::new(move |_| {
        status_filter.track();
        older.set(Vec::new());
        older_cursor.set(None);
    });

    let state = list_state(first, |p| p.items.is_empty());
    // The first page (live) followed by the older pages, without duplicates.
    let rows = move || -> Option<Vec<AccessRequest>> {
        let mut all = first.get()?.ok()?.items;
        older.with(|o| {
            for r in o {
                if !all.iter().any(|x| x.id == r.id) {
                    all.push(r.clone());
                }
            }
        });
        Some(all)
    };
    let next_cursor = move || -> Option<String> {
        match older_cursor.get() {
            Some(c) => c,
            None => first.get().and_then(|r| r.ok()).and_then(|p| p.next_cursor),
        }
    };
    let load_more = move |_| {
        let Some(cursor) = next_cursor() else { return };
        let me = session.user_id();
        let status = status_filter.with_untracked(|s| s.parse::<RequestStatus>().ok());
        run_busy(loading_more, async move {
            match api::list_requests(Some(me), status, Some(cursor), PAGE).await {
                Ok(p) => {
                    older.update(|o| o.extend(p.items));
                    older_cursor.set(Some(p.next_cursor));
                }
                Err(e) => toasts.error(format!("Could not load more: {e}")),
            }
        });
    };

    view! {
        <div class="page-head">
            <div>
                <h1>"Request history"</h1>
                <p class="muted">"Everything you have asked for, newest first."</p>
            </div>
            <div class="field inline">
                <label for="history-status">"Status"</label>
                <select id="history-status" data-testid="history-status" on:change=move |ev| status_filter.set(event_target_value(&ev))>
                    <option value="">"All"</option>
                    {RequestStatus::ALL
                        .iter()
                        .map(|s| view! { <option value=s.as_str()>{format::request_status(*s)}</option> })
                        .collect_view()}
                </select>
            </div>
        </div>
        <ListStatus state=state empty="No requests yet">
            <p><a href="/request">"Request access"</a> " to a role when you need it."</p>
        </ListStatus>
        <ul class="rows" data-testid="history-list">
            {move || {
                rows()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|r| view! { <HistoryRow req=r/> })
                    .collect_view()
            }}
        </ul>
        {move || next_cursor().map(|_| view! {
            <div class="more">
                <button type="button" class="btn btn-secondary" disabled=loading_more on:click=load_more>
                    {move || if loading_more.get() { "Loading…" } else { "Load more" }}
                </button>
            </div>
        })}
    }
}

#[component]
fn HistoryRow(req: AccessRequest) -> impl IntoView {
    let live = expect_context::<Live>();
    let toasts = use_toasts();
    let busy = RwSignal::new(false);
    let id = req.id;
    let cancel = move |_| {
        run_busy(busy, async move {
            match api::cancel_request(id).await {
                Ok(_) => {
                    toasts.success(format!("Request #{id} cancelled."));
                    live.bump();
                }
                Err(e) => toasts.error(format!("Could not cancel request #{id}: {e}")),
            }
        });
    };
    let decision = req.approvals.last().cloned();
    let ext = req.kind == RequestKind::Extension;
    view! {
        <li
            class="row card"
            data-testid="history-row"
            data-status=req.status.as_str()
            data-request-id=req.id
            data-auto-approval=req.auto_approval_reason.map(|r| r.as_str())
        >
            <div class="row-main">
                <div class="row-title">
                    <span class="strong">{req.role_name.clone()}</span>
                    <span class="muted small">{format!("#{}", req.id)}</span>
                </div>
                <span class="badges">
                    {ext.then(|| view! { <ExtensionBadge/> })}
                    <RequestBadge status=req.status reason=req.auto_approval_reason/>
                </span>
            </div>
            <dl class="facts facts-inline">
                <dt>"Asked"</dt>
                <dd><time datetime=format::iso(&req.created_utc)>{format::time(&req.created_utc)}</time></dd>
                <dt>{if ext { "Adds" } else { "For" }}</dt>
                <dd>{format::minutes(req.requested_duration_minutes)}</dd>
                {req.ticket_ref.clone().map(|t| view! { <dt>"Ticket"</dt><dd><code>{t}</code></dd> })}
                {request_facts(&req)}
            </dl>
            {req.justification.clone().map(|j| view! { <p class="quote">{j}</p> })}
            {decision.map(|a| view! {
                <p class="decision" data-testid="history-decision">
                    <span class=if a.decision == Decision::Approved { "strong ok-text" } else { "strong danger-text" }>
                        {if a.decision == Decision::Approved { "Approved" } else { "Denied" }}
                    </span>
                    {format!(" by {} on {}", a.approver_login_name, format::time(&a.decision_utc))}
                    {a.decision_comment.map(|c| view! { <span class="quote-inline">{format!(" — “{c}”")}</span> })}
                </p>
            })}
            <Timeline request_id=req.id/>
            {(req.status == RequestStatus::Pending).then(|| view! {
                <div class="row-actions">
                    <button
                        type="button"
                        class="btn btn-danger-outline btn-small"
                        data-testid="cancel-request"
                        aria-label=format!("Cancel request #{id} for {}", req.role_name)
                        disabled=busy
                        on:click=cancel
                    >
                        {move || if busy.get() { "Cancelling…" } else { "Cancel request" }}
                    </button>
                </div>
            })}
        </li>
    }
}
