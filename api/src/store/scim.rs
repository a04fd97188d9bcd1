//! SCIM: the identity provider's tokens (`scim_tokens`, only a SHA-256 of each token) and the
//! reads and writes of users and teams as SCIM resources. Users and teams the identity
//! provider deleted keep their rows (`scim_deleted_utc`) for history and are invisible here.
//! Filters are applied by the caller over the candidates these functions return; the only
//! client values that reach SQL are bound parameters.

use chrono::{DateTime, Utc};
use jitea_shared::{Page, ScimToken};
use sqlx_oldapi::any::AnyRow;

use super::paging::{fetch_page, Order, PageReq};
use super::rows::{get, opt_i64, opt_str, opt_time, time};
use super::{Db, StoreError, Q};
use crate::directory::scim::resource::{ScimGroup, ScimUser};

const TOKEN_COLS: &str = "id, name, token_prefix, created_utc, created_by, last_used_utc, \
    revoked_utc, revoked_by";

fn map_token(r: &AnyRow) -> Result<ScimToken, StoreError> {
    Ok(ScimToken {
        id: get(r, "id")?,
        name: get(r, "name")?,
        token_prefix: get(r, "token_prefix")?,
        created_utc: time(r, "created_utc")?,
        created_by: get(r, "created_by")?,
        last_used_utc: opt_time(r, "last_used_utc")?,
        revoked_utc: opt_time(r, "revoked_utc")?,
        revoked_by: opt_str(r, "revoked_by")?,
    })
}

pub async fn insert_token(
    db: &mut Db<'_>,
    name: &str,
    token_hash: &str,
    token_prefix: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    db.insert(
        "scim_tokens",
        &[
            ("name", name.into()),
            ("token_hash", token_hash.into()),
            ("token_prefix", token_prefix.into()),
            ("created_utc", now.into()),
            ("created_by", actor.into()),
        ],
    )
    .await
}

pub async fn get_token(db: &mut Db<'_>, id: i64) -> Result<Option<ScimToken>, StoreError> {
    let q = Q::new(format!("SELECT {TOKEN_COLS} FROM scim_tokens WHERE id = ?")).bind(id);
    db.fetch_optional(&q)
        .await?
        .as_ref()
        .map(map_token)
        .transpose()
}

/// The unrevoked token with this hash.
pub async fn live_token_by_hash(
    db: &mut Db<'_>,
    token_hash: &str,
) -> Result<Option<ScimToken>, StoreError> {
    let q = Q::new(format!(
        "SELECT {TOKEN_COLS} FROM scim_tokens WHERE token_hash = ? AND revoked_utc IS NULL"
    ))
    .bind(token_hash);
    db.fetch_optional(&q)
        .await?
        .as_ref()
        .map(map_token)
        .transpose()
}

/// Tokens, newest first.
pub async fn list_tokens(db: &mut Db<'_>, page: PageReq) -> Result<Page<ScimToken>, StoreError> {
    let q = Q::new(format!("SELECT {TOKEN_COLS} FROM scim_tokens WHERE 1 = 1"));
    fetch_page(db, q, "id", Order::NewestFirst, page, map_token, |t| t.id).await
}

/// Marks a token revoked; false when it was already revoked (or does not exist).
pub async fn revoke_token(
    db: &mut Db<'_>,
    id: i64,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let q = Q::new(
        "UPDATE scim_tokens SET revoked_utc = ?, revoked_by = ? WHERE id = ? AND revoked_utc IS NULL",
    )
    .bind(now)
    .bind(actor)
    .bind(id);
    Ok(db.execute(&q).await? == 1)
}

pub async fn touch_token(db: &mut Db<'_>, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
    let q = Q::new("UPDATE scim_tokens SET last_used_utc = ? WHERE id = ?")
        .bind(now)
        .bind(id);
    db.execute(&q).await?;
    Ok(())
}

