//! The `aws_sso` target: AWS IAM Identity Center. An entitlement is a permission set on an
//! account (the catalogue key `<account_id>:<permission_set_arn>`, `domain::entitlements`);
//! a member is an Identity Store user, named by their user name or email (the target's
//! `principal_from`) and resolved to its `UserId` through `GetUserId` (cached).
//!
//! - add: `CreateAccountAssignment` for the user, polled with
//!   `DescribeAccountAssignmentCreationStatus` until it succeeds or fails (a failure while the
//!   assignment is listed is success);
//! - drop: `DeleteAccountAssignment`, polled with `DescribeAccountAssignmentDeletionStatus`
//!   (one that is not there is success); many at once list the assignments once and delete
//!   those present, eight in flight;
//! - members: `ListAccountAssignments` (paged). Users are named as JITEA names them (their
//!   `UserName` or primary email, by `DescribeUser`, cached); a group is `group:<GroupId>`
//!   and a user the store no longer has is `user:<UserId>`, so reconciliation reports (and
//!   under `repair` removes) them too;
//! - end_sessions: nothing. AWS has no call that ends the sessions a user already started
//!   with a permission set: their role credentials last until the permission set's session
//!   duration ends. `describe_entitlement` shows that duration so an admin sees the gap.
//!
//! Requests are the AWS JSON 1.1 protocol, signed with SigV4 by the `aws-sigv4` crate (the
//! official SDK crates cost 179 crates and 232 s of build on this 2-core machine; the signer
//! costs 59 and 19 s). Credentials come from the standard environment
//! (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) or the shared
//! credentials file's profile (`AWS_SHARED_CREDENTIALS_FILE`, `AWS_PROFILE`); the region is
//! the target's `settings.region`; `AWS_ENDPOINT_URL_SSO_ADMIN`,
//! `AWS_ENDPOINT_URL_IDENTITYSTORE` or `AWS_ENDPOINT_URL` override the endpoints (as in the
//! AWS SDKs), which is how the tests point it at moto.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use jitea_shared::{EntitlementRef, PrincipalFrom, TargetKind, TargetSettings};
use serde_json::{json, Value};

use super::{Connector, ConnectorError, DirectGrant, TargetRef};
use crate::clock::Clock;
use crate::outbound::{excerpt, post};

/// How long a resolved principal (name → `UserId`, and back) is trusted.
const CACHE_FOR: chrono::Duration = chrono::Duration::minutes(10);
/// How long an assignment change is polled before it counts as failed.
const POLL_FOR: Duration = Duration::from_secs(60);
/// Attempts of one call that AWS throttled or that failed on AWS's side.
const ATTEMPTS: u32 = 4;
/// Deletions in flight at once when many grants end together.
const DROP_CONCURRENCY: usize = 8;

#[derive(Clone, Copy)]
enum Service {
    SsoAdmin,
    IdentityStore,
}

impl Service {
    /// The SigV4 signing name, which is also the endpoint's host prefix.
    fn signing_name(self) -> &'static str {
        match self {
            Service::SsoAdmin => "sso",
            Service::IdentityStore => "identitystore",
        }
    }
    fn target_prefix(self) -> &'static str {
        match self {
            Service::SsoAdmin => "SWBExternalService",
            Service::IdentityStore => "AWSIdentityStore",
        }
    }
    fn endpoint_env(self) -> &'static str {
        match self {
            Service::SsoAdmin => "AWS_ENDPOINT_URL_SSO_ADMIN",
            Service::IdentityStore => "AWS_ENDPOINT_URL_IDENTITYSTORE",
        }
    }
}

/// An answer AWS gave with an error status.
#[derive(Debug)]
struct AwsError {
    status: u16,
    /// `ResourceNotFoundException`, `AccessDeniedException`, ...
    code: String,
    message: String,
}

impl AwsError {
    fn into_connector(self) -> ConnectorError {
        match self.code.as_str() {
            "UnrecognizedClientException"
            | "InvalidSignatureException"
            | "ExpiredTokenException"
            | "AccessDeniedException"
            | "MissingAuthenticationTokenException" => ConnectorError::Refused(format!(
                "AWS refused the credentials ({}): {}",
                self.code, self.message
            )),
            _ if self.status >= 500 => ConnectorError::Unreachable(format!(
                "AWS answered {} ({}): {}",
                self.status, self.code, self.message
            )),
            _ => ConnectorError::Refused(format!("{}: {}", self.code, self.message)),
        }
    }
}

