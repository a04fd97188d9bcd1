//! Outbox retention: rows that are done with are deleted once they are older than
//! `JITEA_OUTBOX_RETENTION_HOURS` (see `store::outbox::prune` for what "done" means), and so
//! are notification deliveries sent before then (failed ones stay for admins), so the tables
//! do not grow forever. Runs at start and then hourly, in batches so no transaction
//! holds the table for long. The audit log, not the outbox, is the permanent record.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::watch;

use crate::state::AppState;
use crate::store::{notifications, outbox, StoreError};

const EVERY: Duration = Duration::from_secs(3600);
const BATCH: i64 = 5000;

/// Deletes every prunable row as of `now` (outbox rows, then sent notification deliveries
/// with their attempts); returns how many outbox rows and deliveries.
pub async fn run_once(state: &AppState, now: DateTime<Utc>) -> Result<u64, StoreError> {
    let before = now - TimeDelta::hours(state.config.outbox_retention_hours);
    let mut total = 0;
    for table in [Table::Outbox, Table::Deliveries] {
        loop {
            let mut tx = state.store.begin_write().await?;
            let n = match table {
                Table::Outbox => outbox::prune(&mut tx.db(), before, BATCH).await?,
                Table::Deliveries => notifications::prune_sent(&mut tx.db(), before, BATCH).await?,
            };
            tx.commit().await?;
            total += n;
            if n < BATCH as u64 {
                break;
            }
        }
    }
    Ok(total)
}

#[derive(Clone, Copy)]
enum Table {
    Outbox,
    Deliveries,
}

/// Runs until `shutdown` turns true.
pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    loop {
        match run_once(&state, state.now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "outbox: pruned delivered rows"),
            Err(e) => tracing::warn!(error = %e, "outbox: pruning failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = shutdown.changed() => {
                if *shutdown.borrow() { break; }
            }
        }
    }
}
