//! The requester's dashboard: live grants with a countdown to expiry and the db roles each
//! one grants, plus requests still waiting for a decision.

use jitea_shared::*;
use leptos::prelude::*;

use crate::api;
use crate::components::badge::{GrantBadge, RequestBadge};
use crate::components::countdown::{use_clock, Countdown};
use crate::components::states::{fetched, live_resource, Empty};
use crate::format;
use crate::session::Session;

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
            {fetched(grants, |list: Vec<Grant>| {
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
                        {list.into_iter().map(|g| view! { <GrantCard grant=g/> }).collect_view()}
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
                                        <span class="muted">{format::minutes(r.requested_duration_minutes)}</span>
                                        <RequestBadge status=r.status reason=r.auto_approval_reason/>
                                        <PendingAge created=r.created_utc/>
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

/// One live grant: role, time left, and what it grants on which target.
#[component]
pub fn GrantCard(grant: Grant) -> impl IntoView {
    let g = grant;
    let note = if g.revoke_failed {
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
                <GrantBadge status=g.status revoke_failed=g.revoke_failed/>
            </header>
            <div class="countdown-row">
                <span class="muted small">"Ends in"</span>
                <Countdown until=g.valid_to_utc/>
            </div>
            <p class="muted small">
                {format!("{} → {}", format::time(&g.valid_from_utc), format::time(&g.valid_to_utc))}
            </p>
            {note.map(|n| view! { <p class="note">{n}</p> })}
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