enum CallError {
    Aws(AwsError),
    Connector(ConnectorError),
}

impl From<ConnectorError> for CallError {
    fn from(e: ConnectorError) -> Self {
        CallError::Connector(e)
    }
}

impl From<CallError> for ConnectorError {
    fn from(e: CallError) -> Self {
        match e {
            CallError::Aws(a) => a.into_connector(),
            CallError::Connector(c) => c,
        }
    }
}

/// The three settings an `aws_sso` target has (checked when it was written).
struct Settings {
    region: String,
    instance_arn: String,
    identity_store_id: String,
}

fn settings(t: &TargetRef) -> Result<Settings, ConnectorError> {
    let s: TargetSettings = t
        .settings
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default();
    match (s.region, s.instance_arn, s.identity_store_id) {
        (Some(region), Some(instance_arn), Some(identity_store_id)) => Ok(Settings {
            region,
            instance_arn,
            identity_store_id,
        }),
        _ => Err(ConnectorError::NotConfigured(
            "the target's settings need region, instance_arn and identity_store_id".into(),
        )),
    }
}

/// The account and permission set of an entitlement key (checked against AWS's patterns
/// when it was registered, by `domain::entitlements`).
fn key_parts(key: &str) -> Result<(&str, &str), ConnectorError> {
    EntitlementRef::aws_sso_key_parts(key).ok_or_else(|| {
        ConnectorError::InvalidIdentifier(
            "an aws_sso entitlement is <account_id>:<permission_set_arn>".into(),
        )
    })
}

/// Who a member is on AWS: a user by id, or a group.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Principal {
    User(String),
    Group(String),
}

impl Principal {
    fn kind(&self) -> &'static str {
        match self {
            Principal::User(_) => "USER",
            Principal::Group(_) => "GROUP",
        }
    }
    fn id(&self) -> &str {
        match self {
            Principal::User(i) | Principal::Group(i) => i,
        }
    }
}

/// Reads credentials from the standard environment, else from the shared credentials file.
fn credentials() -> Result<Credentials, ConnectorError> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    if let (Some(id), Some(secret)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
        return Ok(Credentials::new(
            id,
            secret,
            env("AWS_SESSION_TOKEN"),
            None,
            "environment",
        ));
    }
    let file = env("AWS_SHARED_CREDENTIALS_FILE")
        .or_else(|| env("HOME").map(|h| format!("{h}/.aws/credentials")))
        .ok_or_else(no_credentials)?;
    let profile = env("AWS_PROFILE").unwrap_or_else(|| "default".into());
    let text = std::fs::read_to_string(&file).map_err(|_| no_credentials())?;
    let values = profile_values(&text, &profile);
    match (
        values.get("aws_access_key_id"),
        values.get("aws_secret_access_key"),
    ) {
        (Some(id), Some(secret)) => Ok(Credentials::new(
            id.clone(),
            secret.clone(),
            values.get("aws_session_token").cloned(),
            None,
            "profile",
        )),
        _ => Err(no_credentials()),
    }
}

fn no_credentials() -> ConnectorError {
    ConnectorError::NotConfigured(
        "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile in the shared credentials file".into(),
    )
}

/// The `key = value` lines of `[profile]` in an INI credentials file.
fn profile_values(text: &str, profile: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut inside = false;
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            inside = name.trim() == profile;
        } else if inside {
            if let Some((k, v)) = line.split_once('=') {
                out.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
    }
    out
}

fn endpoint(service: Service, region: &str) -> Result<String, ConnectorError> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let url = env(service.endpoint_env())
        .or_else(|| env("AWS_ENDPOINT_URL"))
        .unwrap_or_else(|| format!("https://{}.{region}.amazonaws.com", service.signing_name()));
    let url = format!("{}/", url.trim().trim_end_matches('/'));
    match url.parse::<ureq::http::Uri>() {
        Ok(u) if u.host().is_some() && matches!(u.scheme_str(), Some("https" | "http")) => Ok(url),
        _ => Err(ConnectorError::NotConfigured(format!(
            "{} (or AWS_ENDPOINT_URL) is not an http(s) URL",
            service.endpoint_env()
        ))),
    }
}

/// A cache entry and when it was made.
type Cached<T> = (T, DateTime<Utc>);
/// (identity store, how users are named, the name or id looked up) → what was found.
type Cache<T> = Mutex<HashMap<(String, PrincipalFrom, String), Cached<T>>>;

