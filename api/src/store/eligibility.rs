//! Eligibility rules (per role, by scope) and per-user overrides.

use chrono::{DateTime, Utc};
use jitea_shared::*;
use sqlx_oldapi::any::AnyRow;

use std::collections::HashMap;

use crate::domain::eligibility as domain;
use crate::domain::Window;

use super::catalog::bump_version;
use super::paging::{fetch_page, Order, PageReq};
use super::rows::{get, opt_str, opt_time, parsed, time};
use super::{Db, StoreError, Q};

const RULE_COLS: &str = "id, role_id, scope_type, scope_value, can_request, valid_from_utc, \
    valid_to_utc, priority, created_utc, updated_utc, created_by, updated_by";

fn map_rule(r: &AnyRow) -> Result<EligibilityRule, StoreError> {
    Ok(EligibilityRule {
        id: get(r, "id")?,
        role_id: get(r, "role_id")?,
        scope_type: parsed(r, "scope_type")?,
        scope_value: opt_str(r, "scope_value")?,
        can_request: get(r, "can_request")?,
        valid_from_utc: opt_time(r, "valid_from_utc")?,
        valid_to_utc: opt_time(r, "valid_to_utc")?,
        priority: get(r, "priority")?,
        created_utc: time(r, "created_utc")?,
        updated_utc: time(r, "updated_utc")?,
        created_by: get(r, "created_by")?,
        updated_by: get(r, "updated_by")?,
    })
}

pub async fn get_rule(db: &mut Db<'_>, id: i64) -> Result<Option<EligibilityRule>, StoreError> {
    let q = Q::new(format!(
        "SELECT {RULE_COLS} FROM role_eligibility_rules WHERE id = ?"
    ))
    .bind(id);
    db.fetch_optional(&q)
        .await?
        .as_ref()
        .map(map_rule)
        .transpose()
}

pub async fn list_rules(
    db: &mut Db<'_>,
    role_id: Option<i64>,
    page: PageReq,
) -> Result<Page<EligibilityRule>, StoreError> {
    let mut q = Q::new(format!(
        "SELECT {RULE_COLS} FROM role_eligibility_rules WHERE 1 = 1"
    ));
    if let Some(r) = role_id {
        q.push_bind(" AND role_id = ?", r);
    }
    fetch_page(db, q, "id", Order::OldestFirst, page, map_rule, |r| r.id).await
}

/// Every rule of every role, filed in a [`domain::RuleIndex`] (for the catalogue snapshot:
/// only the columns resolution needs, row by row).
pub async fn rule_index(db: &mut Db<'_>) -> Result<domain::RuleIndex, StoreError> {
    let q = Q::new(
        "SELECT id, role_id, scope_type, scope_value, can_request, valid_from_utc, valid_to_utc, priority \
         FROM role_eligibility_rules ORDER BY id",
    );
    let mut index = domain::RuleIndex::default();
    db.for_each_row(&q, |r| {
        let rule = domain::EligibilityRule {
            id: get(r, "id")?,
            scope_type: parsed(r, "scope_type")?,
            scope_value: opt_str(r, "scope_value")?,
            can_request: get(r, "can_request")?,
            window: Window {
                valid_from: opt_time(r, "valid_from_utc")?,
                valid_to: opt_time(r, "valid_to_utc")?,
            },
            priority: get(r, "priority")?,
        };
        index.insert(get(r, "role_id")?, rule);
        Ok(())
    })
    .await?;
    index.shrink_to_fit();
    Ok(index)
}

