//! The organisation's directory: the last sync runs with their counts and errors, a dry run
//! that shows what a sync would change, a sync on demand (with a confirmation, and "sync
//! anyway" past the mass-deactivation guard), and the SCIM tokens identity providers use to
//! provision users.

use jitea_shared::*;
use leptos::prelude::*;

use super::AdminFrame;
use crate::api;
use crate::components::badge::Tag;
use crate::components::states::{fetched, live_resource, run_busy, Empty, ErrorState, Loading};
use crate::components::toast::{use_toasts, Toasts};
use crate::events::Live;
use crate::format;
use crate::session::Session;

/// How many past runs the page lists.
const RUNS_SHOWN: u32 = 20;

/// What the sync buttons are about to do, while their confirmation is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    None,
    Sync,
    Force,
}

#[component]
pub fn DirectoryPage() -> impl IntoView {
    crate::components::set_title("Directory");
    let session = expect_context::<Session>();
    // Learned from the API's 409 `directory_not_configured` (there is no other way to ask).
    let not_configured = RwSignal::new(false);
    let runs = live_resource(|| api::directory_runs(RUNS_SHOWN));
    view! {
        <AdminFrame
            title="Directory"
            intro="Users and teams synced from LDAP / Active Directory, and the tokens identity providers use to provision users over SCIM."
        >
            {not_configured_view(not_configured)}
            {session.admin_now().then(|| sync_actions(not_configured))}
            <section class="card" aria-labelledby="runs-head" data-testid="directory-runs">
                <h2 class="subhead" id="runs-head">"Last runs"</h2>
                {fetched(runs, |p: Page<DirectorySyncRun>| {
                    if p.items.is_empty() {
                        return view! {
                            <Empty title="No directory sync has run yet">
                                <p>"Runs appear here once the directory is configured and synced (on its schedule or with the buttons above)."</p>
                            </Empty>
                        }
                        .into_any();
                    }
                    runs_table(p.items).into_any()
                })}
            </section>
            {session.admin_now().then(scim_tokens)}
            {(!session.admin_now()).then(|| view! {
                <section class="card" aria-labelledby="scim-head">
                    <h2 class="subhead" id="scim-head">"SCIM tokens"</h2>
                    <p class="muted">"Only administrators see and manage SCIM tokens."</p>
                </section>
            })}
        </AdminFrame>
    }
}

/// Shown instead of the sync buttons when the server has no directory.
fn not_configured_view(shown: RwSignal<bool>) -> impl IntoView {
    view! {
        <section class="card" data-testid="directory-not-configured" aria-labelledby="nodir-head" hidden=move || !shown.get()>
            <h2 class="subhead" id="nodir-head">"No directory is configured"</h2>
            <p>
                "This server does not sync users from LDAP or Active Directory. To turn it on, set "
                <code>"JITEA_LDAP_URL"</code> ", " <code>"JITEA_LDAP_USER_BASE"</code>
                " and the bind settings (see \"Directory sync\" in the README), then restart JITEA."
            </p>
            <p class="muted small">"Users can still come from sign-in, single sign-on and SCIM."</p>
        </section>
    }
}

