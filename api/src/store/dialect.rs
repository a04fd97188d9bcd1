//! Every SQL difference between the three JITEA database dialects lives here: placeholders,
//! paging, returning generated ids and the write-lock idiom. Repository code writes portable
//! SQL with `?` placeholders and asks the dialect for the rest.

use sqlx_oldapi::any::AnyKind;

use super::Q;

/// The database family behind the pool, picked once from the URL at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
    Mssql,
}

impl Dialect {
    /// Maps the driver's kind; MySQL is a provisioning target only, never JITEA's own store.
    pub fn from_kind(kind: AnyKind) -> Option<Self> {
        match kind {
            AnyKind::Sqlite => Some(Self::Sqlite),
            AnyKind::Postgres => Some(Self::Postgres),
            AnyKind::Mssql => Some(Self::Mssql),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// Folder name under `migrations/`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
            Self::Mssql => "mssql",
        }
    }

    /// Rewrites portable `?` placeholders into the dialect's own (`?`, `$1`, `@p1`).
    /// The `Any` driver does not do this itself. Our SQL never contains a literal `?`.
    pub fn render(self, sql: &str) -> String {
        if self == Self::Sqlite {
            return sql.to_string();
        }
        let mut out = String::with_capacity(sql.len() + 16);
        let mut n = 0;
        for ch in sql.chars() {
            if ch == '?' {
                n += 1;
                match self {
                    Self::Postgres => out.push_str(&format!("${n}")),
                    _ => out.push_str(&format!("@p{n}")),
                }
            } else {
                out.push(ch);
            }
        }
        out
    }

    /// Bound parameters one multi-row `INSERT` may carry. SQL Server refuses more than 2,100
    /// per statement; PostgreSQL takes 65,535, and fewer, larger statements are what makes a
    /// mass expiry's audit and outbox rows cheap (one round trip per 1,000 rows instead of
    /// per 125).
    pub fn max_insert_params(self) -> usize {
        match self {
            Self::Postgres => 16_000,
            Self::Sqlite | Self::Mssql => 1_000,
        }
    }

    /// Appends a row limit to a query that already ends in `ORDER BY ...`.
    pub fn limit(self, sql: &str, limit: i64) -> String {
        match self {
            Self::Mssql => format!("{sql} OFFSET 0 ROWS FETCH NEXT {limit} ROWS ONLY"),
            _ => format!("{sql} LIMIT {limit}"),
        }
    }

    /// `expr` trimmed and lower-cased, for case-insensitive comparisons of ASCII names such
    /// as login names (`LTRIM(RTRIM())` on SQL Server, which has `TRIM` only from 2017).
    pub fn fold_name(self, expr: &str) -> String {
        match self {
            Self::Mssql => format!("LOWER(LTRIM(RTRIM({expr})))"),
            _ => format!("lower(trim({expr}))"),
        }
    }

    /// `UPDATE table SET … WHERE …` returning the ids of the rows it changed (`RETURNING` /
    /// `OUTPUT INSERTED`).
    pub fn update_returning_id(self, table: &str, set: &str, filter: &str) -> String {
        match self {
            Self::Mssql => format!("UPDATE {table} SET {set} OUTPUT INSERTED.id WHERE {filter}"),
            _ => format!("UPDATE {table} SET {set} WHERE {filter} RETURNING id"),
        }
    }

    /// Builds `INSERT INTO table (cols) VALUES (?, ...)` that returns the generated `id`.
    pub fn insert_returning_id(self, table: &str, columns: &[&str]) -> String {
        let cols = columns.join(", ");
        let marks = vec!["?"; columns.len()].join(", ");
        match self {
            Self::Mssql => {
                format!("INSERT INTO {table} ({cols}) OUTPUT INSERTED.id VALUES ({marks})")
            }
            _ => format!("INSERT INTO {table} ({cols}) VALUES ({marks}) RETURNING id"),
        }
    }

