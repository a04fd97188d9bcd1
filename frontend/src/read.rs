//! The DTOs the app reads most, read field by field ([`crate::json::Fields`]) instead of
//! through serde's derived readers (see [`crate::json::FromJson`] for why). The key of every
//! field is the serde name in `jitea_shared::dto` (no DTO here renames a field), and the
//! struct literals list every field, so a field added to a DTO fails to compile here until it
//! is read. Defaults follow the DTOs' `#[serde(default)]`s.

use jitea_shared::*;
use serde_json::Value;

use crate::json::{Fields, FromJson};

/// `impl FromJson for $t` from a function that reads its fields.
macro_rules! by_fields {
    ($($t:ty => $read:expr;)*) => {
        $(impl FromJson for $t {
            fn from_json(v: Value) -> Result<Self, String> {
                let mut f = Fields::new(v)?;
                let read: fn(&mut Fields) -> Result<$t, String> = $read;
                let t = read(&mut f)?;
                f.done(t)
            }
        })*
    };
}

by_fields! {
    User => |f| Ok(User {
        id: f.i64("id"),
        login_name: f.string("login_name"),
        given_name: f.opt_string("given_name"),
        surname: f.opt_string("surname"),
        display_name: f.opt_string("display_name"),
        email: f.opt_string("email"),
        division: f.opt_string("division"),
        department: f.opt_string("department"),
        job_title: f.opt_string("job_title"),
        seniority_level: f.opt_i64("seniority_level"),
        manager_login_name: f.opt_string("manager_login_name"),
        is_active: f.bool("is_active"),
        is_admin: f.bool("is_admin"),
        is_auditor: f.bool("is_auditor"),
        has_password: f.bool("has_password"),
        source: f.opt_string("source").unwrap_or_else(|| "local".into()),
        external_id: f.opt_string("external_id"),
        last_ad_sync_utc: f.opt_time("last_ad_sync_utc"),
        created_utc: f.time("created_utc"),
        updated_utc: f.time("updated_utc"),
        created_by: f.string("created_by"),
        updated_by: f.string("updated_by"),
    });
    SessionInfo => |f| Ok(SessionInfo {
        user: f.one("user")?,
        csrf_token: f.string("csrf_token"),
        expires_utc: f.time("expires_utc"),
    });
    Role => |f| Ok(Role {
        id: f.i64("id"),
        role_name: f.string("role_name"),
        description: f.opt_string("description"),
        max_duration_minutes: f.i64("max_duration_minutes"),
        requires_ticket: f.bool("requires_ticket"),
        ticket_regex: f.opt_string("ticket_regex"),
        requires_justification: f.bool("requires_justification"),
        requires_approval: f.bool("requires_approval"),
        auto_approve_min_seniority: f.opt_i64("auto_approve_min_seniority"),
        is_enabled: f.bool("is_enabled"),
        approval_window_minutes: f.opt_i64("approval_window_minutes").unwrap_or(1440),
        max_extension_minutes: f.opt_i64("max_extension_minutes"),
        max_extensions: f.opt_i64("max_extensions").unwrap_or(3),
        max_total_minutes: f.opt_i64("max_total_minutes"),
        created_utc: f.time("created_utc"),
        updated_utc: f.time("updated_utc"),
        created_by: f.string("created_by"),
        updated_by: f.string("updated_by"),
    });
    RoleDbRole => |f| Ok(RoleDbRole {
        role_id: f.i64("role_id"),
        db_role_id: f.i64("db_role_id"),
        db_role_name: f.string("db_role_name"),
        target_id: f.i64("target_id"),
        target_name: f.string("target_name"),
        is_required: f.bool("is_required"),
    });
    RequestableRole => |f| Ok(RequestableRole {
        role: f.one("role")?,
        db_roles: f.list("db_roles"),
        would_auto_approve: f.bool("would_auto_approve"),
        auto_approval_reason: f.opt_parse("auto_approval_reason"),
    });
    RoleApprover => |f| Ok(RoleApprover {
        id: f.i64("id"),
        role_id: f.i64("role_id"),
        approver_type: f.parse("approver_type", ApproverType::User),
        approver_user_id: f.opt_i64("approver_user_id"),
        approver_team_id: f.opt_i64("approver_team_id"),
        approver_department: f.opt_string("approver_department"),
        approver_login_name: f.opt_string("approver_login_name"),
        priority: f.i64("priority"),
        created_utc: f.time("created_utc"),
        created_by: f.string("created_by"),
    });
    Team => |f| Ok(Team {
        id: f.i64("id"),
        team_name: f.string("team_name"),
        description: f.opt_string("description"),
        division: f.opt_string("division"),
        department: f.opt_string("department"),
        is_active: f.bool("is_active"),
        created_utc: f.time("created_utc"),
        updated_utc: f.time("updated_utc"),
        created_by: f.string("created_by"),
        updated_by: f.string("updated_by"),
    });
    TeamMember => |f| Ok(TeamMember {
        team_id: f.i64("team_id"),
        user_id: f.i64("user_id"),
        login_name: f.string("login_name"),
        display_name: f.opt_string("display_name"),
        is_active: f.bool("is_active"),
        assigned_utc: f.time("assigned_utc"),
        removed_utc: f.opt_time("removed_utc"),
    });
    Target => |f| Ok(Target {
        id: f.i64("id"),
        name: f.string("name"),
        kind: f.parse("kind", TargetKind::Noop),
        description: f.opt_string("description"),
        connection_url_env: f.opt_string("connection_url_env"),
        drift_policy: f.string("drift_policy"),
        is_enabled: f.bool("is_enabled"),
        created_utc: f.time("created_utc"),
        updated_utc: f.time("updated_utc"),
        created_by: f.string("created_by"),
        updated_by: f.string("updated_by"),
    });
    DbRole => |f| Ok(DbRole {
        id: f.i64("id"),
        target_id: f.i64("target_id"),
        target_name: f.string("target_name"),
        db_role_name: f.string("db_role_name"),
        role_type: f.opt_string("role_type"),
        description: f.opt_string("description"),
        is_jit_managed: f.bool("is_jit_managed"),
        has_unmask: f.bool("has_unmask"),
        created_utc: f.time("created_utc"),
        updated_utc: f.time("updated_utc"),
        created_by: f.string("created_by"),
        updated_by: f.string("updated_by"),
    });
    EligibilityRule => |f| Ok(EligibilityRule {
        id: f.i64("id"),
        role_id: f.i64("role_id"),
        scope_type: f.parse("scope_type", ScopeType::All),
        scope_value: f.opt_string("scope_value"),
        can_request: f.bool("can_request"),
        valid_from_utc: f.opt_time("valid_from_utc"),
        valid_to_utc: f.opt_time("valid_to_utc"),
        priority: f.i64("priority"),
        created_utc: f.time("created_utc"),
        updated_utc: f.time("updated_utc"),
        created_by: f.string("created_by"),
        updated_by: f.string("updated_by"),
    });
    EligibilityOverride => |f| Ok(EligibilityOverride {
        user_id: f.i64("user_id"),
        role_id: f.i64("role_id"),
        role_name: f.string("role_name"),
        can_request: f.bool("can_request"),
        valid_from_utc: f.opt_time("valid_from_utc"),
        valid_to_utc: f.opt_time("valid_to_utc"),
        priority: f.i64("priority"),
        created_utc: f.time("created_utc"),
        updated_utc: f.time("updated_utc"),
        created_by: f.string("created_by"),
        updated_by: f.string("updated_by"),
    });
    Approval => |f| Ok(Approval {
        id: f.i64("id"),
        request_id: f.i64("request_id"),
        approver_user_id: f.opt_i64("approver_user_id"),
        approver_login_name: f.string("approver_login_name"),
        decision: f.parse("decision", Decision::Denied),
        decision_comment: f.opt_string("decision_comment"),
        decision_utc: f.time("decision_utc"),
    });
    ExtensionOf => |f| Ok(ExtensionOf {
        grant_id: f.i64("grant_id"),
        grant_status: f.parse("grant_status", GrantStatus::Active),
        grant_valid_from_utc: f.time("grant_valid_from_utc"),
        grant_valid_to_utc: f.time("grant_valid_to_utc"),
        previous_extensions: f.i64("previous_extensions"),
    });
    AccessRequest => |f| Ok(AccessRequest {
        id: f.i64("id"),
        user_id: f.i64("user_id"),
        user_login_name: f.string("user_login_name"),
        role_id: f.i64("role_id"),
        role_name: f.string("role_name"),
        requested_duration_minutes: f.i64("requested_duration_minutes"),
        justification: f.opt_string("justification"),
        ticket_ref: f.opt_string("ticket_ref"),
        status: f.parse("status", RequestStatus::Pending),
        auto_approval_reason: f.opt_parse("auto_approval_reason"),
        user_dept_snapshot: f.opt_string("user_dept_snapshot"),
        user_title_snapshot: f.opt_string("user_title_snapshot"),
        user_division_snapshot: f.opt_string("user_division_snapshot"),
        user_seniority_snapshot: f.opt_i64("user_seniority_snapshot"),
        created_utc: f.time("created_utc"),
        updated_utc: f.time("updated_utc"),
        created_by: f.string("created_by"),
        updated_by: f.string("updated_by"),
        approvals: f.list("approvals"),
        grant_id: f.opt_i64("grant_id"),
        kind: f.opt_parse("kind").unwrap_or_default(),
        extension: f.nested("extension"),
        decide_by_utc: f.opt_time("decide_by_utc"),
    });
    GrantAssignment => |f| Ok(GrantAssignment {
        db_role_id: f.i64("db_role_id"),
        db_role_name: f.string("db_role_name"),
        target_id: f.i64("target_id"),
        target_name: f.string("target_name"),
        required: f.opt_bool("required").unwrap_or(true),
        state: f.string("state"),
        add_attempt_utc: f.opt_time("add_attempt_utc"),
        add_succeeded: f.opt_bool("add_succeeded"),
        add_error: f.opt_string("add_error"),
        drop_attempt_utc: f.opt_time("drop_attempt_utc"),
        drop_succeeded: f.opt_bool("drop_succeeded"),
        drop_error: f.opt_string("drop_error"),
    });
    Grant => |f| Ok(Grant {
        id: f.i64("id"),
        request_id: f.opt_i64("request_id"),
        user_id: f.i64("user_id"),
        user_login_name: f.string("user_login_name"),
        role_id: f.i64("role_id"),
        role_name: f.string("role_name"),
        valid_from_utc: f.time("valid_from_utc"),
        valid_to_utc: f.time("valid_to_utc"),
        revoked_utc: f.opt_time("revoked_utc"),
        revoke_reason: f.opt_string("revoke_reason"),
        revoked_by_user_id: f.opt_i64("revoked_by_user_id"),
        issued_by_user_id: f.opt_i64("issued_by_user_id"),
        status: f.parse("status", GrantStatus::Active),
        status_detail: f.opt_string("status_detail"),
        created_utc: f.time("created_utc"),
        updated_utc: f.time("updated_utc"),
        attempts: f.i64("attempts"),
        next_attempt_utc: f.opt_time("next_attempt_utc"),
        revoke_failed: f.bool("revoke_failed"),
        pending_end: f.opt_string("pending_end"),
        extensions: f.opt_i64("extensions").unwrap_or(0),
        pending_extension_id: f.opt_i64("pending_extension_id"),
        assignments: f.list("assignments"),
    });
    DirectoryChange => |f| Ok(DirectoryChange {
        action: f.string("action"),
        login_name: f.string("login_name"),
        user_id: f.opt_i64("user_id"),
        dn: f.opt_string("dn"),
        fields: f.list("fields"),
        reason: f.opt_string("reason"),
    });
    DirectoryEntryError => |f| Ok(DirectoryEntryError {
        dn: f.string("dn"),
        message: f.string("message"),
    });
    DirectorySyncRun => |f| Ok(DirectorySyncRun {
        id: f.i64("id"),
        started_utc: f.time("started_utc"),
        finished_utc: f.opt_time("finished_utc"),
        trigger_source: f.string("trigger_source"),
        actor_login_name: f.string("actor_login_name"),
        dry_run: f.bool("dry_run"),
        forced: f.bool("forced"),
        status: f.string("status"),
        message: f.opt_string("message"),
        entries_seen: f.i64("entries_seen"),
        created: f.i64("created"),
        updated: f.i64("updated"),
        deactivated: f.i64("deactivated"),
        unchanged: f.i64("unchanged"),
        errors: f.i64("errors"),
        changes: f.list("changes"),
        entry_errors: f.list("entry_errors"),
    });
    ScimToken => |f| Ok(ScimToken {
        id: f.i64("id"),
        name: f.string("name"),
        token_prefix: f.string("token_prefix"),
        created_utc: f.time("created_utc"),
        created_by: f.string("created_by"),
        last_used_utc: f.opt_time("last_used_utc"),
        revoked_utc: f.opt_time("revoked_utc"),
        revoked_by: f.opt_string("revoked_by"),
    });
    AuditEntry => |f| Ok(AuditEntry {
        id: f.i64("id"),
        event_utc: f.time("event_utc"),
        event_type: f.string("event_type"),
        actor_user_id: f.opt_i64("actor_user_id"),
        actor_login_name: f.string("actor_login_name"),
        target_user_id: f.opt_i64("target_user_id"),
        request_id: f.opt_i64("request_id"),
        grant_id: f.opt_i64("grant_id"),
        details: f.value("details"),
    });
}

impl FromJson for String {
    fn from_json(v: Value) -> Result<Self, String> {
        match v {
            Value::String(s) => Ok(s),
            _ => Err("expected a string".into()),
        }
    }
}

crate::via_serde!(
    Overview,
    AuthProviders,
    EligibilityCheck,
    TargetTest,
    ScimTokenCreated,
    LiveEvent,
    ErrorBody,
);
