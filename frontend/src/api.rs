//! Typed calls to the JITEA REST API (`/api/v1`).
//!
//! Every call is same-origin, so the browser attaches the HttpOnly session cookie by itself
//! (fetch's default `credentials: same-origin`); page scripts never see the session token.
//! What scripts do hold is the CSRF token returned at sign-in: it lives only in this module's
//! memory (never localStorage) and is sent as `X-CSRF-Token` on every state-changing call.
//!
//! Errors arrive as `{"error":{"code","message","details":{"fields":[...]}}}`; they are turned
//! into [`ApiError`] so forms can put each field's message next to its input.

use std::cell::RefCell;
use std::rc::Rc;

use crate::json::FromJson;
use chrono::{DateTime, Utc};
use gloo_net::http::{Request, RequestBuilder, Response};
use jitea_shared::*;
use serde::Serialize;
use std::future::Future;
use std::pin::Pin;

/// Every API path starts here; the web app is served from the same origin as the API.
const BASE: &str = "/api/v1";

/// Largest page the API accepts (`MAX_LIMIT`); admin pick lists load one page this size.
pub const MAX_LIMIT: u32 = 500;

thread_local! {
    /// The CSRF token of the current cookie session. Memory only: a reload asks the server
    /// again (`GET /auth/session`), which is the only way to learn it.
    static CSRF: RefCell<Option<String>> = const { RefCell::new(None) };
    /// Called when an API call answers 401, so the app can drop to the sign-in page.
    static ON_UNAUTHORIZED: RefCell<Option<Rc<dyn Fn()>>> = const { RefCell::new(None) };
}

/// Remembers (or forgets) the CSRF token for later state-changing calls.
pub fn set_csrf(token: Option<String>) {
    CSRF.with(|c| *c.borrow_mut() = token);
}

/// Registers what to do when the session turns out to be gone (expired, revoked).
pub fn on_unauthorized(f: impl Fn() + 'static) {
    ON_UNAUTHORIZED.with(|h| *h.borrow_mut() = Some(Rc::new(f)));
}

fn fire_unauthorized() {
    let hook = ON_UNAUTHORIZED.with(|h| h.borrow().clone());
    if let Some(f) = hook {
        f();
    }
}

/// One problem with one input field, as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub code: String,
    pub message: String,
}

/// A failed call: the API's error code and message, plus per-field problems if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status; 0 when the server could not be reached at all.
    pub status: u16,
    pub code: String,
    pub message: String,
    pub fields: Vec<FieldError>,
}

impl ApiError {
    fn network(e: impl std::fmt::Display) -> Self {
        ApiError {
            status: 0,
            code: "network_error".into(),
            message: format!("Could not reach the server ({e}). Check your connection."),
            fields: Vec::new(),
        }
    }

