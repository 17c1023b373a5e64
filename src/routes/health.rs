use actix_web::{web, HttpResponse};
use sqlx::PgPool;

/// The process is alive.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// The service can do its work: the database answers.
pub async fn readyz(db: web::Data<PgPool>) -> HttpResponse {
    let answered = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(db.get_ref()),
    )
    .await;
    match answered {
        Ok(Ok(_)) => HttpResponse::Ok().json(serde_json::json!({"status": "ready"})),
        _ => HttpResponse::ServiceUnavailable()
            .content_type("application/problem+json")
            .json(serde_json::json!({
                "type": "https://mfa-recovery.dev/problems/not-ready",
                "title": "Not ready",
                "status": 503,
                "detail": "The database does not answer.",
                "code": "not_ready",
            })),
    }
}
