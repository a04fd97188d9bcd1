//! The SCIM 2.0 service provider at `/scim/v2` (RFC 7644): discovery, `Users`, `Groups`.
//! Thin: parse the request (query parameters, body, `If-Match`), authenticate the identity
//! provider (`ScimClient`: a SCIM token and nothing else), call `workflow::scim`, answer in
//! `application/scim+json` with SCIM error bodies and `ETag` headers.
//!
//! Deliberately not in the OpenAPI document: the SCIM protocol describes itself through its
//! own `/ServiceProviderConfig`, `/Schemas` and `/ResourceTypes` (and scripts/
//! scim_conformance.sh checks them with a SCIM conformance tester), and its clients are
//! SCIM clients, not OpenAPI ones.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde_json::{json, Value};

use crate::auth::scim::ScimClient;
use crate::directory::scim::{
    filter, resource, schema, ScimError, GROUP_SCHEMA, LIST_SCHEMA, MAX_PAYLOAD, MAX_RESULTS,
    USER_SCHEMA,
};
use crate::state::AppState;
use crate::workflow::scim::{self as flow, ListQuery};

pub const CONTENT_TYPE: &str = "application/scim+json";

impl ResponseError for ScimError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut r = HttpResponse::build(self.status_code());
        r.content_type(CONTENT_TYPE);
        if self.status == 401 {
            r.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"jitea-scim\""));
        }
        r.body(self.body().to_string())
    }
}

type ScimResult = Result<HttpResponse, ScimError>;

/// A SCIM response; a resource's `meta.version` also becomes its `ETag` header.
fn respond(status: StatusCode, doc: &Value) -> HttpResponse {
    let mut r = HttpResponse::build(status);
    r.content_type(CONTENT_TYPE);
    if let Some(v) = doc["meta"]["version"].as_str() {
        if let Ok(h) = HeaderValue::from_str(v) {
            r.insert_header((header::ETAG, h));
        }
    }
    if status == StatusCode::CREATED {
        if let Some(l) = doc["meta"]["location"].as_str() {
            if let Ok(h) = HeaderValue::from_str(l) {
                r.insert_header((header::LOCATION, h));
            }
        }
    }
    r.body(doc.to_string())
}

/// The absolute URL of `/scim/v2`: from `JITEA_PUBLIC_URL` when set, else from the request.
fn base_url(req: &HttpRequest, st: &AppState) -> String {
    match &st.config.public_url {
        Some(u) => format!("{}/scim/v2", u.trim_end_matches('/')),
        None => {
            let ci = req.connection_info();
            format!("{}://{}/scim/v2", ci.scheme(), ci.host())
        }
    }
}

fn if_match(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// A resource id from the path: ids are positive integers, anything else names nothing.
fn id_of(raw: &str, what: &str) -> Result<i64, ScimError> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ScimError::not_found(format!("{what} {raw} not found")))
}

async fn body(payload: web::Payload) -> Result<Value, ScimError> {
    let bytes = match payload.to_bytes_limited(MAX_PAYLOAD).await {
        Err(_) => {
            return Err(ScimError::new(
                413,
                None,
                format!("the body is larger than {MAX_PAYLOAD} bytes"),
            ))
        }
        Ok(Err(_)) => return Err(ScimError::invalid_syntax("the body could not be read")),
        Ok(Ok(b)) => b,
    };
    let v: Value = serde_json::from_slice(&bytes)
        .map_err(|e| ScimError::invalid_syntax(format!("the body is not valid JSON: {e}")))?;
    if !v.is_object() {
        return Err(ScimError::invalid_syntax("the body must be a JSON object"));
    }
    Ok(v)
}

fn int_param(name: &str, v: &str) -> Result<i64, ScimError> {
    v.trim()
        .parse::<i64>()
        .map_err(|_| ScimError::invalid_value(format!("{name} must be an integer")))
}

/// `filter`, `startIndex`, `count`, `attributes`, `excludedAttributes` (names in any case).
fn list_query(req: &HttpRequest) -> Result<ListQuery, ScimError> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map_err(|_| ScimError::invalid_value("the query string is malformed"))?
        .into_inner();
    let mut q = ListQuery {
        start_index: 1,
        count: MAX_RESULTS,
        ..ListQuery::default()
    };
    for (k, v) in &pairs {
        match k.to_ascii_lowercase().as_str() {
            "filter" => q.filter = Some(filter::parse(v)?),
            // Below 1 means 1; a negative count means 0; above the maximum, the maximum.
            "startindex" => q.start_index = int_param("startIndex", v)?.max(1) as usize,
            "count" => q.count = int_param("count", v)?.clamp(0, MAX_RESULTS as i64) as usize,
            "attributes" => q.attributes = resource::attribute_list(v)?,
            "excludedattributes" => q.excluded = resource::attribute_list(v)?,
            "sortby" | "sortorder" => {}
            _ => {}
        }
    }
    Ok(q)
}

