//! The `noop` target: provisions nothing outside JITEA but keeps the memberships it was asked
//! for in memory, so demos and tests exercise the same workflow, records and reconciliation
//! as a real database target.

use std::collections::BTreeSet;
use std::sync::Mutex;

use async_trait::async_trait;
use jitea_shared::TargetKind;

use super::{Connector, ConnectorError};

#[derive(Default)]
pub struct NoopConnector {
    /// (target id, db role, login)
    members: Mutex<BTreeSet<(i64, String, String)>>,
}

#[async_trait]
impl Connector for NoopConnector {
    fn kind(&self) -> TargetKind {
        TargetKind::Noop
    }

    async fn add_member(
        &self,
        target_id: i64,
        db_role: &str,
        login: &str,
    ) -> Result<(), ConnectorError> {
        self.members.lock().expect("noop membership lock").insert((
            target_id,
            db_role.to_string(),
            login.to_string(),
        ));
        Ok(())
    }

    async fn drop_member(
        &self,
        target_id: i64,
        db_role: &str,
        login: &str,
    ) -> Result<(), ConnectorError> {
        self.members.lock().expect("noop membership lock").remove(&(
            target_id,
            db_role.to_string(),
            login.to_string(),
        ));
        Ok(())
    }

    async fn end_sessions(&self, _target_id: i64, _login: &str) -> Result<(), ConnectorError> {
        Ok(())
    }

    async fn members(&self, target_id: i64, db_role: &str) -> Result<Vec<String>, ConnectorError> {
        Ok(self
            .members
            .lock()
            .expect("noop membership lock")
            .iter()
            .filter(|(t, r, _)| *t == target_id && r == db_role)
            .map(|(_, _, l)| l.clone())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn add_and_drop_are_idempotent() {
        let c = NoopConnector::default();
        c.add_member(1, "reader", "alice").await.unwrap();
        c.add_member(1, "reader", "alice").await.unwrap();
        assert_eq!(c.members(1, "reader").await.unwrap(), vec!["alice"]);
        c.drop_member(1, "reader", "alice").await.unwrap();
        c.drop_member(1, "reader", "alice").await.unwrap();
        assert!(c.members(1, "reader").await.unwrap().is_empty());
    }
}
