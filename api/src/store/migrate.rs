//! JITEA's own migration runner (sqlx-oldapi's `Migrator` panics on SQL Server through `Any`).
//!
//! Files are `migrations/<dialect>/NNNN_name.sql`, embedded in the binary. Each file runs in
//! its own transaction together with the row that records its version and checksum, so a file
//! is either fully applied or not at all. A changed checksum of an applied file stops start-up.
//! Two processes starting at once are serialised by a database lock taken inside each
//! transaction (advisory lock on PostgreSQL, `sp_getapplock` on SQL Server, the write lock on
//! SQLite); the loser then sees the version already recorded and skips it.

use sha2::{Digest, Sha256};

use super::{Db, Dialect, Store, StoreError, Q};

/// One migration file.
#[derive(Debug, Clone)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

impl Migration {
    pub fn checksum(&self) -> String {
        hex::encode(Sha256::digest(self.sql.as_bytes()))
    }

    /// Statements of the file: split at a `;` that ends a line (our files never put one
    /// inside a statement), comment-only chunks dropped.
    pub fn statements(&self) -> Vec<String> {
        split_statements(self.sql)
    }
}

pub fn split_statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in sql.lines() {
        let trimmed = line.trim_end();
        if trimmed.trim_start().starts_with("--") {
            continue;
        }
        cur.push_str(trimmed);
        cur.push('\n');
        if trimmed.ends_with(';') {
            let stmt = cur.trim().trim_end_matches(';').trim().to_string();
            if !stmt.is_empty() {
                out.push(stmt);
            }
            cur.clear();
        }
    }
    let rest = cur.trim();
    if !rest.is_empty() {
        out.push(rest.to_string());
    }
    out
}

macro_rules! migrations {
    ($dir:literal: $($version:literal $name:literal),+ $(,)?) => {
        &[$(Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../../../migrations/", $dir, "/", $name, ".sql")),
        }),+]
    };
}

