//! Directory sync (the seed's `sp_User_SyncFromAD` / `Job_SyncAD`): reads the users (and
//! groups) the LDAP settings select, compares them with JITEA's users and applies the plan.
//!
//! - **Matching**: a directory entry is the JITEA user whose `external_id` is its entryUUID /
//!   objectGUID (the DN when it has neither) among users with `source = 'directory'`; failing
//!   that, the user with the same login name (case-insensitive) if it is `local`, `oidc` or
//!   `directory`, which the directory then adopts (`source` becomes `directory`). A login
//!   that belongs to a SCIM user is reported as an error and left alone.
//! - **Plan**: `create` (in the directory, enabled, unknown to JITEA), `update` (facts, team
//!   memberships differ), `deactivate` (a directory user that is no
//!   longer found or whose `userAccountControl` has the disabled bit), `unchanged`, and
//!   `errors` (entries whose values fail validation, duplicates: skipped, never fatal).
//! - **Apply**: users are created and updated by the actor `system:directory`, bypassing the
//!   separation-of-duties rule (the directory, not a person, decides these facts); each
//!   change is audited with its before and after. Deactivation goes through
//!   `workflow::grants::deactivate_user`, which ends the user's sessions and grants at once.
//!   Team memberships follow the directory's groups, for teams named like a group (a team
//!   is created for a group that has none); other teams are left alone. A user JITEA
//!   deactivated is never re-activated by the sync (an admin does that), even when the
//!   directory account is enabled again; their facts are still kept up to date.
//! - **Guard**: when more than `JITEA_LDAP_MAX_DEACTIVATE_PERCENT` of the active directory
//!   users would be deactivated, nothing at all is applied and the run is `refused`, unless
//!   forced: a broken filter or an empty answer must not lock out the company.
//! - A dry run computes and returns the plan and changes nothing but its own run record.
//! - One process syncs at a time: the `directory_sync` row of `job_leases`.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use jitea_shared::{DirectoryChange, DirectoryEntryError, DirectorySyncRun, TeamCreate, User};
use serde_json::json;
use tokio::sync::watch;

use crate::config::LdapConfig;
use crate::directory::ldap as dir_ldap;
use crate::directory::mapping::{self, DirUser, Facts};
use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};
use crate::store::directory::{self as store, Counts};
use crate::store::{teams, users, Db, StoreError};

use super::lease::JobLease;

const JOB: &str = "directory_sync";
const JOB_LEASE: Duration = Duration::from_secs(120);
const ON_DEMAND_WAIT: Duration = Duration::from_secs(30);

/// How a run is asked for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub dry_run: bool,
    pub force: bool,
}

/// The actor of the sync's own changes.
pub fn actor() -> Actor {
    Actor::system("directory")
}

/// An on-demand run (API, CLI): waits for a run elsewhere to finish, then runs. `None` when
/// another run kept going for longer than the wait.
pub async fn run_once(
    state: &AppState,
    cfg: &LdapConfig,
    trigger: &str,
    by: &Actor,
    opts: Options,
) -> Result<Option<DirectorySyncRun>, StoreError> {
    let Some(lease) = JobLease::claim_within(state, JOB, JOB_LEASE, ON_DEMAND_WAIT).await? else {
        return Ok(None);
    };
    let r = pass(state, cfg, trigger, by, opts).await;
    lease.release(state).await?;
    r.map(Some)
}

/// Every `JITEA_DIRECTORY_SYNC_INTERVAL_SECS` until `shutdown`, a run unless another process
/// ran one within the interval. Does nothing without LDAP settings and an interval.
pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    let (Some(cfg), Some(secs)) = (
        state.config.ldap.clone(),
        state.config.directory_sync_interval_secs,
    ) else {
        return;
    };
    let interval = Duration::from_secs(secs);
    let due_after = interval.mul_f64(0.95);
    let by = actor();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.changed() => {
                if *shutdown.borrow() { break; }
            }
        }
        let r = async {
            let Some(lease) = JobLease::try_claim(&state, JOB, JOB_LEASE, Some(due_after)).await?
            else {
                return Ok(());
            };
            let r = pass(&state, &cfg, "schedule", &by, Options::default()).await;
            lease.release(&state).await?;
            r.map(|_| ())
        }
        .await;
        if let Err::<(), StoreError>(e) = r {
            tracing::warn!(error = %e, "scheduled directory sync failed");
        }
    }
}

