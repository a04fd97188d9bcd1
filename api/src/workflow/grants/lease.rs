//! A grant's lease: the one right to change that grant's access on its targets.
//!
//! Every add, drop and session end for a grant happens while its lease is held, and every
//! record of such an effect is written in a transaction that first checks ("fences") that the
//! lease is still held. The lease id is unique per acquisition, so it doubles as the fencing
//! token: a holder whose lease lapsed and was taken over cannot record anything afterwards.
//! A background task renews the lease while the holder works, so a slow target call does not
//! lose it silently; if renewal finds the lease gone, `is_lost` says so.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::state::AppState;
use crate::store::grants as grant_store;
use crate::store::{Db, StoreError, Tx};

/// How long a lease lasts without renewal; a process that dies holding one delays that
/// grant's work by at most this much.
pub const LEASE: Duration = Duration::from_secs(15);
/// How often a held lease is renewed.
const RENEW_EVERY: Duration = Duration::from_secs(5);
/// How often a waiting caller retries taking a busy lease.
const POLL: Duration = Duration::from_millis(50);

pub fn lease_until(now: DateTime<Utc>) -> DateTime<Utc> {
    now + chrono::Duration::from_std(LEASE).unwrap_or_else(|_| chrono::Duration::seconds(15))
}

/// A fresh lease id (fencing token) for this process.
pub fn new_lease_id(owner: &str) -> String {
    format!("{owner}#{:016x}", rand::random::<u64>())
}

/// A held lease, on one grant or on a batch of grants claimed together. Dropping it stops the
/// renewal; `release` also gives the grants back at once.
pub struct Lease {
    id: String,
    lost: Arc<AtomicBool>,
    renewer: tokio::task::JoinHandle<()>,
    /// Holds one grant (taken by `acquire` or with the grant's insert), not a claimed batch.
    single: bool,
    /// A transaction that committed already gave the (single) grant back.
    released: AtomicBool,
}

impl Lease {
    /// Starts renewing a lease already written to the grants' rows under `id` (by `acquire`
    /// or by a claim).
    pub fn adopt(state: &AppState, id: String) -> Self {
        Self::start(state, id, false)
    }

    /// `adopt` for a lease on exactly one grant (written with the grant's insert).
    pub fn adopt_single(state: &AppState, id: String) -> Self {
        Self::start(state, id, true)
    }

    fn start(state: &AppState, id: String, single: bool) -> Self {
        let lost = Arc::new(AtomicBool::new(false));
        let renewer = tokio::spawn(renew_loop(state.clone(), id.clone(), lost.clone()));
        Self {
            id,
            lost,
            renewer,
            single,
            released: AtomicBool::new(false),
        }
    }

    /// Says that a transaction which just committed gave this lease's grant back (see
    /// `store::grants::release_one`); `release` then has nothing left to write. Only a
    /// single-grant lease is done then: a batch still holds its other grants.
    pub fn released_with_commit(&self) {
        if self.single {
            self.released.store(true, Ordering::SeqCst);
        }
    }

    /// Takes the lease on `grant_id` if nobody holds it.
    pub async fn acquire(state: &AppState, grant_id: i64) -> Result<Option<Self>, StoreError> {
        let id = new_lease_id(&state.owner);
        let now = state.now();
        let mut c = state.store.conn().await?;
        let got = grant_store::acquire(
            &mut Db::new(&mut c, state.store.dialect()),
            grant_id,
            &id,
            now,
            lease_until(now),
        )
        .await?;
        Ok(got.then(|| Self::adopt_single(state, id)))
    }

    /// `acquire`, waiting up to `wait` for the current holder to finish.
    pub async fn acquire_within(
        state: &AppState,
        grant_id: i64,
        wait: Duration,
    ) -> Result<Option<Self>, StoreError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(l) = Self::acquire(state, grant_id).await? {
                return Ok(Some(l));
            }
            if tokio::time::Instant::now() + POLL > deadline {
                return Ok(None);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The fencing token.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether renewal found the lease taken over.
    pub fn is_lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    /// A write transaction in which this lease still holds `grant_id`, or `None` when it was
    /// lost (nothing may be recorded then).
    pub async fn begin(&self, state: &AppState, grant_id: i64) -> Result<Option<Tx>, StoreError> {
        let mut tx = state.store.begin_write().await?;
        if grant_store::fence(&mut tx.db(), grant_id, &self.id).await? {
            Ok(Some(tx))
        } else {
            self.lost.store(true, Ordering::SeqCst);
            Ok(None)
        }
    }

    /// Gives every grant held under this lease back.
    pub async fn release(self, state: &AppState) {
        self.renewer.abort();
        if self.released.load(Ordering::SeqCst) {
            return;
        }
        let r = async {
            let mut c = state.store.conn().await?;
            grant_store::release(&mut Db::new(&mut c, state.store.dialect()), &self.id).await
        }
        .await;
        if let Err(e) = r {
            tracing::warn!(error = %e, "releasing a grant lease failed; it lapses on its own");
        }
    }

    /// Gives one grant of a batch back.
    pub async fn release_one(&self, state: &AppState, grant_id: i64) -> Result<(), StoreError> {
        let mut c = state.store.conn().await?;
        grant_store::release_one(
            &mut Db::new(&mut c, state.store.dialect()),
            grant_id,
            &self.id,
        )
        .await
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.renewer.abort();
    }
}

async fn renew_loop(state: AppState, id: String, lost: Arc<AtomicBool>) {
    loop {
        tokio::time::sleep(RENEW_EVERY).await;
        let r = async {
            let mut c = state.store.conn().await?;
            grant_store::renew(
                &mut Db::new(&mut c, state.store.dialect()),
                &id,
                lease_until(state.now()),
            )
            .await
        }
        .await;
        match r {
            Ok(0) => {
                lost.store(true, Ordering::SeqCst);
                return;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "renewing a grant lease failed; retrying"),
        }
    }
}
