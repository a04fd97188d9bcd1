//! The role catalogue: every seed field (incl. requires-approval and the auto-approve
//! seniority), which db roles each role grants, and who approves it.

use jitea_shared::*;
use leptos::prelude::*;

use super::{user_name, AdminFrame};
use crate::api;
use crate::components::badge::Tag;
use crate::components::field::{FieldError, FormError, FormErrors};
use crate::components::states::{fetched, live_resource, run_busy, Empty};
use crate::components::toast::use_toasts;
use crate::events::Live;
use crate::format;
use crate::session::Session;

#[component]
pub fn RolesPage() -> impl IntoView {
    crate::components::set_title("Roles");
    let session = expect_context::<Session>();
    let roles = live_resource(api::list_roles);
    let editing = RwSignal::new(None::<Role>);
    let managing = RwSignal::new(None::<Role>);

    view! {
        <AdminFrame title="Roles" intro="Business roles people can request, what they grant, and who approves them.">
            {session.admin_now().then(|| view! {
                <RoleForm editing=editing/>
            })}
            {move || managing.get().map(|r| view! { <RoleManage role=r managing=managing/> })}
            <section data-testid="admin-roles" aria-label="Roles">
                {fetched(roles, move |page: Page<Role>| {
                    if page.items.is_empty() {
                        return view! { <Empty title="No roles yet"><p>"Create the first role above."</p></Empty> }.into_any();
                    }
                    view! {
                        <div class="grid cards">
                            {page.items.into_iter().map(|r| view! { <RoleCard role=r editing=editing managing=managing/> }).collect_view()}
                        </div>
                    }
                    .into_any()
                })}
            </section>
        </AdminFrame>
    }
}

#[component]
fn RoleCard(
    role: Role,
    editing: RwSignal<Option<Role>>,
    managing: RwSignal<Option<Role>>,
) -> impl IntoView {
    let session = expect_context::<Session>();
    let approval = match (role.requires_approval, role.auto_approve_min_seniority) {
        (false, _) => "pre-approved: granted at once".to_string(),
        (true, Some(s)) => format!("approval needed; seniority ≥ {s} skips it"),
        (true, None) => "approval always needed".to_string(),
    };
    let approval = match (
        role.requires_approval,
        role.required_approvals,
        role.approval_stages,
    ) {
        (true, n, true) => format!("{approval}; {n} approval(s), in stages by approver priority"),
        (true, n, false) if n > 1 => format!("{approval}; {n} different approvers"),
        _ => approval,
    };
    let approval = if role.break_glass {
        format!(
            "break-glass: granted at once with a justification; reviewed within {}",
            format::minutes(role.review_window_minutes)
        )
    } else {
        approval
    };
    let (r1, r2) = (role.clone(), role.clone());
    view! {
        <article class="card" data-testid="role-card" data-role-id=role.id>
            <header class="card-head">
                <h3 class="card-title">{role.role_name.clone()}</h3>
                {if role.is_enabled {
                    view! { <Tag kind="ok" text="enabled"/> }.into_any()
                } else {
                    view! { <Tag kind="muted" text="disabled"/> }.into_any()
                }}
            </header>
            {role.description.clone().map(|d| view! { <p class="small">{d}</p> })}
            <dl class="facts">
                <dt>"Longest grant"</dt>
                <dd>{format!("{} ({} min)", format::minutes(role.max_duration_minutes), role.max_duration_minutes)}</dd>
                <dt>"Approval"</dt>
                <dd data-testid="role-approval">{approval}</dd>
                <dt>"Ticket"</dt>
                <dd>
                    {match (role.requires_ticket, role.ticket_regex.clone()) {
                        (true, Some(p)) => view! { "required, " <code>{p}</code> }.into_any(),
                        (true, None) => view! { "required" }.into_any(),
                        (false, Some(p)) => view! { "optional, " <code>{p}</code> }.into_any(),
                        (false, None) => view! { "not required" }.into_any(),
                    }}
                </dd>
                <dt>"Justification"</dt>
                <dd>{if role.requires_justification { "required" } else { "not required" }}</dd>
                <dt>"Updated"</dt>
                <dd class="small">{format!("{} by {}", format::time(&role.updated_utc), role.updated_by)}</dd>
            </dl>
            <div class="row-actions">
                <button type="button" class="btn btn-secondary btn-small" on:click=move |_| managing.set(Some(r1.clone()))>
                    "DB roles & approvers"
                </button>
                {session.admin_now().then(|| view! {
                    <button
                        type="button"
                        class="btn btn-secondary btn-small"
                        data-testid="role-edit"
                        on:click={
                            let r2 = r2.clone();
                            move |_| editing.set(Some(r2.clone()))
                        }
                    >
                        "Edit"
                    </button>
                })}
            </div>
        </article>
    }
}

