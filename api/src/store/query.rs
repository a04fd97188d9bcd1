//! A portable query: SQL with `?` placeholders plus typed arguments, rendered for the
//! connection's dialect when executed. Dynamic filters append fragments and arguments together
//! so the two can never drift apart, and no value is ever spliced into SQL text.

use chrono::{DateTime, Utc};
use sqlx_oldapi::any::{AnyArguments, AnyRow};
use sqlx_oldapi::query::Query;
use sqlx_oldapi::{Any, AnyConnection};

use super::{Dialect, StoreError};

/// One bound value. `None` binds SQL NULL with the right type for the column.
#[derive(Debug, Clone)]
pub enum Arg {
    I64(Option<i64>),
    Str(Option<String>),
    Bool(Option<bool>),
    Time(Option<DateTime<Utc>>),
}

macro_rules! arg_from {
    ($t:ty, $variant:ident, $conv:expr) => {
        impl From<$t> for Arg {
            fn from(v: $t) -> Self {
                Arg::$variant(Some($conv(v)))
            }
        }
        impl From<Option<$t>> for Arg {
            fn from(v: Option<$t>) -> Self {
                Arg::$variant(v.map($conv))
            }
        }
    };
}

arg_from!(i64, I64, |v| v);
arg_from!(bool, Bool, |v| v);
arg_from!(DateTime<Utc>, Time, |v| v);
arg_from!(String, Str, |v| v);
arg_from!(&str, Str, |v: &str| v.to_string());
arg_from!(&String, Str, |v: &String| v.clone());

impl From<Option<&Option<String>>> for Arg {
    fn from(v: Option<&Option<String>>) -> Self {
        Arg::Str(v.cloned().flatten())
    }
}

/// SQL text plus its arguments, in order.
#[derive(Debug, Clone, Default)]
pub struct Q {
    pub sql: String,
    pub args: Vec<Arg>,
}

impl Q {
    pub fn new(sql: impl Into<String>) -> Self {
        Self {
            sql: sql.into(),
            args: Vec::new(),
        }
    }

    /// Adds one argument for the next `?`.
    pub fn bind(mut self, v: impl Into<Arg>) -> Self {
        self.args.push(v.into());
        self
    }

    /// Appends SQL text (which may contain `?` for arguments bound next).
    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Appends `(?, ?, …)` with one argument per value (for `IN` lists; never empty).
    pub fn push_in<T: Into<Arg>>(&mut self, values: impl IntoIterator<Item = T>) -> &mut Self {
        self.sql.push('(');
        for (i, v) in values.into_iter().enumerate() {
            self.sql.push_str(if i == 0 { "?" } else { ", ?" });
            self.args.push(v.into());
        }
        self.sql.push(')');
        self
    }

    /// Appends a fragment with exactly one `?` and its argument.
    pub fn push_bind(&mut self, sql: &str, v: impl Into<Arg>) -> &mut Self {
        debug_assert_eq!(sql.matches('?').count(), 1);
        self.sql.push_str(sql);
        self.args.push(v.into());
        self
    }
}

/// PostgreSQL cannot store NUL in text and would fail the statement; no database should get
/// one. Refusing here covers every text a client can send, bodies and query strings alike.
fn check_args(args: &[Arg]) -> Result<(), StoreError> {
    if args
        .iter()
        .any(|a| matches!(a, Arg::Str(Some(s)) if s.contains('\0')))
    {
        return Err(StoreError::InvalidText);
    }
    Ok(())
}

fn build<'q>(sql: &'q str, args: &'q [Arg]) -> Query<'q, Any, AnyArguments<'q>> {
    let mut q = sqlx_oldapi::query(sql);
    for a in args {
        q = match a {
            Arg::I64(v) => q.bind(*v),
            Arg::Str(v) => q.bind(v.as_deref()),
            Arg::Bool(v) => q.bind(*v),
            Arg::Time(v) => q.bind(*v),
        };
    }
    q
}

/// Runs statements on one connection (pooled or inside a transaction) for one dialect.
pub struct Db<'c> {
    pub conn: &'c mut AnyConnection,
    pub dialect: Dialect,
}

impl<'c> Db<'c> {
    pub fn new(conn: &'c mut AnyConnection, dialect: Dialect) -> Self {
        Self { conn, dialect }
    }

    /// The text to run for `q` on this connection (also captured as T-SQL when recording).
    fn sql(&self, q: &Q) -> String {
        record::statement(&q.sql);
        self.dialect.render(&q.sql)
    }

