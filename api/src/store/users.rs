//! Users: identity, organisation facts (department, division, manager, seniority) and the app
//! roles `admin` / `auditor`.

use chrono::{DateTime, Utc};
use jitea_shared::{Page, User, UserCreate, UserUpdate};
use sqlx_oldapi::any::AnyRow;

use super::paging::{fetch_page, Order, PageReq};
use super::rows::{get, int, opt_i64, opt_str, opt_time, time};
use super::{Db, StoreError, Q};

const COLS: &str = "u.id, u.login_name, u.given_name, u.surname, u.display_name, u.email, \
    u.division, u.department, u.job_title, u.seniority_level, u.manager_login_name, u.is_active, \
    u.is_admin, u.is_auditor, u.source, u.external_id, u.last_ad_sync_utc, u.created_utc, u.updated_utc, u.created_by, \
    u.updated_by, CASE WHEN c.user_id IS NULL THEN 0 ELSE 1 END AS has_password";

const FROM: &str = "FROM users u LEFT JOIN local_credentials c ON c.user_id = u.id";

fn map(r: &AnyRow) -> Result<User, StoreError> {
    Ok(User {
        id: get(r, "id")?,
        login_name: get(r, "login_name")?,
        given_name: opt_str(r, "given_name")?,
        surname: opt_str(r, "surname")?,
        display_name: opt_str(r, "display_name")?,
        email: opt_str(r, "email")?,
        division: opt_str(r, "division")?,
        department: opt_str(r, "department")?,
        job_title: opt_str(r, "job_title")?,
        seniority_level: opt_i64(r, "seniority_level")?,
        manager_login_name: opt_str(r, "manager_login_name")?,
        is_active: get(r, "is_active")?,
        is_admin: get(r, "is_admin")?,
        is_auditor: get(r, "is_auditor")?,
        has_password: int(r, "has_password")? != 0,
        source: get(r, "source")?,
        external_id: opt_str(r, "external_id")?,
        last_ad_sync_utc: opt_time(r, "last_ad_sync_utc")?,
        created_utc: time(r, "created_utc")?,
        updated_utc: time(r, "updated_utc")?,
        created_by: get(r, "created_by")?,
        updated_by: get(r, "updated_by")?,
    })
}

pub async fn get_by_id(db: &mut Db<'_>, id: i64) -> Result<Option<User>, StoreError> {
    let q = Q::new(format!("SELECT {COLS} {FROM} WHERE u.id = ?")).bind(id);
    db.fetch_optional(&q).await?.as_ref().map(map).transpose()
}

/// A user with their current session epoch (`store::sessions`), in one round trip: what
/// authenticating a token needs on every request.
pub async fn get_with_epoch(db: &mut Db<'_>, id: i64) -> Result<Option<(User, i64)>, StoreError> {
    let q = Q::new(format!(
        "SELECT {COLS}, u.session_epoch AS session_epoch {FROM} WHERE u.id = ?"
    ))
    .bind(id);
    match db.fetch_optional(&q).await? {
        Some(r) => Ok(Some((map(&r)?, get(&r, "session_epoch")?))),
        None => Ok(None),
    }
}

pub async fn get_by_login(db: &mut Db<'_>, login: &str) -> Result<Option<User>, StoreError> {
    // Login names are unique regardless of case (`ux_users_login_lower`), so this finds one.
    let q = Q::new(format!(
        "SELECT {COLS} {FROM} WHERE LOWER(u.login_name) = LOWER(?)"
    ))
    .bind(login);
    db.fetch_optional(&q).await?.as_ref().map(map).transpose()
}

#[derive(Debug, Default, Clone)]
pub struct UserFilter {
    pub is_active: Option<bool>,
    pub department: Option<String>,
    pub search: Option<String>,
}

