//! A periodic job's lease (`job_leases`): only one process runs the job at a time, scheduled
//! runs happen once per interval across replicas, and the lease is renewed while the job runs.
//! Reconciliation and directory sync share it.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::state::AppState;
use crate::store::{jobs as job_store, Db, StoreError};

/// A held job lease; `release` lets the job go (dropping it only stops the renewal, and the
/// lease then lapses on its own).
pub struct JobLease {
    job: &'static str,
    id: String,
    renewer: tokio::task::JoinHandle<()>,
}

fn until(now: DateTime<Utc>, lease: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(lease).unwrap_or_else(|_| chrono::Duration::seconds(60))
}

impl JobLease {
    /// Takes the job if nobody runs it and, with `due_after`, only when the last run (of any
    /// process) started at least that long ago.
    pub async fn try_claim(
        state: &AppState,
        job: &'static str,
        lease: Duration,
        due_after: Option<Duration>,
    ) -> Result<Option<Self>, StoreError> {
        let id = crate::workflow::grants::lease::new_lease_id(&state.owner);
        let now = state.now();
        let since = due_after.map(|d| now - chrono::Duration::from_std(d).unwrap_or_default());
        let got = {
            let mut c = state.store.conn().await?;
            job_store::claim(
                &mut Db::new(&mut c, state.store.dialect()),
                job,
                &id,
                now,
                until(now, lease),
                since,
            )
            .await?
        };
        if !got {
            return Ok(None);
        }
        let renewer = {
            let (state, id) = (state.clone(), id.clone());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(lease / 3).await;
                    if let Ok(mut c) = state.store.conn().await {
                        let mut db = Db::new(&mut c, state.store.dialect());
                        let t = until(state.now(), lease);
                        if let Err(e) = job_store::renew(&mut db, job, &id, t).await {
                            tracing::warn!(job, error = %e, "renewing a job lease failed");
                        }
                    }
                }
            })
        };
        Ok(Some(Self { job, id, renewer }))
    }

    /// An on-demand run: waits up to `wait` for a run elsewhere to finish. `None` when it kept
    /// going for longer.
    pub async fn claim_within(
        state: &AppState,
        job: &'static str,
        lease: Duration,
        wait: Duration,
    ) -> Result<Option<Self>, StoreError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(l) = Self::try_claim(state, job, lease, None).await? {
                return Ok(Some(l));
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Stops the renewal and lets the job go.
    pub async fn release(self, state: &AppState) -> Result<(), StoreError> {
        self.renewer.abort();
        let mut c = state.store.conn().await?;
        job_store::release(
            &mut Db::new(&mut c, state.store.dialect()),
            self.job,
            &self.id,
        )
        .await
    }
}

impl Drop for JobLease {
    fn drop(&mut self) {
        self.renewer.abort();
    }
}
