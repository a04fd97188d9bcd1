//! `jitea serve --demo`: a small organisation that shows every rule — departments and
//! divisions, teams, managers, seniority, a pre-approved role, a seniority-bypass role, a
//! manual role with a ticket pattern, a disabled role, allow and deny rules at several scopes,
//! a per-user override — on a `noop` target. Seeding is skipped when roles already exist.

use chrono::{DateTime, Utc};
use jitea_shared::*;
use serde_json::json;

use crate::auth::password;
use crate::store::audit::{self, Actor, Event};
use crate::store::{catalog, credentials, eligibility, teams, users, Store};

pub const DEMO_PASSWORD: &str = "jitea-demo-pass";

/// (login, display name, department, division, title, seniority, manager, admin, auditor, team)
type DemoUser = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    i64,
    Option<&'static str>,
    bool,
    bool,
    Option<&'static str>,
);

const USERS: &[DemoUser] = &[
    (
        "admin",
        "Ada Admin",
        "Platform",
        "Technology",
        "Platform lead",
        8,
        None,
        true,
        false,
        None,
    ),
    (
        "bob",
        "Bob Manager",
        "Engineering",
        "Technology",
        "Engineering manager",
        7,
        None,
        false,
        false,
        Some("Platform"),
    ),
    (
        "alice",
        "Alice Senior",
        "Engineering",
        "Technology",
        "Senior engineer",
        5,
        Some("bob"),
        false,
        false,
        Some("Platform"),
    ),
    (
        "carol",
        "Carol Junior",
        "Engineering",
        "Technology",
        "Engineer",
        1,
        Some("bob"),
        false,
        false,
        Some("Payments"),
    ),
    (
        "dave",
        "Dave Analyst",
        "Data",
        "Technology",
        "Data analyst",
        3,
        Some("bob"),
        false,
        false,
        None,
    ),
    (
        "erin",
        "Erin Auditor",
        "Finance",
        "Corporate",
        "Internal auditor",
        4,
        None,
        false,
        true,
        None,
    ),
];