pub async fn list(
    db: &mut Db<'_>,
    f: &UserFilter,
    page: PageReq,
) -> Result<Page<User>, StoreError> {
    let mut q = Q::new(format!("SELECT {COLS} {FROM} WHERE 1 = 1"));
    if let Some(a) = f.is_active {
        q.push_bind(" AND u.is_active = ?", a);
    }
    if let Some(d) = &f.department {
        q.push_bind(" AND u.department = ?", d);
    }
    if let Some(s) = &f.search {
        // The search text is literal: escape LIKE's wildcards.
        let escaped = s
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let like = format!("%{escaped}%");
        q.push_bind(" AND (LOWER(u.login_name) LIKE ? ESCAPE '\\'", like.clone());
        q.push_bind(" OR LOWER(u.display_name) LIKE ? ESCAPE '\\')", like);
    }
    fetch_page(db, q, "u.id", Order::OldestFirst, page, map, |u| u.id).await
}

pub async fn count_admins(db: &mut Db<'_>) -> Result<i64, StoreError> {
    let row = db
        .fetch_optional(
            &Q::new("SELECT COUNT(*) AS n FROM users WHERE is_admin = ? AND is_active = ?")
                .bind(true)
                .bind(true),
        )
        .await?;
    match row {
        Some(r) => int(&r, "n"),
        None => Ok(0),
    }
}

pub async fn insert(
    db: &mut Db<'_>,
    u: &UserCreate,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    db.insert(
        "users",
        &[
            ("login_name", u.login_name.as_str().into()),
            ("given_name", u.given_name.clone().into()),
            ("surname", u.surname.clone().into()),
            ("display_name", u.display_name.clone().into()),
            ("email", u.email.clone().into()),
            ("division", u.division.clone().into()),
            ("department", u.department.clone().into()),
            ("job_title", u.job_title.clone().into()),
            ("seniority_level", u.seniority_level.into()),
            ("manager_login_name", u.manager_login_name.clone().into()),
            ("is_active", true.into()),
            ("is_admin", u.is_admin.unwrap_or(false).into()),
            ("is_auditor", u.is_auditor.unwrap_or(false).into()),
            ("created_utc", now.into()),
            ("updated_utc", now.into()),
            ("created_by", actor.into()),
            ("updated_by", actor.into()),
        ],
    )
    .await
}

/// Applies a PATCH; returns false when the user does not exist.
pub async fn update(
    db: &mut Db<'_>,
    id: i64,
    u: &UserUpdate,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut q = Q::new("UPDATE users SET updated_utc = ?").bind(now);
    q = q.bind(actor);
    q.push(", updated_by = ?");
    macro_rules! set {
        ($field:ident) => {
            if let Some(v) = &u.$field {
                q.push_bind(concat!(", ", stringify!($field), " = ?"), v.clone());
            }
        };
    }
    set!(given_name);
    set!(surname);
    set!(display_name);
    set!(email);
    set!(division);
    set!(department);
    set!(job_title);
    set!(seniority_level);
    set!(manager_login_name);
    set!(is_admin);
    set!(is_auditor);
    q.push_bind(" WHERE id = ?", id);
    Ok(db.execute(&q).await? == 1)
}

pub async fn set_active(
    db: &mut Db<'_>,
    id: i64,
    active: bool,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let q = Q::new("UPDATE users SET is_active = ?, updated_utc = ?, updated_by = ? WHERE id = ?")
        .bind(active)
        .bind(now)
        .bind(actor)
        .bind(id);
    Ok(db.execute(&q).await? == 1)
}

/// Ids of the teams the user is an active member of (team itself active too).
pub async fn active_team_ids(db: &mut Db<'_>, user_id: i64) -> Result<Vec<i64>, StoreError> {
    let q = Q::new(
        "SELECT ut.team_id FROM user_teams ut JOIN teams t ON t.id = ut.team_id \
         WHERE ut.user_id = ? AND ut.is_active = ? AND t.is_active = ? ORDER BY ut.team_id",
    )
    .bind(user_id)
    .bind(true)
    .bind(true);
    db.fetch_all(&q)
        .await?
        .iter()
        .map(|r| get(r, "team_id"))
        .collect()
}

