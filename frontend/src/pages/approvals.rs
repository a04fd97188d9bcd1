//! The approver's queue: pending requests the signed-in user may decide, oldest first, and
//! the break-glass uses of their roles waiting for an after-the-fact review.
//! The API never lists the user's own requests; they are filtered here too, so an own
//! request can never look approvable.

use jitea_shared::*;
use leptos::prelude::*;

use crate::api;
use crate::components::badge::Tag;
use crate::components::countdown::use_clock;
use crate::components::extension::{request_facts, wants, ExtensionBadge};
use crate::components::states::{fetched, live_resource, run_busy, Empty};
use crate::components::toast::use_toasts;
use crate::events::Live;
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
        <BreakGlassReviews/>
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

/// Break-glass uses of the caller's roles waiting for their review: who used which role, why
/// and when, with a form to accept or flag the use (a flag may also revoke the access).
#[component]
fn BreakGlassReviews() -> impl IntoView {
    let reviews = live_resource(api::review_queue);
    move || match reviews.get() {
        Some(Ok(list)) if !list.is_empty() => Some(view! {
            <section class="card" aria-labelledby="bg-h" data-testid="break-glass-reviews">
                <h2 id="bg-h" class="subhead">"Break-glass uses to review"</h2>
                <p class="muted small">
                    "Granted at once, without an approver. Say whether each use was justified."
                </p>
                <ul class="rows">
                    {list.into_iter().map(|e| view! { <ReviewRow entry=e/> }).collect_view()}
                </ul>
            </section>
        }),
        _ => None,
    }
}

#[component]
fn ReviewRow(entry: BreakGlassEntry) -> impl IntoView {
    let live = expect_context::<Live>();
    let toasts = use_toasts();
    let comment = RwSignal::new(String::new());
    let revoke = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let id = entry.grant_id;
    let submit = move |outcome: ReviewOutcome| {
        move |_| {
            error.set(None);
            let body = GrantReviewBody {
                outcome,
                comment: comment.get_untracked(),
                revoke: outcome == ReviewOutcome::Flag && revoke.get_untracked(),
            };
            run_busy(busy, async move {
                match api::review_grant(id, &body).await {
                    Ok(_) => {
                        toasts.success(format!("Review of grant #{id} recorded."));
                        live.bump();
                    }
                    Err(e) => {
                        error.set(Some(e.message.clone()));
                        toasts.error(format!("Review not recorded: {e}"));
                    }
                }
            });
        }
    };
    let overdue = entry.review_status == BreakGlassStatus::Overdue;
    let (comment_id, revoke_id) = (
        format!("review-comment-{id}"),
        format!("review-revoke-{id}"),
    );
    view! {
        <li class="row" data-testid="review-row" data-grant-id=id>
            <div class="row-main">
                <div class="row-title">
                    <span class="strong">{format!("{} used {}", entry.user_login_name, entry.role_name)}</span>
                    <span class="muted small">{format!("grant #{id}")}</span>
                </div>
                <span class="badges">
                    {if overdue {
                        view! { <Tag kind="danger" text="review overdue"/> }
                    } else {
                        view! { <Tag kind="warn" text="to review"/> }
                    }}
                </span>
            </div>
            <dl class="facts facts-inline">
                <dt>"Granted"</dt>
                <dd>{format::time(&entry.valid_from_utc)}</dd>
                <dt>"Ends"</dt>
                <dd>{format::time(&entry.valid_to_utc)}</dd>
                {entry.review_due_utc.map(|d| view! { <dt>"Review due"</dt><dd>{format::time(&d)}</dd> })}
                {entry.ticket_ref.clone().map(|t| view! { <dt>"Ticket"</dt><dd><code>{t}</code></dd> })}
            </dl>
            {entry.justification.clone().map(|j| view! { <p class="quote">{j}</p> })}
            {move || error.get().map(|m| view! { <div class="alert alert-danger" role="alert" data-testid="review-error">{m}</div> })}
            <div class="field">
                <label for=comment_id.clone()>"Review comment " <span class="req">"(required)"</span></label>
                <textarea id=comment_id rows="2" maxlength="4000" data-testid="review-comment" bind:value=comment></textarea>
            </div>
            <div class="field check">
                <input id=revoke_id.clone() type="checkbox" data-testid="review-revoke" bind:checked=revoke/>
                <label for=revoke_id>"When flagging, also revoke the access now"</label>
            </div>
            <div class="actions">
                <button type="button" class="btn btn-primary" data-testid="review-accept" disabled=busy on:click=submit(ReviewOutcome::Accept)>
                    "Accept"
                </button>
                <button type="button" class="btn btn-danger" data-testid="review-flag" disabled=busy on:click=submit(ReviewOutcome::Flag)>
                    "Flag"
                </button>
            </div>
        </li>
    }
}
