//! `/scim/tokens`: the bearer tokens identity providers use on `/scim/v2` (admins). The token
//! itself is in the creation response only; lists show its prefix.

use actix_web::{delete, get, post, web, HttpResponse};
use jitea_shared::*;

use crate::auth::Admin;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::store::{scim, Db};
use crate::workflow::scim as flow;

use super::errors::CommonErrors;
use super::json::Json;
use super::support::{created, name, ok, page};
use super::teams::PageQuery;

/// List SCIM tokens, newest first (admins). Never shows a token, only its prefix.
#[utoipa::path(tag = "scim", params(PageQuery), responses((status = 200, body = Page<ScimToken>), CommonErrors), security(("bearer" = [])))]
#[get("/scim/tokens")]
pub async fn list_tokens(
    st: web::Data<AppState>,
    _admin: Admin,
    q: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let p = page(q.limit, q.cursor.as_deref())?;
    let mut c = st.store.conn().await?;
    Ok(ok(&scim::list_tokens(
        &mut Db::new(&mut c, st.store.dialect()),
        p,
    )
    .await?))
}

/// Create a SCIM token for an identity provider (admins). The response's `token` is the only
/// time it is shown; JITEA keeps its SHA-256. It is accepted on `/scim/v2` only.
#[utoipa::path(tag = "scim", request_body = ScimTokenCreate, responses((status = 201, body = ScimTokenCreated), CommonErrors), security(("bearer" = [])))]
#[post("/scim/tokens")]
pub async fn create_token(
    st: web::Data<AppState>,
    admin: Admin,
    body: Json<ScimTokenCreate>,
) -> ApiResult<HttpResponse> {
    let n = name("name", &body.name, 100)?;
    Ok(created(&flow::create_token(&st, &admin.0, &n).await?))
}

/// Revoke a SCIM token (admins): refused on `/scim/v2` at once. Revoking it again is a no-op.
#[utoipa::path(tag = "scim", params(("id" = i64, Path)), responses((status = 204, description = "Revoked"), CommonErrors), security(("bearer" = [])))]
#[delete("/scim/tokens/{id}")]
pub async fn revoke_token(
    st: web::Data<AppState>,
    admin: Admin,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    flow::revoke_token(&st, &admin.0, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
