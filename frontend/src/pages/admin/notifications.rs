//! Notifications (admins only; the API refuses auditors): every delivery of an event to a
//! person, a chat channel or a webhook, newest first, with "Retry" on failed ones; and the
//! webhook subscriptions, signed per the Standard Webhooks specification, whose secret is
//! shown once (at creation and after a rotation).

use jitea_shared::*;
use leptos::prelude::*;

use super::directory::{shown_once, Once};
use super::AdminFrame;
use crate::api;
use crate::components::badge::Tag;
use crate::components::field::{FieldError, FormError, FormErrors};
use crate::components::states::{fetched, live_resource, run_busy, Empty, ErrorState, Loading};
use crate::components::toast::use_toasts;
use crate::events::Live;
use crate::format;
use crate::session::Session;

#[component]
pub fn NotificationsPage() -> impl IntoView {
    crate::components::set_title("Notifications");
    let session = expect_context::<Session>();
    view! {
        <AdminFrame
            title="Notifications"
            intro="Every message JITEA sends (email, Slack or Teams channel, webhook) and whether it arrived, and the webhook subscriptions that receive events."
        >
            {if session.admin_now() {
                view! { {deliveries()} {webhooks()} }.into_any()
            } else {
                view! { <p class="muted">"Only administrators see notification deliveries and webhook subscriptions."</p> }.into_any()
            }}
        </AdminFrame>
    }
}

/// The deliveries table: a status filter, "More" with the API's cursor, "Retry" on failed rows.
fn deliveries() -> impl IntoView {
    let toasts = use_toasts();
    let status = RwSignal::new(String::new());
    let first = live_resource(move || {
        let s = status.with(|s| s.parse::<DeliveryStatus>().ok());
        async move { api::deliveries(s, None).await }
    });
    // Older pages. New deliveries arrive at the top, so they stay valid across live refreshes.
    let older = RwSignal::new(Vec::<NotificationDelivery>::new());
    let older_cursor = RwSignal::new(None::<Option<String>>);
    let more_busy = RwSignal::new(false);
    let next_cursor = move || -> Option<String> {
        match older_cursor.get() {
            Some(c) => c,
            None => first.get().and_then(|r| r.ok()).and_then(|p| p.next_cursor),
        }
    };
    let load_more = move |_| {
        let Some(cursor) = next_cursor() else { return };
        let s = status.with_untracked(|s| s.parse::<DeliveryStatus>().ok());
        run_busy(more_busy, async move {
            match api::deliveries(s, Some(cursor)).await {
                Ok(p) => {
                    older.update(|o| o.extend(p.items));
                    older_cursor.set(Some(p.next_cursor));
                }
                Err(e) => toasts.error(format!("Could not load more deliveries: {e}")),
            }
        });
    };
    let filter = move |ev| {
        older.set(Vec::new());
        older_cursor.set(None);
        status.set(event_target_value(&ev));
    };
    view! {
        <section class="card" aria-labelledby="deliveries-head" data-testid="deliveries">
            <h2 class="subhead" id="deliveries-head">"Deliveries"</h2>
            <div class="toolbar">
                <div class="field inline">
                    <label for="delivery-status">"Status"</label>
                    <select id="delivery-status" data-testid="delivery-status" on:change=filter>
                        <option value="">"All"</option>
                        {DeliveryStatus::ALL.iter().map(|s| {
                            let v = s.as_str();
                            view! { <option value=v>{v}</option> }
                        }).collect_view()}
                    </select>
                </div>
            </div>
            {move || match first.get() {
                None => view! { <Loading/> }.into_any(),
                Some(Err(e)) => view! { <ErrorState error=e/> }.into_any(),
                Some(Ok(p)) => {
                    let mut all = p.items;
                    older.with(|o| {
                        for d in o {
                            if !all.iter().any(|x| x.id == d.id) {
                                all.push(d.clone());
                            }
                        }
                    });
                    if all.is_empty() {
                        return view! { <Empty title="No deliveries match"/> }.into_any();
                    }
                    delivery_table(all, older).into_any()
                }
            }}
            {move || next_cursor().map(|_| view! {
                <div class="more">
                    <button type="button" class="btn btn-secondary" data-testid="deliveries-more" disabled=more_busy on:click=load_more>
                        {move || if more_busy.get() { "Loading…" } else { "More" }}
                    </button>
                </div>
            })}
        </section>
    }
}

