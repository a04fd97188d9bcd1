//! Provisioning on target systems. Each target kind implements [`Connector`]; the workflow
//! records every add/drop attempt in `grant_db_role_assignments` whatever the kind, so the
//! audit trail looks the same for a demo `noop` target and a real database.
//! Identifier validation and quoting for a real target lives in its module and only there.

pub mod aws_sso;
pub mod mssql;
pub mod mysql;
pub mod noop;
pub mod postgres;
pub(crate) mod sql_common;
pub mod webhook;

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use jitea_shared::TargetKind;
use serde::Serialize;

/// Why a target operation failed. The message is safe to store and show: connectors never
/// put connection strings or secrets into it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConnectorError {
    #[error("target kind `{0}` is not supported by this build")]
    Unsupported(String),
    #[error("target not configured: {0}")]
    NotConfigured(String),
    #[error("target unreachable: {0}")]
    Unreachable(String),
    #[error("target refused: {0}")]
    Refused(String),
    #[error("invalid identifier: {0}")]
    InvalidIdentifier(String),
}

/// Target connection URLs may only come from environment variables with this prefix, so a
/// target cannot be pointed at (and leak) any other variable of the service's environment.
pub const TARGET_ENV_PREFIX: &str = "JITEA_TARGET_";

/// Which target an operation is for. The connection URL is read at call time from the
/// environment variable `url_env`; it is never stored in JITEA's database.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TargetRef {
    pub id: i64,
    pub kind: TargetKind,
    pub url_env: Option<String>,
    /// The target's kind-specific settings as JSON text (`aws_sso`: region, instance and
    /// identity store), checked when the target was written.
    pub settings: Option<String>,
    /// Which attribute of a JITEA user the principals given to the connector are.
    pub principal_from: jitea_shared::PrincipalFrom,
}

impl From<&jitea_shared::Target> for TargetRef {
    fn from(t: &jitea_shared::Target) -> Self {
        TargetRef {
            id: t.id,
            kind: t.kind,
            url_env: t.connection_url_env.clone(),
            settings: t
                .settings
                .as_ref()
                .and_then(|s| serde_json::to_string(s).ok()),
            principal_from: t.principal_from,
        }
    }
}

impl TargetRef {
    /// The connection URL from the environment, or a `NotConfigured` error naming the variable
    /// (never its value).
    pub fn url(&self) -> Result<String, ConnectorError> {
        let name = self.url_env.as_deref().ok_or_else(|| {
            ConnectorError::NotConfigured("the target has no connection_url_env".into())
        })?;
        if !name.starts_with(TARGET_ENV_PREFIX) {
            return Err(ConnectorError::NotConfigured(format!(
                "connection_url_env must start with {TARGET_ENV_PREFIX}"
            )));
        }
        std::env::var(name)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| {
                ConnectorError::NotConfigured(format!("environment variable {name} is not set"))
            })
    }
}

/// An object permission granted directly to a login, bypassing roles (a drift report item).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirectGrant {
    pub login: String,
    /// `schema.object`
    pub object: String,
    pub privilege: String,
}

/// One kind of target system. Every operation is idempotent: adding a member that is already
/// there, or dropping one that is already gone, is success.
#[async_trait]
pub trait Connector: Send + Sync {
    fn kind(&self) -> TargetKind;
    /// Checks the target answers.
    async fn ping(&self, target: &TargetRef) -> Result<(), ConnectorError>;
    /// Whether `db_role` exists on the target.
    async fn role_exists(&self, target: &TargetRef, db_role: &str) -> Result<bool, ConnectorError>;
    /// What an admin should know about an existing entitlement (shown by the target test):
    /// `aws_sso` says how long sessions outlive a removal. None by default.
    async fn describe_entitlement(
        &self,
        _target: &TargetRef,
        _db_role: &str,
    ) -> Result<Option<String>, ConnectorError> {
        Ok(None)
    }
    /// Makes `login` a member of `db_role`.
    async fn add_member(
        &self,
        target: &TargetRef,
        db_role: &str,
        login: &str,
    ) -> Result<(), ConnectorError>;
    /// Removes `login` from `db_role`.
    async fn drop_member(
        &self,
        target: &TargetRef,
        db_role: &str,
        login: &str,
    ) -> Result<(), ConnectorError>;
    /// Removes several logins from `db_role` at once, returning one result per login in the
    /// same order. The expiry engine uses it when many grants end together; the default is
    /// one `drop_member` per login, connectors override it with a single statement.
    async fn drop_members(
        &self,
        target: &TargetRef,
        db_role: &str,
        logins: &[String],
    ) -> Vec<Result<(), ConnectorError>> {
        let mut out = Vec::with_capacity(logins.len());
        for l in logins {
            out.push(self.drop_member(target, db_role, l).await);
        }
        out
    }
    /// Ends the open sessions of several logins (see `end_sessions`).
    async fn end_sessions_many(
        &self,
        target: &TargetRef,
        logins: &[String],
    ) -> Result<(), ConnectorError> {
        for l in logins {
            self.end_sessions(target, l).await?;
        }
        Ok(())
    }
    /// Ends the login's open sessions so removed privileges cannot linger in them.
    async fn end_sessions(&self, target: &TargetRef, login: &str) -> Result<(), ConnectorError>;
    /// Current members (login names) of `db_role`.
    async fn members(
        &self,
        target: &TargetRef,
        db_role: &str,
    ) -> Result<Vec<String>, ConnectorError>;
    /// Object permissions granted directly to logins.
    async fn direct_grants(&self, target: &TargetRef) -> Result<Vec<DirectGrant>, ConnectorError>;
}

/// The connectors available to this process, by target kind.
#[derive(Clone, Default)]
pub struct Connectors {
    by_kind: HashMap<TargetKind, Arc<dyn Connector>>,
}

impl Connectors {
    /// The connectors this build ships. `clock` dates the webhook target's signed calls.
    pub fn builtin(clock: Arc<dyn crate::clock::Clock>) -> Self {
        let mut c = Self::default();
        c.register(Arc::new(webhook::WebhookConnector::new(clock.clone())));
        c.register(Arc::new(aws_sso::AwsSsoConnector::new(clock)));
        c.register(Arc::new(noop::NoopConnector::from_env()));
        c.register(Arc::new(postgres::PostgresConnector::new()));
        c.register(Arc::new(mysql::MysqlConnector::new()));
        c.register(Arc::new(mssql::MssqlConnector::new()));
        c
    }

    pub fn register(&mut self, c: Arc<dyn Connector>) {
        self.by_kind.insert(c.kind(), c);
    }

    pub fn for_kind(&self, kind: TargetKind) -> Result<Arc<dyn Connector>, ConnectorError> {
        self.by_kind
            .get(&kind)
            .cloned()
            .ok_or_else(|| ConnectorError::Unsupported(kind.as_str().to_string()))
    }
}
