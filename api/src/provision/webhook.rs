//! The `webhook` target: a system JITEA does not know, driven through signed HTTP calls.
//! Every operation is one `POST` of a `TargetWebhookCall` JSON body to the target's URL
//! (`connection_url_env`), signed per the Standard Webhooks specification with the secret in
//! the environment variable named `<connection_url_env>_SECRET` (`whsec_…`); `webhook-id` is a
//! fresh idempotency key per operation. The receiver answers 2xx with a `TargetWebhookAnswer`
//! (`exists` for `entitlement_exists`, `members` for `members`). Adds and drops are
//! idempotent by contract: adding a member that is there, or dropping one that is gone, is
//! success. `end_sessions` may answer 404 or 501 when the system has no sessions to end.
//! The contract is in the OpenAPI document (`TargetWebhookCall`, `TargetWebhookAnswer`).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use jitea_shared::{TargetKind, TargetWebhookAnswer, TargetWebhookCall, TargetWebhookOp};

use super::{Connector, ConnectorError, DirectGrant, TargetRef};
use crate::clock::Clock;
use crate::outbound::{excerpt, post_json};

/// The suffix of the variable holding a webhook target's signing secret.
pub const SECRET_SUFFIX: &str = "_SECRET";

pub struct WebhookConnector {
    http: ureq::Agent,
    clock: Arc<dyn Clock>,
}

impl WebhookConnector {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            http: crate::outbound::agent(Duration::from_secs(15), "JITEA-target-webhook/1"),
            clock,
        }
    }

    fn secret(target: &TargetRef) -> Result<String, ConnectorError> {
        let name = format!(
            "{}{SECRET_SUFFIX}",
            target.url_env.as_deref().unwrap_or_default()
        );
        std::env::var(&name)
            .ok()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                ConnectorError::NotConfigured(format!("environment variable {name} is not set"))
            })
    }

    /// One signed call; the answer's JSON (an empty object for an empty 2xx body).
    async fn call(
        &self,
        target: &TargetRef,
        op: TargetWebhookOp,
        entitlement: Option<&str>,
        principal: Option<&str>,
    ) -> Result<(u16, TargetWebhookAnswer), ConnectorError> {
        let url = target.url()?;
        let secret = Self::secret(target)?;
        let body = serde_json::to_string(&TargetWebhookCall {
            op,
            entitlement: entitlement.map(str::to_string),
            principal: principal.map(str::to_string),
        })
        .map_err(|e| ConnectorError::Refused(format!("the call could not be written: {e}")))?;
        let id = format!("op_{}", hex::encode(rand::random::<[u8; 12]>()));
        let headers = crate::signing::headers(&secret, &id, self.clock.now().timestamp(), &body)
            .ok_or_else(|| {
                ConnectorError::NotConfigured(
                    "the signing secret is not a whsec_ base64 key".into(),
                )
            })?;
        let (status, text) = post_json(&self.http, &url, headers, body, 1 << 20)
            .await
            .map_err(ConnectorError::Unreachable)?;
        if !(200..300).contains(&status) {
            return Ok((status, TargetWebhookAnswer::refused(excerpt(&text, &url))));
        }
        if text.trim().is_empty() {
            return Ok((status, TargetWebhookAnswer::default()));
        }
        serde_json::from_str(&text)
            .map(|a| (status, a))
            .map_err(|_| ConnectorError::Refused("the answer is not a TargetWebhookAnswer".into()))
    }

    /// The call, where only a 2xx answer is success.
    async fn ok(
        &self,
        target: &TargetRef,
        op: TargetWebhookOp,
        entitlement: Option<&str>,
        principal: Option<&str>,
    ) -> Result<TargetWebhookAnswer, ConnectorError> {
        let (status, answer) = self.call(target, op, entitlement, principal).await?;
        if (200..300).contains(&status) {
            return Ok(answer);
        }
        Err(ConnectorError::Refused(format!(
            "HTTP {status}: {}",
            answer.error.unwrap_or_default()
        )))
    }
}

#[async_trait]
impl Connector for WebhookConnector {
    fn kind(&self) -> TargetKind {
        TargetKind::Webhook
    }

    async fn ping(&self, target: &TargetRef) -> Result<(), ConnectorError> {
        self.ok(target, TargetWebhookOp::Ping, None, None)
            .await
            .map(|_| ())
    }

    async fn role_exists(&self, target: &TargetRef, db_role: &str) -> Result<bool, ConnectorError> {
        let a = self
            .ok(
                target,
                TargetWebhookOp::EntitlementExists,
                Some(db_role),
                None,
            )
            .await?;
        a.exists.ok_or_else(|| {
            ConnectorError::Refused("the answer to entitlement_exists has no `exists`".into())
        })
    }

    async fn add_member(
        &self,
        target: &TargetRef,
        db_role: &str,
        login: &str,
    ) -> Result<(), ConnectorError> {
        self.ok(target, TargetWebhookOp::Add, Some(db_role), Some(login))
            .await
            .map(|_| ())
    }

    async fn drop_member(
        &self,
        target: &TargetRef,
        db_role: &str,
        login: &str,
    ) -> Result<(), ConnectorError> {
        self.ok(target, TargetWebhookOp::Drop, Some(db_role), Some(login))
            .await
            .map(|_| ())
    }

    async fn end_sessions(&self, target: &TargetRef, login: &str) -> Result<(), ConnectorError> {
        let (status, answer) = self
            .call(target, TargetWebhookOp::EndSessions, None, Some(login))
            .await?;
        match status {
            200..=299 | 404 | 501 => Ok(()),
            _ => Err(ConnectorError::Refused(format!(
                "HTTP {status}: {}",
                answer.error.unwrap_or_default()
            ))),
        }
    }

    async fn members(
        &self,
        target: &TargetRef,
        db_role: &str,
    ) -> Result<Vec<String>, ConnectorError> {
        let a = self
            .ok(target, TargetWebhookOp::Members, Some(db_role), None)
            .await?;
        a.members
            .ok_or_else(|| ConnectorError::Refused("the answer to members has no `members`".into()))
    }

    async fn direct_grants(&self, _target: &TargetRef) -> Result<Vec<DirectGrant>, ConnectorError> {
        Ok(Vec::new())
    }
}
