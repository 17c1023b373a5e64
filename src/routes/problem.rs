//! Every error leaves the service as RFC 9457 problem+json with a stable `code`. Unexpected
//! errors are logged once here, with their whole source chain; the client gets no internals.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::cognito::IdpError;
use crate::recovery::{ConfirmError, EnrollmentError, Ineligible, RequestError, SupportError};
pub use crate::telemetry::log_unexpected;

/// RFC 9457 problem details, with a stable snake_case `code`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    #[schema(example = "tag:mfa-recovery,2026:problem/invalid_recovery")]
    pub kind: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    /// Stable, machine-readable: `invalid_request`, `invalid_recovery`, `too_many_attempts`,
    /// `rate_limited`, `identity_provider_unavailable`, `mfa_reset_failed`, `unauthorized`,
    /// `forbidden`, `user_not_found`, `no_verified_email`, `no_totp_authenticator`, `user_disabled`,
    /// `recovery_not_found`, `recovery_not_cancellable`, `invalid_cancel_token`, `invalid_totp`,
    /// `invalid_enrollment`, `enrollment_failed`,
    /// `payload_too_large`, `unsupported_media_type`, `not_found`, `method_not_allowed`,
    /// `service_unavailable`, `not_ready`, `internal_error`.
    #[schema(example = "invalid_recovery")]
    pub code: &'static str,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    detail: String,
    headers: Vec<(header::HeaderName, String)>,
}

/// `text` with a capital first letter and a final full stop.
fn sentence(text: String) -> String {
    let mut chars = text.trim().chars();
    let Some(first) = chars.next() else {
        return text;
    };
    let mut out: String = first.to_uppercase().chain(chars).collect();
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code,
            title,
            detail: detail.into(),
            headers: Vec::new(),
        }
    }

    /// `detail` is made a sentence (a capital letter, a full stop), so that the domain's
    /// messages ("username must not be empty") read like every other detail.
    pub fn invalid_request(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Invalid request",
            sentence(detail.into()),
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Internal error",
            "The request could not be completed. It is safe to retry.",
        )
    }

    pub fn retry_after(self, seconds: u64) -> Self {
        self.header(header::RETRY_AFTER, seconds.to_string())
    }

    pub fn header(mut self, name: header::HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unauthorized",
            "A valid staff key is required: Authorization: Bearer <key>.",
        )
        .header(header::WWW_AUTHENTICATE, "Bearer")
    }

    pub fn rate_limited(retry_after: u64) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Rate limited",
            "Too many requests from this address. Try again later.",
        )
        .retry_after(retry_after)
    }

    /// The limit counters cannot be read: refuse rather than serve unlimited (fail closed).
    /// Every hashing slot stayed busy (`HASH_QUEUE_TIMEOUT_MS`): nothing was judged.
    pub fn busy() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            "Service busy",
            "The service is busy. Nothing was checked and your code is still valid: try again in a few seconds.",
        )
        .retry_after(BUSY_RETRY_AFTER_SECONDS)
    }

    /// The database failed while `doing`: 503 with `Retry-After` while it cannot be reached
    /// (the service reconnects by itself), 500 for anything else. Logged either way.
    pub fn store(doing: &str, err: &sqlx::Error) -> Self {
        log_unexpected(doing, err);
        if !crate::store::unavailable(err) {
            return Self::internal();
        }
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            "Service unavailable",
            "The service cannot reach its database right now. Try again in a few seconds.",
        )
        .retry_after(DATABASE_RETRY_AFTER_SECONDS)
    }

    pub fn limits_unavailable(err: &sqlx::Error) -> Self {
        log_unexpected("the rate-limit store failed; refusing the request", err);
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            "Service unavailable",
            "The service cannot check its limits right now. Try again shortly.",
        )
        .retry_after(30)
    }

    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Forbidden",
            "This staff key's role may not use this endpoint.",
        )
    }

    pub fn code(&self) -> &'static str {
        self.code
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let body = Problem {
            // RFC 9457 §3.1.1: a type that is not meant to be dereferenced is best a tag URI.
            kind: format!("tag:mfa-recovery,2026:problem/{}", self.code),
            title: self.title,
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code,
        };
        let mut response = HttpResponse::build(self.status);
        response.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        for (name, value) in &self.headers {
            response.insert_header((name.clone(), value.as_str()));
        }
        response.json(body)
    }
}

impl From<RequestError> for ApiError {
    fn from(err: RequestError) -> Self {
        match err {
            RequestError::RateLimited { retry_after } => ApiError::rate_limited(retry_after),
            RequestError::LimitsUnavailable(ref e) => ApiError::limits_unavailable(e),
            // Only support requests have a quota, and they map `SupportError::QuotaSpent`.
            RequestError::SupportQuotaSpent { .. } => ApiError::rate_limited(DAY_SECONDS),
            RequestError::Store(ref e) => ApiError::store("recording a recovery request failed", e),
        }
    }
}

const DAY_SECONDS: u64 = 86_400;
/// How long a client waits before retrying while the database cannot be reached.
const DATABASE_RETRY_AFTER_SECONDS: u64 = 5;
/// A reset in progress is usually done within seconds.
const RESET_RETRY_AFTER_SECONDS: u64 = 5;
/// A flood of confirmations passes within seconds.
const BUSY_RETRY_AFTER_SECONDS: u64 = 2;

/// How long a client should wait before retrying when Cognito is unreachable.
const IDP_RETRY_AFTER_SECONDS: u64 = 30;

