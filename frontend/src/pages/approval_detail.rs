//! One request, as an approver sees it: who asks, for which role and what that grants, for
//! how long and why, the requester's snapshot (department, title, seniority) and their
//! recent history; then approve or deny with a comment. The user's own requests never get
//! decision buttons.

use jitea_shared::*;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};
use leptos_router::NavigateOptions;

use crate::api;
use crate::components::badge::RequestBadge;
use crate::components::extension::{request_facts, wants, ExtensionBadge};
use crate::components::states::{fetched, live_resource, run_busy, Empty, ErrorState, Loading};
use crate::components::timeline::Timeline;
use crate::components::toast::use_toasts;
use crate::events::Live;
use crate::format;
use crate::session::Session;

#[component]
pub fn ApprovalDetailPage() -> impl IntoView {
    crate::components::set_title("Review request");
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|s| s.parse::<i64>().ok())));
    let req = live_resource(move || {
        let id = id.get();
        async move {
            match id {
                Some(id) => api::get_request(id).await,
                None => Err(api::ApiError {
                    status: 404,
                    code: "not_found".into(),
                    message: "No such request.".into(),
                    fields: Vec::new(),
                }),
            }
        }
    });

    let shown = Memo::new(move |_| {
        req.get()
            .map(|r| r.map(|r| (r.id, r.updated_utc, r.status, r.approvals.len())))
    });

    view! {
        <p class="crumbs"><a href="/approvals">"← Approvals"</a></p>
        {move || {
            // Re-render only when the request itself changed (status, update time), so a live
            // refresh caused by some other event keeps the approver's half-typed comment.
            // Read (not just `track`): a memo that was never read has no sources yet.
            shown.with(|_| ());
            match req.get_untracked() {
                None => view! { <Loading/> }.into_any(),
                Some(Err(e)) => view! { <ErrorState error=e/> }.into_any(),
                Some(Ok(r)) => view! { <Detail req=r/> }.into_any(),
            }
        }}
    }
}

