//! `/grants`: issued access, with its per-db-role provisioning state; admin revoke.

use actix_web::{get, post, web, HttpResponse};
use jitea_shared::*;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::{Admin, AuthUser};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::grants::GrantFilter;
use crate::store::{grants as grant_store, Db};
use crate::workflow::break_glass;
use crate::workflow::extensions;
use crate::workflow::grants as flow;

use super::errors::CommonErrors;
use super::json::Json;
use super::support::{created, ok, page};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GrantListQuery {
    /// Page size (1-500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page (opaque; only values this API returned).
    pub cursor: Option<String>,
    pub status: Option<GrantStatus>,
    pub role_id: Option<i64>,
    /// Only auditors and admins may list other users' grants.
    pub user_id: Option<i64>,
    /// `true`: only grants whose removal keeps failing on a target.
    pub revoke_failed: Option<bool>,
}

/// List grants, newest first: your own, or anyone's for auditors and admins.
#[utoipa::path(tag = "grants", params(GrantListQuery), responses((status = 200, body = Page<Grant>), CommonErrors), security(("bearer" = [])))]
#[get("/grants")]
pub async fn list_grants(
    st: web::Data<AppState>,
    me: AuthUser,
    q: web::Query<GrantListQuery>,
) -> ApiResult<HttpResponse> {
    let p = page(q.limit, q.cursor.as_deref())?;
    let sees_all = me.0.is_admin || me.0.is_auditor;
    let user_id = match q.user_id {
        Some(u) if u != me.0.id && !sees_all => {
            return Err(ApiError::forbidden(
                "forbidden",
                "you can only list your own grants",
            ))
        }
        Some(u) => Some(u),
        None if sees_all => None,
        None => Some(me.0.id),
    };
    let f = GrantFilter {
        user_id,
        role_id: q.role_id,
        status: q.status,
        revoke_failed: q.revoke_failed,
    };
    let mut c = st.store.conn().await?;
    Ok(ok(&grant_store::list(
        &mut Db::new(&mut c, st.store.dialect()),
        &f,
        p,
    )
    .await?))
}

/// Get a grant (yours, or any for auditors and admins).
#[utoipa::path(tag = "grants", params(("id" = i64, Path)), responses((status = 200, body = Grant), CommonErrors), security(("bearer" = [])))]
#[get("/grants/{id}")]
pub async fn get_grant(
    st: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let g = flow::get(&st, id.into_inner()).await?;
    if g.user_id != me.0.id && !me.0.is_admin && !me.0.is_auditor {
        return Err(ApiError::not_found("grant"));
    }
    Ok(ok(&g))
}

/// Revoke a live grant now, with a reason (admins): memberships are dropped and sessions
/// ended before the grant is marked revoked. The decision is recorded first; if another
/// holder of the grant (a provisioning call still in flight on a slow target) does not finish
/// within 10 s, the answer is 202 with `pending_end: "revoke"` and that holder removes the
/// access as soon as its call returns.
#[utoipa::path(tag = "grants", params(("id" = i64, Path)), request_body = RevokeBody, responses((status = 200, body = Grant, description = "Revoked: every target confirmed the removal"), (status = 202, body = Grant, description = "Revoke recorded; the removal completes as soon as the grant's current holder lets go"), CommonErrors), security(("bearer" = [])))]
#[post("/grants/{id}/revoke")]
pub async fn revoke_grant(
    st: web::Data<AppState>,
    admin: Admin,
    id: web::Path<i64>,
    body: Json<RevokeBody>,
) -> ApiResult<HttpResponse> {
    let (grant, done) = flow::revoke(&st, &admin.0, id.into_inner(), &body.reason).await?;
    Ok(if done {
        ok(&grant)
    } else {
        HttpResponse::Accepted().json(&grant)
    })
}

/// Ask for more time on your active grant. The extension follows the role's policy like a new
/// request: pre-approved and seniority-bypass extensions move the grant's end at once
/// (`auto_approved`), others wait for an approver (`pending`, shown to them as an extension of
/// this grant) and expire if not decided within the role's approval window, or when the grant
/// ends first. The access on the targets is never removed and re-added. Refusals:
/// `grant_not_extendable` (409: not active, ending or ended), `extension_pending` (409: one is
/// already waiting), `too_many_extensions` (409), `total_duration_exceeded` (409),
/// `extension_too_long` (400), `validation_failed` (400: justification or ticket),
/// `not_eligible` (403).
#[utoipa::path(tag = "grants", params(("id" = i64, Path)), request_body = GrantExtend, responses((status = 201, body = AccessRequest, description = "The extension request (`kind: extension`), pending or already applied"), CommonErrors), security(("bearer" = [])))]
#[post("/grants/{id}/extend")]
pub async fn extend_grant(
    st: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<i64>,
    body: Json<GrantExtend>,
) -> ApiResult<HttpResponse> {
    let r = extensions::request(&st, &me.0, id.into_inner(), &body).await?;
    Ok(created(&r))
}

/// Review a break-glass grant after the fact (an approver of its role; never its holder):
/// `accept` or `flag` with a comment (1-4000 characters); `flag` with `revoke: true` also
/// revokes the grant now, like an admin revoke. A grant is reviewed once. Refusals:
/// `self_review` (403), `not_an_approver` (403 for auditors and admins; 404 for others),
/// `not_break_glass` (409), `already_reviewed` (409), `validation_failed` (400: comment, or
/// `revoke` without `flag`).
#[utoipa::path(tag = "grants", params(("id" = i64, Path)), request_body = GrantReviewBody, responses((status = 200, body = Grant, description = "The reviewed grant (revoked, or with `pending_end: revoke`, when the review revoked it)"), CommonErrors), security(("bearer" = [])))]
#[post("/grants/{id}/review")]
pub async fn review_grant(
    st: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<i64>,
    body: Json<GrantReviewBody>,
) -> ApiResult<HttpResponse> {
    let g = break_glass::review(&st, &me.0, id.into_inner(), &body).await?;
    Ok(ok(&g))
}
