//! How each use-case error is presented, decided once: its status, stable problem code,
//! `Retry-After` and words, in one exhaustive `match` per error (no `_` arm, so a new variant
//! does not compile until it is presented). `problem` renders a presentation as problem+json and
//! `pages` as a page, so an API client and a person never hear different things about the same
//! failure. Unexpected errors are logged here, once, with their source chain.

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;

use super::messages::Message;
use crate::domain::{JustificationError, REASON_MAX_CHARS, TICKET_MAX_CHARS};
use crate::idp::IdpError;
use crate::recovery::{
    CancelLinkError, ConfirmError, EnrollmentError, Ineligible, RequestError, SupportError,
};
use crate::staff::console::{Refusal, SignInError};
use crate::staff::sign_in::ProviderError;
use crate::telemetry::log_unexpected;
use crate::words::Words;

crate::domain::closed_vocabulary! {
    /// The closed vocabulary of problem codes: what API clients branch on.
    pub enum ProblemCode {
        InvalidRequest = "invalid_request",
        InvalidRecovery = "invalid_recovery",
        TooManyAttempts = "too_many_attempts",
        RateLimited = "rate_limited",
        IdentityProviderUnavailable = "identity_provider_unavailable",
        MfaResetFailed = "mfa_reset_failed",
        ResetInProgress = "reset_in_progress",
        Unauthorized = "unauthorized",
        Forbidden = "forbidden",
        UserNotFound = "user_not_found",
        NoVerifiedEmail = "no_verified_email",
        NoTotpAuthenticator = "no_totp_authenticator",
        UserDisabled = "user_disabled",
        EmailBudgetSpent = "email_budget_spent",
        RecoveryNotFound = "recovery_not_found",
        RecoveryNotCancellable = "recovery_not_cancellable",
        InvalidCancelToken = "invalid_cancel_token",
        InvalidTotp = "invalid_totp",
        InvalidSignInCode = "invalid_sign_in_code",
        InvalidEnrollment = "invalid_enrollment",
        EnrollmentFailed = "enrollment_failed",
        PasskeyNotFound = "passkey_not_found",
        PasskeyNotRemoved = "passkey_not_removed",
        PayloadTooLarge = "payload_too_large",
        UnsupportedMediaType = "unsupported_media_type",
        NotFound = "not_found",
        MethodNotAllowed = "method_not_allowed",
        ServiceUnavailable = "service_unavailable",
        NotReady = "not_ready",
        InternalError = "internal_error",
        SignInFailed = "sign_in_failed",
        SeveralUsers = "several_users",
        OwnAccount = "own_account",
        SelfApproval = "self_approval",
        RecoveryNotApprovable = "recovery_not_approvable",
    }
}

/// Clients read the code as its stable name.
impl serde::Serialize for ProblemCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The OpenAPI document lists every code, from `ALL`.
impl utoipa::PartialSchema for ProblemCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(Self::ALL.iter().map(|code| code.as_str())))
            .description(Some(
                "Stable and machine-readable: what a client branches on.",
            ))
            .examples([serde_json::json!("invalid_recovery")])
            .into()
    }
}

impl utoipa::ToSchema for ProblemCode {}

impl ProblemCode {
    /// The problem's title: one per code, as RFC 9457 §3.1.3 asks of a problem type
    /// (`title-…` in `errors.ftl`).
    pub fn title(self, words: &Words) -> String {
        words.get(&format!("title-{}", self.as_str().replace('_', "-")))
    }
}

/// What one failure is, for whoever hears of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presentation {
    pub status: StatusCode,
    pub code: ProblemCode,
    /// Seconds a client waits before trying again (`Retry-After`).
    pub retry_after: Option<u64>,
    pub message: Message,
    /// Not the client's doing: logged once, under this context, with the error's source chain.
    pub unexpected: Option<&'static str>,
}

impl Presentation {
    fn new(status: StatusCode, code: ProblemCode, message: Message) -> Self {
        Self {
            status,
            code,
            retry_after: None,
            message,
            unexpected: None,
        }
    }

