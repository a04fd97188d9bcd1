//! Teams and their members (team membership feeds `team`-scoped eligibility rules and team
//! approvers).

use jitea_shared::*;
use leptos::prelude::*;

use super::AdminFrame;
use crate::api;
use crate::components::badge::Tag;
use crate::components::field::{FieldError, FormError, FormErrors};
use crate::components::states::{fetched, live_resource, run_busy, Empty};
use crate::components::toast::use_toasts;
use crate::events::Live;
use crate::format;
use crate::session::Session;

#[component]
pub fn TeamsPage() -> impl IntoView {
    crate::components::set_title("Teams");
    let session = expect_context::<Session>();
    let teams = live_resource(api::list_teams);
    let open = RwSignal::new(None::<Team>);

    view! {
        <AdminFrame title="Teams" intro="Groups of users, for team-scoped eligibility rules and team approvers.">
            {session.admin_now().then(|| view! {
                <TeamForm/>
            })}
            {move || open.get().map(|t| view! { <Members team=t open=open/> })}
            <section data-testid="admin-teams" aria-label="Teams">
                {fetched(teams, move |page: Page<Team>| {
                    if page.items.is_empty() {
                        return view! { <Empty title="No teams yet"/> }.into_any();
                    }
                    view! {
                        <ul class="rows">
                            {page.items.into_iter().map(|t| view! { <TeamRow team=t open=open/> }).collect_view()}
                        </ul>
                    }
                    .into_any()
                })}
            </section>
        </AdminFrame>
    }
}

#[component]
fn TeamRow(team: Team, open: RwSignal<Option<Team>>) -> impl IntoView {
    let session = expect_context::<Session>();
    let live = expect_context::<Live>();
    let toasts = use_toasts();
    let busy = RwSignal::new(false);
    let (id, active) = (team.id, team.is_active);
    let toggle = move |_| {
        run_busy(busy, async move {
            match api::update_team(id, &api::object(vec![("is_active", (!active).into())])).await {
                Ok(t) => {
                    toasts.success(format!(
                        "Team {} {}.",
                        t.team_name,
                        if t.is_active {
                            "activated"
                        } else {
                            "deactivated"
                        }
                    ));
                    live.bump();
                }
                Err(e) => toasts.error(format!("Team not changed: {e}")),
            }
        })
    };
    let t2 = team.clone();
    let scope = [team.division.clone(), team.department.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
    view! {
        <li class="row card" data-testid="team-row" data-team-id=team.id>
            <div class="row-main">
                <div class="row-title">
                    <span class="strong">{team.team_name.clone()}</span>
                    <span class="muted small">{format!("#{}", team.id)}</span>
                </div>
                {if active { view! { <Tag kind="ok" text="active"/> }.into_any() } else { view! { <Tag kind="muted" text="inactive"/> }.into_any() }}
            </div>
            {team.description.clone().map(|d| view! { <p class="small">{d}</p> })}
            {(!scope.is_empty()).then(|| view! { <p class="muted small">{scope}</p> })}
            <div class="row-actions">
                <button type="button" class="btn btn-secondary btn-small" data-testid="team-members" on:click=move |_| open.set(Some(t2.clone()))>
                    "Members"
                </button>
                {session.admin_now().then(|| view! {
                    <button type="button" class="btn btn-secondary btn-small" disabled=busy on:click=toggle>
                        {if active { "Deactivate" } else { "Activate" }}
                    </button>
                })}
            </div>
        </li>
    }
}

#[component]
fn TeamForm() -> impl IntoView {
    let live = expect_context::<Live>();
    let toasts = use_toasts();
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let division = RwSignal::new(String::new());
    let department = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let team_name = name.get_untracked().trim().to_string();
        if team_name.is_empty() {
            errors.set_field("team_name", "Give the team a name.");
            return;
        }
        let body = TeamCreate {
            team_name,
            description: format::opt_text(&description.get_untracked()),
            division: format::opt_text(&division.get_untracked()),
            department: format::opt_text(&department.get_untracked()),
        };
        run_busy(busy, async move {
            match api::create_team(&body).await {
                Ok(t) => {
                    toasts.success(format!("Team {} created.", t.team_name));
                    for s in [name, description, division, department] {
                        s.set(String::new());
                    }
                    live.bump();
                }
                Err(e) => {
                    errors.show_api(&e);
                    toasts.error(format!("Team not created: {e}"));
                }
            }
        });
    };
    view! {
        <form class="card form" data-testid="team-form" on:submit=submit novalidate>
            <h2 class="subhead">"New team"</h2>
            <FormError errors=errors/>
            <div class="form-grid">
                <div class="field">
                    <label for="team-name">"Name"</label>
                    <input id="team-name" type="text" data-testid="team-name" bind:value=name
                        aria-invalid=errors.invalid("team_name") aria-describedby=errors.describedby("team_name")/>
                    <FieldError errors=errors field="team_name"/>
                </div>
                <div class="field">
                    <label for="team-description">"Description " <span class="req">"(optional)"</span></label>
                    <input id="team-description" type="text" bind:value=description/>
                </div>
                <div class="field">
                    <label for="team-division">"Division " <span class="req">"(optional)"</span></label>
                    <input id="team-division" type="text" bind:value=division/>
                </div>
                <div class="field">
                    <label for="team-department">"Department " <span class="req">"(optional)"</span></label>
                    <input id="team-department" type="text" bind:value=department/>
                </div>
            </div>
            <button type="submit" class="btn btn-primary" data-testid="team-submit" disabled=busy>"Create team"</button>
        </form>
    }
}

