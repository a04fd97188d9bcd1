//! Break-glass grants: the flag and review due time set when one is issued, the review
//! (recorded once, by compare-and-set), the report and the overview's counts.

use chrono::{DateTime, Utc};
use jitea_shared::*;
use sqlx_oldapi::any::AnyRow;

use super::paging::{fetch_page, Order, PageReq};
use super::rows::{get, int, opt_i64, opt_str, opt_time, parsed, time};
use super::{Db, StoreError, Q};

/// Flags grant `id` as break-glass with its review due at `review_due` (in the issuing
/// transaction). An already flagged grant keeps its due time (an extension is covered by the
/// grant's one review).
pub async fn mark(
    db: &mut Db<'_>,
    id: i64,
    review_due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let q = Q::new(
        "UPDATE grants SET break_glass = ?, review_due_utc = ?, updated_utc = ? WHERE id = ? AND break_glass = ?",
    )
    .bind(true)
    .bind(review_due)
    .bind(now)
    .bind(id)
    .bind(false);
    Ok(db.execute(&q).await? == 1)
}

/// A review as recorded.
pub struct NewReview<'a> {
    pub reviewer_id: i64,
    pub reviewer_login_name: &'a str,
    pub outcome: ReviewOutcome,
    pub comment: &'a str,
}

/// Records the review of break-glass grant `id` if it has none yet: of concurrent reviews,
/// exactly one gets `true`.
pub async fn record_review(
    db: &mut Db<'_>,
    id: i64,
    r: &NewReview<'_>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let q = Q::new(
        "UPDATE grants SET reviewed_utc = ?, reviewed_by_user_id = ?, reviewed_by_login_name = ?, \
         review_outcome = ?, review_comment = ?, updated_utc = ? \
         WHERE id = ? AND break_glass = ? AND reviewed_utc IS NULL",
    )
    .bind(now)
    .bind(r.reviewer_id)
    .bind(r.reviewer_login_name)
    .bind(r.outcome.as_str())
    .bind(r.comment)
    .bind(now)
    .bind(id)
    .bind(true);
    Ok(db.execute(&q).await? == 1)
}

/// Which break-glass grants the report lists.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReportFilter {
    pub status: Option<BreakGlassStatus>,
    /// Only grants issued at or after this instant.
    pub since: Option<DateTime<Utc>>,
}

const COLS: &str = "g.id, g.request_id, g.user_id, u.login_name AS user_login_name, g.role_id, \
    ro.role_name, r.justification, r.ticket_ref, g.status, g.valid_from_utc, g.valid_to_utc, \
    g.revoked_utc, g.review_due_utc, g.reviewed_utc, g.reviewed_by_user_id, \
    g.reviewed_by_login_name, g.review_outcome, g.review_comment";
const FROM: &str =
    "FROM grants g JOIN users u ON u.id = g.user_id JOIN roles ro ON ro.id = g.role_id \
    LEFT JOIN requests r ON r.id = g.request_id";

fn map(r: &AnyRow, now: DateTime<Utc>) -> Result<BreakGlassEntry, StoreError> {
    let review = super::grants::review(r)?;
    let review_due_utc = opt_time(r, "review_due_utc")?;
    let review_status =
        crate::domain::break_glass::status(review_due_utc, review.as_ref().map(|v| v.outcome), now);
    Ok(BreakGlassEntry {
        grant_id: get(r, "id")?,
        request_id: opt_i64(r, "request_id")?,
        user_id: get(r, "user_id")?,
        user_login_name: get(r, "user_login_name")?,
        role_id: get(r, "role_id")?,
        role_name: get(r, "role_name")?,
        justification: opt_str(r, "justification")?,
        ticket_ref: opt_str(r, "ticket_ref")?,
        grant_status: parsed(r, "status")?,
        valid_from_utc: time(r, "valid_from_utc")?,
        valid_to_utc: time(r, "valid_to_utc")?,
        revoked_utc: opt_time(r, "revoked_utc")?,
        review_due_utc,
        review_status,
        review,
    })
}

/// Break-glass grants, newest first, one page; `overdue` and `unreviewed` are judged at `now`.
pub async fn report(
    db: &mut Db<'_>,
    f: ReportFilter,
    page: PageReq,
    now: DateTime<Utc>,
) -> Result<Page<BreakGlassEntry>, StoreError> {
    let mut q = Q::new(format!("SELECT {COLS} {FROM} WHERE g.break_glass = ?")).bind(true);
    let (cond, arg): (&str, super::Arg) = match f.status {
        None => ("", true.into()),
        Some(BreakGlassStatus::Unreviewed) => (
            " AND g.reviewed_utc IS NULL AND g.review_due_utc > ?",
            now.into(),
        ),
        Some(BreakGlassStatus::Overdue) => (
            " AND g.reviewed_utc IS NULL AND g.review_due_utc <= ?",
            now.into(),
        ),
        Some(BreakGlassStatus::Accepted) => (
            " AND g.review_outcome = ?",
            ReviewOutcome::Accept.as_str().into(),
        ),
        Some(BreakGlassStatus::Flagged) => (
            " AND g.review_outcome = ?",
            ReviewOutcome::Flag.as_str().into(),
        ),
    };
    if !cond.is_empty() {
        q.push_bind(cond, arg);
    }
    if let Some(since) = f.since {
        q.push_bind(" AND g.created_utc >= ?", since);
    }
    fetch_page(
        db,
        q,
        "g.id",
        Order::NewestFirst,
        page,
        |r| map(r, now),
        |e| e.grant_id,
    )
    .await
}

/// Break-glass grants not reviewed yet that the approver `a` may review (the role names
/// them; never their own), oldest review due first, one page.
pub async fn awaiting_review(
    db: &mut Db<'_>,
    a: &super::requests::ApproverScope<'_>,
    page: PageReq,
    now: DateTime<Utc>,
) -> Result<Page<BreakGlassEntry>, StoreError> {
    let mut q = Q::new(format!(
        "SELECT {COLS} {FROM} WHERE g.break_glass = ? AND g.reviewed_utc IS NULL AND g.user_id <> ?"
    ))
    .bind(true)
    .bind(a.user_id);
    super::requests::push_approver_scope(&mut q, a, "g.role_id", "u.manager_login_name");
    fetch_page(
        db,
        q,
        "g.id",
        Order::OldestFirst,
        page,
        |r| map(r, now),
        |e| e.grant_id,
    )
    .await
}

/// Break-glass grants not reviewed yet, and those of them whose review is overdue at `now`.
pub async fn unreviewed_counts(
    db: &mut Db<'_>,
    now: DateTime<Utc>,
) -> Result<(i64, i64), StoreError> {
    let q = Q::new(
        "SELECT COUNT(*) AS n, COALESCE(SUM(CASE WHEN review_due_utc <= ? THEN 1 ELSE 0 END), 0) AS overdue \
         FROM grants WHERE break_glass = ? AND reviewed_utc IS NULL",
    )
    .bind(now)
    .bind(true);
    match db.fetch_optional(&q).await? {
        Some(r) => Ok((int(&r, "n")?, int(&r, "overdue")?)),
        None => Ok((0, 0)),
    }
}