pub async fn insert_rule(
    db: &mut Db<'_>,
    r: &EligibilityRuleCreate,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let id = db
        .insert(
            "role_eligibility_rules",
            &[
                ("role_id", r.role_id.into()),
                ("scope_type", r.scope_type.as_str().into()),
                ("scope_value", r.scope_value.clone().into()),
                ("can_request", r.can_request.unwrap_or(true).into()),
                ("valid_from_utc", r.valid_from_utc.into()),
                ("valid_to_utc", r.valid_to_utc.into()),
                ("priority", r.priority.unwrap_or(0).into()),
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

/// Writes a full rule (the caller merged the PATCH and validated the result).
pub async fn replace_rule(
    db: &mut Db<'_>,
    r: &EligibilityRule,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let q = Q::new(
        "UPDATE role_eligibility_rules SET scope_type = ?, scope_value = ?, can_request = ?, \
         valid_from_utc = ?, valid_to_utc = ?, priority = ?, updated_utc = ?, updated_by = ? WHERE id = ?",
    )
    .bind(r.scope_type.as_str())
    .bind(r.scope_value.clone())
    .bind(r.can_request)
    .bind(r.valid_from_utc)
    .bind(r.valid_to_utc)
    .bind(r.priority)
    .bind(now)
    .bind(actor)
    .bind(r.id);
    let changed = db.execute(&q).await? == 1;
    bump_version(db).await?;
    Ok(changed)
}

pub async fn delete_rule(db: &mut Db<'_>, id: i64) -> Result<bool, StoreError> {
    let deleted = db
        .execute(&Q::new("DELETE FROM role_eligibility_rules WHERE id = ?").bind(id))
        .await?
        == 1;
    bump_version(db).await?;
    Ok(deleted)
}

// ------------------------------------------------------------------ overrides

const OVR_COLS: &str = "o.user_id, o.role_id, r.role_name, o.can_request, o.valid_from_utc, \
    o.valid_to_utc, o.priority, o.created_utc, o.updated_utc, o.created_by, o.updated_by";

fn map_override(r: &AnyRow) -> Result<EligibilityOverride, StoreError> {
    Ok(EligibilityOverride {
        user_id: get(r, "user_id")?,
        role_id: get(r, "role_id")?,
        role_name: get(r, "role_name")?,
        can_request: get(r, "can_request")?,
        valid_from_utc: opt_time(r, "valid_from_utc")?,
        valid_to_utc: opt_time(r, "valid_to_utc")?,
        priority: get(r, "priority")?,
        created_utc: time(r, "created_utc")?,
        updated_utc: time(r, "updated_utc")?,
        created_by: get(r, "created_by")?,
        updated_by: get(r, "updated_by")?,
    })
}

pub async fn overrides_for_user(
    db: &mut Db<'_>,
    user_id: i64,
) -> Result<Vec<EligibilityOverride>, StoreError> {
    let q = Q::new(format!(
        "SELECT {OVR_COLS} FROM user_role_eligibility o JOIN roles r ON r.id = o.role_id WHERE o.user_id = ? ORDER BY r.role_name"
    ))
    .bind(user_id);
    db.fetch_all(&q).await?.iter().map(map_override).collect()
}

/// A user's overrides as the domain reads them, by role id (one indexed read: the primary key
/// starts with the user).
pub async fn overrides_for_resolution(
    db: &mut Db<'_>,
    user_id: i64,
) -> Result<HashMap<i64, domain::EligibilityOverride>, StoreError> {
    let q = Q::new(
        "SELECT role_id, can_request, valid_from_utc, valid_to_utc, priority FROM user_role_eligibility WHERE user_id = ?",
    )
    .bind(user_id);
    db.fetch_all(&q)
        .await?
        .iter()
        .map(|r| {
            Ok((
                get(r, "role_id")?,
                domain::EligibilityOverride {
                    can_request: get(r, "can_request")?,
                    window: Window {
                        valid_from: opt_time(r, "valid_from_utc")?,
                        valid_to: opt_time(r, "valid_to_utc")?,
                    },
                    priority: get(r, "priority")?,
                },
            ))
        })
        .collect()
}

pub async fn get_override(
    db: &mut Db<'_>,
    user_id: i64,
    role_id: i64,
) -> Result<Option<EligibilityOverride>, StoreError> {
    let q = Q::new(format!(
        "SELECT {OVR_COLS} FROM user_role_eligibility o JOIN roles r ON r.id = o.role_id WHERE o.user_id = ? AND o.role_id = ?"
    ))
    .bind(user_id)
    .bind(role_id);
    db.fetch_optional(&q)
        .await?
        .as_ref()
        .map(map_override)
        .transpose()
}

/// Creates or replaces the override. Returns true when it was created.
pub async fn set_override(
    db: &mut Db<'_>,
    user_id: i64,
    role_id: i64,
    o: &EligibilityOverrideSet,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let n = db
        .execute(
            &Q::new(
                "UPDATE user_role_eligibility SET can_request = ?, valid_from_utc = ?, valid_to_utc = ?, \
                 priority = ?, updated_utc = ?, updated_by = ? WHERE user_id = ? AND role_id = ?",
            )
            .bind(o.can_request)
            .bind(o.valid_from_utc)
            .bind(o.valid_to_utc)
            .bind(o.priority.unwrap_or(0))
            .bind(now)
            .bind(actor)
            .bind(user_id)
            .bind(role_id),
        )
        .await?;
    if n == 1 {
        return Ok(false);
    }
    db.execute(
        &Q::new(
            "INSERT INTO user_role_eligibility (user_id, role_id, can_request, valid_from_utc, valid_to_utc, \
             priority, created_utc, updated_utc, created_by, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(user_id)
        .bind(role_id)
        .bind(o.can_request)
        .bind(o.valid_from_utc)
        .bind(o.valid_to_utc)
        .bind(o.priority.unwrap_or(0))
        .bind(now)
        .bind(now)
        .bind(actor)
        .bind(actor),
    )
    .await?;
    Ok(true)
}

pub async fn delete_override(
    db: &mut Db<'_>,
    user_id: i64,
    role_id: i64,
) -> Result<bool, StoreError> {
    let q = Q::new("DELETE FROM user_role_eligibility WHERE user_id = ? AND role_id = ?")
        .bind(user_id)
        .bind(role_id);
    Ok(db.execute(&q).await? == 1)
}
