//! Directory sync: its runs (`directory_sync_runs`) and the user and team writes it makes.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use jitea_shared::DirectorySyncRun;
use sqlx_oldapi::any::AnyRow;

use super::rows::{get, opt_str, opt_time, time};
use super::{Db, StoreError, Q};
use crate::directory::mapping::Facts;

const RUN_COLS: &str = "id, started_utc, finished_utc, trigger_source, actor_login_name, dry_run, \
    forced, status, message, entries_seen, created, updated, deactivated, unchanged, errors";

fn map_run(r: &AnyRow) -> Result<DirectorySyncRun, StoreError> {
    Ok(DirectorySyncRun {
        id: get(r, "id")?,
        started_utc: time(r, "started_utc")?,
        finished_utc: opt_time(r, "finished_utc")?,
        trigger_source: get(r, "trigger_source")?,
        actor_login_name: get(r, "actor_login_name")?,
        dry_run: get(r, "dry_run")?,
        forced: get(r, "forced")?,
        status: get(r, "status")?,
        message: opt_str(r, "message")?,
        entries_seen: get(r, "entries_seen")?,
        created: get(r, "created")?,
        updated: get(r, "updated")?,
        deactivated: get(r, "deactivated")?,
        unchanged: get(r, "unchanged")?,
        errors: get(r, "errors")?,
        changes: Vec::new(),
        entry_errors: Vec::new(),
    })
}

pub async fn start_run(
    db: &mut Db<'_>,
    trigger: &str,
    actor: &str,
    dry_run: bool,
    forced: bool,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    db.insert(
        "directory_sync_runs",
        &[
            ("started_utc", now.into()),
            ("trigger_source", trigger.into()),
            ("actor_login_name", actor.into()),
            ("dry_run", dry_run.into()),
            ("forced", forced.into()),
            ("status", "running".into()),
        ],
    )
    .await
}

/// The counts of a run.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub entries_seen: i64,
    pub created: i64,
    pub updated: i64,
    pub deactivated: i64,
    pub unchanged: i64,
    pub errors: i64,
}

pub async fn finish_run(
    db: &mut Db<'_>,
    id: i64,
    status: &str,
    message: Option<&str>,
    c: &Counts,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let q = Q::new(
        "UPDATE directory_sync_runs SET finished_utc = ?, status = ?, message = ?, entries_seen = ?, \
         created = ?, updated = ?, deactivated = ?, unchanged = ?, errors = ? WHERE id = ?",
    )
    .bind(now)
    .bind(status)
    .bind(message.map(str::to_string))
    .bind(c.entries_seen)
    .bind(c.created)
    .bind(c.updated)
    .bind(c.deactivated)
    .bind(c.unchanged)
    .bind(c.errors)
    .bind(id);
    db.execute(&q).await?;
    Ok(())
}

pub async fn get_run(db: &mut Db<'_>, id: i64) -> Result<Option<DirectorySyncRun>, StoreError> {
    let q = Q::new(format!(
        "SELECT {RUN_COLS} FROM directory_sync_runs WHERE id = ?"
    ))
    .bind(id);
    db.fetch_optional(&q)
        .await?
        .as_ref()
        .map(map_run)
        .transpose()
}

/// Where a user's facts come from: the source (`directory`, `scim`), its id for the person,
/// and when the directory last confirmed them (directory sync only).
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    pub source: &'a str,
    pub external_id: Option<&'a str>,
    pub synced_utc: Option<DateTime<Utc>>,
}

/// Creates a user that comes from the directory.
pub async fn insert_user(
    db: &mut Db<'_>,
    login: &str,
    external_id: &str,
    f: &Facts,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let origin = Origin {
        source: "directory",
        external_id: Some(external_id),
        synced_utc: Some(now),
    };
    insert_sourced_user(db, login, origin, f, actor, now).await
}

