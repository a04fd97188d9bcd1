//! Grant expiry. This first version polls every `JITEA_EXPIRY_INTERVAL_SECS` (default 5 s)
//! and is also woken at once when a grant is issued or ended; the provisioning issue replaces
//! it with a scheduler that sleeps exactly until the next `valid_to_utc` and leases work
//! across processes.

use std::time::Duration;

use chrono::{DateTime, Utc};
use jitea_shared::JobRun;
use serde_json::json;
use tokio::sync::watch;

use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};
use crate::store::StoreError;
use crate::workflow::grants::{expire_due, retry_provisioning};

/// One pass "as of" `now`: expire due grants, then retry provisioning left behind.
pub async fn run_once(state: &AppState, now: DateTime<Utc>) -> Result<JobRun, StoreError> {
    let (expired, failed) = expire_due(state, now).await?;
    let retried = retry_provisioning(state, now).await?;
    if expired > 0 || failed > 0 {
        let mut tx = state.store.begin_write().await?;
        audit::write(
            &mut tx.db(),
            Event::new("expiry_job_run", &Actor::system("expiry")).details(json!({"expired": expired, "failed": failed, "provisioning_retried": retried, "as_of": now})),
            state.now(),
        )
        .await?;
        tx.commit().await?;
    }
    Ok(JobRun {
        job: "expiry".into(),
        processed: expired,
        failed,
    })
}

/// Runs until `shutdown` turns true.
pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    let interval = Duration::from_secs(state.config.expiry_interval_secs);
    loop {
        if let Err(e) = run_once(&state, state.now()).await {
            tracing::warn!(error = %e, "expiry pass failed; retrying next tick");
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = state.expiry_wake.notified() => {}
            _ = shutdown.changed() => {
                if *shutdown.borrow() { break; }
            }
        }
    }
}