/// Create a role, or edit the one in `editing`.
#[component]
fn RoleForm(editing: RwSignal<Option<Role>>) -> impl IntoView {
    let live = expect_context::<Live>();
    let toasts = use_toasts();
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let max = RwSignal::new("60".to_string());
    let requires_ticket = RwSignal::new(false);
    let ticket_regex = RwSignal::new(String::new());
    let requires_justification = RwSignal::new(true);
    let requires_approval = RwSignal::new(true);
    let min_seniority = RwSignal::new(String::new());
    let enabled = RwSignal::new(true);
    let required_approvals = RwSignal::new("1".to_string());
    let approval_stages = RwSignal::new(false);
    let window = RwSignal::new("1440".to_string());
    let break_glass = RwSignal::new(false);
    let review_window = RwSignal::new("1440".to_string());
    let errors = FormErrors::new();
    let busy = RwSignal::new(false);

    let fill = move |r: Option<Role>| {
        errors.clear();
        let r = r.as_ref();
        name.set(r.map(|r| r.role_name.clone()).unwrap_or_default());
        description.set(r.and_then(|r| r.description.clone()).unwrap_or_default());
        max.set(r.map_or(60, |r| r.max_duration_minutes).to_string());
        requires_ticket.set(r.is_some_and(|r| r.requires_ticket));
        ticket_regex.set(r.and_then(|r| r.ticket_regex.clone()).unwrap_or_default());
        requires_justification.set(r.is_none_or(|r| r.requires_justification));
        requires_approval.set(r.is_none_or(|r| r.requires_approval));
        min_seniority.set(
            r.and_then(|r| r.auto_approve_min_seniority)
                .map(|s| s.to_string())
                .unwrap_or_default(),
        );
        enabled.set(r.is_none_or(|r| r.is_enabled));
        required_approvals.set(r.map_or(1, |r| r.required_approvals).to_string());
        approval_stages.set(r.is_some_and(|r| r.approval_stages));
        window.set(r.map_or(1440, |r| r.approval_window_minutes).to_string());
        break_glass.set(r.is_some_and(|r| r.break_glass));
        review_window.set(r.map_or(1440, |r| r.review_window_minutes).to_string());
    };
    Effect::new(move |_| fill(editing.get()));

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let role_name = name.get_untracked().trim().to_string();
        if role_name.is_empty() {
            errors.set_field("role_name", "Give the role a name.");
        }
        let max_minutes = match max.get_untracked().trim().parse::<i64>() {
            Ok(m) if m >= 1 => m,
            _ => {
                errors.set_field(
                    "max_duration_minutes",
                    "Enter a whole number of minutes (1 or more).",
                );
                0
            }
        };
        let seniority = match format::opt_int(&min_seniority.get_untracked()) {
            Ok(s) => s,
            Err(m) => {
                errors.set_field("auto_approve_min_seniority", m);
                None
            }
        };
        let needed = match required_approvals.get_untracked().trim().parse::<i64>() {
            Ok(n) if (1..=5).contains(&n) => n,
            _ => {
                errors.set_field("required_approvals", "Enter a number from 1 to 5.");
                1
            }
        };
        let window_minutes = match window.get_untracked().trim().parse::<i64>() {
            Ok(m) if (1..=43200).contains(&m) => m,
            _ => {
                errors.set_field(
                    "approval_window_minutes",
                    "Enter a whole number of minutes from 1 to 43200 (30 days).",
                );
                1440
            }
        };
        let staged = approval_stages.get_untracked();
        let bg = break_glass.get_untracked();
        let review_minutes = match review_window.get_untracked().trim().parse::<i64>() {
            Ok(m) if (1..=43200).contains(&m) => m,
            _ => {
                errors.set_field(
                    "review_window_minutes",
                    "Enter a whole number of minutes from 1 to 43200 (30 days).",
                );
                1440
            }
        };
        let regex = format::opt_text(&ticket_regex.get_untracked());
        if errors.has_fields() {
            return;
        }
        let desc = format::opt_text(&description.get_untracked());
        let (rt, rj, ra, en) = (
            requires_ticket.get_untracked(),
            requires_justification.get_untracked(),
            requires_approval.get_untracked(),
            enabled.get_untracked(),
        );
        let current = editing.get_untracked();
        run_busy(busy, async move {
            let result = match &current {
                Some(r) => {
                    // Every field is sent, so clearing a text box really clears it.
                    let body = api::object(vec![
                        ("role_name", role_name.into()),
                        ("description", desc.into()),
                        ("max_duration_minutes", max_minutes.into()),
                        ("requires_ticket", rt.into()),
                        ("ticket_regex", regex.into()),
                        ("requires_justification", rj.into()),
                        ("requires_approval", ra.into()),
                        ("auto_approve_min_seniority", seniority.into()),
                        ("is_enabled", en.into()),
                        ("required_approvals", needed.into()),
                        ("approval_stages", staged.into()),
                        ("approval_window_minutes", window_minutes.into()),
                        ("break_glass", bg.into()),
                        ("review_window_minutes", review_minutes.into()),
                    ]);
                    api::update_role(r.id, &body).await
                }
                None => {
                    let body = RoleCreate {
                        role_name,
                        description: desc,
                        max_duration_minutes: max_minutes,
                        requires_ticket: Some(rt),
                        ticket_regex: regex,
                        requires_justification: Some(rj),
                        requires_approval: Some(ra),
                        auto_approve_min_seniority: seniority,
                        is_enabled: Some(en),
                        approval_window_minutes: Some(window_minutes),
                        max_extension_minutes: None,
                        max_extensions: None,
                        max_total_minutes: None,
                        required_approvals: Some(needed),
                        approval_stages: Some(staged),
                        break_glass: Some(bg),
                        review_window_minutes: Some(review_minutes),
                        chat_channel: None,
                    };
                    api::create_role(&body).await
                }
            };
            match result {
                Ok(r) => {
                    toasts.success(if current.is_some() {
                        format!("Role {} saved.", r.role_name)
                    } else {
                        format!("Role {} created.", r.role_name)
                    });
                    editing.set(None);
                    fill(None);
                    live.bump();
                }
                Err(e) => {
                    errors.show_api(&e);
                    toasts.error(format!("Role not saved: {e}"));
                }
            }
        });
    };

    view! {
        <form class="card form" data-testid="role-form" on:submit=submit novalidate>
            <h2 class="subhead">
                {move || match editing.get() {
                    Some(r) => format!("Edit role {}", r.role_name),
                    None => "New role".to_string(),
                }}
            </h2>
            <FormError errors=errors/>
            <div class="form-grid">
                <div class="field">
                    <label for="role-name">"Name"</label>
                    <input id="role-name" type="text" data-testid="role-name" bind:value=name
                        aria-invalid=errors.invalid("role_name") aria-describedby=errors.describedby("role_name")/>
                    <FieldError errors=errors field="role_name"/>
                </div>
                <div class="field">
                    <label for="role-max-duration">"Longest grant (minutes)"</label>
                    <input id="role-max-duration" type="number" min="1" step="1" data-testid="role-max-duration" bind:value=max
                        aria-invalid=errors.invalid("max_duration_minutes") aria-describedby=errors.describedby("max_duration_minutes")/>
                    <FieldError errors=errors field="max_duration_minutes"/>
                </div>
                <div class="field span-2">
                    <label for="role-description">"Description"</label>
                    <textarea id="role-description" rows="2" data-testid="role-description" bind:value=description></textarea>
                </div>
                <div class="field check">
                    <input id="role-requires-approval" type="checkbox" data-testid="role-requires-approval" bind:checked=requires_approval/>
                    <label for="role-requires-approval">"Requires approval " <span class="muted small">"(unchecked = pre-approved)"</span></label>
                </div>
                <div class="field">
                    <label for="role-min-seniority">"Auto-approve from seniority " <span class="req">"(optional)"</span></label>
                    <input id="role-min-seniority" type="number" step="1" data-testid="role-min-seniority" bind:value=min_seniority
                        aria-invalid=errors.invalid("auto_approve_min_seniority") aria-describedby=errors.describedby("auto_approve_min_seniority")/>
                    <FieldError errors=errors field="auto_approve_min_seniority"/>
                </div>
                <div class="field">
                    <label for="role-required-approvals">"Approvals needed " <span class="req">"(1–5 different approvers)"</span></label>
                    <input id="role-required-approvals" type="number" min="1" max="5" step="1" data-testid="role-required-approvals" bind:value=required_approvals
                        aria-invalid=errors.invalid("required_approvals") aria-describedby=errors.describedby("required_approvals")/>
                    <FieldError errors=errors field="required_approvals"/>
                </div>
                <div class="field check">
                    <input id="role-approval-stages" type="checkbox" data-testid="role-approval-stages" bind:checked=approval_stages/>
                    <label for="role-approval-stages">"Approve in stages " <span class="muted small">"(by approver priority, lowest first; one approval per stage)"</span></label>
                </div>
                <div class="field">
                    <label for="role-approval-window">"Approval window (minutes) " <span class="req">"(undecided requests expire)"</span></label>
                    <input id="role-approval-window" type="number" min="1" max="43200" step="1" data-testid="role-approval-window" bind:value=window
                        aria-invalid=errors.invalid("approval_window_minutes") aria-describedby=errors.describedby("approval_window_minutes")/>
                    <FieldError errors=errors field="approval_window_minutes"/>
                </div>
                <div class="field check">
                    <input id="role-break-glass" type="checkbox" data-testid="role-break-glass" bind:checked=break_glass/>
                    <label for="role-break-glass">"Break-glass " <span class="muted small">"(granted at once with a justification, announced, reviewed afterwards)"</span></label>
                </div>
                <div class="field">
                    <label for="role-review-window">"Review window (minutes) " <span class="req">"(break-glass uses are reviewed within it)"</span></label>
                    <input id="role-review-window" type="number" min="1" max="43200" step="1" data-testid="role-review-window" bind:value=review_window
                        aria-invalid=errors.invalid("review_window_minutes") aria-describedby=errors.describedby("review_window_minutes")/>
                    <FieldError errors=errors field="review_window_minutes"/>
                </div>
                <div class="field check">
                    <input id="role-requires-ticket" type="checkbox" data-testid="role-requires-ticket" bind:checked=requires_ticket/>
                    <label for="role-requires-ticket">"Requires a ticket"</label>
                </div>
                <div class="field">
                    <label for="role-ticket-regex">"Ticket pattern " <span class="req">"(regular expression, optional)"</span></label>
                    <input id="role-ticket-regex" type="text" spellcheck="false" data-testid="role-ticket-regex" bind:value=ticket_regex
                        aria-invalid=errors.invalid("ticket_regex") aria-describedby=errors.describedby("ticket_regex")/>
                    <FieldError errors=errors field="ticket_regex"/>
                </div>
                <div class="field check">
                    <input id="role-requires-justification" type="checkbox" data-testid="role-requires-justification" bind:checked=requires_justification/>
                    <label for="role-requires-justification">"Requires a justification"</label>
                </div>
                <div class="field check">
                    <input id="role-enabled" type="checkbox" data-testid="role-enabled" bind:checked=enabled/>
                    <label for="role-enabled">"Enabled"</label>
                </div>
            </div>
            <div class="actions">
                <button type="submit" class="btn btn-primary" data-testid="role-submit" disabled=busy>
                    {move || match (busy.get(), editing.with(Option::is_some)) {
                        (true, _) => "Saving…",
                        (false, true) => "Save role",
                        (false, false) => "Create role",
                    }}
                </button>
                <Show when=move || editing.with(Option::is_some)>
                    <button type="button" class="btn btn-secondary" on:click=move |_| editing.set(None)>"Cancel edit"</button>
                </Show>
            </div>
        </form>
    }
}