/// Creates a user that an identity source (directory, SCIM) provides: active, no app role.
pub async fn insert_sourced_user(
    db: &mut Db<'_>,
    login: &str,
    origin: Origin<'_>,
    f: &Facts,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    db.insert(
        "users",
        &[
            ("login_name", login.into()),
            ("given_name", f.given_name.clone().into()),
            ("surname", f.surname.clone().into()),
            ("display_name", f.display_name.clone().into()),
            ("email", f.email.clone().into()),
            ("division", f.division.clone().into()),
            ("department", f.department.clone().into()),
            ("job_title", f.job_title.clone().into()),
            ("seniority_level", f.seniority_level.into()),
            ("manager_login_name", f.manager_login_name.clone().into()),
            ("is_active", true.into()),
            ("is_admin", false.into()),
            ("is_auditor", false.into()),
            ("source", origin.source.into()),
            ("external_id", origin.external_id.into()),
            ("last_ad_sync_utc", origin.synced_utc.into()),
            ("created_utc", now.into()),
            ("updated_utc", now.into()),
            ("created_by", actor.into()),
            ("updated_by", actor.into()),
        ],
    )
    .await
}

/// Writes the directory's facts over a user (and claims it for the directory: `source`,
/// `external_id`).
pub async fn update_user(
    db: &mut Db<'_>,
    id: i64,
    external_id: &str,
    f: &Facts,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let origin = Origin {
        source: "directory",
        external_id: Some(external_id),
        synced_utc: Some(now),
    };
    update_sourced_user(db, id, origin, f, actor, now).await
}

/// Writes an identity source's facts over a user and records the source (`source`,
/// `external_id`; `last_ad_sync_utc` only when the origin says it was synced).
pub async fn update_sourced_user(
    db: &mut Db<'_>,
    id: i64,
    origin: Origin<'_>,
    f: &Facts,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut q = Q::new(
        "UPDATE users SET given_name = ?, surname = ?, display_name = ?, email = ?, division = ?, \
         department = ?, job_title = ?, seniority_level = ?, manager_login_name = ?, \
         source = ?, external_id = ?, updated_utc = ?, updated_by = ?",
    )
    .bind(f.given_name.clone())
    .bind(f.surname.clone())
    .bind(f.display_name.clone())
    .bind(f.email.clone())
    .bind(f.division.clone())
    .bind(f.department.clone())
    .bind(f.job_title.clone())
    .bind(f.seniority_level)
    .bind(f.manager_login_name.clone())
    .bind(origin.source)
    .bind(origin.external_id)
    .bind(now)
    .bind(actor);
    if let Some(t) = origin.synced_utc {
        q.push_bind(", last_ad_sync_utc = ?", t);
    }
    q.push_bind(" WHERE id = ?", id);
    db.execute(&q).await?;
    Ok(())
}

/// Records that these users were seen in the directory now.
pub async fn touch_synced(
    db: &mut Db<'_>,
    ids: &[i64],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for part in ids.chunks(500) {
        let mut q = Q::new("UPDATE users SET last_ad_sync_utc = ? WHERE id IN ").bind(now);
        q.push_in(part.iter().copied());
        db.execute(&q).await?;
    }
    Ok(())
}

/// Every team by lower-case name → (id, name).
pub async fn teams_by_name(db: &mut Db<'_>) -> Result<HashMap<String, (i64, String)>, StoreError> {
    let rows = db
        .fetch_all(&Q::new("SELECT id, team_name FROM teams"))
        .await?;
    let mut out = HashMap::new();
    for r in &rows {
        let name: String = get(r, "team_name")?;
        out.insert(name.to_lowercase(), (get(r, "id")?, name));
    }
    Ok(out)
}

/// Active memberships of users of a source: user id → team ids.
pub async fn memberships(
    db: &mut Db<'_>,
    source: &str,
) -> Result<HashMap<i64, Vec<i64>>, StoreError> {
    let q = Q::new(
        "SELECT ut.user_id, ut.team_id FROM user_teams ut JOIN users u ON u.id = ut.user_id \
         WHERE ut.is_active = ? AND u.source = ?",
    )
    .bind(true)
    .bind(source);
    let mut out: HashMap<i64, Vec<i64>> = HashMap::new();
    for r in db.fetch_all(&q).await? {
        out.entry(get(&r, "user_id")?)
            .or_default()
            .push(get(&r, "team_id")?);
    }
    Ok(out)
}

/// Runs, newest first.
pub async fn list_runs(
    db: &mut Db<'_>,
    page: super::paging::PageReq,
) -> Result<jitea_shared::Page<DirectorySyncRun>, StoreError> {
    let q = Q::new(format!(
        "SELECT {RUN_COLS} FROM directory_sync_runs WHERE 1 = 1"
    ));
    super::paging::fetch_page(
        db,
        q,
        "id",
        super::paging::Order::NewestFirst,
        page,
        map_run,
        |r| r.id,
    )
    .await
}