    /// The message for one field, if the API complained about it.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.field == name)
            .map(|f| f.message.as_str())
    }

    async fn from_response(resp: Response) -> Self {
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        match crate::json::parse::<ErrorBody>(&text) {
            Ok(body) => {
                let fields = body
                    .error
                    .details
                    .as_ref()
                    .and_then(|d| d.get("fields"))
                    .and_then(|f| Vec::<FieldError>::from_json(f.clone()).ok())
                    .unwrap_or_default();
                ApiError {
                    status,
                    code: body.error.code,
                    message: body.error.message,
                    fields,
                }
            }
            Err(_) => ApiError {
                status,
                code: format!("http_{status}"),
                message: match status {
                    401 => "Your session has ended. Please sign in again.".into(),
                    403 => "You are not allowed to do this.".into(),
                    404 => "Not found.".into(),
                    _ => format!("The server answered with status {status}."),
                },
                fields: Vec::new(),
            },
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

// ---------------------------------------------------------------- transport

#[derive(Clone, Copy)]
enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

fn builder(method: Method, path: &str) -> RequestBuilder {
    let url = format!("{BASE}{path}");
    let b = match method {
        Method::Get => return Request::get(&url).header("Accept", "application/json"),
        Method::Post => Request::post(&url),
        Method::Put => Request::put(&url),
        Method::Patch => Request::patch(&url),
        Method::Delete => Request::delete(&url),
    };
    let b = b.header("Accept", "application/json");
    match CSRF.with(|c| c.borrow().clone()) {
        Some(token) => b.header("X-CSRF-Token", &token),
        None => b,
    }
}

type Boxed<T> = Pin<Box<dyn Future<Output = ApiResult<T>>>>;

/// Sends one call and returns the body text of a success (empty for 204); error statuses
/// become [`ApiError`]. `notify_401` is false for the session calls themselves, whose 401 is
/// an answer, not news.
///
/// This is the only function that speaks HTTP, and its future is boxed: every endpoint and
/// every button handler then shares one compiled copy instead of inlining its own, which
/// keeps the wasm markedly smaller.
fn call(method: Method, path: String, body: Option<String>, notify_401: bool) -> Boxed<String> {
    Box::pin(async move {
        let b = builder(method, &path);
        let req = match body {
            Some(json) => b.header("Content-Type", "application/json").body(json),
            None => b.build(),
        }
        .map_err(ApiError::network)?;
        let resp = req.send().await.map_err(ApiError::network)?;
        if resp.ok() {
            return resp.text().await.map_err(ApiError::network);
        }
        let err = ApiError::from_response(resp).await;
        if err.status == 401 && notify_401 {
            fire_unauthorized();
        }
        Err(err)
    })
}

fn bad_response(e: String) -> ApiError {
    ApiError {
        status: 200,
        code: "bad_response".into(),
        message: format!("The server sent something unexpected ({e})."),
        fields: Vec::new(),
    }
}

fn parse<T: FromJson>(text: &str) -> ApiResult<T> {
    crate::json::parse(text).map_err(bad_response)
}

fn body<B: Serialize + ?Sized>(b: &B) -> Option<String> {
    // Our own DTOs always serialise; `{}` would be rejected by the API, never sent silently.
    Some(serde_json::to_string(b).unwrap_or_else(|_| "{}".into()))
}

async fn get<T: FromJson>(path: &str) -> ApiResult<T> {
    parse(&call(Method::Get, path.to_string(), None, true).await?)
}

async fn post<B: Serialize + ?Sized, T: FromJson>(path: &str, b: &B) -> ApiResult<T> {
    parse(&call(Method::Post, path.to_string(), body(b), true).await?)
}

async fn put<B: Serialize + ?Sized, T: FromJson>(path: &str, b: &B) -> ApiResult<T> {
    parse(&call(Method::Put, path.to_string(), body(b), true).await?)
}

async fn patch<B: Serialize + ?Sized, T: FromJson>(path: &str, b: &B) -> ApiResult<T> {
    parse(&call(Method::Patch, path.to_string(), body(b), true).await?)
}

async fn delete(path: &str) -> ApiResult<()> {
    call(Method::Delete, path.to_string(), None, true)
        .await
        .map(|_| ())
}

/// An empty JSON object, for action endpoints without a body.
fn empty() -> serde_json::Value {
    object(Vec::new())
}

/// A JSON object of these fields, for PATCH bodies. Used instead of `json!`, whose
/// `to_value(..).unwrap()` per field drags error `Debug` formatting into the wasm.
pub fn object(fields: Vec<(&str, serde_json::Value)>) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for (k, v) in fields {
        map.insert(k.to_string(), v);
    }
    serde_json::Value::Object(map)
}

/// Builds `?a=1&b=x` from the parameters that are set, percent-encoding the values.
#[derive(Default)]
pub struct Query(Vec<(String, String)>);

impl Query {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn set(mut self, key: &str, value: impl ToString) -> Self {
        self.0.push((key.to_string(), value.to_string()));
        self
    }

    pub fn opt<V: ToString>(self, key: &str, value: Option<V>) -> Self {
        match value {
            Some(v) => self.set(key, v),
            None => self,
        }
    }

    /// Adds a text parameter unless it is blank.
    pub fn text(self, key: &str, value: &str) -> Self {
        let v = value.trim();
        if v.is_empty() {
            self
        } else {
            self.set(key, v)
        }
    }

    fn build(&self) -> String {
        if self.0.is_empty() {
            return String::new();
        }
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        format!("?{}", parts.join("&"))
    }
}

/// Percent-encodes a URL component.
pub fn encode(s: &str) -> String {
    js_sys::encode_uri_component(s).into()
}

// ---------------------------------------------------------------- auth

/// The current cookie session, or 401 when there is none.
pub async fn session() -> ApiResult<SessionInfo> {
    parse(&call(Method::Get, "/auth/session".into(), None, false).await?)
}

/// Signs in with a built-in account; the server sets the session cookie.
pub async fn sign_in(login_name: &str, password: &str) -> ApiResult<SessionInfo> {
    let login = LoginRequest {
        login_name: login_name.to_string(),
        password: password.to_string(),
    };
    parse(&call(Method::Post, "/auth/session".into(), body(&login), false).await?)
}

/// The sign-in options (password for everyone or not, single sign-on). Public.
pub async fn auth_providers() -> ApiResult<AuthProviders> {
    parse(&call(Method::Get, "/auth/providers".into(), None, false).await?)
}

/// Ends the cookie session on the server.
pub async fn sign_out() -> ApiResult<()> {
    call(Method::Post, "/auth/logout".into(), body(&empty()), false)
        .await
        .map(|_| ())
}

// ---------------------------------------------------------------- requester

pub async fn my_grants(status: GrantStatus) -> ApiResult<Page<Grant>> {
    let q = Query::new().set("status", status).set("limit", MAX_LIMIT);
    get(&format!("/me/grants{}", q.build())).await
}

pub async fn requestable_roles() -> ApiResult<Vec<RequestableRole>> {
    get("/me/requestable-roles").await
}

pub async fn create_request(body: &RequestCreate) -> ApiResult<AccessRequest> {
    post("/requests", body).await
}

/// Requests of one user (the caller's own history passes their own id, so admins and
/// auditors, who would otherwise get everyone's, see only theirs).
pub async fn list_requests(
    user_id: Option<i64>,
    status: Option<RequestStatus>,
    cursor: Option<String>,
    limit: u32,
) -> ApiResult<Page<AccessRequest>> {
    let q = Query::new()
        .opt("user_id", user_id)
        .opt("status", status)
        .opt("cursor", cursor)
        .set("limit", limit);
    get(&format!("/requests{}", q.build())).await
}

pub async fn get_request(id: i64) -> ApiResult<AccessRequest> {
    get(&format!("/requests/{id}")).await
}

/// Asks for more time on the caller's own live grant (`kind: extension`; pending, or
/// `auto_approved` when the grant's end has already moved).
pub async fn extend_grant(id: i64, body: &GrantExtend) -> ApiResult<AccessRequest> {
    post(&format!("/grants/{id}/extend"), body).await
}

pub async fn cancel_request(id: i64) -> ApiResult<AccessRequest> {
    post(&format!("/requests/{id}/cancel"), &empty()).await
}

// ---------------------------------------------------------------- approver

/// The whole approval queue, oldest first (follows the cursor through every page).
pub async fn pending_approvals() -> ApiResult<Vec<AccessRequest>> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = Query::new().opt("cursor", cursor).set("limit", 500);
        let page: Page<AccessRequest> = get(&format!("/approvals/pending{}", q.build())).await?;
        out.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}

