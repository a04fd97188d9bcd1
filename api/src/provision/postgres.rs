//! PostgreSQL target: JITEA db roles are PostgreSQL roles, logins are login roles, and a grant
//! is a role membership (`GRANT role TO login`).
//!
//! Every identifier goes into SQL text through [`quote_ident`] and only through it; every value
//! (catalog lookups) is a bound `$n` parameter. Statements are sent with the extended protocol,
//! which accepts exactly one statement per message, as a second line of defence.
//!
//! This module also holds the small pieces the other SQL connectors share (pool cache, error
//! mapping, message sanitising), see the end of the file.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use jitea_shared::TargetKind;
use sqlx_oldapi::postgres::{PgPool, PgPoolOptions};
use sqlx_oldapi::Row;

#[cfg(test)]
use super::sql_common::sanitize_message;
use super::sql_common::{connect_error, map_sqlx_error, pool_options, PoolCache};
use super::{Connector, ConnectorError, DirectGrant, TargetRef};

/// PostgreSQL's identifier limit in bytes (NAMEDATALEN - 1). Longer names are silently
/// truncated by the server, so two long names could end up as the same role: refused here.
pub const MAX_IDENT_BYTES: usize = 63;

/// Quotes a PostgreSQL identifier: `"` + name with every `"` doubled + `"`.
///
/// Refuses empty names, names containing NUL and names over [`MAX_IDENT_BYTES`] bytes.
pub fn quote_ident(name: &str) -> Result<String, ConnectorError> {
    if name.is_empty() {
        return Err(ConnectorError::InvalidIdentifier(
            "a PostgreSQL role name must not be empty".into(),
        ));
    }
    if name.contains('\0') {
        return Err(ConnectorError::InvalidIdentifier(
            "a PostgreSQL role name must not contain NUL".into(),
        ));
    }
    if name.len() > MAX_IDENT_BYTES {
        return Err(ConnectorError::InvalidIdentifier(format!(
            "a PostgreSQL role name is limited to {MAX_IDENT_BYTES} bytes (this one has {}); \
             longer names would be silently truncated",
            name.len()
        )));
    }
    Ok(format!("\"{}\"", name.replace('"', "\"\"")))
}

/// `GRANT "role" TO "login"`.
pub fn grant_sql(db_role: &str, login: &str) -> Result<String, ConnectorError> {
    Ok(format!(
        "GRANT {} TO {}",
        quote_ident(db_role)?,
        quote_ident(login)?
    ))
}

/// `REVOKE "role" FROM "login"`.
pub fn revoke_sql(db_role: &str, login: &str) -> Result<String, ConnectorError> {
    Ok(format!(
        "REVOKE {} FROM {}",
        quote_ident(db_role)?,
        quote_ident(login)?
    ))
}

const PING_SQL: &str = "SELECT 1";
const ROLE_EXISTS_SQL: &str = "SELECT 1 FROM pg_roles WHERE rolname = $1";
const BOTH_EXIST_SQL: &str = "SELECT count(*) FROM pg_roles WHERE rolname = $1 OR rolname = $2";
/// Direct members that can log in (nested group roles are a deliberate design of the target's
/// owner, not drift, so they are not reported).
const MEMBERS_SQL: &str = "SELECT DISTINCT m.rolname::text AS login \
     FROM pg_auth_members am \
     JOIN pg_roles r ON r.oid = am.roleid \
     JOIN pg_roles m ON m.oid = am.member \
     WHERE r.rolname = $1 AND m.rolcanlogin \
     ORDER BY 1";
const TERMINATE_SQL: &str = "SELECT pid, pg_terminate_backend(pid) AS terminated \
     FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()";
/// Many names are matched through `IN (SELECT unnest($1))` (a hash semi-join), never
/// `= ANY($1)`: that compares every catalog row with every array element, and with 10,000
/// login roles and a batch of 2,000 names it took 400 ms per query here, growing with both.
const TERMINATE_MANY_SQL: &str = "SELECT pid, pg_terminate_backend(pid) AS terminated \
     FROM pg_stat_activity WHERE usename IN (SELECT unnest($1::text[])) AND pid <> pg_backend_pid()";
const EXISTING_SQL: &str =
    "SELECT rolname::text FROM pg_roles WHERE rolname IN (SELECT unnest($1::text[]))";
