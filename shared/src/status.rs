//! Closed vocabularies used in the database and in JSON, always snake_case.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Declares a string-backed enum with `as_str`, `FromStr`, `Display` and serde in snake_case,
/// so the database text, the JSON value and the Rust variant can never disagree.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable text used in the database and in JSON.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s { $($text => Ok($name::$variant),)+ _ => Err(UnknownValue(s.to_string())) }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

/// A text that is not one of an enum's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue(pub String);

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown value `{}`", self.0)
    }
}

impl std::error::Error for UnknownValue {}

string_enum! {
    /// Lifecycle of an access request.
    RequestStatus {
        Pending => "pending",
        Approved => "approved",
        AutoApproved => "auto_approved",
        Denied => "denied",
        Cancelled => "cancelled",
        Expired => "expired",
        Revoked => "revoked",
    }
}

impl RequestStatus {
    /// Open requests block a second request for the same user and role.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Pending | Self::Approved | Self::AutoApproved)
    }
}

string_enum! {
    /// What a request asks for.
    #[derive(Default)]
    RequestKind {
        /// A new grant.
        #[default]
        Access => "access",
        /// More time on a live grant.
        Extension => "extension",
    }
}

string_enum! {
    /// Lifecycle of a grant (time-limited access on a target).
    GrantStatus {
        Provisioning => "provisioning",
        Active => "active",
        Expired => "expired",
        Revoked => "revoked",
        Failed => "failed",
    }
}

impl GrantStatus {
    /// A grant that may hold (or is about to hold) memberships on a target.
    pub fn is_live(self) -> bool {
        matches!(self, Self::Provisioning | Self::Active)
    }
}

string_enum! {
    /// State of one notification delivery (one event, channel and recipient).
    DeliveryStatus {
        /// Waiting for its (next) attempt.
        Pending => "pending",
        Sent => "sent",
        /// Every attempt failed; an admin may retry it.
        Failed => "failed",
    }
}

string_enum! {
    /// How a notification is delivered.
    NotificationChannel {
        Email => "email",
        /// The team's Slack channel (incoming webhook, Block Kit).
        Slack => "slack",
        /// The team's Microsoft Teams channel (incoming webhook / workflow, Adaptive Card).
        Teams => "teams",
        /// A signed webhook subscription (Standard Webhooks).
        Webhook => "webhook",
    }
}

string_enum! {
    /// Which of a JITEA user's attributes names them on a target (their principal there).
    #[derive(Default)]
    PrincipalFrom {
        /// The user's login name.
        #[default]
        Login => "login",
        /// The user's email address.
        Email => "email",
        /// What an admin mapped the user to on this target (`PUT /targets/{id}/principals/{user_id}`;
        /// on `aws_sso`, the Identity Store user id).
        ExternalId => "external_id",
    }
}

macro_rules! event_types {
    ($($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)?) => {
        /// An event a webhook subscription may name: the outbox topics, or `*` for all.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum WebhookEventType { $($(#[$vmeta])* #[serde(rename = $text)] $variant),+ }

        impl WebhookEventType {
            /// Every value, in declaration order.
            pub const ALL: &'static [WebhookEventType] = &[$(WebhookEventType::$variant),+];

            /// The stable text (the outbox topic) used in the database and in JSON.
            pub fn as_str(self) -> &'static str {
                match self { $(WebhookEventType::$variant => $text),+ }
            }
        }

        impl FromStr for WebhookEventType {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s { $($text => Ok(WebhookEventType::$variant),)+ _ => Err(UnknownValue(s.to_string())) }
            }
        }
    };
}

event_types! {
    /// Every event.
    All => "*",
    /// A request was made (pending, or approved by policy at once).
    RequestCreated => "request.created",
    /// One approval of several was counted; the next stage (or the rest) is waited for.
    RequestApprovalCounted => "request.approval_counted",
    RequestApproved => "request.approved",
    RequestDenied => "request.denied",
    /// The requester withdrew it.
    RequestCancelled => "request.cancelled",
    /// Not decided within the role's approval window.
    RequestExpired => "request.expired",
    /// Access is in place on every target.
    GrantActive => "grant.active",
    /// A grant's end moved later.
    GrantExtended => "grant.extended",
    /// A grant ends within the reminder lead time.
    GrantExpiring => "grant.expiring",
    /// Access ended at its end time and was removed.
    GrantExpired => "grant.expired",
    /// Access was revoked and removed.
    GrantRevoked => "grant.revoked",
    /// Access could not be set up.
    GrantFailed => "grant.failed",
    /// Access could not be removed; JITEA keeps retrying.
    GrantRevokeFailed => "grant.revoke_failed",
    /// Break-glass access was used.
    GrantBreakGlass => "grant.break_glass",
    /// A break-glass use was reviewed.
    GrantReviewed => "grant.reviewed",
    /// Reconciliation found access no grant explains, or a missing one.
    DriftFound => "drift.found",
    /// The directory sync refused to deactivate more users than its guard allows.
    DirectorySyncRefused => "directory.sync_refused",
}

