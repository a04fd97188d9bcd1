//! Who may decide a pending request (seed 1.1 `Role_Approvers`, 5.3 "no self-approval").
//!
//! Why the requester is refused before anything else: separation of duties is the point of an
//! approval step, so nobody approves their own request whatever entries name them, and
//! administrators are not special here (they can change the approvers, which is audited, but
//! not skip them).

use jitea_shared::ApproverType;

use super::same_name;

/// One `role_approvers` row of the request's role. Only the field that fits
/// `approver_type` is read: `user_id` for `user`, `team_id` for `team`, `department` for
/// `department`; a `manager` entry means "the requester's manager".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApproverEntry {
    pub approver_type: ApproverType,
    pub user_id: Option<i64>,
    pub team_id: Option<i64>,
    pub department: Option<String>,
    /// The entry's stage when the role collects approvals in stages (lowest first).
    pub priority: i64,
}

/// The person who made the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requester<'a> {
    pub user_id: i64,
    /// Login name of the requester's manager, as synced from the directory.
    pub manager_login_name: Option<&'a str>,
}

/// The person who wants to approve or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate<'a> {
    pub user_id: i64,
    pub login_name: &'a str,
    pub is_active: bool,
    pub department: Option<&'a str>,
    /// Teams the candidate is an *active* member of.
    pub active_team_ids: &'a [i64],
}

fn entry_matches(entry: &ApproverEntry, candidate: &Candidate, requester: &Requester) -> bool {
    match entry.approver_type {
        ApproverType::User => entry.user_id == Some(candidate.user_id),
        ApproverType::Manager => requester
            .manager_login_name
            .is_some_and(|manager| same_name(manager, candidate.login_name)),
        ApproverType::Team => entry
            .team_id
            .is_some_and(|team| candidate.active_team_ids.contains(&team)),
        ApproverType::Department => matches!(
            (entry.department.as_deref(), candidate.department),
            (Some(wanted), Some(theirs)) if same_name(wanted, theirs)
        ),
    }
}

/// The type of the first entry (in the given order) that makes `candidate` an approver of
/// `requester`'s request, or `None` if the candidate may not decide it.
///
/// The returned type is recorded with the decision, so the audit shows on what grounds the
/// approver acted.
pub fn may_approve(
    candidate: &Candidate,
    requester: &Requester,
    entries: &[ApproverEntry],
) -> Option<ApproverType> {
    may_approve_at(candidate, requester, entries, None)
}

