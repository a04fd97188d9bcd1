//! Which roles may a user request, and why: the one place that answers it from the store's
//! facts. `me/requestable-roles` (the web app's role picker), `eligibility/check` (the admin
//! checker), request creation and the approval re-check all go through [`UserAccess`].
//!
//! Per use it reads three small things: the catalogue's version (the catalogue itself is kept
//! in memory, `store::catalog_cache`), the user's active teams and the user's overrides. The
//! decision for each role is the pure `domain::eligibility::resolve_eligibility`, given the
//! rules the index finds about the user — which decides exactly as all of the role's rules
//! would (the property tests here and in the domain check it).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use jitea_shared::{AutoApprovalReason, RequestableRole, Role, User};

use crate::domain::auto_approval::auto_approval;
use crate::domain::eligibility::{
    resolve_eligibility, Eligibility, EligibilityOverride, EligibilityRule, RoleFacts, SubjectUser,
};
use crate::store::catalog_cache::{CatalogCache, CatalogSnapshot};
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
        requires_justification: crate::domain::break_glass::requires_justification(
            r.requires_justification,
            r.break_glass,
        ),
    }
}

/// Whether `user` may request `role` now, and what would happen to such a request.
pub struct AccessCheck {
    pub eligibility: Eligibility,
    pub auto_approval: Option<AutoApprovalReason>,
}

/// Everything that decides what one user may request, loaded once.
pub struct UserAccess {
    subject: SubjectUser,
    overrides: HashMap<i64, EligibilityOverride>,
    /// The catalogue's rules about this user, by role.
    rules: HashMap<i64, Vec<EligibilityRule>>,
    catalog: Arc<CatalogSnapshot>,
}

impl UserAccess {
    /// Loads `user`'s facts and the current catalogue (on `db`, so inside the caller's
    /// transaction when there is one).
    pub async fn load(
        cache: &CatalogCache,
        db: &mut Db<'_>,
        user: &User,
    ) -> Result<Self, StoreError> {
        let catalog = cache.snapshot(db).await?;
        let subject = SubjectUser {
            id: user.id,
            is_active: user.is_active,
            department: user.department.clone(),
            division: user.division.clone(),
            active_team_ids: users::active_team_ids(db, user.id).await?,
            seniority_level: user.seniority_level,
        };
        let overrides = eligibility::overrides_for_resolution(db, user.id).await?;
        let rules = catalog.rules.matching(&subject);
        Ok(Self {
            subject,
            overrides,
            rules,
            catalog,
        })
    }

    /// May this user request `role` now, why, and would it be auto-approved.
    pub fn check(&self, role: &Role, now: DateTime<Utc>) -> AccessCheck {
        let facts = role_facts(role);
        let rules = self.rules.get(&role.id).map_or(&[][..], Vec::as_slice);
        AccessCheck {
            eligibility: resolve_eligibility(
                &self.subject,
                &facts,
                self.overrides.get(&role.id),
                rules,
                now,
            ),
            auto_approval: crate::domain::break_glass::approval(
                role.break_glass,
                auto_approval(&facts, self.subject.seniority_level),
            ),
        }
    }

    /// Every enabled role this user may request now, by role name, with its db roles and
    /// whether a request would be auto-approved.
    pub fn requestable(&self, now: DateTime<Utc>) -> Vec<RequestableRole> {
        self.catalog
            .roles
            .iter()
            .filter(|role| role.is_enabled)
            .filter_map(|role| {
                let check = self.check(role, now);
                check.eligibility.eligible.then(|| RequestableRole {
                    role: role.clone(),
                    db_roles: self.catalog.db_roles(role.id).to_vec(),
                    would_auto_approve: check.auto_approval.is_some(),
                    auto_approval_reason: check.auto_approval,
                })
            })
            .collect()
    }
}

/// [`UserAccess::check`] for one role (`role` as the caller read it, in its transaction).
pub async fn check(
    cache: &CatalogCache,
    db: &mut Db<'_>,
    user: &User,
    role: &Role,
    now: DateTime<Utc>,
) -> Result<AccessCheck, StoreError> {
    Ok(UserAccess::load(cache, db, user).await?.check(role, now))
}

#[cfg(test)]
mod tests {
    //! The store-backed path against the pure reference, on random organisations in a real
    //! (SQLite) database: every user × every role, before and after a catalogue change made
    //! through the store (so the in-memory catalogue must notice it).

