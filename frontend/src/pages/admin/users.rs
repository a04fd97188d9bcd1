//! Users: search, where each comes from (local, single sign-on, directory, SCIM) and when the
//! directory last synced it, seniority (drives the seniority bypass), activate/deactivate,
//! and adding built-in accounts.

use jitea_shared::*;
use leptos::prelude::*;

use super::AdminFrame;
use crate::api;
use crate::components::badge::Tag;
use crate::components::field::{FieldError, FormError, FormErrors};
use crate::components::states::{list_state, live_resource, run_busy, ListStatus};
use crate::components::toast::use_toasts;
use crate::events::Live;
use crate::format;
use crate::session::Session;

#[component]
pub fn UsersPage() -> impl IntoView {
    crate::components::set_title("Users");
    let session = expect_context::<Session>();
    let search = RwSignal::new(String::new());
    let applied = RwSignal::new(String::new());
    let users = live_resource(move || {
        let q = applied.get();
        async move { api::list_users(&q, None).await }
    });
    let state = list_state(users, |p| p.items.is_empty());
    let show_form = RwSignal::new(false);

    view! {
        <AdminFrame title="Users" intro="People known to JITEA and where they come from. Seniority decides who skips approval on roles with a seniority bypass.">
            <div class="toolbar">
                <form class="inline-form" role="search" on:submit=move |ev| { ev.prevent_default(); applied.set(search.get_untracked()); }>
                    <label for="user-search" class="sr-only">"Search users"</label>
                    <input id="user-search" type="search" placeholder="Search name, login, email…" data-testid="user-search" bind:value=search/>
                    <button type="submit" class="btn btn-secondary btn-small">"Search"</button>
                </form>
                {session.admin_now().then(|| view! {
                    <button type="button" class="btn btn-primary btn-small" aria-expanded=move || show_form.get().to_string()
                        on:click=move |_| show_form.update(|s| *s = !*s)>
                        {move || if show_form.get() { "Close" } else { "New user" }}
                    </button>
                })}
            </div>
            <Show when=move || show_form.get()>
                <UserForm done=show_form/>
            </Show>
            <section data-testid="admin-users" aria-label="Users">
                <ListStatus state=state empty="No users match"/>
                <ul class="rows">
                    <For
                        each=move || users.get().and_then(|r| r.ok()).map(|p| p.items).unwrap_or_default()
                        key=|u| (u.id, u.updated_utc)
                        let:u
                    >
                        <UserRow user=u/>
                    </For>
                </ul>
                {move || {
                    users
                        .get()
                        .and_then(|r| r.ok())
                        .and_then(|p| p.next_cursor)
                        .map(|_| view! { <p class="muted small">"More users exist: narrow the search."</p> })
                }}
            </section>
        </AdminFrame>
    }
}

