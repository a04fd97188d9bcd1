//! `/reports/*`: drift between records and targets, direct grants, failing revocations.

use actix_web::{get, web, HttpResponse};
use jitea_shared::*;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Auditor;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{drift, reports, Db};

use super::errors::CommonErrors;
use super::support::{ok, page};
use super::teams::PageQuery;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunQuery {
    /// A reconciliation run; the latest finished one when omitted.
    pub run_id: Option<i64>,
}

async fn report(st: &AppState, run_id: Option<i64>, kinds: &[&str]) -> ApiResult<DriftReport> {
    let mut c = st.store.conn().await?;
    let mut db = Db::new(&mut c, st.store.dialect());
    let run = match run_id {
        Some(id) => Some(
            drift::get_run(&mut db, id)
                .await?
                .ok_or_else(|| ApiError::not_found("reconciliation run"))?,
        ),
        None => drift::latest_run(&mut db).await?,
    };
    let findings = match &run {
        Some(r) => drift::findings(&mut db, r.id, kinds).await?,
        None => Vec::new(),
    };
    Ok(DriftReport { run, findings })
}

/// Membership drift found by a reconciliation run: `missing`, `unexpected`, `target_error`.
#[utoipa::path(tag = "reports", params(RunQuery), responses((status = 200, body = DriftReport), CommonErrors), security(("bearer" = [])))]
#[get("/reports/drift")]
pub async fn drift_report(
    st: web::Data<AppState>,
    _a: Auditor,
    q: web::Query<RunQuery>,
) -> ApiResult<HttpResponse> {
    Ok(ok(&report(
        &st,
        q.run_id,
        &["missing", "unexpected", "target_error"],
    )
    .await?))
}

/// Object permissions granted directly to logins, bypassing roles, as found by a run.
#[utoipa::path(tag = "reports", params(RunQuery), responses((status = 200, body = DriftReport), CommonErrors), security(("bearer" = [])))]
#[get("/reports/direct-grants")]
pub async fn direct_grants_report(
    st: web::Data<AppState>,
    _a: Auditor,
    q: web::Query<RunQuery>,
) -> ApiResult<HttpResponse> {
    Ok(ok(&report(&st, q.run_id, &["direct_grant"]).await?))
}

/// Live grants whose removal keeps failing on a target (still being retried), newest first,
/// paged: every one of them, however many ended grants once failed.
#[utoipa::path(tag = "reports", params(PageQuery), responses((status = 200, body = Page<Grant>), CommonErrors), security(("bearer" = [])))]
#[get("/reports/revoke-failures")]
pub async fn revoke_failures(
    st: web::Data<AppState>,
    _a: Auditor,
    q: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let p = page(q.limit, q.cursor.as_deref())?;
    let mut c = st.store.conn().await?;
    Ok(ok(&reports::revoke_failures(
        &mut Db::new(&mut c, st.store.dialect()),
        p,
    )
    .await?))
}

/// Directory sync runs with their counts (created, updated, deactivated, unchanged, errors),
/// newest first (the planned changes of a run are only in its own response).
#[utoipa::path(tag = "reports", params(PageQuery), responses((status = 200, body = Page<DirectorySyncRun>), CommonErrors), security(("bearer" = [])))]
#[get("/reports/directory-sync-runs")]
pub async fn directory_sync_runs(
    st: web::Data<AppState>,
    _a: Auditor,
    q: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let p = page(q.limit, q.cursor.as_deref())?;
    let mut c = st.store.conn().await?;
    Ok(ok(&crate::store::directory::list_runs(
        &mut Db::new(&mut c, st.store.dialect()),
        p,
    )
    .await?))
}

/// Numbers for the admin overview: pending requests, active grants, grants ending within the
/// hour, provisioning and failed grants, revocations that keep failing, break-glass grants
/// not reviewed yet and those overdue.
#[utoipa::path(tag = "reports", responses((status = 200, body = Overview), CommonErrors), security(("bearer" = [])))]
#[get("/reports/overview")]
pub async fn overview(st: web::Data<AppState>, _a: Auditor) -> ApiResult<HttpResponse> {
    let mut c = st.store.conn().await?;
    Ok(ok(&crate::store::stats::overview(
        &mut Db::new(&mut c, st.store.dialect()),
        st.now(),
    )
    .await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BreakGlassQuery {
    /// Page size (1-500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page (opaque; only values this API returned).
    pub cursor: Option<String>,
    /// Only grants whose review is `unreviewed` (within its window), `overdue`, `accepted` or
    /// `flagged`.
    pub status: Option<BreakGlassStatus>,
    /// Only grants issued at or after this instant (RFC 3339).
    pub since: Option<chrono::DateTime<chrono::Utc>>,
}

/// Break-glass grants, newest first, paged: holder, role, justification, start and end, and
/// where the after-the-fact review stands (`unreviewed`, `overdue`: unreviewed past its due
/// time, `accepted`, `flagged`).
#[utoipa::path(tag = "reports", params(BreakGlassQuery), responses((status = 200, body = Page<BreakGlassEntry>), CommonErrors), security(("bearer" = [])))]
#[get("/reports/break-glass")]
pub async fn break_glass_report(
    st: web::Data<AppState>,
    _a: Auditor,
    q: web::Query<BreakGlassQuery>,
) -> ApiResult<HttpResponse> {
    let p = page(q.limit, q.cursor.as_deref())?;
    let f = crate::store::break_glass::ReportFilter {
        status: q.status,
        since: q.since,
    };
    Ok(ok(&crate::workflow::break_glass::report(&st, f, p).await?))
}
