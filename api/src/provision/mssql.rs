//! SQL Server target: JITEA db roles are database roles of the database named in the
//! connection URL, and a JITEA login is the database user of the same name (also its server
//! login name, for ending sessions).
//!
//! SQL Server cannot run on the development machine, so every statement this connector sends
//! comes from a small pure function or constant below, unit-tested for its exact text, and
//! [`all_statement_templates`] renders each one so CI can syntax-check them with sqlglot
//! (`scripts/check_mssql_sql.py`). Identifiers go into SQL text through [`quote_ident`] and
//! only through it; values are bound `@pN` parameters.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use jitea_shared::TargetKind;
use sqlx_oldapi::mssql::{Mssql, MssqlPool};
use sqlx_oldapi::Row;

use super::sql_common::{connect_error, map_sqlx_error, pool_options, PoolCache};
use super::{Connector, ConnectorError, DirectGrant, TargetRef};

/// Longest name accepted, in UTF-16 code units (`sysname` is `NVARCHAR(128)`; `QUOTENAME`
/// returns NULL beyond it). A character outside the BMP counts twice, as it does in SQL Server.
pub const MAX_IDENT_UTF16: usize = 128;

/// Quotes a SQL Server identifier: `[` + name with every `]` doubled + `]`.
///
/// Refuses empty names, NUL, more than [`MAX_IDENT_UTF16`] UTF-16 code units, and a trailing
/// space (SQL Server compares names ignoring trailing spaces, so `bob ` would name `bob`).
pub fn quote_ident(name: &str) -> Result<String, ConnectorError> {
    let bad = |why: String| {
        Err(ConnectorError::InvalidIdentifier(format!(
            "a SQL Server name {why}"
        )))
    };
    if name.is_empty() {
        return bad("must not be empty".into());
    }
    if name.contains('\0') {
        return bad("must not contain NUL".into());
    }
    let units = name.encode_utf16().count();
    if units > MAX_IDENT_UTF16 {
        return bad(format!(
            "is limited to {MAX_IDENT_UTF16} characters (this one has {units} UTF-16 units)"
        ));
    }
    if name.ends_with(' ') {
        return bad("must not end with a space (SQL Server ignores trailing spaces)".into());
    }
    Ok(format!("[{}]", name.replace(']', "]]")))
}

/// `ALTER ROLE [role] ADD MEMBER [login]`.
pub fn add_member_sql(db_role: &str, login: &str) -> Result<String, ConnectorError> {
    Ok(format!(
        "ALTER ROLE {} ADD MEMBER {}",
        quote_ident(db_role)?,
        quote_ident(login)?
    ))
}

/// `ALTER ROLE [role] DROP MEMBER [login]`.
pub fn drop_member_sql(db_role: &str, login: &str) -> Result<String, ConnectorError> {
    Ok(format!(
        "ALTER ROLE {} DROP MEMBER {}",
        quote_ident(db_role)?,
        quote_ident(login)?
    ))
}

/// Direct membership of the user `@p2` in the role `@p1`.
///
/// Used instead of `IS_ROLEMEMBER(@p1, @p2)`, which returns NULL for an unknown user (an
/// `= 0` guard would then skip the ALTER and report success for a login that does not exist)
/// and also counts indirect membership (through a nested role or a Windows group), which
/// would skip a direct grant that JITEA must be able to revoke later.
pub const MEMBERSHIP_EXISTS_SQL: &str = "SELECT 1 FROM sys.database_role_members AS rm \
     JOIN sys.database_principals AS r ON r.principal_id = rm.role_principal_id \
     JOIN sys.database_principals AS m ON m.principal_id = rm.member_principal_id \
     WHERE r.name = @p1 AND m.name = @p2";

/// Idempotent add: `IF NOT EXISTS (<membership>) ALTER ROLE ... ADD MEMBER ...`, binds
/// `@p1` = role, `@p2` = login.
pub fn add_member_if_absent_sql(db_role: &str, login: &str) -> Result<String, ConnectorError> {
    Ok(format!(
        "IF NOT EXISTS ({MEMBERSHIP_EXISTS_SQL}) {}",
        add_member_sql(db_role, login)?
    ))
}

