//! MySQL / MariaDB target: JITEA db roles are server roles (MariaDB 10.0.5+, MySQL 8.0+),
//! and a JITEA login maps to every account `user@host` with that user name.
//!
//! Every identifier (role, user, host) goes into SQL text through [`quote_ident`] /
//! [`quote_host`] and only through them; values in catalog lookups are bound `?` parameters.
//! Statements are sent as prepared statements, which the server accepts only one at a time
//! (a second line of defence), falling back to the text protocol only for a statement the
//! server cannot prepare (error 1295).
//!
//! Decisions:
//! - Names are limited to [`MAX_IDENT_CHARS`] = 80 characters. MariaDB 10.6+ (10.11 on the
//!   development machine) accepts 128 and MariaDB up to 10.5 accepts 80; MySQL 8 accepts 32.
//!   All of them refuse a longer name with an error (no silent truncation), so the limit here
//!   is the portable MariaDB one and MySQL 8's shorter limit is left to the server.
//! - Names ending in a space are refused: account and role names are stored in `CHAR`
//!   columns, which drop trailing spaces, so `bob ` would silently become `bob`.
//! - Characters outside the Basic Multilingual Plane (4-byte UTF-8, e.g. emoji) are refused:
//!   the grant tables are `utf8mb3` and the server cannot store them.
//! - MariaDB has ONE default role per account. `add_member` makes the granted role the
//!   default (so it applies at the next login); a login holding several JITEA roles at once
//!   gets the most recently granted one by default and must `SET ROLE` for the others. When
//!   the dropped role was the default, the default becomes another role the account still
//!   holds (alphabetically first) or NONE. MySQL 8 uses `SET DEFAULT ROLE ALL`.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use jitea_shared::TargetKind;
use sqlx_oldapi::mysql::{MySql, MySqlPool};
use sqlx_oldapi::{Executor, Row};

use super::sql_common::{connect_error, map_sqlx_error, pool_options, PoolCache};
use super::{Connector, ConnectorError, DirectGrant, TargetRef};

/// Longest role or user name accepted (characters).
pub const MAX_IDENT_CHARS: usize = 80;
/// Longest host part accepted (characters; `mysql.user.Host` is `CHAR(255)`).
pub const MAX_HOST_CHARS: usize = 255;

/// MySQL error 1295 ER_UNSUPPORTED_PS: the statement cannot be prepared.
const ER_UNSUPPORTED_PS: u16 = 1295;
/// MySQL error 1094 ER_NO_SUCH_THREAD: "Unknown thread id" (the session already ended).
const ER_NO_SUCH_THREAD: u16 = 1094;
/// MySQL error 1141 ER_NONEXISTING_GRANT: "There is no such grant defined for user".
const ER_NONEXISTING_GRANT: u16 = 1141;
/// MariaDB error 1962 ER_CANNOT_REVOKE_ROLE: "Cannot revoke role 'r' from: 'u'@'h'" — what
/// MariaDB answers when the role is not granted to the account.
const ER_CANNOT_REVOKE_ROLE: u16 = 1962;

/// Accounts the servers create for themselves; never reported as drift.
const SYSTEM_ACCOUNTS: &[&str] = &[
    "mariadb.sys",
    "mysql.sys",
    "mysql.session",
    "mysql.infoschema",
];

fn check(name: &str, what: &str, max: usize) -> Result<(), ConnectorError> {
    let bad = |why: String| {
        Err(ConnectorError::InvalidIdentifier(format!(
            "a MySQL {what} {why}"
        )))
    };
    if name.is_empty() {
        return bad("must not be empty".into());
    }
    if name.contains('\0') {
        return bad("must not contain NUL".into());
    }
    let chars = name.chars().count();
    if chars > max {
        return bad(format!(
            "is limited to {max} characters (this one has {chars})"
        ));
    }
    if name.ends_with(' ') {
        return bad("must not end with a space (the server would drop it)".into());
    }
    if name.chars().any(|c| c as u32 > 0xFFFF) {
        return bad("must not contain characters outside the Basic Multilingual Plane".into());
    }
    Ok(())
}