    /// `response` (a rendering of this presentation) with its `Retry-After`, if it has one.
    pub fn with_retry_after(&self, mut response: HttpResponse) -> HttpResponse {
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        }
        response
    }

    fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    fn unexpected(mut self, context: &'static str) -> Self {
        self.unexpected = Some(context);
        self
    }

    /// The client address is over its limit.
    pub fn rate_limited(retry_after: u64) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            ProblemCode::RateLimited,
            Message::AddressLimited { retry_after },
        )
        .retry_after(retry_after)
    }

    /// The limit counters cannot be read: refuse rather than serve unlimited (fail closed).
    fn limits_unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ProblemCode::ServiceUnavailable,
            Message::LimitsUnavailable,
        )
        .retry_after(LIMITS_RETRY_AFTER_SECONDS)
        .unexpected("the rate-limit store failed; refusing the request")
    }

    /// The database failed while `doing`: 503 with `Retry-After` while it cannot be reached
    /// (the service reconnects by itself), 500 for anything else.
    fn store(doing: &'static str, err: &sqlx::Error) -> Self {
        if crate::store::unavailable(err) {
            Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ProblemCode::ServiceUnavailable,
                Message::DatabaseUnavailable,
            )
            .retry_after(DATABASE_RETRY_AFTER_SECONDS)
            .unexpected(doing)
        } else {
            Self::internal(doing)
        }
    }

    pub fn internal(doing: &'static str) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ProblemCode::InternalError,
            Message::Internal,
        )
        .unexpected(doing)
    }

    fn identity_provider_unavailable(message: Message, doing: &'static str) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ProblemCode::IdentityProviderUnavailable,
            message,
        )
        .retry_after(IDP_RETRY_AFTER_SECONDS)
        .unexpected(doing)
    }
}

const DAY_SECONDS: u64 = 86_400;
/// How long a client waits before retrying while the database cannot be reached.
const DATABASE_RETRY_AFTER_SECONDS: u64 = 5;
/// How long a client waits while the limit counters cannot be read.
const LIMITS_RETRY_AFTER_SECONDS: u64 = 30;
/// A reset in progress is usually done within seconds.
const RESET_RETRY_AFTER_SECONDS: u64 = 5;
/// A flood of confirmations passes within seconds.
const BUSY_RETRY_AFTER_SECONDS: u64 = 2;
/// How long a client should wait before retrying when Cognito is unreachable.
const IDP_RETRY_AFTER_SECONDS: u64 = 30;

/// An error with one presentation.
pub trait Present: std::error::Error + 'static {
    fn presentation(&self) -> Presentation;
}

/// `err`'s presentation, logged once if it is unexpected: what both renderings call.
pub fn present(err: &dyn Present) -> Presentation {
    let presentation = err.presentation();
    if let Some(context) = presentation.unexpected {
        log_unexpected(context, err);
    }
    presentation
}

impl Present for RequestError {
    fn presentation(&self) -> Presentation {
        match self {
            Self::RateLimited { retry_after } => Presentation::rate_limited(*retry_after),
            Self::LimitsUnavailable(_) => Presentation::limits_unavailable(),
            // Only support requests have a quota (`SupportError::QuotaSpent` says more).
            Self::SupportQuotaSpent { started } => Presentation::new(
                StatusCode::TOO_MANY_REQUESTS,
                ProblemCode::RateLimited,
                Message::SupportQuotaSpent {
                    started: *started,
                    per_day: None,
                },
            )
            .retry_after(DAY_SECONDS),
            Self::Store(e) => Presentation::store("recording a recovery request failed", e),
        }
    }
}