/// The db-role mapping and the approvers of one role.
#[component]
fn RoleManage(role: Role, managing: RwSignal<Option<Role>>) -> impl IntoView {
    let session = expect_context::<Session>();
    let live = expect_context::<Live>();
    let toasts = use_toasts();
    let role_id = role.id;
    let mapped = live_resource(move || api::role_db_roles(role_id));
    let all_db_roles = live_resource(api::list_db_roles);
    let approvers = live_resource(move || api::role_approvers(role_id));
    let users = live_resource(|| api::list_users("", None));
    let teams = live_resource(api::list_teams);

    let add_db_role = RwSignal::new(String::new());
    let map_busy = RwSignal::new(false);
    let map = move |_| {
        let Ok(db_role_id) = add_db_role.get_untracked().parse::<i64>() else {
            toasts.error("Choose a db role to add.");
            return;
        };
        run_busy(map_busy, async move {
            match api::map_db_role(role_id, db_role_id).await {
                Ok(_) => {
                    toasts.success("DB role mapped.");
                    add_db_role.set(String::new());
                    live.bump();
                }
                Err(e) => toasts.error(format!("Not mapped: {e}")),
            }
        });
    };

    let ap_type = RwSignal::new("user".to_string());
    let ap_value = RwSignal::new(String::new());
    let ap_priority = RwSignal::new(String::new());
    let ap_busy = RwSignal::new(false);
    let ap_errors = FormErrors::new();
    let add_approver = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        ap_errors.clear();
        let t = ap_type
            .get_untracked()
            .parse::<ApproverType>()
            .unwrap_or(ApproverType::User);
        let v = ap_value.get_untracked();
        let mut body = RoleApproverCreate {
            approver_type: t,
            approver_user_id: None,
            approver_team_id: None,
            approver_department: None,
            priority: None,
        };
        match t {
            ApproverType::User => body.approver_user_id = v.parse().ok(),
            ApproverType::Team => body.approver_team_id = v.parse().ok(),
            ApproverType::Department => body.approver_department = format::opt_text(&v),
            ApproverType::Manager => {}
        }
        match format::opt_int(&ap_priority.get_untracked()) {
            Ok(p) => body.priority = p,
            Err(m) => ap_errors.set_field("priority", m),
        }
        let missing = match t {
            ApproverType::User => body
                .approver_user_id
                .is_none()
                .then_some(("approver_user_id", "Choose a user.")),
            ApproverType::Team => body
                .approver_team_id
                .is_none()
                .then_some(("approver_team_id", "Choose a team.")),
            ApproverType::Department => body
                .approver_department
                .is_none()
                .then_some(("approver_department", "Enter a department.")),
            ApproverType::Manager => None,
        };
        if let Some((f, m)) = missing {
            ap_errors.set_field(f, m);
        }
        if ap_errors.has_fields() {
            return;
        }
        run_busy(ap_busy, async move {
            match api::add_approver(role_id, &body).await {
                Ok(_) => {
                    toasts.success("Approver added.");
                    ap_value.set(String::new());
                    live.bump();
                }
                Err(e) => {
                    ap_errors.show_api(&e);
                    toasts.error(format!("Approver not added: {e}"));
                }
            }
        });
    };

    view! {
        <section class="card manage" data-testid="role-manage" aria-labelledby="manage-h">
            <header class="card-head">
                <h2 id="manage-h" class="subhead">{format!("{}: db roles and approvers", role.role_name)}</h2>
                <button type="button" class="btn btn-secondary btn-small" on:click=move |_| managing.set(None)>"Close"</button>
            </header>
            <div class="detail-grid">
                <div>
                    <h3 class="subhead">"Grants these db roles"</h3>
                    {fetched(mapped, move |list: Vec<RoleDbRole>| {
                        if list.is_empty() {
                            return view! { <p class="muted small">"Nothing mapped yet: a grant of this role would change nothing."</p> }.into_any();
                        }
                        view! {
                            <ul class="list" data-testid="role-db-roles">
                                {list.into_iter().map(|d| view! { <MappedRow role_id=role_id d=d/> }).collect_view()}
                            </ul>
                        }
                        .into_any()
                    })}
                    {session.admin_now().then(|| view! {
                        <div class="inline-form">
                            <label for="map-db-role" class="sr-only">"DB role to map"</label>
                            <select id="map-db-role" data-testid="map-db-role" on:change=move |ev| add_db_role.set(event_target_value(&ev))>
                                <option value="" selected=move || add_db_role.with(String::is_empty)>"Add a db role…"</option>
                                {move || all_db_roles.get().and_then(|r| r.ok()).map(|p| {
                                    p.items
                                        .into_iter()
                                        .filter(|d| d.is_jit_managed)
                                        .map(|d| view! { <option value=d.id.to_string()>{format!("{} on {}", d.db_role_name, d.target_name)}</option> })
                                        .collect_view()
                                })}
                            </select>
                            <button type="button" class="btn btn-primary btn-small" data-testid="map-db-role-submit" disabled=map_busy on:click=map>
                                "Map"
                            </button>
                        </div>
                        <p class="help">"Only JIT-managed db roles can be mapped."</p>
                    })}
                </div>
                <div>
                    <h3 class="subhead">"Approvers"</h3>
                    {fetched(approvers, move |list: Vec<RoleApprover>| {
                        if list.is_empty() {
                            return view! { <p class="muted small">"No approvers: pending requests for this role cannot be decided."</p> }.into_any();
                        }
                        let users = users.get().and_then(|r| r.ok()).map(|p| p.items).unwrap_or_default();
                        let teams = teams.get().and_then(|r| r.ok()).map(|p| p.items).unwrap_or_default();
                        view! {
                            <ul class="list" data-testid="role-approvers">
                                {list.into_iter().map(|a| {
                                    let who = match a.approver_type {
                                        ApproverType::User => a.approver_user_id.map(|u| user_name(&users, u)).or(a.approver_login_name.clone()).unwrap_or_default(),
                                        ApproverType::Team => a.approver_team_id.map(|t| teams.iter().find(|x| x.id == t).map(|x| x.team_name.clone()).unwrap_or_else(|| format!("team #{t}"))).unwrap_or_default(),
                                        ApproverType::Department => a.approver_department.clone().unwrap_or_default(),
                                        ApproverType::Manager => "the requester's manager".into(),
                                    };
                                    view! { <ApproverRow role_id=role_id a=a who=who/> }
                                }).collect_view()}
                            </ul>
                        }
                        .into_any()
                    })}
                    {session.admin_now().then(|| view! {
                        <form class="form compact" data-testid="approver-form" on:submit=add_approver novalidate>
                            <FormError errors=ap_errors/>
                            <div class="form-grid">
                                <div class="field">
                                    <label for="approver-type">"Type"</label>
                                    <select id="approver-type" data-testid="approver-type" on:change=move |ev| { ap_type.set(event_target_value(&ev)); ap_value.set(String::new()); }>
                                        {ApproverType::ALL.iter().map(|t| view! { <option value=t.as_str() selected=*t == ApproverType::User>{t.as_str()}</option> }).collect_view()}
                                    </select>
                                </div>
                                <div class="field">
                                    {move || match ap_type.get().as_str() {
                                        "user" => view! {
                                            <label for="approver-value">"User"</label>
                                            <select id="approver-value" data-testid="approver-value" on:change=move |ev| ap_value.set(event_target_value(&ev))>
                                                <option value="">"Choose…"</option>
                                                {users.get().and_then(|r| r.ok()).map(|p| p.items.into_iter().map(|u| view! { <option value=u.id.to_string()>{format::user_label(&u)}</option> }).collect_view())}
                                            </select>
                                            <FieldError errors=ap_errors field="approver_user_id"/>
                                        }.into_any(),
                                        "team" => view! {
                                            <label for="approver-value">"Team"</label>
                                            <select id="approver-value" data-testid="approver-value" on:change=move |ev| ap_value.set(event_target_value(&ev))>
                                                <option value="">"Choose…"</option>
                                                {teams.get().and_then(|r| r.ok()).map(|p| p.items.into_iter().map(|t| view! { <option value=t.id.to_string()>{t.team_name}</option> }).collect_view())}
                                            </select>
                                            <FieldError errors=ap_errors field="approver_team_id"/>
                                        }.into_any(),
                                        "department" => view! {
                                            <label for="approver-value">"Department"</label>
                                            <input id="approver-value" type="text" data-testid="approver-value" bind:value=ap_value/>
                                            <FieldError errors=ap_errors field="approver_department"/>
                                        }.into_any(),
                                        _ => view! { <p class="help">"The requester's manager (from their profile) approves."</p> }.into_any(),
                                    }}
                                </div>
                                <div class="field">
                                    <label for="approver-priority">"Priority " <span class="req">"(optional)"</span></label>
                                    <input id="approver-priority" type="number" step="1" bind:value=ap_priority/>
                                    <FieldError errors=ap_errors field="priority"/>
                                </div>
                            </div>
                            <button type="submit" class="btn btn-primary btn-small" data-testid="approver-submit" disabled=ap_busy>
                                "Add approver"
                            </button>
                        </form>
                    })}
                </div>
            </div>
        </section>
    }
}

