//! Every SQL difference between the three JITEA database dialects lives here: placeholders,
//! paging, name folding, returning generated ids, row locks and the claim idiom.
//!
//! Repository code writes one dialect-neutral text per statement: portable SQL with `?`
//! placeholders in which each dialect-specific piece is a *marker* (a `\u{1}` byte and a code
//! letter, never valid SQL on its own), put there by the builders below (`q.limit(n)`,
//! `Q::fold_name`, `Q::select_locked`, `Q::insert_returning_id`, `Q::update_returning_id`,
//! `Q::claim`). `Dialect::render` expands the markers and numbers the placeholders in one
//! pass when the statement runs, so the same `Q` can be rendered for any dialect — which is
//! how the statements of a test run on SQLite or PostgreSQL are also captured as T-SQL (see
//! `query.rs`). Arguments are in the same order for every dialect. Store code never branches
//! on the dialect.

use std::fmt::Write as _;

use sqlx_oldapi::any::AnyKind;

use super::Q;

/// Starts a marker; the next byte is its code. Markers are ASCII, so byte positions around
/// them are always character boundaries.
const MARK: u8 = 0x01;
/// Ends the number that follows a `LIMIT` marker.
const END: u8 = 0x02;

/// Marker codes (the byte after `MARK`).
mod code {
    /// `LIMIT n` / `OFFSET 0 ROWS FETCH NEXT n ROWS ONLY`, followed by the digits and `END`.
    pub const LIMIT: u8 = b'L';
    /// Opens / closes a case- and padding-insensitive name comparison operand.
    pub const FOLD_OPEN: u8 = b'F';
    pub const FOLD_CLOSE: u8 = b'f';
    /// After a table name: lock the rows read (SQL Server table hint).
    pub const LOCK_HINT: u8 = b'H';
    /// End of a SELECT: lock the rows read (PostgreSQL).
    pub const FOR_UPDATE: u8 = b'U';
    /// After a table name: lock the rows read and skip rows others hold (SQL Server).
    pub const SKIP_LOCKED_HINT: u8 = b'S';
    /// End of a SELECT: lock the rows read and skip rows others hold (PostgreSQL).
    pub const SKIP_LOCKED: u8 = b'K';
    /// Before `WHERE`/`VALUES`: return the id of each row written (SQL Server).
    pub const OUTPUT_ID: u8 = b'O';
    /// End of an INSERT/UPDATE: return the id of each row written (SQLite, PostgreSQL).
    pub const RETURNING_ID: u8 = b'R';
}

