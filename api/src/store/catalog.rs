//! The access catalogue: targets, their db roles, business roles, the role → db-role mapping
//! and each role's approvers; and the catalogue's version, which every write here bumps.

use chrono::{DateTime, Utc};
use jitea_shared::*;
use sqlx_oldapi::any::AnyRow;

use super::paging::{fetch_page, Order, PageReq};
use super::rows::{get, opt_i64, opt_str, parsed, time};
use super::{Db, StoreError, Q};
use crate::domain::entitlements::entitlement_ref;

// ------------------------------------------------------------------ version

/// The catalogue's version (`catalog_version`, migration 0009): each process keeps the
/// catalogue in memory (`catalog_cache`) and reads this once per use to know whether any
/// process changed it since.
pub async fn version(db: &mut Db<'_>) -> Result<i64, StoreError> {
    let q = Q::new("SELECT version FROM catalog_version WHERE id = ?").bind(1_i64);
    match db.fetch_optional(&q).await? {
        Some(r) => get(&r, "version"),
        None => Err(StoreError::Internal("catalog_version row missing".into())),
    }
}

/// Marks the catalogue changed. Every function in this module and in `eligibility` that
/// writes roles, eligibility rules, the role → db-role mapping, db roles or targets calls it,
/// in the same transaction as the write (so a reader sees both or neither). On PostgreSQL and
/// SQL Server the row lock also orders concurrent catalogue writers.
pub(crate) async fn bump_version(db: &mut Db<'_>) -> Result<(), StoreError> {
    db.execute(
        &Q::new("UPDATE catalog_version SET version = version + 1 WHERE id = ?").bind(1_i64),
    )
    .await?;
    Ok(())
}

// ------------------------------------------------------------------ targets

const TARGET_COLS: &str = "id, name, kind, description, connection_url_env, drift_policy, \
    settings, principal_from, is_enabled, created_utc, updated_utc, created_by, updated_by";

fn map_target(r: &AnyRow) -> Result<Target, StoreError> {
    Ok(Target {
        id: get(r, "id")?,
        name: get(r, "name")?,
        kind: parsed(r, "kind")?,
        description: opt_str(r, "description")?,
        connection_url_env: opt_str(r, "connection_url_env")?,
        drift_policy: get(r, "drift_policy")?,
        settings: settings_of(r)?,
        principal_from: parsed(r, "principal_from")?,
        is_enabled: get(r, "is_enabled")?,
        created_utc: time(r, "created_utc")?,
        updated_utc: time(r, "updated_utc")?,
        created_by: get(r, "created_by")?,
        updated_by: get(r, "updated_by")?,
    })
}

/// A target's settings column (JSON text) as its DTO.
fn settings_of(r: &AnyRow) -> Result<Option<TargetSettings>, StoreError> {
    opt_str(r, "settings")?
        .map(|t| {
            serde_json::from_str(&t)
                .map_err(|e| StoreError::Internal(format!("targets.settings: {e}")))
        })
        .transpose()
}

/// The settings as stored: JSON text, or NULL for none (an empty object is none).
fn settings_text(s: Option<&TargetSettings>) -> Option<String> {
    s.filter(|s| **s != TargetSettings::default())
        .and_then(|s| serde_json::to_string(s).ok())
}

pub async fn get_target(db: &mut Db<'_>, id: i64) -> Result<Option<Target>, StoreError> {
    let q = Q::new(format!("SELECT {TARGET_COLS} FROM targets WHERE id = ?")).bind(id);
    db.fetch_optional(&q)
        .await?
        .as_ref()
        .map(map_target)
        .transpose()
}

pub async fn list_targets(db: &mut Db<'_>, page: PageReq) -> Result<Page<Target>, StoreError> {
    let q = Q::new(format!("SELECT {TARGET_COLS} FROM targets WHERE 1 = 1"));
    fetch_page(db, q, "id", Order::OldestFirst, page, map_target, |t| t.id).await
}