    pub async fn execute(&mut self, q: &Q) -> Result<u64, StoreError> {
        let sql = self.sql(q);
        self.run_execute(&sql, &q.args).await
    }

    /// Executes text written for this connection's own dialect (migrations, the SQLite write
    /// lock): only its `?` placeholders are rendered, and it is not captured as T-SQL.
    pub async fn execute_native(&mut self, q: &Q) -> Result<u64, StoreError> {
        let sql = self.dialect.render(&q.sql);
        self.run_execute(&sql, &q.args).await
    }

    async fn run_execute(&mut self, sql: &str, args: &[Arg]) -> Result<u64, StoreError> {
        check_args(args)?;
        let r = build(sql, args)
            .execute(&mut *self.conn)
            .await
            .map_err(|e| StoreError::from_sqlx(e, self.dialect))?;
        Ok(r.rows_affected())
    }

    pub async fn fetch_all(&mut self, q: &Q) -> Result<Vec<AnyRow>, StoreError> {
        check_args(&q.args)?;
        let sql = self.sql(q);
        build(&sql, &q.args)
            .fetch_all(&mut *self.conn)
            .await
            .map_err(|e| StoreError::from_sqlx(e, self.dialect))
    }

    /// Runs a query whose rows carry an `id` column (a claim, an `UPDATE … RETURNING id`, an id
    /// list) and returns the ids.
    pub async fn fetch_ids(&mut self, q: &Q) -> Result<Vec<i64>, StoreError> {
        self.fetch_all(q)
            .await?
            .iter()
            .map(|r| super::rows::get(r, "id"))
            .collect()
    }

    /// Runs a query and hands each row to `f` as it arrives, so a large read (the whole
    /// catalogue) never holds all its driver rows at once.
    pub async fn for_each_row(
        &mut self,
        q: &Q,
        mut f: impl FnMut(&AnyRow) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        use futures_util::TryStreamExt;
        check_args(&q.args)?;
        let sql = self.sql(q);
        let dialect = self.dialect;
        let mut rows = build(&sql, &q.args).fetch(&mut *self.conn);
        while let Some(row) = rows
            .try_next()
            .await
            .map_err(|e| StoreError::from_sqlx(e, dialect))?
        {
            f(&row)?;
        }
        Ok(())
    }

    pub async fn fetch_optional(&mut self, q: &Q) -> Result<Option<AnyRow>, StoreError> {
        let sql = self.sql(q);
        self.run_fetch_optional(&sql, &q.args).await
    }

    /// `fetch_optional` for text written for this connection's own dialect (see
    /// `execute_native`).
    pub async fn fetch_optional_native(&mut self, q: &Q) -> Result<Option<AnyRow>, StoreError> {
        let sql = self.dialect.render(&q.sql);
        self.run_fetch_optional(&sql, &q.args).await
    }

    async fn run_fetch_optional(
        &mut self,
        sql: &str,
        args: &[Arg],
    ) -> Result<Option<AnyRow>, StoreError> {
        check_args(args)?;
        build(sql, args)
            .fetch_optional(&mut *self.conn)
            .await
            .map_err(|e| StoreError::from_sqlx(e, self.dialect))
    }

    /// Inserts one row (see `Q::insert_returning_id`) and returns its generated id.
    pub async fn insert(&mut self, table: &str, values: &[(&str, Arg)]) -> Result<i64, StoreError> {
        let cols: Vec<&str> = values.iter().map(|(c, _)| *c).collect();
        let mut q = Q::insert_returning_id(table, &cols);
        q.args = values.iter().map(|(_, a)| a.clone()).collect();
        let row = self
            .fetch_optional(&q)
            .await?
            .ok_or_else(|| StoreError::Internal(format!("insert into {table} returned no id")))?;
        super::rows::get(&row, "id")
    }

    /// Inserts many rows with multi-row `VALUES` statements (chunked to stay under every
    /// dialect's parameter and row limits). Rows must all have `columns.len()` values.
    pub async fn insert_many(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: Vec<Vec<Arg>>,
    ) -> Result<(), StoreError> {
        let per_row = columns.len().max(1);
        let chunk = (self.dialect.max_insert_params() / per_row).clamp(1, 1000);
        let marks = format!("({})", vec!["?"; columns.len()].join(", "));
        for part in rows.chunks(chunk) {
            let sql = format!(
                "INSERT INTO {table} ({}) VALUES {}",
                columns.join(", "),
                vec![marks.as_str(); part.len()].join(", ")
            );
            let q = Q {
                sql,
                args: part.iter().flatten().cloned().collect(),
            };
            self.execute(&q).await?;
        }
        Ok(())
    }

