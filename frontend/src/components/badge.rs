//! Status badges. Colour is never the only signal: every badge carries its word.

use jitea_shared::*;
use leptos::prelude::*;

use crate::format;

/// A request's status. Auto-approved requests get their own look and say why
/// ("auto-approved · pre-approved role" / "auto-approved · seniority bypass"), so they can
/// never be mistaken for a human approval.
#[component]
pub fn RequestBadge(status: RequestStatus, reason: Option<AutoApprovalReason>) -> impl IntoView {
    let auto = reason.map(format::auto_reason);
    let main = match (status, auto) {
        (RequestStatus::AutoApproved, Some(why)) => view! {
            <span class="badge badge-auto" data-testid="status-badge" data-status=status.as_str()>
                <span class="bolt" aria-hidden="true">"⚡"</span>
                {format!("auto-approved · {why}")}
            </span>
        }
        .into_any(),
        _ => view! {
            <span
                class=format!("badge badge-{}", status.as_str())
                data-testid="status-badge"
                data-status=status.as_str()
            >
                {format::request_status(status)}
            </span>
        }
        .into_any(),
    };
    // A request that was auto-approved and has since ended still says how it was approved.
    let extra = match (status, auto) {
        (RequestStatus::AutoApproved, _) | (_, None) => None,
        (_, Some(why)) => Some(view! {
            <span class="badge badge-auto-quiet">{format!("auto-approved · {why}")}</span>
        }),
    };
    view! { <span class="badges">{main}{extra}</span> }
}

/// A grant's status, plus a warning when removing it keeps failing on a target.
#[component]
pub fn GrantBadge(status: GrantStatus, #[prop(optional)] revoke_failed: bool) -> impl IntoView {
    view! {
        <span class="badges">
            <span class=format!("badge badge-grant-{}", status.as_str()) data-status=status.as_str()>
                {status.as_str()}
            </span>
            {revoke_failed
                .then(|| view! { <span class="badge badge-denied">"revoke failing"</span> })}
        </span>
    }
}

/// A neutral or coloured label: `kind` is one of `ok`, `info`, `warn`, `danger`, `muted`.
#[component]
pub fn Tag(kind: &'static str, #[prop(into)] text: String) -> impl IntoView {
    view! { <span class=format!("badge badge-{kind}")>{text}</span> }
}
