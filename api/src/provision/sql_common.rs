//! Pieces shared by the SQL connectors (postgres, mysql, mssql): pool settings, one pool per
//! target replaced when its URL changes, and error mapping that never lets a connection URL or
//! password into a message.

use std::collections::HashMap;
use std::future::Future;
use std::sync::LazyLock;
use std::time::Duration;

use regex::Regex;
use sha2::{Digest, Sha256};
use sqlx_oldapi::pool::PoolOptions;
use sqlx_oldapi::Database;

use super::{ConnectorError, TargetRef};

/// Pool settings for a target: small, fails fast when the target does not answer.
pub(crate) fn pool_options<DB: Database>() -> PoolOptions<DB> {
    PoolOptions::<DB>::new()
        .max_connections(8)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(5))
        .idle_timeout(Duration::from_secs(300))
}

/// One connection pool (plus whatever the connector learned about the server) per target,
/// replaced when the target's URL changes. Only a SHA-256 of the URL is kept for comparing.
pub(crate) struct PoolCache<V> {
    entries: tokio::sync::Mutex<HashMap<i64, ([u8; 32], V)>>,
}

impl<V> Default for PoolCache<V> {
    fn default() -> Self {
        Self {
            entries: tokio::sync::Mutex::new(HashMap::new()),
        }
    }
}

impl<V: Clone> PoolCache<V> {
    /// The cached value for `target`, or a new one from `connect(url)` (called without the
    /// lock held, so a slow target does not block the others).
    pub(crate) async fn get<F, Fut>(
        &self,
        target: &TargetRef,
        connect: F,
    ) -> Result<V, ConnectorError>
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = Result<V, ConnectorError>>,
    {
        let url = target.url()?;
        let digest: [u8; 32] = Sha256::digest(url.as_bytes()).into();
        if let Some((d, v)) = self.entries.lock().await.get(&target.id) {
            if *d == digest {
                return Ok(v.clone());
            }
        }
        let value = connect(url).await?;
        let mut entries = self.entries.lock().await;
        if let Some((d, v)) = entries.get(&target.id) {
            if *d == digest {
                // Another caller connected first; ours is dropped.
                return Ok(v.clone());
            }
        }
        entries.insert(target.id, (digest, value.clone()));
        Ok(value)
    }
}

static URL_RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\w+://\S*").expect("valid regex"));
static PASSWORD_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)(password|pwd)\s*[=:]\s*\S+").expect("valid regex"));

/// Removes anything that looks like a connection URL or a `password=` setting from a driver
/// message, and bounds its length.
pub(crate) fn sanitize_message(msg: &str) -> String {
    let s = URL_RE.replace_all(msg, "<url>");
    let s = PASSWORD_RE.replace_all(&s, "$1=<hidden>");
    let s = s.trim();
    if s.chars().count() > 500 {
        let mut t: String = s.chars().take(500).collect();
        t.push('…');
        t
    } else {
        s.to_string()
    }
}

/// Maps an error from opening a connection: a bad URL is a configuration problem, anything
/// else (network, TLS, authentication, unknown database) means the target is unreachable.
pub(crate) fn connect_error(e: sqlx_oldapi::Error) -> ConnectorError {
    match e {
        sqlx_oldapi::Error::Configuration(err) => ConnectorError::NotConfigured(format!(
            "the connection URL is invalid: {}",
            sanitize_message(&err.to_string())
        )),
        sqlx_oldapi::Error::Database(db) => {
            ConnectorError::Unreachable(sanitize_message(db.message()))
        }
        other => ConnectorError::Unreachable(sanitize_message(&other.to_string())),
    }
}

/// Maps an error from a statement: the server's own message for refusals, `Unreachable` for
/// transport and pool failures.
pub(crate) fn map_sqlx_error(e: sqlx_oldapi::Error) -> ConnectorError {
    use sqlx_oldapi::Error as E;
    match e {
        E::Database(db) => ConnectorError::Refused(sanitize_message(db.message())),
        E::Io(_)
        | E::Tls(_)
        | E::Protocol(_)
        | E::PoolTimedOut
        | E::PoolClosed
        | E::WorkerCrashed => ConnectorError::Unreachable(sanitize_message(&e.to_string())),
        E::Configuration(err) => ConnectorError::NotConfigured(sanitize_message(&err.to_string())),
        other => ConnectorError::Refused(sanitize_message(&other.to_string())),
    }
}