/// Break-glass grants waiting for the caller's after-the-fact review (first page of 100).
pub async fn review_queue() -> ApiResult<Vec<BreakGlassEntry>> {
    let page: Page<BreakGlassEntry> = get("/approvals/reviews?limit=100").await?;
    Ok(page.items)
}

pub async fn review_grant(id: i64, body: &GrantReviewBody) -> ApiResult<Grant> {
    post(&format!("/grants/{id}/review"), body).await
}

/// The requester's recent requests, for the approver's context.
pub async fn request_timeline(id: i64) -> ApiResult<Vec<TimelineEntry>> {
    get(&format!("/requests/{id}/timeline")).await
}

pub async fn request_history(id: i64) -> ApiResult<Vec<AccessRequest>> {
    get(&format!("/requests/{id}/history")).await
}

pub async fn decide(id: i64, approve: bool, comment: Option<String>) -> ApiResult<AccessRequest> {
    let verb = if approve { "approve" } else { "deny" };
    post(&format!("/requests/{id}/{verb}"), &DecisionBody { comment }).await
}

pub async fn role_db_roles(role_id: i64) -> ApiResult<Vec<RoleDbRole>> {
    get(&format!("/roles/{role_id}/db-roles")).await
}

// ---------------------------------------------------------------- admin: overview and jobs

