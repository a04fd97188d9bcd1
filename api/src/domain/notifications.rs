//! Who is told what (issue 11): from an outbox event to the classes of people it concerns,
//! and how a failed delivery is retried. Pure: the fan-out loads the facts (who may decide a
//! request, who the requester is, who the admins are) and applies this.
//!
//! Why "optional" versus "security": users will be able to mute the optional notices in their
//! profile (a later slice); an alert that access was removed, could not be removed or could
//! not be given, and an approver's call to decide, are never muted.

use chrono::TimeDelta;
use jitea_shared::WebhookEventType;

/// Whom an event concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Audience {
    /// Everyone who may decide the request now (the role's approvers, per `domain::approvers`
    /// and the open approval stage; never the requester).
    Approvers,
    /// Everyone who may decide the role's requests, whatever the request's state and stage:
    /// who reviews a break-glass use (never its holder).
    Reviewers,
    /// The person the request or grant is for.
    Requester,
    /// Every active admin.
    Admins,
}

/// Whether a recipient may mute a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Importance {
    /// May be muted (decisions, access given or extended).
    Optional,
    /// A call to act: an approver is needed. Not muted.
    Action,
    /// A security alert: access removed, failed, or not removable. Never muted.
    Security,
}

impl Importance {
    pub fn mutable(self) -> bool {
        self == Importance::Optional
    }
}

/// What a user may mute of the notices meant for them (`PUT /me/notification-settings`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MuteKind {
    /// Reminders before a grant ends.
    Reminders,
    /// Decisions on their requests, and access given or extended.
    Decisions,
}

impl MuteKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MuteKind::Reminders => "reminders",
            MuteKind::Decisions => "decisions",
        }
    }
}

/// Which mute silences `n` for its recipient when sent for `topic`: only optional notices to
/// the person the request or grant is for; calls to act and security alerts never.
pub fn mute_kind(topic: &str, n: Notice) -> Option<MuteKind> {
    if !n.importance.mutable() || n.audience != Audience::Requester {
        return None;
    }
    Some(if matches!(topic, "grant.expiring" | "grant.expired") {
        MuteKind::Reminders
    } else {
        MuteKind::Decisions
    })
}

/// One class of recipients of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Notice {
    pub audience: Audience,
    pub importance: Importance,
}

const fn notice(audience: Audience, importance: Importance) -> Notice {
    Notice {
        audience,
        importance,
    }
}

/// The recipient classes of an outbox event. `request_status` is the payload's `status` (a
/// created request may already be auto-approved). Unknown topics concern nobody.
pub fn notices(topic: &str, request_status: Option<&str>) -> Vec<Notice> {
    use Audience::*;
    use Importance::*;
    match topic {
        "request.created" => match request_status {
            Some("pending") => vec![notice(Approvers, Action)],
            Some("auto_approved") => vec![notice(Requester, Optional)],
            _ => Vec::new(),
        },
        // One approval of several counted: the next stage (or the rest) is waited for.
        "request.approval_counted" => vec![notice(Approvers, Action)],
        "request.approved" | "request.denied" | "request.expired" | "request.auto_approved" => {
            vec![notice(Requester, Optional)]
        }
        "grant.active" | "grant.extended" | "grant.expiring" => vec![notice(Requester, Optional)],
        "grant.revoked" => vec![notice(Requester, Security)],
        // The access lapsed at its end: the requester may mute this with the reminders.
        "grant.expired" => vec![notice(Requester, Optional)],
        // Provisioning failed: the requester has no access, and admins must look.
        "grant.failed" => vec![notice(Requester, Security), notice(Admins, Security)],
        "grant.revoke_failed" => vec![notice(Admins, Security)],
        // Issue 10: every approver of the role and every admin hears of a break-glass use.
        "grant.break_glass" => vec![notice(Reviewers, Security), notice(Admins, Security)],
        // Reconciliation found access on a target that no grant explains (or a missing one).
        "drift.found" => vec![notice(Admins, Security)],
        // The directory sync refused to deactivate more users than its guard allows.
        "directory.sync_refused" => vec![notice(Admins, Security)],
        _ => Vec::new(),
    }
}