impl Present for ConfirmError {
    fn presentation(&self) -> Presentation {
        match self {
            Self::Invalid => Presentation::new(
                StatusCode::BAD_REQUEST,
                ProblemCode::InvalidRecovery,
                Message::InvalidRecovery,
            ),
            Self::Locked => Presentation::new(
                StatusCode::TOO_MANY_REQUESTS,
                ProblemCode::TooManyAttempts,
                Message::Locked,
            ),
            Self::Throttled { retry_after } => Presentation::new(
                StatusCode::TOO_MANY_REQUESTS,
                ProblemCode::TooManyAttempts,
                Message::AccountThrottled {
                    retry_after: *retry_after,
                },
            )
            .retry_after(*retry_after),
            Self::RateLimited { retry_after } => Presentation::rate_limited(*retry_after),
            Self::LimitsUnavailable(_) => Presentation::limits_unavailable(),
            Self::IdentityProviderUnavailable(_) => Presentation::identity_provider_unavailable(
                Message::IdpUnavailableCodeKept,
                "Cognito unavailable during confirmation",
            ),
            Self::ResetNotApplied(_) => Presentation::new(
                StatusCode::BAD_GATEWAY,
                ProblemCode::MfaResetFailed,
                Message::ResetNotApplied,
            ),
            Self::Store(e) => Presentation::store("confirmation failed in the database", e),
            Self::Hashing(_) => Presentation::internal("confirmation failed while hashing"),
            Self::Busy => Presentation::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ProblemCode::ServiceUnavailable,
                Message::Busy,
            )
            .retry_after(BUSY_RETRY_AFTER_SECONDS),
            Self::ResetInProgress => Presentation::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ProblemCode::ResetInProgress,
                Message::ResetInProgress,
            )
            .retry_after(RESET_RETRY_AFTER_SECONDS),
        }
    }
}

impl Present for EnrollmentError {
    fn presentation(&self) -> Presentation {
        match self {
            Self::InvalidTotp => Presentation::new(
                StatusCode::BAD_REQUEST,
                ProblemCode::InvalidTotp,
                Message::InvalidTotp,
            ),
            Self::InvalidSignInCode => Presentation::new(
                StatusCode::BAD_REQUEST,
                ProblemCode::InvalidSignInCode,
                Message::InvalidSignInCode,
            ),
            Self::Invalid => Presentation::new(
                StatusCode::BAD_REQUEST,
                ProblemCode::InvalidEnrollment,
                Message::EnrollmentGone,
            ),
            Self::InvalidLink => Presentation::new(
                StatusCode::BAD_REQUEST,
                ProblemCode::InvalidEnrollment,
                Message::EnrolLinkInvalid,
            ),
            Self::RateLimited { retry_after } => Presentation::rate_limited(*retry_after),
            Self::LimitsUnavailable(_) => Presentation::limits_unavailable(),
            Self::IdentityProviderUnavailable(_) => Presentation::identity_provider_unavailable(
                Message::IdpUnavailableEnrollmentKept,
                "Cognito unavailable during enrollment",
            ),
            Self::NotApplied(_) => Presentation::new(
                StatusCode::BAD_GATEWAY,
                ProblemCode::EnrollmentFailed,
                Message::EnrollmentNotApplied,
            ),
            Self::PasskeyNotFound => Presentation::new(
                StatusCode::NOT_FOUND,
                ProblemCode::PasskeyNotFound,
                Message::PasskeyNotFound,
            ),
            Self::PasskeyNotRemoved => Presentation::new(
                StatusCode::BAD_GATEWAY,
                ProblemCode::PasskeyNotRemoved,
                Message::PasskeyNotRemoved,
            ),
            Self::Store(e) => Presentation::store("enrollment failed in the database", e),
        }
    }
}