string_enum! {
    /// Scope of an eligibility rule, listed from most to least specific.
    ScopeType {
        User => "user",
        Team => "team",
        Department => "department",
        Division => "division",
        All => "all",
    }
}

impl ScopeType {
    /// 0 is the most specific scope (`user`), 4 the least (`all`).
    pub fn specificity_rank(self) -> u8 {
        match self {
            Self::User => 0,
            Self::Team => 1,
            Self::Department => 2,
            Self::Division => 3,
            Self::All => 4,
        }
    }
}

string_enum! {
    /// Who may approve a role's requests.
    ApproverType {
        User => "user",
        Manager => "manager",
        Team => "team",
        Department => "department",
    }
}

string_enum! {
    /// Why a request was approved without a human decision (seed 2.5).
    AutoApprovalReason {
        PreApprovedRole => "pre_approved_role",
        SeniorityBypass => "seniority_bypass",
        /// The role is a break-glass role: granted at once, flagged, reviewed afterwards.
        BreakGlass => "break_glass",
    }
}

string_enum! {
    /// The after-the-fact review of a break-glass grant.
    ReviewOutcome {
        /// The use was justified.
        Accept => "accept",
        /// The use is questioned (the review may also revoke the grant).
        Flag => "flag",
    }
}

string_enum! {
    /// Where a break-glass grant's review stands.
    BreakGlassStatus {
        /// Not reviewed yet, still within the review window.
        Unreviewed => "unreviewed",
        /// Not reviewed and the review window has passed.
        Overdue => "overdue",
        /// Reviewed: accepted.
        Accepted => "accepted",
        /// Reviewed: flagged.
        Flagged => "flagged",
    }
}

string_enum! {
    /// A human decision on a pending request.
    Decision {
        Approved => "approved",
        Denied => "denied",
    }
}

string_enum! {
    /// Kind of system a target is.
    TargetKind {
        Noop => "noop",
        Mssql => "mssql",
        Postgres => "postgres",
        Mysql => "mysql",
        /// A system JITEA does not know, driven through signed HTTP calls (the target webhook
        /// contract in the OpenAPI document).
        Webhook => "webhook",
        /// AWS IAM Identity Center: an entitlement is a permission set on an account.
        AwsSso => "aws_sso",
    }
}

string_enum! {
    /// What a `webhook` target is asked to do.
    TargetWebhookOp {
        /// Answer 2xx if the system is reachable and the signature checks.
        Ping => "ping",
        /// Answer `exists`: whether `entitlement` is something the system can grant.
        EntitlementExists => "entitlement_exists",
        /// Give `principal` the `entitlement` (2xx also when it already has it).
        Add => "add",
        /// Take the `entitlement` from `principal` (2xx also when it did not have it).
        Drop => "drop",
        /// Answer `members`: every principal holding `entitlement`.
        Members => "members",
        /// End `principal`'s open sessions (404 or 501: the system has none to end).
        EndSessions => "end_sessions",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_for_every_variant() {
        for s in RequestStatus::ALL {
            assert_eq!(s.as_str().parse::<RequestStatus>().unwrap(), *s);
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for s in GrantStatus::ALL {
            assert_eq!(s.as_str().parse::<GrantStatus>().unwrap(), *s);
        }
        assert!("Pending".parse::<RequestStatus>().is_err());
    }

    #[test]
    fn scopes_are_ranked_most_specific_first() {
        let ranks: Vec<u8> = ScopeType::ALL
            .iter()
            .map(|s| s.specificity_rank())
            .collect();
        assert_eq!(ranks, vec![0, 1, 2, 3, 4]);
    }
}