/// Whether an event goes to the team chat (Slack, Teams): calls to act and alerts meant for
/// approvers, reviewers or admins. What concerns only the requester stays personal (email).
pub fn for_chat(topic: &str, request_status: Option<&str>) -> bool {
    notices(topic, request_status)
        .iter()
        .any(|n| n.audience != Audience::Requester)
}

/// Whether a subscription to `events` receives `topic`.
pub fn subscribed(events: &[WebhookEventType], topic: &str) -> bool {
    events
        .iter()
        .any(|e| *e == WebhookEventType::All || e.as_str() == topic)
}

/// Attempts after which a delivery is `failed` for good (an admin may retry it).
pub const MAX_ATTEMPTS: i64 = 8;
/// First retry delay (before jitter).
pub const RETRY_BASE_SECS: i64 = 30;
/// Longest retry delay.
pub const RETRY_CAP_SECS: i64 = 3600;

/// What to do after failed attempt number `attempts` (1-based): `None` when the delivery has
/// used its attempts, else the delay before the next one, "full jitter": uniformly between 0
/// and `min(cap, base * 2^(attempts-1))`, `jitter` being a number in [0, 1).
pub fn retry_after(attempts: i64, jitter: f64) -> Option<TimeDelta> {
    if attempts >= MAX_ATTEMPTS {
        return None;
    }
    let exp = attempts.clamp(1, 30) - 1;
    let ceiling = RETRY_BASE_SECS
        .saturating_mul(1i64 << exp)
        .min(RETRY_CAP_SECS);
    let ms = (ceiling as f64 * 1000.0 * jitter.clamp(0.0, 1.0)) as i64;
    Some(TimeDelta::milliseconds(ms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_pending_request_asks_its_approvers_and_an_auto_approved_one_tells_the_requester() {
        assert_eq!(
            notices("request.created", Some("pending")),
            vec![notice(Audience::Approvers, Importance::Action)]
        );
        assert_eq!(
            notices("request.created", Some("auto_approved")),
            vec![notice(Audience::Requester, Importance::Optional)]
        );
        assert!(notices("request.created", None).is_empty());
        assert_eq!(
            notices("request.approval_counted", Some("pending"))[0].audience,
            Audience::Approvers
        );
    }

    #[test]
    fn decisions_are_optional_and_removals_are_security_alerts() {
        for t in [
            "request.approved",
            "request.denied",
            "request.expired",
            "grant.active",
            "grant.extended",
        ] {
            let n = notices(t, None);
            assert_eq!(n.len(), 1, "{t}");
            assert_eq!(n[0].audience, Audience::Requester);
            assert!(n[0].importance.mutable(), "{t} is optional");
        }
        assert_eq!(
            notices("grant.revoked", None),
            vec![notice(Audience::Requester, Importance::Security)]
        );
        let failed = notices("grant.failed", None);
        assert!(failed.contains(&notice(Audience::Admins, Importance::Security)));
        assert!(failed.contains(&notice(Audience::Requester, Importance::Security)));
        assert_eq!(
            notices("grant.revoke_failed", None),
            vec![notice(Audience::Admins, Importance::Security)]
        );
        // A break-glass use: the role's approvers (its reviewers) and every admin, unmutable.
        assert_eq!(
            notices("grant.break_glass", None),
            vec![
                notice(Audience::Reviewers, Importance::Security),
                notice(Audience::Admins, Importance::Security)
            ]
        );
    }

    #[test]
    fn only_optional_notices_to_the_requester_can_be_muted() {
        let one = |t: &str, status: Option<&str>| {
            notices(t, status)
                .into_iter()
                .map(|n| mute_kind(t, n))
                .collect::<Vec<_>>()
        };
        assert_eq!(one("grant.expiring", None), [Some(MuteKind::Reminders)]);
        for t in [
            "request.approved",
            "request.denied",
            "grant.active",
            "grant.extended",
        ] {
            assert_eq!(one(t, None), [Some(MuteKind::Decisions)], "{t}");
        }
        for t in ["grant.revoked", "grant.revoke_failed"] {
            assert!(one(t, None).iter().all(Option::is_none), "{t}");
        }
        assert_eq!(one("grant.failed", None), [None, None]);
        assert_eq!(one("grant.break_glass", None), [None, None]);
        assert_eq!(one("request.created", Some("pending")), [None]);
    }

    #[test]
    fn events_nobody_is_told_about() {
        for t in ["request.cancelled", "grant.reviewed", "something.else", ""] {
            assert!(notices(t, Some("pending")).is_empty(), "{t}");
        }
    }

    #[test]
    fn a_lapse_is_told_mutably_and_drift_and_guard_trips_go_to_admins() {
        assert_eq!(
            notices("grant.expired", None)
                .into_iter()
                .map(|n| mute_kind("grant.expired", n))
                .collect::<Vec<_>>(),
            [Some(MuteKind::Reminders)]
        );
        for t in ["drift.found", "directory.sync_refused"] {
            assert_eq!(
                notices(t, None),
                vec![notice(Audience::Admins, Importance::Security)]
            );
        }
    }

    #[test]
    fn chat_hears_calls_to_act_and_alerts_but_not_personal_news() {
        assert!(for_chat("request.created", Some("pending")));
        assert!(!for_chat("request.created", Some("auto_approved")));
        assert!(for_chat("grant.break_glass", None));
        assert!(for_chat("grant.revoke_failed", None));
        assert!(!for_chat("request.approved", None));
        assert!(!for_chat("grant.expiring", None));
    }

    #[test]
    fn every_told_topic_is_a_subscribable_event_type() {
        for t in [
            "request.created",
            "request.approval_counted",
            "request.approved",
            "request.denied",
            "request.expired",
            "grant.active",
            "grant.extended",
            "grant.expiring",
            "grant.expired",
            "grant.revoked",
            "grant.failed",
            "grant.revoke_failed",
            "grant.break_glass",
            "drift.found",
            "directory.sync_refused",
        ] {
            assert!(
                t.parse::<WebhookEventType>().is_ok(),
                "{t} can be subscribed to"
            );
        }
        use WebhookEventType as E;
        assert!(subscribed(&[E::All], "grant.active"));
        assert!(subscribed(&[E::GrantActive], "grant.active"));
        assert!(!subscribed(&[E::GrantActive], "grant.revoked"));
    }

    #[test]
    fn retries_back_off_up_to_the_cap_then_stop() {
        assert_eq!(
            retry_after(1, 0.999_999),
            Some(TimeDelta::milliseconds(29_999))
        );
        assert_eq!(retry_after(2, 0.5), Some(TimeDelta::seconds(30)));
        // 30 s doubling: the seventh failure waits up to 32 minutes (under the one-hour cap).
        assert_eq!(retry_after(7, 0.5), Some(TimeDelta::seconds(960)));
        assert_eq!(retry_after(MAX_ATTEMPTS, 0.5), None);
        assert_eq!(retry_after(1, 0.0), Some(TimeDelta::zero()));
    }

    proptest! {
        #[test]
        fn no_notice_is_both_muteable_and_an_admin_alert(topic in "[a-z._]{0,30}", status in proptest::option::of("[a-z_]{0,15}")) {
            for n in notices(&topic, status.as_deref()) {
                prop_assert!(!(n.audience == Audience::Admins && n.importance.mutable()));
                prop_assert!(!(n.audience == Audience::Approvers && n.importance.mutable()));
            }
        }

        #[test]
        fn the_delay_stays_within_its_window(attempts in 1i64..20, jitter in 0.0f64..1.0) {
            match retry_after(attempts, jitter) {
                None => prop_assert!(attempts >= MAX_ATTEMPTS),
                Some(d) => {
                    prop_assert!(attempts < MAX_ATTEMPTS);
                    prop_assert!(d >= TimeDelta::zero());
                    let ceiling = (RETRY_BASE_SECS << (attempts - 1)).min(RETRY_CAP_SECS);
                    prop_assert!(d <= TimeDelta::seconds(ceiling));
                }
            }
        }
    }
}