pub async fn overview() -> ApiResult<Overview> {
    get("/reports/overview").await
}

pub async fn run_job(job: &str) -> ApiResult<serde_json::Value> {
    post(&format!("/jobs/{job}"), &empty()).await
}

// ---------------------------------------------------------------- admin: roles

pub async fn list_roles() -> ApiResult<Page<Role>> {
    get(&format!("/roles?limit={MAX_LIMIT}")).await
}

pub async fn create_role(body: &RoleCreate) -> ApiResult<Role> {
    post("/roles", body).await
}

/// `body` is a JSON object of only the fields to change. Built by hand, not from
/// `RoleUpdate`: serialising that type writes `null` for every absent field, which the API
/// reads as "clear it".
pub async fn update_role(id: i64, body: &serde_json::Value) -> ApiResult<Role> {
    patch(&format!("/roles/{id}"), body).await
}

pub async fn map_db_role(role_id: i64, db_role_id: i64) -> ApiResult<Vec<RoleDbRole>> {
    let body = RoleDbRoleSet {
        is_required: Some(true),
    };
    put(&format!("/roles/{role_id}/db-roles/{db_role_id}"), &body).await
}

pub async fn unmap_db_role(role_id: i64, db_role_id: i64) -> ApiResult<()> {
    delete(&format!("/roles/{role_id}/db-roles/{db_role_id}")).await
}

pub async fn role_approvers(role_id: i64) -> ApiResult<Vec<RoleApprover>> {
    get(&format!("/roles/{role_id}/approvers")).await
}

pub async fn add_approver(role_id: i64, body: &RoleApproverCreate) -> ApiResult<RoleApprover> {
    post(&format!("/roles/{role_id}/approvers"), body).await
}

pub async fn remove_approver(role_id: i64, approver_id: i64) -> ApiResult<()> {
    delete(&format!("/roles/{role_id}/approvers/{approver_id}")).await
}

// ---------------------------------------------------------------- admin: teams

pub async fn list_teams() -> ApiResult<Page<Team>> {
    get(&format!("/teams?limit={MAX_LIMIT}")).await
}

pub async fn create_team(body: &TeamCreate) -> ApiResult<Team> {
    post("/teams", body).await
}

pub async fn update_team(id: i64, body: &serde_json::Value) -> ApiResult<Team> {
    patch(&format!("/teams/{id}"), body).await
}

pub async fn team_members(id: i64) -> ApiResult<Vec<TeamMember>> {
    get(&format!("/teams/{id}/members")).await
}

pub async fn add_team_member(id: i64, user_id: i64) -> ApiResult<TeamMember> {
    post(&format!("/teams/{id}/members"), &TeamMemberAdd { user_id }).await
}

pub async fn remove_team_member(id: i64, user_id: i64) -> ApiResult<TeamMember> {
    let path = format!("/teams/{id}/members/{user_id}");
    parse(&call(Method::Delete, path, None, true).await?)
}

// ---------------------------------------------------------------- admin: eligibility

pub async fn list_rules(role_id: Option<i64>) -> ApiResult<Page<EligibilityRule>> {
    let q = Query::new().opt("role_id", role_id).set("limit", MAX_LIMIT);
    get(&format!("/eligibility-rules{}", q.build())).await
}

pub async fn create_rule(body: &EligibilityRuleCreate) -> ApiResult<EligibilityRule> {
    post("/eligibility-rules", body).await
}

pub async fn delete_rule(id: i64) -> ApiResult<()> {
    delete(&format!("/eligibility-rules/{id}")).await
}

pub async fn user_overrides(user_id: i64) -> ApiResult<Vec<EligibilityOverride>> {
    get(&format!("/users/{user_id}/eligibility-overrides")).await
}

pub async fn set_override(
    user_id: i64,
    role_id: i64,
    body: &EligibilityOverrideSet,
) -> ApiResult<EligibilityOverride> {
    put(
        &format!("/users/{user_id}/eligibility-overrides/{role_id}"),
        body,
    )
    .await
}