impl From<ConfirmError> for ApiError {
    fn from(err: ConfirmError) -> Self {
        match err {
            ConfirmError::Invalid => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_recovery",
                "Invalid recovery",
                "The recovery code or password is not valid, or the code has expired or was replaced. Request a new code if needed.",
            ),
            ConfirmError::Locked => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                "Too many attempts",
                "Too many wrong codes were typed from this network, so its codes are locked. Request a new code, or ask support to clear the lock.",
            ),
            ConfirmError::Throttled { retry_after } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                "Too many attempts",
                "Too many wrong attempts for this account lately. Wait before trying again.",
            )
            .retry_after(retry_after),
            ConfirmError::RateLimited { retry_after } => ApiError::rate_limited(retry_after),
            ConfirmError::LimitsUnavailable(ref e) => ApiError::limits_unavailable(e),
            ConfirmError::IdentityProviderUnavailable(ref source) => {
                log_unexpected("Cognito unavailable during confirmation", source);
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "identity_provider_unavailable",
                    "Identity provider unavailable",
                    "The identity provider could not be reached. Your code is still valid: try again shortly. If the reset had begun, the service finishes it on its own.",
                )
                .retry_after(IDP_RETRY_AFTER_SECONDS)
            }
            ConfirmError::ResetNotApplied(_) => ApiError::new(
                StatusCode::BAD_GATEWAY,
                "mfa_reset_failed",
                "Authenticator not removed",
                "The identity provider did not remove the authenticator, so nothing was reset. Contact support; the attempt was recorded.",
            ),
            ConfirmError::Store(ref e) => {
                ApiError::store("confirmation failed in the database", e)
            }
            ConfirmError::Busy => ApiError::busy(),
            ConfirmError::ResetInProgress => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "reset_in_progress",
                "Reset in progress",
                "Your authenticator is being removed. Try again in a few seconds with the same code to see it done.",
            )
            .retry_after(RESET_RETRY_AFTER_SECONDS),
            ConfirmError::Hashing(ref e) => {
                log_unexpected("confirmation failed while hashing", e);
                ApiError::internal()
            }
        }
    }
}

impl From<SupportError> for ApiError {
    fn from(err: SupportError) -> Self {
        let detail = err.to_string();
        match err {
            SupportError::NotEligible(Ineligible::UnknownUser) => ApiError::new(
                StatusCode::NOT_FOUND,
                "user_not_found",
                "User not found",
                "No user of the pool has this username or alias.",
            ),
            SupportError::NotEligible(Ineligible::NoVerifiedEmail) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "no_verified_email",
                "No verified email",
                "The user has no verified email address, so no code can be sent. Verify the address in Cognito first.",
            ),
            SupportError::NotEligible(Ineligible::NothingToRecover(factors)) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "no_totp_authenticator",
                "No authenticator",
                format!(
                    "The user has {}, so there is nothing to recover.",
                    factors.missing()
                ),
            ),
            SupportError::NotEligible(Ineligible::Disabled) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "user_disabled",
                "User disabled",
                "The user is disabled in Cognito, so no code is sent. Enable the user first if the recovery is legitimate.",
            ),
            SupportError::EmailBudgetSpent { retry_after } => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "email_budget_spent",
                "Email budget spent",
                format!("{detail}. No code could be sent now; nothing was queued."),
            )
            .retry_after(retry_after),
            SupportError::QuotaSpent { .. } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "Too many recoveries for this user",
                detail,
            )
            .retry_after(DAY_SECONDS),
            SupportError::RecoveryNotFound => ApiError::new(
                StatusCode::NOT_FOUND,
                "recovery_not_found",
                "Recovery not found",
                detail,
            ),
            SupportError::NotCancellable(_) => ApiError::new(
                StatusCode::CONFLICT,
                "recovery_not_cancellable",
                "Recovery not cancellable",
                detail,
            ),
            SupportError::IdentityProviderUnavailable(ref source) => {
                log_unexpected("Cognito unavailable for the support desk", source);
                let detail = match source {
                    IdpError::Refused { .. } => "The identity provider refuses to let the service read the user pool, so nothing was queued. This is a configuration problem: tell the operator.",
                    IdpError::Unavailable { .. } => "The identity provider could not be reached. Nothing was queued: try again shortly.",
                };
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "identity_provider_unavailable",
                    "Identity provider unavailable",
                    detail,
                )
                .retry_after(IDP_RETRY_AFTER_SECONDS)
            }
            SupportError::Store(ref e) => {
                ApiError::store("support desk request failed in the database", e)
            }
        }
    }
}

impl From<EnrollmentError> for ApiError {
    fn from(err: EnrollmentError) -> Self {
        match err {
            EnrollmentError::InvalidTotp => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_totp",
                "Invalid code",
                "The code from the authenticator app is not valid. Check that the app shows this account and try the current code.",
            ),
            EnrollmentError::Invalid => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_enrollment",
                "Invalid enrollment",
                "This enrollment is unknown, was already used, or has expired. Sign in to set up your authenticator app.",
            ),
            EnrollmentError::RateLimited { retry_after } => ApiError::rate_limited(retry_after),
            EnrollmentError::LimitsUnavailable(ref e) => ApiError::limits_unavailable(e),
            EnrollmentError::IdentityProviderUnavailable(ref source) => {
                log_unexpected("Cognito unavailable during enrollment", source);
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "identity_provider_unavailable",
                    "Identity provider unavailable",
                    "The identity provider could not be reached. The enrollment stays open: try again shortly.",
                )
                .retry_after(IDP_RETRY_AFTER_SECONDS)
            }
            EnrollmentError::NotApplied(_) => ApiError::new(
                StatusCode::BAD_GATEWAY,
                "enrollment_failed",
                "Authenticator not set up",
                "The identity provider accepted the code but did not make the app your sign-in factor. Sign in to set it up, or contact support; the attempt was recorded.",
            ),
            EnrollmentError::Store(ref e) => {
                ApiError::store("enrollment failed in the database", e)
            }
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        ApiError::store("database error", &err)
    }
}
