use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse, ResponseError};
use sqlx::PgPool;

use super::presentation::ProblemCode;
use super::problem::{ApiError, Problem};
use crate::audit::ChainWatch;

/// The process is alive.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "Alive")))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// The service can do its work: the database answers (within 2 s), its background loops (job
/// loops, retention, audit sequencer) and request writers run, no audit event has waited too
/// long to be chained, and Cognito lets it read its user pool.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses(
    (status = 200, description = "Ready"),
    (status = 503, description = "`not_ready`: the database does not answer, a background loop or the request writers stopped, an audit event has waited longer than `AUDIT_PENDING_MAX_SECONDS` to be chained, or the user pool cannot be read", body = Problem, content_type = "application/problem+json"),
))]
pub async fn readyz(
    db: web::Data<PgPool>,
    service: web::Data<crate::recovery::RecoveryService>,
    liveness: web::Data<crate::worker::Liveness>,
    chain: web::Data<ChainWatch>,
) -> HttpResponse {
    let answered = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(db.get_ref()),
    )
    .await;
    let not_ready = |detail: &str| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ProblemCode::NotReady,
            detail,
        )
        .error_response()
    };
    if !matches!(answered, Ok(Ok(_))) {
        return not_ready("The database does not answer.");
    }
    if !liveness.all_running() {
        return not_ready("A background loop of the service stopped (the job loops, the retention loop or the audit sequencer): restart it.");
    }
    if !service.accepts_requests() {
        return not_ready("The service's request writers stopped: restart it.");
    }
    match chain.stalled(&db, service.now()).await {
        Ok(Some(waited)) => {
            return not_ready(&format!(
                "An audit event has waited {waited:.0} s to be chained (AUDIT_PENDING_MAX_SECONDS is {}): the audit sequencer is stuck, or a database session holds the chain's lock.",
                chain.max_wait.as_secs()
            ))
        }
        Ok(None) => {}
        Err(_) => return not_ready("The database does not answer."),
    }
    if !service.readiness().pool_readable().await {
        return not_ready("Cognito refuses to let the service read its user pool: check COGNITO_USER_POOL_ID, AWS_REGION and the IAM policy.");
    }
    HttpResponse::Ok().json(serde_json::json!({"status": "ready"}))
}

/// Prometheus text exposition of the process's metrics, with the queue and email-budget gauges
/// read from the database at scrape time.
pub async fn metrics(
    service: web::Data<crate::recovery::RecoveryService>,
    db: web::Data<PgPool>,
) -> HttpResponse {
    if let Err(err) = service.observe_gauges().await {
        super::problem::log_unexpected("reading the gauges for /metrics failed", &err);
    }
    if let Err(err) = ChainWatch::waited(&db, service.now()).await {
        super::problem::log_unexpected("reading the audit chain's lag for /metrics failed", &err);
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(crate::telemetry::metrics().render())
}