/// "Preview changes (dry run)" and "Sync now", the confirmation before a real sync, and the
/// result of the last run started here (with its changes and entry errors).
fn sync_actions(not_configured: RwSignal<bool>) -> impl IntoView {
    let toasts = use_toasts();
    let live = expect_context::<Live>();
    let busy = RwSignal::new(false);
    let pending = RwSignal::new(Pending::None);
    let result = RwSignal::new(None::<DirectorySyncRun>);
    let run = move |dry_run: bool, force: bool| {
        pending.set(Pending::None);
        run_busy(busy, async move {
            match api::directory_sync(dry_run, force).await {
                Ok(r) => {
                    let what = if r.dry_run {
                        "Dry run"
                    } else {
                        "Directory sync"
                    };
                    match r.status.as_str() {
                        "succeeded" => toasts.success(format!("{what} finished.")),
                        "refused" => toasts.error(format!(
                            "{what} refused by the deactivation guard: nothing was changed."
                        )),
                        _ => toasts.error(format!("{what} {}.", r.status)),
                    }
                    result.set(Some(r));
                    live.bump();
                }
                Err(e) if e.code == "directory_not_configured" => not_configured.set(true),
                Err(e) => toasts.error(format!("Directory sync not run: {e}")),
            }
        });
    };
    // The question before a real sync (`Force`: past the guard), one area for both.
    let question = move || {
        match pending.get() {
        Pending::Force => {
            "Sync anyway? The guard stopped this sync because it would deactivate more users than \
             JITEA_LDAP_MAX_DEACTIVATE_PERCENT allows. Forcing it deactivates every user listed for \
             deactivation and ends their access at once. Do this only if the directory is right \
             (for example after a planned clean-up)."
        }
        _ => {
            "Sync now? Users are created, updated and deactivated as the directory says; people \
             deactivated lose their access at once."
        }
    }
    };
    let forcing = move || pending.get() == Pending::Force;
    view! {
        <section class="card" aria-labelledby="sync-head" data-testid="directory-actions" hidden=not_configured>
            <h2 class="subhead" id="sync-head">"Sync"</h2>
            <p class="muted small">
                "A sync also runs on its own schedule. A dry run reads the directory and shows what would change, without changing anything."
            </p>
            <div class="actions">
                <button type="button" class="btn btn-secondary" data-testid="directory-dry-run" disabled=busy
                    on:click=move |_| run(true, false)>
                    {move || if busy.get() { "Running…" } else { "Preview changes (dry run)" }}
                </button>
                <button type="button" class="btn btn-primary" data-testid="directory-sync" disabled=busy
                    aria-expanded=move || (pending.get() == Pending::Sync).to_string()
                    on:click=move |_| pending.set(Pending::Sync)>
                    "Sync now…"
                </button>
            </div>
            {move || result.get().map(|r| run_result(r, pending))}
            <div class="confirm" role="group" aria-labelledby="sync-question" hidden=move || pending.get() == Pending::None
                data-testid=move || if forcing() { "directory-force-confirm" } else { "directory-sync-confirm" }>
                <p id="sync-question">{question}</p>
                <div class="actions">
                    <button type="button" class="btn" class:btn-danger=forcing class:btn-primary=move || !forcing()
                        data-testid="confirm-yes" on:click=move |_| run(false, forcing())>
                        {move || if forcing() { "Sync anyway (force)" } else { "Sync now" }}
                    </button>
                    <button type="button" class="btn btn-secondary" data-testid="confirm-no"
                        on:click=move |_| pending.set(Pending::None)>
                        "Cancel"
                    </button>
                </div>
            </div>
        </section>
    }
}

fn status_tag(status: &str) -> impl IntoView {
    let kind = match status {
        "succeeded" => "ok",
        "running" => "info",
        "refused" => "warn",
        _ => "danger",
    };
    view! { <Tag kind=kind text=status.to_string()/> }
}

/// The answer of a run started from this page: counts, message, planned or made changes, the
/// entries skipped, and the guard's explanation with "Sync anyway" when it refused.
fn run_result(run: DirectorySyncRun, pending: RwSignal<Pending>) -> impl IntoView {
    let refused = run.status == "refused";
    let heading = if run.dry_run {
        "Dry run: what a sync would change"
    } else {
        "This sync"
    };
    // A dry run and a refused run only planned their changes.
    let planned = run.dry_run || refused;
    let [c, u, d] = if planned {
        ["to create", "to update", "to deactivate"]
    } else {
        ["created", "updated", "deactivated"]
    };
    let counts = format!(
        "{} entries read · {} {c} · {} {u} · {} {d} · {} unchanged · {} errors",
        run.entries_seen, run.created, run.updated, run.deactivated, run.unchanged, run.errors
    );
    view! {
        <div class="run-result" data-testid="directory-result" data-status=run.status.clone() data-dry-run=run.dry_run.to_string()>
            <h3 class="subhead">{heading} " " {status_tag(&run.status)}</h3>
            <p class="small" data-testid="directory-result-counts">{counts}</p>
            {run.message.clone().map(|m| view! { <p class="small" data-testid="directory-result-message">{m}</p> })}
            {refused.then(|| view! {
                <div class="note" data-testid="directory-guard">
                    <p>
                        "Nothing was changed: this sync would deactivate more of the directory's active users "
                        "than the guard allows (" <code>"JITEA_LDAP_MAX_DEACTIVATE_PERCENT"</code>
                        "). That usually means the directory answered with too few users (a wrong search base "
                        "or filter, or a partial outage). Check the changes below."
                    </p>
                </div>
                <div class="actions">
                    <button type="button" class="btn btn-danger-outline btn-small" data-testid="directory-force"
                        on:click=move |_| pending.set(Pending::Force)>
                        "Sync anyway (force)…"
                    </button>
                </div>
            })}
            {changes_table(run.changes.clone())}
            {(!run.entry_errors.is_empty()).then(|| view! {
                <h4 class="subhead">"Entries skipped"</h4>
                <ul class="entry-errors" data-testid="directory-entry-errors">
                    {run.entry_errors.iter().map(|e| view! {
                        <li><code class="wrap">{e.dn.clone()}</code> ": " {e.message.clone()}</li>
                    }).collect_view()}
                </ul>
            })}
        </div>
    }
}