pub struct AwsSsoConnector {
    http: ureq::Agent,
    clock: Arc<dyn Clock>,
    /// (identity store, principal_from, name) → user id.
    ids: Cache<String>,
    /// (identity store, principal_from, user id) → name (None: the user has no such name).
    names: Cache<Option<String>>,
}

impl AwsSsoConnector {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            http: crate::outbound::agent(Duration::from_secs(20), "JITEA-aws-sso/1"),
            clock,
            ids: Mutex::new(HashMap::new()),
            names: Mutex::new(HashMap::new()),
        }
    }

    /// Signs the JSON 1.1 call with SigV4 and returns the headers to send.
    fn signed_headers(
        &self,
        creds: Credentials,
        region: &str,
        service: Service,
        url: &str,
        amz_target: &str,
        body: &str,
    ) -> Result<Vec<(&'static str, String)>, ConnectorError> {
        let identity: Identity = creds.into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(region)
            .name(service.signing_name())
            .time(SystemTime::from(self.clock.now()))
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| ConnectorError::NotConfigured(format!("cannot sign: {e}")))?
            .into();
        let headers = [
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", amz_target),
        ];
        let req = SignableRequest::new(
            "POST",
            url,
            headers.into_iter(),
            SignableBody::Bytes(body.as_bytes()),
        )
        .map_err(|e| ConnectorError::NotConfigured(format!("cannot sign: {e}")))?;
        let (instructions, _) = sign(req, &params)
            .map_err(|e| ConnectorError::NotConfigured(format!("cannot sign: {e}")))?
            .into_parts();
        let (signed, _) = instructions.into_parts();
        let mut out: Vec<(&'static str, String)> = vec![("X-Amz-Target", amz_target.to_string())];
        out.extend(
            signed
                .into_iter()
                .map(|h| (h.name(), h.value().to_string())),
        );
        Ok(out)
    }

    /// One call, retried with backoff while AWS throttles or fails on its side.
    async fn call(
        &self,
        s: &Settings,
        service: Service,
        op: &str,
        body: Value,
    ) -> Result<Value, CallError> {
        let url = endpoint(service, &s.region)?;
        let amz_target = format!("{}.{op}", service.target_prefix());
        let body = body.to_string();
        let mut wait = Duration::from_millis(200);
        for attempt in 1..=ATTEMPTS {
            let headers =
                self.signed_headers(credentials()?, &s.region, service, &url, &amz_target, &body)?;
            let (status, text) = post(
                &self.http,
                &url,
                "application/x-amz-json-1.1",
                headers,
                body.clone(),
                4 << 20,
            )
            .await
            .map_err(|e| ConnectorError::Unreachable(format!("AWS {op}: {e}")))?;
            if (200..300).contains(&status) {
                return if text.trim().is_empty() {
                    Ok(json!({}))
                } else {
                    serde_json::from_str(&text).map_err(|_| {
                        ConnectorError::Refused(format!("AWS {op}: the answer is not JSON")).into()
                    })
                };
            }
            let err = aws_error(status, &text, &url);
            let again = status >= 500
                || status == 429
                || matches!(
                    err.code.as_str(),
                    "ThrottlingException" | "TooManyRequestsException"
                );
            if !again || attempt == ATTEMPTS {
                return Err(CallError::Aws(err));
            }
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
        Err(ConnectorError::Unreachable(format!("AWS {op}: no answer")).into())
    }

    async fn sso(&self, s: &Settings, op: &str, body: Value) -> Result<Value, ConnectorError> {
        self.call(s, Service::SsoAdmin, op, body)
            .await
            .map_err(Into::into)
    }

    /// The user id of the user `name` names, through `GetUserId` by `userName` or
    /// `emails.value` (cached).
    async fn user_id(
        &self,
        s: &Settings,
        by: PrincipalFrom,
        name: &str,
    ) -> Result<Option<String>, ConnectorError> {
        let key = (s.identity_store_id.clone(), by, name.to_string());
        let now = self.clock.now();
        if let Some((id, at)) = lock(&self.ids).get(&key) {
            if now - *at < CACHE_FOR {
                return Ok(Some(id.clone()));
            }
        }
        let path = match by {
            PrincipalFrom::Login => "userName",
            PrincipalFrom::Email => "emails.value",
            // An external id is the Identity Store user id itself.
            PrincipalFrom::ExternalId => return Ok(Some(name.to_string())),
        };
        let body = json!({
            "IdentityStoreId": s.identity_store_id,
            "AlternateIdentifier": {"UniqueAttribute": {"AttributePath": path, "AttributeValue": name}},
        });
        match self
            .call(s, Service::IdentityStore, "GetUserId", body)
            .await
        {
            Ok(v) => {
                let id = str_field(&v, "UserId")?;
                lock(&self.ids).insert(key, (id.clone(), now));
                Ok(Some(id))
            }
            Err(CallError::Aws(e)) if e.code == "ResourceNotFoundException" => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// How JITEA names a user id (their user name or primary email), cached; None when the
    /// store has no such user or the user has no such name.
    async fn user_name(
        &self,
        s: &Settings,
        by: PrincipalFrom,
        id: &str,
    ) -> Result<Option<String>, ConnectorError> {
        if by == PrincipalFrom::ExternalId {
            return Ok(Some(id.to_string()));
        }
        let key = (s.identity_store_id.clone(), by, id.to_string());
        let now = self.clock.now();
        if let Some((name, at)) = lock(&self.names).get(&key) {
            if now - *at < CACHE_FOR {
                return Ok(name.clone());
            }
        }
        let body = json!({"IdentityStoreId": s.identity_store_id, "UserId": id});
        let name = match self
            .call(s, Service::IdentityStore, "DescribeUser", body)
            .await
        {
            Ok(v) => match by {
                PrincipalFrom::Login => v.get("UserName").and_then(Value::as_str).map(String::from),
                PrincipalFrom::Email => primary_email(&v),
                PrincipalFrom::ExternalId => None,
            },
            Err(CallError::Aws(e)) if e.code == "ResourceNotFoundException" => None,
            Err(e) => return Err(e.into()),
        };
        lock(&self.names).insert(key, (name.clone(), now));
        Ok(name)
    }

    /// The AWS principal a member string stands for; None: no such user, so nothing to hold.
    async fn principal(
        &self,
        s: &Settings,
        by: PrincipalFrom,
        member: &str,
    ) -> Result<Option<Principal>, ConnectorError> {
        if let Some(g) = member.strip_prefix("group:") {
            return Ok(Some(Principal::Group(g.to_string())));
        }
        if let Some(u) = member.strip_prefix("user:") {
            return Ok(Some(Principal::User(u.to_string())));
        }
        Ok(self.user_id(s, by, member).await?.map(Principal::User))
    }

    /// Every assignment of the permission set on the account: (principal type, id).
    async fn assignments(
        &self,
        s: &Settings,
        account: &str,
        ps: &str,
    ) -> Result<Vec<Principal>, ConnectorError> {
        let mut out = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let mut body = json!({"InstanceArn": s.instance_arn, "AccountId": account, "PermissionSetArn": ps, "MaxResults": 100});
            if let Some(n) = &next {
                body["NextToken"] = json!(n);
            }
            let v = self.sso(s, "ListAccountAssignments", body).await?;
            for a in v
                .get("AccountAssignments")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let id = a
                    .get("PrincipalId")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                match a.get("PrincipalType").and_then(Value::as_str) {
                    Some("GROUP") => out.push(Principal::Group(id)),
                    _ => out.push(Principal::User(id)),
                }
            }
            next = v
                .get("NextToken")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .map(String::from);
            if next.is_none() {
                return Ok(out);
            }
        }
    }

    /// Deletes `login`'s assignment if `present` (the assignments listed) has it.
    async fn drop_listed(
        &self,
        s: &Settings,
        by: PrincipalFrom,
        account: &str,
        ps: &str,
        present: &[Principal],
        login: String,
    ) -> Result<(), ConnectorError> {
        match self.principal(s, by, &login).await? {
            Some(who) if present.contains(&who) => self.change(s, false, account, ps, &who).await,
            _ => Ok(()),
        }
    }

    /// Creates or deletes an assignment and polls its status until it is final.
    async fn change(
        &self,
        s: &Settings,
        create: bool,
        account: &str,
        ps: &str,
        who: &Principal,
    ) -> Result<(), ConnectorError> {
        let (op, status_field, describe, id_field) = if create {
            (
                "CreateAccountAssignment",
                "AccountAssignmentCreationStatus",
                "DescribeAccountAssignmentCreationStatus",
                "AccountAssignmentCreationRequestId",
            )
        } else {
            (
                "DeleteAccountAssignment",
                "AccountAssignmentDeletionStatus",
                "DescribeAccountAssignmentDeletionStatus",
                "AccountAssignmentDeletionRequestId",
            )
        };
        let body = json!({
            "InstanceArn": s.instance_arn, "TargetId": account, "TargetType": "AWS_ACCOUNT",
            "PermissionSetArn": ps, "PrincipalType": who.kind(), "PrincipalId": who.id(),
        });
        let mut status = match self.call(s, Service::SsoAdmin, op, body).await {
            Ok(v) => v.get(status_field).cloned().unwrap_or_default(),
            // Another change of the same assignment is in flight, or (delete) it is gone
            // already: the caller re-reads the assignments.
            Err(CallError::Aws(e))
                if e.code == "ConflictException"
                    || (!create && e.code == "ResourceNotFoundException") =>
            {
                return Ok(())
            }
            Err(e) => return Err(e.into()),
        };
        let request_id = str_field(&status, "RequestId")?;
        let mut waited = Duration::ZERO;
        let mut wait = Duration::from_millis(100);
        loop {
            match status.get("Status").and_then(Value::as_str) {
                Some("SUCCEEDED") => return Ok(()),
                Some("FAILED") => {
                    let why = status
                        .get("FailureReason")
                        .and_then(Value::as_str)
                        .unwrap_or("no reason given");
                    return Err(ConnectorError::Refused(format!("{op} failed: {why}")));
                }
                _ if waited >= POLL_FOR => {
                    return Err(ConnectorError::Unreachable(format!(
                        "{op} still in progress after {} s",
                        POLL_FOR.as_secs()
                    )))
                }
                _ => {}
            }
            tokio::time::sleep(wait).await;
            waited += wait;
            wait = (wait * 2).min(Duration::from_secs(2));
            let v = self
                .sso(
                    s,
                    describe,
                    json!({"InstanceArn": s.instance_arn, id_field: request_id}),
                )
                .await?;
            status = v.get(status_field).cloned().unwrap_or_default();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn str_field(v: &Value, field: &str) -> Result<String, ConnectorError> {
    v.get(field)
        .and_then(Value::as_str)
        .map(String::from)
        .ok_or_else(|| ConnectorError::Refused(format!("AWS answered without {field}")))
}

fn primary_email(user: &Value) -> Option<String> {
    let emails = user.get("Emails").and_then(Value::as_array)?;
    let value = |e: &Value| e.get("Value").and_then(Value::as_str).map(String::from);
    emails
        .iter()
        .find(|e| e.get("Primary").and_then(Value::as_bool) == Some(true))
        .and_then(value)
        .or_else(|| emails.first().and_then(value))
}

/// The error of an AWS JSON answer: `__type` (after any `#`) and `message`/`Message`.
fn aws_error(status: u16, text: &str, url: &str) -> AwsError {
    let v: Value = serde_json::from_str(text).unwrap_or_default();
    let code = v
        .get("__type")
        .and_then(Value::as_str)
        .map(|t| t.rsplit('#').next().unwrap_or(t).to_string())
        .unwrap_or_else(|| format!("HTTP{status}"));
    let message = v
        .get("message")
        .or_else(|| v.get("Message"))
        .and_then(Value::as_str)
        .map(|m| excerpt(m, url))
        .unwrap_or_else(|| excerpt(text, url));
    AwsError {
        status,
        code,
        message,
    }
}

#[async_trait]
impl Connector for AwsSsoConnector {
    fn kind(&self) -> TargetKind {
        TargetKind::AwsSso
    }

    /// Lists one permission set of the instance and one user of the identity store: the
    /// endpoints answer, the credentials are valid and may read both.
    async fn ping(&self, target: &TargetRef) -> Result<(), ConnectorError> {
        let s = settings(target)?;
        self.sso(
            &s,
            "ListPermissionSets",
            json!({"InstanceArn": s.instance_arn, "MaxResults": 1}),
        )
        .await?;
        self.call(
            &s,
            Service::IdentityStore,
            "ListUsers",
            json!({"IdentityStoreId": s.identity_store_id, "MaxResults": 1}),
        )
        .await?;
        Ok(())
    }

    async fn role_exists(&self, target: &TargetRef, db_role: &str) -> Result<bool, ConnectorError> {
        let s = settings(target)?;
        let (_, ps) = key_parts(db_role)?;
        let body = json!({"InstanceArn": s.instance_arn, "PermissionSetArn": ps});
        match self
            .call(&s, Service::SsoAdmin, "DescribePermissionSet", body)
            .await
        {
            Ok(_) => Ok(true),
            Err(CallError::Aws(e)) if e.code == "ResourceNotFoundException" => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn describe_entitlement(
        &self,
        target: &TargetRef,
        db_role: &str,
    ) -> Result<Option<String>, ConnectorError> {
        let s = settings(target)?;
        let (_, ps) = key_parts(db_role)?;
        let v = self
            .sso(
                &s,
                "DescribePermissionSet",
                json!({"InstanceArn": s.instance_arn, "PermissionSetArn": ps}),
            )
            .await?;
        let p = v.get("PermissionSet").cloned().unwrap_or_default();
        let name = p.get("Name").and_then(Value::as_str).unwrap_or("?");
        let duration = p
            .get("SessionDuration")
            .and_then(Value::as_str)
            .unwrap_or("PT1H");
        Ok(Some(format!(
            "permission set {name}: sessions started before removal last up to {duration} (its session duration); AWS offers no call to end them sooner"
        )))
    }

    async fn add_member(
        &self,
        target: &TargetRef,
        db_role: &str,
        login: &str,
    ) -> Result<(), ConnectorError> {
        let s = settings(target)?;
        let (account, ps) = key_parts(db_role)?;
        let who = self
            .principal(&s, target.principal_from, login)
            .await?
            .ok_or_else(|| {
                ConnectorError::Refused(format!(
                    "no principal: the identity store has no user whose {} is {login}",
                    match target.principal_from {
                        PrincipalFrom::Login => "user name",
                        PrincipalFrom::Email => "email",
                        PrincipalFrom::ExternalId => "user id",
                    }
                ))
            })?;
        match self.change(&s, true, account, ps, &who).await {
            Ok(()) => Ok(()),
            // A creation AWS reports failed while the assignment is there (made meanwhile,
            // or already there) is success: adding is idempotent.
            Err(e) => match self.assignments(&s, account, ps).await {
                Ok(now) if now.contains(&who) => Ok(()),
                _ => Err(e),
            },
        }
    }

    async fn drop_member(
        &self,
        target: &TargetRef,
        db_role: &str,
        login: &str,
    ) -> Result<(), ConnectorError> {
        let s = settings(target)?;
        let (account, ps) = key_parts(db_role)?;
        let Some(who) = self.principal(&s, target.principal_from, login).await? else {
            // No such user in the store: nobody by that name can hold the assignment.
            return Ok(());
        };
        // Deleting an assignment that is not there is `ResourceNotFoundException`: success.
        self.change(&s, false, account, ps, &who).await
    }

    /// Many grants of one permission set ending together: the assignments are listed once,
    /// and those present are deleted up to `DROP_CONCURRENCY` at a time (AWS has no batch
    /// call; each deletion is its own request, polled to the end).
    async fn drop_members(
        &self,
        target: &TargetRef,
        db_role: &str,
        logins: &[String],
    ) -> Vec<Result<(), ConnectorError>> {
        let listed = match settings(target).and_then(|s| key_parts(db_role).map(|k| (s, k))) {
            Ok((s, (account, ps))) => self
                .assignments(&s, account, ps)
                .await
                .map(|present| (s, account, ps, present)),
            Err(e) => Err(e),
        };
        let (s, account, ps, present) = match listed {
            Ok(v) => v,
            Err(e) => return logins.iter().map(|_| Err(e.clone())).collect(),
        };
        let drops: Vec<_> = logins
            .iter()
            .map(|login| {
                self.drop_listed(
                    &s,
                    target.principal_from,
                    account,
                    ps,
                    &present,
                    login.clone(),
                )
            })
            .collect();
        futures_util::stream::iter(drops)
            .buffered(DROP_CONCURRENCY)
            .collect()
            .await
    }

    /// AWS cannot end sessions already started (see the module documentation).
    async fn end_sessions(&self, _target: &TargetRef, _login: &str) -> Result<(), ConnectorError> {
        Ok(())
    }

    async fn members(
        &self,
        target: &TargetRef,
        db_role: &str,
    ) -> Result<Vec<String>, ConnectorError> {
        let s = settings(target)?;
        let (account, ps) = key_parts(db_role)?;
        let mut out = Vec::new();
        for p in self.assignments(&s, account, ps).await? {
            out.push(match p {
                Principal::Group(g) => format!("group:{g}"),
                Principal::User(u) => match self.user_name(&s, target.principal_from, &u).await? {
                    Some(name) => name,
                    None => format!("user:{u}"),
                },
            });
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    async fn direct_grants(&self, _target: &TargetRef) -> Result<Vec<DirectGrant>, ConnectorError> {
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_is_read_from_the_shared_credentials_file() {
        let text = "[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = s1\n\n[ops]\nAWS_ACCESS_KEY_ID=AKIAOPS\naws_secret_access_key= s2 \naws_session_token = t\n";
        let ops = profile_values(text, "ops");
        assert_eq!(
            ops.get("aws_access_key_id").map(String::as_str),
            Some("AKIAOPS")
        );
        assert_eq!(
            ops.get("aws_secret_access_key").map(String::as_str),
            Some("s2")
        );
        assert_eq!(ops.get("aws_session_token").map(String::as_str), Some("t"));
        let d = profile_values(text, "default");
        assert_eq!(
            d.get("aws_access_key_id").map(String::as_str),
            Some("AKIADEFAULT")
        );
        assert!(profile_values(text, "missing").is_empty());
    }

    #[test]
    fn aws_errors_keep_the_code_and_never_the_url() {
        let url = "https://sso.eu-west-1.amazonaws.com/";
        let e = aws_error(
            400,
            &format!(
                r#"{{"__type":"com.amazonaws.swbexternalservice#ResourceNotFoundException","Message":"not at {url}"}}"#
            ),
            url,
        );
        assert_eq!(e.code, "ResourceNotFoundException");
        assert!(!e.message.contains("amazonaws.com"));
        let e = aws_error(
            403,
            r#"{"__type":"AccessDeniedException","message":"no"}"#,
            url,
        );
        assert!(
            matches!(e.into_connector(), ConnectorError::Refused(m) if m.contains("credentials"))
        );
        let e = aws_error(503, "<html>down</html>", url);
        assert_eq!(e.code, "HTTP503");
        assert!(matches!(e.into_connector(), ConnectorError::Unreachable(_)));
    }

    #[test]
    fn the_primary_email_is_the_users_email() {
        let u =
            json!({"Emails": [{"Value": "old@x.test"}, {"Value": "main@x.test", "Primary": true}]});
        assert_eq!(primary_email(&u).as_deref(), Some("main@x.test"));
        let u = json!({"Emails": [{"Value": "only@x.test"}]});
        assert_eq!(primary_email(&u).as_deref(), Some("only@x.test"));
        assert_eq!(primary_email(&json!({})), None);
    }

    #[test]
    fn a_signed_call_carries_the_target_and_a_sigv4_authorization() {
        struct Fixed;
        impl Clock for Fixed {
            fn now(&self) -> DateTime<Utc> {
                DateTime::parse_from_rfc3339("2026-12-03T10:00:00Z")
                    .map(|t| t.with_timezone(&Utc))
                    .unwrap_or_default()
            }
        }
        let c = AwsSsoConnector::new(Arc::new(Fixed));
        let creds = Credentials::new("AKIDEXAMPLE", "secret", Some("tok".into()), None, "test");
        let h = c
            .signed_headers(
                creds,
                "eu-west-1",
                Service::SsoAdmin,
                "https://sso.eu-west-1.amazonaws.com/",
                "SWBExternalService.ListInstances",
                "{}",
            )
            .unwrap();
        let get = |n: &str| {
            h.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        assert_eq!(get("x-amz-target"), "SWBExternalService.ListInstances");
        assert_eq!(get("x-amz-date"), "20261203T100000Z");
        assert_eq!(get("x-amz-security-token"), "tok");
        let auth = get("authorization");
        assert!(auth.starts_with(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261203/eu-west-1/sso/aws4_request"
        ));
        assert!(auth.contains(
            "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target"
        ));
    }

    #[test]
    fn endpoints_follow_the_region_or_the_override() {
        // Without an override variable in this test's environment (the black-box tests set
        // it for the server process only).
        if std::env::var("AWS_ENDPOINT_URL").is_err()
            && std::env::var("AWS_ENDPOINT_URL_SSO_ADMIN").is_err()
        {
            assert_eq!(
                endpoint(Service::SsoAdmin, "eu-west-1").unwrap(),
                "https://sso.eu-west-1.amazonaws.com/"
            );
        }
    }
}