/// Like [`may_approve`], but only the entries of the open stage count: those whose
/// `priority` is `open_priority` (`None`: every entry). See `domain::approval_stages`.
pub fn may_approve_at(
    candidate: &Candidate,
    requester: &Requester,
    entries: &[ApproverEntry],
    open_priority: Option<i64>,
) -> Option<ApproverType> {
    if candidate.user_id == requester.user_id || !candidate.is_active {
        return None;
    }
    entries
        .iter()
        .filter(|e| open_priority.is_none_or(|p| e.priority == p))
        .find(|e| entry_matches(e, candidate, requester))
        .map(|e| e.approver_type)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use ApproverType::{Department, Manager, Team, User};

    fn entry(t: ApproverType) -> ApproverEntry {
        ApproverEntry {
            approver_type: t,
            user_id: None,
            team_id: None,
            department: None,
            priority: 0,
        }
    }
    fn user_entry(id: i64) -> ApproverEntry {
        ApproverEntry {
            user_id: Some(id),
            ..entry(User)
        }
    }
    fn team_entry(id: i64) -> ApproverEntry {
        ApproverEntry {
            team_id: Some(id),
            ..entry(Team)
        }
    }
    fn dept_entry(d: &str) -> ApproverEntry {
        ApproverEntry {
            department: Some(d.into()),
            ..entry(Department)
        }
    }

    const TEAMS: &[i64] = &[10, 11];

    fn boss() -> Candidate<'static> {
        Candidate {
            user_id: 2,
            login_name: "CORP\\boss",
            is_active: true,
            department: Some("Security"),
            active_team_ids: TEAMS,
        }
    }

    fn requester() -> Requester<'static> {
        Requester {
            user_id: 1,
            manager_login_name: Some("corp\\BOSS"),
        }
    }

    #[test]
    fn may_approve_table() {
        let inactive = Candidate {
            is_active: false,
            ..boss()
        };
        let no_dept = Candidate {
            department: None,
            ..boss()
        };
        let no_manager = Requester {
            manager_login_name: None,
            ..requester()
        };
        let other_manager = Requester {
            manager_login_name: Some("corp\\someone"),
            ..requester()
        };
        // (name, candidate, requester, entries, expected)
        type Case<'a> = (
            &'a str,
            Candidate<'a>,
            Requester<'a>,
            Vec<ApproverEntry>,
            Option<ApproverType>,
        );
        let cases: Vec<Case> = vec![
            ("no entries", boss(), requester(), vec![], None),
            (
                "named user",
                boss(),
                requester(),
                vec![user_entry(2)],
                Some(User),
            ),
            ("other user", boss(), requester(), vec![user_entry(3)], None),
            (
                "user entry without id",
                boss(),
                requester(),
                vec![entry(User)],
                None,
            ),
            (
                "manager, case-insensitive",
                boss(),
                requester(),
                vec![entry(Manager)],
                Some(Manager),
            ),
            (
                "requester has no manager",
                boss(),
                no_manager,
                vec![entry(Manager)],
                None,
            ),
            (
                "not the manager",
                boss(),
                other_manager,
                vec![entry(Manager)],
                None,
            ),
            (
                "team member",
                boss(),
                requester(),
                vec![team_entry(11)],
                Some(Team),
            ),
            (
                "not in team",
                boss(),
                requester(),
                vec![team_entry(12)],
                None,
            ),
            (
                "department",
                boss(),
                requester(),
                vec![dept_entry(" security ")],
                Some(Department),
            ),
            (
                "other department",
                boss(),
                requester(),
                vec![dept_entry("Finance")],
                None,
            ),
            (
                "candidate without department",
                no_dept,
                requester(),
                vec![dept_entry("Security")],
                None,
            ),
            (
                "inactive candidate",
                inactive,
                requester(),
                vec![user_entry(2), entry(Manager)],
                None,
            ),
            (
                "first matching entry wins",
                boss(),
                requester(),
                vec![team_entry(99), dept_entry("Security"), user_entry(2)],
                Some(Department),
            ),
            (
                "order matters",
                boss(),
                requester(),
                vec![user_entry(2), dept_entry("Security")],
                Some(User),
            ),
        ];
        for (name, c, r, entries, expected) in cases {
            assert_eq!(may_approve(&c, &r, &entries), expected, "{name}");
        }
    }

    #[test]
    fn self_approval_is_refused_for_every_type() {
        // The requester is their own manager, in the approving team and department, and named.
        let me = Candidate {
            user_id: 1,
            login_name: "corp\\boss",
            ..boss()
        };
        for t in ApproverType::ALL {
            let e = ApproverEntry {
                approver_type: *t,
                user_id: Some(1),
                team_id: Some(10),
                department: Some("Security".into()),
                priority: 0,
            };
            // The same entry does qualify a different person, so the refusal is about self.
            let other = Candidate { user_id: 5, ..me };
            assert_eq!(
                may_approve(&other, &requester(), std::slice::from_ref(&e)).is_some(),
                *t != User,
                "{t}"
            );
            assert_eq!(may_approve(&me, &requester(), &[e]), None, "{t}");
        }
    }

    fn arb_entry() -> impl Strategy<Value = ApproverEntry> {
        (
            prop::sample::select(ApproverType::ALL),
            proptest::option::of(1i64..5),
            proptest::option::of(9i64..13),
            proptest::option::of(prop::sample::select(vec!["Security", "finance"])),
            0i64..3,
        )
            .prop_map(
                |(t, user_id, team_id, department, priority)| ApproverEntry {
                    approver_type: t,
                    user_id,
                    team_id,
                    department: department.map(str::to_string),
                    priority,
                },
            )
    }

    proptest! {
        #[test]
        fn nobody_approves_their_own_request(
            entries in prop::collection::vec(arb_entry(), 0..6),
            id in 1i64..5,
            active in any::<bool>(),
        ) {
            let me = Candidate { user_id: id, is_active: active, ..boss() };
            let r = Requester { user_id: id, manager_login_name: Some(me.login_name) };
            prop_assert_eq!(may_approve(&me, &r, &entries), None);
        }

        #[test]
        fn inactive_candidates_never_approve(entries in prop::collection::vec(arb_entry(), 0..6)) {
            let c = Candidate { is_active: false, ..boss() };
            prop_assert_eq!(may_approve(&c, &requester(), &entries), None);
        }

        #[test]
        fn result_is_the_type_of_some_entry_and_stable_under_extension(
            entries in prop::collection::vec(arb_entry(), 0..6),
            more in prop::collection::vec(arb_entry(), 0..3),
        ) {
            let got = may_approve(&boss(), &requester(), &entries);
            if let Some(t) = got {
                prop_assert!(entries.iter().any(|e| e.approver_type == t));
                // Appending entries never changes who qualifies first.
                let mut extended = entries.clone();
                extended.extend(more);
                prop_assert_eq!(may_approve(&boss(), &requester(), &extended), got);
            }
        }

        /// In a stage, exactly the candidates matched by that stage's entries may approve,
        /// and anyone who may approve in some stage may decide the request.
        #[test]
        fn a_stage_admits_only_its_own_entries(
            entries in prop::collection::vec(arb_entry(), 0..6),
            stage in 0i64..3,
        ) {
            let only: Vec<ApproverEntry> =
                entries.iter().filter(|e| e.priority == stage).cloned().collect();
            let at = may_approve_at(&boss(), &requester(), &entries, Some(stage));
            prop_assert_eq!(at, may_approve(&boss(), &requester(), &only));
            if at.is_some() {
                prop_assert!(may_approve(&boss(), &requester(), &entries).is_some());
            }
        }
    }
}
