//! How an extension request (more time on a live grant) is shown to approvers and requesters.

use jitea_shared::{
    AccessRequest, ApprovalProgress, ApproverType, ExtensionOf, RequestKind, RoleApprover,
};
use leptos::prelude::*;

use crate::components::countdown::{use_clock, DecideBy};
use crate::format;

/// Marks a request that extends a live grant, so it is never mistaken for new access.
#[component]
pub fn ExtensionBadge() -> impl IntoView {
    view! { <span class="badge badge-info" data-testid="extension-badge">"Extension"</span> }
}

/// `alice wants Prod write` or, for an extension, `alice wants 30 min more of Prod write`.
pub fn wants(r: &AccessRequest) -> String {
    match r.kind {
        RequestKind::Extension => format!(
            "{} wants {} more of {}",
            r.user_login_name,
            format::minutes(r.requested_duration_minutes),
            r.role_name
        ),
        RequestKind::Access => format!("{} wants {}", r.user_login_name, r.role_name),
    }
}

/// The facts (`<dt>`/`<dd>` pairs, inside a `<dl>`) an approver weighs for an extension:
/// which grant, how long it has been held, when it ends now, how many extensions came before.
#[component]
pub fn ExtensionFacts(ext: ExtensionOf) -> impl IntoView {
    let clock = use_clock();
    let from = ext.grant_valid_from_utc;
    let to = ext.grant_valid_to_utc;
    view! {
        <dt>"Extends"</dt>
        <dd data-testid="extension-grant">{format!("grant #{}", ext.grant_id)}</dd>
        <dt>"Held for"</dt>
        <dd data-testid="extension-held">
            {move || format::minutes((clock.0.get() - from).num_minutes().max(0))}
        </dd>
        <dt>"Ends now"</dt>
        <dd data-testid="extension-ends">
            <time datetime=format::iso(&to)>{format::time(&to)}</time>
        </dd>
        <dt>"Earlier extensions"</dt>
        <dd data-testid="extension-previous">{ext.previous_extensions}</dd>
    }
}

/// The extension facts (if it is one) and the approval window (while it is pending), as
/// `<dt>`/`<dd>` pairs for any request.
pub fn request_facts(r: &AccessRequest) -> impl IntoView {
    let pending = r.status == jitea_shared::RequestStatus::Pending;
    view! {
        {r.extension.clone().map(|ext| view! { <ExtensionFacts ext=ext/> })}
        {r.decide_by_utc.filter(|_| pending).map(|at| view! { <dt>"Decide by"</dt><dd><DecideBy at=at/></dd> })}
        {r.start_utc.map(|at| view! {
            <dt>"Starts"</dt>
            <dd data-testid="request-start"><time datetime=format::iso(&at)>{format::time(&at)}</time></dd>
        })}
        {r.approval_progress.clone().filter(|p| p.required > 1 || p.stage.is_some()).map(|p| view! {
            <dt>"Approvals"</dt>
            <dd data-testid="approval-progress">{progress_text(&p)}</dd>
        })}
    }
}

/// `1 of 2 approvals · stage 2 of 2 · waiting for sec, team #4`.
pub fn progress_text(p: &ApprovalProgress) -> String {
    let mut parts = vec![format!("{} of {} approvals", p.approved, p.required)];
    if let Some(stage) = p.stage {
        parts.push(format!("stage {stage} of {}", p.stages));
    }
    if !p.waiting_for.is_empty() {
        let who: Vec<String> = p.waiting_for.iter().map(approver_name).collect();
        parts.push(format!("waiting for {}", who.join(", ")));
    }
    parts.join(" · ")
}

/// How an approver entry reads to a person.
fn approver_name(a: &RoleApprover) -> String {
    match a.approver_type {
        ApproverType::User => a
            .approver_login_name
            .clone()
            .unwrap_or_else(|| format!("user #{}", a.approver_user_id.unwrap_or_default())),
        ApproverType::Manager => "the requester's manager".to_string(),
        ApproverType::Team => format!("team #{}", a.approver_team_id.unwrap_or_default()),
        ApproverType::Department => format!(
            "department {}",
            a.approver_department.clone().unwrap_or_default()
        ),
    }
}