/// What the sync will do to one user.
#[derive(Debug)]
enum Step {
    Create {
        user: DirUser,
        teams: BTreeSet<String>,
    },
    Update {
        before: Box<User>,
        user: DirUser,
        fields: Vec<String>,
        add_teams: Vec<String>,
        remove_teams: Vec<i64>,
    },
    Deactivate {
        before: Box<User>,
        reason: &'static str,
        dn: Option<String>,
    },
}

struct Plan {
    steps: Vec<Step>,
    unchanged: Vec<i64>,
    /// Users seen in the directory (to stamp `last_ad_sync_utc`).
    seen: Vec<i64>,
    errors: Vec<DirectoryEntryError>,
    entries_seen: i64,
    active_directory_users: i64,
}

impl Plan {
    fn counts(&self) -> Counts {
        let mut c = Counts {
            entries_seen: self.entries_seen,
            unchanged: self.unchanged.len() as i64,
            errors: self.errors.len() as i64,
            ..Default::default()
        };
        for s in &self.steps {
            match s {
                Step::Create { .. } => c.created += 1,
                Step::Update { .. } => c.updated += 1,
                Step::Deactivate { .. } => c.deactivated += 1,
            }
        }
        c
    }

    fn changes(&self) -> Vec<DirectoryChange> {
        self.steps
            .iter()
            .map(|s| match s {
                Step::Create { user, .. } => DirectoryChange {
                    action: "create".into(),
                    login_name: user.login_name.clone(),
                    user_id: None,
                    dn: Some(user.dn.clone()),
                    fields: Vec::new(),
                    reason: None,
                },
                Step::Update {
                    before,
                    user,
                    fields,
                    ..
                } => DirectoryChange {
                    action: "update".into(),
                    login_name: before.login_name.clone(),
                    user_id: Some(before.id),
                    dn: Some(user.dn.clone()),
                    fields: fields.clone(),
                    reason: None,
                },
                Step::Deactivate { before, reason, dn } => DirectoryChange {
                    action: "deactivate".into(),
                    login_name: before.login_name.clone(),
                    user_id: Some(before.id),
                    dn: dn.clone(),
                    fields: vec!["active".into()],
                    reason: Some((*reason).into()),
                },
            })
            .collect()
    }
}

fn facts_of(u: &User) -> Facts {
    Facts {
        given_name: u.given_name.clone(),
        surname: u.surname.clone(),
        display_name: u.display_name.clone(),
        email: u.email.clone(),
        department: u.department.clone(),
        division: u.division.clone(),
        job_title: u.job_title.clone(),
        seniority_level: u.seniority_level,
        manager_login_name: u.manager_login_name.clone(),
    }
}

fn changed_fields(a: &Facts, b: &Facts) -> Vec<String> {
    let mut out = Vec::new();
    macro_rules! cmp {
        ($($f:ident),*) => {$(
            if a.$f != b.$f { out.push(stringify!($f).to_string()); }
        )*};
    }
    cmp!(
        given_name,
        surname,
        display_name,
        email,
        department,
        division,
        job_title,
        seniority_level,
        manager_login_name
    );
    out
}