pub async fn delete_override(user_id: i64, role_id: i64) -> ApiResult<()> {
    delete(&format!("/users/{user_id}/eligibility-overrides/{role_id}")).await
}

pub async fn check_eligibility(user_id: i64, role_id: i64) -> ApiResult<EligibilityCheck> {
    get(&format!(
        "/eligibility/check?user_id={user_id}&role_id={role_id}"
    ))
    .await
}

// ---------------------------------------------------------------- admin: users

pub async fn list_users(q: &str, cursor: Option<String>) -> ApiResult<Page<User>> {
    let q = Query::new()
        .text("q", q)
        .opt("cursor", cursor)
        .set("limit", MAX_LIMIT);
    get(&format!("/users{}", q.build())).await
}

pub async fn create_user(body: &UserCreate) -> ApiResult<User> {
    post("/users", body).await
}

pub async fn update_user(id: i64, body: &serde_json::Value) -> ApiResult<User> {
    patch(&format!("/users/{id}"), body).await
}

pub async fn set_user_active(id: i64, active: bool) -> ApiResult<User> {
    let verb = if active { "activate" } else { "deactivate" };
    post(&format!("/users/{id}/{verb}"), &empty()).await
}

// ---------------------------------------------------------------- admin: directory and SCIM

/// Runs a directory sync now (`dry_run`: only plan; `force`: past the deactivation guard).
pub async fn directory_sync(dry_run: bool, force: bool) -> ApiResult<DirectorySyncRun> {
    let body = DirectorySyncRequest {
        dry_run: Some(dry_run),
        force: Some(force),
    };
    post("/jobs/directory-sync", &body).await
}

/// The latest directory sync runs, newest first.
pub async fn directory_runs(limit: u32) -> ApiResult<Page<DirectorySyncRun>> {
    get(&format!("/reports/directory-sync-runs?limit={limit}")).await
}

/// SCIM tokens, newest first (revoked ones included).
pub async fn scim_tokens() -> ApiResult<Page<ScimToken>> {
    get(&format!("/scim/tokens?limit={MAX_LIMIT}")).await
}

pub async fn create_scim_token(name: &str) -> ApiResult<ScimTokenCreated> {
    let body = ScimTokenCreate {
        name: name.to_string(),
    };
    post("/scim/tokens", &body).await
}

pub async fn revoke_scim_token(id: i64) -> ApiResult<()> {
    delete(&format!("/scim/tokens/{id}")).await
}

// ---------------------------------------------------------------- admin: targets and db roles

pub async fn list_targets() -> ApiResult<Page<Target>> {
    get(&format!("/targets?limit={MAX_LIMIT}")).await
}

pub async fn create_target(body: &TargetCreate) -> ApiResult<Target> {
    post("/targets", body).await
}

pub async fn update_target(id: i64, body: &serde_json::Value) -> ApiResult<Target> {
    patch(&format!("/targets/{id}"), body).await
}

pub async fn test_target(id: i64) -> ApiResult<TargetTest> {
    post(&format!("/targets/{id}/test"), &empty()).await
}

pub async fn list_db_roles() -> ApiResult<Page<DbRole>> {
    get(&format!("/db-roles?limit={MAX_LIMIT}")).await
}

pub async fn create_db_role(body: &DbRoleCreate) -> ApiResult<DbRole> {
    post("/db-roles", body).await
}

pub async fn update_db_role(id: i64, body: &serde_json::Value) -> ApiResult<DbRole> {
    patch(&format!("/db-roles/{id}"), body).await
}

// ---------------------------------------------------------------- admin: grants

pub async fn list_grants(
    status: Option<GrantStatus>,
    revoke_failed: bool,
    cursor: Option<String>,
) -> ApiResult<Page<Grant>> {
    let q = Query::new()
        .opt("status", status)
        .opt("revoke_failed", revoke_failed.then_some(true))
        .opt("cursor", cursor)
        .set("limit", 100);
    get(&format!("/grants{}", q.build())).await
}

pub async fn revoke_grant(id: i64, reason: &str) -> ApiResult<Grant> {
    let body = RevokeBody {
        reason: reason.to_string(),
    };
    post(&format!("/grants/{id}/revoke"), &body).await
}

