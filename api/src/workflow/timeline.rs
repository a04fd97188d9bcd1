//! The timeline of one piece of access (seed 000's "activity log" for a request): every step
//! of the request, its grant and the grant's extensions, in the order they happened, from the
//! audit log (which is written in the same transaction as each step, so the timeline is what
//! happened). Only lifecycle steps are shown, each as a sentence; the raw audit details stay
//! with the audit log (auditors and admins).

use jitea_shared::*;
use serde_json::Value;

use crate::error::ApiResult;
use crate::state::AppState;
use crate::store::{audit, grants as grant_store, requests as req_store, Db};

use super::requests;

/// The steps of request `id` and its grant, oldest first, for whoever may see the request.
pub async fn of_request(state: &AppState, viewer: &User, id: i64) -> ApiResult<Vec<TimelineEntry>> {
    let req = requests::get_visible(state, viewer, id).await?;
    let mut c = state.store.conn().await?;
    let mut db = Db::new(&mut c, state.store.dialect());
    let mut request_ids = vec![req.id];
    if let Some(g) = req.grant_id {
        if let Some(grant) = grant_store::get_by_id(&mut db, g).await? {
            request_ids.extend(grant.request_id);
        }
        request_ids.extend(req_store::extension_ids(&mut db, g).await?);
    }
    request_ids.sort_unstable();
    request_ids.dedup();
    let events = audit::for_access(&mut db, &request_ids, req.grant_id).await?;
    Ok(events.iter().filter_map(step).collect())
}

fn text<'a>(d: &'a Value, key: &str) -> &'a str {
    d.get(key).and_then(Value::as_str).unwrap_or("?")
}

fn num(d: &Value, key: &str) -> String {
    d.get(key)
        .and_then(Value::as_i64)
        .map_or_else(|| "?".into(), |n| n.to_string())
}

/// One audit event as a timeline step, or `None` for events that are not lifecycle steps.
fn step(e: &AuditEntry) -> Option<TimelineEntry> {
    let d = &e.details;
    let who = e.actor_login_name.as_str();
    let summary = match e.event_type.as_str() {
        "request_created" => format!(
            "{who} asked for {} minutes",
            num(d, "requested_duration_minutes")
        ),
        "extension_requested" => {
            format!("{who} asked for {} more minutes", num(d, "extra_minutes"))
        }
        "request_auto_approved" => format!("approved without a decision ({})", text(d, "reason")),
        "request_approval_counted" => format!(
            "{who} approved ({} of {} approvals)",
            num(d, "approved"),
            num(d, "required")
        ),
        "request_approved" => format!("{who} approved"),
        "request_denied" => format!("{who} denied"),
        "request_cancelled" => format!("{who} cancelled the request"),
        "request_expired" => match text(d, "why") {
            "grant_ended" => "the extension lapsed: the grant ended first".to_string(),
            _ => "nobody decided within the approval window".to_string(),
        },
        "grant_created" => "access granted".to_string(),
        "break_glass_used" => {
            "break-glass: granted without an approver, to be reviewed".to_string()
        }
        "grant_reviewed" => format!(
            "{who} reviewed the break-glass access: {} ({})",
            text(d, "outcome"),
            text(d, "comment")
        ),
        "role_added" => format!("added to {}", text(d, "db_role_name")),
        "role_add_failed" => format!("adding to {} failed", text(d, "db_role_name")),
        "late_add_undone" => format!("a late add to {} was undone", text(d, "db_role_name")),
        "grant_extended" => format!(
            "access extended by {} minutes, now until {}",
            num(d, "extra_minutes"),
            text(d, "to_valid_to_utc")
        ),
        "grant_expiry_reminder" => format!(
            "reminded that the access ends at {}",
            text(d, "valid_to_utc")
        ),
        "grant_revoke_requested" => format!("{who} revoked the access: {}", text(d, "reason")),
        "grant_provisioning_failed" => "provisioning failed".to_string(),
        "grant_revoke_failed" => "removing the access keeps failing; still retrying".to_string(),
        "role_dropped" => format!("removed from {}", text(d, "db_role_name")),
        "role_drop_failed" => format!("removing from {} failed", text(d, "db_role_name")),
        "grant_expired" => "access ended on time".to_string(),
        "grant_revoked" => "access revoked".to_string(),
        "grant_failed" => "access failed and was ended".to_string(),
        _ => return None,
    };
    Some(TimelineEntry {
        at: e.event_utc,
        step: e.event_type.clone(),
        actor_login_name: e.actor_login_name.clone(),
        request_id: e.request_id,
        grant_id: e.grant_id,
        db_role_name: d
            .get("db_role_name")
            .and_then(Value::as_str)
            .map(String::from),
        summary,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(event_type: &str, details: Value) -> AuditEntry {
        AuditEntry {
            id: 1,
            event_utc: chrono::DateTime::<chrono::Utc>::MIN_UTC,
            event_type: event_type.into(),
            actor_user_id: None,
            actor_login_name: "carol".into(),
            target_user_id: None,
            request_id: Some(1),
            grant_id: None,
            details,
        }
    }

    #[test]
    fn lifecycle_events_read_as_sentences_and_others_are_left_out() {
        let s = step(&entry(
            "grant_extended",
            json!({"extra_minutes": 15, "to_valid_to_utc": "T"}),
        ))
        .unwrap();
        assert_eq!(s.summary, "access extended by 15 minutes, now until T");
        let s = step(&entry("role_added", json!({"db_role_name": "reader"}))).unwrap();
        assert_eq!(s.db_role_name.as_deref(), Some("reader"));
        assert_eq!(
            step(&entry("request_approved", Value::Null))
                .unwrap()
                .summary,
            "carol approved"
        );
        assert_eq!(
            step(&entry("request_expired", json!({"why": "grant_ended"})))
                .unwrap()
                .summary,
            "the extension lapsed: the grant ended first"
        );
        assert_eq!(
            step(&entry(
                "grant_reviewed",
                json!({"outcome": "flag", "comment": "no incident"})
            ))
            .unwrap()
            .summary,
            "carol reviewed the break-glass access: flag (no incident)"
        );
        assert!(step(&entry("approval_refused", Value::Null)).is_none());
        assert!(step(&entry("login_succeeded", Value::Null)).is_none());
    }
}