    /// Takes the write lock first where the dialect needs it (see `Dialect::write_lock_statement`).
    pub async fn lock_for_write(&mut self) -> Result<(), StoreError> {
        if let Some(sql) = self.dialect.write_lock_statement() {
            self.execute_native(&Q::new(sql)).await?;
        }
        Ok(())
    }
}

/// Captures the store's statements as T-SQL while tests run on SQLite or PostgreSQL, so that
/// `scripts/check_mssql_sql.py` can parse every statement the SQL Server path would send.
///
/// When `JITEA_MSSQL_SQL_DUMP` is set (read once per process), each statement `Db` runs is
/// rendered for `Dialect::Mssql` after its variable-length parts are normalised (an `IN` list
/// of placeholders becomes `IN (?)`, a multi-row `VALUES` keeps at most two rows), and each
/// distinct text is written once to `<dir>/store_<hash>.sql`. Files are written to a
/// temporary name and renamed, so the many server processes of a test run can share the
/// directory: the same statement always lands in the same file, whole.
pub mod record {
    use std::collections::HashSet;
    use std::hash::{Hash, Hasher};
    use std::path::PathBuf;
    use std::sync::{Mutex, OnceLock};

    use crate::store::Dialect;

    struct Recorder {
        dir: PathBuf,
        seen: Mutex<HashSet<u64>>,
    }

    static RECORDER: OnceLock<Option<Recorder>> = OnceLock::new();

