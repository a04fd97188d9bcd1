//! The DTOs the app reads most, read field by field ([`crate::json::Fields`]) instead of
//! through serde's derived readers (see [`crate::json::FromJson`] for why). The key of every
//! field is the serde name in `jitea_shared::dto` (`DbRole::r#ref` is `ref`), and the
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
        required_approvals: f.opt_i64("required_approvals").unwrap_or(1),
        approval_stages: f.opt_bool("approval_stages").unwrap_or(false),
        created_utc: f.time("created_utc"),
        updated_utc: f.time("updated_utc"),
        created_by: f.string("created_by"),
        updated_by: f.string("updated_by"),
        break_glass: f.opt_bool("break_glass").unwrap_or(false),
        review_window_minutes: f.opt_i64("review_window_minutes").unwrap_or(1440),
        chat_channel: f.opt_string("chat_channel"),
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
        settings: f.nested("settings"),
        principal_from: f.parse("principal_from", PrincipalFrom::Login),
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
        r#ref: f.nested("ref"),
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
        start_utc: f.opt_time("start_utc"),
        required_approvals: f.opt_i64("required_approvals").unwrap_or(1),
        approval_stages: f.opt_bool("approval_stages").unwrap_or(false),
        approval_progress: f.nested("approval_progress"),
    });
    TimelineEntry => |f| Ok(TimelineEntry {
        at: f.time("at"),
        step: f.string("step"),
        actor_login_name: f.string("actor_login_name"),
        request_id: f.opt_i64("request_id"),
        grant_id: f.opt_i64("grant_id"),
        db_role_name: f.opt_string("db_role_name"),
        summary: f.string("summary"),
    });
    BreakGlassEntry => |f| Ok(BreakGlassEntry {
        grant_id: f.i64("grant_id"),
        request_id: f.opt_i64("request_id"),
        user_id: f.i64("user_id"),
        user_login_name: f.string("user_login_name"),
        role_id: f.i64("role_id"),
        role_name: f.string("role_name"),
        justification: f.opt_string("justification"),
        ticket_ref: f.opt_string("ticket_ref"),
        grant_status: f.parse("grant_status", GrantStatus::Active),
        valid_from_utc: f.time("valid_from_utc"),
        valid_to_utc: f.time("valid_to_utc"),
        revoked_utc: f.opt_time("revoked_utc"),
        review_due_utc: f.opt_time("review_due_utc"),
        review_status: f.parse("review_status", BreakGlassStatus::Unreviewed),
        review: f.nested("review"),
    });
    ApprovalProgress => |f| Ok(ApprovalProgress {
        approved: f.i64("approved"),
        required: f.i64("required"),
        stage: f.opt_i64("stage"),
        stages: f.i64("stages"),
        waiting_for: f.list("waiting_for"),
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
        break_glass: f.opt_bool("break_glass").unwrap_or(false),
        review_due_utc: f.opt_time("review_due_utc"),
        review: f.nested("review"),
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
    NotificationDelivery => |f| Ok(NotificationDelivery {
        id: f.i64("id"),
        outbox_id: f.i64("outbox_id"),
        event_type: f.string("event_type"),
        channel: f.parse("channel", NotificationChannel::Email),
        recipient_user_id: f.opt_i64("recipient_user_id"),
        address: f.string("address"),
        subject: f.string("subject"),
        status: f.parse("status", DeliveryStatus::Pending),
        attempts: f.i64("attempts"),
        next_attempt_utc: f.time("next_attempt_utc"),
        last_error: f.opt_string("last_error"),
        created_utc: f.time("created_utc"),
        sent_utc: f.opt_time("sent_utc"),
        subscription_id: f.opt_i64("subscription_id"),
    });
    WebhookSubscription => |f| Ok(subscription(f));
    WebhookCreated => |f| Ok(WebhookCreated {
        subscription: subscription(f),
        secret: f.string("secret"),
    });
    NotificationSettings => |f| Ok(NotificationSettings {
        mute_reminders: f.bool("mute_reminders"),
        mute_decisions: f.bool("mute_decisions"),
    });
}

/// A subscription's fields; `WebhookCreated` flattens them next to its `secret`.
fn subscription(f: &mut Fields) -> WebhookSubscription {
    WebhookSubscription {
        id: f.i64("id"),
        url: f.string("url"),
        events: f.list("events"),
        description: f.opt_string("description"),
        is_enabled: f.bool("is_enabled"),
        created_by: f.string("created_by"),
        created_utc: f.time("created_utc"),
        updated_utc: f.time("updated_utc"),
    }
}

impl FromJson for WebhookEventType {
    fn from_json(v: Value) -> Result<Self, String> {
        v.as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| "expected an event type".into())
    }
}