fn changes_table(changes: Vec<DirectoryChange>) -> impl IntoView {
    let empty = changes.is_empty();
    view! {
        <p class="muted small" data-testid="directory-no-changes" hidden=!empty>"No changes: JITEA matches the directory."</p>
        <div class="table-wrap" hidden=empty>
            <table class="table" data-testid="directory-changes">
                <caption class="sr-only">"Changes"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Change"</th>
                        <th scope="col">"User"</th>
                        <th scope="col">"Fields"</th>
                        <th scope="col">"Directory entry"</th>
                    </tr>
                </thead>
                <tbody>
                    {changes.into_iter().map(|c| {
                        let why = c.reason.as_deref().map(|r| match r {
                            "disabled" => " (disabled in the directory)",
                            "not_found" => " (no longer in the directory)",
                            _ => "",
                        }).unwrap_or("");
                        view! {
                            <tr data-testid="directory-change" data-action=c.action.clone() data-login=c.login_name.clone()>
                                <td>{format!("{}{why}", c.action)}</td>
                                <td>{c.login_name.clone()}</td>
                                <td class="small">{c.fields.join(", ")}</td>
                                <td class="details">{c.dn.map(|dn| view! { <code class="wrap">{dn}</code> })}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

fn runs_table(runs: Vec<DirectorySyncRun>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table" data-testid="directory-runs-table">
                <thead>
                    <tr>
                        <th scope="col">"When"</th>
                        <th scope="col">"Trigger"</th>
                        <th scope="col">"By"</th>
                        <th scope="col">"Kind"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col" title="created / updated / deactivated / unchanged / errors">"Counts"</th>
                        <th scope="col">"Message"</th>
                    </tr>
                </thead>
                <tbody>
                    {runs.into_iter().map(|r| {
                        let kind = match (r.dry_run, r.forced) {
                            (true, _) => "dry run",
                            (false, true) => "forced",
                            (false, false) => "sync",
                        };
                        view! {
                            <tr data-testid="directory-run" data-run-id=r.id data-status=r.status.clone()>
                                <td class="nowrap"><time datetime=format::iso(&r.started_utc)>{format::time_precise(&r.started_utc)}</time></td>
                                <td>{r.trigger_source.clone()}</td>
                                <td>{r.actor_login_name.clone()}</td>
                                <td>{kind}</td>
                                <td>{status_tag(&r.status)}</td>
                                <td class="small nowrap">
                                    {format!("{} created · {} updated · {} deactivated · {} unchanged · {} errors",
                                        r.created, r.updated, r.deactivated, r.unchanged, r.errors)}
                                </td>
                                <td class="small">{r.message.clone().unwrap_or_default()}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// SCIM tokens: the list, a form to create one (shown once, with a copy button and the SCIM
/// base URL), and revoking with a confirmation.
fn scim_tokens() -> impl IntoView {
    let toasts = use_toasts();
    let live = expect_context::<Live>();
    let tokens = live_resource(api::scim_tokens);
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let created = RwSignal::new(None::<Once>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let n = name.get_untracked().trim().to_string();
        if n.is_empty() || n.chars().count() > 100 {
            error.set(Some(
                "Give the token a name of 1 to 100 characters (e.g. the identity provider's)."
                    .into(),
            ));
            return;
        }
        run_busy(busy, async move {
            match api::create_scim_token(&n).await {
                Ok(t) => {
                    name.set(String::new());
                    created.set(Some(Once {
                        id: "scim-token",
                        head: format!("Token \"{}\" created", t.name),
                        warning: "JITEA keeps only a hash. Give it to the identity provider with the SCIM base URL; if it is lost, create a new one and revoke this one.",
                        label: "Bearer token",
                        what: "Token",
                        about: ("SCIM base URL:", scim_base_url()),
                        secret: t.token,
                    }));
                    live.bump();
                }
                Err(e) => {
                    error.set(Some(e.field("name").unwrap_or(&e.message).to_string()));
                    toasts.error(format!("Token not created: {e}"));
                }
            }
        });
    };
    view! {
        <section class="card" aria-labelledby="scim-head" data-testid="scim-tokens">
            <h2 class="subhead" id="scim-head">"SCIM tokens"</h2>
            <p class="muted small">
                "An identity provider (Entra ID, Okta, …) creates, updates and deactivates users over SCIM 2.0 "
                "with one of these bearer tokens. SCIM base URL: " <code data-testid="scim-base-url">{scim_base_url()}</code>
            </p>
            <form class="inline-form" data-testid="scim-token-form" on:submit=submit novalidate
                hidden=move || tokens.with(|t| matches!(t, Some(Err(e)) if e.status == 404))>
                <label for="scim-token-name">"Token name"</label>
                <input id="scim-token-name" type="text" maxlength="100" data-testid="scim-token-name"
                    aria-invalid=move || error.with(Option::is_some).to_string()
                    aria-describedby=move || error.with(Option::is_some).then_some("scim-token-err")
                    bind:value=name/>
                <button type="submit" class="btn btn-primary btn-small" data-testid="scim-token-create" disabled=busy>
                    "Create token"
                </button>
            </form>
            {move || error.get().map(|m| view! { <p class="field-error" id="scim-token-err" data-testid="field-error-name">{m}</p> })}
            {shown_once(created)}
            {move || match tokens.get() {
                None => view! { <Loading/> }.into_any(),
                // A server without the SCIM API (an older version).
                Some(Err(e)) if e.status == 404 => view! {
                    <p class="note small" data-testid="scim-unavailable">"This server does not offer SCIM provisioning."</p>
                }
                .into_any(),
                Some(Err(e)) => view! { <ErrorState error=e/> }.into_any(),
                Some(Ok(p)) => token_table(p.items).into_any(),
            }}
        </section>
    }
}

/// `<this origin>/scim/v2`, what the identity provider is given as the SCIM endpoint.
fn scim_base_url() -> String {
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    format!("{origin}/scim/v2")
}

/// A secret just made (a SCIM token, a webhook's signing secret): the only time it can be
/// seen, with a warning, "Copy", and "Done" (which forgets it). `id` names the element ids
/// and test ids (`{id}-created`, `-warning`, `-value`, `-copy`, `-done`); `what` says what
/// was copied; `about` is a label and a value shown under the heading.
#[derive(Clone)]
pub(super) struct Once {
    pub id: &'static str,
    pub head: String,
    pub warning: &'static str,
    pub label: &'static str,
    pub what: &'static str,
    pub about: (&'static str, String),
    pub secret: String,
}

/// The box while `shown` holds a secret; "Done" empties it.
pub(super) fn shown_once(shown: RwSignal<Option<Once>>) -> impl IntoView {
    move || shown.get().map(|o| once_box(o, shown))
}

fn once_box(once: Once, shown: RwSignal<Option<Once>>) -> impl IntoView {
    let toasts = use_toasts();
    let Once {
        id,
        head,
        warning,
        label,
        what,
        about,
        secret,
    } = once;
    let copied = secret.clone();
    let copy = move |_| copy_secret(toasts, copied.clone(), what);
    view! {
        <div class="token-once" role="region" aria-labelledby=format!("{id}-head") data-testid=format!("{id}-created")>
            <h3 class="subhead" id=format!("{id}-head")>{head}</h3>
            <p class="small">{about.0} <code class="wrap">{about.1}</code></p>
            <p class="note" data-testid=format!("{id}-warning")>
                <strong>"Copy it now: it will not be shown again."</strong>
                " " {warning}
            </p>
            <div class="field">
                <label for=format!("{id}-value")>{label}</label>
                <div class="inline-form">
                    <input id=format!("{id}-value") type="text" readonly class="mono" data-testid=format!("{id}-value")
                        value=secret on:focus=move |ev| select_all(&ev)/>
                    <button type="button" class="btn btn-secondary btn-small" data-testid=format!("{id}-copy") on:click=copy>"Copy"</button>
                </div>
            </div>
            <button type="button" class="btn btn-primary btn-small" data-testid=format!("{id}-done") on:click=move |_| shown.set(None)>
                "Done, I have stored it"
            </button>
        </div>
    }
}

/// Copies a secret shown once (`what`: "Token", "Secret") to the clipboard, and says so.
fn copy_secret(toasts: Toasts, secret: String, what: &'static str) {
    leptos::task::spawn_local(async move {
        let ok = match web_sys::window().map(|w| w.navigator().clipboard()) {
            Some(c) => wasm_bindgen_futures::JsFuture::from(c.write_text(&secret))
                .await
                .is_ok(),
            None => false,
        };
        if ok {
            toasts.success(format!("{what} copied to the clipboard."));
        } else {
            toasts.error("Copying is not allowed here: select it and copy it by hand.");
        }
    });
}

fn select_all(ev: &leptos::ev::FocusEvent) {
    use wasm_bindgen::JsCast;
    if let Some(i) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
    {
        i.select();
    }
}

fn token_table(tokens: Vec<ScimToken>) -> impl IntoView {
    let empty = tokens.is_empty();
    view! {
        <p class="muted small" data-testid="scim-no-tokens" hidden=!empty>"No SCIM tokens yet."</p>
        <div class="table-wrap" hidden=empty>
            <table class="table" data-testid="scim-token-table">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Token"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Last used"</th>
                        <th scope="col">"Status"</th>
                    </tr>
                </thead>
                <tbody>
                    {tokens.into_iter().map(token_row).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

fn token_row(token: ScimToken) -> impl IntoView {
    let toasts = use_toasts();
    let live = expect_context::<Live>();
    let confirm = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let id = token.id;
    let name = token.name.clone();
    let revoke = move |_| {
        let name = name.clone();
        run_busy(busy, async move {
            match api::revoke_scim_token(id).await {
                Ok(()) => {
                    toasts.success(format!("Token \"{name}\" revoked."));
                    confirm.set(false);
                    live.bump();
                }
                Err(e) => toasts.error(format!("Not revoked: {e}")),
            }
        });
    };
    let revoked = token.revoked_utc.is_some();
    view! {
        <tr data-testid="scim-token-row" data-token-id=token.id data-revoked=revoked.to_string()>
            <td>{token.name.clone()}</td>
            <td><code>{format!("{}…", token.token_prefix)}</code></td>
            <td class="small">
                <time datetime=format::iso(&token.created_utc)>{format::time(&token.created_utc)}</time>
                {format!(" by {}", token.created_by)}
            </td>
            <td class="small">{token.last_used_utc.map_or_else(|| "never".to_string(), |t| format::time(&t))}</td>
            <td>
                <Tag kind=if revoked { "muted" } else { "ok" } text=if revoked { "revoked" } else { "active" }/>
                {token.revoked_utc.map(|t| {
                    let by = token.revoked_by.clone().map(|b| format!(" by {b}")).unwrap_or_default();
                    view! { <span class="small">{format!(" {}{by}", format::time(&t))}</span> }
                })}
                {(!revoked).then(|| view! {
                    <button type="button" class="btn btn-danger-outline btn-small" data-testid="scim-token-revoke"
                        hidden=confirm on:click=move |_| confirm.set(true)>
                        "Revoke…"
                    </button>
                    <span class="confirm-inline" role="group" aria-label="Confirm revoking" data-testid="scim-token-revoke-confirm"
                        hidden=move || !confirm.get()>
                        <span class="small">"The identity provider can no longer use it."</span>
                        <button type="button" class="btn btn-danger btn-small" data-testid="confirm-yes" disabled=busy on:click=revoke>
                            "Revoke now"
                        </button>
                        <button type="button" class="btn btn-secondary btn-small" data-testid="confirm-no" on:click=move |_| confirm.set(false)>
                            "Cancel"
                        </button>
                    </span>
                })}
            </td>
        </tr>
    }
}