/// `attributes` / `excludedAttributes` on a single resource.
fn projection(req: &HttpRequest) -> Result<ListQuery, ScimError> {
    let mut q = list_query(req)?;
    q.filter = None;
    Ok(q)
}

async fn service_provider_config(
    req: HttpRequest,
    st: web::Data<AppState>,
    _c: ScimClient,
) -> ScimResult {
    Ok(respond(
        StatusCode::OK,
        &schema::service_provider_config(&base_url(&req, &st)),
    ))
}

fn list_of(items: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": items.len(),
        "startIndex": 1,
        "itemsPerPage": items.len(),
        "Resources": items,
    })
}

async fn resource_types(req: HttpRequest, st: web::Data<AppState>, _c: ScimClient) -> ScimResult {
    Ok(respond(
        StatusCode::OK,
        &list_of(schema::resource_types(&base_url(&req, &st))),
    ))
}

async fn resource_type(
    req: HttpRequest,
    st: web::Data<AppState>,
    _c: ScimClient,
    id: web::Path<String>,
) -> ScimResult {
    schema::resource_types(&base_url(&req, &st))
        .into_iter()
        .find(|r| r["id"].as_str() == Some(id.as_str()))
        .map(|r| respond(StatusCode::OK, &r))
        .ok_or_else(|| ScimError::not_found(format!("ResourceType {id} not found")))
}

async fn schemas(req: HttpRequest, st: web::Data<AppState>, _c: ScimClient) -> ScimResult {
    Ok(respond(
        StatusCode::OK,
        &list_of(schema::schemas(&base_url(&req, &st))),
    ))
}

async fn one_schema(
    req: HttpRequest,
    st: web::Data<AppState>,
    _c: ScimClient,
    id: web::Path<String>,
) -> ScimResult {
    schema::schemas(&base_url(&req, &st))
        .into_iter()
        .find(|s| s["id"].as_str() == Some(id.as_str()))
        .map(|s| respond(StatusCode::OK, &s))
        .ok_or_else(|| ScimError::not_found(format!("Schema {id} not found")))
}

async fn list_users(req: HttpRequest, st: web::Data<AppState>, _c: ScimClient) -> ScimResult {
    let q = list_query(&req)?;
    Ok(respond(
        StatusCode::OK,
        &flow::list_users(&st, &base_url(&req, &st), &q).await?,
    ))
}

async fn create_user(
    req: HttpRequest,
    st: web::Data<AppState>,
    c: ScimClient,
    payload: web::Payload,
) -> ScimResult {
    let doc = body(payload).await?;
    let u = flow::create_user(&st, &c, &base_url(&req, &st), &doc).await?;
    Ok(respond(StatusCode::CREATED, &u))
}

async fn get_user(
    req: HttpRequest,
    st: web::Data<AppState>,
    _c: ScimClient,
    id: web::Path<String>,
) -> ScimResult {
    let q = projection(&req)?;
    let u = flow::get_user(&st, &base_url(&req, &st), id_of(&id, "User")?).await?;
    Ok(respond(
        StatusCode::OK,
        &resource::project(u, &q.attributes, &q.excluded, USER_SCHEMA),
    ))
}

async fn replace_user(
    req: HttpRequest,
    st: web::Data<AppState>,
    c: ScimClient,
    id: web::Path<String>,
    payload: web::Payload,
) -> ScimResult {
    let id = id_of(&id, "User")?;
    let doc = body(payload).await?;
    let base = base_url(&req, &st);
    let u = flow::replace_user(&st, &c, &base, id, &doc, if_match(&req).as_deref()).await?;
    Ok(respond(StatusCode::OK, &u))
}

async fn patch_user(
    req: HttpRequest,
    st: web::Data<AppState>,
    c: ScimClient,
    id: web::Path<String>,
    payload: web::Payload,
) -> ScimResult {
    let id = id_of(&id, "User")?;
    let doc = body(payload).await?;
    let base = base_url(&req, &st);
    let u = flow::patch_user(&st, &c, &base, id, &doc, if_match(&req).as_deref()).await?;
    Ok(respond(StatusCode::OK, &u))
}