/// Logins revoked per statement when many grants end together.
const REVOKE_CHUNK: usize = 1000;
const STILL_RUNNING_SQL: &str = "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1)";
/// Object privileges in `pg_class.relacl` granted to login roles that are not superusers,
/// without the owner's own privileges (grantor = grantee). Read from the catalog rather than
/// `information_schema.table_privileges`, which only shows rows involving roles the
/// connecting user is a member of — a non-superuser JITEA account would see almost nothing.
const DIRECT_GRANTS_SQL: &str = "SELECT r.rolname::text AS login, \
     (n.nspname || '.' || c.relname)::text AS object, \
     a.privilege_type::text AS privilege \
     FROM pg_class c \
     JOIN pg_namespace n ON n.oid = c.relnamespace \
     CROSS JOIN LATERAL aclexplode(c.relacl) a \
     JOIN pg_roles r ON r.oid = a.grantee \
     WHERE c.relacl IS NOT NULL AND r.rolcanlogin AND NOT r.rolsuper \
       AND a.grantor <> a.grantee \
     ORDER BY 1, 2, 3";

/// How long `end_sessions` waits for terminated backends to be gone.
const END_SESSIONS_WAIT: Duration = Duration::from_secs(5);

/// The PostgreSQL connector. Cheap to share; keeps one small pool per target.
#[derive(Default)]
pub struct PostgresConnector {
    pools: PoolCache<PgPool>,
}

impl PostgresConnector {
    pub fn new() -> Self {
        Self::default()
    }

    async fn pool(&self, target: &TargetRef) -> Result<PgPool, ConnectorError> {
        self.pools
            .get(target, |url| async move {
                let opts: PgPoolOptions = pool_options();
                opts.connect(&url).await.map_err(connect_error)
            })
            .await
    }

