//! `/eligibility-rules` and `/eligibility/check` (explains which rule decided and why).

use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use jitea_shared::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use crate::auth::{Admin, Auditor, AuthUser};
use crate::domain::separation::Fact;
use crate::domain::window::Window;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};
use crate::store::{catalog, eligibility, teams, users, Db};
use crate::workflow::access;
use crate::workflow::separation as sod;

use super::errors::CommonErrors;
use super::json::Json;
use super::support::{created, ok, opt_text, page};

/// Rejects a validity window whose start is not before its end.
pub fn check_window(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> ApiResult<()> {
    Window { valid_from: from, valid_to: to }.validate().map_err(|e| {
        ApiError::bad_request("validation_failed", e.to_string())
            .with_details(json!({"fields": [{"field": "valid_to_utc", "code": "invalid_window", "message": "valid_to_utc must be after valid_from_utc"}]}))
    })
}

fn scope_error(m: &str) -> ApiError {
    ApiError::bad_request("validation_failed", m.to_string()).with_details(
        json!({"fields": [{"field": "scope_value", "code": "invalid_scope_value", "message": m}]}),
    )
}

/// Normalises and checks a rule's scope value against its type (ids must exist).
async fn check_scope(db: &mut Db<'_>, t: ScopeType, v: Option<&str>) -> ApiResult<Option<String>> {
    let v = opt_text("scope_value", v, 255, false)?;
    match t {
        ScopeType::All => {
            if v.is_some() {
                return Err(scope_error("scope_value must be empty for scope `all`"));
            }
            Ok(None)
        }
        ScopeType::User => {
            let id: i64 = v
                .as_deref()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| scope_error("scope_value must be a user id for scope `user`"))?;
            users::get_by_id(db, id)
                .await?
                .ok_or_else(|| scope_error("no user with that id"))?;
            Ok(Some(id.to_string()))
        }
        ScopeType::Team => {
            let id: i64 = v
                .as_deref()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| scope_error("scope_value must be a team id for scope `team`"))?;
            teams::get_by_id(db, id)
                .await?
                .ok_or_else(|| scope_error("no team with that id"))?;
            Ok(Some(id.to_string()))
        }
        ScopeType::Department | ScopeType::Division => v
            .map(Some)
            .ok_or_else(|| scope_error("scope_value must name the department or division")),
    }
}