impl Present for SupportError {
    fn presentation(&self) -> Presentation {
        match self {
            Self::NotEligible(Ineligible::UnknownUser) => Presentation::new(
                StatusCode::NOT_FOUND,
                ProblemCode::UserNotFound,
                Message::UserNotFound,
            ),
            Self::NotEligible(Ineligible::NoVerifiedEmail) => Presentation::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ProblemCode::NoVerifiedEmail,
                Message::NoVerifiedEmail,
            ),
            Self::NotEligible(Ineligible::NothingToRecover(factors)) => Presentation::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ProblemCode::NoTotpAuthenticator,
                Message::NothingToRecover {
                    missing: factors.missing(),
                },
            ),
            Self::NotEligible(Ineligible::Disabled) => Presentation::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ProblemCode::UserDisabled,
                Message::UserDisabled,
            ),
            Self::EmailBudgetSpent { retry_after } => Presentation::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ProblemCode::EmailBudgetSpent,
                Message::EmailBudgetSpent {
                    retry_after: *retry_after,
                },
            )
            .retry_after(*retry_after),
            Self::QuotaSpent { started, per_day } => Presentation::new(
                StatusCode::TOO_MANY_REQUESTS,
                ProblemCode::RateLimited,
                Message::SupportQuotaSpent {
                    started: *started,
                    per_day: Some(*per_day),
                },
            )
            .retry_after(DAY_SECONDS),
            Self::RecoveryNotFound => Presentation::new(
                StatusCode::NOT_FOUND,
                ProblemCode::RecoveryNotFound,
                Message::RecoveryNotFound,
            ),
            Self::SeveralUsers(count) => Presentation::new(
                StatusCode::CONFLICT,
                ProblemCode::SeveralUsers,
                Message::SeveralUsers { count: *count },
            ),
            Self::OwnAccount => Presentation::new(
                StatusCode::FORBIDDEN,
                ProblemCode::OwnAccount,
                Message::OwnAccount,
            ),
            Self::SelfApproval => Presentation::new(
                StatusCode::FORBIDDEN,
                ProblemCode::SelfApproval,
                Message::SelfApproval,
            ),
            Self::NotApprovable(status) => Presentation::new(
                StatusCode::CONFLICT,
                ProblemCode::RecoveryNotApprovable,
                Message::NotApprovable { status },
            ),
            Self::NotCancellable(status) => Presentation::new(
                StatusCode::CONFLICT,
                ProblemCode::RecoveryNotCancellable,
                Message::NotCancellable {
                    status: status.as_str(),
                },
            ),
            Self::IdentityProviderUnavailable(source) => {
                let message = match source {
                    IdpError::Refused { .. } => Message::IdpRefusesPool,
                    IdpError::Unavailable { .. } => Message::IdpUnavailableNothingQueued,
                };
                Presentation::identity_provider_unavailable(
                    message,
                    "Cognito unavailable for the support desk",
                )
            }
            Self::Store(e) => Presentation::store("support desk request failed in the database", e),
        }
    }
}

impl Present for JustificationError {
    fn presentation(&self) -> Presentation {
        let message = match self {
            Self::Reason => Message::ReasonRequired {
                max: REASON_MAX_CHARS,
            },
            Self::Ticket => Message::TicketInvalid {
                max: TICKET_MAX_CHARS,
            },
            Self::VerificationDetail => Message::VerificationDetailRequired {
                max: REASON_MAX_CHARS,
            },
        };
        Presentation::new(
            StatusCode::BAD_REQUEST,
            ProblemCode::InvalidRequest,
            message,
        )
    }
}

impl Present for CancelLinkError {
    fn presentation(&self) -> Presentation {
        match self {
            Self::Invalid => Presentation::new(
                StatusCode::BAD_REQUEST,
                ProblemCode::InvalidCancelToken,
                Message::CancelLinkInvalid,
            ),
            Self::Store(e) => Presentation::store("cancelling a scheduled reset failed", e),
        }
    }
}

impl Present for SignInError {
    fn presentation(&self) -> Presentation {
        match self {
            Self::Provider(ProviderError::Unavailable(_)) => Presentation::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ProblemCode::IdentityProviderUnavailable,
                Message::StaffIdpUnavailable,
            )
            .retry_after(60)
            .unexpected("the staff sign-in provider is unavailable"),
            Self::Provider(ProviderError::Invalid(_)) | Self::Mismatch => Presentation::new(
                StatusCode::BAD_REQUEST,
                ProblemCode::SignInFailed,
                Message::SignInFailed,
            ),
            Self::Refused(refusal) => Presentation::new(
                StatusCode::FORBIDDEN,
                ProblemCode::Forbidden,
                match refusal {
                    Refusal::NoSecondFactor(_) => Message::SignInNeedsMfa,
                    Refusal::NoRole => Message::SignInNoRole,
                    Refusal::NoName => Message::SignInNoName,
                },
            ),
            Self::Store(e) => Presentation::store("a staff sign-in failed", e),
        }
    }
}