/// Compares the directory with the database (reads only).
async fn make_plan(
    db: &mut Db<'_>,
    snapshot: dir_ldap::Snapshot,
    cfg: &LdapConfig,
) -> Result<Plan, StoreError> {
    let mut errors = Vec::new();
    let entries_seen = snapshot.users.len() as i64;
    let mut dir_users: Vec<DirUser> = Vec::new();
    let mut logins = HashSet::new();
    let mut ext_ids = HashSet::new();
    for raw in &snapshot.users {
        match mapping::map_user(raw, cfg) {
            Ok(u) => {
                if !logins.insert(u.login_name.to_lowercase()) {
                    errors.push(DirectoryEntryError {
                        dn: u.dn,
                        message: format!("login {} appears more than once", u.login_name),
                    });
                } else if !ext_ids.insert(u.external_id.clone()) {
                    errors.push(DirectoryEntryError {
                        dn: u.dn,
                        message: "its unique id appears more than once".into(),
                    });
                } else {
                    dir_users.push(u);
                }
            }
            Err(message) => errors.push(DirectoryEntryError {
                dn: raw.dn.chars().take(1024).collect(),
                message,
            }),
        }
    }
    mapping::resolve_managers(&mut dir_users);
    let groups = match &snapshot.groups {
        Some(raw) => {
            let mut gs = Vec::new();
            for g in raw {
                match mapping::map_group(g) {
                    Ok(g) => gs.push(g),
                    Err(message) => errors.push(DirectoryEntryError {
                        dn: g.dn.chars().take(1024).collect(),
                        message,
                    }),
                }
            }
            Some(gs)
        }
        None => None,
    };
    let teams_by_user = mapping::teams_by_user(&dir_users, groups.as_deref());
    // The teams the directory manages: those named like one of its groups.
    let managed: HashSet<String> = match &groups {
        Some(gs) => gs.iter().map(|g| g.name.to_lowercase()).collect(),
        None => teams_by_user
            .values()
            .flatten()
            .map(|n| n.to_lowercase())
            .collect(),
    };
    let all_teams = store::teams_by_name(db).await?;
    let memberships = store::memberships(db, "directory").await?;
    let existing = users::by_source(db, "directory").await?;
    // One read of every login instead of one query per entry.
    let by_login = users::all_by_login(db).await?;
    let active_directory_users = existing.iter().filter(|u| u.is_active).count() as i64;
    let by_ext: HashMap<&str, &User> = existing
        .iter()
        .filter_map(|u| u.external_id.as_deref().map(|e| (e, u)))
        .collect();
    let mut matched: HashSet<i64> = HashSet::new();
    let mut plan = Plan {
        steps: Vec::new(),
        unchanged: Vec::new(),
        seen: Vec::new(),
        errors: Vec::new(),
        entries_seen,
        active_directory_users,
    };
    for u in dir_users {
        let teams = teams_by_user
            .get(&mapping::normalize_dn(&u.dn))
            .cloned()
            .unwrap_or_default();
        let found = match by_ext.get(u.external_id.as_str()) {
            Some(x) => Some((*x).clone()),
            None => by_login.get(&u.login_name.to_lowercase()).cloned(),
        };
        let Some(before) = found else {
            if !u.disabled {
                plan.steps.push(Step::Create { user: u, teams });
            }
            continue;
        };
        if matched.contains(&before.id) {
            errors.push(DirectoryEntryError {
                dn: u.dn,
                message: format!("matches user {} a second time", before.login_name),
            });
            continue;
        }
        if !matches!(before.source.as_str(), "directory" | "local" | "oidc") {
            errors.push(DirectoryEntryError {
                dn: u.dn,
                message: format!(
                    "login {} belongs to a user from {}; not adopted",
                    before.login_name, before.source
                ),
            });
            continue;
        }
        if !before.login_name.eq_ignore_ascii_case(&u.login_name) {
            errors.push(DirectoryEntryError {
                dn: u.dn.clone(),
                message: format!(
                    "login changed in the directory from {} to {}; JITEA does not rename users",
                    before.login_name, u.login_name
                ),
            });
        }
        matched.insert(before.id);
        plan.seen.push(before.id);
        if u.disabled {
            if before.is_active {
                plan.steps.push(Step::Deactivate {
                    before: Box::new(before),
                    reason: "disabled",
                    dn: Some(u.dn),
                });
            } else {
                plan.unchanged.push(before.id);
            }
            continue;
        }
        let mut fields = changed_fields(&facts_of(&before), &u.facts);
        if before.source != "directory" || before.external_id.as_deref() != Some(&u.external_id) {
            fields.push("source".into());
        }
        // A user JITEA deactivated stays so even when the directory re-enables the account:
        // an admin activates them again (a deactivation may have been an incident response).
        let current: HashSet<i64> = memberships
            .get(&before.id)
            .map(|v| v.iter().copied().collect())
            .unwrap_or_default();
        let wanted_ids: HashSet<i64> = teams
            .iter()
            .filter_map(|n| all_teams.get(&n.to_lowercase()).map(|t| t.0))
            .collect();
        let add_teams: Vec<String> = teams
            .iter()
            .filter(|n| {
                all_teams
                    .get(&n.to_lowercase())
                    .is_none_or(|t| !current.contains(&t.0))
            })
            .cloned()
            .collect();
        let remove_teams: Vec<i64> = all_teams
            .values()
            .filter(|(id, name)| {
                current.contains(id)
                    && !wanted_ids.contains(id)
                    && managed.contains(&name.to_lowercase())
            })
            .map(|(id, _)| *id)
            .collect();
        if !add_teams.is_empty() || !remove_teams.is_empty() {
            fields.push("teams".into());
        }
        if fields.is_empty() {
            plan.unchanged.push(before.id);
        } else {
            plan.steps.push(Step::Update {
                before: Box::new(before),
                user: u,
                fields,
                add_teams,
                remove_teams,
            });
        }
    }
    for u in existing {
        if u.is_active && !matched.contains(&u.id) {
            plan.steps.push(Step::Deactivate {
                before: Box::new(u),
                reason: "not_found",
                dn: None,
            });
        }
    }
    plan.errors = errors;
    Ok(plan)
}

