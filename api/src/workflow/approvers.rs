//! Who may decide a pending request: the role's approvers (domain rules) or an admin — never
//! the requester.

use jitea_shared::{AccessRequest, ApproverType, User};

use crate::domain::approvers::{may_approve, ApproverEntry, Candidate, Requester};
use crate::store::{catalog, users, Db, StoreError};

/// Why `approver` may decide `req`, or None.
pub async fn approval_right(
    db: &mut Db<'_>,
    approver: &User,
    req: &AccessRequest,
) -> Result<Option<String>, StoreError> {
    if approver.id == req.user_id || !approver.is_active {
        return Ok(None);
    }
    let entries: Vec<ApproverEntry> = catalog::approvers(db, req.role_id)
        .await?
        .into_iter()
        .map(|a| ApproverEntry {
            approver_type: a.approver_type,
            user_id: a.approver_user_id,
            team_id: a.approver_team_id,
            department: a.approver_department,
        })
        .collect();
    let requester = users::get_by_id(db, req.user_id).await?;
    let manager = requester
        .as_ref()
        .and_then(|u| u.manager_login_name.clone());
    let teams = users::active_team_ids(db, approver.id).await?;
    let candidate = Candidate {
        user_id: approver.id,
        login_name: &approver.login_name,
        is_active: approver.is_active,
        department: approver.department.as_deref(),
        active_team_ids: &teams,
    };
    let r = Requester {
        user_id: req.user_id,
        manager_login_name: manager.as_deref(),
    };
    if let Some(t) = may_approve(&candidate, &r, &entries) {
        return Ok(Some(approver_label(t).to_string()));
    }
    if approver.is_admin {
        return Ok(Some("admin".to_string()));
    }
    Ok(None)
}

fn approver_label(t: ApproverType) -> &'static str {
    t.as_str()
}