#[component]
fn Detail(req: AccessRequest) -> impl IntoView {
    let session = expect_context::<Session>();
    let own = req.user_id == session.user_id();
    let (rid, role_id) = (req.id, req.role_id);
    let ext = req.kind == RequestKind::Extension;
    let db_roles = live_resource(move || api::role_db_roles(role_id));
    let history = live_resource(move || api::request_history(rid));

    view! {
        <article class="card detail" data-testid="approval-detail" data-request-id=req.id data-status=req.status.as_str()>
            <header class="card-head">
                <h1 class="card-title">{wants(&req)}</h1>
                <span class="badges">
                    {ext.then(|| view! { <ExtensionBadge/> })}
                    <RequestBadge status=req.status reason=req.auto_approval_reason/>
                </span>
            </header>
            <div class="detail-grid">
                <section aria-labelledby="req-h">
                    <h2 id="req-h" class="subhead">"Request"</h2>
                    <dl class="facts">
                        <dt>"Request"</dt>
                        <dd>{format!("#{}", req.id)}</dd>
                        <dt>"Role"</dt>
                        <dd>{req.role_name.clone()}</dd>
                        <dt>{if ext { "Adds" } else { "Duration" }}</dt>
                        <dd>{format::minutes(req.requested_duration_minutes)}</dd>
                        <dt>"Asked"</dt>
                        <dd>{format::time(&req.created_utc)}</dd>
                        <dt>"Ticket"</dt>
                        <dd>{match req.ticket_ref.clone() {
                            Some(t) => view! { <code>{t}</code> }.into_any(),
                            None => view! { <span class="muted">"none"</span> }.into_any(),
                        }}</dd>
                        {request_facts(&req)}
                    </dl>
                    <h3 class="subhead">"Justification"</h3>
                    <p class="quote">{req.justification.clone().unwrap_or_else(|| "No justification given.".into())}</p>
                </section>
                <section aria-labelledby="who-h">
                    <h2 id="who-h" class="subhead">"Requester (when asked)"</h2>
                    <dl class="facts">
                        <dt>"User"</dt>
                        <dd>{req.user_login_name.clone()}</dd>
                        <dt>"Department"</dt>
                        <dd>{req.user_dept_snapshot.clone().unwrap_or_else(|| "—".into())}</dd>
                        <dt>"Division"</dt>
                        <dd>{req.user_division_snapshot.clone().unwrap_or_else(|| "—".into())}</dd>
                        <dt>"Title"</dt>
                        <dd>{req.user_title_snapshot.clone().unwrap_or_else(|| "—".into())}</dd>
                        <dt>"Seniority"</dt>
                        <dd>{req.user_seniority_snapshot.map(|s| s.to_string()).unwrap_or_else(|| "—".into())}</dd>
                    </dl>
                    <h3 class="subhead">"Grants these database roles"</h3>
                    {fetched(db_roles, |list: Vec<RoleDbRole>| {
                        if list.is_empty() {
                            return view! { <p class="muted small">"No database roles are mapped to this role."</p> }.into_any();
                        }
                        view! {
                            <ul class="dbroles" data-testid="detail-db-roles">
                                {list
                                    .into_iter()
                                    .map(|d| view! {
                                        <li>
                                            <code>{d.db_role_name}</code>
                                            <span class="muted small">" on " {d.target_name}</span>
                                        </li>
                                    })
                                    .collect_view()}
                            </ul>
                        }
                        .into_any()
                    })}
                </section>
            </div>
            {(!req.approvals.is_empty()).then(|| view! {
                <section>
                    <h2 class="subhead">"Decisions"</h2>
                    <ul class="list">
                        {req.approvals.iter().map(|a| view! {
                            <li class="list-row">
                                <span class="strong">{a.decision.as_str()}</span>
                                {format!(" by {} on {}", a.approver_login_name, format::time(&a.decision_utc))}
                                {a.decision_comment.clone().map(|c| view! { <span class="quote-inline">{format!(" — “{c}”")}</span> })}
                            </li>
                        }).collect_view()}
                    </ul>
                </section>
            })}
            <Timeline request_id=req.id/>
            {if own {
                view! {
                    <p class="note" data-testid="own-request-note">
                        "This is your own request. Someone else has to decide it."
                    </p>
                }
                .into_any()
            } else if req.status == RequestStatus::Pending {
                view! { <DecisionForm id=req.id/> }.into_any()
            } else if req.status == RequestStatus::Expired {
                view! { <p class="note">"Nobody decided this request in time: it has expired."</p> }.into_any()
            } else {
                view! { <p class="note">"This request has been decided; there is nothing left to do."</p> }.into_any()
            }}
        </article>

        <section class="card" aria-labelledby="hist-h">
            <h2 id="hist-h" class="subhead">{format!("Recent requests by {}", req.user_login_name)}</h2>
            {move || match history.get() {
                None => view! { <Loading/> }.into_any(),
                Some(Err(e)) => view! { <ErrorState error=e/> }.into_any(),
                Some(Ok(list)) => {
                    let list: Vec<AccessRequest> = list.into_iter().filter(|r| r.id != rid).collect();
                    if list.is_empty() {
                        view! { <Empty title="No other requests"/> }.into_any()
                    } else {
                        view! {
                            <ul class="list" data-testid="requester-history">
                                {list.into_iter().map(|r| view! {
                                    <li class="list-row">
                                        <span class="strong">{r.role_name}</span>
                                        {(r.kind == RequestKind::Extension).then(|| view! { <ExtensionBadge/> })}
                                        <span class="muted small">{format!("#{} · {} · {}", r.id, format::time(&r.created_utc), format::minutes(r.requested_duration_minutes))}</span>
                                        <RequestBadge status=r.status reason=r.auto_approval_reason/>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }
                        .into_any()
                    }
                }
            }}
        </section>
    }
}

/// Comment plus approve/deny. Kept in its own component so a live refresh of the history
/// list never clears what the approver is typing.
#[component]
fn DecisionForm(id: i64) -> impl IntoView {
    let live = expect_context::<Live>();
    let toasts = use_toasts();
    let navigate = use_navigate();
    let comment = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);

    let decide = move |approve: bool| {
        let navigate = navigate.clone();
        move |_| {
            let navigate = navigate.clone();
            error.set(None);
            let c = format::opt_text(&comment.get_untracked());
            run_busy(busy, async move {
                match api::decide(id, approve, c).await {
                    Ok(r) => {
                        match r.approval_progress.as_ref().filter(|_| approve) {
                            Some(p) => toasts.success(format!(
                                "Your approval of request #{} counts: {}.",
                                r.id,
                                crate::components::extension::progress_text(p)
                            )),
                            None => {
                                let what = if approve { "approved" } else { "denied" };
                                toasts.success(format!("Request #{} {what}.", r.id));
                            }
                        }
                        live.bump();
                        navigate("/approvals", NavigateOptions::default());
                    }
                    Err(e) => {
                        error.set(Some(e.message.clone()));
                        toasts.error(format!("Decision not recorded: {e}"));
                        live.bump();
                    }
                }
            });
        }
    };

    view! {
        <section class="decision-form" aria-labelledby="decide-h">
            <h2 id="decide-h" class="subhead">"Your decision"</h2>
            {move || error.get().map(|m| view! { <div class="alert alert-danger" role="alert" data-testid="form-error">{m}</div> })}
            <div class="field">
                <label for="approve-comment">"Comment " <span class="req">"(optional, shown to the requester)"</span></label>
                <textarea
                    id="approve-comment"
                    rows="3"
                    maxlength="4000"
                    data-testid="approve-comment"
                    bind:value=comment
                ></textarea>
            </div>
            <div class="actions">
                <button
                    type="button"
                    class="btn btn-primary"
                    data-testid="approve-button"
                    disabled=busy
                    on:click=decide(true)
                >
                    "Approve"
                </button>
                <button
                    type="button"
                    class="btn btn-danger"
                    data-testid="deny-button"
                    disabled=busy
                    on:click=decide(false)
                >
                    "Deny"
                </button>
            </div>
        </section>
    }
}