/// The text of a marker without an operand.
macro_rules! marker {
    ($code:literal) => {
        concat!("\u{1}", $code)
    };
}
const LOCK_HINT: &str = marker!("H");
const FOR_UPDATE: &str = marker!("U");
const SKIP_LOCKED_HINT: &str = marker!("S");
const SKIP_LOCKED: &str = marker!("K");
const OUTPUT_ID: &str = marker!("O");
const RETURNING_ID: &str = marker!("R");
const FOLD_OPEN: &str = marker!("F");
const FOLD_CLOSE: &str = marker!("f");

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

    /// Renders dialect-neutral text for this dialect in one pass: expands the markers and
    /// rewrites portable `?` placeholders into the dialect's own (`?`, `$1`, `@p1`; the `Any`
    /// driver does not do this itself). Our SQL never contains a literal `?`. Text without
    /// markers that was written for this dialect (migrations) renders unchanged apart from
    /// the placeholders.
    pub fn render(self, sql: &str) -> String {
        let bytes = sql.as_bytes();
        if self == Self::Sqlite && !bytes.contains(&MARK) {
            return sql.to_string();
        }
        let mut out = String::with_capacity(sql.len() + 32);
        let mut n = 0u32;
        let mut copied = 0; // bytes of `sql` already handled
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'?' if self != Self::Sqlite => {
                    out.push_str(&sql[copied..i]);
                    n += 1;
                    let _ = match self {
                        Self::Postgres => write!(out, "${n}"),
                        _ => write!(out, "@p{n}"),
                    };
                    i += 1;
                    copied = i;
                }
                MARK if bytes.get(i + 1).is_some_and(u8::is_ascii_alphabetic) => {
                    out.push_str(&sql[copied..i]);
                    let c = bytes[i + 1];
                    i += 2;
                    if c == code::LIMIT {
                        let rest = &sql[i..];
                        let len = rest.bytes().position(|b| b == END).unwrap_or(rest.len());
                        let rows = &rest[..len];
                        let _ = match self {
                            Self::Mssql => {
                                write!(out, " OFFSET 0 ROWS FETCH NEXT {rows} ROWS ONLY")
                            }
                            _ => write!(out, " LIMIT {rows}"),
                        };
                        i = (i + len + 1).min(bytes.len());
                    } else {
                        out.push_str(self.piece(c));
                    }
                    copied = i;
                }
                _ => i += 1,
            }
        }
        out.push_str(&sql[copied..]);
        out
    }

    /// The text a marker without operand stands for in this dialect.
    fn piece(self, c: u8) -> &'static str {
        use Dialect::{Mssql, Postgres, Sqlite};
        match (c, self) {
            (code::FOLD_OPEN, Mssql) => "LOWER(LTRIM(RTRIM(",
            (code::FOLD_OPEN, _) => "lower(trim(",
            (code::FOLD_CLOSE, Mssql) => ")))",
            (code::FOLD_CLOSE, _) => "))",
            (code::LOCK_HINT, Mssql) => " WITH (UPDLOCK, ROWLOCK)",
            (code::FOR_UPDATE, Postgres) => " FOR UPDATE",
            (code::SKIP_LOCKED_HINT, Mssql) => " WITH (UPDLOCK, READPAST, ROWLOCK)",
            (code::SKIP_LOCKED, Postgres) => " FOR UPDATE SKIP LOCKED",
            (code::OUTPUT_ID, Mssql) => " OUTPUT INSERTED.id",
            (code::RETURNING_ID, Sqlite | Postgres) => " RETURNING id",
            _ => "",
        }
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

/// The builders store code uses for dialect-specific statements (they only write markers).
impl Q {
    /// Appends a row limit to a query that ends in `ORDER BY ...` (`LIMIT n` on SQLite and
    /// PostgreSQL, `OFFSET 0 ROWS FETCH NEXT n ROWS ONLY` on SQL Server, which needs the
    /// `ORDER BY`).
    pub fn limit(&mut self, rows: i64) -> &mut Self {
        let _ = write!(self.sql, "\u{1}L{rows}\u{2}");
        self
    }

    /// `expr` trimmed and lower-cased, for case-insensitive comparisons of ASCII names such
    /// as login names (`LTRIM(RTRIM())` on SQL Server, which has `TRIM` only from 2017).
    /// `expr` may contain `?`.
    pub fn fold_name(expr: &str) -> String {
        format!("{FOLD_OPEN}{expr}{FOLD_CLOSE}")
    }

    /// `SELECT columns FROM table WHERE filter` that locks the rows it reads until the
    /// transaction ends: `FOR UPDATE` on PostgreSQL, `WITH (UPDLOCK, ROWLOCK)` on SQL Server,
    /// nothing on SQLite (whose write transactions already hold the database lock).
    pub fn select_locked(columns: &str, table: &str, filter: &str) -> Q {
        Q::new(format!(
            "SELECT {columns} FROM {table}{LOCK_HINT} WHERE {filter}{FOR_UPDATE}"
        ))
    }

    /// `INSERT INTO table (columns) VALUES (?, ...)` that returns the generated `id`
    /// (`RETURNING id` / `OUTPUT INSERTED.id`). Bind one argument per column.
    pub fn insert_returning_id(table: &str, columns: &[&str]) -> Q {
        let cols = columns.join(", ");
        let marks = vec!["?"; columns.len()].join(", ");
        Q::new(format!(
            "INSERT INTO {table} ({cols}){OUTPUT_ID} VALUES ({marks}){RETURNING_ID}"
        ))
    }

    /// `UPDATE table SET set WHERE filter` returning the ids of the rows it changed
    /// (`RETURNING id` / `OUTPUT INSERTED.id`). Bind the `set` arguments, then the filter's.
    pub fn update_returning_id(table: &str, set: &str, filter: &str) -> Q {
        Q::new(format!(
            "UPDATE {table} SET {set}{OUTPUT_ID} WHERE {filter}{RETURNING_ID}"
        ))
    }