#[component]
fn Members(team: Team, open: RwSignal<Option<Team>>) -> impl IntoView {
    let session = expect_context::<Session>();
    let live = expect_context::<Live>();
    let toasts = use_toasts();
    let team_id = team.id;
    let members = live_resource(move || api::team_members(team_id));
    let users = live_resource(|| api::list_users("", None));
    let pick = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let add = move |_| {
        let Ok(uid) = pick.get_untracked().parse::<i64>() else {
            toasts.error("Choose a user to add.");
            return;
        };
        run_busy(busy, async move {
            match api::add_team_member(team_id, uid).await {
                Ok(m) => {
                    toasts.success(format!("{} added.", m.login_name));
                    pick.set(String::new());
                    live.bump();
                }
                Err(e) => toasts.error(format!("Member not added: {e}")),
            }
        });
    };
    view! {
        <section class="card manage" data-testid="team-members-panel" aria-labelledby="members-h">
            <header class="card-head">
                <h2 id="members-h" class="subhead">{format!("Members of {}", team.team_name)}</h2>
                <button type="button" class="btn btn-secondary btn-small" on:click=move |_| open.set(None)>"Close"</button>
            </header>
            {fetched(members, move |list: Vec<TeamMember>| {
                let list: Vec<TeamMember> = list.into_iter().filter(|m| m.is_active).collect();
                if list.is_empty() {
                    return view! { <p class="muted small">"No members yet."</p> }.into_any();
                }
                view! {
                    <ul class="list">
                        {list.into_iter().map(|m| view! { <MemberRow m=m/> }).collect_view()}
                    </ul>
                }
                .into_any()
            })}
            {session.admin_now().then(|| view! {
                <div class="inline-form">
                    <label for="member-add" class="sr-only">"User to add"</label>
                    <select id="member-add" data-testid="member-add" on:change=move |ev| pick.set(event_target_value(&ev))>
                        <option value="" selected=move || pick.with(String::is_empty)>"Add a member…"</option>
                        {move || users.get().and_then(|r| r.ok()).map(|p| {
                            p.items.into_iter().map(|u| view! { <option value=u.id.to_string()>{format::user_label(&u)}</option> }).collect_view()
                        })}
                    </select>
                    <button type="button" class="btn btn-primary btn-small" data-testid="member-add-submit" disabled=busy on:click=add>
                        "Add"
                    </button>
                </div>
            })}
        </section>
    }
}

#[component]
fn MemberRow(m: TeamMember) -> impl IntoView {
    let session = expect_context::<Session>();
    let live = expect_context::<Live>();
    let toasts = use_toasts();
    let busy = RwSignal::new(false);
    let (team_id, user_id) = (m.team_id, m.user_id);
    let login = m.login_name.clone();
    let remove = move |_| {
        run_busy(busy, async move {
            match api::remove_team_member(team_id, user_id).await {
                Ok(m) => {
                    toasts.success(format!("{} removed.", m.login_name));
                    live.bump();
                }
                Err(e) => toasts.error(format!("Member not removed: {e}")),
            }
        })
    };
    view! {
        <li class="list-row">
            <span class="strong">{m.login_name.clone()}</span>
            {m.display_name.clone().map(|d| view! { <span class="muted small">{d}</span> })}
            <span class="muted small">{format!("since {}", format::time(&m.assigned_utc))}</span>
            {session.admin_now().then(|| view! {
                <button type="button" class="btn btn-danger-outline btn-small push-right" aria-label=format!("Remove {login}")
                    disabled=busy on:click=remove>
                    "Remove"
                </button>
            })}
        </li>
    }
}
