use actix_web::{web, HttpRequest, HttpResponse};
use secrecy::SecretString;
use serde::Deserialize;

use super::client_info;
use super::problem::ApiError;
use crate::domain::{Actor, RecoveryCode, Username};
use crate::recovery::{ConfirmOutcome, Confirmation, RecoveryRequest, RecoveryService};
use crate::settings::RecoverySettings;

#[derive(Deserialize)]
pub struct RequestBody {
    username: String,
}

/// `POST /v1/recovery`: the same 202 for every well-formed username.
pub async fn request(
    req: HttpRequest,
    body: web::Json<RequestBody>,
    service: web::Data<RecoveryService>,
) -> Result<HttpResponse, ApiError> {
    let username =
        Username::parse(&body.username).map_err(|e| ApiError::invalid_request(e.to_string()))?;
    service
        .request(RecoveryRequest {
            username,
            actor: Actor::User,
            reason: None,
            client: client_info(&req),
        })
        .await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({"status": "accepted"})))
}

#[derive(Deserialize)]
pub struct ConfirmBody {
    username: String,
    code: String,
    password: Option<SecretString>,
}

/// `POST /v1/recovery/confirm`.
pub async fn confirm(
    req: HttpRequest,
    body: web::Json<ConfirmBody>,
    service: web::Data<RecoveryService>,
    rules: web::Data<RecoverySettings>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let username =
        Username::parse(&body.username).map_err(|e| ApiError::invalid_request(e.to_string()))?;
    let code =
        RecoveryCode::parse(&body.code).map_err(|e| ApiError::invalid_request(e.to_string()))?;
    if rules.require_password && body.password.is_none() {
        return Err(ApiError::invalid_request("password is required"));
    }
    let outcome = service
        .confirm(Confirmation {
            username,
            code,
            password: body.password,
            client: client_info(&req),
        })
        .await?;
    Ok(match outcome {
        ConfirmOutcome::Reset => {
            HttpResponse::Ok().json(serde_json::json!({"status": "mfa_reset"}))
        }
        ConfirmOutcome::Scheduled { reset_at } => {
            HttpResponse::Accepted().json(serde_json::json!({
                "status": "reset_scheduled",
                "reset_at": reset_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            }))
        }
    })
}