    /// Claims up to `limit` rows of `table` matching `filter` (in `order`) by applying `set`,
    /// returning their ids, such that concurrent callers in other processes never claim the
    /// same row: `FOR UPDATE SKIP LOCKED` on PostgreSQL, `UPDLOCK, READPAST` table hints on
    /// SQL Server, and the single-writer lock on SQLite. The arguments are `set`'s, then
    /// `filter`'s, for every dialect:
    ///
    /// ```text
    /// UPDATE t SET … RETURNING id / OUTPUT INSERTED.id
    ///   WHERE id IN (SELECT id FROM t WHERE … ORDER BY … LIMIT n FOR UPDATE SKIP LOCKED)
    /// ```
    pub fn claim(table: &str, set: Q, filter: Q, order: &str, limit: i64) -> Q {
        let mut q = Q::new(format!(
            "UPDATE {table}{SKIP_LOCKED_HINT} SET {}{OUTPUT_ID} WHERE id IN (SELECT id FROM {table}{SKIP_LOCKED_HINT} WHERE {} ORDER BY {order}",
            set.sql, filter.sql
        ));
        q.limit(limit);
        let _ = write!(q.sql, "{SKIP_LOCKED}){RETURNING_ID}");
        q.args = [set.args, filter.args].concat();
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Arg;

    const ALL: [Dialect; 3] = [Dialect::Sqlite, Dialect::Postgres, Dialect::Mssql];

    fn rendered(q: &Q) -> [String; 3] {
        ALL.map(|d| d.render(&q.sql))
    }

    fn strs(args: &[Arg]) -> Vec<String> {
        args.iter()
            .map(|a| match a {
                Arg::Str(Some(s)) => s.clone(),
                Arg::I64(Some(n)) => n.to_string(),
                other => format!("{other:?}"),
            })
            .collect()
    }

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
        let mut q = Q::new("SELECT id FROM t WHERE id > ? ORDER BY id").bind(7);
        q.limit(5);
        assert_eq!(
            rendered(&q),
            [
                "SELECT id FROM t WHERE id > ? ORDER BY id LIMIT 5",
                "SELECT id FROM t WHERE id > $1 ORDER BY id LIMIT 5",
                "SELECT id FROM t WHERE id > @p1 ORDER BY id OFFSET 0 ROWS FETCH NEXT 5 ROWS ONLY",
            ]
        );
    }

    #[test]
    fn a_limit_can_close_a_subquery() {
        let mut q = Q::new("DELETE FROM o WHERE id IN (SELECT id FROM o WHERE c < ? ORDER BY id");
        q.limit(100).push(")");
        assert_eq!(
            Dialect::Mssql.render(&q.sql),
            "DELETE FROM o WHERE id IN (SELECT id FROM o WHERE c < @p1 ORDER BY id OFFSET 0 ROWS FETCH NEXT 100 ROWS ONLY)"
        );
        assert_eq!(
            Dialect::Sqlite.render(&q.sql),
            "DELETE FROM o WHERE id IN (SELECT id FROM o WHERE c < ? ORDER BY id LIMIT 100)"
        );
    }

    #[test]
    fn inserts_return_the_generated_id() {
        let q = Q::insert_returning_id("t", &["a", "b"]);
        assert_eq!(
            rendered(&q),
            [
                "INSERT INTO t (a, b) VALUES (?, ?) RETURNING id",
                "INSERT INTO t (a, b) VALUES ($1, $2) RETURNING id",
                "INSERT INTO t (a, b) OUTPUT INSERTED.id VALUES (@p1, @p2)",
            ]
        );
    }

    #[test]
    fn updates_return_the_changed_ids() {
        let q = Q::update_returning_id("grants", "status = ?", "id IN (?, ?)");
        assert_eq!(
            rendered(&q),
            [
                "UPDATE grants SET status = ? WHERE id IN (?, ?) RETURNING id",
                "UPDATE grants SET status = $1 WHERE id IN ($2, $3) RETURNING id",
                "UPDATE grants SET status = @p1 OUTPUT INSERTED.id WHERE id IN (@p2, @p3)",
            ]
        );
    }