const USER_COLS: &str = "u.id, u.login_name, u.external_id, u.source, u.given_name, u.surname, \
    u.display_name, u.email, u.job_title, u.department, u.division, u.employee_number, \
    u.seniority_level, u.manager_login_name, u.is_active, u.is_admin, u.is_auditor, \
    u.created_utc, u.updated_utc, m.id AS manager_id";

const USER_FROM: &str =
    "FROM users u LEFT JOIN users m ON LOWER(m.login_name) = LOWER(u.manager_login_name) \
    WHERE u.scim_deleted_utc IS NULL";

fn map_user(r: &AnyRow) -> Result<ScimUser, StoreError> {
    let manager_id = opt_i64(r, "manager_id")?;
    Ok(ScimUser {
        id: get(r, "id")?,
        login_name: get(r, "login_name")?,
        external_id: opt_str(r, "external_id")?,
        source: get(r, "source")?,
        given_name: opt_str(r, "given_name")?,
        surname: opt_str(r, "surname")?,
        display_name: opt_str(r, "display_name")?,
        email: opt_str(r, "email")?,
        job_title: opt_str(r, "job_title")?,
        department: opt_str(r, "department")?,
        division: opt_str(r, "division")?,
        employee_number: opt_str(r, "employee_number")?,
        seniority_level: opt_i64(r, "seniority_level")?,
        manager_login_name: opt_str(r, "manager_login_name")?,
        manager: manager_id,
        is_active: get(r, "is_active")?,
        is_admin: get(r, "is_admin")?,
        is_auditor: get(r, "is_auditor")?,
        created_utc: time(r, "created_utc")?,
        updated_utc: time(r, "updated_utc")?,
    })
}

/// What narrows a SCIM search before its filter is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Narrow {
    All,
    Id(i64),
    /// A login name, compared without regard to case.
    Login(String),
    ExternalId(String),
    /// A team name, compared without regard to case.
    Name(String),
}

/// A visible user (not deleted through SCIM).
pub async fn get_user(db: &mut Db<'_>, id: i64) -> Result<Option<ScimUser>, StoreError> {
    let q = Q::new(format!("SELECT {USER_COLS} {USER_FROM} AND u.id = ?")).bind(id);
    db.fetch_optional(&q)
        .await?
        .as_ref()
        .map(map_user)
        .transpose()
}

/// Locks a user's row (or a team's: `table` = `teams`) until the transaction ends, so a
/// read-check-write (`If-Match`) is a compare-and-set on PostgreSQL and SQL Server too
/// (SQLite's writer lock already serialises it).
pub async fn lock_row(db: &mut Db<'_>, table: Table, id: i64) -> Result<(), StoreError> {
    let name = match table {
        Table::Users => "users",
        Table::Teams => "teams",
    };
    let q = Q::select_locked("id", name, "id = ?").bind(id);
    db.fetch_optional(&q).await?;
    Ok(())
}

/// A table whose rows SCIM locks.
#[derive(Debug, Clone, Copy)]
pub enum Table {
    Users,
    Teams,
}

/// Ids of every visible user, in id order (paging without a filter).
pub async fn user_ids(db: &mut Db<'_>) -> Result<Vec<i64>, StoreError> {
    let q = Q::new("SELECT u.id FROM users u WHERE u.scim_deleted_utc IS NULL ORDER BY u.id");
    db.fetch_ids(&q).await
}

/// Visible users with these ids, in id order.
pub async fn users_by_ids(db: &mut Db<'_>, ids: &[i64]) -> Result<Vec<ScimUser>, StoreError> {
    let mut out = Vec::with_capacity(ids.len());
    for part in ids.chunks(500) {
        let mut q = Q::new(format!("SELECT {USER_COLS} {USER_FROM} AND u.id IN "));
        q.push_in(part.iter().copied());
        q.push(" ORDER BY u.id");
        for r in db.fetch_all(&q).await? {
            out.push(map_user(&r)?);
        }
    }
    Ok(out)
}

