//! Eligibility and auto-approval for one user and role, from the store's facts.

use chrono::{DateTime, Utc};
use jitea_shared::{AutoApprovalReason, Role, User};

use crate::domain::auto_approval::auto_approval;
use crate::domain::eligibility::{
    resolve_eligibility, Eligibility, EligibilityOverride, EligibilityRule, RoleFacts, SubjectUser,
};
use crate::domain::window::Window;
use crate::store::{eligibility, users, Db, StoreError};

pub fn role_facts(r: &Role) -> RoleFacts {
    RoleFacts {
        id: r.id,
        is_enabled: r.is_enabled,
        requires_approval: r.requires_approval,
        auto_approve_min_seniority: r.auto_approve_min_seniority,
        max_duration_minutes: r.max_duration_minutes,
        requires_ticket: r.requires_ticket,
        ticket_regex: r.ticket_regex.clone(),
        requires_justification: r.requires_justification,
    }
}

pub async fn subject(db: &mut Db<'_>, u: &User) -> Result<SubjectUser, StoreError> {
    Ok(SubjectUser {
        id: u.id,
        is_active: u.is_active,
        department: u.department.clone(),
        division: u.division.clone(),
        active_team_ids: users::active_team_ids(db, u.id).await?,
        seniority_level: u.seniority_level,
    })
}

/// Whether `user` may request `role` now, and what would happen to such a request.
pub struct AccessCheck {
    pub eligibility: Eligibility,
    pub auto_approval: Option<AutoApprovalReason>,
}

pub async fn check(
    db: &mut Db<'_>,
    user: &User,
    role: &Role,
    now: DateTime<Utc>,
) -> Result<AccessCheck, StoreError> {
    let subj = subject(db, user).await?;
    check_with_subject(db, &subj, user, role, now).await
}

/// As `check`, reusing already loaded user facts (the requestable-roles list checks many roles).
pub async fn check_with_subject(
    db: &mut Db<'_>,
    subj: &SubjectUser,
    user: &User,
    role: &Role,
    now: DateTime<Utc>,
) -> Result<AccessCheck, StoreError> {
    let ovr = eligibility::get_override(db, user.id, role.id)
        .await?
        .map(|o| EligibilityOverride {
            can_request: o.can_request,
            window: Window {
                valid_from: o.valid_from_utc,
                valid_to: o.valid_to_utc,
            },
            priority: o.priority,
        });
    let rules: Vec<EligibilityRule> = eligibility::rules_for_role(db, role.id)
        .await?
        .into_iter()
        .map(|r| EligibilityRule {
            id: r.id,
            scope_type: r.scope_type,
            scope_value: r.scope_value,
            can_request: r.can_request,
            window: Window {
                valid_from: r.valid_from_utc,
                valid_to: r.valid_to_utc,
            },
            priority: r.priority,
        })
        .collect();
    let facts = role_facts(role);
    let eligibility = resolve_eligibility(subj, &facts, ovr.as_ref(), &rules, now);
    let auto = auto_approval(&facts, user.seniority_level);
    Ok(AccessCheck {
        eligibility,
        auto_approval: auto,
    })
}
