use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;

use super::auth::Support;
use super::client_info;
use super::problem::ApiError;
use crate::domain::Username;
use crate::recovery::{RecoveryService, SupportError};

/// A reason (such as a ticket number) is required and goes on every event the agent causes.
const REASON_MAX_CHARS: usize = 500;

#[derive(Deserialize)]
pub struct StartBody {
    username: String,
    reason: String,
}

fn parse_reason(input: &str) -> Result<String, ApiError> {
    let reason = input.trim();
    if reason.is_empty()
        || reason.chars().count() > REASON_MAX_CHARS
        || reason.chars().any(char::is_control)
    {
        return Err(ApiError::invalid_request(format!(
            "reason is required: 1 to {REASON_MAX_CHARS} characters, such as a ticket number, without control characters"
        )));
    }
    Ok(reason.to_owned())
}

fn parse_username(input: &str) -> Result<Username, ApiError> {
    Username::parse(input).map_err(|e| ApiError::invalid_request(e.to_string()))
}

/// `POST /v1/support/recoveries`.
pub async fn start(
    req: HttpRequest,
    Support(staff): Support,
    body: web::Json<StartBody>,
    service: web::Data<RecoveryService>,
) -> Result<HttpResponse, ApiError> {
    let username = parse_username(&body.username)?;
    let reason = parse_reason(&body.reason)?;
    let queued = service
        .request_for_user(&staff.name, username, reason, client_info(&req))
        .await?;
    Ok(HttpResponse::Accepted().json(queued))
}

#[derive(Deserialize)]
pub struct ListQuery {
    username: Option<String>,
}

/// `GET /v1/support/recoveries?username=`.
pub async fn list(
    req: HttpRequest,
    Support(staff): Support,
    query: web::Query<ListQuery>,
    service: web::Data<RecoveryService>,
) -> Result<HttpResponse, ApiError> {
    let username = query
        .username
        .as_deref()
        .ok_or_else(|| ApiError::invalid_request("the username query parameter is required"))?;
    let username = parse_username(username)?;
    let recoveries = service
        .recoveries_of(&staff.name, &username, &client_info(&req))
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "recoveries": recoveries })))
}

/// `POST /v1/support/recoveries/{recovery_id}/cancel`.
pub async fn cancel(
    req: HttpRequest,
    Support(staff): Support,
    path: web::Path<String>,
    service: web::Data<RecoveryService>,
) -> Result<HttpResponse, ApiError> {
    let id = Uuid::parse_str(&path).map_err(|_| ApiError::from(SupportError::RecoveryNotFound))?;
    let recovery = service.cancel(&staff.name, id, &client_info(&req)).await?;
    Ok(HttpResponse::Ok().json(recovery))
}