pub async fn insert_target(
    db: &mut Db<'_>,
    t: &TargetCreate,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let id = db
        .insert(
            "targets",
            &[
                ("name", t.name.as_str().into()),
                ("kind", t.kind.as_str().into()),
                ("description", t.description.clone().into()),
                ("connection_url_env", t.connection_url_env.clone().into()),
                (
                    "drift_policy",
                    t.drift_policy
                        .clone()
                        .unwrap_or_else(|| "report".into())
                        .into(),
                ),
                ("settings", settings_text(t.settings.as_ref()).into()),
                (
                    "principal_from",
                    t.principal_from.unwrap_or_default().as_str().into(),
                ),
                ("is_enabled", true.into()),
                ("created_utc", now.into()),
                ("updated_utc", now.into()),
                ("created_by", actor.into()),
                ("updated_by", actor.into()),
            ],
        )
        .await?;
    bump_version(db).await?;
    Ok(id)
}

pub async fn update_target(
    db: &mut Db<'_>,
    id: i64,
    t: &TargetUpdate,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut q = Q::new("UPDATE targets SET updated_utc = ?, updated_by = ?")
        .bind(now)
        .bind(actor);
    if let Some(v) = &t.name {
        q.push_bind(", name = ?", v.clone());
    }
    if let Some(v) = &t.description {
        q.push_bind(", description = ?", v.clone());
    }
    if let Some(v) = &t.connection_url_env {
        q.push_bind(", connection_url_env = ?", v.clone());
    }
    if let Some(v) = &t.drift_policy {
        q.push_bind(", drift_policy = ?", v.clone());
    }
    if let Some(v) = t.is_enabled {
        q.push_bind(", is_enabled = ?", v);
    }
    if let Some(v) = &t.settings {
        q.push_bind(", settings = ?", settings_text(Some(v)));
    }
    if let Some(v) = t.principal_from {
        q.push_bind(", principal_from = ?", v.as_str());
    }
    q.push_bind(" WHERE id = ?", id);
    let changed = db.execute(&q).await? == 1;
    bump_version(db).await?;
    Ok(changed)
}

// ------------------------------------------------------------------ target principals

fn map_principal(r: &AnyRow) -> Result<TargetPrincipal, StoreError> {
    Ok(TargetPrincipal {
        target_id: get(r, "target_id")?,
        user_id: get(r, "user_id")?,
        login_name: get(r, "login_name")?,
        principal: get(r, "principal")?,
        created_utc: time(r, "created_utc")?,
        created_by: get(r, "created_by")?,
    })
}

const PRINCIPAL_COLS: &str =
    "p.target_id, p.user_id, u.login_name, p.principal, p.created_utc, p.created_by \
    FROM target_principals p JOIN users u ON u.id = p.user_id";

/// The users mapped to principals on a target, by user id.
pub async fn list_principals(
    db: &mut Db<'_>,
    target_id: i64,
    page: PageReq,
) -> Result<Page<TargetPrincipal>, StoreError> {
    let q = Q::new(format!("SELECT {PRINCIPAL_COLS} WHERE p.target_id = ?")).bind(target_id);
    fetch_page(
        db,
        q,
        "p.user_id",
        Order::OldestFirst,
        page,
        map_principal,
        |p| p.user_id,
    )
    .await
}

pub async fn get_principal(
    db: &mut Db<'_>,
    target_id: i64,
    user_id: i64,
) -> Result<Option<TargetPrincipal>, StoreError> {
    let q = Q::new(format!(
        "SELECT {PRINCIPAL_COLS} WHERE p.target_id = ? AND p.user_id = ?"
    ))
    .bind(target_id)
    .bind(user_id);
    db.fetch_optional(&q)
        .await?
        .as_ref()
        .map(map_principal)
        .transpose()
}

