//! The approver's queue: pending requests the signed-in user may decide, oldest first.
//! The API never lists the user's own requests; they are filtered here too, so an own
//! request can never look approvable.

use jitea_shared::*;
use leptos::prelude::*;

use crate::api;
use crate::components::badge::Tag;
use crate::components::countdown::use_clock;
use crate::components::extension::{request_facts, wants, ExtensionBadge};
use crate::components::states::{fetched, live_resource, Empty};
use crate::format;
use crate::session::Session;

#[component]
pub fn ApprovalsPage() -> impl IntoView {
    crate::components::set_title("Approvals");
    let session = expect_context::<Session>();
    let queue = live_resource(api::pending_approvals);
    let clock = use_clock();

    view! {
        <div class="page-head">
            <div>
                <h1>"Approvals"</h1>
                <p class="muted">"Requests waiting for your decision, oldest first."</p>
            </div>
        </div>
        {fetched(queue, move |list: Vec<AccessRequest>| {
            let me = session.user_id();
            let list: Vec<AccessRequest> = list.into_iter().filter(|r| r.user_id != me).collect();
            if list.is_empty() {
                return view! {
                    <Empty title="Nothing to decide">
                        <p>"No requests are waiting for you. New ones appear here by themselves."</p>
                    </Empty>
                }
                .into_any();
            }
            view! {
                <ul class="rows" data-testid="approval-list">
                    {list
                        .into_iter()
                        .map(|r| {
                            let created = r.created_utc;
                            view! {
                                <li class="row card" data-testid="approval-row" data-request-id=r.id>
                                    <div class="row-main">
                                        <div class="row-title">
                                            <a class="strong" href=format!("/approvals/{}", r.id)>
                                                {wants(&r)}
                                            </a>
                                            <span class="muted small">{format!("#{}", r.id)}</span>
                                        </div>
                                        <span class="badges">
                                            {(r.kind == RequestKind::Extension).then(|| view! { <ExtensionBadge/> })}
                                            <Tag kind="warn" text="pending"/>
                                        </span>
                                    </div>
                                    <dl class="facts facts-inline">
                                        <dt>{if r.kind == RequestKind::Extension { "Adds" } else { "For" }}</dt>
                                        <dd>{format::minutes(r.requested_duration_minutes)}</dd>
                                        <dt>"Department"</dt>
                                        <dd>{r.user_dept_snapshot.clone().unwrap_or_else(|| "—".into())}</dd>
                                        <dt>"Asked"</dt>
                                        <dd>
                                            <time datetime=format::iso(&created)>
                                                {move || format::ago(&created, &clock.0.get())}
                                            </time>
                                        </dd>
                                        {r.ticket_ref.clone().map(|t| view! { <dt>"Ticket"</dt><dd><code>{t}</code></dd> })}
                                        {request_facts(&r)}
                                    </dl>
                                    {r.justification.clone().map(|j| view! { <p class="quote clamp">{j}</p> })}
                                    <div class="row-actions">
                                        <a class="btn btn-secondary btn-small" href=format!("/approvals/{}", r.id) data-testid="approval-open">
                                            "Review"
                                        </a>
                                    </div>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            }
            .into_any()
        })}
    }
}
