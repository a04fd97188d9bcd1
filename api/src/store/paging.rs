//! Keyset paging shared by every list: `?limit=&cursor=` → `{items, next_cursor}`.
//! The cursor is the last returned id, wrapped so clients treat it as opaque.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jitea_shared::Page;
use sqlx_oldapi::any::AnyRow;

use super::{Db, StoreError, Q};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

/// Which page to read: at most `limit` rows after the row with id `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageReq {
    pub limit: i64,
    pub after: Option<i64>,
}

impl Default for PageReq {
    fn default() -> Self {
        Self {
            limit: DEFAULT_LIMIT,
            after: None,
        }
    }
}

pub fn encode_cursor(id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("id:{id}"))
}

/// `None` when the cursor was not made by `encode_cursor`.
pub fn decode_cursor(cursor: &str) -> Option<i64> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let s = String::from_utf8(bytes).ok()?;
    s.strip_prefix("id:")?
        .parse()
        .ok()
        .filter(|id: &i64| *id > 0)
}

/// Newest first (logs, requests, grants) or oldest first (catalogs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    NewestFirst,
    OldestFirst,
}

/// Runs `q` (a SELECT whose WHERE clause is open, e.g. ends in `WHERE 1 = 1 ...`) one page at
/// a time by `id_col`.
pub async fn fetch_page<T>(
    db: &mut Db<'_>,
    mut q: Q,
    id_col: &str,
    order: Order,
    page: PageReq,
    map: impl Fn(&AnyRow) -> Result<T, StoreError>,
    id_of: impl Fn(&T) -> i64,
) -> Result<Page<T>, StoreError> {
    let (cmp, dir) = match order {
        Order::NewestFirst => ("<", "DESC"),
        Order::OldestFirst => (">", "ASC"),
    };
    if let Some(after) = page.after {
        q.push_bind(&format!(" AND {id_col} {cmp} ?"), after);
    }
    q.push(&format!(" ORDER BY {id_col} {dir}"));
    let limit = page.limit.clamp(1, MAX_LIMIT);
    q.limit(limit + 1);
    let rows = db.fetch_all(&q).await?;
    let mut items = rows.iter().map(&map).collect::<Result<Vec<T>, _>>()?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|t| encode_cursor(id_of(t)))
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        assert_eq!(decode_cursor(&encode_cursor(42)), Some(42));
        assert_eq!(decode_cursor("42"), None);
        assert_eq!(decode_cursor("!!"), None);
        assert_eq!(decode_cursor(&URL_SAFE_NO_PAD.encode("id:-1")), None);
    }
}