impl FromJson for String {
    fn from_json(v: Value) -> Result<Self, String> {
        match v {
            Value::String(s) => Ok(s),
            _ => Err("expected a string".into()),
        }
    }
}

by_fields! {
    Overview => |f| Ok(Overview {
        pending_requests: f.i64("pending_requests"),
        active_grants: f.i64("active_grants"),
        expiring_next_hour: f.i64("expiring_next_hour"),
        provisioning_grants: f.i64("provisioning_grants"),
        failed_grants: f.i64("failed_grants"),
        revoke_failed_grants: f.i64("revoke_failed_grants"),
        break_glass_unreviewed: f.opt_i64("break_glass_unreviewed").unwrap_or(0),
        break_glass_overdue: f.opt_i64("break_glass_overdue").unwrap_or(0),
    });
    OidcProviderInfo => |f| Ok(OidcProviderInfo {
        name: f.string("name"),
        login_url: f.string("login_url"),
    });
    AuthProviders => |f| Ok(AuthProviders {
        local: f.bool("local"),
        oidc: f.nested("oidc"),
    });
    EligibilityCheck => |f| Ok(EligibilityCheck {
        user_id: f.i64("user_id"),
        role_id: f.i64("role_id"),
        eligible: f.bool("eligible"),
        reason: f.value("reason"),
        explanation: f.string("explanation"),
        auto_approval_reason: f.opt_parse("auto_approval_reason"),
    });
    TargetSettings => |f| Ok(TargetSettings {
        region: f.opt_string("region"),
        instance_arn: f.opt_string("instance_arn"),
        identity_store_id: f.opt_string("identity_store_id"),
    });
    EntitlementRef => |f| Ok(EntitlementRef {
        account_id: f.opt_string("account_id"),
        permission_set_arn: f.opt_string("permission_set_arn"),
    });
    TargetTestRole => |f| Ok(TargetTestRole {
        db_role_id: f.i64("db_role_id"),
        db_role_name: f.string("db_role_name"),
        exists: f.opt_bool("exists"),
        error: f.opt_string("error"),
        note: f.opt_string("note"),
    });
    TargetTest => |f| Ok(TargetTest {
        target_id: f.i64("target_id"),
        reachable: f.bool("reachable"),
        error: f.opt_string("error"),
        db_roles: f.list("db_roles"),
    });
    ScimTokenCreated => |f| Ok(ScimTokenCreated {
        id: f.i64("id"),
        name: f.string("name"),
        token: f.string("token"),
        token_prefix: f.string("token_prefix"),
        created_utc: f.time("created_utc"),
        created_by: f.string("created_by"),
    });
    LiveEvent => |f| Ok(LiveEvent {
        topic: f.string("topic"),
        request_id: f.opt_i64("request_id"),
        grant_id: f.opt_i64("grant_id"),
        user_id: f.opt_i64("user_id"),
    });
    ErrorInfo => |f| Ok(ErrorInfo {
        code: f.string("code"),
        message: f.string("message"),
        details: match f.value("details") {
            Value::Null => None,
            v => Some(v),
        },
    });
    ErrorBody => |f| Ok(ErrorBody {
        error: f.one("error")?,
    });
    crate::api::FieldError => |f| Ok(crate::api::FieldError {
        field: f.string("field"),
        code: f.string("code"),
        message: f.string("message"),
    });
    GrantReview => |f| Ok(GrantReview {
        outcome: f.parse("outcome", ReviewOutcome::Accept),
        comment: f.string("comment"),
        reviewer_user_id: f.opt_i64("reviewer_user_id"),
        reviewer_login_name: f.string("reviewer_login_name"),
        reviewed_utc: f.time("reviewed_utc"),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::DeserializeOwned;
    use serde::Serialize;

    const T1: &str = "2026-11-23T14:05:00.123Z";
    const T2: &str = "2026-11-24T08:00:00+01:00";

    /// Reads `json` (every field present and not null, so a misspelt key shows) with the
    /// hand-written reader and with serde's derived one, and compares what they read.
    fn same<T: FromJson + DeserializeOwned + Serialize>(json: &str) {
        let v: Value = serde_json::from_str(json).expect("fixture is JSON");
        let ours = T::from_json(v.clone()).expect("read by fields");
        let theirs: T = serde_json::from_value(v).expect("read by serde");
        assert_eq!(
            serde_json::to_value(&ours).ok(),
            serde_json::to_value(&theirs).ok(),
            "{json}"
        );
    }

    fn user() -> String {
        format!(
            r#"{{"id":7,"login_name":"ana","given_name":"Ana","surname":"Lind","display_name":"Ana L",
            "email":"a@x","division":"Ops","department":"IT","job_title":"DBA","seniority_level":3,
            "manager_login_name":"bob","is_active":true,"is_admin":false,"is_auditor":true,
            "has_password":true,"source":"scim","external_id":"e-1","last_ad_sync_utc":"{T1}",
            "created_utc":"{T1}","updated_utc":"{T2}","created_by":"root","updated_by":"sync"}}"#
        )
    }

    fn role() -> String {
        format!(
            r#"{{"id":3,"role_name":"dba","description":"d","max_duration_minutes":60,
            "requires_ticket":true,"ticket_regex":"INC-\\d+","requires_justification":true,
            "requires_approval":true,"auto_approve_min_seniority":5,"is_enabled":true,
            "approval_window_minutes":30,"max_extension_minutes":20,"max_extensions":2,
            "max_total_minutes":100,"required_approvals":2,"approval_stages":true,"created_utc":"{T1}","updated_utc":"{T2}","created_by":"a","updated_by":"b",
            "break_glass":true,"review_window_minutes":90,"chat_channel":"payments"}}"#
        )
    }

    fn stamps() -> String {
        format!(r#""created_utc":"{T1}","updated_utc":"{T2}","created_by":"a","updated_by":"b""#)
    }

    #[test]
    fn every_reader_reads_what_serde_reads() {
        same::<User>(&user());
        same::<SessionInfo>(&format!(
            r#"{{"user":{},"csrf_token":"c","expires_utc":"{T2}"}}"#,
            user()
        ));
        same::<Role>(&role());
        let rdr = r#"{"role_id":3,"db_role_id":4,"db_role_name":"r","target_id":5,"target_name":"t","is_required":false}"#;
        same::<RoleDbRole>(rdr);
        same::<RequestableRole>(&format!(
            r#"{{"role":{},"db_roles":[{rdr}],"would_auto_approve":true,"auto_approval_reason":"seniority_bypass"}}"#,
            role()
        ));
        same::<RoleApprover>(&format!(
            r#"{{"id":1,"role_id":3,"approver_type":"team","approver_user_id":2,"approver_team_id":4,
            "approver_department":"IT","approver_login_name":"bob","priority":7,"created_utc":"{T1}","created_by":"a"}}"#
        ));
        same::<Team>(&format!(
            r#"{{"id":1,"team_name":"ops","description":"d","division":"v","department":"p","is_active":true,{}}}"#,
            stamps()
        ));
        same::<TeamMember>(&format!(
            r#"{{"team_id":1,"user_id":2,"login_name":"ana","display_name":"Ana","is_active":false,
            "assigned_utc":"{T1}","removed_utc":"{T2}"}}"#
        ));
        same::<Target>(&format!(
            r#"{{"id":1,"name":"wh","kind":"postgres","description":"d","connection_url_env":"E",
            "drift_policy":"repair","principal_from":"email","is_enabled":true,
            "settings":{{"region":"eu-west-1","instance_arn":"arn:aws:sso:::instance/ssoins-0123456789abcdef","identity_store_id":"d-0123456789"}},{}}}"#,
            stamps()
        ));
        same::<DbRole>(&format!(
            r#"{{"id":1,"target_id":2,"target_name":"wh","db_role_name":"r","role_type":"x","description":"d",
            "ref":{{"account_id":"123456789012","permission_set_arn":"arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef"}},
            "is_jit_managed":true,"has_unmask":true,{}}}"#,
            stamps()
        ));
        same::<EligibilityRule>(&format!(
            r#"{{"id":1,"role_id":2,"scope_type":"department","scope_value":"IT","can_request":true,
            "valid_from_utc":"{T1}","valid_to_utc":"{T2}","priority":4,{}}}"#,
            stamps()
        ));
        same::<EligibilityOverride>(&format!(
            r#"{{"user_id":1,"role_id":2,"role_name":"dba","can_request":false,
            "valid_from_utc":"{T1}","valid_to_utc":"{T2}","priority":4,{}}}"#,
            stamps()
        ));
        same::<AccessRequest>(&format!(
            r#"{{"id":9,"user_id":7,"user_login_name":"ana","role_id":3,"role_name":"dba",
            "requested_duration_minutes":30,"justification":"j","ticket_ref":"INC-1","status":"expired",
            "auto_approval_reason":"pre_approved_role","user_dept_snapshot":"IT","user_title_snapshot":"DBA",
            "user_division_snapshot":"Ops","user_seniority_snapshot":3,{},
            "approvals":[{{"id":1,"request_id":9,"approver_user_id":2,"approver_login_name":"bob",
              "decision":"approved","decision_comment":"ok","decision_utc":"{T2}"}}],
            "grant_id":11,"kind":"extension",
            "extension":{{"grant_id":11,"grant_status":"active","grant_valid_from_utc":"{T1}",
              "grant_valid_to_utc":"{T2}","previous_extensions":1}},
            "decide_by_utc":"{T2}","required_approvals":3,"approval_stages":true,
            "approval_progress":{{"approved":1,"required":3,"stage":2,"stages":2,"waiting_for":[
              {{"id":1,"role_id":3,"approver_type":"team","approver_user_id":2,"approver_team_id":4,
              "approver_department":"IT","approver_login_name":"bob","priority":7,"created_utc":"{T1}","created_by":"a"}}]}}}}"#,
            stamps()
        ));
        same::<Grant>(&format!(
            r#"{{"id":11,"request_id":9,"user_id":7,"user_login_name":"ana","role_id":3,"role_name":"dba",
            "valid_from_utc":"{T1}","valid_to_utc":"{T2}","revoked_utc":"{T2}","revoke_reason":"r",
            "revoked_by_user_id":1,"issued_by_user_id":2,"status":"revoked","status_detail":"s",
            "created_utc":"{T1}","updated_utc":"{T2}","attempts":2,"next_attempt_utc":"{T2}",
            "revoke_failed":true,"pending_end":"revoke","extensions":2,"pending_extension_id":12,
            "assignments":[{{"db_role_id":4,"db_role_name":"r","target_id":5,"target_name":"t","required":false,
              "state":"dropped","add_attempt_utc":"{T1}","add_succeeded":true,"add_error":"e1",
              "drop_attempt_utc":"{T2}","drop_succeeded":false,"drop_error":"e2"}}],
            "break_glass":true,"review_due_utc":"{T2}","review":{{"outcome":"flag","comment":"c",
              "reviewer_user_id":3,"reviewer_login_name":"bob","reviewed_utc":"{T1}"}}}}"#
        ));
        same::<DirectorySyncRun>(&format!(
            r#"{{"id":1,"started_utc":"{T1}","finished_utc":"{T2}","trigger_source":"api","actor_login_name":"root",
            "dry_run":true,"forced":true,"status":"ok","message":"m","entries_seen":5,"created":1,"updated":2,
            "deactivated":3,"unchanged":4,"errors":1,
            "changes":[{{"action":"create","login_name":"ana","user_id":7,"dn":"cn=a","fields":["email"],"reason":"new"}}],
            "entry_errors":[{{"dn":"cn=b","message":"bad"}}]}}"#
        ));
        same::<ScimToken>(&format!(
            r#"{{"id":1,"name":"n","token_prefix":"p","created_utc":"{T1}","created_by":"a",
            "last_used_utc":"{T2}","revoked_utc":"{T2}","revoked_by":"b"}}"#
        ));
        same::<Vec<TimelineEntry>>(&format!(
            r#"[{{"at":"{T1}","step":"role_added","actor_login_name":"system:engine","request_id":9,
            "grant_id":11,"db_role_name":"r","summary":"added to r"}}]"#
        ));
        same::<Overview>(
            r#"{"pending_requests":1,"active_grants":2,"expiring_next_hour":3,"provisioning_grants":4,
            "failed_grants":5,"revoke_failed_grants":6,"break_glass_unreviewed":7,"break_glass_overdue":8}"#,
        );
        same::<AuthProviders>(
            r#"{"local":false,"oidc":{"name":"Corp","login_url":"/api/v1/auth/oidc/login"}}"#,
        );
        same::<EligibilityCheck>(
            r#"{"user_id":1,"role_id":2,"eligible":true,"reason":{"kind":"rule","rule_id":3},
            "explanation":"e","auto_approval_reason":"pre_approved_role"}"#,
        );
        same::<TargetTest>(
            r#"{"target_id":1,"reachable":false,"error":"down",
            "db_roles":[{"db_role_id":2,"db_role_name":"r","exists":false,"error":"e","note":"n"}]}"#,
        );
        same::<ScimTokenCreated>(&format!(
            r#"{{"id":1,"name":"n","token":"jitea_scim_x","token_prefix":"jitea_sc","created_utc":"{T1}","created_by":"a"}}"#
        ));
        same::<LiveEvent>(r#"{"topic":"grant.active","request_id":1,"grant_id":2,"user_id":3}"#);
        same::<ErrorBody>(
            r#"{"error":{"code":"validation_failed","message":"m","details":{"fields":[{"field":"f"}]}}}"#,
        );
        same::<BreakGlassEntry>(&format!(
            r#"{{"grant_id":11,"request_id":9,"user_id":7,"user_login_name":"ana","role_id":3,"role_name":"dba",
            "justification":"j","ticket_ref":"INC-1","grant_status":"revoked","valid_from_utc":"{T1}",
            "valid_to_utc":"{T2}","revoked_utc":"{T2}","review_due_utc":"{T2}","review_status":"flagged",
            "review":{{"outcome":"flag","comment":"c","reviewer_user_id":3,"reviewer_login_name":"bob","reviewed_utc":"{T1}"}}}}"#
        ));
        same::<AuditEntry>(&format!(
            r#"{{"id":1,"event_utc":"{T1}","event_type":"x","actor_user_id":1,"actor_login_name":"a",
            "target_user_id":2,"request_id":3,"grant_id":4,"details":{{"a":[1,"b",null]}}}}"#
        ));
        same::<Page<NotificationDelivery>>(&format!(
            r#"{{"items":[{{"id":1,"outbox_id":2,"event_type":"request.created","channel":"webhook",
            "recipient_user_id":3,"address":"https://r.example/h","subject":"s","status":"failed",
            "attempts":4,"next_attempt_utc":"{T1}","last_error":"503","created_utc":"{T1}",
            "sent_utc":"{T2}","subscription_id":5}}],"next_cursor":"c"}}"#
        ));
        same::<WebhookCreated>(&format!(
            r#"{{"id":1,"url":"https://r.example/h","events":["*","grant.revoked"],"description":"d",
            "is_enabled":false,"created_by":"root","created_utc":"{T1}","updated_utc":"{T2}","secret":"whsec_x"}}"#
        ));
        same::<Page<WebhookSubscription>>(&format!(
            r#"{{"items":[{{"id":1,"url":"https://r.example/h","events":["request.created"],"description":"d",
            "is_enabled":true,"created_by":"root","created_utc":"{T1}","updated_utc":"{T2}"}}],"next_cursor":"c"}}"#
        ));
        same::<NotificationSettings>(r#"{"mute_reminders":true,"mute_decisions":false}"#);
        same::<Page<Team>>(&format!(
            r#"{{"items":[{{"id":1,"team_name":"ops","description":null,"division":null,"department":null,
            "is_active":true,{}}}],"next_cursor":"c2"}}"#,
            stamps()
        ));
    }

    #[test]
    fn defaults_and_errors_follow_serde() {
        // Fields with a serde default may be absent.
        let r = Role::from_json(
            serde_json::from_str(&format!(
                r#"{{"id":3,"role_name":"dba","description":null,"max_duration_minutes":60,
                "requires_ticket":false,"ticket_regex":null,"requires_justification":false,
                "requires_approval":true,"auto_approve_min_seniority":null,"is_enabled":true,{}}}"#,
                stamps()
            ))
            .expect("json"),
        )
        .expect("a role");
        assert_eq!(
            (
                r.approval_window_minutes,
                r.max_extensions,
                r.max_total_minutes
            ),
            (1440, 3, None)
        );
        // A missing required field, a wrong type or a bad timestamp is an error.
        assert!(DirectoryEntryError::from_json(serde_json::json!({"dn": "x"})).is_err());
        assert!(
            DirectoryEntryError::from_json(serde_json::json!({"dn": 1, "message": "m"})).is_err()
        );
        assert!(ScimToken::from_json(serde_json::json!({
            "id": 1, "name": "n", "token_prefix": "p", "created_utc": "yesterday", "created_by": "a"
        }))
        .is_err());
        assert!(Vec::<DirectoryEntryError>::from_json(serde_json::json!([{"dn": "x"}])).is_err());
        assert!(Vec::<WebhookEventType>::from_json(serde_json::json!(["*", "nope"])).is_err());
    }
}
