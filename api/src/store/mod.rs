//! Everything that touches JITEA's own database. A [`Dialect`] is chosen once from the URL;
//! repositories (one module per aggregate) write portable SQL through [`Q`] and [`Db`].
//! Multi-row state changes run inside one explicit transaction (see [`Store::begin_write`]).

pub mod audit;
pub mod break_glass;
pub mod catalog;
pub mod catalog_cache;
pub mod credentials;
pub mod dialect;
pub mod directory;
pub mod drift;
pub mod eligibility;
pub mod grants;
pub mod jobs;
pub mod migrate;
pub mod notifications;
pub mod oidc;
pub mod outbox;
pub mod paging;
pub mod query;
pub mod reminders;
pub mod reports;
pub mod requests;
pub mod rows;
pub mod scim;
pub mod sessions;
pub mod stats;
pub mod teams;
pub mod users;
pub mod webhooks;

use std::time::Duration;

use sqlx_oldapi::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx_oldapi::pool::PoolConnection;
use sqlx_oldapi::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sqlx_oldapi::{Any, AnyPool, ConnectOptions, Transaction};

pub use dialect::Dialect;
pub use query::{Arg, Db, Q};

/// A failure in the store. Driver errors are kept for logs only; nothing from them reaches a
/// client (the HTTP layer maps these to generic codes).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unique constraint violated")]
    Conflict,
    #[error("referenced row does not exist")]
    ForeignKey,
    #[error("text contains a NUL character")]
    InvalidText,
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("store error: {0}")]
    Internal(String),
}

impl StoreError {
    pub fn from_sqlx(e: sqlx_oldapi::Error, dialect: Dialect) -> Self {
        match &e {
            sqlx_oldapi::Error::Database(db) => {
                let code = db.code().map(|c| c.to_string()).unwrap_or_default();
                if dialect.is_unique_violation(&code) {
                    StoreError::Conflict
                } else if dialect.is_foreign_key_violation(&code) {
                    StoreError::ForeignKey
                } else {
                    StoreError::Internal(format!("database error {code}: {}", db.message()))
                }
            }
            sqlx_oldapi::Error::PoolTimedOut
            | sqlx_oldapi::Error::PoolClosed
            | sqlx_oldapi::Error::Io(_) => StoreError::Unavailable(e.to_string()),
            _ => StoreError::Internal(e.to_string()),
        }
    }
}

/// The JITEA database: a pool plus its dialect.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    dialect: Dialect,
    /// This process's copy of the catalogue (shared by the clones of this store).
    catalog: std::sync::Arc<catalog_cache::CatalogCache>,
    /// SQLite only: this process's writers queue here, in order, for the database's single
    /// write lock. Without it they would all ask SQLite, whose busy handler makes each loser
    /// sleep (1, 2, 5, 10… ms) and retry: under load most of a request's time was spent so.
    write_gate: Option<std::sync::Arc<tokio::sync::Semaphore>>,
}

impl Store {
    /// Connects to `url` (`sqlite://path`, `postgres://...`, `mssql://...`). SQLite files are
    /// created if missing and run in WAL mode with a busy timeout so that the CLI and the
    /// server can share a file.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let mut opts: AnyConnectOptions = url.parse().map_err(|_| {
            anyhow::anyhow!(
                "JITEA_DATABASE_URL is not a valid sqlite://, postgres:// or mssql:// URL"
            )
        })?;
        let dialect = Dialect::from_kind(opts.kind())
            .ok_or_else(|| anyhow::anyhow!("JITEA_DATABASE_URL: unsupported database kind"))?;
        let max = match dialect {
            // Readers run beside the one writer (WAL) and writers queue on the write gate
            // holding a connection each, so readers need room; but every connection keeps a
            // page cache that a write elsewhere invalidates. 8 measured best under load
            // (BENCHMARKS.md, request path: 4 → 298, 8 → 333, 16 → 234 flows/s).
            Dialect::Sqlite => 8,
            _ => 16,
        };
        // Statement logging would put SQL text in the logs; keep it off.
        opts.log_statements(log::LevelFilter::Off)
            .log_slow_statements(log::LevelFilter::Off, Duration::from_secs(60));
        if let Some(sqlite) = opts.as_sqlite_mut() {
            *sqlite = sqlite
                .clone()
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true)
                // Every commit is durable before it is acknowledged, power loss included: the
                // audit trail and the record of what was granted on a target must not vanish.
                // (NORMAL would sync only at checkpoints, ~10x the commit rate here.)
                .synchronous(SqliteSynchronous::Full);
        }
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            // A SQLite connection is a file handle in this process: it cannot go stale, so the
            // round trip that checks a server connection before each use is saved.
            .test_before_acquire(dialect != Dialect::Sqlite)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts)
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot connect to the database ({})",
                    redact(&e.to_string())
                )
            })?;
        Ok(Self {
            pool,
            dialect,
            catalog: Default::default(),
            write_gate: (dialect == Dialect::Sqlite)
                .then(|| std::sync::Arc::new(tokio::sync::Semaphore::new(1))),
        })
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The catalogue kept in memory for eligibility (see `catalog_cache`).
    pub fn catalog_cache(&self) -> &catalog_cache::CatalogCache {
        &self.catalog
    }

    /// A pooled connection for reads.
    pub async fn conn(&self) -> Result<PoolConnection<Any>, StoreError> {
        self.pool
            .acquire()
            .await
            .map_err(|e| StoreError::from_sqlx(e, self.dialect))
    }

    /// A transaction that will write: on SQLite it holds the write lock from its first
    /// statement, so concurrent writers queue instead of failing.
    pub async fn begin_write(&self) -> Result<Tx, StoreError> {
        // The connection first, then the gate: a gate holder never waits for the pool.
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| StoreError::from_sqlx(e, self.dialect))?;
        let gate = match &self.write_gate {
            Some(g) => Some(
                g.clone()
                    .acquire_owned()
                    .await
                    .map_err(|_| StoreError::Internal("the write gate is closed".into()))?,
            ),
            None => None,
        };
        Db::new(&mut tx, self.dialect).lock_for_write().await?;
        Ok(Tx {
            tx,
            dialect: self.dialect,
            _gate: gate,
        })
    }

    /// A transaction without the SQLite write-lock row (which does not exist before the
    /// first migration); the migration runner takes its own lock.
    pub(crate) async fn begin_write_raw(&self) -> Result<Tx, StoreError> {
        let tx = self
            .pool
            .begin()
            .await
            .map_err(|e| StoreError::from_sqlx(e, self.dialect))?;
        Ok(Tx {
            tx,
            dialect: self.dialect,
            _gate: None,
        })
    }

    /// Checks the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut c = self.conn().await?;
        Db::new(&mut c, self.dialect)
            .fetch_optional(&Q::new("SELECT 1 AS one"))
            .await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// An open write transaction. Dropping it without `commit` rolls back.
pub struct Tx {
    tx: Transaction<'static, Any>,
    dialect: Dialect,
    /// This process's turn to write (SQLite), given back when the transaction ends.
    _gate: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl Tx {
    pub fn db(&mut self) -> Db<'_> {
        Db::new(&mut self.tx, self.dialect)
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        let d = self.dialect;
        self.tx
            .commit()
            .await
            .map_err(|e| StoreError::from_sqlx(e, d))
    }
}

/// Keeps passwords out of connection error messages.
fn redact(s: &str) -> String {
    let re = regex::Regex::new(r"://[^@/\s]*@").expect("static regex");
    re.replace_all(s, "://***@").into_owned()
}