    #[test]
    fn claims_skip_locked_rows_and_keep_argument_order() {
        let set = Q::new("lease_owner = ?").bind("me");
        let filter = Q::new("status = ?").bind("active");
        let q = Q::claim("grants", set, filter, "valid_to_utc, id", 10);
        assert_eq!(
            rendered(&q),
            [
                "UPDATE grants SET lease_owner = ? WHERE id IN (SELECT id FROM grants WHERE status = ? \
                 ORDER BY valid_to_utc, id LIMIT 10) RETURNING id",
                "UPDATE grants SET lease_owner = $1 WHERE id IN (SELECT id FROM grants WHERE status = $2 \
                 ORDER BY valid_to_utc, id LIMIT 10 FOR UPDATE SKIP LOCKED) RETURNING id",
                "UPDATE grants WITH (UPDLOCK, READPAST, ROWLOCK) SET lease_owner = @p1 OUTPUT INSERTED.id \
                 WHERE id IN (SELECT id FROM grants WITH (UPDLOCK, READPAST, ROWLOCK) WHERE status = @p2 \
                 ORDER BY valid_to_utc, id OFFSET 0 ROWS FETCH NEXT 10 ROWS ONLY)",
            ]
        );
        // The SET value is @p1 / $1 on every dialect, so one argument list fits all three.
        assert_eq!(strs(&q.args), ["me", "active"]);
    }

    #[test]
    fn locking_reads_use_for_update_or_table_hints() {
        let q = Q::select_locked("status", "requests", "id = ?").bind(3);
        assert_eq!(
            rendered(&q),
            [
                "SELECT status FROM requests WHERE id = ?",
                "SELECT status FROM requests WHERE id = $1 FOR UPDATE",
                "SELECT status FROM requests WITH (UPDLOCK, ROWLOCK) WHERE id = @p1",
            ]
        );
    }

    #[test]
    fn names_fold_to_lower_case_without_padding() {
        let q = Q::new(format!(
            "SELECT id FROM users WHERE {} = {}",
            Q::fold_name("login_name"),
            Q::fold_name("?")
        ));
        assert_eq!(
            rendered(&q),
            [
                "SELECT id FROM users WHERE lower(trim(login_name)) = lower(trim(?))",
                "SELECT id FROM users WHERE lower(trim(login_name)) = lower(trim($1))",
                "SELECT id FROM users WHERE LOWER(LTRIM(RTRIM(login_name))) = LOWER(LTRIM(RTRIM(@p1)))",
            ]
        );
    }

    #[test]
    fn one_statement_renders_for_every_dialect() {
        let mut q = Q::new(format!(
            "SELECT r.id FROM requests r JOIN users u ON u.id = r.user_id WHERE {} = ? AND r.note = 'né'",
            Q::fold_name("u.manager_login_name")
        ))
        .bind("boss");
        q.push_bind(" AND r.id > ?", 4).push(" ORDER BY r.id");
        q.limit(51);
        assert_eq!(
            rendered(&q),
            [
                "SELECT r.id FROM requests r JOIN users u ON u.id = r.user_id WHERE lower(trim(u.manager_login_name)) = ? \
                 AND r.note = 'né' AND r.id > ? ORDER BY r.id LIMIT 51",
                "SELECT r.id FROM requests r JOIN users u ON u.id = r.user_id WHERE lower(trim(u.manager_login_name)) = $1 \
                 AND r.note = 'né' AND r.id > $2 ORDER BY r.id LIMIT 51",
                "SELECT r.id FROM requests r JOIN users u ON u.id = r.user_id WHERE LOWER(LTRIM(RTRIM(u.manager_login_name))) = @p1 \
                 AND r.note = 'né' AND r.id > @p2 ORDER BY r.id OFFSET 0 ROWS FETCH NEXT 51 ROWS ONLY",
            ]
        );
        assert_eq!(strs(&q.args), ["boss", "4"]);
    }

    #[test]
    fn text_without_markers_only_gets_its_placeholders_numbered() {
        let native = "IF OBJECT_ID(N'x', N'U') IS NULL CREATE TABLE x (a NVARCHAR(9) DEFAULT N'é')";
        for d in ALL {
            assert_eq!(d.render(native), native);
        }
        // A stray control byte that is no marker is kept as it is, never splitting a character.
        assert_eq!(Dialect::Mssql.render("a\u{1}é ?"), "a\u{1}é @p1");
        assert_eq!(Dialect::Postgres.render("a\u{1}"), "a\u{1}");
    }
}