    fn recorder() -> Option<&'static Recorder> {
        RECORDER
            .get_or_init(|| {
                let dir = PathBuf::from(std::env::var_os("JITEA_MSSQL_SQL_DUMP")?);
                if dir.as_os_str().is_empty() {
                    return None;
                }
                if let Err(e) = std::fs::create_dir_all(&dir) {
                    tracing::warn!(error = %e, "JITEA_MSSQL_SQL_DUMP: cannot create the directory; not recording");
                    return None;
                }
                Some(Recorder {
                    dir,
                    seen: Mutex::new(HashSet::new()),
                })
            })
            .as_ref()
    }

    /// Records dialect-neutral store text (a no-op unless recording).
    pub fn statement(neutral: &str) {
        if let Some(r) = recorder() {
            r.write(&Dialect::Mssql.render(&normalise(neutral)));
        }
    }

    /// Records text written for SQL Server only (the migration runner's own statements).
    pub fn mssql_native(tsql: &str) {
        if let Some(r) = recorder() {
            r.write(tsql);
        }
    }

    impl Recorder {
        fn write(&self, tsql: &str) {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            tsql.hash(&mut h);
            let key = h.finish();
            match self.seen.lock() {
                Ok(mut seen) => {
                    if !seen.insert(key) {
                        return;
                    }
                }
                Err(_) => return,
            }
            let path = self.dir.join(format!("store_{key:016x}.sql"));
            if path.exists() {
                return;
            }
            let tmp = self
                .dir
                .join(format!(".store_{key:016x}.{}.tmp", std::process::id()));
            let written = std::fs::write(&tmp, format!("{tsql};\n"))
                .and_then(|()| std::fs::rename(&tmp, &path));
            if let Err(e) = written {
                let _ = std::fs::remove_file(&tmp);
                tracing::warn!(error = %e, "JITEA_MSSQL_SQL_DUMP: cannot write a statement");
            }
        }
    }

    /// Collapses the parts of a statement whose length depends on the data, so that the
    /// thousands of variants a test run produces become a few: `IN (?, ?, …)` → `IN (?)`,
    /// and `VALUES (…), (…), …` → its first two rows. One pass; text is otherwise unchanged.
    pub fn normalise(sql: &str) -> String {
        let mut out = String::with_capacity(sql.len());
        let mut rest = sql;
        loop {
            let next_in = rest.find("IN (").map(|i| (i, 4));
            let next_values = rest.find("VALUES (").map(|i| (i, 8));
            let Some((at, kw)) = (match (next_in, next_values) {
                (Some(a), Some(b)) => Some(if a.0 < b.0 { a } else { b }),
                (a, b) => a.or(b),
            }) else {
                out.push_str(rest);
                return out;
            };
            // Up to and including the keyword, without the opening parenthesis.
            out.push_str(&rest[..at + kw - 1]);
            rest = &rest[at + kw - 1..];
            if kw == 4 {
                match placeholder_list(rest) {
                    Some(len) => {
                        out.push_str("(?)");
                        rest = &rest[len..];
                    }
                    None => {
                        out.push('(');
                        rest = &rest[1..];
                    }
                }
            } else {
                let mut rows = 0;
                while let Some(len) = group(rest) {
                    if rows < 2 {
                        if rows > 0 {
                            out.push_str(", ");
                        }
                        out.push_str(&rest[..len]);
                    }
                    rows += 1;
                    rest = &rest[len..];
                    if !rest.starts_with(", (") {
                        break;
                    }
                    rest = &rest[2..];
                }
                if rows == 0 {
                    out.push('(');
                    rest = &rest[1..];
                }
            }
        }
    }

    /// Length of `(?, ?, …)` at the start of `s`, if that is what starts it.
    fn placeholder_list(s: &str) -> Option<usize> {
        let b = s.as_bytes();
        let mut i = 1;
        loop {
            if b.get(i) != Some(&b'?') {
                return None;
            }
            i += 1;
            match b.get(i) {
                Some(b')') => return Some(i + 1),
                Some(b',') if b.get(i + 1) == Some(&b' ') => i += 2,
                _ => return None,
            }
        }
    }

    /// Length of the balanced parenthesised group at the start of `s` (quotes respected).
    fn group(s: &str) -> Option<usize> {
        if !s.starts_with('(') {
            return None;
        }
        let mut depth = 0usize;
        let mut quoted = false;
        for (i, c) in s.bytes().enumerate() {
            match c {
                b'\'' => quoted = !quoted,
                b'(' if !quoted => depth += 1,
                b')' if !quoted => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        return Some(i + 1);
                    }
                }
                _ => {}
            }
        }
        None
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn recorder(dir: &std::path::Path) -> Recorder {
            Recorder {
                dir: dir.to_path_buf(),
                seen: Mutex::new(HashSet::new()),
            }
        }

        #[test]
        fn each_distinct_statement_lands_once_whole_across_processes() {
            let dir = std::env::temp_dir().join(format!(
                "jitea-record-test-{}-{}",
                std::process::id(),
                rand::random::<u32>()
            ));
            std::fs::create_dir_all(&dir).unwrap();
            // Two recorders stand for two server processes sharing the directory.
            let (a, b) = (recorder(&dir), recorder(&dir));
            a.write("SELECT 1 AS one");
            a.write("SELECT 1 AS one");
            b.write("SELECT 1 AS one");
            b.write("SELECT id FROM t WHERE id = @p1");
            let mut names: Vec<String> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            assert_eq!(names.len(), 2, "{names:?}");
            assert!(names
                .iter()
                .all(|n| n.starts_with("store_") && n.ends_with(".sql")));
            let mut texts: Vec<String> = names
                .iter()
                .map(|n| std::fs::read_to_string(dir.join(n)).unwrap())
                .collect();
            texts.sort();
            assert_eq!(
                texts,
                ["SELECT 1 AS one;\n", "SELECT id FROM t WHERE id = @p1;\n"]
            );
            std::fs::remove_dir_all(&dir).unwrap();
        }

        #[test]
        fn in_lists_and_multi_row_values_collapse() {
            assert_eq!(
                normalise(
                    "SELECT a FROM t WHERE id IN (?, ?, ?) AND s NOT IN (?) AND x IN (SELECT 1)"
                ),
                "SELECT a FROM t WHERE id IN (?) AND s NOT IN (?) AND x IN (SELECT 1)"
            );
            assert_eq!(
                normalise("INSERT INTO t (a, b) VALUES (?, ?), (?, ?), (?, ?), (?, ?)"),
                "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)"
            );
            assert_eq!(
                normalise("INSERT INTO t (a, b) VALUES (?, '(x'), (?, 1)"),
                "INSERT INTO t (a, b) VALUES (?, '(x'), (?, 1)"
            );
            assert_eq!(
                normalise("INSERT INTO t (a) VALUES (?) RETURNING id"),
                "INSERT INTO t (a) VALUES (?) RETURNING id"
            );
            assert_eq!(normalise("JOIN (SELECT 1) x"), "JOIN (SELECT 1) x");
            assert_eq!(normalise("a IN ("), "a IN (");
            assert_eq!(normalise("VALUES (?"), "VALUES (?");
        }
    }
}