/// Adds the user to each named team, creating a team for a group that has none.
async fn join_teams(
    db: &mut Db<'_>,
    by: &Actor,
    user_id: i64,
    names: &[String],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if names.is_empty() {
        return Ok(());
    }
    let all = store::teams_by_name(db).await?;
    for n in names {
        let team_id = match all.get(&n.to_lowercase()) {
            Some((id, _)) => *id,
            None => {
                let t = TeamCreate {
                    team_name: n.clone(),
                    description: Some("Group in the directory".into()),
                    division: None,
                    department: None,
                };
                let id = teams::insert(db, &t, &by.login_name, now).await?;
                audit::write(
                    db,
                    Event::new("team_created", by)
                        .details(json!({"team_id": id, "team_name": n, "source": "directory"})),
                    now,
                )
                .await?;
                id
            }
        };
        if teams::add_member(db, team_id, user_id, now).await? {
            audit::write(
                db,
                Event::new("team_member_added", by)
                    .user(user_id)
                    .details(json!({"team_id": team_id, "source": "directory"})),
                now,
            )
            .await?;
        }
    }
    Ok(())
}

fn facts_json(f: &Facts) -> serde_json::Value {
    json!({
        "given_name": f.given_name, "surname": f.surname, "display_name": f.display_name,
        "email": f.email, "department": f.department, "division": f.division,
        "job_title": f.job_title, "seniority_level": f.seniority_level,
        "manager_login_name": f.manager_login_name,
    })
}

/// Applies one create or update in its own transaction.
async fn apply_step(state: &AppState, by: &Actor, step: &Step) -> Result<(), StoreError> {
    let now = state.now();
    let mut tx = state.store.begin_write().await?;
    let mut db = tx.db();
    match step {
        Step::Create { user, teams } => {
            let id = store::insert_user(
                &mut db,
                &user.login_name,
                &user.external_id,
                &user.facts,
                &by.login_name,
                now,
            )
            .await?;
            audit::write(
                &mut db,
                Event::new("user_created", by).user(id).details(json!({
                    "login_name": user.login_name, "source": "directory", "dn": user.dn,
                    "after": facts_json(&user.facts),
                })),
                now,
            )
            .await?;
            let names: Vec<String> = teams.iter().cloned().collect();
            join_teams(&mut db, by, id, &names, now).await?;
        }
        Step::Update {
            before,
            user,
            fields,
            add_teams,
            remove_teams,
        } => {
            store::update_user(
                &mut db,
                before.id,
                &user.external_id,
                &user.facts,
                &by.login_name,
                now,
            )
            .await?;
            audit::write(
                &mut db,
                Event::new("user_updated", by)
                    .user(before.id)
                    .details(json!({
                        "source": "directory", "dn": user.dn, "fields": fields,
                        "before": facts_json(&facts_of(before)), "after": facts_json(&user.facts),
                    })),
                now,
            )
            .await?;
            join_teams(&mut db, by, before.id, add_teams, now).await?;
            for team_id in remove_teams {
                if teams::remove_member(&mut db, *team_id, before.id, now).await? {
                    audit::write(
                        &mut db,
                        Event::new("team_member_removed", by)
                            .user(before.id)
                            .details(json!({"team_id": team_id, "source": "directory"})),
                        now,
                    )
                    .await?;
                }
            }
        }
        Step::Deactivate { .. } => {}
    }
    tx.commit().await
}

async fn finish(
    state: &AppState,
    by: &Actor,
    run_id: i64,
    trigger: &str,
    status: &str,
    message: Option<&str>,
    counts: &Counts,
) -> Result<DirectorySyncRun, StoreError> {
    let now = state.now();
    let mut tx = state.store.begin_write().await?;
    let mut db = tx.db();
    store::finish_run(&mut db, run_id, status, message, counts, now).await?;
    audit::write(
        &mut db,
        Event::new("directory_sync_run", by).details(json!({
            "run_id": run_id, "trigger": trigger, "status": status, "message": message,
            "entries_seen": counts.entries_seen, "created": counts.created,
            "updated": counts.updated, "deactivated": counts.deactivated,
            "unchanged": counts.unchanged, "errors": counts.errors,
        })),
        now,
    )
    .await?;
    if status == "refused" {
        // The guard tripped: admins are told (issue 11), since nothing was applied.
        crate::store::outbox::enqueue(
            &mut db,
            "directory.sync_refused",
            &json!({"run_id": run_id, "message": message, "deactivated": counts.deactivated}),
            now,
        )
        .await?;
    }
    let run = store::get_run(&mut db, run_id)
        .await?
        .ok_or_else(|| StoreError::Internal("directory sync run vanished".into()))?;
    tx.commit().await?;
    Ok(run)
}