fn backtick(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// Quotes a role or user name: `` ` `` + name with every `` ` `` doubled + `` ` ``.
/// Backticks work whatever the `sql_mode` (unlike `'...'`, whose backslash handling depends
/// on `NO_BACKSLASH_ESCAPES`). Refuses empty names, NUL, more than [`MAX_IDENT_CHARS`]
/// characters, a trailing space and characters outside the BMP.
pub fn quote_ident(name: &str) -> Result<String, ConnectorError> {
    check(name, "role or user name", MAX_IDENT_CHARS)?;
    Ok(backtick(name))
}

/// Quotes the host part of an account the same way (limit [`MAX_HOST_CHARS`]).
pub fn quote_host(host: &str) -> Result<String, ConnectorError> {
    check(host, "host name", MAX_HOST_CHARS)?;
    Ok(backtick(host))
}

/// `` `user`@`host` ``.
pub fn account(user: &str, host: &str) -> Result<String, ConnectorError> {
    Ok(format!("{}@{}", quote_ident(user)?, quote_host(host)?))
}

/// Which server the pool talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    MariaDb,
    MySql,
}

impl Flavour {
    /// From `SELECT VERSION()`.
    pub fn from_version(version: &str) -> Self {
        if version.to_ascii_lowercase().contains("mariadb") {
            Flavour::MariaDb
        } else {
            Flavour::MySql
        }
    }
}

/// `GRANT `role` TO `user`@`host``.
pub fn grant_sql(db_role: &str, user: &str, host: &str) -> Result<String, ConnectorError> {
    Ok(format!(
        "GRANT {} TO {}",
        quote_ident(db_role)?,
        account(user, host)?
    ))
}

/// `REVOKE `role` FROM `user`@`host``.
pub fn revoke_sql(db_role: &str, user: &str, host: &str) -> Result<String, ConnectorError> {
    Ok(format!(
        "REVOKE {} FROM {}",
        quote_ident(db_role)?,
        account(user, host)?
    ))
}

/// The statement that sets the account's default role(s). MariaDB: `role` (or NONE when
/// `None`); MySQL 8: always `ALL` granted roles.
pub fn set_default_role_sql(
    flavour: Flavour,
    db_role: Option<&str>,
    user: &str,
    host: &str,
) -> Result<String, ConnectorError> {
    let acct = account(user, host)?;
    Ok(match flavour {
        Flavour::MariaDb => match db_role {
            Some(r) => format!("SET DEFAULT ROLE {} FOR {acct}", quote_ident(r)?),
            None => format!("SET DEFAULT ROLE NONE FOR {acct}"),
        },
        Flavour::MySql => format!("SET DEFAULT ROLE ALL TO {acct}"),
    })
}

/// `KILL CONNECTION <id>`: the id is an integer read from the server.
pub fn kill_sql(id: u64) -> String {
    format!("KILL CONNECTION {id}")
}

const PING_SQL: &str = "SELECT 1";
const VERSION_SQL: &str = "SELECT VERSION()";
// `is_role` of MariaDB's `mysql.user` view is computed with the collation the view was created
// with (utf8mb4_general_ci), which conflicts with the driver's connection collation
// (utf8mb4_unicode_ci) when compared to a literal: compare it as bytes.
const ACCOUNTS_MARIADB_SQL: &str =
    "SELECT User, Host FROM mysql.user WHERE User = ? AND is_role = BINARY 'N' ORDER BY Host";
const ACCOUNTS_MYSQL_SQL: &str = "SELECT User, Host FROM mysql.user WHERE User = ? ORDER BY Host";
const ROLE_EXISTS_MARIADB_SQL: &str =
    "SELECT 1 FROM mysql.user WHERE User = ? AND is_role = BINARY 'Y'";
/// MySQL 8 roles are locked accounts without a password: any account with the name counts.
const ROLE_EXISTS_MYSQL_SQL: &str = "SELECT 1 FROM mysql.user WHERE User = ?";
/// Members of a MariaDB role: accounts (Host <> ''; role-to-role grants have an empty Host)
/// holding it WITHOUT admin option. MariaDB gives the account that ran CREATE ROLE the role
/// with ADMIN OPTION (that is how it may grant it); JITEA never grants with admin option, so
/// an admin-option holder is an administrator of the role, not a member JITEA manages.
const MEMBERS_MARIADB_SQL: &str = "SELECT DISTINCT User FROM mysql.roles_mapping \
     WHERE Role = ? AND Admin_option = 'N' AND Host <> '' ORDER BY User";
const MEMBERS_MYSQL_SQL: &str = "SELECT DISTINCT TO_USER FROM mysql.role_edges \
     WHERE FROM_USER = ? AND WITH_ADMIN_OPTION = 'N' ORDER BY TO_USER";