/// The user a rule of scope `user` names (separation of duties: not the caller).
fn rule_subject(t: ScopeType, v: Option<&str>) -> Option<i64> {
    (t == ScopeType::User)
        .then(|| v.and_then(|s| s.trim().parse().ok()))
        .flatten()
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RuleListQuery {
    /// Page size (1-500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page (opaque; only values this API returned).
    pub cursor: Option<String>,
    pub role_id: Option<i64>,
}

/// List eligibility rules (auditors and admins).
#[utoipa::path(tag = "eligibility", params(RuleListQuery), responses((status = 200, body = Page<EligibilityRule>), CommonErrors), security(("bearer" = [])))]
#[get("/eligibility-rules")]
pub async fn list_rules(
    st: web::Data<AppState>,
    _a: Auditor,
    q: web::Query<RuleListQuery>,
) -> ApiResult<HttpResponse> {
    let p = page(q.limit, q.cursor.as_deref())?;
    let mut c = st.store.conn().await?;
    Ok(ok(&eligibility::list_rules(
        &mut Db::new(&mut c, st.store.dialect()),
        q.role_id,
        p,
    )
    .await?))
}

/// Get an eligibility rule (auditors and admins).
#[utoipa::path(tag = "eligibility", params(("id" = i64, Path)), responses((status = 200, body = EligibilityRule), CommonErrors), security(("bearer" = [])))]
#[get("/eligibility-rules/{id}")]
pub async fn get_rule(
    st: web::Data<AppState>,
    _a: Auditor,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let mut c = st.store.conn().await?;
    let r = eligibility::get_rule(&mut Db::new(&mut c, st.store.dialect()), id.into_inner())
        .await?
        .ok_or_else(|| ApiError::not_found("eligibility rule"))?;
    Ok(ok(&r))
}

/// Create an eligibility rule (admins).
#[utoipa::path(tag = "eligibility", request_body = EligibilityRuleCreate, responses((status = 201, body = EligibilityRule), CommonErrors), security(("bearer" = [])))]
#[post("/eligibility-rules")]
pub async fn create_rule(
    st: web::Data<AppState>,
    admin: Admin,
    body: Json<EligibilityRuleCreate>,
) -> ApiResult<HttpResponse> {
    let mut b = body.into_inner();
    check_window(b.valid_from_utc, b.valid_to_utc)?;
    if let Some(subject) = rule_subject(b.scope_type, b.scope_value.as_deref()) {
        sod::guard(&st, &admin.0, subject, &[Fact::EligibilityRule]).await?;
    }
    let now = st.now();
    let mut tx = st.store.begin_write().await?;
    let mut db = tx.db();
    catalog::get_role(&mut db, b.role_id)
        .await?
        .ok_or_else(|| ApiError::not_found("role"))?;
    b.scope_value = check_scope(&mut db, b.scope_type, b.scope_value.as_deref()).await?;
    let id = eligibility::insert_rule(&mut db, &b, &admin.0.login_name, now).await?;
    let r = eligibility::get_rule(&mut db, id)
        .await?
        .ok_or_else(ApiError::internal)?;
    audit::write(
        &mut db,
        Event::new(
            "eligibility_rule_created",
            &Actor::user(admin.0.id, &admin.0.login_name),
        )
        .details(json!({"rule": r})),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(created(&r))
}

/// Update an eligibility rule (admins).
#[utoipa::path(tag = "eligibility", params(("id" = i64, Path)), request_body = Option<EligibilityRuleUpdate>, responses((status = 200, body = EligibilityRule), CommonErrors), security(("bearer" = [])))]
#[patch("/eligibility-rules/{id}")]
pub async fn update_rule(
    st: web::Data<AppState>,
    admin: Admin,
    id: web::Path<i64>,
    body: Json<EligibilityRuleUpdate>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let now = st.now();
    let mut tx = st.store.begin_write().await?;
    let mut db = tx.db();
    let before = eligibility::get_rule(&mut db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("eligibility rule"))?;
    let new_type = body.scope_type.unwrap_or(before.scope_type);
    let new_value = match &body.scope_value {
        Some(v) => v.clone(),
        None => before.scope_value.clone(),
    };
    let subjects = [
        rule_subject(before.scope_type, before.scope_value.as_deref()),
        rule_subject(new_type, new_value.as_deref()),
    ];
    if subjects.contains(&Some(admin.0.id)) {
        drop(tx);
        return Err(sod::refused(&st, &admin.0, admin.0.id, &[Fact::EligibilityRule]).await);
    }
    let mut r = before.clone();
    if let Some(t) = body.scope_type {
        r.scope_type = t;
    }
    if let Some(v) = &body.scope_value {
        r.scope_value = v.clone();
    }
    if let Some(v) = body.can_request {
        r.can_request = v;
    }
    if let Some(v) = body.valid_from_utc {
        r.valid_from_utc = v;
    }
    if let Some(v) = body.valid_to_utc {
        r.valid_to_utc = v;
    }
    if let Some(v) = body.priority {
        r.priority = v;
    }
    check_window(r.valid_from_utc, r.valid_to_utc)?;
    r.scope_value = check_scope(&mut db, r.scope_type, r.scope_value.as_deref()).await?;
    eligibility::replace_rule(&mut db, &r, &admin.0.login_name, now).await?;
    let after = eligibility::get_rule(&mut db, id)
        .await?
        .ok_or_else(ApiError::internal)?;
    audit::write(
        &mut db,
        Event::new(
            "eligibility_rule_updated",
            &Actor::user(admin.0.id, &admin.0.login_name),
        )
        .details(json!({"before": before, "after": after})),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(ok(&after))
}

/// Delete an eligibility rule (admins).
#[utoipa::path(tag = "eligibility", params(("id" = i64, Path)), responses((status = 204, description = "Deleted"), CommonErrors), security(("bearer" = [])))]
#[delete("/eligibility-rules/{id}")]
pub async fn delete_rule(
    st: web::Data<AppState>,
    admin: Admin,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let now = st.now();
    let mut tx = st.store.begin_write().await?;
    let mut db = tx.db();
    let before = eligibility::get_rule(&mut db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("eligibility rule"))?;
    let subject = rule_subject(before.scope_type, before.scope_value.as_deref());
    if subject == Some(admin.0.id) {
        drop(tx);
        return Err(sod::refused(&st, &admin.0, admin.0.id, &[Fact::EligibilityRule]).await);
    }
    eligibility::delete_rule(&mut db, id).await?;
    audit::write(
        &mut db,
        Event::new(
            "eligibility_rule_deleted",
            &Actor::user(admin.0.id, &admin.0.login_name),
        )
        .details(json!({"rule": before})),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CheckQuery {
    pub user_id: i64,
    pub role_id: i64,
}

/// Explain whether a user may request a role now, which rule decided, and whether a request
/// would be auto-approved. Users may check themselves; auditors and admins anyone.
#[utoipa::path(tag = "eligibility", params(CheckQuery), responses((status = 200, body = EligibilityCheck), CommonErrors), security(("bearer" = [])))]
#[get("/eligibility/check")]
pub async fn check(
    st: web::Data<AppState>,
    me: AuthUser,
    q: web::Query<CheckQuery>,
) -> ApiResult<HttpResponse> {
    if q.user_id != me.0.id && !me.0.is_admin && !me.0.is_auditor {
        return Err(ApiError::forbidden(
            "forbidden",
            "you can only check your own eligibility",
        ));
    }
    let now = st.now();
    let mut c = st.store.conn().await?;
    let mut db = Db::new(&mut c, st.store.dialect());
    let user = users::get_by_id(&mut db, q.user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    let role = catalog::get_role(&mut db, q.role_id)
        .await?
        .ok_or_else(|| ApiError::not_found("role"))?;
    let c = access::check(st.store.catalog_cache(), &mut db, &user, &role, now).await?;
    Ok(ok(&EligibilityCheck {
        user_id: user.id,
        role_id: role.id,
        eligible: c.eligibility.eligible,
        reason: serde_json::to_value(&c.eligibility.reason).unwrap_or_default(),
        explanation: c.eligibility.reason.explain(),
        auto_approval_reason: if c.eligibility.eligible {
            c.auto_approval
        } else {
            None
        },
    }))
}
