//! The audit log: one row per state change or refused attempt, written in the same
//! transaction as the change it describes.

use chrono::{DateTime, Utc};
use jitea_shared::{AuditEntry, Page};
use serde_json::Value;
use sqlx_oldapi::any::AnyRow;

use super::paging::{fetch_page, Order, PageReq};
use super::rows::{get, opt_i64, opt_str, time};
use super::{Db, StoreError, Q};

/// Who did it: a user, or a system job (`actor_user_id` = None, e.g. `system:expiry`).
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub login_name: String,
}

impl Actor {
    pub fn user(id: i64, login: &str) -> Self {
        Self {
            user_id: Some(id),
            login_name: login.to_string(),
        }
    }

    pub fn system(job: &str) -> Self {
        Self {
            user_id: None,
            login_name: format!("system:{job}"),
        }
    }
}

/// One audit row to write.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub event_type: &'a str,
    pub actor: &'a Actor,
    pub target_user_id: Option<i64>,
    pub request_id: Option<i64>,
    pub grant_id: Option<i64>,
    pub details: Value,
}

impl<'a> Event<'a> {
    pub fn new(event_type: &'a str, actor: &'a Actor) -> Self {
        Self {
            event_type,
            actor,
            target_user_id: None,
            request_id: None,
            grant_id: None,
            details: Value::Null,
        }
    }
    pub fn user(mut self, id: i64) -> Self {
        self.target_user_id = Some(id);
        self
    }
    pub fn request(mut self, id: i64) -> Self {
        self.request_id = Some(id);
        self
    }
    pub fn request_opt(mut self, id: Option<i64>) -> Self {
        self.request_id = id;
        self
    }
    pub fn grant(mut self, id: i64) -> Self {
        self.grant_id = Some(id);
        self
    }
    pub fn details(mut self, d: Value) -> Self {
        self.details = d;
        self
    }
}

pub async fn write(db: &mut Db<'_>, e: Event<'_>, now: DateTime<Utc>) -> Result<i64, StoreError> {
    let details = if e.details.is_null() {
        None
    } else {
        Some(e.details.to_string())
    };
    db.insert(
        "audit_log",
        &[
            ("event_utc", now.into()),
            ("event_type", e.event_type.into()),
            ("actor_user_id", e.actor.user_id.into()),
            ("actor_login_name", e.actor.login_name.as_str().into()),
            ("target_user_id", e.target_user_id.into()),
            ("request_id", e.request_id.into()),
            ("grant_id", e.grant_id.into()),
            ("details_json", details.into()),
        ],
    )
    .await
}

/// Writes many audit rows at once (batched expiry).
pub async fn write_many(
    db: &mut Db<'_>,
    events: Vec<Event<'_>>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let rows = events
        .into_iter()
        .map(|e| {
            let details = if e.details.is_null() {
                None
            } else {
                Some(e.details.to_string())
            };
            vec![
                now.into(),
                e.event_type.into(),
                e.actor.user_id.into(),
                e.actor.login_name.as_str().into(),
                e.target_user_id.into(),
                e.request_id.into(),
                e.grant_id.into(),
                details.into(),
            ]
        })
        .collect();
    db.insert_many(
        "audit_log",
        &[
            "event_utc",
            "event_type",
            "actor_user_id",
            "actor_login_name",
            "target_user_id",
            "request_id",
            "grant_id",
            "details_json",
        ],
        rows,
    )
    .await
}

#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub event_type: Option<String>,
    pub actor_user_id: Option<i64>,
    pub actor_login_name: Option<String>,
    pub target_user_id: Option<i64>,
    pub request_id: Option<i64>,
    pub grant_id: Option<i64>,
    pub from_utc: Option<DateTime<Utc>>,
    pub to_utc: Option<DateTime<Utc>>,
}

fn map(r: &AnyRow) -> Result<AuditEntry, StoreError> {
    let details = opt_str(r, "details_json")?
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(Value::Null);
    Ok(AuditEntry {
        id: get(r, "id")?,
        event_utc: time(r, "event_utc")?,
        event_type: get(r, "event_type")?,
        actor_user_id: opt_i64(r, "actor_user_id")?,
        actor_login_name: get(r, "actor_login_name")?,
        target_user_id: opt_i64(r, "target_user_id")?,
        request_id: opt_i64(r, "request_id")?,
        grant_id: opt_i64(r, "grant_id")?,
        details,
    })
}

pub async fn list(
    db: &mut Db<'_>,
    f: &AuditFilter,
    page: PageReq,
) -> Result<Page<AuditEntry>, StoreError> {
    let mut q = Q::new(
        "SELECT id, event_utc, event_type, actor_user_id, actor_login_name, target_user_id, request_id, \
         grant_id, details_json FROM audit_log WHERE 1 = 1",
    );
    if let Some(v) = &f.event_type {
        q.push_bind(" AND event_type = ?", v);
    }
    if let Some(v) = f.actor_user_id {
        q.push_bind(" AND actor_user_id = ?", v);
    }
    if let Some(v) = &f.actor_login_name {
        q.push_bind(" AND actor_login_name = ?", v);
    }
    if let Some(v) = f.target_user_id {
        q.push_bind(" AND target_user_id = ?", v);
    }
    if let Some(v) = f.request_id {
        q.push_bind(" AND request_id = ?", v);
    }
    if let Some(v) = f.grant_id {
        q.push_bind(" AND grant_id = ?", v);
    }
    if let Some(v) = f.from_utc {
        q.push_bind(" AND event_utc >= ?", v);
    }
    if let Some(v) = f.to_utc {
        q.push_bind(" AND event_utc < ?", v);
    }
    fetch_page(db, q, "id", Order::NewestFirst, page, map, |e| e.id).await
}

/// Every audit event about one piece of access, oldest first: the events of `request_ids`
/// (the request, and the extensions of its grant) and of `grant_id`. At most 2,000.
pub async fn for_access(
    db: &mut Db<'_>,
    request_ids: &[i64],
    grant_id: Option<i64>,
) -> Result<Vec<AuditEntry>, StoreError> {
    let mut q = Q::new(
        "SELECT id, event_utc, event_type, actor_user_id, actor_login_name, target_user_id, request_id, \
         grant_id, details_json FROM audit_log WHERE request_id IN ",
    );
    q.push_in(request_ids.iter().copied());
    if let Some(g) = grant_id {
        q.push_bind(" OR grant_id = ?", g);
    }
    q.push(" ORDER BY id");
    q.limit(2000);
    db.fetch_all(&q).await?.iter().map(map).collect()
}