const DEFAULT_ROLE_MARIADB_SQL: &str =
    "SELECT default_role FROM mysql.user WHERE User = ? AND Host = ?";
const OTHER_ROLE_MARIADB_SQL: &str = "SELECT Role FROM mysql.roles_mapping \
     WHERE User = ? AND Host = ? AND Role <> ? ORDER BY Role LIMIT 1";
const SESSIONS_SQL: &str = "SELECT CAST(ID AS UNSIGNED) FROM information_schema.PROCESSLIST \
     WHERE USER = ? AND ID <> CONNECTION_ID()";
const ROLE_NAMES_MARIADB_SQL: &str = "SELECT User FROM mysql.user WHERE is_role = BINARY 'Y'";
const ROLE_NAMES_MYSQL_SQL: &str = "SELECT DISTINCT FROM_USER FROM mysql.role_edges";
const TABLE_PRIVILEGES_SQL: &str =
    "SELECT GRANTEE, CONCAT(TABLE_SCHEMA, '.', TABLE_NAME), PRIVILEGE_TYPE \
     FROM information_schema.TABLE_PRIVILEGES";
const SCHEMA_PRIVILEGES_SQL: &str = "SELECT GRANTEE, CONCAT(TABLE_SCHEMA, '.*'), PRIVILEGE_TYPE \
     FROM information_schema.SCHEMA_PRIVILEGES";

const END_SESSIONS_WAIT: Duration = Duration::from_secs(5);

/// Splits an `information_schema` GRANTEE (`'user'@'host'`, quotes inside not escaped).
pub fn parse_grantee(grantee: &str) -> Option<(String, String)> {
    let inner = grantee.strip_prefix('\'')?.strip_suffix('\'')?;
    let at = inner.rfind("'@'")?;
    Some((inner[..at].to_string(), inner[at + 3..].to_string()))
}

/// The MySQL/MariaDB connector. Keeps one small pool per target and the server flavour
/// detected when the pool was opened.
#[derive(Default)]
pub struct MysqlConnector {
    pools: PoolCache<(MySqlPool, Flavour)>,
}

/// Reads a text column whatever its collation (the grant tables are `utf8mb3_bin`, which
/// the driver's `String` decoding does not accept).
fn text(row: &sqlx_oldapi::mysql::MySqlRow, i: usize) -> Result<String, ConnectorError> {
    let bytes: Option<Vec<u8>> = row.try_get(i).map_err(map_sqlx_error)?;
    Ok(String::from_utf8_lossy(&bytes.unwrap_or_default()).into_owned())
}

fn db_number(e: &sqlx_oldapi::Error) -> Option<u16> {
    match e {
        sqlx_oldapi::Error::Database(db) => db
            .try_downcast_ref::<sqlx_oldapi::mysql::MySqlDatabaseError>()
            .map(|m| m.number()),
        _ => None,
    }
}

impl MysqlConnector {
    pub fn new() -> Self {
        Self::default()
    }

    async fn pool(&self, target: &TargetRef) -> Result<(MySqlPool, Flavour), ConnectorError> {
        self.pools
            .get(target, |url| async move {
                let pool = pool_options::<MySql>()
                    .connect(&url)
                    .await
                    .map_err(connect_error)?;
                let row = sqlx_oldapi::query(VERSION_SQL)
                    .fetch_one(&pool)
                    .await
                    .map_err(connect_error)?;
                let version = text(&row, 0)?;
                Ok((pool, Flavour::from_version(&version)))
            })
            .await
    }

    /// Runs one statement (no parameters) as a prepared statement, or through the text
    /// protocol when the server cannot prepare it. Returns the raw driver error.
    async fn exec(pool: &MySqlPool, sql: &str) -> Result<(), sqlx_oldapi::Error> {
        match sqlx_oldapi::query(sql).execute(pool).await {
            Err(e) if db_number(&e) == Some(ER_UNSUPPORTED_PS) => {
                pool.execute(sql).await.map(|_| ())
            }
            other => other.map(|_| ()),
        }
    }

    async fn strings(
        pool: &MySqlPool,
        sql: &str,
        binds: &[&str],
    ) -> Result<Vec<String>, ConnectorError> {
        let mut q = sqlx_oldapi::query(sql);
        for b in binds {
            q = q.bind(*b);
        }
        let rows = q.fetch_all(pool).await.map_err(map_sqlx_error)?;
        rows.iter().map(|r| text(r, 0)).collect()
    }