    /// Waits until the terminated backends in `rows` (pid first) are gone.
    async fn wait_gone(
        &self,
        pool: &PgPool,
        rows: Vec<sqlx_oldapi::postgres::PgRow>,
    ) -> Result<(), ConnectorError> {
        let pids: Vec<i32> = rows
            .iter()
            .map(|r| r.try_get::<i32, _>(0))
            .collect::<Result<_, _>>()
            .map_err(map_sqlx_error)?;
        if pids.is_empty() {
            return Ok(());
        }
        let deadline = Instant::now() + END_SESSIONS_WAIT;
        loop {
            let left: i64 = sqlx_oldapi::query_scalar(STILL_RUNNING_SQL)
                .bind(&pids)
                .fetch_one(pool)
                .await
                .map_err(map_sqlx_error)?;
            if left == 0 {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(ConnectorError::Refused(format!(
                    "{left} session(s) of the login were still running {} s after being terminated",
                    END_SESSIONS_WAIT.as_secs()
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn exec(&self, target: &TargetRef, sql: &str) -> Result<(), ConnectorError> {
        let pool = self.pool(target).await?;
        sqlx_oldapi::query(sql)
            .persistent(false)
            .execute(&pool)
            .await
            .map_err(map_sqlx_error)?;
        Ok(())
    }
}

#[async_trait]
impl Connector for PostgresConnector {
    fn kind(&self) -> TargetKind {
        TargetKind::Postgres
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

    /// `GRANT role TO login`; PostgreSQL only raises a notice when the membership exists.
    async fn add_member(
        &self,
        target: &TargetRef,
        db_role: &str,
        login: &str,
    ) -> Result<(), ConnectorError> {
        let sql = grant_sql(db_role, login)?;
        self.exec(target, &sql).await
    }

    /// `REVOKE role FROM login`; PostgreSQL only warns when there is no such membership.
    async fn drop_member(
        &self,
        target: &TargetRef,
        db_role: &str,
        login: &str,
    ) -> Result<(), ConnectorError> {
        let sql = revoke_sql(db_role, login)?;
        // A role or login that does not exist (any more) holds no membership: nothing to
        // remove, and REVOKE would fail with "role does not exist".
        let pool = self.pool(target).await?;
        let existing: i64 = sqlx_oldapi::query_scalar(BOTH_EXIST_SQL)
            .bind(db_role)
            .bind(login)
            .fetch_one(&pool)
            .await
            .map_err(map_sqlx_error)?;
        if existing < 2 {
            return Ok(());
        }
        self.exec(target, &sql).await
    }

    /// One `REVOKE "role" FROM "a", "b", …` per chunk of existing logins (a login or role that
    /// does not exist holds nothing). A failing chunk falls back to one statement per login so
    /// each result is exact.
    async fn drop_members(
        &self,
        target: &TargetRef,
        db_role: &str,
        logins: &[String],
    ) -> Vec<Result<(), ConnectorError>> {
        let prepared: Result<(String, Vec<String>), ConnectorError> = async {
            let role = quote_ident(db_role)?;
            let pool = self.pool(target).await?;
            let mut names: Vec<String> = logins.to_vec();
            names.push(db_role.to_string());
            let existing: Vec<String> = sqlx_oldapi::query_scalar(EXISTING_SQL)
                .bind(&names)
                .fetch_all(&pool)
                .await
                .map_err(map_sqlx_error)?;
            if !existing.iter().any(|n| n == db_role) {
                return Ok((role, Vec::new()));
            }
            Ok((role, existing))
        }
        .await;
        let (role, existing) = match prepared {
            Ok(v) => v,
            Err(e) => return logins.iter().map(|_| Err(e.clone())).collect(),
        };
        let mut results: HashMap<&str, Result<(), ConnectorError>> = HashMap::new();
        let present: Vec<&String> = logins.iter().filter(|l| existing.contains(l)).collect();
        for chunk in present.chunks(REVOKE_CHUNK) {
            let quoted: Result<Vec<String>, ConnectorError> =
                chunk.iter().map(|l| quote_ident(l)).collect();
            let batch = match quoted {
                Ok(q) => {
                    self.exec(target, &format!("REVOKE {role} FROM {}", q.join(", ")))
                        .await
                }
                Err(e) => Err(e),
            };
            if batch.is_ok() {
                for l in chunk {
                    results.insert(l.as_str(), Ok(()));
                }
            } else {
                for l in chunk {
                    results.insert(l.as_str(), self.drop_member(target, db_role, l).await);
                }
            }
        }
        logins
            .iter()
            .map(|l| results.remove(l.as_str()).unwrap_or(Ok(())))
            .collect()
    }

    async fn end_sessions_many(
        &self,
        target: &TargetRef,
        logins: &[String],
    ) -> Result<(), ConnectorError> {
        for l in logins {
            quote_ident(l)?;
        }
        let pool = self.pool(target).await?;
        let rows = sqlx_oldapi::query(TERMINATE_MANY_SQL)
            .bind(logins)
            .fetch_all(&pool)
            .await
            .map_err(map_sqlx_error)?;
        self.wait_gone(&pool, rows).await
    }

    /// Terminates every backend of `login` (except our own) and waits up to 5 s until they are
    /// gone: a session that ran `SET ROLE` keeps the role's privileges after `REVOKE`.
    async fn end_sessions(&self, target: &TargetRef, login: &str) -> Result<(), ConnectorError> {
        quote_ident(login)?;
        let pool = self.pool(target).await?;
        let rows = sqlx_oldapi::query(TERMINATE_SQL)
            .bind(login)
            .fetch_all(&pool)
            .await
            .map_err(map_sqlx_error)?;
        self.wait_gone(&pool, rows).await
    }

    async fn members(
        &self,
        target: &TargetRef,
        db_role: &str,
    ) -> Result<Vec<String>, ConnectorError> {
        quote_ident(db_role)?;
        let pool = self.pool(target).await?;
        sqlx_oldapi::query_scalar::<_, String>(MEMBERS_SQL)
            .bind(db_role)
            .fetch_all(&pool)
            .await
            .map_err(map_sqlx_error)
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

    /// Inverse of `quote_ident` (test only).
    fn unquote(q: &str) -> Option<String> {
        let inner = q.strip_prefix('"')?.strip_suffix('"')?;
        let mut out = String::new();
        let mut chars = inner.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '"' {
                // Every quote inside must be doubled.
                if chars.next() != Some('"') {
                    return None;
                }
            }
            out.push(c);
        }
        Some(out)
    }

    #[test]
    fn quoting_table() {
        let ok: &[(&str, &str)] = &[
            ("app_reader", "\"app_reader\""),
            ("Mixed Case", "\"Mixed Case\""),
            ("a\"b", "\"a\"\"b\""),
            ("\"", "\"\"\"\""),
            ("\"\"", "\"\"\"\"\"\""),
            (
                "x\"; DROP ROLE postgres; --",
                "\"x\"\"; DROP ROLE postgres; --\"",
            ),
            ("a;b", "\"a;b\""),
            ("a--b", "\"a--b\""),
            ("/* c */", "\"/* c */\""),
            ("it's", "\"it's\""),
            ("$$x$$", "\"$$x$$\""),
            ("back\\slash", "\"back\\slash\""),
            ("`tick`", "\"`tick`\""),
            ("[br]", "\"[br]\""),
            ("é日🦀", "\"é日🦀\""),
            (" ", "\" \""),
        ];
        for (name, want) in ok {
            assert_eq!(quote_ident(name).unwrap(), *want, "{name:?}");
            assert_eq!(unquote(want).as_deref(), Some(*name));
        }
        let at_limit = "a".repeat(63);
        assert_eq!(quote_ident(&at_limit).unwrap(), format!("\"{at_limit}\""));
        // 21 three-byte characters = 63 bytes: fine; one more byte is not.
        let unicode_at_limit = "日".repeat(21);
        assert!(quote_ident(&unicode_at_limit).is_ok());
        for bad in [
            String::new(),
            "a\0b".to_string(),
            "a".repeat(64),
            format!("{unicode_at_limit}a"),
            "🦀".repeat(16),
        ] {
            assert!(
                matches!(quote_ident(&bad), Err(ConnectorError::InvalidIdentifier(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn statements() {
        assert_eq!(
            grant_sql("app_reader", "alice").unwrap(),
            "GRANT \"app_reader\" TO \"alice\""
        );
        assert_eq!(
            revoke_sql("r\"x", "a b").unwrap(),
            "REVOKE \"r\"\"x\" FROM \"a b\""
        );
        assert!(grant_sql("", "alice").is_err());
        assert!(revoke_sql("r", &"x".repeat(64)).is_err());
    }

    #[test]
    fn sanitizing_removes_urls_and_passwords() {
        let m = "error connecting to postgres://bob:s3cret@db:5432/x (password=hunter2)";
        let s = sanitize_message(m);
        assert!(
            !s.contains("s3cret") && !s.contains("hunter2") && !s.contains("bob"),
            "{s}"
        );
        assert!(s.contains("<url>"));
        assert_eq!(
            sanitize_message("role \"x\" does not exist"),
            "role \"x\" does not exist"
        );
    }

    #[tokio::test]
    async fn unreachable_target_error_hides_the_url() {
        let var = format!("JITEA_TARGET_TEST_PG_UNREACHABLE_{}", std::process::id());
        std::env::set_var(&var, "postgres://secretuser:secretpw@127.0.0.1:1/db");
        let t = TargetRef {
            id: 1,
            kind: TargetKind::Postgres,
            url_env: Some(var.clone()),
            settings: None,
            principal_from: Default::default(),
        };
        let err = PostgresConnector::new().ping(&t).await.unwrap_err();
        std::env::remove_var(&var);
        assert!(matches!(err, ConnectorError::Unreachable(_)), "{err:?}");
        let text = err.to_string();
        assert!(
            !text.contains("secretpw") && !text.contains("secretuser"),
            "{text}"
        );
    }

    proptest! {
        #[test]
        fn quoted_round_trips(name in "\\PC{0,40}") {
            match quote_ident(&name) {
                Ok(q) => {
                    prop_assert!(!name.is_empty() && name.len() <= MAX_IDENT_BYTES);
                    prop_assert_eq!(unquote(&q), Some(name.clone()));
                }
                Err(_) => prop_assert!(name.is_empty() || name.len() > MAX_IDENT_BYTES),
            }
        }

        #[test]
        fn hostile_names_never_escape(name in "[\"'`;\\-/*\\\\$ a-zé日🦀\\[\\]]{1,30}") {
            if let Ok(q) = quote_ident(&name) {
                // Between the outer quotes, quotes only ever come in pairs.
                let inner = &q[1..q.len() - 1];
                prop_assert_eq!(inner.replace("\"\"", "").matches('"').count(), 0);
                prop_assert_eq!(unquote(&q), Some(name));
            }
        }

        #[test]
        fn over_limit_is_always_rejected(name in "\\PC{64,100}") {
            prop_assert!(name.len() > MAX_IDENT_BYTES);
            prop_assert!(quote_ident(&name).is_err());
        }

        #[test]
        fn nul_is_always_rejected(a in "\\PC{0,10}", b in "\\PC{0,10}") {
            let name = format!("{a}\0{b}");
            prop_assert!(quote_ident(&name).is_err());
        }
    }
}
