//! Typed column access that turns decoding problems into `StoreError` instead of panics.

use chrono::{DateTime, Utc};
use sqlx_oldapi::any::AnyRow;
use sqlx_oldapi::{Any, Decode, Row, Type};
use std::str::FromStr;

use super::StoreError;

pub fn get<'r, T>(row: &'r AnyRow, col: &str) -> Result<T, StoreError>
where
    T: Decode<'r, Any> + Type<Any>,
{
    row.try_get::<T, _>(col)
        .map_err(|e| StoreError::Internal(format!("column {col}: {e}")))
}

pub fn time(row: &AnyRow, col: &str) -> Result<DateTime<Utc>, StoreError> {
    get::<DateTime<Utc>>(row, col)
}

pub fn opt_time(row: &AnyRow, col: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
    get::<Option<DateTime<Utc>>>(row, col)
}

pub fn opt_str(row: &AnyRow, col: &str) -> Result<Option<String>, StoreError> {
    get::<Option<String>>(row, col)
}

pub fn opt_i64(row: &AnyRow, col: &str) -> Result<Option<i64>, StoreError> {
    get::<Option<i64>>(row, col)
}

/// Parses a closed-vocabulary text column (statuses, kinds) into its enum.
pub fn parsed<T: FromStr>(row: &AnyRow, col: &str) -> Result<T, StoreError> {
    let s: String = get(row, col)?;
    s.parse()
        .map_err(|_| StoreError::Internal(format!("column {col}: unexpected value {s:?}")))
}

/// An integer whose width differs by dialect (`COUNT(*)` is BIGINT on PostgreSQL, INT on SQL
/// Server; `CASE` yields INT4 on PostgreSQL).
pub fn int(row: &AnyRow, col: &str) -> Result<i64, StoreError> {
    get::<i64>(row, col).or_else(|_| get::<i32>(row, col).map(i64::from))
}