// ---------------------------------------------------------------- admin: notifications

/// Notification deliveries, newest first (`status`: only those).
pub async fn deliveries(
    status: Option<DeliveryStatus>,
    cursor: Option<String>,
) -> ApiResult<Page<NotificationDelivery>> {
    let q = Query::new()
        .opt("status", status)
        .opt("cursor", cursor)
        .set("limit", 50);
    get(&format!("/notifications/deliveries{}", q.build())).await
}

/// Sends a failed delivery again (409 `delivery_not_failed` unless it failed).
pub async fn retry_delivery(id: i64) -> ApiResult<NotificationDelivery> {
    post(&format!("/notifications/deliveries/{id}/retry"), &empty()).await
}

pub async fn webhooks() -> ApiResult<Page<WebhookSubscription>> {
    get(&format!("/webhooks?limit={MAX_LIMIT}")).await
}

/// Creates a subscription; the answer holds its signing secret, shown only this once.
/// `body`: a `WebhookCreate` as JSON.
pub async fn create_webhook(body: &serde_json::Value) -> ApiResult<WebhookCreated> {
    post("/webhooks", body).await
}

pub async fn update_webhook(id: i64, body: &serde_json::Value) -> ApiResult<WebhookSubscription> {
    patch(&format!("/webhooks/{id}"), body).await
}

/// A new signing secret (the old one stops working), shown only this once.
pub async fn rotate_webhook_secret(id: i64) -> ApiResult<WebhookCreated> {
    post(&format!("/webhooks/{id}/rotate-secret"), &empty()).await
}

pub async fn delete_webhook(id: i64) -> ApiResult<()> {
    delete(&format!("/webhooks/{id}")).await
}

/// The caller's own notification settings (every user).
pub async fn notification_settings() -> ApiResult<NotificationSettings> {
    get("/me/notification-settings").await
}

pub async fn save_notification_settings(
    mute_reminders: bool,
    mute_decisions: bool,
) -> ApiResult<NotificationSettings> {
    let body = object(vec![
        ("mute_reminders", mute_reminders.into()),
        ("mute_decisions", mute_decisions.into()),
    ]);
    put("/me/notification-settings", &body).await
}

// ---------------------------------------------------------------- audit

/// Filters of the audit browser, as typed (blank = not filtered).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditFilter {
    pub event_type: String,
    pub user_id: Option<i64>,
    pub request_id: Option<i64>,
    pub grant_id: Option<i64>,
    pub from_utc: Option<DateTime<Utc>>,
    pub to_utc: Option<DateTime<Utc>>,
    pub limit: u32,
}

pub async fn audit(f: &AuditFilter, cursor: Option<String>) -> ApiResult<Page<AuditEntry>> {
    let q = Query::new()
        .text("event_type", &f.event_type)
        .opt("user_id", f.user_id)
        .opt("request_id", f.request_id)
        .opt("grant_id", f.grant_id)
        .opt("from_utc", f.from_utc.map(|t| t.to_rfc3339()))
        .opt("to_utc", f.to_utc.map(|t| t.to_rfc3339()))
        .set("limit", f.limit.clamp(1, MAX_LIMIT))
        .opt("cursor", cursor);
    get(&format!("/audit{}", q.build())).await
}

#[cfg(test)]
mod tests {
    use super::object;
    use serde_json::json;

    #[test]
    fn object_bodies_are_what_json_would_send() {
        let (none, some): (Option<String>, Option<i64>) = (None, Some(3));
        let body = object(vec![
            ("role_name", "dba".to_string().into()),
            ("description", none.clone().into()),
            ("max_duration_minutes", 60i64.into()),
            ("auto_approve_min_seniority", some.into()),
            ("is_enabled", false.into()),
        ]);
        let expected = json!({
            "role_name": "dba",
            "description": none,
            "max_duration_minutes": 60,
            "auto_approve_min_seniority": some,
            "is_enabled": false,
        });
        assert_eq!(body, expected);
        assert_eq!(
            serde_json::to_string(&body).ok(),
            serde_json::to_string(&expected).ok()
        );
        assert_eq!(object(Vec::new()).to_string(), "{}");
    }
}