    /// Every account (`user`, `host`) of `login`; `Refused` when there is none.
    async fn accounts(
        pool: &MySqlPool,
        flavour: Flavour,
        login: &str,
    ) -> Result<Vec<(String, String)>, ConnectorError> {
        let sql = match flavour {
            Flavour::MariaDb => ACCOUNTS_MARIADB_SQL,
            Flavour::MySql => ACCOUNTS_MYSQL_SQL,
        };
        let rows = sqlx_oldapi::query(sql)
            .bind(login)
            .fetch_all(pool)
            .await
            .map_err(map_sqlx_error)?;
        let accounts = rows
            .iter()
            .map(|r| Ok((text(r, 0)?, text(r, 1)?)))
            .collect::<Result<Vec<_>, ConnectorError>>()?;
        if accounts.is_empty() {
            return Err(ConnectorError::Refused(format!(
                "login {login} does not exist on the target"
            )));
        }
        Ok(accounts)
    }
}

#[async_trait]
impl Connector for MysqlConnector {
    fn kind(&self) -> TargetKind {
        TargetKind::Mysql
    }

    async fn ping(&self, target: &TargetRef) -> Result<(), ConnectorError> {
        let (pool, _) = self.pool(target).await?;
        sqlx_oldapi::query(PING_SQL)
            .execute(&pool)
            .await
            .map_err(map_sqlx_error)?;
        Ok(())
    }

    async fn role_exists(&self, target: &TargetRef, db_role: &str) -> Result<bool, ConnectorError> {
        quote_ident(db_role)?;
        let (pool, flavour) = self.pool(target).await?;
        let sql = match flavour {
            Flavour::MariaDb => ROLE_EXISTS_MARIADB_SQL,
            Flavour::MySql => ROLE_EXISTS_MYSQL_SQL,
        };
        let row = sqlx_oldapi::query(sql)
            .bind(db_role)
            .fetch_optional(&pool)
            .await
            .map_err(map_sqlx_error)?;
        Ok(row.is_some())
    }

    /// Grants the role to every account of the login and makes it apply at the next login.
    /// Granting a role that is already granted succeeds on both servers.
    async fn add_member(
        &self,
        target: &TargetRef,
        db_role: &str,
        login: &str,
    ) -> Result<(), ConnectorError> {
        quote_ident(db_role)?;
        quote_ident(login)?;
        let (pool, flavour) = self.pool(target).await?;
        for (user, host) in Self::accounts(&pool, flavour, login).await? {
            Self::exec(&pool, &grant_sql(db_role, &user, &host)?)
                .await
                .map_err(map_sqlx_error)?;
            let sql = set_default_role_sql(flavour, Some(db_role), &user, &host)?;
            Self::exec(&pool, &sql).await.map_err(map_sqlx_error)?;
        }
        Ok(())
    }

    /// Revokes the role from every account of the login; "not granted" is success. On
    /// MariaDB, a default role that was the dropped one is moved to another held role or NONE
    /// (checked even when the role was not granted, to finish an interrupted earlier drop).
    async fn drop_member(
        &self,
        target: &TargetRef,
        db_role: &str,
        login: &str,
    ) -> Result<(), ConnectorError> {
        quote_ident(db_role)?;
        quote_ident(login)?;
        let (pool, flavour) = self.pool(target).await?;
        // A login that does not exist (any more) holds no role: nothing to remove.
        let accounts = match Self::accounts(&pool, flavour, login).await {
            Ok(a) => a,
            Err(ConnectorError::Refused(_)) => return Ok(()),
            Err(e) => return Err(e),
        };
        for (user, host) in accounts {
            match Self::exec(&pool, &revoke_sql(db_role, &user, &host)?).await {
                Ok(()) => {}
                Err(e)
                    if matches!(
                        db_number(&e),
                        Some(ER_NONEXISTING_GRANT | ER_CANNOT_REVOKE_ROLE)
                    ) => {}
                Err(e) => return Err(map_sqlx_error(e)),
            }
            match flavour {
                Flavour::MariaDb => {
                    let current =
                        Self::strings(&pool, DEFAULT_ROLE_MARIADB_SQL, &[&user, &host]).await?;
                    if current.iter().any(|r| r == db_role) {
                        let other =
                            Self::strings(&pool, OTHER_ROLE_MARIADB_SQL, &[&user, &host, db_role])
                                .await?;
                        let sql = set_default_role_sql(
                            flavour,
                            other.first().map(String::as_str),
                            &user,
                            &host,
                        )?;
                        Self::exec(&pool, &sql).await.map_err(map_sqlx_error)?;
                    }
                }
                Flavour::MySql => {
                    let sql = set_default_role_sql(flavour, None, &user, &host)?;
                    Self::exec(&pool, &sql).await.map_err(map_sqlx_error)?;
                }
            }
        }
        Ok(())
    }

