//! Who may request what: scope rules (user, team, department, division, all), per-user
//! overrides that beat every rule, and an "explain" tool that asks the API why a given user
//! may or may not request a given role.

use jitea_shared::*;
use leptos::prelude::*;

use super::{role_name, user_name, AdminFrame};
use crate::api;
use crate::components::badge::Tag;
use crate::components::field::{FieldError, FormError, FormErrors};
use crate::components::states::{live_resource, run_busy, Empty, ErrorState, Loading, Res};
use crate::components::toast::use_toasts;
use crate::events::Live;
use crate::format;
use crate::session::Session;

/// Options for a role `<select>`.
fn role_options(roles: Res<Page<Role>>) -> impl IntoView {
    move || {
        roles.get().and_then(|r| r.ok()).map(|p| {
            p.items
                .into_iter()
                .map(|r| view! { <option value=r.id.to_string()>{r.role_name}</option> })
                .collect_view()
        })
    }
}

/// Options for a user `<select>`.
fn user_options(users: Res<Page<User>>) -> impl IntoView {
    move || {
        users.get().and_then(|r| r.ok()).map(|p| {
            p.items
                .into_iter()
                .map(|u| view! { <option value=u.id.to_string()>{format::user_label(&u)}</option> })
                .collect_view()
        })
    }
}

#[component]
pub fn EligibilityPage() -> impl IntoView {
    crate::components::set_title("Eligibility");
    let roles = live_resource(api::list_roles);
    let users = live_resource(|| api::list_users("", None));
    let teams = live_resource(api::list_teams);

    view! {
        <AdminFrame
            title="Eligibility"
            intro="Rules decide who may request a role; the most specific matching scope wins (user, team, department, division, all), then priority. Per-user overrides beat every rule."
        >
            <div data-testid="admin-eligibility">
                <Explain roles=roles users=users/>
                <Rules roles=roles users=users teams=teams/>
                <Overrides roles=roles users=users/>
            </div>
        </AdminFrame>
    }
}

/// "Why can (or can't) user X request role Y?"
#[component]
fn Explain(roles: Res<Page<Role>>, users: Res<Page<User>>) -> impl IntoView {
    let user = RwSignal::new(String::new());
    let role = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let result = RwSignal::new(None::<api::ApiResult<EligibilityCheck>>);
    let errors = FormErrors::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let u = user.get_untracked().parse::<i64>().ok();
        let r = role.get_untracked().parse::<i64>().ok();
        if u.is_none() {
            errors.set_field("user_id", "Choose a user.");
        }
        if r.is_none() {
            errors.set_field("role_id", "Choose a role.");
        }
        let (Some(u), Some(r)) = (u, r) else { return };
        run_busy(busy, async move {
            result.set(Some(api::check_eligibility(u, r).await));
        });
    };
    view! {
        <section class="card" aria-labelledby="explain-h">
            <h2 id="explain-h" class="subhead">"Explain eligibility"</h2>
            <form class="form" data-testid="explain-form" on:submit=submit novalidate>
                <div class="form-grid">
                    <div class="field">
                        <label for="explain-user">"User"</label>
                        <select id="explain-user" data-testid="explain-user" on:change=move |ev| user.set(event_target_value(&ev))
                            aria-invalid=errors.invalid("user_id") aria-describedby=errors.describedby("user_id")>
                            <option value="">"Choose a user…"</option>
                            {user_options(users)}
                        </select>
                        <FieldError errors=errors field="user_id"/>
                    </div>
                    <div class="field">
                        <label for="explain-role">"Role"</label>
                        <select id="explain-role" data-testid="explain-role" on:change=move |ev| role.set(event_target_value(&ev))
                            aria-invalid=errors.invalid("role_id") aria-describedby=errors.describedby("role_id")>
                            <option value="">"Choose a role…"</option>
                            {role_options(roles)}
                        </select>
                        <FieldError errors=errors field="role_id"/>
                    </div>
                </div>
                <button type="submit" class="btn btn-primary" data-testid="explain-submit" disabled=busy>
                    {move || if busy.get() { "Checking…" } else { "Explain" }}
                </button>
            </form>
            <div aria-live="polite">
                {move || result.get().map(|r| match r {
                    Ok(c) => {
                        let auto = c.auto_approval_reason.map(|a| format!("A request would be auto-approved · {}.", format::auto_reason(a)));
                        let kind = c.reason.get("kind").and_then(|k| k.as_str()).unwrap_or("").replace('_', " ");
                        view! {
                            <div class=if c.eligible { "result result-ok" } else { "result result-no" } data-testid="explain-result" data-eligible=c.eligible.to_string()>
                                <p class="strong">{if c.eligible { "✓ Eligible" } else { "✗ Not eligible" }}</p>
                                <p>{c.explanation}</p>
                                {auto.map(|a| view! { <p class="small">{a}</p> })}
                                {(c.eligible && c.auto_approval_reason.is_none()).then(|| view! { <p class="small">"A request would wait for an approver."</p> })}
                                {(!kind.is_empty()).then(|| view! { <p class="muted small">"Decided by: " {kind}</p> })}
                            </div>
                        }
                        .into_any()
                    }
                    Err(e) => view! {
                        <div class="result result-no" data-testid="explain-result" role="alert">{e.message}</div>
                    }
                    .into_any(),
                })}
            </div>
        </section>
    }
}