/// Idempotent drop: `IF EXISTS (<membership>) ALTER ROLE ... DROP MEMBER ...`, binds
/// `@p1` = role, `@p2` = login.
pub fn drop_member_if_present_sql(db_role: &str, login: &str) -> Result<String, ConnectorError> {
    Ok(format!(
        "IF EXISTS ({MEMBERSHIP_EXISTS_SQL}) {}",
        drop_member_sql(db_role, login)?
    ))
}

/// `KILL <session id>`: the id is an integer read from `sys.dm_exec_sessions`.
pub fn kill_sql(session_id: i32) -> String {
    format!("KILL {session_id}")
}

pub const PING_SQL: &str = "SELECT 1 AS ok";
/// Binds `@p1` = role.
pub const ROLE_EXISTS_SQL: &str =
    "SELECT 1 AS found FROM sys.database_principals WHERE type = 'R' AND name = @p1";
/// Direct members of role `@p1` that are not themselves roles.
pub const MEMBERS_SQL: &str = "SELECT m.name AS member_name FROM sys.database_role_members AS rm \
     JOIN sys.database_principals AS r ON r.principal_id = rm.role_principal_id \
     JOIN sys.database_principals AS m ON m.principal_id = rm.member_principal_id \
     WHERE r.name = @p1 AND m.type <> 'R' ORDER BY m.name";
/// User sessions of login `@p1`, except our own.
pub const SESSIONS_SQL: &str = "SELECT CAST(session_id AS INT) AS session_id \
     FROM sys.dm_exec_sessions \
     WHERE login_name = @p1 AND is_user_process = 1 AND session_id <> @@SPID";
/// Object permissions (class 1) granted (G, or W = with grant option) directly to user-like
/// principals: SQL users (S), Windows users (U) and groups (G), external users (E) and groups
/// (X). Object owners' implicit rights are not in `sys.database_permissions`.
pub const DIRECT_GRANTS_SQL: &str = "SELECT DISTINCT pr.name AS login_name, \
     OBJECT_SCHEMA_NAME(p.major_id) + N'.' + OBJECT_NAME(p.major_id) AS object_name, \
     p.permission_name AS privilege_name \
     FROM sys.database_permissions AS p \
     JOIN sys.database_principals AS pr ON pr.principal_id = p.grantee_principal_id \
     WHERE p.class = 1 AND p.state IN ('G', 'W') AND pr.type IN ('S', 'U', 'E', 'X', 'G') \
     AND OBJECT_NAME(p.major_id) IS NOT NULL \
     ORDER BY login_name, object_name, privilege_name";

/// One rendered example of every statement the connector can send (role `app_reader`,
/// login `alice`, session 53), for syntax checking.
pub fn all_statement_templates() -> Vec<String> {
    let (role, login) = ("app_reader", "alice");
    vec![
        PING_SQL.to_string(),
        ROLE_EXISTS_SQL.to_string(),
        MEMBERS_SQL.to_string(),
        add_member_sql(role, login).expect("valid names"),
        drop_member_sql(role, login).expect("valid names"),
        add_member_if_absent_sql(role, login).expect("valid names"),
        drop_member_if_present_sql(role, login).expect("valid names"),
        SESSIONS_SQL.to_string(),
        kill_sql(53),
        DIRECT_GRANTS_SQL.to_string(),
    ]
}

const END_SESSIONS_WAIT: Duration = Duration::from_secs(5);

/// The SQL Server connector. Keeps one small pool per target.
#[derive(Default)]
pub struct MssqlConnector {
    pools: PoolCache<MssqlPool>,
}

impl MssqlConnector {
    pub fn new() -> Self {
        Self::default()
    }

