//! Teams and their (soft-removed) memberships.

use chrono::{DateTime, Utc};
use jitea_shared::{Page, Team, TeamCreate, TeamMember, TeamUpdate};
use sqlx_oldapi::any::AnyRow;

use super::paging::{fetch_page, Order, PageReq};
use super::rows::{get, opt_str, opt_time, time};
use super::{Db, StoreError, Q};

const COLS: &str = "id, team_name, description, division, department, is_active, created_utc, \
    updated_utc, created_by, updated_by";

fn map(r: &AnyRow) -> Result<Team, StoreError> {
    Ok(Team {
        id: get(r, "id")?,
        team_name: get(r, "team_name")?,
        description: opt_str(r, "description")?,
        division: opt_str(r, "division")?,
        department: opt_str(r, "department")?,
        is_active: get(r, "is_active")?,
        created_utc: time(r, "created_utc")?,
        updated_utc: time(r, "updated_utc")?,
        created_by: get(r, "created_by")?,
        updated_by: get(r, "updated_by")?,
    })
}

pub async fn get_by_id(db: &mut Db<'_>, id: i64) -> Result<Option<Team>, StoreError> {
    let q = Q::new(format!("SELECT {COLS} FROM teams WHERE id = ?")).bind(id);
    db.fetch_optional(&q).await?.as_ref().map(map).transpose()
}

pub async fn list(db: &mut Db<'_>, page: PageReq) -> Result<Page<Team>, StoreError> {
    let q = Q::new(format!("SELECT {COLS} FROM teams WHERE 1 = 1"));
    fetch_page(db, q, "id", Order::OldestFirst, page, map, |t| t.id).await
}

pub async fn insert(
    db: &mut Db<'_>,
    t: &TeamCreate,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    db.insert(
        "teams",
        &[
            ("team_name", t.team_name.as_str().into()),
            ("description", t.description.clone().into()),
            ("division", t.division.clone().into()),
            ("department", t.department.clone().into()),
            ("is_active", true.into()),
            ("created_utc", now.into()),
            ("updated_utc", now.into()),
            ("created_by", actor.into()),
            ("updated_by", actor.into()),
        ],
    )
    .await
}

pub async fn update(
    db: &mut Db<'_>,
    id: i64,
    t: &TeamUpdate,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut q = Q::new("UPDATE teams SET updated_utc = ?, updated_by = ?")
        .bind(now)
        .bind(actor);
    if let Some(v) = &t.team_name {
        q.push_bind(", team_name = ?", v.clone());
    }
    if let Some(v) = &t.description {
        q.push_bind(", description = ?", v.clone());
    }
    if let Some(v) = &t.division {
        q.push_bind(", division = ?", v.clone());
    }
    if let Some(v) = &t.department {
        q.push_bind(", department = ?", v.clone());
    }
    if let Some(v) = t.is_active {
        q.push_bind(", is_active = ?", v);
    }
    q.push_bind(" WHERE id = ?", id);
    Ok(db.execute(&q).await? == 1)
}

const MEMBER_COLS: &str = "ut.team_id, ut.user_id, u.login_name, u.display_name, ut.is_active, \
    ut.assigned_utc, ut.removed_utc";

fn map_member(r: &AnyRow) -> Result<TeamMember, StoreError> {
    Ok(TeamMember {
        team_id: get(r, "team_id")?,
        user_id: get(r, "user_id")?,
        login_name: get(r, "login_name")?,
        display_name: opt_str(r, "display_name")?,
        is_active: get(r, "is_active")?,
        assigned_utc: time(r, "assigned_utc")?,
        removed_utc: opt_time(r, "removed_utc")?,
    })
}

/// Members of a team; with `include_removed` also the history of removed members.
pub async fn members(
    db: &mut Db<'_>,
    team_id: i64,
    include_removed: bool,
) -> Result<Vec<TeamMember>, StoreError> {
    let mut q = Q::new(format!(
        "SELECT {MEMBER_COLS} FROM user_teams ut JOIN users u ON u.id = ut.user_id WHERE ut.team_id = ?"
    ))
    .bind(team_id);
    if !include_removed {
        q.push_bind(" AND ut.is_active = ?", true);
    }
    q.push(" ORDER BY u.login_name");
    db.fetch_all(&q).await?.iter().map(map_member).collect()
}

pub async fn member(
    db: &mut Db<'_>,
    team_id: i64,
    user_id: i64,
) -> Result<Option<TeamMember>, StoreError> {
    let q = Q::new(format!(
        "SELECT {MEMBER_COLS} FROM user_teams ut JOIN users u ON u.id = ut.user_id WHERE ut.team_id = ? AND ut.user_id = ?"
    ))
    .bind(team_id)
    .bind(user_id);
    db.fetch_optional(&q)
        .await?
        .as_ref()
        .map(map_member)
        .transpose()
}

/// Adds (or re-activates) a membership. Returns false when it was already active.
pub async fn add_member(
    db: &mut Db<'_>,
    team_id: i64,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    match member(db, team_id, user_id).await? {
        Some(m) if m.is_active => Ok(false),
        Some(_) => {
            let q = Q::new("UPDATE user_teams SET is_active = ?, assigned_utc = ?, removed_utc = NULL WHERE team_id = ? AND user_id = ?")
                .bind(true)
                .bind(now)
                .bind(team_id)
                .bind(user_id);
            db.execute(&q).await?;
            Ok(true)
        }
        None => {
            let q = Q::new("INSERT INTO user_teams (user_id, team_id, is_active, assigned_utc) VALUES (?, ?, ?, ?)")
                .bind(user_id)
                .bind(team_id)
                .bind(true)
                .bind(now);
            db.execute(&q).await?;
            Ok(true)
        }
    }
}

/// Soft removal: keeps the row with `removed_utc` for history. Returns false if not an active member.
pub async fn remove_member(
    db: &mut Db<'_>,
    team_id: i64,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let q = Q::new("UPDATE user_teams SET is_active = ?, removed_utc = ? WHERE team_id = ? AND user_id = ? AND is_active = ?")
        .bind(false)
        .bind(now)
        .bind(team_id)
        .bind(user_id)
        .bind(true);
    Ok(db.execute(&q).await? == 1)
}