fn delivery_table(
    rows: Vec<NotificationDelivery>,
    older: RwSignal<Vec<NotificationDelivery>>,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table" data-testid="delivery-table">
                <thead>
                    <tr>
                        <th scope="col">"When"</th>
                        <th scope="col">"Event"</th>
                        <th scope="col">"Channel"</th>
                        <th scope="col">"To"</th>
                        <th scope="col">"Subject"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Attempts"</th>
                        <th scope="col">"Last error"</th>
                        <th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|d| delivery_row(d, older)).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

fn delivery_row(
    d: NotificationDelivery,
    older: RwSignal<Vec<NotificationDelivery>>,
) -> impl IntoView {
    let toasts = use_toasts();
    let live = expect_context::<Live>();
    let busy = RwSignal::new(false);
    let id = d.id;
    let retry = move |_| {
        run_busy(busy, async move {
            match api::retry_delivery(id).await {
                Ok(n) => {
                    toasts.success(format!("Delivery #{id} will be sent again."));
                    // A row from an older page is not refetched: put the answer in its place.
                    older.update(|o| {
                        if let Some(x) = o.iter_mut().find(|x| x.id == id) {
                            *x = n;
                        }
                    });
                    live.bump();
                }
                Err(e) => toasts.error(format!("Not retried: {e}")),
            }
        });
    };
    let kind = match d.status {
        DeliveryStatus::Sent => "ok",
        DeliveryStatus::Pending => "info",
        DeliveryStatus::Failed => "danger",
    };
    let failed = d.status == DeliveryStatus::Failed;
    view! {
        <tr data-testid="delivery-row" data-delivery-id=id data-status=d.status.as_str() data-channel=d.channel.as_str()>
            <td class="nowrap"><time datetime=format::iso(&d.created_utc)>{format::time_precise(&d.created_utc)}</time></td>
            <td><code>{d.event_type}</code></td>
            <td>{d.channel.as_str()}</td>
            <td class="details"><span class="wrap">{d.address}</span></td>
            <td class="small">{d.subject}</td>
            <td>
                <Tag kind=kind text=d.status.as_str()/>
                {(d.status == DeliveryStatus::Pending).then(|| view! {
                    <span class="muted small">" next " {format::time(&d.next_attempt_utc)}</span>
                })}
            </td>
            <td>{d.attempts}</td>
            <td class="small" data-testid="delivery-error">{d.last_error}</td>
            <td>
                {failed.then(|| view! {
                    <button type="button" class="btn btn-secondary btn-small" data-testid="delivery-retry" disabled=busy on:click=retry>
                        {move || if busy.get() { "Retrying…" } else { "Retry" }}
                    </button>
                })}
            </td>
        </tr>
    }
}

/// A secret just made (by creating a subscription or rotating its secret).
type Shown = RwSignal<Option<Once>>;

/// The box that shows a subscription's new secret once.
fn secret_once(head: &'static str, c: WebhookCreated) -> Option<Once> {
    Some(Once {
        id: "webhook-secret",
        head: head.into(),
        warning: "JITEA keeps it to sign every POST: give it to the receiver, which checks the webhook-signature header with it. If it is lost, rotate it.",
        label: "Signing secret",
        what: "Secret",
        about: ("For", c.subscription.url),
        secret: c.secret,
    })
}