/// Maps a user to `principal` on a target, replacing any earlier mapping (`Conflict` when
/// another user has that principal there). Live assignments keep the principal they were
/// added for, so a change only affects access given from now on.
pub async fn set_principal(
    db: &mut Db<'_>,
    target_id: i64,
    user_id: i64,
    principal: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let q = Q::new("DELETE FROM target_principals WHERE target_id = ? AND user_id = ?")
        .bind(target_id)
        .bind(user_id);
    db.execute(&q).await?;
    let q = Q::new(
        "INSERT INTO target_principals (target_id, user_id, principal, created_utc, created_by) \
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(target_id)
    .bind(user_id)
    .bind(principal)
    .bind(now)
    .bind(actor);
    db.execute(&q).await?;
    Ok(())
}

pub async fn delete_principal(
    db: &mut Db<'_>,
    target_id: i64,
    user_id: i64,
) -> Result<bool, StoreError> {
    let q = Q::new("DELETE FROM target_principals WHERE target_id = ? AND user_id = ?")
        .bind(target_id)
        .bind(user_id);
    Ok(db.execute(&q).await? > 0)
}

// ------------------------------------------------------------------ db roles

const DB_ROLE_COLS: &str = "d.id, d.target_id, t.name AS target_name, t.kind AS target_kind, d.db_role_name, d.role_type, \
    d.description, d.is_jit_managed, d.has_unmask, d.created_utc, d.updated_utc, d.created_by, d.updated_by";
const DB_ROLE_FROM: &str = "FROM db_roles d JOIN targets t ON t.id = d.target_id";

fn map_db_role(r: &AnyRow) -> Result<DbRole, StoreError> {
    let name: String = get(r, "db_role_name")?;
    Ok(DbRole {
        id: get(r, "id")?,
        target_id: get(r, "target_id")?,
        target_name: get(r, "target_name")?,
        r#ref: entitlement_ref(parsed(r, "target_kind")?, &name),
        db_role_name: name,
        role_type: opt_str(r, "role_type")?,
        description: opt_str(r, "description")?,
        is_jit_managed: get(r, "is_jit_managed")?,
        has_unmask: get(r, "has_unmask")?,
        created_utc: time(r, "created_utc")?,
        updated_utc: time(r, "updated_utc")?,
        created_by: get(r, "created_by")?,
        updated_by: get(r, "updated_by")?,
    })
}

pub async fn get_db_role(db: &mut Db<'_>, id: i64) -> Result<Option<DbRole>, StoreError> {
    let q = Q::new(format!(
        "SELECT {DB_ROLE_COLS} {DB_ROLE_FROM} WHERE d.id = ?"
    ))
    .bind(id);
    db.fetch_optional(&q)
        .await?
        .as_ref()
        .map(map_db_role)
        .transpose()
}

pub async fn list_db_roles(
    db: &mut Db<'_>,
    target_id: Option<i64>,
    page: PageReq,
) -> Result<Page<DbRole>, StoreError> {
    let mut q = Q::new(format!("SELECT {DB_ROLE_COLS} {DB_ROLE_FROM} WHERE 1 = 1"));
    if let Some(t) = target_id {
        q.push_bind(" AND d.target_id = ?", t);
    }
    fetch_page(db, q, "d.id", Order::OldestFirst, page, map_db_role, |d| {
        d.id
    })
    .await
}

/// Every enabled target (reconciliation walks them all; the catalogue is small).
pub async fn enabled_targets(db: &mut Db<'_>) -> Result<Vec<Target>, StoreError> {
    let q = Q::new(format!(
        "SELECT {TARGET_COLS} FROM targets WHERE is_enabled = ? ORDER BY id"
    ))
    .bind(true);
    db.fetch_all(&q).await?.iter().map(map_target).collect()
}

/// The JIT-managed db roles of a target.
pub async fn managed_db_roles(db: &mut Db<'_>, target_id: i64) -> Result<Vec<DbRole>, StoreError> {
    let q = Q::new(format!("SELECT {DB_ROLE_COLS} {DB_ROLE_FROM} WHERE d.target_id = ? AND d.is_jit_managed = ? ORDER BY d.id"))
        .bind(target_id)
        .bind(true);
    db.fetch_all(&q).await?.iter().map(map_db_role).collect()
}

/// All db roles of a target (for the connectivity test).
pub async fn target_db_roles(db: &mut Db<'_>, target_id: i64) -> Result<Vec<DbRole>, StoreError> {
    let q = Q::new(format!(
        "SELECT {DB_ROLE_COLS} {DB_ROLE_FROM} WHERE d.target_id = ? ORDER BY d.id"
    ))
    .bind(target_id);
    db.fetch_all(&q).await?.iter().map(map_db_role).collect()
}

pub async fn insert_db_role(
    db: &mut Db<'_>,
    d: &DbRoleCreate,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let id = db
        .insert(
            "db_roles",
            &[
                ("target_id", d.target_id.into()),
                ("db_role_name", d.db_role_name.as_str().into()),
                ("role_type", d.role_type.clone().into()),
                ("description", d.description.clone().into()),
                ("is_jit_managed", d.is_jit_managed.unwrap_or(true).into()),
                ("has_unmask", d.has_unmask.unwrap_or(false).into()),
                ("created_utc", now.into()),
                ("updated_utc", now.into()),
                ("created_by", actor.into()),
                ("updated_by", actor.into()),
            ],
        )
        .await?;
    bump_version(db).await?;
    Ok(id)
}

pub async fn update_db_role(
    db: &mut Db<'_>,
    id: i64,
    d: &DbRoleUpdate,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut q = Q::new("UPDATE db_roles SET updated_utc = ?, updated_by = ?")
        .bind(now)
        .bind(actor);
    if let Some(v) = &d.role_type {
        q.push_bind(", role_type = ?", v.clone());
    }
    if let Some(v) = &d.description {
        q.push_bind(", description = ?", v.clone());
    }
    if let Some(v) = d.is_jit_managed {
        q.push_bind(", is_jit_managed = ?", v);
    }
    if let Some(v) = d.has_unmask {
        q.push_bind(", has_unmask = ?", v);
    }
    q.push_bind(" WHERE id = ?", id);
    let changed = db.execute(&q).await? == 1;
    bump_version(db).await?;
    Ok(changed)
}

// ------------------------------------------------------------------ roles

/// A role's approval window when it does not set one: a day.
pub const DEFAULT_APPROVAL_WINDOW_MINUTES: i64 = 1440;
/// Extensions per grant when a role does not set it.
pub const DEFAULT_MAX_EXTENSIONS: i64 = 3;
/// A break-glass role's review window when it does not set one: a day.
pub const DEFAULT_REVIEW_WINDOW_MINUTES: i64 = 1440;

const ROLE_COLS: &str = "id, role_name, description, max_duration_minutes, requires_ticket, \
    ticket_regex, requires_justification, requires_approval, auto_approve_min_seniority, is_enabled, \
    approval_window_minutes, max_extension_minutes, max_extensions, max_total_minutes, \
    required_approvals, approval_stages, created_utc, updated_utc, created_by, updated_by, break_glass, review_window_minutes, chat_channel";

fn map_role(r: &AnyRow) -> Result<Role, StoreError> {
    Ok(Role {
        id: get(r, "id")?,
        role_name: get(r, "role_name")?,
        description: opt_str(r, "description")?,
        max_duration_minutes: get(r, "max_duration_minutes")?,
        requires_ticket: get(r, "requires_ticket")?,
        ticket_regex: opt_str(r, "ticket_regex")?,
        requires_justification: get(r, "requires_justification")?,
        requires_approval: get(r, "requires_approval")?,
        auto_approve_min_seniority: opt_i64(r, "auto_approve_min_seniority")?,
        is_enabled: get(r, "is_enabled")?,
        approval_window_minutes: get(r, "approval_window_minutes")?,
        max_extension_minutes: opt_i64(r, "max_extension_minutes")?,
        max_extensions: get(r, "max_extensions")?,
        max_total_minutes: opt_i64(r, "max_total_minutes")?,
        required_approvals: get(r, "required_approvals")?,
        approval_stages: get(r, "approval_stages")?,
        created_utc: time(r, "created_utc")?,
        updated_utc: time(r, "updated_utc")?,
        created_by: get(r, "created_by")?,
        updated_by: get(r, "updated_by")?,
        break_glass: get(r, "break_glass")?,
        review_window_minutes: get(r, "review_window_minutes")?,
        chat_channel: opt_str(r, "chat_channel")?,
    })
}

pub async fn get_role(db: &mut Db<'_>, id: i64) -> Result<Option<Role>, StoreError> {
    let q = Q::new(format!("SELECT {ROLE_COLS} FROM roles WHERE id = ?")).bind(id);
    db.fetch_optional(&q)
        .await?
        .as_ref()
        .map(map_role)
        .transpose()
}

pub async fn list_roles(
    db: &mut Db<'_>,
    enabled: Option<bool>,
    page: PageReq,
) -> Result<Page<Role>, StoreError> {
    let mut q = Q::new(format!("SELECT {ROLE_COLS} FROM roles WHERE 1 = 1"));
    if let Some(e) = enabled {
        q.push_bind(" AND is_enabled = ?", e);
    }
    fetch_page(db, q, "id", Order::OldestFirst, page, map_role, |r| r.id).await
}

/// Every role, by name (the order the requestable-roles view lists them in).
pub async fn all_roles(db: &mut Db<'_>) -> Result<Vec<Role>, StoreError> {
    let q = Q::new(format!("SELECT {ROLE_COLS} FROM roles ORDER BY role_name"));
    db.fetch_all(&q).await?.iter().map(map_role).collect()
}

pub async fn insert_role(
    db: &mut Db<'_>,
    r: &RoleCreate,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let id = db
        .insert(
            "roles",
            &[
                ("role_name", r.role_name.as_str().into()),
                ("description", r.description.clone().into()),
                ("max_duration_minutes", r.max_duration_minutes.into()),
                ("requires_ticket", r.requires_ticket.unwrap_or(false).into()),
                ("ticket_regex", r.ticket_regex.clone().into()),
                (
                    "requires_justification",
                    r.requires_justification.unwrap_or(true).into(),
                ),
                (
                    "requires_approval",
                    r.requires_approval.unwrap_or(true).into(),
                ),
                (
                    "auto_approve_min_seniority",
                    r.auto_approve_min_seniority.into(),
                ),
                ("is_enabled", r.is_enabled.unwrap_or(true).into()),
                (
                    "approval_window_minutes",
                    r.approval_window_minutes
                        .unwrap_or(DEFAULT_APPROVAL_WINDOW_MINUTES)
                        .into(),
                ),
                ("max_extension_minutes", r.max_extension_minutes.into()),
                (
                    "max_extensions",
                    r.max_extensions.unwrap_or(DEFAULT_MAX_EXTENSIONS).into(),
                ),
                ("max_total_minutes", r.max_total_minutes.into()),
                (
                    "required_approvals",
                    r.required_approvals.unwrap_or(1).into(),
                ),
                ("approval_stages", r.approval_stages.unwrap_or(false).into()),
                ("created_utc", now.into()),
                ("updated_utc", now.into()),
                ("created_by", actor.into()),
                ("updated_by", actor.into()),
                ("break_glass", r.break_glass.unwrap_or(false).into()),
                (
                    "review_window_minutes",
                    r.review_window_minutes
                        .unwrap_or(DEFAULT_REVIEW_WINDOW_MINUTES)
                        .into(),
                ),
                ("chat_channel", r.chat_channel.clone().into()),
            ],
        )
        .await?;
    bump_version(db).await?;
    Ok(id)
}

pub async fn update_role(
    db: &mut Db<'_>,
    id: i64,
    r: &RoleUpdate,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut q = Q::new("UPDATE roles SET updated_utc = ?, updated_by = ?")
        .bind(now)
        .bind(actor);
    if let Some(v) = &r.role_name {
        q.push_bind(", role_name = ?", v.clone());
    }
    if let Some(v) = &r.description {
        q.push_bind(", description = ?", v.clone());
    }
    if let Some(v) = r.max_duration_minutes {
        q.push_bind(", max_duration_minutes = ?", v);
    }
    if let Some(v) = r.requires_ticket {
        q.push_bind(", requires_ticket = ?", v);
    }
    if let Some(v) = &r.ticket_regex {
        q.push_bind(", ticket_regex = ?", v.clone());
    }
    if let Some(v) = r.requires_justification {
        q.push_bind(", requires_justification = ?", v);
    }
    if let Some(v) = r.requires_approval {
        q.push_bind(", requires_approval = ?", v);
    }
    if let Some(v) = r.auto_approve_min_seniority {
        q.push_bind(", auto_approve_min_seniority = ?", v);
    }
    if let Some(v) = r.is_enabled {
        q.push_bind(", is_enabled = ?", v);
    }
    if let Some(v) = r.approval_window_minutes {
        q.push_bind(", approval_window_minutes = ?", v);
    }
    if let Some(v) = r.max_extension_minutes {
        q.push_bind(", max_extension_minutes = ?", v);
    }
    if let Some(v) = r.max_extensions {
        q.push_bind(", max_extensions = ?", v);
    }
    if let Some(v) = r.max_total_minutes {
        q.push_bind(", max_total_minutes = ?", v);
    }
    if let Some(v) = r.required_approvals {
        q.push_bind(", required_approvals = ?", v);
    }
    if let Some(v) = r.approval_stages {
        q.push_bind(", approval_stages = ?", v);
    }
    if let Some(v) = r.break_glass {
        q.push_bind(", break_glass = ?", v);
    }
    if let Some(v) = r.review_window_minutes {
        q.push_bind(", review_window_minutes = ?", v);
    }
    if let Some(v) = &r.chat_channel {
        q.push_bind(", chat_channel = ?", v.clone());
    }
    q.push_bind(" WHERE id = ?", id);
    let changed = db.execute(&q).await? == 1;
    bump_version(db).await?;
    Ok(changed)
}

// ------------------------------------------------------------------ role → db roles

fn map_role_db_role(r: &AnyRow) -> Result<RoleDbRole, StoreError> {
    Ok(RoleDbRole {
        role_id: get(r, "role_id")?,
        db_role_id: get(r, "db_role_id")?,
        db_role_name: get(r, "db_role_name")?,
        target_id: get(r, "target_id")?,
        target_name: get(r, "target_name")?,
        is_required: get(r, "is_required")?,
    })
}

pub async fn role_db_roles(db: &mut Db<'_>, role_id: i64) -> Result<Vec<RoleDbRole>, StoreError> {
    let q = Q::new(
        "SELECT m.role_id, m.db_role_id, d.db_role_name, d.target_id, t.name AS target_name, m.is_required \
         FROM role_db_roles m JOIN db_roles d ON d.id = m.db_role_id JOIN targets t ON t.id = d.target_id \
         WHERE m.role_id = ? ORDER BY d.db_role_name",
    )
    .bind(role_id);
    db.fetch_all(&q)
        .await?
        .iter()
        .map(map_role_db_role)
        .collect()
}

/// The whole mapping, by role and then db-role name (for the catalogue snapshot).
pub async fn all_role_db_roles(db: &mut Db<'_>) -> Result<Vec<RoleDbRole>, StoreError> {
    let q = Q::new(
        "SELECT m.role_id, m.db_role_id, d.db_role_name, d.target_id, t.name AS target_name, m.is_required \
         FROM role_db_roles m JOIN db_roles d ON d.id = m.db_role_id JOIN targets t ON t.id = d.target_id \
         ORDER BY m.role_id, d.db_role_name",
    );
    db.fetch_all(&q)
        .await?
        .iter()
        .map(map_role_db_role)
        .collect()
}

/// Inserts or updates the mapping.
pub async fn set_role_db_role(
    db: &mut Db<'_>,
    role_id: i64,
    db_role_id: i64,
    is_required: bool,
) -> Result<(), StoreError> {
    let n = db
        .execute(
            &Q::new(
                "UPDATE role_db_roles SET is_required = ? WHERE role_id = ? AND db_role_id = ?",
            )
            .bind(is_required)
            .bind(role_id)
            .bind(db_role_id),
        )
        .await?;
    if n == 0 {
        db.execute(
            &Q::new(
                "INSERT INTO role_db_roles (role_id, db_role_id, is_required) VALUES (?, ?, ?)",
            )
            .bind(role_id)
            .bind(db_role_id)
            .bind(is_required),
        )
        .await?;
    }
    bump_version(db).await
}

pub async fn remove_role_db_role(
    db: &mut Db<'_>,
    role_id: i64,
    db_role_id: i64,
) -> Result<bool, StoreError> {
    let n = db
        .execute(
            &Q::new("DELETE FROM role_db_roles WHERE role_id = ? AND db_role_id = ?")
                .bind(role_id)
                .bind(db_role_id),
        )
        .await?;
    bump_version(db).await?;
    Ok(n == 1)
}

// ------------------------------------------------------------------ approvers

const APPROVER_COLS: &str = "id, role_id, approver_type, approver_user_id, approver_team_id, \
    approver_department, approver_login_name, priority, created_utc, created_by";

fn map_approver(r: &AnyRow) -> Result<RoleApprover, StoreError> {
    Ok(RoleApprover {
        id: get(r, "id")?,
        role_id: get(r, "role_id")?,
        approver_type: parsed(r, "approver_type")?,
        approver_user_id: opt_i64(r, "approver_user_id")?,
        approver_team_id: opt_i64(r, "approver_team_id")?,
        approver_department: opt_str(r, "approver_department")?,
        approver_login_name: opt_str(r, "approver_login_name")?,
        priority: get(r, "priority")?,
        created_utc: time(r, "created_utc")?,
        created_by: get(r, "created_by")?,
    })
}

pub async fn approvers(db: &mut Db<'_>, role_id: i64) -> Result<Vec<RoleApprover>, StoreError> {
    let q = Q::new(format!(
        "SELECT {APPROVER_COLS} FROM role_approvers WHERE role_id = ? ORDER BY priority, id"
    ))
    .bind(role_id);
    db.fetch_all(&q).await?.iter().map(map_approver).collect()
}

/// The approver entries of several roles at once (one query), in stage order.
pub async fn approvers_of_roles(
    db: &mut Db<'_>,
    role_ids: &[i64],
) -> Result<Vec<RoleApprover>, StoreError> {
    if role_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Q::new(format!(
        "SELECT {APPROVER_COLS} FROM role_approvers WHERE role_id IN "
    ));
    q.push_in(role_ids.iter().copied());
    q.push(" ORDER BY role_id, priority, id");
    db.fetch_all(&q).await?.iter().map(map_approver).collect()
}

/// Every distinct department named by a `department` approver entry.
pub async fn approver_departments(db: &mut Db<'_>) -> Result<Vec<String>, StoreError> {
    let q = Q::new(
        "SELECT DISTINCT approver_department FROM role_approvers WHERE approver_type = ? AND approver_department IS NOT NULL",
    )
    .bind(ApproverType::Department.as_str());
    db.fetch_all(&q)
        .await?
        .iter()
        .map(|r| get(r, "approver_department"))
        .collect()
}

pub async fn get_approver(db: &mut Db<'_>, id: i64) -> Result<Option<RoleApprover>, StoreError> {
    let q = Q::new(format!(
        "SELECT {APPROVER_COLS} FROM role_approvers WHERE id = ?"
    ))
    .bind(id);
    db.fetch_optional(&q)
        .await?
        .as_ref()
        .map(map_approver)
        .transpose()
}

pub async fn insert_approver(
    db: &mut Db<'_>,
    role_id: i64,
    a: &RoleApproverCreate,
    approver_login_name: Option<String>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    db.insert(
        "role_approvers",
        &[
            ("role_id", role_id.into()),
            ("approver_type", a.approver_type.as_str().into()),
            ("approver_user_id", a.approver_user_id.into()),
            ("approver_team_id", a.approver_team_id.into()),
            ("approver_department", a.approver_department.clone().into()),
            ("approver_login_name", approver_login_name.into()),
            ("priority", a.priority.unwrap_or(0).into()),
            ("created_utc", now.into()),
            ("created_by", actor.into()),
        ],
    )
    .await
}

pub async fn delete_approver(db: &mut Db<'_>, role_id: i64, id: i64) -> Result<bool, StoreError> {
    let n = db
        .execute(
            &Q::new("DELETE FROM role_approvers WHERE id = ? AND role_id = ?")
                .bind(id)
                .bind(role_id),
        )
        .await?;
    Ok(n == 1)
}
