use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::{Justification, Username};
use crate::recovery::{self, RecoveryService};
use crate::routes::auth::{StaffAuthErrors, Support};
use crate::routes::client_info;
use crate::routes::problem::{ApiError, Problem};

#[derive(Deserialize, ToSchema)]
pub struct StartBody {
    #[schema(min_length = 1, max_length = 128)]
    username: String,
    /// Why (such as a ticket number): on every event the agent causes.
    #[schema(example = "caller lost their phone", min_length = 1, max_length = 500)]
    reason: String,
    /// The ticket in the company's tracker.
    #[schema(example = "INC-1234", max_length = 200)]
    #[serde(default)]
    ticket: Option<String>,
    /// How the caller was verified: `call_back` (to the number on file), `manager`,
    /// `in_person` (with an identity document), or `other` with `verification_detail`; other
    /// words are recorded as they are, as `other`. Left out, the log says "not stated".
    #[schema(example = "call_back", max_length = 500)]
    #[serde(default)]
    verification: Option<String>,
    /// What was done, when `verification` is `other`.
    #[schema(max_length = 500)]
    #[serde(default)]
    verification_detail: Option<String>,
}

impl StartBody {
    /// The grounds given.
    fn grounds(&self) -> Result<Justification, ApiError> {
        Justification::parse(
            &self.reason,
            self.ticket.as_deref(),
            self.verification.as_deref(),
            self.verification_detail.as_deref(),
        )
        .map_err(ApiError::from)
    }
}

fn parse_username(input: &str) -> Result<Username, ApiError> {
    Username::parse(input).map_err(|e| ApiError::invalid_request(e.to_string()))
}

/// A recovery started by the support desk.
#[derive(Debug, Serialize, ToSchema)]
pub struct Queued {
    pub recovery_id: Uuid,
    /// `queued`, or `awaiting_approval` with `SUPPORT_REQUIRE_APPROVAL` (the code goes out once
    /// a second person approves it in the staff console).
    #[schema(example = "queued")]
    pub status: &'static str,
    pub email_hint: String,
}

impl From<recovery::Queued> for Queued {
    fn from(queued: recovery::Queued) -> Self {
        Self {
            recovery_id: queued.recovery_id,
            status: if queued.awaiting_approval {
                "awaiting_approval"
            } else {
                "queued"
            },
            email_hint: queued.email_hint,
        }
    }
}

/// A recovery as the support desk sees it: never its code or hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecoverySummary {
    pub recovery_id: Uuid,
    pub username: String,
    pub status: &'static str,
    pub initiated_by: String,
    pub reason: Option<String>,
    pub ticket: Option<String>,
    /// How the agent verified the caller (`call_back`, `manager`, `in_person`, `other: …`).
    pub verification: Option<String>,
    pub email_hint: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub attempts: i32,
}

impl From<recovery::RecoverySummary> for RecoverySummary {
    fn from(r: recovery::RecoverySummary) -> Self {
        Self {
            recovery_id: r.recovery_id,
            username: r.username,
            status: r.shown_status,
            initiated_by: r.initiated_by.stored(),
            reason: r.reason,
            ticket: r.ticket,
            verification: r.verification,
            email_hint: r.email_hint,
            created_at: r.created_at,
            expires_at: r.expires_at,
            finished_at: r.finished_at,
            attempts: r.attempts,
        }
    }
}

