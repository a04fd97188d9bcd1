//! The request and grant state machines.
//!
//! Why a closed table: every state change is audited and several processes may race on the
//! same row (an approver clicking "approve" while the expiry engine runs), so the store
//! applies a transition only if this table allows it from the state it read, under a
//! conditional update. Terminal states accept nothing: a denied, cancelled, expired or revoked
//! request, and an expired, revoked or failed grant, are history.

use std::fmt;

use jitea_shared::{GrantStatus, RequestStatus};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Something that can happen to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestAction {
    Approve,
    Deny,
    Cancel,
    Expire,
    Revoke,
}

impl RequestAction {
    pub const ALL: &'static [RequestAction] = &[
        RequestAction::Approve,
        RequestAction::Deny,
        RequestAction::Cancel,
        RequestAction::Expire,
        RequestAction::Revoke,
    ];

    /// The state a successful action leads to.
    pub fn target(self) -> RequestStatus {
        match self {
            RequestAction::Approve => RequestStatus::Approved,
            RequestAction::Deny => RequestStatus::Denied,
            RequestAction::Cancel => RequestStatus::Cancelled,
            RequestAction::Expire => RequestStatus::Expired,
            RequestAction::Revoke => RequestStatus::Revoked,
        }
    }

    fn past_participle(self) -> &'static str {
        match self {
            RequestAction::Approve => "approved",
            RequestAction::Deny => "denied",
            RequestAction::Cancel => "cancelled",
            RequestAction::Expire => "expired",
            RequestAction::Revoke => "revoked",
        }
    }
}

/// Something that can happen to a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantAction {
    /// Provisioning on the target succeeded.
    Activate,
    Expire,
    Revoke,
    /// Provisioning on the target failed for good.
    Fail,
}

impl GrantAction {
    pub const ALL: &'static [GrantAction] = &[
        GrantAction::Activate,
        GrantAction::Expire,
        GrantAction::Revoke,
        GrantAction::Fail,
    ];

    /// The state a successful action leads to.
    pub fn target(self) -> GrantStatus {
        match self {
            GrantAction::Activate => GrantStatus::Active,
            GrantAction::Expire => GrantStatus::Expired,
            GrantAction::Revoke => GrantStatus::Revoked,
            GrantAction::Fail => GrantStatus::Failed,
        }
    }

    fn past_participle(self) -> &'static str {
        match self {
            GrantAction::Activate => "activated",
            GrantAction::Expire => "expired",
            GrantAction::Revoke => "revoked",
            GrantAction::Fail => "marked as failed",
        }
    }
}

/// "a"/"an" plus the status in words, e.g. "an auto-approved".
fn with_article(status: &str) -> String {
    let words = status.replace('_', "-");
    let article = if words.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {words}")
}

/// A request action that its current state does not allow (answered with 409).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub struct TransitionError {
    pub from: RequestStatus,
    pub action: RequestAction,
}

impl fmt::Display for TransitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} request cannot be {}",
            with_article(self.from.as_str()),
            self.action.past_participle()
        )
    }
}

/// A grant action that its current state does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub struct GrantTransitionError {
    pub from: GrantStatus,
    pub action: GrantAction,
}

impl fmt::Display for GrantTransitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} grant cannot be {}",
            with_article(self.from.as_str()),
            self.action.past_participle()
        )
    }
}

/// Whether a request in `status` can never change again.
pub fn request_is_terminal(status: RequestStatus) -> bool {
    use RequestStatus::*;
    matches!(status, Denied | Cancelled | Expired | Revoked)
}

/// Whether a grant in `status` can never change again.
pub fn grant_is_terminal(status: GrantStatus) -> bool {
    !status.is_live()
}

/// The state a request moves to, or why it cannot.
///
/// Only pending requests are decided (approve, deny) or withdrawn (cancel); only granted ones
/// (approved or auto-approved) expire or are revoked.
pub fn request_transition(
    from: RequestStatus,
    action: RequestAction,
) -> Result<RequestStatus, TransitionError> {
    use RequestAction as A;
    use RequestStatus as S;
    match (from, action) {
        (S::Pending, A::Approve | A::Deny | A::Cancel)
        | (S::Approved | S::AutoApproved, A::Expire | A::Revoke) => Ok(action.target()),
        _ => Err(TransitionError { from, action }),
    }
}