/// The embedded migrations for a dialect, in version order.
pub fn migrations(dialect: Dialect) -> &'static [Migration] {
    match dialect {
        Dialect::Sqlite => {
            migrations!("sqlite": 1 "0001_core", 2 "0002_engine_and_drift", 3 "0003_sessions", 4 "0004_history", 5 "0005_lifecycle", 6 "0006_identity", 7 "0007_oidc", 8 "0008_directory", 9 "0009_scim", 10 "0010_catalog_version", 11 "0011_access_lifecycle", 12 "0012_approval_stages", 13 "0013_break_glass", 14 "0014_notifications", 15 "0015_reminders", 16 "0016_notification_mutes", 17 "0017_webhooks", 18 "0018_role_chat_channel", 19 "0019_target_settings", 20 "0020_target_principals")
        }
        Dialect::Postgres => {
            migrations!("postgres": 1 "0001_core", 2 "0002_engine_and_drift", 3 "0003_sessions", 4 "0004_history", 5 "0005_lifecycle", 6 "0006_identity", 7 "0007_oidc", 8 "0008_directory", 9 "0009_scim", 10 "0010_catalog_version", 11 "0011_access_lifecycle", 12 "0012_approval_stages", 13 "0013_break_glass", 14 "0014_notifications", 15 "0015_reminders", 16 "0016_notification_mutes", 17 "0017_webhooks", 18 "0018_role_chat_channel", 19 "0019_target_settings", 20 "0020_target_principals")
        }
        Dialect::Mssql => {
            migrations!("mssql": 1 "0001_core", 2 "0002_engine_and_drift", 3 "0003_sessions", 4 "0004_history", 5 "0005_lifecycle", 6 "0006_identity", 7 "0007_oidc", 8 "0008_directory", 9 "0009_scim", 10 "0010_catalog_version", 11 "0011_access_lifecycle", 12 "0012_approval_stages", 13 "0013_break_glass", 14 "0014_notifications", 15 "0015_reminders", 16 "0016_notification_mutes", 17 "0017_webhooks", 18 "0018_role_chat_channel", 19 "0019_target_settings", 20 "0020_target_principals")
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("migration {version} ({name}) was changed after it was applied (checksum mismatch); restore the original file")]
    ChecksumMismatch { version: i64, name: String },
    #[error("the database has migration {0}, which this binary does not know; upgrade JITEA")]
    UnknownVersion(i64),
    #[error("migration {version} ({name}) failed at statement {statement}: {source}")]
    Failed {
        version: i64,
        name: String,
        statement: usize,
        source: StoreError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn create_table_sql(d: Dialect) -> &'static str {
    match d {
        Dialect::Sqlite => "CREATE TABLE IF NOT EXISTS jitea_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_utc TEXT NOT NULL)",
        Dialect::Postgres => "CREATE TABLE IF NOT EXISTS jitea_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_utc TIMESTAMPTZ NOT NULL)",
        Dialect::Mssql => "IF OBJECT_ID(N'jitea_migrations', N'U') IS NULL CREATE TABLE jitea_migrations (version BIGINT NOT NULL PRIMARY KEY, name NVARCHAR(255) NOT NULL, checksum NVARCHAR(64) NOT NULL, applied_utc DATETIMEOFFSET NOT NULL)",
    }
}

/// SQL Server's cross-process migration lock (held until the transaction ends).
const MSSQL_LOCK: &str = "EXEC sp_getapplock @Resource = 'jitea_migrations', @LockMode = 'Exclusive', @LockOwner = 'Transaction', @LockTimeout = 60000";

/// Takes the cross-process migration lock for the rest of the current transaction.
/// Each dialect's text is its own, so it runs unrecorded (`execute_native`).
async fn lock(db: &mut Db<'_>) -> Result<(), StoreError> {
    match db.dialect {
        Dialect::Postgres => {
            // pg_advisory_xact_lock returns void, which the Any driver cannot decode: wrap it.
            db.fetch_optional_native(&Q::new(
                "SELECT 1 AS locked FROM (SELECT pg_advisory_xact_lock(7346372817) ) AS l",
            ))
            .await?;
        }
        Dialect::Mssql => {
            db.execute_native(&Q::new(MSSQL_LOCK)).await?;
        }
        Dialect::Sqlite => {
            // An immediate write: SQLite's database lock serialises the processes.
            db.execute_native(&Q::new(
                "UPDATE jitea_migrations SET name = name WHERE version = -1",
            ))
            .await?;
        }
    }
    Ok(())
}

/// Applies every pending migration. Returns the versions it applied.
pub async fn run(store: &Store) -> Result<Vec<i64>, MigrateError> {
    let d = store.dialect();
    // What the two dialect-specific statements below are on SQL Server, for the T-SQL check.
    super::query::record::mssql_native(create_table_sql(Dialect::Mssql));
    super::query::record::mssql_native(MSSQL_LOCK);
    {
        let mut c = store.conn().await?;
        let mut db = Db::new(&mut c, d);
        // Two processes may race on this; the loser's error is harmless if the table exists.
        if let Err(e) = db.execute_native(&Q::new(create_table_sql(d))).await {
            let exists = db
                .fetch_optional(&Q::new("SELECT COUNT(*) AS n FROM jitea_migrations"))
                .await
                .is_ok();
            if !exists {
                return Err(e.into());
            }
        }
    }
    let known = migrations(d);
    let mut applied_now = Vec::new();
    for m in known {
        let mut tx = store.begin_write_raw().await?;
        let mut db = tx.db();
        lock(&mut db).await?;
        let row = db
            .fetch_optional(
                &Q::new("SELECT checksum FROM jitea_migrations WHERE version = ?").bind(m.version),
            )
            .await?;
        if let Some(row) = row {
            let sum: String = super::rows::get(&row, "checksum")?;
            if sum != m.checksum() {
                return Err(MigrateError::ChecksumMismatch {
                    version: m.version,
                    name: m.name.to_string(),
                });
            }
            continue; // dropping tx rolls back the no-op lock
        }
        for (i, stmt) in m.statements().iter().enumerate() {
            // Migration files are per dialect (and checked from the files themselves).
            db.execute_native(&Q::new(stmt.as_str()))
                .await
                .map_err(|source| MigrateError::Failed {
                    version: m.version,
                    name: m.name.to_string(),
                    statement: i + 1,
                    source,
                })?;
        }
        db.execute(
            &Q::new("INSERT INTO jitea_migrations (version, name, checksum, applied_utc) VALUES (?, ?, ?, ?)")
                .bind(m.version)
                .bind(m.name)
                .bind(m.checksum())
                .bind(crate::clock::Clock::now(&crate::clock::SystemClock)),
        )
        .await?;
        tx.commit().await?;
        applied_now.push(m.version);
    }
    // Refuse to run against a database that is ahead of this binary.
    let mut c = store.conn().await?;
    let rows = Db::new(&mut c, d)
        .fetch_all(&Q::new(
            "SELECT version FROM jitea_migrations ORDER BY version",
        ))
        .await?;
    for r in rows {
        let v: i64 = super::rows::get(&r, "version")?;
        if !known.iter().any(|m| m.version == v) {
            return Err(MigrateError::UnknownVersion(v));
        }
    }
    Ok(applied_now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_split_at_line_final_semicolons() {
        let s = split_statements("-- c\nCREATE TABLE a (\n x INT\n);\nINSERT INTO a VALUES (1);\n");
        assert_eq!(
            s,
            vec!["CREATE TABLE a (\n x INT\n)", "INSERT INTO a VALUES (1)"]
        );
    }

    #[test]
    fn every_dialect_has_the_same_versions() {
        let v = |d| migrations(d).iter().map(|m| m.version).collect::<Vec<_>>();
        assert_eq!(v(Dialect::Sqlite), v(Dialect::Postgres));
        assert_eq!(v(Dialect::Sqlite), v(Dialect::Mssql));
    }
}
