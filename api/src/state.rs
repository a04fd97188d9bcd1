//! What every request handler and job shares.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use crate::auth::TokenKeys;
use crate::clock::Clock;
use crate::config::Config;
use crate::provision::Connectors;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub keys: TokenKeys,
    pub connectors: Connectors,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<Config>,
    /// Poked when a grant is issued or revoked so the expiry job re-plans at once.
    pub expiry_wake: Arc<Notify>,
    /// This process's name on job leases.
    pub owner: String,
    /// Live events for server-sent-event subscribers (fed from the outbox).
    pub live: tokio::sync::broadcast::Sender<Arc<crate::notify::live::Published>>,
    /// Flood limits: concurrent password hashing, open live streams.
    pub limits: Arc<crate::auth::limits::Limits>,
    /// The OpenID Connect provider, when single sign-on is configured.
    pub oidc: Option<Arc<crate::auth::oidc::Oidc>>,
}

impl AppState {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}