/// Seeds the demo organisation; returns the logins created (empty when already seeded).
pub async fn seed(store: &Store, now: DateTime<Utc>) -> anyhow::Result<Vec<(String, String)>> {
    let hash = password::hash(DEMO_PASSWORD);
    let mut tx = store.begin_write().await?;
    let mut db = tx.db();
    let existing = catalog::list_roles(
        &mut db,
        None,
        crate::store::paging::PageReq {
            limit: 1,
            after: None,
        },
    )
    .await?;
    if !existing.items.is_empty() {
        return Ok(Vec::new());
    }
    let by = "system:demo";
    let actor = Actor::system("demo");

    let mut team_ids = std::collections::HashMap::new();
    for (name, dept) in [("Platform", "Engineering"), ("Payments", "Engineering")] {
        let id = teams::insert(
            &mut db,
            &TeamCreate {
                team_name: name.into(),
                description: Some(format!("{name} team")),
                division: Some("Technology".into()),
                department: Some(dept.into()),
            },
            by,
            now,
        )
        .await?;
        team_ids.insert(name, id);
    }

    let mut user_ids = std::collections::HashMap::new();
    let mut logins = Vec::new();
    for (login, display, dept, div, title, seniority, manager, admin, auditor, team) in USERS {
        let id = match users::get_by_login(&mut db, login).await? {
            Some(u) => u.id,
            None => {
                let c = UserCreate {
                    login_name: login.to_string(),
                    display_name: Some(display.to_string()),
                    email: Some(format!("{login}@example.test")),
                    department: Some(dept.to_string()),
                    division: Some(div.to_string()),
                    job_title: Some(title.to_string()),
                    seniority_level: Some(*seniority),
                    manager_login_name: manager.map(String::from),
                    is_admin: Some(*admin),
                    is_auditor: Some(*auditor),
                    ..Default::default()
                };
                let id = users::insert(&mut db, &c, by, now).await?;
                credentials::set_password_hash(&mut db, id, &hash, now).await?;
                logins.push((
                    login.to_string(),
                    if *admin {
                        "admin".into()
                    } else if *auditor {
                        "auditor".into()
                    } else {
                        format!("{title}, seniority {seniority}")
                    },
                ));
                id
            }
        };
        if let Some(t) = team {
            teams::add_member(&mut db, team_ids[t], id, now).await?;
        }
        user_ids.insert(*login, id);
    }

    let target = catalog::insert_target(
        &mut db,
        &TargetCreate {
            name: "demo-warehouse".into(),
            kind: TargetKind::Noop,
            description: Some(
                "Demo target: records grants without touching a real database".into(),
            ),
            connection_url_env: None,
            drift_policy: None,
            settings: None,
            principal_from: None,
        },
        by,
        now,
    )
    .await?;
    let mut dbr = std::collections::HashMap::new();
    for (name, kind) in [
        ("app_reader", "data_reader"),
        ("app_writer", "data_writer"),
        ("ddm_unmask", "ddm_unmask"),
        ("db_owner_breakfix", "admin"),
    ] {
        let id = catalog::insert_db_role(
            &mut db,
            &DbRoleCreate {
                target_id: target,
                db_role_name: name.into(),
                r#ref: None,
                role_type: Some(kind.into()),
                description: None,
                is_jit_managed: Some(true),
                has_unmask: Some(name == "ddm_unmask"),
            },
            by,
            now,
        )
        .await?;
        dbr.insert(name, id);
    }

    let role = |name: &str,
                desc: &str,
                max: i64,
                approval: bool,
                min_sen: Option<i64>,
                ticket: Option<&str>,
                enabled: bool| RoleCreate {
        role_name: name.into(),
        description: Some(desc.into()),
        max_duration_minutes: max,
        requires_ticket: Some(ticket.is_some()),
        ticket_regex: ticket.map(String::from),
        requires_justification: Some(true),
        requires_approval: Some(approval),
        auto_approve_min_seniority: min_sen,
        is_enabled: Some(enabled),
        approval_window_minutes: None,
        max_extension_minutes: None,
        max_extensions: None,
        max_total_minutes: None,
        required_approvals: None,
        approval_stages: None,
        break_glass: None,
        review_window_minutes: None,
        chat_channel: None,
    };
    let read = catalog::insert_role(
        &mut db,
        &role(
            "Prod read-only",
            "Read production data. Pre-approved for Technology; Finance is denied.",
            480,
            false,
            None,
            None,
            true,
        ),
        by,
        now,
    )
    .await?;
    let write = catalog::insert_role(&mut db, &role("Prod write", "Change production data. Seniority 5+ skips approval; others need their manager or Bob.", 240, true, Some(5), None, true), by, now).await?;
    let breakfix = catalog::insert_role(&mut db, &role("Break-fix DBA", "Emergency owner rights. Always approved by a person; needs an incident ticket INC-nnnn.", 60, true, None, Some(r"INC-\d{4,}"), true), by, now).await?;
    let unmask = catalog::insert_role(
        &mut db,
        &role(
            "PII unmask",
            "See unmasked personal data. Data department only.",
            120,
            true,
            None,
            None,
            true,
        ),
        by,
        now,
    )
    .await?;
    let legacy = catalog::insert_role(
        &mut db,
        &role(
            "Legacy admin",
            "Retired role kept for history; disabled.",
            60,
            true,
            None,
            None,
            false,
        ),
        by,
        now,
    )
    .await?;

    for (r, d) in [
        (read, "app_reader"),
        (write, "app_reader"),
        (write, "app_writer"),
        (breakfix, "db_owner_breakfix"),
        (unmask, "app_reader"),
        (unmask, "ddm_unmask"),
        (legacy, "db_owner_breakfix"),
    ] {
        catalog::set_role_db_role(&mut db, r, dbr[d], true).await?;
    }

    let rule =
        |role_id: i64, scope: ScopeType, value: Option<String>, allow: bool, priority: i64| {
            EligibilityRuleCreate {
                role_id,
                scope_type: scope,
                scope_value: value,
                can_request: Some(allow),
                valid_from_utc: None,
                valid_to_utc: None,
                priority: Some(priority),
            }
        };
    let rules = [
        rule(
            read,
            ScopeType::Division,
            Some("Technology".into()),
            true,
            0,
        ),
        rule(
            read,
            ScopeType::Department,
            Some("Finance".into()),
            false,
            0,
        ),
        rule(
            write,
            ScopeType::Team,
            Some(team_ids["Platform"].to_string()),
            true,
            0,
        ),
        rule(
            write,
            ScopeType::Team,
            Some(team_ids["Payments"].to_string()),
            true,
            0,
        ),
        rule(breakfix, ScopeType::All, None, true, 0),
        rule(
            breakfix,
            ScopeType::User,
            Some(user_ids["carol"].to_string()),
            false,
            0,
        ),
        rule(unmask, ScopeType::Department, Some("Data".into()), true, 10),
        rule(unmask, ScopeType::Department, Some("Data".into()), false, 5),
        rule(legacy, ScopeType::All, None, true, 0),
    ];
    for r in &rules {
        eligibility::insert_rule(&mut db, r, by, now).await?;
    }
    eligibility::set_override(
        &mut db,
        user_ids["alice"],
        unmask,
        &EligibilityOverrideSet {
            can_request: true,
            valid_from_utc: None,
            valid_to_utc: None,
            priority: Some(100),
        },
        by,
        now,
    )
    .await?;

    for (r, t, uid) in [
        (write, ApproverType::Manager, None),
        (write, ApproverType::User, Some(user_ids["bob"])),
        (breakfix, ApproverType::User, Some(user_ids["bob"])),
        (unmask, ApproverType::User, Some(user_ids["bob"])),
    ] {
        let login = match uid {
            Some(id) => users::get_by_id(&mut db, id).await?.map(|u| u.login_name),
            None => None,
        };
        catalog::insert_approver(
            &mut db,
            r,
            &RoleApproverCreate {
                approver_type: t,
                approver_user_id: uid,
                approver_team_id: None,
                approver_department: None,
                priority: Some(0),
            },
            login,
            by,
            now,
        )
        .await?;
    }
    audit::write(
        &mut db,
        Event::new("demo_seeded", &actor).details(json!({"users": logins.len()})),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(logins)
}