/// Visible users a filter may match, in id order.
pub async fn users_where(db: &mut Db<'_>, narrow: &Narrow) -> Result<Vec<ScimUser>, StoreError> {
    let mut q = Q::new(format!("SELECT {USER_COLS} {USER_FROM}"));
    match narrow {
        Narrow::All | Narrow::Name(_) => {}
        Narrow::Id(id) => {
            q.push_bind(" AND u.id = ?", *id);
        }
        Narrow::Login(l) => {
            q.push_bind(" AND LOWER(u.login_name) = LOWER(?)", l.clone());
        }
        Narrow::ExternalId(e) => {
            q.push_bind(" AND u.external_id = ?", e.clone());
        }
    }
    q.push(" ORDER BY u.id");
    db.fetch_all(&q).await?.iter().map(map_user).collect()
}

/// Another user of SCIM with this `externalId` (deleted ones included: the id stays theirs).
pub async fn user_with_external_id(
    db: &mut Db<'_>,
    external_id: &str,
    except: i64,
) -> Result<Option<i64>, StoreError> {
    let q = Q::new("SELECT id FROM users WHERE source = ? AND external_id = ? AND id <> ?")
        .bind("scim")
        .bind(external_id)
        .bind(except);
    db.fetch_optional(&q)
        .await?
        .map(|r| get(&r, "id"))
        .transpose()
}

/// Sets the facts only SCIM provides (the enterprise employee number).
pub async fn set_employee_number(
    db: &mut Db<'_>,
    id: i64,
    employee_number: Option<&str>,
) -> Result<(), StoreError> {
    let q = Q::new("UPDATE users SET employee_number = ? WHERE id = ?")
        .bind(employee_number)
        .bind(id);
    db.execute(&q).await?;
    Ok(())
}

/// Hides a user from SCIM for good (it was deleted there); the row and its history stay.
pub async fn mark_user_deleted(
    db: &mut Db<'_>,
    id: i64,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let q = Q::new(
        "UPDATE users SET scim_deleted_utc = ?, updated_utc = ?, updated_by = ? \
         WHERE id = ? AND scim_deleted_utc IS NULL",
    )
    .bind(now)
    .bind(now)
    .bind(actor)
    .bind(id);
    Ok(db.execute(&q).await? == 1)
}

const TEAM_COLS: &str = "t.id, t.team_name, t.external_id, t.source, t.created_utc, t.updated_utc";
const TEAM_FROM: &str = "FROM teams t WHERE t.scim_deleted_utc IS NULL";

fn map_team(r: &AnyRow) -> Result<ScimGroup, StoreError> {
    Ok(ScimGroup {
        id: get(r, "id")?,
        name: get(r, "team_name")?,
        external_id: opt_str(r, "external_id")?,
        source: get(r, "source")?,
        created_utc: time(r, "created_utc")?,
        updated_utc: time(r, "updated_utc")?,
        members: Vec::new(),
    })
}

/// Fills in the active members of these teams (one query per 500 teams).
async fn with_members(
    db: &mut Db<'_>,
    mut groups: Vec<ScimGroup>,
) -> Result<Vec<ScimGroup>, StoreError> {
    let ids: Vec<i64> = groups.iter().map(|g| g.id).collect();
    let mut members: std::collections::HashMap<i64, Vec<i64>> = Default::default();
    for part in ids.chunks(500) {
        let mut q = Q::new(
            "SELECT ut.team_id, ut.user_id FROM user_teams ut \
             JOIN users u ON u.id = ut.user_id WHERE u.scim_deleted_utc IS NULL AND ut.is_active = ? AND ut.team_id IN ",
        )
        .bind(true);
        q.push_in(part.iter().copied());
        q.push(" ORDER BY ut.team_id, u.id");
        for r in db.fetch_all(&q).await? {
            members
                .entry(get(&r, "team_id")?)
                .or_default()
                .push(get(&r, "user_id")?);
        }
    }
    for g in &mut groups {
        g.members = members.remove(&g.id).unwrap_or_default();
    }
    Ok(groups)
}

