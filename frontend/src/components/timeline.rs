//! The timeline of one request and its grant (`GET /requests/{id}/timeline`): every step in
//! order with who did it and when, loaded when the reader opens it.

use jitea_shared::TimelineEntry;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::format;

#[component]
pub fn Timeline(request_id: i64) -> impl IntoView {
    let open = RwSignal::new(false);
    let entries = RwSignal::new(None::<Result<Vec<TimelineEntry>, String>>);
    let panel = format!("timeline-{request_id}");
    let toggle = move |_| {
        let now_open = !open.get_untracked();
        open.set(now_open);
        if now_open {
            entries.set(None);
            spawn_local(async move {
                let r = api::request_timeline(request_id)
                    .await
                    .map_err(|e| e.message);
                entries.set(Some(r));
            });
        }
    };
    view! {
        <div class="timeline-box">
            <button
                type="button"
                class="btn btn-secondary btn-small"
                data-testid="timeline-toggle"
                aria-expanded=move || open.get().to_string()
                aria-controls=panel.clone()
                on:click=toggle
            >
                {move || if open.get() { "Hide timeline" } else { "Show timeline" }}
            </button>
            <div id=panel>
                {move || open.get().then(|| match entries.get() {
                    None => view! { <p class="muted small">"Loading…"</p> }.into_any(),
                    Some(Err(m)) => view! { <p class="alert alert-danger" role="alert">{m}</p> }.into_any(),
                    Some(Ok(list)) => view! {
                        <ol class="timeline" data-testid="timeline">
                            {list
                                .into_iter()
                                .map(|e| view! {
                                    <li data-step=e.step.clone()>
                                        <time datetime=format::iso(&e.at)>{format::time(&e.at)}</time>
                                        " "
                                        <span data-testid="timeline-summary">{e.summary}</span>
                                        <span class="muted small">{format!(" — {}", e.actor_login_name)}</span>
                                    </li>
                                })
                                .collect_view()}
                        </ol>
                    }
                    .into_any(),
                })}
            </div>
        </div>
    }
}
