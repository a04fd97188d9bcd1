//! `/audit`: the audit log, filterable, newest first.

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use jitea_shared::*;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Auditor;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::store::audit::{list, AuditFilter};
use crate::store::Db;

use super::errors::CommonErrors;
use super::support::{ok, page};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Page size (1-500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page (opaque; only values this API returned).
    pub cursor: Option<String>,
    /// e.g. `request_created`, `request_approved`, `grant_expired`, `login_failed`.
    #[param(pattern = r#"^[^\u0000]*$"#)]
    pub event_type: Option<String>,
    pub actor_user_id: Option<i64>,
    /// e.g. `alice` or `system:expiry`.
    #[param(pattern = r#"^[^\u0000]*$"#)]
    pub actor_login_name: Option<String>,
    /// The user the event is about.
    pub user_id: Option<i64>,
    pub request_id: Option<i64>,
    pub grant_id: Option<i64>,
    /// Inclusive lower bound (RFC 3339).
    pub from_utc: Option<DateTime<Utc>>,
    /// Exclusive upper bound (RFC 3339).
    pub to_utc: Option<DateTime<Utc>>,
}

/// Browse the audit log (auditors and admins).
#[utoipa::path(tag = "audit", params(AuditQuery), responses((status = 200, body = Page<AuditEntry>), CommonErrors), security(("bearer" = [])))]
#[get("/audit")]
pub async fn list_audit(
    st: web::Data<AppState>,
    _a: Auditor,
    q: web::Query<AuditQuery>,
) -> ApiResult<HttpResponse> {
    let p = page(q.limit, q.cursor.as_deref())?;
    let f = AuditFilter {
        event_type: q.event_type.clone(),
        actor_user_id: q.actor_user_id,
        actor_login_name: q.actor_login_name.clone(),
        target_user_id: q.user_id,
        request_id: q.request_id,
        grant_id: q.grant_id,
        from_utc: q.from_utc,
        to_utc: q.to_utc,
    };
    let mut c = st.store.conn().await?;
    Ok(ok(
        &list(&mut Db::new(&mut c, st.store.dialect()), &f, p).await?
    ))
}