    /// The statement a writing transaction runs first. On SQLite it takes the database write
    /// lock at once (a deferred transaction that reads first and writes later fails with
    /// "database is locked" instead of waiting); the server databases lock per row and need
    /// nothing here.
    pub fn write_lock_statement(self) -> Option<&'static str> {
        match self {
            Self::Sqlite => Some("UPDATE write_lock SET counter = counter + 1 WHERE id = 1"),
            _ => None,
        }
    }

    /// Suffix that locks the selected rows for the rest of the transaction where the dialect
    /// supports it in this position (SQL Server uses table hints instead, see `lock_hint`).
    pub fn for_update(self) -> &'static str {
        match self {
            Self::Postgres => " FOR UPDATE",
            _ => "",
        }
    }

    /// Table hint placed after a table name to lock the read rows (SQL Server only).
    pub fn lock_hint(self) -> &'static str {
        match self {
            Self::Mssql => " WITH (UPDLOCK, ROWLOCK)",
            _ => "",
        }
    }

    /// Claims up to `limit` rows of `table` matching `filter` (in `order`) by applying `set`,
    /// returning their ids, such that concurrent callers in other processes never claim the
    /// same row: `FOR UPDATE SKIP LOCKED` on PostgreSQL, `READPAST` on SQL Server, and the
    /// single-writer lock on SQLite. Arguments are placed in the order the text needs them.
    pub fn claim(self, table: &str, set: Q, filter: Q, order: &str, limit: i64) -> Q {
        let (sql, args) = match self {
            Self::Postgres => (
                format!(
                    "UPDATE {table} SET {} WHERE id IN (SELECT id FROM {table} WHERE {} ORDER BY {order} LIMIT {limit} FOR UPDATE SKIP LOCKED) RETURNING id",
                    set.sql, filter.sql
                ),
                [set.args, filter.args].concat(),
            ),
            Self::Sqlite => (
                format!(
                    "UPDATE {table} SET {} WHERE id IN (SELECT id FROM {table} WHERE {} ORDER BY {order} LIMIT {limit}) RETURNING id",
                    set.sql, filter.sql
                ),
                [set.args, filter.args].concat(),
            ),
            Self::Mssql => (
                format!(
                    "WITH c AS (SELECT TOP ({limit}) * FROM {table} WITH (UPDLOCK, READPAST, ROWLOCK) WHERE {} ORDER BY {order}) UPDATE c SET {} OUTPUT INSERTED.id",
                    filter.sql, set.sql
                ),
                [filter.args, set.args].concat(),
            ),
        };
        Q { sql, args }
    }

    /// Whether a database error code means a unique constraint was violated.
    pub fn is_unique_violation(self, code: &str) -> bool {
        match self {
            Self::Sqlite => code == "2067" || code == "1555",
            Self::Postgres => code == "23505",
            Self::Mssql => code == "2601" || code == "2627",
        }
    }

    /// Whether a database error code means a foreign key points nowhere.
    pub fn is_foreign_key_violation(self, code: &str) -> bool {
        match self {
            Self::Sqlite => code == "787",
            Self::Postgres => code == "23503",
            Self::Mssql => code == "547",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_per_dialect() {
        let sql = "SELECT a FROM t WHERE a = ? AND b = ?";
        assert_eq!(Dialect::Sqlite.render(sql), sql);
        assert_eq!(
            Dialect::Postgres.render(sql),
            "SELECT a FROM t WHERE a = $1 AND b = $2"
        );
        assert_eq!(
            Dialect::Mssql.render(sql),
            "SELECT a FROM t WHERE a = @p1 AND b = @p2"
        );
    }

    #[test]
    fn paging_uses_offset_fetch_on_sql_server() {
        assert_eq!(
            Dialect::Mssql.limit("SELECT id FROM t ORDER BY id", 5),
            "SELECT id FROM t ORDER BY id OFFSET 0 ROWS FETCH NEXT 5 ROWS ONLY"
        );
        assert_eq!(
            Dialect::Postgres.limit("SELECT id FROM t ORDER BY id", 5),
            "SELECT id FROM t ORDER BY id LIMIT 5"
        );
    }

    #[test]
    fn claims_put_arguments_in_text_order() {
        let set = Q::new("lease_owner = ?").bind("me");
        let filter = Q::new("status = ?").bind("active");
        let pg = Dialect::Postgres.claim("grants", set.clone(), filter.clone(), "id", 10);
        assert!(
            pg.sql.ends_with("FOR UPDATE SKIP LOCKED) RETURNING id"),
            "{}",
            pg.sql
        );
        assert!(matches!(&pg.args[0], crate::store::Arg::Str(Some(s)) if s == "me"));
        let ms = Dialect::Mssql.claim("grants", set, filter, "id", 10);
        assert!(ms.sql.starts_with("WITH c AS (SELECT TOP (10) * FROM grants WITH (UPDLOCK, READPAST, ROWLOCK) WHERE status = ?"), "{}", ms.sql);
        assert!(matches!(&ms.args[0], crate::store::Arg::Str(Some(s)) if s == "active"));
    }

    #[test]
    fn names_fold_to_lower_case_without_padding() {
        assert_eq!(Dialect::Sqlite.fold_name("x"), "lower(trim(x))");
        assert_eq!(Dialect::Postgres.fold_name("x"), "lower(trim(x))");
        assert_eq!(Dialect::Mssql.fold_name("x"), "LOWER(LTRIM(RTRIM(x)))");
    }

    #[test]
    fn inserts_return_the_generated_id() {
        assert_eq!(
            Dialect::Mssql.insert_returning_id("t", &["a", "b"]),
            "INSERT INTO t (a, b) OUTPUT INSERTED.id VALUES (?, ?)"
        );
        assert_eq!(
            Dialect::Sqlite.insert_returning_id("t", &["a"]),
            "INSERT INTO t (a) VALUES (?) RETURNING id"
        );
    }
}
