//! The `noop` target: provisions nothing outside JITEA but keeps the memberships it was asked
//! for in memory, so demos and tests exercise the same workflow, records and reconciliation
//! as a real database target.

use std::collections::BTreeSet;
use std::sync::Mutex;

use async_trait::async_trait;
use jitea_shared::TargetKind;

use super::{Connector, ConnectorError, DirectGrant, TargetRef};

#[derive(Default)]
pub struct NoopConnector {
    /// (target id, db role, login)
    members: Mutex<BTreeSet<(i64, String, String)>>,
    /// How long an add takes: a slow target for race tests (`JITEA_NOOP_ADD_DELAY_MS`).
    add_delay: std::time::Duration,
}

impl NoopConnector {
    /// A noop connector whose adds take `JITEA_NOOP_ADD_DELAY_MS` milliseconds (default 0):
    /// a testing aid that makes a slow target reproducible.
    pub fn from_env() -> Self {
        let ms = std::env::var("JITEA_NOOP_ADD_DELAY_MS")
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0)
            .min(600_000);
        Self {
            add_delay: std::time::Duration::from_millis(ms),
            ..Self::default()
        }
    }

    fn set(&self) -> std::sync::MutexGuard<'_, BTreeSet<(i64, String, String)>> {
        self.members.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl Connector for NoopConnector {
    fn kind(&self) -> TargetKind {
        TargetKind::Noop
    }

    async fn ping(&self, _target: &TargetRef) -> Result<(), ConnectorError> {
        Ok(())
    }

    async fn role_exists(
        &self,
        _target: &TargetRef,
        _db_role: &str,
    ) -> Result<bool, ConnectorError> {
        Ok(true)
    }

    async fn add_member(
        &self,
        target: &TargetRef,
        db_role: &str,
        login: &str,
    ) -> Result<(), ConnectorError> {
        if !self.add_delay.is_zero() {
            tokio::time::sleep(self.add_delay).await;
        }
        self.set()
            .insert((target.id, db_role.to_string(), login.to_string()));
        Ok(())
    }

    async fn drop_member(
        &self,
        target: &TargetRef,
        db_role: &str,
        login: &str,
    ) -> Result<(), ConnectorError> {
        self.set()
            .remove(&(target.id, db_role.to_string(), login.to_string()));
        Ok(())
    }

    async fn end_sessions(&self, _target: &TargetRef, _login: &str) -> Result<(), ConnectorError> {
        Ok(())
    }

    async fn members(
        &self,
        target: &TargetRef,
        db_role: &str,
    ) -> Result<Vec<String>, ConnectorError> {
        Ok(self
            .set()
            .iter()
            .filter(|(t, r, _)| *t == target.id && r == db_role)
            .map(|(_, _, l)| l.clone())
            .collect())
    }

    async fn direct_grants(&self, _target: &TargetRef) -> Result<Vec<DirectGrant>, ConnectorError> {
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn add_and_drop_are_idempotent() {
        let c = NoopConnector::default();
        let t = TargetRef {
            id: 1,
            kind: TargetKind::Noop,
            url_env: None,
            settings: None,
            principal_from: Default::default(),
        };
        c.add_member(&t, "reader", "alice").await.unwrap();
        c.add_member(&t, "reader", "alice").await.unwrap();
        assert_eq!(c.members(&t, "reader").await.unwrap(), vec!["alice"]);
        c.drop_member(&t, "reader", "alice").await.unwrap();
        c.drop_member(&t, "reader", "alice").await.unwrap();
        assert!(c.members(&t, "reader").await.unwrap().is_empty());
    }
}