/// A database error met outside a use case.
impl Present for sqlx::Error {
    fn presentation(&self) -> Presentation {
        Presentation::store("database error", self)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::{RecoveryFactors, RecoveryStatus};

    fn unreachable_db() -> sqlx::Error {
        sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused))
    }

    fn idp_down() -> IdpError {
        IdpError::Unavailable {
            operation: "AdminGetUser",
            source: "connection refused".into(),
        }
    }

    /// An error, and the status, problem code and `Retry-After` it must be answered with.
    pub(crate) type Expected = (Box<dyn Present>, u16, &'static str, Option<u64>);

    /// One of every variant of every use-case error, with the status, code and `Retry-After`
    /// each must have: what both the API and the pages are checked against.
    pub(crate) fn every_error() -> Vec<Expected> {
        vec![
            (
                Box::new(RequestError::RateLimited { retry_after: 60 }),
                429,
                "rate_limited",
                Some(60),
            ),
            (
                Box::new(RequestError::LimitsUnavailable(unreachable_db())),
                503,
                "service_unavailable",
                Some(30),
            ),
            (
                Box::new(RequestError::SupportQuotaSpent { started: 3 }),
                429,
                "rate_limited",
                Some(86_400),
            ),
            (
                Box::new(RequestError::Store(unreachable_db())),
                503,
                "service_unavailable",
                Some(5),
            ),
            (
                Box::new(RequestError::Store(sqlx::Error::RowNotFound)),
                500,
                "internal_error",
                None,
            ),
            (
                Box::new(ConfirmError::Invalid),
                400,
                "invalid_recovery",
                None,
            ),
            (
                Box::new(ConfirmError::Locked),
                429,
                "too_many_attempts",
                None,
            ),
            (
                Box::new(ConfirmError::Throttled { retry_after: 90 }),
                429,
                "too_many_attempts",
                Some(90),
            ),
            (
                Box::new(ConfirmError::RateLimited { retry_after: 60 }),
                429,
                "rate_limited",
                Some(60),
            ),
            (
                Box::new(ConfirmError::LimitsUnavailable(unreachable_db())),
                503,
                "service_unavailable",
                Some(30),
            ),
            (
                Box::new(ConfirmError::IdentityProviderUnavailable(idp_down())),
                503,
                "identity_provider_unavailable",
                Some(30),
            ),
            (
                Box::new(ConfirmError::ResetNotApplied("still there".into())),
                502,
                "mfa_reset_failed",
                None,
            ),
            (
                Box::new(ConfirmError::Store(unreachable_db())),
                503,
                "service_unavailable",
                Some(5),
            ),
            (
                Box::new(ConfirmError::Hashing(crate::recovery::HashError::Lost)),
                500,
                "internal_error",
                None,
            ),
            (
                Box::new(ConfirmError::Busy),
                503,
                "service_unavailable",
                Some(2),
            ),
            (
                Box::new(ConfirmError::ResetInProgress),
                503,
                "reset_in_progress",
                Some(5),
            ),
            (
                Box::new(EnrollmentError::InvalidTotp),
                400,
                "invalid_totp",
                None,
            ),
            (
                Box::new(EnrollmentError::InvalidSignInCode),
                400,
                "invalid_sign_in_code",
                None,
            ),
            (
                Box::new(EnrollmentError::Invalid),
                400,
                "invalid_enrollment",
                None,
            ),
            (
                Box::new(EnrollmentError::InvalidLink),
                400,
                "invalid_enrollment",
                None,
            ),
            (
                Box::new(EnrollmentError::RateLimited { retry_after: 60 }),
                429,
                "rate_limited",
                Some(60),
            ),
            (
                Box::new(EnrollmentError::LimitsUnavailable(unreachable_db())),
                503,
                "service_unavailable",
                Some(30),
            ),
            (
                Box::new(EnrollmentError::IdentityProviderUnavailable(idp_down())),
                503,
                "identity_provider_unavailable",
                Some(30),
            ),
            (
                Box::new(EnrollmentError::NotApplied("not preferred".into())),
                502,
                "enrollment_failed",
                None,
            ),
            (
                Box::new(EnrollmentError::Store(unreachable_db())),
                503,
                "service_unavailable",
                Some(5),
            ),
            (
                Box::new(SupportError::NotEligible(Ineligible::UnknownUser)),
                404,
                "user_not_found",
                None,
            ),
            (
                Box::new(SupportError::NotEligible(Ineligible::NoVerifiedEmail)),
                422,
                "no_verified_email",
                None,
            ),
            (
                Box::new(SupportError::NotEligible(Ineligible::NothingToRecover(
                    RecoveryFactors::default(),
                ))),
                422,
                "no_totp_authenticator",
                None,
            ),
            (
                Box::new(SupportError::NotEligible(Ineligible::Disabled)),
                422,
                "user_disabled",
                None,
            ),
            (
                Box::new(SupportError::EmailBudgetSpent { retry_after: 600 }),
                503,
                "email_budget_spent",
                Some(600),
            ),
            (
                Box::new(SupportError::QuotaSpent {
                    started: 3,
                    per_day: 3,
                }),
                429,
                "rate_limited",
                Some(86_400),
            ),
            (
                Box::new(SupportError::RecoveryNotFound),
                404,
                "recovery_not_found",
                None,
            ),
            (
                Box::new(SupportError::NotCancellable(RecoveryStatus::Completed)),
                409,
                "recovery_not_cancellable",
                None,
            ),
            (
                Box::new(SupportError::IdentityProviderUnavailable(idp_down())),
                503,
                "identity_provider_unavailable",
                Some(30),
            ),
            (
                Box::new(SupportError::Store(unreachable_db())),
                503,
                "service_unavailable",
                Some(5),
            ),
            (
                Box::new(CancelLinkError::Invalid),
                400,
                "invalid_cancel_token",
                None,
            ),
            (
                Box::new(CancelLinkError::Store(unreachable_db())),
                503,
                "service_unavailable",
                Some(5),
            ),
            (
                Box::new(SignInError::Provider(ProviderError::Unavailable(
                    "down".into(),
                ))),
                503,
                "identity_provider_unavailable",
                Some(60),
            ),
            (
                Box::new(SignInError::Provider(ProviderError::Invalid(
                    "nonce".into(),
                ))),
                400,
                "sign_in_failed",
                None,
            ),
            (Box::new(SignInError::Mismatch), 400, "sign_in_failed", None),
            (
                Box::new(SignInError::Refused(Refusal::NoSecondFactor("pwd".into()))),
                403,
                "forbidden",
                None,
            ),
            (
                Box::new(SignInError::Refused(Refusal::NoRole)),
                403,
                "forbidden",
                None,
            ),
            (
                Box::new(SignInError::Refused(Refusal::NoName)),
                403,
                "forbidden",
                None,
            ),
            (
                Box::new(SignInError::Store(unreachable_db())),
                503,
                "service_unavailable",
                Some(5),
            ),
        ]
    }

    #[test]
    fn every_use_case_error_has_its_status_code_and_retry_after() {
        for (err, status, code, retry_after) in every_error() {
            let p = err.presentation();
            assert_eq!(
                (p.status.as_u16(), p.code.as_str(), p.retry_after),
                (status, code, retry_after),
                "{err}"
            );
            let words = p.message.text(&Words::english());
            assert!(!words.is_empty() && !words.contains('['), "{err}: {words}");
        }
    }

    #[test]
    fn problem_codes_are_distinct_snake_case_with_a_title_each() {
        let mut seen = std::collections::BTreeSet::new();
        for &code in ProblemCode::ALL {
            let s = code.as_str();
            assert!(s.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{s}");
            assert!(seen.insert(s), "{s} twice");
            let title = code.title(&Words::english());
            assert!(!title.is_empty() && !title.starts_with('['), "{s}: {title}");
        }
    }
}