    async fn pool(&self, target: &TargetRef) -> Result<MssqlPool, ConnectorError> {
        self.pools
            .get(target, |url| async move {
                pool_options::<Mssql>()
                    .connect(&url)
                    .await
                    .map_err(connect_error)
            })
            .await
    }

    async fn names(pool: &MssqlPool, sql: &str, bind: &str) -> Result<Vec<String>, ConnectorError> {
        sqlx_oldapi::query_scalar::<_, String>(sql)
            .bind(bind)
            .fetch_all(pool)
            .await
            .map_err(map_sqlx_error)
    }
}

/// SQL Server error 6106: "Process ID n is not an active process ID." (already gone).
fn is_not_active_process(e: &sqlx_oldapi::Error) -> bool {
    matches!(e, sqlx_oldapi::Error::Database(db)
        if db.message().contains("is not an active process ID"))
}

#[async_trait]
impl Connector for MssqlConnector {
    fn kind(&self) -> TargetKind {
        TargetKind::Mssql
    }

    async fn ping(&self, target: &TargetRef) -> Result<(), ConnectorError> {
        let pool = self.pool(target).await?;
        sqlx_oldapi::query(PING_SQL)
            .execute(&pool)
            .await
            .map_err(map_sqlx_error)?;
        Ok(())
    }

    async fn role_exists(&self, target: &TargetRef, db_role: &str) -> Result<bool, ConnectorError> {
        quote_ident(db_role)?;
        let pool = self.pool(target).await?;
        let row = sqlx_oldapi::query(ROLE_EXISTS_SQL)
            .bind(db_role)
            .fetch_optional(&pool)
            .await
            .map_err(map_sqlx_error)?;
        Ok(row.is_some())
    }

    async fn add_member(
        &self,
        target: &TargetRef,
        db_role: &str,
        login: &str,
    ) -> Result<(), ConnectorError> {
        let sql = add_member_if_absent_sql(db_role, login)?;
        let pool = self.pool(target).await?;
        sqlx_oldapi::query(&sql)
            .bind(db_role)
            .bind(login)
            .execute(&pool)
            .await
            .map_err(map_sqlx_error)?;
        Ok(())
    }

    async fn drop_member(
        &self,
        target: &TargetRef,
        db_role: &str,
        login: &str,
    ) -> Result<(), ConnectorError> {
        let sql = drop_member_if_present_sql(db_role, login)?;
        let pool = self.pool(target).await?;
        sqlx_oldapi::query(&sql)
            .bind(db_role)
            .bind(login)
            .execute(&pool)
            .await
            .map_err(map_sqlx_error)?;
        Ok(())
    }