/// Webhook subscriptions: the list, a form to add one, the secret shown once.
fn webhooks() -> impl IntoView {
    let list = live_resource(api::webhooks);
    let shown: Shown = RwSignal::new(None);
    view! {
        <section class="card" aria-labelledby="webhooks-head" data-testid="webhooks">
            <h2 class="subhead" id="webhooks-head">"Webhook subscriptions"</h2>
            <p class="muted small">
                "JITEA POSTs each event a subscription names to its URL, signed with its secret (Standard Webhooks: "
                <code>"webhook-id"</code> ", " <code>"webhook-timestamp"</code> ", " <code>"webhook-signature"</code>
                "). Failed POSTs are retried, in order, and show above."
            </p>
            {webhook_form(shown)}
            {shown_once(shown)}
            {fetched(list, move |p: Page<WebhookSubscription>| {
                if p.items.is_empty() {
                    return view! { <p class="muted small" data-testid="webhooks-empty">"No subscriptions yet."</p> }.into_any();
                }
                view! {
                    <div class="table-wrap">
                        <table class="table" data-testid="webhook-table">
                            <thead>
                                <tr>
                                    <th scope="col">"URL"</th>
                                    <th scope="col">"Events"</th>
                                    <th scope="col">"Description"</th>
                                    <th scope="col">"Status"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {p.items.into_iter().map(|w| webhook_row(w, shown)).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
                .into_any()
            })}
        </section>
    }
}

/// How an event type is offered in the form.
fn event_label(e: WebhookEventType) -> &'static str {
    match e {
        WebhookEventType::All => "all events (*)",
        e => e.as_str(),
    }
}

fn webhook_form(shown: Shown) -> impl IntoView {
    let toasts = use_toasts();
    let live = expect_context::<Live>();
    let url = RwSignal::new(String::new());
    // One box per event type, in `WebhookEventType::ALL` order.
    let boxes: Vec<(WebhookEventType, RwSignal<bool>)> = WebhookEventType::ALL
        .iter()
        .map(|&e| (e, RwSignal::new(false)))
        .collect();
    let boxes = StoredValue::new(boxes);
    let description = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let u = url.get_untracked().trim().to_string();
        if u.is_empty() {
            errors.set_field("url", "Enter the https:// address to POST events to.");
        }
        let names: Vec<serde_json::Value> = boxes.with_value(|b| {
            b.iter()
                .filter(|(_, on)| on.get_untracked())
                .map(|(e, _)| e.as_str().into())
                .collect()
        });
        if names.is_empty() {
            errors.set_field("events", "Choose at least one event.");
        }
        if errors.has_fields() {
            return;
        }
        // `WebhookCreate` as JSON, built by hand (its serde writer would cost more wasm).
        let body = api::object(vec![
            ("url", u.into()),
            ("events", serde_json::Value::Array(names)),
            (
                "description",
                format::opt_text(&description.get_untracked()).into(),
            ),
        ]);
        run_busy(busy, async move {
            match api::create_webhook(&body).await {
                Ok(c) => {
                    url.set(String::new());
                    boxes.with_value(|b| b.iter().for_each(|(_, on)| on.set(false)));
                    description.set(String::new());
                    toasts.success("Subscription created: copy its secret now.");
                    shown.set(secret_once("Subscription created", c));
                    live.bump();
                }
                Err(e) => {
                    errors.show_api(&e);
                    toasts.error(format!("Subscription not created: {e}"));
                }
            }
        });
    };
    view! {
        <form class="form bordered" data-testid="webhook-form" on:submit=submit novalidate>
            <h3 class="subhead">"New subscription"</h3>
            <FormError errors=errors/>
            <div class="form-grid">
                <div class="field span-2">
                    <label for="webhook-url">"URL"</label>
                    <input id="webhook-url" type="url" maxlength="300" placeholder="https://" data-testid="webhook-url" bind:value=url
                        aria-invalid=errors.invalid("url") aria-describedby=errors.describedby("url")/>
                    <FieldError errors=errors field="url"/>
                </div>
                <div class="field">
                    <label for="webhook-description">"Description " <span class="req">"(optional)"</span></label>
                    <input id="webhook-description" type="text" maxlength="400" data-testid="webhook-description" bind:value=description
                        aria-invalid=errors.invalid("description") aria-describedby=errors.describedby("description")/>
                    <FieldError errors=errors field="description"/>
                </div>
            </div>
            <div class="checks" role="group" aria-labelledby="webhook-events-label" data-testid="webhook-events"
                aria-describedby=errors.describedby("events")>
                <p class="checks-label" id="webhook-events-label">"Events"</p>
                {boxes.with_value(|b| b.iter().enumerate().map(|(i, &(e, on))| {
                    let id = format!("webhook-event-{i}");
                    view! {
                        <div class="field check">
                            <input id=id.clone() type="checkbox" data-event=e.as_str() bind:checked=on/>
                            <label for=id>{event_label(e)}</label>
                        </div>
                    }
                }).collect_view())}
            </div>
            <FieldError errors=errors field="events"/>
            <div class="actions">
                <button type="submit" class="btn btn-primary" data-testid="webhook-create" disabled=busy>"Create subscription"</button>
            </div>
        </form>
    }
}