#[component]
fn UserRow(user: User) -> impl IntoView {
    let session = expect_context::<Session>();
    let live = expect_context::<Live>();
    let toasts = use_toasts();
    let id = user.id;
    let seniority = RwSignal::new(
        user.seniority_level
            .map(|s| s.to_string())
            .unwrap_or_default(),
    );
    let sen_busy = RwSignal::new(false);
    let act_busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let active = user.is_active;
    let is_me = user.id == session.user_id();

    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let level = match format::opt_int(&seniority.get_untracked()) {
            Ok(l) => l,
            Err(m) => {
                error.set(Some(m));
                return;
            }
        };
        run_busy(sen_busy, async move {
            // Only this field: a PATCH leaves everything else as it is.
            match api::update_user(id, &api::object(vec![("seniority_level", level.into())])).await
            {
                Ok(u) => {
                    toasts.success(format!("Seniority of {} saved.", u.login_name));
                    live.bump();
                }
                Err(e) => {
                    error.set(Some(
                        e.field("seniority_level").unwrap_or(&e.message).to_string(),
                    ));
                    toasts.error(format!("Seniority not saved: {e}"));
                }
            }
        });
    };
    let toggle = move |_| {
        run_busy(act_busy, async move {
            match api::set_user_active(id, !active).await {
                Ok(u) => {
                    toasts.success(format!(
                        "{} {}.",
                        u.login_name,
                        if u.is_active {
                            "activated"
                        } else {
                            "deactivated"
                        }
                    ));
                    live.bump();
                }
                Err(e) => toasts.error(format!("Not changed: {e}")),
            }
        })
    };
    let input_id = format!("seniority-{id}");
    let err_id = format!("seniority-err-{id}");
    let org = [
        user.job_title.clone(),
        user.department.clone(),
        user.division.clone(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");

    view! {
        <li class="row card" data-testid="user-row" data-user-id=user.id data-active=user.is_active.to_string() data-source=user.source.clone()>
            <div class="row-main">
                <div class="row-title">
                    <span class="strong">{format::user_label(&user)}</span>
                    <span class="muted small">{format!("#{}", user.id)}</span>
                </div>
                <span class="badges">
                    {if user.is_active { view! { <Tag kind="ok" text="active"/> }.into_any() } else { view! { <Tag kind="muted" text="inactive"/> }.into_any() }}
                    {user.is_admin.then(|| view! { <Tag kind="info" text="admin"/> })}
                    {user.is_auditor.then(|| view! { <Tag kind="info" text="auditor"/> })}
                    {(!user.has_password).then(|| view! { <Tag kind="muted" text="no password"/> })}
                    {source_badge(user.source.clone())}
                </span>
            </div>
            {(!org.is_empty()).then(|| view! { <p class="muted small">{org}</p> })}
            {user.email.clone().map(|e| view! { <p class="small">{e}</p> })}
            {source_facts(&user)}
            <div class="row-actions">
                <form class="inline-form" on:submit=save>
                    <label for=input_id.clone()>"Seniority"</label>
                    <input
                        id=input_id
                        class="input-narrow"
                        type="number"
                        step="1"
                        data-testid="user-seniority"
                        readonly=!session.admin_now()
                        aria-invalid=move || error.with(Option::is_some).to_string()
                        aria-describedby=move || error.with(Option::is_some).then(|| err_id.clone())
                        bind:value=seniority
                    />
                    {session.admin_now().then(|| view! {
                        <button type="submit" class="btn btn-secondary btn-small" data-testid="user-seniority-save" disabled=sen_busy>
                            "Save"
                        </button>
                    })}
                </form>
                {(session.admin_now() && !is_me).then(|| view! {
                    <button type="button" class="btn btn-small" class:btn-danger-outline=active class:btn-secondary=!active
                        data-testid="user-toggle-active" disabled=act_busy on:click=toggle>
                        {if active { "Deactivate" } else { "Activate" }}
                    </button>
                })}
            </div>
            {move || error.get().map(|m| view! { <p class="field-error" id=format!("seniority-err-{id}")>{m}</p> })}
        </li>
    }
}

/// Where a user comes from, as a badge that says it in words.
fn source_badge(source: String) -> impl IntoView {
    let (kind, text) = match source.as_str() {
        "local" => ("muted", "local"),
        "oidc" => ("info", "single sign-on"),
        "directory" => ("info", "directory"),
        "scim" => ("info", "SCIM"),
        _ => ("muted", "other source"),
    };
    view! {
        <span class=format!("badge badge-{kind}") data-testid="user-source" data-source=source.clone()>
            <span class="sr-only">"Source: "</span>
            {text}
        </span>
    }
}

/// The source's id for the person, the last directory sync, and, for users the directory
/// or SCIM keeps, that their directory fields are overwritten there (the API accepts edits,
/// but the next sync or SCIM update puts the source's values back).
fn source_facts(user: &User) -> impl IntoView {
    let managed = match user.source.as_str() {
        "directory" => Some(
            "Managed by the directory: names, email, department, division, job title, manager, \
             seniority and directory teams are overwritten at the next sync. Change them in \
             the directory instead.",
        ),
        "scim" => Some(
            "Managed by the identity provider over SCIM: the fields it sends are overwritten at \
             its next update. Change them there instead.",
        ),
        "oidc" => Some(
            "Signs in through single sign-on: the fields mapped from the provider are updated at \
             each sign-in.",
        ),
        _ => None,
    };
    let has_facts = user.external_id.is_some() || user.last_ad_sync_utc.is_some();
    view! {
        {has_facts.then(|| view! {
            <dl class="facts facts-inline small">
                {user.external_id.clone().map(|x| view! {
                    <dt>"External id"</dt>
                    <dd><code class="wrap" data-testid="user-external-id">{x}</code></dd>
                })}
                {user.last_ad_sync_utc.map(|t| view! {
                    <dt>"Last directory sync"</dt>
                    <dd>
                        <time datetime=format::iso(&t) data-testid="user-last-sync">{format::time(&t)}</time>
                    </dd>
                })}
            </dl>
        })}
        {managed.map(|m| view! { <p class="note small" data-testid="user-managed-note">{m}</p> })}
    }
}

#[component]
fn UserForm(done: RwSignal<bool>) -> impl IntoView {
    let live = expect_context::<Live>();
    let toasts = use_toasts();
    let login = RwSignal::new(String::new());
    let display = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let department = RwSignal::new(String::new());
    let division = RwSignal::new(String::new());
    let title = RwSignal::new(String::new());
    let seniority = RwSignal::new(String::new());
    let manager = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let is_admin = RwSignal::new(false);
    let is_auditor = RwSignal::new(false);
    let errors = FormErrors::new();
    let busy = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let login_name = login.get_untracked().trim().to_string();
        if login_name.is_empty() {
            errors.set_field("login_name", "Enter a login name.");
        }
        let level = format::opt_int(&seniority.get_untracked()).unwrap_or_else(|m| {
            errors.set_field("seniority_level", m);
            None
        });
        let pw = password.get_untracked();
        if !pw.is_empty() && pw.chars().count() < 12 {
            errors.set_field(
                "password",
                "Use at least 12 characters (or leave empty for no built-in sign-in).",
            );
        }
        if errors.has_fields() {
            return;
        }
        let body = UserCreate {
            login_name,
            display_name: format::opt_text(&display.get_untracked()),
            email: format::opt_text(&email.get_untracked()),
            department: format::opt_text(&department.get_untracked()),
            division: format::opt_text(&division.get_untracked()),
            job_title: format::opt_text(&title.get_untracked()),
            seniority_level: level,
            manager_login_name: format::opt_text(&manager.get_untracked()),
            is_admin: Some(is_admin.get_untracked()),
            is_auditor: Some(is_auditor.get_untracked()),
            password: (!pw.is_empty()).then_some(pw),
            ..Default::default()
        };
        run_busy(busy, async move {
            match api::create_user(&body).await {
                Ok(u) => {
                    password.set(String::new());
                    toasts.success(format!("User {} created.", u.login_name));
                    done.set(false);
                    live.bump();
                }
                Err(e) => {
                    password.set(String::new());
                    errors.show_api(&e);
                    toasts.error(format!("User not created: {e}"));
                }
            }
        });
    };

    let text_field = move |id: &'static str,
                           label: &'static str,
                           field: &'static str,
                           sig: RwSignal<String>| {
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <input id=id type="text" bind:value=sig aria-invalid=errors.invalid(field) aria-describedby=errors.describedby(field)/>
                <FieldError errors=errors field=field/>
            </div>
        }
    };

    view! {
        <form class="card form" data-testid="user-form" on:submit=submit novalidate>
            <h2 class="subhead">"New user"</h2>
            <FormError errors=errors/>
            <div class="form-grid">
                {text_field("user-login", "Login name", "login_name", login)}
                {text_field("user-display", "Display name", "display_name", display)}
                {text_field("user-email", "Email", "email", email)}
                {text_field("user-department", "Department", "department", department)}
                {text_field("user-division", "Division", "division", division)}
                {text_field("user-title", "Job title", "job_title", title)}
                {text_field("user-manager", "Manager's login", "manager_login_name", manager)}
                <div class="field">
                    <label for="user-seniority-new">"Seniority " <span class="req">"(1 = most junior)"</span></label>
                    <input id="user-seniority-new" type="number" step="1" bind:value=seniority
                        aria-invalid=errors.invalid("seniority_level") aria-describedby=errors.describedby("seniority_level")/>
                    <FieldError errors=errors field="seniority_level"/>
                </div>
                <div class="field">
                    <label for="user-password">"Password " <span class="req">"(optional, 12+ characters)"</span></label>
                    <input id="user-password" type="password" autocomplete="new-password" bind:value=password
                        aria-invalid=errors.invalid("password") aria-describedby=errors.describedby("password")/>
                    <FieldError errors=errors field="password"/>
                </div>
                <div class="field check">
                    <input id="user-is-admin" type="checkbox" bind:checked=is_admin/>
                    <label for="user-is-admin">"Administrator"</label>
                </div>
                <div class="field check">
                    <input id="user-is-auditor" type="checkbox" bind:checked=is_auditor/>
                    <label for="user-is-auditor">"Auditor (read-only)"</label>
                </div>
            </div>
            <button type="submit" class="btn btn-primary" data-testid="user-submit" disabled=busy>"Create user"</button>
        </form>
    }
}