    /// Kills every user session of the login (except our own) and waits up to 5 s until they
    /// are gone: SQL Server caches role membership per connection.
    async fn end_sessions(&self, target: &TargetRef, login: &str) -> Result<(), ConnectorError> {
        quote_ident(login)?;
        let pool = self.pool(target).await?;
        let deadline = Instant::now() + END_SESSIONS_WAIT;
        loop {
            let ids: Vec<i32> = sqlx_oldapi::query(SESSIONS_SQL)
                .bind(login)
                .fetch_all(&pool)
                .await
                .map_err(map_sqlx_error)?
                .iter()
                .map(|r| r.try_get::<i32, _>(0))
                .collect::<Result<_, _>>()
                .map_err(map_sqlx_error)?;
            if ids.is_empty() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(ConnectorError::Refused(format!(
                    "{} session(s) of the login were still running {} s after KILL",
                    ids.len(),
                    END_SESSIONS_WAIT.as_secs()
                )));
            }
            for id in ids {
                match sqlx_oldapi::query(&kill_sql(id)).execute(&pool).await {
                    Ok(_) => {}
                    Err(e) if is_not_active_process(&e) => {}
                    Err(e) => return Err(map_sqlx_error(e)),
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn members(
        &self,
        target: &TargetRef,
        db_role: &str,
    ) -> Result<Vec<String>, ConnectorError> {
        quote_ident(db_role)?;
        let pool = self.pool(target).await?;
        Self::names(&pool, MEMBERS_SQL, db_role).await
    }

    async fn direct_grants(&self, target: &TargetRef) -> Result<Vec<DirectGrant>, ConnectorError> {
        let pool = self.pool(target).await?;
        let rows = sqlx_oldapi::query(DIRECT_GRANTS_SQL)
            .fetch_all(&pool)
            .await
            .map_err(map_sqlx_error)?;
        rows.iter()
            .map(|r| {
                Ok(DirectGrant {
                    login: r.try_get(0)?,
                    object: r.try_get(1)?,
                    privilege: r.try_get(2)?,
                })
            })
            .collect::<Result<_, sqlx_oldapi::Error>>()
            .map_err(map_sqlx_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn unquote(q: &str) -> Option<String> {
        let inner = q.strip_prefix('[')?.strip_suffix(']')?;
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == ']' && chars.next() != Some(']') {
                return None;
            }
            out.push(c);
        }
        Some(out)
    }

    #[test]
    fn quoting_table() {
        let ok: &[(&str, &str)] = &[
            ("app_reader", "[app_reader]"),
            ("a]b", "[a]]b]"),
            ("]", "[]]]"),
            ("[", "[[]"),
            ("[x]", "[[x]]]"),
            ("x]; DROP TABLE t; --", "[x]]; DROP TABLE t; --]"),
            ("a;b", "[a;b]"),
            ("a--b", "[a--b]"),
            ("/* c */", "[/* c */]"),
            ("it's", "[it's]"),
            ("\"dq\"", "[\"dq\"]"),
            ("`bt`", "[`bt`]"),
            ("$$", "[$$]"),
            ("back\\slash", "[back\\slash]"),
            ("DOMAIN\\user", "[DOMAIN\\user]"),
            ("é日🦀", "[é日🦀]"),
        ];
        for (name, want) in ok {
            assert_eq!(quote_ident(name).unwrap(), *want, "{name:?}");
            assert_eq!(unquote(want).as_deref(), Some(*name));
        }
        assert!(quote_ident(&"a".repeat(128)).is_ok());
        assert!(quote_ident(&"日".repeat(128)).is_ok());
        assert!(quote_ident(&"🦀".repeat(64)).is_ok());
        for bad in [
            String::new(),
            "a\0b".into(),
            "a".repeat(129),
            "日".repeat(129),
            format!("{}a", "🦀".repeat(64)),
            "trailing ".into(),
        ] {
            assert!(
                matches!(quote_ident(&bad), Err(ConnectorError::InvalidIdentifier(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn statement_texts() {
        assert_eq!(
            add_member_sql("app_reader", "alice").unwrap(),
            "ALTER ROLE [app_reader] ADD MEMBER [alice]"
        );
        assert_eq!(
            drop_member_sql("app_reader", "alice").unwrap(),
            "ALTER ROLE [app_reader] DROP MEMBER [alice]"
        );
        assert_eq!(
            drop_member_sql("r]x", "DOM\\a b").unwrap(),
            "ALTER ROLE [r]]x] DROP MEMBER [DOM\\a b]"
        );
        let membership = "SELECT 1 FROM sys.database_role_members AS rm \
             JOIN sys.database_principals AS r ON r.principal_id = rm.role_principal_id \
             JOIN sys.database_principals AS m ON m.principal_id = rm.member_principal_id \
             WHERE r.name = @p1 AND m.name = @p2";
        assert_eq!(MEMBERSHIP_EXISTS_SQL, membership);
        assert_eq!(
            add_member_if_absent_sql("app_reader", "alice").unwrap(),
            format!("IF NOT EXISTS ({membership}) ALTER ROLE [app_reader] ADD MEMBER [alice]")
        );
        assert_eq!(
            drop_member_if_present_sql("app_reader", "alice").unwrap(),
            format!("IF EXISTS ({membership}) ALTER ROLE [app_reader] DROP MEMBER [alice]")
        );
        assert_eq!(kill_sql(53), "KILL 53");
        assert_eq!(PING_SQL, "SELECT 1 AS ok");
        assert_eq!(
            ROLE_EXISTS_SQL,
            "SELECT 1 AS found FROM sys.database_principals WHERE type = 'R' AND name = @p1"
        );
        assert_eq!(
            MEMBERS_SQL,
            "SELECT m.name AS member_name FROM sys.database_role_members AS rm \
             JOIN sys.database_principals AS r ON r.principal_id = rm.role_principal_id \
             JOIN sys.database_principals AS m ON m.principal_id = rm.member_principal_id \
             WHERE r.name = @p1 AND m.type <> 'R' ORDER BY m.name"
        );
        assert_eq!(
            SESSIONS_SQL,
            "SELECT CAST(session_id AS INT) AS session_id FROM sys.dm_exec_sessions \
             WHERE login_name = @p1 AND is_user_process = 1 AND session_id <> @@SPID"
        );
        assert_eq!(
            DIRECT_GRANTS_SQL,
            "SELECT DISTINCT pr.name AS login_name, \
             OBJECT_SCHEMA_NAME(p.major_id) + N'.' + OBJECT_NAME(p.major_id) AS object_name, \
             p.permission_name AS privilege_name \
             FROM sys.database_permissions AS p \
             JOIN sys.database_principals AS pr ON pr.principal_id = p.grantee_principal_id \
             WHERE p.class = 1 AND p.state IN ('G', 'W') \
             AND pr.type IN ('S', 'U', 'E', 'X', 'G') \
             AND OBJECT_NAME(p.major_id) IS NOT NULL \
             ORDER BY login_name, object_name, privilege_name"
        );
        assert!(add_member_if_absent_sql("", "alice").is_err());
        assert!(drop_member_if_present_sql("r", &"x".repeat(129)).is_err());
        assert_eq!(all_statement_templates().len(), 10);
    }

    /// Writes every statement (plus the membership statements rendered with hostile names)
    /// to `$JITEA_MSSQL_SQL_DUMP/*.sql` for `scripts/check_mssql_sql.py`.
    #[test]
    fn dump_statements_for_syntax_check() {
        let Some(dir) = std::env::var_os("JITEA_MSSQL_SQL_DUMP") else {
            return;
        };
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut statements = all_statement_templates();
        for (role, login) in [
            ("r]; DROP TABLE t --", "a'b\"c /* x */"),
            ("[odd] name", "DOMAIN\\bob é日🦀"),
        ] {
            statements.push(add_member_if_absent_sql(role, login).unwrap());
            statements.push(drop_member_if_present_sql(role, login).unwrap());
        }
        for (i, s) in statements.iter().enumerate() {
            let path = dir.join(format!("mssql_connector_{i:02}.sql"));
            std::fs::write(&path, format!("{s};\n")).unwrap();
        }
    }

    proptest! {
        #[test]
        fn quoted_round_trips(name in "\\PC{0,140}") {
            match quote_ident(&name) {
                Ok(q) => {
                    prop_assert!(!name.is_empty() && name.encode_utf16().count() <= MAX_IDENT_UTF16);
                    prop_assert_eq!(unquote(&q), Some(name));
                }
                Err(_) => prop_assert!(
                    name.is_empty()
                        || name.encode_utf16().count() > MAX_IDENT_UTF16
                        || name.ends_with(' ')
                ),
            }
        }

        #[test]
        fn hostile_names_never_escape(name in "[\\]\\['\";\\-/*\\\\$` a-zé日🦀]{1,40}") {
            if let Ok(q) = quote_ident(&name) {
                let inner = &q[1..q.len() - 1];
                prop_assert_eq!(inner.replace("]]", "").matches(']').count(), 0);
                prop_assert_eq!(unquote(&q), Some(name));
            }
        }

        #[test]
        fn over_limit_is_always_rejected(name in "[a-z\\]é🦀]{129,160}") {
            prop_assert!(quote_ident(&name).is_err());
        }
    }
}