    use super::*;
    use crate::domain::Window;
    use crate::store::{catalog, migrate, teams, Store};
    use chrono::{TimeDelta, TimeZone};
    use jitea_shared::{
        EligibilityOverrideSet, EligibilityRuleCreate, RoleCreate, RoleUpdate, ScopeType,
        TeamCreate, TeamUpdate, UserCreate,
    };
    use proptest::prelude::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap()
    }

    const USERS: usize = 4;
    const TEAMS: usize = 3;
    const ROLES: usize = 4;

    /// How a rule's scope value is written (the API canonicalises; older or hand-made rows
    /// need not be).
    #[derive(Debug, Clone)]
    enum Value {
        User(usize, &'static str),
        Team(usize, &'static str),
        Text(Option<&'static str>),
    }

    #[derive(Debug, Clone)]
    struct Rule {
        role: usize,
        scope: ScopeType,
        value: Value,
        allow: bool,
        window: Window,
        priority: i64,
    }

    #[derive(Debug, Clone)]
    struct Person {
        active: bool,
        department: Option<&'static str>,
        division: Option<&'static str>,
        seniority: Option<i64>,
    }

    #[derive(Debug, Clone)]
    enum Change {
        AddRule(Rule),
        DeleteRule(usize),
        FlipRole(usize),
        Override(usize, usize, bool),
    }

    #[derive(Debug, Clone)]
    struct Org {
        people: Vec<Person>,
        teams_active: Vec<bool>,
        memberships: Vec<(usize, usize, bool)>,
        roles: Vec<(bool, bool, Option<i64>)>,
        rules: Vec<Rule>,
        overrides: Vec<(usize, usize, bool, Window)>,
        change: Change,
    }

    fn arb_window() -> impl Strategy<Value = Window> {
        prop_oneof![
            4 => Just(Window::ALWAYS),
            1 => Just(Window { valid_from: None, valid_to: Some(now() - TimeDelta::minutes(1)) }),
            1 => Just(Window { valid_from: Some(now() + TimeDelta::minutes(1)), valid_to: None }),
        ]
    }

    fn arb_rule() -> impl Strategy<Value = Rule> {
        let id_form = prop::sample::select(vec!["{}", " {} ", "+{}", "0{}"]);
        let scope_value = prop_oneof![
            (0..USERS, id_form.clone()).prop_map(|(u, f)| (ScopeType::User, Value::User(u, f))),
            (0..TEAMS, id_form).prop_map(|(t, f)| (ScopeType::Team, Value::Team(t, f))),
            Just((ScopeType::User, Value::Text(Some("x")))),
            proptest::option::of(prop::sample::select(vec![
                "Ops", "ops ", "OPS", "Δelta", "δelta", " "
            ]))
            .prop_map(|v| (ScopeType::Department, Value::Text(v))),
            proptest::option::of(prop::sample::select(vec!["EMEA", "emea", "APAC"]))
                .prop_map(|v| (ScopeType::Division, Value::Text(v))),
            Just((ScopeType::All, Value::Text(None))),
        ];
        (0..ROLES, scope_value, any::<bool>(), arb_window(), 0i64..3).prop_map(
            |(role, (scope, value), allow, window, priority)| Rule {
                role,
                scope,
                value,
                allow,
                window,
                priority,
            },
        )
    }

    fn arb_org() -> impl Strategy<Value = Org> {
        let person = (
            prop::bool::weighted(0.85),
            proptest::option::of(prop::sample::select(vec!["Ops", "ops", "Sales", "ΔELTA"])),
            proptest::option::of(prop::sample::select(vec!["EMEA", "Emea ", "APAC"])),
            proptest::option::of(0i64..5),
        )
            .prop_map(|(active, department, division, seniority)| Person {
                active,
                department,
                division,
                seniority,
            });
        let change = prop_oneof![
            arb_rule().prop_map(Change::AddRule),
            (0usize..64).prop_map(Change::DeleteRule),
            (0..ROLES).prop_map(Change::FlipRole),
            (0..USERS, 0..ROLES, any::<bool>()).prop_map(|(u, r, a)| Change::Override(u, r, a)),
        ];
        (
            prop::collection::vec(person, USERS),
            prop::collection::vec(prop::bool::weighted(0.8), TEAMS),
            prop::collection::vec((0..USERS, 0..TEAMS, prop::bool::weighted(0.8)), 0..8),
            prop::collection::vec(
                (
                    prop::bool::weighted(0.8),
                    any::<bool>(),
                    proptest::option::of(0i64..5),
                ),
                ROLES,
            ),
            prop::collection::vec(arb_rule(), 0..16),
            prop::collection::vec((0..USERS, 0..ROLES, any::<bool>(), arb_window()), 0..4),
            change,
        )
            .prop_map(
                |(people, teams_active, memberships, roles, rules, overrides, change)| Org {
                    people,
                    teams_active,
                    memberships,
                    roles,
                    rules,
                    overrides,
                    change,
                },
            )
    }

    /// What the database holds, with the ids it gave out, as the reference reads it.
    struct Ids {
        users: Vec<i64>,
        teams: Vec<i64>,
        roles: Vec<i64>,
        /// (rule id, role index, the rule as the domain sees it)
        rules: Vec<(i64, usize, crate::domain::eligibility::EligibilityRule)>,
        overrides: HashMap<(usize, usize), EligibilityOverride>,
        roles_enabled: Vec<bool>,
    }

    fn scope_text(v: &Value, ids: &Ids) -> Option<String> {
        match v {
            Value::User(i, f) => Some(f.replace("{}", &ids.users[*i].to_string())),
            Value::Team(i, f) => Some(f.replace("{}", &ids.teams[*i].to_string())),
            Value::Text(t) => t.map(str::to_string),
        }
    }

    async fn add_rule(db: &mut Db<'_>, ids: &mut Ids, r: &Rule) {
        let scope_value = scope_text(&r.value, ids);
        let create = EligibilityRuleCreate {
            role_id: ids.roles[r.role],
            scope_type: r.scope,
            scope_value: scope_value.clone(),
            can_request: Some(r.allow),
            valid_from_utc: r.window.valid_from,
            valid_to_utc: r.window.valid_to,
            priority: Some(r.priority),
        };
        let id = eligibility::insert_rule(db, &create, "t", now())
            .await
            .unwrap();
        let rule = crate::domain::eligibility::EligibilityRule {
            id,
            scope_type: r.scope,
            scope_value,
            can_request: r.allow,
            window: r.window,
            priority: r.priority,
        };
        ids.rules.push((id, r.role, rule));
    }

    async fn set_override(
        db: &mut Db<'_>,
        ids: &mut Ids,
        u: usize,
        r: usize,
        allow: bool,
        w: Window,
    ) {
        let set = EligibilityOverrideSet {
            can_request: allow,
            valid_from_utc: w.valid_from,
            valid_to_utc: w.valid_to,
            priority: Some(1),
        };
        eligibility::set_override(db, ids.users[u], ids.roles[r], &set, "t", now())
            .await
            .unwrap();
        let o = EligibilityOverride {
            can_request: allow,
            window: w,
            priority: 1,
        };
        ids.overrides.insert((u, r), o);
    }

    async fn build(db: &mut Db<'_>, org: &Org) -> Ids {
        let mut ids = Ids {
            users: Vec::new(),
            teams: Vec::new(),
            roles: Vec::new(),
            rules: Vec::new(),
            overrides: HashMap::new(),
            roles_enabled: org.roles.iter().map(|r| r.0).collect(),
        };
        for (i, p) in org.people.iter().enumerate() {
            let c = UserCreate {
                login_name: format!("u{i}"),
                department: p.department.map(str::to_string),
                division: p.division.map(str::to_string),
                seniority_level: p.seniority,
                ..Default::default()
            };
            let id = users::insert(db, &c, "t", now()).await.unwrap();
            users::set_active(db, id, p.active, "t", now())
                .await
                .unwrap();
            ids.users.push(id);
        }
        for (i, active) in org.teams_active.iter().enumerate() {
            let c = TeamCreate {
                team_name: format!("t{i}"),
                description: None,
                division: None,
                department: None,
            };
            let id = teams::insert(db, &c, "t", now()).await.unwrap();
            let u = TeamUpdate {
                is_active: Some(*active),
                ..Default::default()
            };
            teams::update(db, id, &u, "t", now()).await.unwrap();
            ids.teams.push(id);
        }
        for (u, t, active) in &org.memberships {
            teams::add_member(db, ids.teams[*t], ids.users[*u], now())
                .await
                .unwrap();
            if !active {
                teams::remove_member(db, ids.teams[*t], ids.users[*u], now())
                    .await
                    .unwrap();
            }
        }
        for (i, (enabled, approval, seniority)) in org.roles.iter().enumerate() {
            let c = RoleCreate {
                // Names out of id order, so listing by name is checked too.
                role_name: format!("role {}", ROLES - i),
                description: None,
                max_duration_minutes: 60,
                requires_ticket: None,
                ticket_regex: None,
                requires_justification: None,
                requires_approval: Some(*approval),
                auto_approve_min_seniority: *seniority,
                is_enabled: Some(*enabled),
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
            ids.roles
                .push(catalog::insert_role(db, &c, "t", now()).await.unwrap());
        }
        for r in &org.rules {
            add_rule(db, &mut ids, r).await;
        }
        for (u, r, allow, w) in &org.overrides {
            set_override(db, &mut ids, *u, *r, *allow, *w).await;
        }
        ids
    }

    async fn apply(db: &mut Db<'_>, ids: &mut Ids, change: &Change) {
        match change {
            Change::AddRule(r) => add_rule(db, ids, r).await,
            Change::DeleteRule(i) if !ids.rules.is_empty() => {
                let (id, _, _) = ids.rules.remove(i % ids.rules.len());
                eligibility::delete_rule(db, id).await.unwrap();
            }
            Change::DeleteRule(_) => {}
            Change::FlipRole(r) => {
                ids.roles_enabled[*r] = !ids.roles_enabled[*r];
                let u = RoleUpdate {
                    is_enabled: Some(ids.roles_enabled[*r]),
                    ..Default::default()
                };
                catalog::update_role(db, ids.roles[*r], &u, "t", now())
                    .await
                    .unwrap();
            }
            Change::Override(u, r, allow) => {
                set_override(db, ids, *u, *r, *allow, Window::ALWAYS).await
            }
        }
    }

    /// The reference: the pure function over everything the organisation says.
    fn reference(org: &Org, ids: &Ids, u: usize, r: usize) -> Eligibility {
        let p = &org.people[u];
        // A membership listed twice ends as its last entry says (`build` adds, then removes).
        let last: HashMap<(usize, usize), bool> = org
            .memberships
            .iter()
            .map(|(mu, t, active)| ((*mu, *t), *active))
            .collect();
        let mut teams: Vec<i64> = last
            .iter()
            .filter(|((mu, t), active)| *mu == u && **active && org.teams_active[*t])
            .map(|((_, t), _)| ids.teams[*t])
            .collect();
        teams.sort_unstable();
        teams.dedup();
        let subject = SubjectUser {
            id: ids.users[u],
            is_active: p.active,
            department: p.department.map(str::to_string),
            division: p.division.map(str::to_string),
            active_team_ids: teams,
            seniority_level: p.seniority,
        };
        let role = RoleFacts {
            id: ids.roles[r],
            is_enabled: ids.roles_enabled[r],
            requires_approval: org.roles[r].1,
            auto_approve_min_seniority: org.roles[r].2,
            max_duration_minutes: 60,
            requires_ticket: false,
            ticket_regex: None,
            requires_justification: true,
        };
        let rules: Vec<_> = ids
            .rules
            .iter()
            .filter(|(_, ri, _)| *ri == r)
            .map(|(_, _, x)| x.clone())
            .collect();
        resolve_eligibility(&subject, &role, ids.overrides.get(&(u, r)), &rules, now())
    }

    /// Every user × role through `UserAccess` (both `check` and `requestable`) equals the
    /// reference.
    async fn compare(store: &Store, org: &Org, ids: &Ids) -> Result<(), TestCaseError> {
        let mut c = store.conn().await.unwrap();
        let mut db = Db::new(&mut c, store.dialect());
        for u in 0..USERS {
            let user = users::get_by_id(&mut db, ids.users[u])
                .await
                .unwrap()
                .unwrap();
            let access = UserAccess::load(store.catalog_cache(), &mut db, &user)
                .await
                .unwrap();
            let mut expected = Vec::new();
            for r in 0..ROLES {
                let role = catalog::get_role(&mut db, ids.roles[r])
                    .await
                    .unwrap()
                    .unwrap();
                let want = reference(org, ids, u, r);
                prop_assert_eq!(
                    &access.check(&role, now()).eligibility,
                    &want,
                    "user {} role {}",
                    u,
                    r
                );
                if want.eligible {
                    expected.push((role.role_name.clone(), role.id));
                }
            }
            expected.sort();
            let got: Vec<(String, i64)> = access
                .requestable(now())
                .into_iter()
                .map(|x| (x.role.role_name, x.role.id))
                .collect();
            prop_assert_eq!(got, expected, "requestable roles of user {}", u);
        }
        Ok(())
    }

    static DB_SEQ: AtomicU32 = AtomicU32::new(0);

    fn run(org: &Org) -> Result<(), TestCaseError> {
        let dir = std::env::temp_dir().join(format!(
            "jitea-access-{}-{}",
            std::process::id(),
            DB_SEQ.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}", dir.join("t.db").display());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let result = rt.block_on(async {
            let store = Store::connect(&url).await.unwrap();
            migrate::run(&store).await.unwrap();
            let mut tx = store.begin_write().await.unwrap();
            let mut ids = build(&mut tx.db(), org).await;
            tx.commit().await.unwrap();
            compare(&store, org, &ids).await?;
            let mut tx = store.begin_write().await.unwrap();
            apply(&mut tx.db(), &mut ids, &org.change).await;
            tx.commit().await.unwrap();
            let outcome = compare(&store, org, &ids).await;
            store.close().await;
            outcome
        });
        let _ = std::fs::remove_dir_all(&dir);
        result
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn the_store_backed_path_decides_as_the_domain_function(org in arb_org()) {
            run(&org)?;
        }
    }
}