#[component]
fn Rules(roles: Res<Page<Role>>, users: Res<Page<User>>, teams: Res<Page<Team>>) -> impl IntoView {
    let session = expect_context::<Session>();
    let filter = RwSignal::new(String::new());
    let rules = live_resource(move || {
        let role = filter.with(|f| f.parse::<i64>().ok());
        api::list_rules(role)
    });

    let scope_label = move |r: &EligibilityRule| -> String {
        let v = r.scope_value.clone().unwrap_or_default();
        match r.scope_type {
            ScopeType::All => "everyone".into(),
            ScopeType::User => {
                let list = users
                    .get()
                    .and_then(|r| r.ok())
                    .map(|p| p.items)
                    .unwrap_or_default();
                v.parse().map(|id| user_name(&list, id)).unwrap_or(v)
            }
            ScopeType::Team => {
                let list = teams
                    .get()
                    .and_then(|r| r.ok())
                    .map(|p| p.items)
                    .unwrap_or_default();
                v.parse::<i64>()
                    .ok()
                    .and_then(|id| list.into_iter().find(|t| t.id == id).map(|t| t.team_name))
                    .unwrap_or(v)
            }
            _ => v,
        }
    };

    view! {
        <section class="card" aria-labelledby="rules-h">
            <header class="card-head">
                <h2 id="rules-h" class="subhead">"Rules"</h2>
                <div class="field inline">
                    <label for="rules-filter">"Role"</label>
                    <select id="rules-filter" on:change=move |ev| filter.set(event_target_value(&ev))>
                        <option value="">"All roles"</option>
                        {role_options(roles)}
                    </select>
                </div>
            </header>
            {session.admin_now().then(|| view! {
                <RuleForm roles=roles users=users teams=teams/>
            })}
            {move || match rules.get() {
                None => view! { <Loading/> }.into_any(),
                Some(Err(e)) => view! { <ErrorState error=e/> }.into_any(),
                Some(Ok(p)) if p.items.is_empty() => view! {
                    <Empty title="No rules"><p>"Without a matching rule nobody may request a role."</p></Empty>
                }
                .into_any(),
                Some(Ok(p)) => {
                    let role_list = roles.get().and_then(|r| r.ok()).map(|p| p.items).unwrap_or_default();
                    view! {
                        <div class="table-wrap">
                            <table class="table" data-testid="rules-table">
                                <thead>
                                    <tr>
                                        <th scope="col">"Role"</th>
                                        <th scope="col">"Scope"</th>
                                        <th scope="col">"Effect"</th>
                                        <th scope="col">"Priority"</th>
                                        <th scope="col">"Valid"</th>
                                        <th scope="col"><span class="sr-only">"Actions"</span></th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {p.items.into_iter().map(|r| {
                                        let scope = scope_label(&r);
                                        view! { <RuleRow rule=r role_list=role_list.clone() scope=scope/> }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }
                    .into_any()
                }
            }}
        </section>
    }
}

#[component]
fn RuleRow(rule: EligibilityRule, role_list: Vec<Role>, scope: String) -> impl IntoView {
    let session = expect_context::<Session>();
    let live = expect_context::<Live>();
    let toasts = use_toasts();
    let busy = RwSignal::new(false);
    let id = rule.id;
    let remove = move |_| {
        run_busy(busy, async move {
            match api::delete_rule(id).await {
                Ok(()) => {
                    toasts.success("Rule deleted.");
                    live.bump();
                }
                Err(e) => toasts.error(format!("Rule not deleted: {e}")),
            }
        })
    };
    view! {
        <tr data-testid="rule-row" data-rule-id=rule.id>
            <td>{role_name(&role_list, rule.role_id)}</td>
            <td><span class="muted small">{rule.scope_type.as_str()} ": "</span>{scope}</td>
            <td>{if rule.can_request { view! { <Tag kind="ok" text="allow"/> }.into_any() } else { view! { <Tag kind="danger" text="deny"/> }.into_any() }}</td>
            <td>{rule.priority}</td>
            <td class="small">{format::window(&rule.valid_from_utc, &rule.valid_to_utc)}</td>
            <td>
                {session.admin_now().then(|| view! {
                    <button type="button" class="btn btn-danger-outline btn-small" aria-label=format!("Delete rule #{id}")
                        disabled=busy on:click=remove>
                        "Delete"
                    </button>
                })}
            </td>
        </tr>
    }
}

#[component]
fn RuleForm(
    roles: Res<Page<Role>>,
    users: Res<Page<User>>,
    teams: Res<Page<Team>>,
) -> impl IntoView {
    let live = expect_context::<Live>();
    let toasts = use_toasts();
    let role = RwSignal::new(String::new());
    let scope_type = RwSignal::new("all".to_string());
    let scope_value = RwSignal::new(String::new());
    let effect = RwSignal::new("allow".to_string());
    let priority = RwSignal::new(String::new());
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let busy = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let role_id = role.get_untracked().parse::<i64>().ok();
        if role_id.is_none() {
            errors.set_field("role_id", "Choose a role.");
        }
        let st = scope_type
            .get_untracked()
            .parse::<ScopeType>()
            .unwrap_or(ScopeType::All);
        let sv = format::opt_text(&scope_value.get_untracked());
        if st != ScopeType::All && sv.is_none() {
            errors.set_field(
                "scope_value",
                match st {
                    ScopeType::User => "Enter the user's id.",
                    ScopeType::Team => "Enter the team's id.",
                    ScopeType::Department => "Enter the department name.",
                    _ => "Enter the division name.",
                },
            );
        }
        let prio = format::opt_int(&priority.get_untracked()).unwrap_or_else(|m| {
            errors.set_field("priority", m);
            None
        });
        let vf = format::parse_local(&from.get_untracked()).unwrap_or_else(|m| {
            errors.set_field("valid_from_utc", m);
            None
        });
        let vt = format::parse_local(&to.get_untracked()).unwrap_or_else(|m| {
            errors.set_field("valid_to_utc", m);
            None
        });
        if let (Some(f), Some(t)) = (vf, vt) {
            if t <= f {
                errors.set_field("valid_to_utc", "The end must be after the start.");
            }
        }
        let Some(role_id) = role_id else { return };
        if errors.has_fields() {
            return;
        }
        let body = EligibilityRuleCreate {
            role_id,
            scope_type: st,
            scope_value: if st == ScopeType::All { None } else { sv },
            can_request: Some(effect.get_untracked() == "allow"),
            valid_from_utc: vf,
            valid_to_utc: vt,
            priority: prio,
        };
        run_busy(busy, async move {
            match api::create_rule(&body).await {
                Ok(_) => {
                    toasts.success("Rule added.");
                    scope_value.set(String::new());
                    live.bump();
                }
                Err(e) => {
                    errors.show_api(&e);
                    toasts.error(format!("Rule not added: {e}"));
                }
            }
        });
    };

    view! {
        <form class="form compact bordered" data-testid="rule-form" on:submit=submit novalidate>
            <h3 class="subhead">"New rule"</h3>
            <FormError errors=errors/>
            <div class="form-grid">
                <div class="field">
                    <label for="rule-role">"Role"</label>
                    <select id="rule-role" data-testid="rule-role" on:change=move |ev| role.set(event_target_value(&ev))
                        aria-invalid=errors.invalid("role_id") aria-describedby=errors.describedby("role_id")>
                        <option value="">"Choose a role…"</option>
                        {role_options(roles)}
                    </select>
                    <FieldError errors=errors field="role_id"/>
                </div>
                <div class="field">
                    <label for="rule-scope-type">"Scope"</label>
                    <select id="rule-scope-type" data-testid="rule-scope-type" on:change=move |ev| scope_type.set(event_target_value(&ev))>
                        {ScopeType::ALL.iter().map(|s| view! { <option value=s.as_str() selected=*s == ScopeType::All>{s.as_str()}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="rule-scope-value">
                        {move || match scope_type.get().as_str() {
                            "user" => "User id",
                            "team" => "Team id",
                            "department" => "Department",
                            "division" => "Division",
                            _ => "Scope value (not used for all)",
                        }}
                    </label>
                    <input id="rule-scope-value" type="text" data-testid="rule-scope-value" bind:value=scope_value list="scope-values"
                        disabled=move || scope_type.with(|s| s == "all")
                        aria-invalid=errors.invalid("scope_value") aria-describedby=errors.describedby("scope_value")/>
                    <FieldError errors=errors field="scope_value"/>
                    // Suggestions: ids with names for user and team scopes.
                    <datalist id="scope-values">
                        {move || match scope_type.get().as_str() {
                            "user" => users.get().and_then(|r| r.ok()).map(|p| p.items.into_iter().map(|u| {
                                view! { <option value=u.id.to_string()>{format::user_label(&u)}</option> }
                            }).collect_view().into_any()),
                            "team" => teams.get().and_then(|r| r.ok()).map(|p| p.items.into_iter().map(|t| {
                                view! { <option value=t.id.to_string()>{t.team_name}</option> }
                            }).collect_view().into_any()),
                            _ => None,
                        }}
                    </datalist>
                </div>
                <div class="field">
                    <label for="rule-effect">"Effect"</label>
                    <select id="rule-effect" data-testid="rule-effect" on:change=move |ev| effect.set(event_target_value(&ev))>
                        <option value="allow" selected=true>"allow (may request)"</option>
                        <option value="deny">"deny (explicitly not)"</option>
                    </select>
                </div>
                <div class="field">
                    <label for="rule-priority">"Priority " <span class="req">"(optional)"</span></label>
                    <input id="rule-priority" type="number" step="1" data-testid="rule-priority" bind:value=priority/>
                    <FieldError errors=errors field="priority"/>
                </div>
                <div class="field">
                    <label for="rule-from">"Valid from " <span class="req">"(optional, local time)"</span></label>
                    <input id="rule-from" type="datetime-local" bind:value=from/>
                    <FieldError errors=errors field="valid_from_utc"/>
                </div>
                <div class="field">
                    <label for="rule-to">"Valid until " <span class="req">"(optional, local time)"</span></label>
                    <input id="rule-to" type="datetime-local" bind:value=to/>
                    <FieldError errors=errors field="valid_to_utc"/>
                </div>
            </div>
            <button type="submit" class="btn btn-primary" data-testid="rule-submit" disabled=busy>
                {move || if busy.get() { "Adding…" } else { "Add rule" }}
            </button>
        </form>
    }
}

/// Per-user exceptions: pick a user, see and change their overrides.
#[component]
fn Overrides(roles: Res<Page<Role>>, users: Res<Page<User>>) -> impl IntoView {
    let session = expect_context::<Session>();
    let live = expect_context::<Live>();
    let toasts = use_toasts();
    let user = RwSignal::new(String::new());
    let user_id = Memo::new(move |_| user.with(|u| u.parse::<i64>().ok()));
    let overrides = live_resource(move || {
        let uid = user_id.get();
        async move {
            match uid {
                Some(u) => api::user_overrides(u).await,
                None => Ok(Vec::new()),
            }
        }
    });

    let role = RwSignal::new(String::new());
    let effect = RwSignal::new("allow".to_string());
    let priority = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let Some(uid) = user_id.get_untracked() else {
            errors.set_form("Choose a user first.");
            return;
        };
        let Ok(rid) = role.get_untracked().parse::<i64>() else {
            errors.set_field("role_id", "Choose a role.");
            return;
        };
        let prio = format::opt_int(&priority.get_untracked()).unwrap_or_else(|m| {
            errors.set_field("priority", m);
            None
        });
        let vt = format::parse_local(&to.get_untracked()).unwrap_or_else(|m| {
            errors.set_field("valid_to_utc", m);
            None
        });
        if errors.has_fields() {
            return;
        }
        let body = EligibilityOverrideSet {
            can_request: effect.get_untracked() == "allow",
            valid_from_utc: None,
            valid_to_utc: vt,
            priority: prio,
        };
        run_busy(busy, async move {
            match api::set_override(uid, rid, &body).await {
                Ok(o) => {
                    toasts.success(format!("Override for {} saved.", o.role_name));
                    live.bump();
                }
                Err(e) => {
                    errors.show_api(&e);
                    toasts.error(format!("Override not saved: {e}"));
                }
            }
        });
    };

    view! {
        <section class="card" aria-labelledby="ovr-h" data-testid="overrides">
            <header class="card-head">
                <h2 id="ovr-h" class="subhead">"User overrides"</h2>
                <div class="field inline">
                    <label for="override-user">"User"</label>
                    <select id="override-user" data-testid="override-user" on:change=move |ev| user.set(event_target_value(&ev))>
                        <option value="">"Choose a user…"</option>
                        {user_options(users)}
                    </select>
                </div>
            </header>
            {move || match (user_id.get(), overrides.get()) {
                (None, _) => view! { <p class="muted small">"Choose a user to see their overrides."</p> }.into_any(),
                (_, None) => view! { <Loading/> }.into_any(),
                (_, Some(Err(e))) => view! { <ErrorState error=e/> }.into_any(),
                (_, Some(Ok(list))) if list.is_empty() => view! { <p class="muted small">"No overrides: only rules apply to this user."</p> }.into_any(),
                (Some(uid), Some(Ok(list))) => view! {
                    <ul class="list">
                        {list.into_iter().map(|o| view! { <OverrideRow uid=uid o=o/> }).collect_view()}
                    </ul>
                }
                .into_any(),
            }}
            {session.admin_now().then(|| view! {
                <form class="form compact bordered" data-testid="override-form" on:submit=submit novalidate>
                    <h3 class="subhead">"Set an override"</h3>
                    <FormError errors=errors/>
                    <div class="form-grid">
                        <div class="field">
                            <label for="override-role">"Role"</label>
                            <select id="override-role" data-testid="override-role" on:change=move |ev| role.set(event_target_value(&ev))>
                                <option value="">"Choose a role…"</option>
                                {role_options(roles)}
                            </select>
                            <FieldError errors=errors field="role_id"/>
                        </div>
                        <div class="field">
                            <label for="override-effect">"Effect"</label>
                            <select id="override-effect" data-testid="override-effect" on:change=move |ev| effect.set(event_target_value(&ev))>
                                <option value="allow" selected=true>"allow"</option>
                                <option value="deny">"deny"</option>
                            </select>
                        </div>
                        <div class="field">
                            <label for="override-priority">"Priority " <span class="req">"(optional)"</span></label>
                            <input id="override-priority" type="number" step="1" bind:value=priority/>
                            <FieldError errors=errors field="priority"/>
                        </div>
                        <div class="field">
                            <label for="override-to">"Valid until " <span class="req">"(optional, local time)"</span></label>
                            <input id="override-to" type="datetime-local" bind:value=to/>
                            <FieldError errors=errors field="valid_to_utc"/>
                        </div>
                    </div>
                    <button type="submit" class="btn btn-primary" data-testid="override-submit" disabled=busy>"Save override"</button>
                </form>
            })}
        </section>
    }
}

#[component]
fn OverrideRow(uid: i64, o: EligibilityOverride) -> impl IntoView {
    let session = expect_context::<Session>();
    let live = expect_context::<Live>();
    let toasts = use_toasts();
    let busy = RwSignal::new(false);
    let rid = o.role_id;
    let remove = move |_| {
        run_busy(busy, async move {
            match api::delete_override(uid, rid).await {
                Ok(()) => {
                    toasts.success("Override removed.");
                    live.bump();
                }
                Err(e) => toasts.error(format!("Override not removed: {e}")),
            }
        })
    };
    view! {
        <li class="list-row">
            <span class="strong">{o.role_name.clone()}</span>
            {if o.can_request { view! { <Tag kind="ok" text="allow"/> }.into_any() } else { view! { <Tag kind="danger" text="deny"/> }.into_any() }}
            <span class="muted small">{format!("priority {} · {}", o.priority, format::window(&o.valid_from_utc, &o.valid_to_utc))}</span>
            {session.admin_now().then(|| view! {
                <button type="button" class="btn btn-danger-outline btn-small push-right" aria-label=format!("Remove override for {}", o.role_name)
                    disabled=busy on:click=remove>
                    "Remove"
                </button>
            })}
        </li>
    }
}