/// A visible team (not deleted through SCIM) with its active members.
pub async fn get_group(db: &mut Db<'_>, id: i64) -> Result<Option<ScimGroup>, StoreError> {
    let q = Q::new(format!("SELECT {TEAM_COLS} {TEAM_FROM} AND t.id = ?")).bind(id);
    let Some(r) = db.fetch_optional(&q).await? else {
        return Ok(None);
    };
    Ok(with_members(db, vec![map_team(&r)?]).await?.pop())
}

pub async fn group_ids(db: &mut Db<'_>) -> Result<Vec<i64>, StoreError> {
    let q = Q::new("SELECT t.id FROM teams t WHERE t.scim_deleted_utc IS NULL ORDER BY t.id");
    db.fetch_ids(&q).await
}

pub async fn groups_by_ids(db: &mut Db<'_>, ids: &[i64]) -> Result<Vec<ScimGroup>, StoreError> {
    let mut out = Vec::with_capacity(ids.len());
    for part in ids.chunks(500) {
        let mut q = Q::new(format!("SELECT {TEAM_COLS} {TEAM_FROM} AND t.id IN "));
        q.push_in(part.iter().copied());
        q.push(" ORDER BY t.id");
        for r in db.fetch_all(&q).await? {
            out.push(map_team(&r)?);
        }
    }
    with_members(db, out).await
}

pub async fn groups_where(db: &mut Db<'_>, narrow: &Narrow) -> Result<Vec<ScimGroup>, StoreError> {
    let mut q = Q::new(format!("SELECT {TEAM_COLS} {TEAM_FROM}"));
    match narrow {
        Narrow::All | Narrow::Login(_) => {}
        Narrow::Id(id) => {
            q.push_bind(" AND t.id = ?", *id);
        }
        Narrow::Name(n) => {
            q.push_bind(" AND LOWER(t.team_name) = LOWER(?)", n.clone());
        }
        Narrow::ExternalId(e) => {
            q.push_bind(" AND t.external_id = ?", e.clone());
        }
    }
    q.push(" ORDER BY t.id");
    let rows = db.fetch_all(&q).await?;
    let groups = rows.iter().map(map_team).collect::<Result<Vec<_>, _>>()?;
    with_members(db, groups).await
}

/// Creates a team provided by SCIM.
pub async fn insert_team(
    db: &mut Db<'_>,
    name: &str,
    external_id: Option<&str>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    db.insert(
        "teams",
        &[
            ("team_name", name.into()),
            ("is_active", true.into()),
            ("source", "scim".into()),
            ("external_id", external_id.into()),
            ("created_utc", now.into()),
            ("updated_utc", now.into()),
            ("created_by", actor.into()),
            ("updated_by", actor.into()),
        ],
    )
    .await
}

/// Renames a SCIM team and records the change time (also after member changes, so its ETag
/// moves).
pub async fn update_team(
    db: &mut Db<'_>,
    id: i64,
    name: &str,
    external_id: Option<&str>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let q = Q::new(
        "UPDATE teams SET team_name = ?, external_id = ?, updated_utc = ?, updated_by = ? WHERE id = ?",
    )
    .bind(name)
    .bind(external_id)
    .bind(now)
    .bind(actor)
    .bind(id);
    db.execute(&q).await?;
    Ok(())
}

/// Switches a team off and hides it from SCIM for good; the row and its history stay.
pub async fn mark_team_deleted(
    db: &mut Db<'_>,
    id: i64,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let q = Q::new(
        "UPDATE teams SET is_active = ?, scim_deleted_utc = ?, updated_utc = ?, updated_by = ? \
         WHERE id = ? AND scim_deleted_utc IS NULL",
    )
    .bind(false)
    .bind(now)
    .bind(now)
    .bind(actor)
    .bind(id);
    Ok(db.execute(&q).await? == 1)
}