/// The state a grant moves to, or why it cannot.
///
/// A grant still provisioning may be expired or revoked too: its end time or a revocation can
/// arrive before the target answers, and the connector then removes whatever it managed to add.
pub fn grant_transition(
    from: GrantStatus,
    action: GrantAction,
) -> Result<GrantStatus, GrantTransitionError> {
    use GrantAction as A;
    use GrantStatus as S;
    match (from, action) {
        (S::Provisioning, A::Activate | A::Fail)
        | (S::Provisioning | S::Active, A::Expire | A::Revoke) => Ok(action.target()),
        _ => Err(GrantTransitionError { from, action }),
    }
}

/// Whether `action` on a request already in `current` is a retry of an action that already
/// succeeded (e.g. cancel on a cancelled request), which the API answers with success rather
/// than a conflict so that clients can retry safely.
///
/// This only compares states; whether the earlier action was taken by the same actor (an
/// approval by someone else, say) is for the caller to decide from the audit trail.
pub fn is_idempotent_repeat(current: RequestStatus, action: RequestAction) -> bool {
    current == action.target()
}

/// The grant counterpart of [`is_idempotent_repeat`].
pub fn is_idempotent_grant_repeat(current: GrantStatus, action: GrantAction) -> bool {
    current == action.target()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use GrantAction as GA;
    use GrantStatus as GS;
    use RequestAction as RA;
    use RequestStatus as RS;

    #[test]
    fn every_request_pair() {
        // Rows: status; columns: Approve, Deny, Cancel, Expire, Revoke. `None` = refused.
        let table: [(RS, [Option<RS>; 5]); 7] = [
            (
                RS::Pending,
                [
                    Some(RS::Approved),
                    Some(RS::Denied),
                    Some(RS::Cancelled),
                    None,
                    None,
                ],
            ),
            (
                RS::Approved,
                [None, None, None, Some(RS::Expired), Some(RS::Revoked)],
            ),
            (
                RS::AutoApproved,
                [None, None, None, Some(RS::Expired), Some(RS::Revoked)],
            ),
            (RS::Denied, [None; 5]),
            (RS::Cancelled, [None; 5]),
            (RS::Expired, [None; 5]),
            (RS::Revoked, [None; 5]),
        ];
        assert_eq!(table.len(), RS::ALL.len());
        for (from, row) in table {
            for (action, expected) in RA::ALL.iter().zip(row) {
                let got = request_transition(from, *action);
                match expected {
                    Some(to) => assert_eq!(got, Ok(to), "{from} {action:?}"),
                    None => assert_eq!(
                        got,
                        Err(TransitionError {
                            from,
                            action: *action
                        }),
                        "{from} {action:?}"
                    ),
                }
            }
        }
    }

    #[test]
    fn every_grant_pair() {
        // Columns: Activate, Expire, Revoke, Fail.
        let table: [(GS, [Option<GS>; 4]); 5] = [
            (
                GS::Provisioning,
                [
                    Some(GS::Active),
                    Some(GS::Expired),
                    Some(GS::Revoked),
                    Some(GS::Failed),
                ],
            ),
            (
                GS::Active,
                [None, Some(GS::Expired), Some(GS::Revoked), None],
            ),
            (GS::Expired, [None; 4]),
            (GS::Revoked, [None; 4]),
            (GS::Failed, [None; 4]),
        ];
        assert_eq!(table.len(), GS::ALL.len());
        for (from, row) in table {
            for (action, expected) in GA::ALL.iter().zip(row) {
                let got = grant_transition(from, *action);
                match expected {
                    Some(to) => assert_eq!(got, Ok(to), "{from} {action:?}"),
                    None => assert_eq!(
                        got,
                        Err(GrantTransitionError {
                            from,
                            action: *action
                        }),
                        "{from} {action:?}"
                    ),
                }
            }
        }
    }

    #[test]
    fn error_messages_read_naturally() {
        let cases = [
            (
                RS::Denied,
                RA::Approve,
                "a denied request cannot be approved",
            ),
            (
                RS::AutoApproved,
                RA::Cancel,
                "an auto-approved request cannot be cancelled",
            ),
            (
                RS::Expired,
                RA::Revoke,
                "an expired request cannot be revoked",
            ),
            (
                RS::Pending,
                RA::Expire,
                "a pending request cannot be expired",
            ),
        ];
        for (from, action, text) in cases {
            assert_eq!(TransitionError { from, action }.to_string(), text);
        }
        assert_eq!(
            GrantTransitionError {
                from: GS::Active,
                action: GA::Fail
            }
            .to_string(),
            "an active grant cannot be marked as failed"
        );
        assert_eq!(
            GrantTransitionError {
                from: GS::Failed,
                action: GA::Activate
            }
            .to_string(),
            "a failed grant cannot be activated"
        );
    }

    #[test]
    fn idempotent_repeat_table() {
        let cases = [
            (RS::Cancelled, RA::Cancel, true),
            (RS::Approved, RA::Approve, true),
            (RS::Denied, RA::Deny, true),
            (RS::Expired, RA::Expire, true),
            (RS::Revoked, RA::Revoke, true),
            (RS::AutoApproved, RA::Approve, false), // never pending, so not a retry
            (RS::Denied, RA::Approve, false),
            (RS::Pending, RA::Cancel, false),
            (RS::Revoked, RA::Expire, false),
        ];
        for (current, action, expected) in cases {
            assert_eq!(
                is_idempotent_repeat(current, action),
                expected,
                "{current} {action:?}"
            );
        }
        assert!(is_idempotent_grant_repeat(GS::Active, GA::Activate));
        assert!(!is_idempotent_grant_repeat(GS::Expired, GA::Revoke));
    }

    #[test]
    fn terminal_sets() {
        let terminal: Vec<RS> = RS::ALL
            .iter()
            .copied()
            .filter(|s| request_is_terminal(*s))
            .collect();
        assert_eq!(
            terminal,
            vec![RS::Denied, RS::Cancelled, RS::Expired, RS::Revoked]
        );
        let terminal: Vec<GS> = GS::ALL
            .iter()
            .copied()
            .filter(|s| grant_is_terminal(*s))
            .collect();
        assert_eq!(terminal, vec![GS::Expired, GS::Revoked, GS::Failed]);
    }

    fn request_status() -> impl Strategy<Value = RS> {
        prop::sample::select(RS::ALL)
    }
    fn request_action() -> impl Strategy<Value = RA> {
        prop::sample::select(RA::ALL)
    }
    fn grant_status() -> impl Strategy<Value = GS> {
        prop::sample::select(GS::ALL)
    }
    fn grant_action() -> impl Strategy<Value = GA> {
        prop::sample::select(GA::ALL)
    }

    proptest! {
        #[test]
        fn terminal_requests_never_transition(s in request_status(), a in request_action()) {
            if request_is_terminal(s) {
                prop_assert!(request_transition(s, a).is_err());
            }
        }

        #[test]
        fn terminal_grants_never_transition(s in grant_status(), a in grant_action()) {
            if grant_is_terminal(s) {
                prop_assert!(grant_transition(s, a).is_err());
            }
        }

        #[test]
        fn successful_transitions_land_on_the_action_target(
            s in request_status(), a in request_action(), g in grant_status(), ga in grant_action()
        ) {
            if let Ok(to) = request_transition(s, a) {
                prop_assert_eq!(to, a.target());
                prop_assert_ne!(to, s);
            }
            if let Ok(to) = grant_transition(g, ga) {
                prop_assert_eq!(to, ga.target());
                prop_assert_ne!(to, g);
            }
        }

        #[test]
        fn an_idempotent_repeat_is_never_a_legal_transition(
            s in request_status(), a in request_action()
        ) {
            if is_idempotent_repeat(s, a) {
                prop_assert!(request_transition(s, a).is_err());
            }
        }

        #[test]
        fn any_sequence_of_actions_ends_open_or_terminal_and_stays_there(
            actions in prop::collection::vec(request_action(), 0..10)
        ) {
            let mut s = RS::Pending;
            let mut became_terminal = false;
            for a in actions {
                if let Ok(to) = request_transition(s, a) {
                    prop_assert!(!became_terminal);
                    s = to;
                }
                became_terminal |= request_is_terminal(s);
            }
            prop_assert_eq!(request_is_terminal(s), !s.is_open());
        }
    }
}