/// One run, recorded and audited.
async fn pass(
    state: &AppState,
    cfg: &LdapConfig,
    trigger: &str,
    requested_by: &Actor,
    opts: Options,
) -> Result<DirectorySyncRun, StoreError> {
    let run_id = {
        let mut tx = state.store.begin_write().await?;
        let id = store::start_run(
            &mut tx.db(),
            trigger,
            &requested_by.login_name,
            opts.dry_run,
            opts.force,
            state.now(),
        )
        .await?;
        tx.commit().await?;
        id
    };
    let snapshot = match dir_ldap::fetch(cfg).await {
        Ok(s) => s,
        Err(e) => {
            let msg = e.to_string();
            tracing::warn!(error = %msg, "directory sync could not read the directory");
            return finish(
                state,
                requested_by,
                run_id,
                trigger,
                "failed",
                Some(&msg),
                &Counts::default(),
            )
            .await;
        }
    };
    let plan = {
        let mut c = state.store.conn().await?;
        make_plan(&mut Db::new(&mut c, state.store.dialect()), snapshot, cfg).await?
    };
    let planned = plan.counts();
    let changes = plan.changes();
    let with_plan = |mut run: DirectorySyncRun, errors: Vec<DirectoryEntryError>| {
        run.changes = changes.clone();
        run.entry_errors = errors;
        run
    };
    if opts.dry_run {
        let run = finish(
            state,
            requested_by,
            run_id,
            trigger,
            "succeeded",
            Some("dry run: nothing was changed"),
            &planned,
        )
        .await?;
        return Ok(with_plan(run, plan.errors));
    }
    let limit = cfg.max_deactivate_percent as i64;
    if planned.deactivated > 0
        && planned.deactivated * 100 > limit * plan.active_directory_users
        && !opts.force
    {
        let msg = format!(
            "refused: {} of {} active directory users would be deactivated, more than the {}% JITEA_LDAP_MAX_DEACTIVATE_PERCENT allows; nothing was changed (run with force to apply)",
            planned.deactivated, plan.active_directory_users, limit
        );
        tracing::warn!("{msg}");
        let run = finish(
            state,
            requested_by,
            run_id,
            trigger,
            "refused",
            Some(&msg),
            &planned,
        )
        .await?;
        return Ok(with_plan(run, plan.errors));
    }
    let by = actor();
    let mut done = Counts {
        entries_seen: plan.entries_seen,
        unchanged: plan.unchanged.len() as i64,
        ..Default::default()
    };
    let mut errors = plan.errors;
    for step in &plan.steps {
        let r = match step {
            Step::Deactivate { before, .. } => {
                crate::workflow::grants::deactivate_user(state, &by, before.id)
                    .await
                    .map(|_| ())
            }
            _ => apply_step(state, &by, step).await,
        };
        match (r, step) {
            (Ok(()), Step::Create { .. }) => done.created += 1,
            (Ok(()), Step::Update { .. }) => done.updated += 1,
            (Ok(()), Step::Deactivate { .. }) => done.deactivated += 1,
            (Err(e), s) => {
                tracing::warn!(error = %e, "directory sync could not apply a change");
                let (dn, login) = match s {
                    Step::Create { user, .. } => (user.dn.clone(), user.login_name.clone()),
                    Step::Update { user, .. } => (user.dn.clone(), user.login_name.clone()),
                    Step::Deactivate { before, dn, .. } => {
                        (dn.clone().unwrap_or_default(), before.login_name.clone())
                    }
                };
                errors.push(DirectoryEntryError {
                    dn,
                    message: format!("could not apply the change to {login}"),
                });
            }
        }
    }
    done.errors = errors.len() as i64;
    {
        let mut tx = state.store.begin_write().await?;
        store::touch_synced(&mut tx.db(), &plan.seen, state.now()).await?;
        tx.commit().await?;
    }
    let run = finish(
        state,
        requested_by,
        run_id,
        trigger,
        "succeeded",
        None,
        &done,
    )
    .await?;
    Ok(with_plan(run, errors))
}