    /// Kills every connection of the login (except our own) and waits up to 5 s until they
    /// are gone. A connection that ended in between ("unknown thread") is fine.
    async fn end_sessions(&self, target: &TargetRef, login: &str) -> Result<(), ConnectorError> {
        quote_ident(login)?;
        let (pool, _) = self.pool(target).await?;
        let ids: Vec<u64> = sqlx_oldapi::query_scalar(SESSIONS_SQL)
            .bind(login)
            .fetch_all(&pool)
            .await
            .map_err(map_sqlx_error)?;
        for id in &ids {
            match Self::exec(&pool, &kill_sql(*id)).await {
                Ok(()) => {}
                Err(e) if db_number(&e) == Some(ER_NO_SUCH_THREAD) => {}
                Err(e) => return Err(map_sqlx_error(e)),
            }
        }
        if ids.is_empty() {
            return Ok(());
        }
        let placeholders = vec!["?"; ids.len()].join(", ");
        let still = format!(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID IN ({placeholders})"
        );
        let deadline = Instant::now() + END_SESSIONS_WAIT;
        loop {
            let mut q = sqlx_oldapi::query_scalar::<_, i64>(&still);
            for id in &ids {
                q = q.bind(*id);
            }
            let left = q.fetch_one(&pool).await.map_err(map_sqlx_error)?;
            if left == 0 {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(ConnectorError::Refused(format!(
                    "{left} session(s) of the login were still running {} s after KILL",
                    END_SESSIONS_WAIT.as_secs()
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn members(
        &self,
        target: &TargetRef,
        db_role: &str,
    ) -> Result<Vec<String>, ConnectorError> {
        quote_ident(db_role)?;
        let (pool, flavour) = self.pool(target).await?;
        let sql = match flavour {
            Flavour::MariaDb => MEMBERS_MARIADB_SQL,
            Flavour::MySql => MEMBERS_MYSQL_SQL,
        };
        Self::strings(&pool, sql, &[db_role]).await
    }

    /// Table privileges (`schema.table`) and database-wide privileges (`schema.*`) granted
    /// directly to accounts that are neither roles nor the servers' own system accounts.
    async fn direct_grants(&self, target: &TargetRef) -> Result<Vec<DirectGrant>, ConnectorError> {
        let (pool, flavour) = self.pool(target).await?;
        let roles_sql = match flavour {
            Flavour::MariaDb => ROLE_NAMES_MARIADB_SQL,
            Flavour::MySql => ROLE_NAMES_MYSQL_SQL,
        };
        let roles: HashSet<String> = Self::strings(&pool, roles_sql, &[])
            .await?
            .into_iter()
            .collect();
        let mut out = Vec::new();
        for sql in [TABLE_PRIVILEGES_SQL, SCHEMA_PRIVILEGES_SQL] {
            let rows = sqlx_oldapi::query(sql)
                .fetch_all(&pool)
                .await
                .map_err(map_sqlx_error)?;
            for r in &rows {
                let Some((user, host)) = parse_grantee(&text(r, 0)?) else {
                    continue;
                };
                // MariaDB shows roles as 'role'@''.
                if host.is_empty()
                    || roles.contains(&user)
                    || SYSTEM_ACCOUNTS.contains(&user.as_str())
                {
                    continue;
                }
                out.push(DirectGrant {
                    login: user,
                    object: text(r, 1)?,
                    privilege: text(r, 2)?,
                });
            }
        }
        out.sort_by(|a, b| {
            (&a.login, &a.object, &a.privilege).cmp(&(&b.login, &b.object, &b.privilege))
        });
        out.dedup();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn unquote(q: &str) -> Option<String> {
        let inner = q.strip_prefix('`')?.strip_suffix('`')?;
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '`' && chars.next() != Some('`') {
                return None;
            }
            out.push(c);
        }
        Some(out)
    }

    #[test]
    fn quoting_table() {
        let ok: &[(&str, &str)] = &[
            ("app_reader", "`app_reader`"),
            ("a`b", "`a``b`"),
            ("`", "````"),
            ("x`; DROP USER root; --", "`x``; DROP USER root; --`"),
            ("it's", "`it's`"),
            ("\"dq\"", "`\"dq\"`"),
            ("[br]", "`[br]`"),
            ("a;b", "`a;b`"),
            ("a--b", "`a--b`"),
            ("/* c */", "`/* c */`"),
            ("back\\slash\\", "`back\\slash\\`"),
            ("$$", "`$$`"),
            ("%", "`%`"),
            ("é日", "`é日`"),
            (" lead", "` lead`"),
        ];
        for (name, want) in ok {
            assert_eq!(quote_ident(name).unwrap(), *want, "{name:?}");
            assert_eq!(unquote(want).as_deref(), Some(*name));
        }
        let at_limit = "日".repeat(MAX_IDENT_CHARS);
        assert!(quote_ident(&at_limit).is_ok());
        for bad in [
            String::new(),
            "a\0".into(),
            "a".repeat(MAX_IDENT_CHARS + 1),
            "trailing ".into(),
            "crab🦀".into(),
        ] {
            assert!(
                matches!(quote_ident(&bad), Err(ConnectorError::InvalidIdentifier(_))),
                "{bad:?}"
            );
        }
        assert_eq!(quote_host("%").unwrap(), "`%`");
        assert_eq!(quote_host("10.0.0.%").unwrap(), "`10.0.0.%`");
        assert!(quote_host(&"h".repeat(MAX_HOST_CHARS)).is_ok());
        assert!(quote_host(&"h".repeat(MAX_HOST_CHARS + 1)).is_err());
        assert!(quote_host("").is_err());
    }

    #[test]
    fn statements() {
        assert_eq!(
            grant_sql("app_reader", "alice", "%").unwrap(),
            "GRANT `app_reader` TO `alice`@`%`"
        );
        assert_eq!(
            revoke_sql("r`x", "a b", "localhost").unwrap(),
            "REVOKE `r``x` FROM `a b`@`localhost`"
        );
        assert_eq!(
            set_default_role_sql(Flavour::MariaDb, Some("r"), "u", "%").unwrap(),
            "SET DEFAULT ROLE `r` FOR `u`@`%`"
        );
        assert_eq!(
            set_default_role_sql(Flavour::MariaDb, None, "u", "%").unwrap(),
            "SET DEFAULT ROLE NONE FOR `u`@`%`"
        );
        assert_eq!(
            set_default_role_sql(Flavour::MySql, Some("r"), "u", "h").unwrap(),
            "SET DEFAULT ROLE ALL TO `u`@`h`"
        );
        assert_eq!(kill_sql(42), "KILL CONNECTION 42");
        assert_eq!(
            Flavour::from_version("10.11.19-MariaDB-0+deb12u1"),
            Flavour::MariaDb
        );
        assert_eq!(Flavour::from_version("8.0.36"), Flavour::MySql);
    }

    #[test]
    fn grantees() {
        assert_eq!(parse_grantee("'bob'@'%'"), Some(("bob".into(), "%".into())));
        assert_eq!(
            parse_grantee("'jt'x@u'@'local'host'"),
            Some(("jt'x@u".into(), "local'host".into()))
        );
        assert_eq!(parse_grantee("'role'@''"), Some(("role".into(), "".into())));
        assert_eq!(parse_grantee("garbage"), None);
    }

    proptest! {
        #[test]
        fn quoted_round_trips(name in "\\PC{0,100}") {
            match quote_ident(&name) {
                Ok(q) => {
                    prop_assert!(!name.is_empty() && name.chars().count() <= MAX_IDENT_CHARS);
                    prop_assert_eq!(unquote(&q), Some(name));
                }
                Err(_) => prop_assert!(
                    name.is_empty()
                        || name.chars().count() > MAX_IDENT_CHARS
                        || name.ends_with(' ')
                        || name.chars().any(|c| c as u32 > 0xFFFF)
                ),
            }
        }

        #[test]
        fn hostile_names_never_escape(name in "[`'\";\\-/*\\\\$ a-zé日\\[\\]]{1,40}") {
            if let Ok(q) = quote_ident(&name) {
                let inner = &q[1..q.len() - 1];
                prop_assert_eq!(inner.replace("``", "").matches('`').count(), 0);
                prop_assert_eq!(unquote(&q), Some(name));
            }
        }

        #[test]
        fn over_limit_is_always_rejected(name in "[a-z`é]{81,120}") {
            prop_assert!(quote_ident(&name).is_err());
        }
    }
}
