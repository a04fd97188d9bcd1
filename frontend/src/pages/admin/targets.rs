//! Targets (the database servers JITEA changes) and their db roles, with a "Test
//! connection" check that also reports which mapped db roles exist on the target.

use jitea_shared::*;
use leptos::prelude::*;

use super::AdminFrame;
use crate::api;
use crate::components::badge::Tag;
use crate::components::field::{FieldError, FormError, FormErrors};
use crate::components::states::{live_resource, run_busy, Empty, ErrorState, Loading, Res};
use crate::components::toast::use_toasts;
use crate::events::Live;
use crate::format;
use crate::session::Session;

#[component]
pub fn TargetsPage() -> impl IntoView {
    crate::components::set_title("Targets");
    let session = expect_context::<Session>();
    let targets = live_resource(api::list_targets);
    let db_roles = live_resource(api::list_db_roles);

    view! {
        <AdminFrame title="Targets and db roles" intro="Where access is granted. Connection URLs stay in environment variables; only their names are stored.">
            <section data-testid="admin-targets" aria-label="Targets">
                {move || match (targets.get(), db_roles.get()) {
                    (None, _) | (_, None) => view! { <Loading/> }.into_any(),
                    (Some(Err(e)), _) | (_, Some(Err(e))) => view! { <ErrorState error=e/> }.into_any(),
                    (Some(Ok(t)), _) if t.items.is_empty() => view! { <Empty title="No targets yet"/> }.into_any(),
                    (Some(Ok(t)), Some(Ok(d))) => view! {
                        <div class="stack">
                            {t.items.into_iter().map(|target| {
                                let mine: Vec<DbRole> = d.items.iter().filter(|r| r.target_id == target.id).cloned().collect();
                                view! { <TargetCard target=target db_roles=mine/> }
                            }).collect_view()}
                        </div>
                    }
                    .into_any(),
                }}
            </section>
            {session.admin_now().then(|| view! {
                <div class="detail-grid">
                    <TargetForm/>
                    <DbRoleForm targets=targets/>
                </div>
            })}
        </AdminFrame>
    }
}