#[component]
fn MappedRow(role_id: i64, d: RoleDbRole) -> impl IntoView {
    let session = expect_context::<Session>();
    let live = expect_context::<Live>();
    let toasts = use_toasts();
    let busy = RwSignal::new(false);
    let db_role_id = d.db_role_id;
    let remove = move |_| {
        run_busy(busy, async move {
            match api::unmap_db_role(role_id, db_role_id).await {
                Ok(()) => {
                    toasts.success("DB role unmapped.");
                    live.bump();
                }
                Err(e) => toasts.error(format!("Not unmapped: {e}")),
            }
        })
    };
    view! {
        <li class="list-row" data-db-role-id=d.db_role_id>
            <code>{d.db_role_name.clone()}</code>
            <span class="muted small">" on " {d.target_name.clone()}</span>
            {(!d.is_required).then(|| view! { <Tag kind="muted" text="optional"/> })}
            {session.admin_now().then(|| view! {
                <button type="button" class="btn btn-danger-outline btn-small push-right" disabled=busy on:click=remove
                    aria-label=format!("Unmap {}", d.db_role_name)>
                    "Remove"
                </button>
            })}
        </li>
    }
}

#[component]
fn ApproverRow(role_id: i64, a: RoleApprover, who: String) -> impl IntoView {
    let session = expect_context::<Session>();
    let live = expect_context::<Live>();
    let toasts = use_toasts();
    let busy = RwSignal::new(false);
    let id = a.id;
    let remove = move |_| {
        run_busy(busy, async move {
            match api::remove_approver(role_id, id).await {
                Ok(()) => {
                    toasts.success("Approver removed.");
                    live.bump();
                }
                Err(e) => toasts.error(format!("Not removed: {e}")),
            }
        })
    };
    let label = format!("Remove approver {who}");
    view! {
        <li class="list-row">
            <Tag kind="info" text=a.approver_type.as_str()/>
            <span>{who}</span>
            <span class="muted small">{format!("priority {}", a.priority)}</span>
            {session.admin_now().then(|| view! {
                <button type="button" class="btn btn-danger-outline btn-small push-right" aria-label=label.clone() disabled=busy on:click=remove>
                    "Remove"
                </button>
            })}
        </li>
    }
}
