//! Provisioning on target systems. Each target kind implements [`Connector`]; the workflow
//! records every add/drop attempt in `grant_db_role_assignments` whatever the kind, so the
//! audit trail looks the same for a demo `noop` target and a real database.
//! Identifier quoting for real targets lives in their modules and only there.

pub mod noop;

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use jitea_shared::TargetKind;

/// Why a target operation failed. The message is safe to store and show: connectors never
/// put connection strings or secrets into it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConnectorError {
    #[error("target kind `{0}` is not supported by this build")]
    Unsupported(String),
    #[error("target unreachable: {0}")]
    Unreachable(String),
    #[error("target refused: {0}")]
    Refused(String),
    #[error("invalid identifier: {0}")]
    InvalidIdentifier(String),
}

/// One kind of target system. Every operation is idempotent: adding a member that is already
/// there, or dropping one that is already gone, is success.
#[async_trait]
pub trait Connector: Send + Sync {
    fn kind(&self) -> TargetKind;
    /// Makes `login` a member of `db_role`.
    async fn add_member(
        &self,
        target_id: i64,
        db_role: &str,
        login: &str,
    ) -> Result<(), ConnectorError>;
    /// Removes `login` from `db_role`.
    async fn drop_member(
        &self,
        target_id: i64,
        db_role: &str,
        login: &str,
    ) -> Result<(), ConnectorError>;
    /// Ends the login's open sessions so removed privileges cannot linger in them.
    async fn end_sessions(&self, target_id: i64, login: &str) -> Result<(), ConnectorError>;
    /// Current members of `db_role` (for reconciliation).
    async fn members(&self, target_id: i64, db_role: &str) -> Result<Vec<String>, ConnectorError>;
}

/// The connectors available to this process, by target kind.
#[derive(Clone, Default)]
pub struct Connectors {
    by_kind: HashMap<TargetKind, Arc<dyn Connector>>,
}

impl Connectors {
    /// The connectors this build ships. Real database connectors arrive with the
    /// provisioning issue; until then those kinds report `Unsupported`.
    pub fn builtin() -> Self {
        let mut c = Self::default();
        c.register(Arc::new(noop::NoopConnector::default()));
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