#[component]
fn TargetCard(target: Target, db_roles: Vec<DbRole>) -> impl IntoView {
    let session = expect_context::<Session>();
    let live = expect_context::<Live>();
    let toasts = use_toasts();
    let id = target.id;
    let enabled = target.is_enabled;
    let test_busy = RwSignal::new(false);
    let toggle_busy = RwSignal::new(false);
    let result = RwSignal::new(None::<TargetTest>);
    let test = move |_| {
        run_busy(test_busy, async move {
            match api::test_target(id).await {
                Ok(t) => {
                    if t.reachable {
                        toasts.success("Connection works.");
                    } else {
                        toasts.error("The target could not be reached.");
                    }
                    result.set(Some(t));
                }
                Err(e) => toasts.error(format!("Test failed: {e}")),
            }
        })
    };
    let toggle = move |_| {
        run_busy(toggle_busy, async move {
            match api::update_target(id, &api::object(vec![("is_enabled", (!enabled).into())]))
                .await
            {
                Ok(t) => {
                    toasts.success(format!(
                        "Target {} {}.",
                        t.name,
                        if t.is_enabled { "enabled" } else { "disabled" }
                    ));
                    live.bump();
                }
                Err(e) => toasts.error(format!("Target not changed: {e}")),
            }
        })
    };
    view! {
        <article class="card" data-testid="target-card" data-target-id=target.id>
            <header class="card-head">
                <h2 class="card-title">{target.name.clone()}</h2>
                <span class="badges">
                    <Tag kind="info" text=target.kind.as_str()/>
                    {if enabled { view! { <Tag kind="ok" text="enabled"/> }.into_any() } else { view! { <Tag kind="muted" text="disabled"/> }.into_any() }}
                </span>
            </header>
            {target.description.clone().map(|d| view! { <p class="small">{d}</p> })}
            <dl class="facts facts-inline">
                <dt>"URL from"</dt>
                <dd>{match target.connection_url_env.clone() {
                    Some(v) => view! { <code>{v}</code> }.into_any(),
                    None => view! { <span class="muted">"not set"</span> }.into_any(),
                }}</dd>
                <dt>"Drift"</dt>
                <dd>{target.drift_policy.clone()}</dd>
                <dt>"People by"</dt>
                <dd>{target.principal_from.as_str()}</dd>
                {target.settings.clone().map(|s| view! {
                    <dt>"Instance"</dt>
                    <dd><code>{s.instance_arn.unwrap_or_default()}</code>" ("{s.region.unwrap_or_default()}")"</dd>
                })}
            </dl>
            <div class="row-actions">
                {session.admin_now().then(|| view! {
                    <button type="button" class="btn btn-secondary btn-small" data-testid="target-test" disabled=test_busy on:click=test>
                        {move || if test_busy.get() { "Testing…" } else { "Test connection" }}
                    </button>
                    <button type="button" class="btn btn-secondary btn-small" disabled=toggle_busy on:click=toggle>
                        {if enabled { "Disable" } else { "Enable" }}
                    </button>
                })}
            </div>
            <div aria-live="polite">
                {move || result.get().map(|t| view! {
                    <div class=if t.reachable { "result result-ok" } else { "result result-no" } data-testid="target-test-result" data-reachable=t.reachable.to_string()>
                        <p class="strong">{if t.reachable { "✓ Reachable" } else { "✗ Not reachable" }}</p>
                        {t.error.clone().map(|e| view! { <p class="small">{e}</p> })}
                        {(!t.db_roles.is_empty()).then(|| view! {
                            <ul class="list">
                                {t.db_roles.iter().map(|r| view! {
                                    <li class="list-row">
                                        <code>{r.db_role_name.clone()}</code>
                                        {match r.exists {
                                            Some(true) => view! { <Tag kind="ok" text="exists"/> }.into_any(),
                                            Some(false) => view! { <Tag kind="danger" text="missing"/> }.into_any(),
                                            None => view! { <Tag kind="muted" text="unknown"/> }.into_any(),
                                        }}
                                        {r.error.clone().map(|e| view! { <span class="small danger-text">{e}</span> })}
                                        {r.note.clone().map(|n| view! { <span class="small" data-testid="target-test-note">{n}</span> })}
                                    </li>
                                }).collect_view()}
                            </ul>
                        })}
                    </div>
                })}
            </div>
            <h3 class="subhead">"DB roles"</h3>
            {if db_roles.is_empty() {
                view! { <p class="muted small">"No db roles registered on this target."</p> }.into_any()
            } else {
                view! {
                    <ul class="list" data-testid="target-db-roles">
                        {db_roles.into_iter().map(|r| view! { <DbRoleRow r=r/> }).collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </article>
    }
}

#[component]
fn DbRoleRow(r: DbRole) -> impl IntoView {
    let session = expect_context::<Session>();
    let live = expect_context::<Live>();
    let toasts = use_toasts();
    let busy = RwSignal::new(false);
    let (id, managed) = (r.id, r.is_jit_managed);
    let toggle = move |_| {
        run_busy(busy, async move {
            match api::update_db_role(
                id,
                &api::object(vec![("is_jit_managed", (!managed).into())]),
            )
            .await
            {
                Ok(d) => {
                    toasts.success(format!(
                        "{} is {} JIT-managed.",
                        d.db_role_name,
                        if d.is_jit_managed { "now" } else { "no longer" }
                    ));
                    live.bump();
                }
                Err(e) => toasts.error(format!("Not changed: {e}")),
            }
        })
    };
    view! {
        <li class="list-row" data-db-role-id=r.id>
            <code>{r.db_role_name.clone()}</code>
            {r.role_type.clone().map(|t| view! { <span class="muted small">{t}</span> })}
            {if managed { view! { <Tag kind="ok" text="JIT-managed"/> }.into_any() } else { view! { <Tag kind="muted" text="not managed"/> }.into_any() }}
            {r.has_unmask.then(|| view! { <Tag kind="warn" text="UNMASK"/> })}
            {session.admin_now().then(|| view! {
                <button type="button" class="btn btn-secondary btn-small push-right" disabled=busy on:click=toggle
                    aria-label=format!("{} {}", if managed { "Unmanage" } else { "Manage" }, r.db_role_name)>
                    {if managed { "Unmanage" } else { "Manage" }}
                </button>
            })}
        </li>
    }
}

#[component]
fn TargetForm() -> impl IntoView {
    let live = expect_context::<Live>();
    let toasts = use_toasts();
    let name = RwSignal::new(String::new());
    let kind = RwSignal::new("postgres".to_string());
    let description = RwSignal::new(String::new());
    let env = RwSignal::new(String::new());
    let drift = RwSignal::new("report".to_string());
    let principal = RwSignal::new("login".to_string());
    // aws_sso settings
    let region = RwSignal::new(String::new());
    let instance = RwSignal::new(String::new());
    let store = RwSignal::new(String::new());
    let is_aws = move || kind.get() == TargetKind::AwsSso.as_str();
    let errors = FormErrors::new();
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let n = name.get_untracked().trim().to_string();
        if n.is_empty() {
            errors.set_field("name", "Give the target a name.");
            return;
        }
        let body = TargetCreate {
            name: n,
            kind: kind.get_untracked().parse().unwrap_or(TargetKind::Postgres),
            description: format::opt_text(&description.get_untracked()),
            connection_url_env: format::opt_text(&env.get_untracked()),
            drift_policy: Some(drift.get_untracked()),
            settings: (kind.get_untracked() == TargetKind::AwsSso.as_str()).then(|| {
                TargetSettings {
                    region: format::opt_text(&region.get_untracked()),
                    instance_arn: format::opt_text(&instance.get_untracked()),
                    identity_store_id: format::opt_text(&store.get_untracked()),
                }
            }),
            principal_from: principal.get_untracked().parse().ok(),
        };
        run_busy(busy, async move {
            match api::create_target(&body).await {
                Ok(t) => {
                    toasts.success(format!("Target {} created.", t.name));
                    for s in [name, description, env, region, instance, store] {
                        s.set(String::new());
                    }
                    live.bump();
                }
                Err(e) => {
                    errors.show_api(&e);
                    toasts.error(format!("Target not created: {e}"));
                }
            }
        });
    };
    view! {
        <form class="card form" data-testid="target-form" on:submit=submit novalidate>
            <h2 class="subhead">"New target"</h2>
            <FormError errors=errors/>
            <div class="field">
                <label for="target-name">"Name"</label>
                <input id="target-name" type="text" bind:value=name aria-invalid=errors.invalid("name") aria-describedby=errors.describedby("name")/>
                <FieldError errors=errors field="name"/>
            </div>
            <div class="field">
                <label for="target-kind">"Kind"</label>
                <select id="target-kind" on:change=move |ev| kind.set(event_target_value(&ev))>
                    {TargetKind::ALL.iter().map(|k| view! { <option value=k.as_str() selected=*k == TargetKind::Postgres>{k.as_str()}</option> }).collect_view()}
                </select>
            </div>
            {move || if is_aws() { view! {
                <div class="field">
                    <label for="target-region">"AWS region"</label>
                    <input id="target-region" type="text" spellcheck="false" placeholder="eu-west-1" bind:value=region
                        aria-invalid=errors.invalid("settings.region") aria-describedby=errors.describedby("settings.region")/>
                    <FieldError errors=errors field="settings.region"/>
                </div>
                <div class="field">
                    <label for="target-instance">"IAM Identity Center instance ARN"</label>
                    <input id="target-instance" type="text" spellcheck="false" placeholder="arn:aws:sso:::instance/ssoins-…" bind:value=instance
                        aria-invalid=errors.invalid("settings.instance_arn") aria-describedby=errors.describedby("settings.instance_arn")/>
                    <FieldError errors=errors field="settings.instance_arn"/>
                </div>
                <div class="field">
                    <label for="target-store">"Identity store ID"</label>
                    <input id="target-store" type="text" spellcheck="false" placeholder="d-1234567890" bind:value=store
                        aria-invalid=errors.invalid("settings.identity_store_id") aria-describedby=errors.describedby("settings.identity_store_id")/>
                    <FieldError errors=errors field="settings.identity_store_id"/>
                </div>
                <p class="small muted">"Credentials come from the server's AWS environment (AWS_ACCESS_KEY_ID… or a profile), never from this form."</p>
            }.into_any() } else { view! {
                <div class="field">
                    <label for="target-env">"Connection URL variable " <span class="req">"(name of an environment variable)"</span></label>
                    <input id="target-env" type="text" spellcheck="false" placeholder="JITEA_TARGET_MAIN_URL" bind:value=env
                        aria-invalid=errors.invalid("connection_url_env") aria-describedby=errors.describedby("connection_url_env")/>
                    <FieldError errors=errors field="connection_url_env"/>
                </div>
            }.into_any() }}
            <div class="field">
                <label for="target-principal">"People are named on the target by their"</label>
                <select id="target-principal" on:change=move |ev| principal.set(event_target_value(&ev))>
                    <option value="login" selected=true>"login name"</option>
                    <option value="email">"email address"</option>
                    <option value="external_id">"id mapped per person (PUT /targets/{id}/principals)"</option>
                </select>
            </div>
            <div class="field">
                <label for="target-drift">"When drift is found"</label>
                <select id="target-drift" on:change=move |ev| drift.set(event_target_value(&ev))>
                    <option value="report" selected=true>"report only"</option>
                    <option value="repair">"repair"</option>
                </select>
            </div>
            <div class="field">
                <label for="target-description">"Description " <span class="req">"(optional)"</span></label>
                <input id="target-description" type="text" bind:value=description/>
            </div>
            <button type="submit" class="btn btn-primary" data-testid="target-submit" disabled=busy>"Create target"</button>
        </form>
    }
}

#[component]
fn DbRoleForm(targets: Res<Page<Target>>) -> impl IntoView {
    let live = expect_context::<Live>();
    let toasts = use_toasts();
    let target = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    // aws_sso: a permission set on an account instead of a name
    let account = RwSignal::new(String::new());
    let permission_set = RwSignal::new(String::new());
    let is_aws = move || {
        let id = target.get().parse::<i64>().ok();
        targets.get().and_then(|r| r.ok()).is_some_and(|p| {
            p.items
                .iter()
                .any(|t| Some(t.id) == id && t.kind == TargetKind::AwsSso)
        })
    };
    let role_type = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let managed = RwSignal::new(true);
    let unmask = RwSignal::new(false);
    let errors = FormErrors::new();
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let target_id = target.get_untracked().parse::<i64>().ok();
        if target_id.is_none() {
            errors.set_field("target_id", "Choose a target.");
        }
        let aws = target_id.is_some_and(|id| {
            targets
                .get_untracked()
                .and_then(|r| r.ok())
                .is_some_and(|p| {
                    p.items
                        .iter()
                        .any(|t| t.id == id && t.kind == TargetKind::AwsSso)
                })
        });
        let n = name.get_untracked().trim().to_string();
        if n.is_empty() && !aws {
            errors.set_field("db_role_name", "Enter the role's exact name on the target.");
        }
        let Some(target_id) = target_id else { return };
        if errors.has_fields() {
            return;
        }
        let body = DbRoleCreate {
            target_id,
            db_role_name: if aws { String::new() } else { n },
            r#ref: aws.then(|| EntitlementRef {
                account_id: format::opt_text(&account.get_untracked()),
                permission_set_arn: format::opt_text(&permission_set.get_untracked()),
            }),
            role_type: format::opt_text(&role_type.get_untracked()),
            description: format::opt_text(&description.get_untracked()),
            is_jit_managed: Some(managed.get_untracked()),
            has_unmask: Some(unmask.get_untracked()),
        };
        run_busy(busy, async move {
            match api::create_db_role(&body).await {
                Ok(d) => {
                    toasts.success(format!("DB role {} registered.", d.db_role_name));
                    for s in [name, role_type, description, account, permission_set] {
                        s.set(String::new());
                    }
                    live.bump();
                }
                Err(e) => {
                    errors.show_api(&e);
                    toasts.error(format!("DB role not registered: {e}"));
                }
            }
        });
    };
    view! {
        <form class="card form" data-testid="db-role-form" on:submit=submit novalidate>
            <h2 class="subhead">"New db role"</h2>
            <FormError errors=errors/>
            <div class="field">
                <label for="dbrole-target">"Target"</label>
                <select id="dbrole-target" on:change=move |ev| target.set(event_target_value(&ev))
                    aria-invalid=errors.invalid("target_id") aria-describedby=errors.describedby("target_id")>
                    <option value="">"Choose a target…"</option>
                    {move || targets.get().and_then(|r| r.ok()).map(|p| p.items.into_iter().map(|t| view! { <option value=t.id.to_string()>{t.name}</option> }).collect_view())}
                </select>
                <FieldError errors=errors field="target_id"/>
            </div>
            {move || if is_aws() { view! {
                <div class="field">
                    <label for="dbrole-account">"AWS account ID"</label>
                    <input id="dbrole-account" type="text" inputmode="numeric" spellcheck="false" placeholder="123456789012" bind:value=account
                        aria-invalid=errors.invalid("ref.account_id") aria-describedby=errors.describedby("ref.account_id")/>
                    <FieldError errors=errors field="ref.account_id"/>
                </div>
                <div class="field">
                    <label for="dbrole-ps">"Permission set ARN"</label>
                    <input id="dbrole-ps" type="text" spellcheck="false" placeholder="arn:aws:sso:::permissionSet/ssoins-…/ps-…" bind:value=permission_set
                        aria-invalid=errors.invalid("ref.permission_set_arn") aria-describedby=errors.describedby("ref.permission_set_arn")/>
                    <FieldError errors=errors field="ref.permission_set_arn"/>
                </div>
            }.into_any() } else { view! {
                <div class="field">
                    <label for="dbrole-name">"Name on the target"</label>
                    <input id="dbrole-name" type="text" spellcheck="false" bind:value=name
                        aria-invalid=errors.invalid("db_role_name") aria-describedby=errors.describedby("db_role_name")/>
                    <FieldError errors=errors field="db_role_name"/>
                </div>
            }.into_any() }}
            <div class="field">
                <label for="dbrole-type">"Type " <span class="req">"(e.g. data_reader, optional)"</span></label>
                <input id="dbrole-type" type="text" bind:value=role_type/>
            </div>
            <div class="field">
                <label for="dbrole-description">"Description " <span class="req">"(optional)"</span></label>
                <input id="dbrole-description" type="text" bind:value=description/>
            </div>
            <div class="field check">
                <input id="dbrole-managed" type="checkbox" bind:checked=managed/>
                <label for="dbrole-managed">"JIT-managed (JITEA may grant and revoke it)"</label>
            </div>
            <div class="field check">
                <input id="dbrole-unmask" type="checkbox" bind:checked=unmask/>
                <label for="dbrole-unmask">"Has UNMASK"</label>
            </div>
            <button type="submit" class="btn btn-primary" data-testid="db-role-submit" disabled=busy>"Register db role"</button>
        </form>
    }
}