/// The user a source knows by this stable id (OIDC `sub`, directory id, SCIM `externalId`).
pub async fn get_by_external(
    db: &mut Db<'_>,
    source: &str,
    external_id: &str,
) -> Result<Option<User>, StoreError> {
    let q = Q::new(format!(
        "SELECT {COLS} {FROM} WHERE u.source = ? AND u.external_id = ?"
    ))
    .bind(source)
    .bind(external_id);
    db.fetch_optional(&q).await?.as_ref().map(map).transpose()
}

/// Records where a user comes from and the source's id for them.
pub async fn set_source(
    db: &mut Db<'_>,
    id: i64,
    source: &str,
    external_id: &str,
) -> Result<(), StoreError> {
    let q = Q::new("UPDATE users SET source = ?, external_id = ? WHERE id = ?")
        .bind(source)
        .bind(external_id)
        .bind(id);
    db.execute(&q).await?;
    Ok(())
}

/// Every user that came from `source` (`directory`, ...), active or not.
pub async fn by_source(db: &mut Db<'_>, source: &str) -> Result<Vec<User>, StoreError> {
    let q = Q::new(format!(
        "SELECT {COLS} {FROM} WHERE u.source = ? ORDER BY u.id"
    ))
    .bind(source);
    db.fetch_all(&q).await?.iter().map(map).collect()
}

/// Every user, keyed by lower-case login name (directory sync matches entries by login).
pub async fn all_by_login(
    db: &mut Db<'_>,
) -> Result<std::collections::HashMap<String, User>, StoreError> {
    let q = Q::new(format!("SELECT {COLS} {FROM}"));
    let mut out = std::collections::HashMap::new();
    for r in db.fetch_all(&q).await? {
        let u = map(&r)?;
        out.insert(u.login_name.to_lowercase(), u);
    }
    Ok(out)
}

/// Active users who might be named by approver entries: by id, by active membership of one of
/// `team_ids`, or by one of `departments` (exact stored spellings). The caller applies the
/// approver rule (`domain::approvers`) to each; this only narrows the candidates.
pub async fn approver_candidates(
    db: &mut Db<'_>,
    user_ids: &[i64],
    team_ids: &[i64],
    departments: &[String],
) -> Result<Vec<User>, StoreError> {
    if user_ids.is_empty() && team_ids.is_empty() && departments.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Q::new(format!(
        "SELECT {COLS} {FROM} WHERE u.is_active = ? AND (1 = 0"
    ))
    .bind(true);
    if !user_ids.is_empty() {
        q.push(" OR u.id IN ").push_in(user_ids.iter().copied());
    }
    if !team_ids.is_empty() {
        q.push(
            " OR u.id IN (SELECT ut.user_id FROM user_teams ut JOIN teams t ON t.id = ut.team_id \
             WHERE ut.is_active = ? AND t.is_active = ? AND ut.team_id IN ",
        );
        q.args.extend([true.into(), true.into()]);
        q.push_in(team_ids.iter().copied()).push(")");
    }
    if !departments.is_empty() {
        q.push(" OR u.department IN ")
            .push_in(departments.iter().map(String::as_str));
    }
    q.push(") ORDER BY u.id");
    db.fetch_all(&q).await?.iter().map(map).collect()
}

/// Every distinct department of an active user (spellings as stored).
pub async fn active_departments(db: &mut Db<'_>) -> Result<Vec<String>, StoreError> {
    let q = Q::new(
        "SELECT DISTINCT department FROM users WHERE is_active = ? AND department IS NOT NULL",
    )
    .bind(true);
    db.fetch_all(&q)
        .await?
        .iter()
        .map(|r| get(r, "department"))
        .collect()
}

/// Every active admin.
pub async fn active_admins(db: &mut Db<'_>) -> Result<Vec<User>, StoreError> {
    let q = Q::new(format!(
        "SELECT {COLS} {FROM} WHERE u.is_active = ? AND u.is_admin = ? ORDER BY u.id"
    ))
    .bind(true)
    .bind(true);
    db.fetch_all(&q).await?.iter().map(map).collect()
}
