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

    pub async fn execute(&mut self, q: &Q) -> Result<u64, StoreError> {
        check_args(&q.args)?;
        let sql = self.dialect.render(&q.sql);
        let r = build(&sql, &q.args)
            .execute(&mut *self.conn)
            .await
            .map_err(|e| StoreError::from_sqlx(e, self.dialect))?;
        Ok(r.rows_affected())
    }

    pub async fn fetch_all(&mut self, q: &Q) -> Result<Vec<AnyRow>, StoreError> {
        check_args(&q.args)?;
        let sql = self.dialect.render(&q.sql);
        build(&sql, &q.args)
            .fetch_all(&mut *self.conn)
            .await
            .map_err(|e| StoreError::from_sqlx(e, self.dialect))
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
        let sql = self.dialect.render(&q.sql);
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
        check_args(&q.args)?;
        let sql = self.dialect.render(&q.sql);
        build(&sql, &q.args)
            .fetch_optional(&mut *self.conn)
            .await
            .map_err(|e| StoreError::from_sqlx(e, self.dialect))
    }

    /// Executes an insert built by `Dialect::insert_returning_id` and returns the new id.
    pub async fn insert(&mut self, table: &str, values: &[(&str, Arg)]) -> Result<i64, StoreError> {
        let cols: Vec<&str> = values.iter().map(|(c, _)| *c).collect();
        let q = Q {
            sql: self.dialect.insert_returning_id(table, &cols),
            args: values.iter().map(|(_, a)| a.clone()).collect(),
        };
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
            self.execute(&Q::new(sql)).await?;
        }
        Ok(())
    }
}