/// What a row's confirmation is about to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ask {
    None,
    Rotate,
    Delete,
}

fn webhook_row(w: WebhookSubscription, shown: Shown) -> impl IntoView {
    let toasts = use_toasts();
    let live = expect_context::<Live>();
    let busy = RwSignal::new(false);
    let ask = RwSignal::new(Ask::None);
    let id = w.id;
    let enabled = w.is_enabled;
    let toggle = move |_| {
        run_busy(busy, async move {
            let body = api::object(vec![("is_enabled", (!enabled).into())]);
            match api::update_webhook(id, &body).await {
                Ok(s) => {
                    let what = if s.is_enabled { "enabled" } else { "disabled" };
                    toasts.success(format!("Subscription {what}."));
                    live.bump();
                }
                Err(e) => toasts.error(format!("Not changed: {e}")),
            }
        });
    };
    let confirm = move |_| {
        let a = ask.get_untracked();
        run_busy(busy, async move {
            let done = if a == Ask::Delete {
                api::delete_webhook(id).await.map(|()| {
                    toasts.success("Subscription deleted.");
                })
            } else {
                api::rotate_webhook_secret(id).await.map(|c| {
                    toasts.success("New secret made: copy it now.");
                    shown.set(secret_once("Secret rotated", c));
                })
            };
            match done {
                Ok(()) => {
                    ask.set(Ask::None);
                    live.bump();
                }
                Err(e) => toasts.error(format!("Not done: {e}")),
            }
        });
    };
    let events = w
        .events
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let deleting = move || ask.get() == Ask::Delete;
    view! {
        <tr data-testid="webhook-row" data-webhook-id=id data-enabled=enabled.to_string()>
            <td class="details"><span class="wrap">{w.url}</span></td>
            <td class="small"><code class="wrap">{events}</code></td>
            <td class="small">{w.description}</td>
            <td>
                <Tag kind=if enabled { "ok" } else { "muted" } text=if enabled { "enabled" } else { "disabled" }/>
                <span class="confirm-inline" hidden=move || ask.get() != Ask::None>
                    <button type="button" class="btn btn-secondary btn-small" data-testid="webhook-toggle" disabled=busy on:click=toggle>
                        {if enabled { "Disable" } else { "Enable" }}
                    </button>
                    <button type="button" class="btn btn-secondary btn-small" data-testid="webhook-rotate" on:click=move |_| ask.set(Ask::Rotate)>
                        "Rotate secret…"
                    </button>
                    <button type="button" class="btn btn-danger-outline btn-small" data-testid="webhook-delete" on:click=move |_| ask.set(Ask::Delete)>
                        "Delete…"
                    </button>
                </span>
                <span class="confirm-inline" role="group" aria-label="Confirm" data-testid="webhook-confirm"
                    hidden=move || ask.get() == Ask::None>
                    <span class="small">
                        {move || if deleting() {
                            "It receives nothing more; its pending deliveries fail."
                        } else {
                            "The current secret stops working at once."
                        }}
                    </span>
                    <button type="button" class="btn btn-danger btn-small" data-testid="confirm-yes" disabled=busy on:click=confirm>
                        {move || if deleting() { "Delete now" } else { "Rotate now" }}
                    </button>
                    <button type="button" class="btn btn-secondary btn-small" data-testid="confirm-no" on:click=move |_| ask.set(Ask::None)>
                        "Cancel"
                    </button>
                </span>
            </td>
        </tr>
    }
}
