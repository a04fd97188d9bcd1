//! Report queries that span aggregates.

use jitea_shared::{Grant, GrantStatus, Page};

use super::grants::{self, GrantFilter};
use super::paging::{encode_cursor, PageReq, MAX_LIMIT};
use super::{Db, StoreError};

/// Live grants whose removal keeps failing, newest first, one page: every such grant is
/// reachable by paging however many ended grants still carry the flag (they are filtered out
/// in the database, per live status, not after a fixed window was read).
pub async fn revoke_failures(db: &mut Db<'_>, page: PageReq) -> Result<Page<Grant>, StoreError> {
    let limit = page.limit.clamp(1, MAX_LIMIT);
    let mut items: Vec<Grant> = Vec::new();
    let mut more = false;
    for status in GrantStatus::ALL.iter().filter(|s| s.is_live()) {
        let f = GrantFilter {
            status: Some(*status),
            revoke_failed: Some(true),
            ..Default::default()
        };
        let p = grants::list(
            db,
            &f,
            PageReq {
                limit,
                after: page.after,
            },
        )
        .await?;
        more |= p.next_cursor.is_some();
        items.extend(p.items);
    }
    items.sort_by_key(|g| std::cmp::Reverse(g.id));
    if items.len() as i64 > limit {
        items.truncate(limit as usize);
        more = true;
    }
    let next_cursor = if more {
        items.last().map(|g| encode_cursor(g.id))
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}
