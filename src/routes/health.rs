use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse, ResponseError};
use sqlx::PgPool;

use super::problem::{ApiError, Problem};

/// The process is alive.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "Alive")))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// The service can do its work: the database answers (within 2 s).
#[utoipa::path(get, path = "/readyz", tag = "operations", responses(
    (status = 200, description = "Ready"),
    (status = 503, description = "`not_ready`: the database does not answer", body = Problem, content_type = "application/problem+json"),
))]
pub async fn readyz(db: web::Data<PgPool>) -> HttpResponse {
    let answered = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(db.get_ref()),
    )
    .await;
    match answered {
        Ok(Ok(_)) => HttpResponse::Ok().json(serde_json::json!({"status": "ready"})),
        _ => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "Not ready",
            "The database does not answer.",
        )
        .error_response(),
    }
}

/// Prometheus text exposition of the process's metrics, with the queue and email-budget gauges
/// read from the database at scrape time.
pub async fn metrics(service: web::Data<crate::recovery::RecoveryService>) -> HttpResponse {
    if let Err(err) = service.observe_gauges().await {
        super::problem::log_unexpected("reading the gauges for /metrics failed", &err);
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(crate::telemetry::metrics().render())
}
