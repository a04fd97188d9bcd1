//! Operational endpoints outside `/api/v1`: liveness, readiness, metrics.

use actix_web::{get, web, HttpResponse};
use jitea_shared::{ErrorBody, GrantStatus, Health, RequestStatus};

use crate::state::AppState;
use crate::store::stats::{status_counts, Counted};
use crate::store::Db;

/// Liveness: the process answers.
#[utoipa::path(tag = "ops", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok".into(),
    })
}

/// Readiness: the database answers.
#[utoipa::path(tag = "ops", responses((status = 200, body = Health), (status = 503, body = ErrorBody)))]
#[get("/readyz")]
pub async fn readyz(st: web::Data<AppState>) -> HttpResponse {
    match st.store.ping().await {
        Ok(()) => HttpResponse::Ok().json(Health {
            status: "ready".into(),
        }),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable().json(ErrorBody {
                error: jitea_shared::ErrorInfo {
                    code: "unavailable".into(),
                    message: "the database is not reachable".into(),
                    details: None,
                },
            })
        }
    }
}

/// Prometheus text metrics: requests and grants by status, grants failing revocation.
#[utoipa::path(tag = "ops", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
#[get("/metrics")]
pub async fn metrics(st: web::Data<AppState>) -> HttpResponse {
    let Ok(mut c) = st.store.conn().await else {
        return HttpResponse::ServiceUnavailable().finish();
    };
    let mut db = Db::new(&mut c, st.store.dialect());
    let (Ok(reqs), Ok(grants)) = (
        status_counts(&mut db, Counted::Requests).await,
        status_counts(&mut db, Counted::Grants).await,
    ) else {
        return HttpResponse::ServiceUnavailable().finish();
    };
    let mut out = String::new();
    out.push_str("# HELP jitea_requests Access requests by status.\n# TYPE jitea_requests gauge\n");
    for s in RequestStatus::ALL {
        let n = reqs.get(s.as_str()).copied().unwrap_or(0);
        out.push_str(&format!("jitea_requests{{status=\"{s}\"}} {n}\n"));
    }
    out.push_str("# HELP jitea_grants Grants by status.\n# TYPE jitea_grants gauge\n");
    for s in GrantStatus::ALL {
        let n = grants.get(s.as_str()).copied().unwrap_or(0);
        out.push_str(&format!("jitea_grants{{status=\"{s}\"}} {n}\n"));
    }
    let failing = crate::store::stats::revoke_failed_count(&mut db)
        .await
        .unwrap_or(-1);
    out.push_str("# HELP jitea_grants_revoke_failed Live grants whose removal keeps failing on a target.\n# TYPE jitea_grants_revoke_failed gauge\n");
    out.push_str(&format!("jitea_grants_revoke_failed {failing}\n"));
    let counts = crate::notify::counts();
    out.push_str("# HELP jitea_notifications_sent_total Notifications this process delivered.\n# TYPE jitea_notifications_sent_total counter\n");
    for (c, sent, _) in &counts {
        out.push_str(&format!(
            "jitea_notifications_sent_total{{channel=\"{c}\"}} {sent}\n"
        ));
    }
    out.push_str("# HELP jitea_notifications_failed_total Failed delivery attempts of this process (each retry counts).\n# TYPE jitea_notifications_failed_total counter\n");
    for (c, _, failed) in &counts {
        out.push_str(&format!(
            "jitea_notifications_failed_total{{channel=\"{c}\"}} {failed}\n"
        ));
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(out)
}