/// Start the emailed-code recovery for a user, to the verified address on file.
#[utoipa::path(
    post, path = "/v1/support/recoveries", tag = "support",
    request_body = StartBody,
    security(("staff_key" = [])),
    responses(
        (status = 202, description = "Queued", body = Queued),
        (status = 400, description = "`invalid_request` (reason required)", body = Problem, content_type = "application/problem+json"),
        StaffAuthErrors,
        (status = 404, description = "`user_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`no_verified_email`, `no_totp_authenticator` or `user_disabled`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: support already started its daily quota of recoveries for this user (`SUPPORT_RECOVERIES_PER_USER_PER_DAY`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`identity_provider_unavailable`, or `email_budget_spent` (the service's hourly email budget, `RECOVERY_EMAILS_PER_HOUR`, is spent; `Retry-After`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn start(
    req: HttpRequest,
    Support(staff): Support,
    body: web::Json<StartBody>,
    service: web::Data<RecoveryService>,
) -> Result<HttpResponse, ApiError> {
    let username = parse_username(&body.username)?;
    let grounds = body.grounds()?;
    let queued = service
        .request_for_user(&staff.agent(), username, grounds, client_info(&req))
        .await?;
    Ok(HttpResponse::Accepted().json(Queued::from(queued)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The user's name or alias (required: without it the answer is `400 invalid_request`).
    // An `Option` only so that a missing name gets that problem rather than actix's own.
    #[param(required = true)]
    username: Option<String>,
}

/// Recoveries of the user, as a list.
#[derive(Serialize, ToSchema)]
pub struct RecoveryList {
    recoveries: Vec<RecoverySummary>,
}

/// A user's recoveries, newest first (never codes or hashes).
#[utoipa::path(
    get, path = "/v1/support/recoveries", tag = "support",
    params(ListQuery),
    security(("staff_key" = [])),
    responses(
        (status = 200, description = "The user's recoveries", body = RecoveryList),
        (status = 400, description = "`invalid_request`", body = Problem, content_type = "application/problem+json"),
        StaffAuthErrors,
    )
)]
pub async fn list(
    req: HttpRequest,
    Support(staff): Support,
    query: web::Query<ListQuery>,
    service: web::Data<RecoveryService>,
) -> Result<HttpResponse, ApiError> {
    let username = query
        .username
        .as_deref()
        .ok_or_else(|| ApiError::invalid_request("The `username` query parameter is required."))?;
    let username = parse_username(username)?;
    let recoveries = service
        .recoveries_of(&staff.agent(), &username, &client_info(&req))
        .await?
        .into_iter()
        .map(RecoverySummary::from)
        .collect();
    Ok(HttpResponse::Ok().json(RecoveryList { recoveries }))
}

/// Cancel an open recovery: its code stops working at once.
#[utoipa::path(
    post, path = "/v1/support/recoveries/{recovery_id}/cancel", tag = "support",
    params(("recovery_id" = Uuid, Path, description = "The recovery")),
    security(("staff_key" = [])),
    responses(
        (status = 200, description = "Cancelled", body = RecoverySummary),
        (status = 400, description = "`invalid_request`: `recovery_id` is not a UUID", body = Problem, content_type = "application/problem+json"),
        StaffAuthErrors,
        (status = 404, description = "`recovery_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`recovery_not_cancellable`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn cancel(
    req: HttpRequest,
    Support(staff): Support,
    path: web::Path<String>,
    service: web::Data<RecoveryService>,
) -> Result<HttpResponse, ApiError> {
    let id = Uuid::parse_str(&path).map_err(|_| {
        ApiError::invalid_request(
            "recovery_id must be a recovery's id, a UUID such as 5f0c1a52-9d3e-4b7a-8c61-2f4e9a0b7d13, as listed by GET /v1/support/recoveries.",
        )
    })?;
    let recovery = service
        .cancel(&staff.agent(), id, &client_info(&req))
        .await?;
    Ok(HttpResponse::Ok().json(RecoverySummary::from(recovery)))
}

/// What clearing a lock did.
#[derive(Debug, Serialize, ToSchema)]
pub struct LockCleared {
    pub status: &'static str,
    /// Wrong confirmations forgotten, from every address.
    pub failures_cleared: u64,
}

/// Clear a user's lock: forgets their wrong confirmations from every address, so that a new
/// code can be confirmed at once. Locked codes stay locked; the user requests a new one (or
/// support starts one). Needs a reason, like every support action.
#[utoipa::path(
    post, path = "/v1/support/unlock", tag = "support",
    request_body = StartBody,
    security(("staff_key" = [])),
    responses(
        (status = 200, description = "Cleared", body = LockCleared),
        (status = 400, description = "`invalid_request` (reason required)", body = Problem, content_type = "application/problem+json"),
        StaffAuthErrors,
        (status = 404, description = "`user_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`identity_provider_unavailable`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn unlock(
    req: HttpRequest,
    Support(staff): Support,
    body: web::Json<StartBody>,
    service: web::Data<RecoveryService>,
) -> Result<HttpResponse, ApiError> {
    let username = parse_username(&body.username)?;
    let grounds = body.grounds()?;
    let failures_cleared = service
        .clear_lock(&staff.agent(), username, &grounds, &client_info(&req))
        .await?;
    Ok(HttpResponse::Ok().json(LockCleared {
        status: "cleared",
        failures_cleared,
    }))
}