async fn delete_user(
    req: HttpRequest,
    st: web::Data<AppState>,
    c: ScimClient,
    id: web::Path<String>,
) -> ScimResult {
    flow::delete_user(&st, &c, id_of(&id, "User")?, if_match(&req).as_deref()).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn list_groups(req: HttpRequest, st: web::Data<AppState>, _c: ScimClient) -> ScimResult {
    let q = list_query(&req)?;
    Ok(respond(
        StatusCode::OK,
        &flow::list_groups(&st, &base_url(&req, &st), &q).await?,
    ))
}

async fn create_group(
    req: HttpRequest,
    st: web::Data<AppState>,
    c: ScimClient,
    payload: web::Payload,
) -> ScimResult {
    let doc = body(payload).await?;
    let g = flow::create_group(&st, &c, &base_url(&req, &st), &doc).await?;
    Ok(respond(StatusCode::CREATED, &g))
}

async fn get_group(
    req: HttpRequest,
    st: web::Data<AppState>,
    _c: ScimClient,
    id: web::Path<String>,
) -> ScimResult {
    let q = projection(&req)?;
    let g = flow::get_group(&st, &base_url(&req, &st), id_of(&id, "Group")?).await?;
    Ok(respond(
        StatusCode::OK,
        &resource::project(g, &q.attributes, &q.excluded, GROUP_SCHEMA),
    ))
}

async fn replace_group(
    req: HttpRequest,
    st: web::Data<AppState>,
    c: ScimClient,
    id: web::Path<String>,
    payload: web::Payload,
) -> ScimResult {
    let id = id_of(&id, "Group")?;
    let doc = body(payload).await?;
    let base = base_url(&req, &st);
    let g = flow::replace_group(&st, &c, &base, id, &doc, if_match(&req).as_deref()).await?;
    Ok(respond(StatusCode::OK, &g))
}

async fn patch_group(
    req: HttpRequest,
    st: web::Data<AppState>,
    c: ScimClient,
    id: web::Path<String>,
    payload: web::Payload,
) -> ScimResult {
    let id = id_of(&id, "Group")?;
    let doc = body(payload).await?;
    let base = base_url(&req, &st);
    let g = flow::patch_group(&st, &c, &base, id, &doc, if_match(&req).as_deref()).await?;
    Ok(respond(StatusCode::OK, &g))
}

async fn delete_group(
    req: HttpRequest,
    st: web::Data<AppState>,
    c: ScimClient,
    id: web::Path<String>,
) -> ScimResult {
    flow::delete_group(&st, &c, id_of(&id, "Group")?, if_match(&req).as_deref()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /.search`: searching several resource types at once is not offered (501).
async fn search(_c: ScimClient) -> ScimResult {
    Err(ScimError::new(
        501,
        None,
        "POST /.search is not supported; use GET with `filter` on /Users or /Groups",
    ))
}

async fn not_found(_c: ScimClient) -> ScimResult {
    Err(ScimError::not_found("no such SCIM endpoint"))
}

/// 405 with `Allow` for a method a SCIM endpoint does not offer.
fn not_allowed(allow: &'static str) -> actix_web::Route {
    web::route().to(move || async move {
        let e = ScimError::new(405, None, format!("this endpoint allows {allow} only"));
        let mut r = e.error_response();
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static(allow));
        r
    })
}

/// Mounts `/scim/v2`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let r = |path: &str| web::resource(path.to_string());
    cfg.service(
        web::scope("/scim/v2")
            .service(
                r("/ServiceProviderConfig")
                    .route(web::get().to(service_provider_config))
                    .default_service(not_allowed("GET")),
            )
            .service(
                r("/ResourceTypes")
                    .route(web::get().to(resource_types))
                    .default_service(not_allowed("GET")),
            )
            .service(
                r("/ResourceTypes/{id}")
                    .route(web::get().to(resource_type))
                    .default_service(not_allowed("GET")),
            )
            .service(
                r("/Schemas")
                    .route(web::get().to(schemas))
                    .default_service(not_allowed("GET")),
            )
            .service(
                r("/Schemas/{id}")
                    .route(web::get().to(one_schema))
                    .default_service(not_allowed("GET")),
            )
            .service(
                r("/.search")
                    .route(web::post().to(search))
                    .default_service(not_allowed("POST")),
            )
            .service(
                r("/Users")
                    .route(web::get().to(list_users))
                    .route(web::post().to(create_user))
                    .default_service(not_allowed("GET, POST")),
            )
            .service(
                r("/Users/{id}")
                    .route(web::get().to(get_user))
                    .route(web::put().to(replace_user))
                    .route(web::patch().to(patch_user))
                    .route(web::delete().to(delete_user))
                    .default_service(not_allowed("GET, PUT, PATCH, DELETE")),
            )
            .service(
                r("/Groups")
                    .route(web::get().to(list_groups))
                    .route(web::post().to(create_group))
                    .default_service(not_allowed("GET, POST")),
            )
            .service(
                r("/Groups/{id}")
                    .route(web::get().to(get_group))
                    .route(web::put().to(replace_group))
                    .route(web::patch().to(patch_group))
                    .route(web::delete().to(delete_group))
                    .default_service(not_allowed("GET, PUT, PATCH, DELETE")),
            )
            .default_service(web::to(not_found)),
    );
}
