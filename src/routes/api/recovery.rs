use actix_web::{web, HttpRequest, HttpResponse};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::{is_token, RecoveryCode, SignInCodeText, TotpCode, Username};
use crate::idp::{MfaFactor, Passkey};
use crate::recovery::{
    ConfirmError, ConfirmOutcome, Confirmation, Enrollment, EnrollmentError, EnrollmentResumption,
    EnrollmentStep, EnrollmentVerification, LinkConfirmation, PasskeyRemoval, RecoveryService,
    SignInCodeAnswer,
};
use crate::routes::auth::bearer;
use crate::routes::client_info;
use crate::routes::problem::{ApiError, Problem};
use crate::settings::RecoverySettings;

#[derive(Deserialize, ToSchema)]
pub struct RequestBody {
    /// The Cognito username or an alias the pool accepts (such as the email), 1–128 characters.
    #[schema(min_length = 1, max_length = 128)]
    username: String,
}

/// The answer to every well-formed recovery request.
#[derive(Serialize, ToSchema)]
pub struct Accepted {
    /// Always `accepted`.
    #[schema(example = "accepted")]
    status: &'static str,
}

/// Ask for a recovery: the user's verified email gets a one-time code, if the user exists, has a
/// TOTP authenticator and a verified email, and is within the hourly limit. The answer is the
/// same in every case.
#[utoipa::path(
    post, path = "/v1/recovery", tag = "recovery",
    request_body = RequestBody,
    params(
        ("Accept-Language" = Option<String>, Header, description = "The person's languages by weight (`de-CH, de;q=0.9, en;q=0.5`): the code email and the notices are written in the first shipped one (en, de, es), and their links carry it. Otherwise the user's Cognito `locale`, else DEFAULT_LOCALE"),
        ("lang" = Option<String>, Query, description = "A language picked by the person (en, de, es): wins over Accept-Language"),
    ),
    responses(
        (status = 202, description = "Recorded (for every well-formed username)", body = Accepted),
        (status = 400, description = "Malformed body or username (`invalid_request`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 16 KiB (`payload_too_large`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The client address is over its hourly limit (`rate_limited`)", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "The limit store is unavailable (`service_unavailable`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn request(
    req: HttpRequest,
    body: web::Json<RequestBody>,
    service: web::Data<RecoveryService>,
) -> Result<HttpResponse, ApiError> {
    let username =
        Username::parse(&body.username).map_err(|e| ApiError::invalid_request(e.to_string()))?;
    service.request(username, client_info(&req)).await?;
    Ok(HttpResponse::Accepted().json(Accepted { status: "accepted" }))
}

#[derive(Deserialize, ToSchema)]
pub struct ConfirmBody {
    #[schema(min_length = 1, max_length = 128)]
    username: String,
    /// The 8-digit code from the email: `12345678`, `1234 5678` or `1234-5678`.
    #[schema(example = "1234 5678", pattern = "^[0-9]{4}[ -]?[0-9]{4}$")]
    code: String,
    /// The user's current password (required while RECOVERY_REQUIRE_PASSWORD is on).
    #[schema(value_type = Option<String>, format = Password)]
    password: Option<SecretString>,
}

/// The authenticator was removed (200) or will be at `reset_at` (202).
#[derive(Serialize, ToSchema)]
pub struct Confirmed {
    /// `mfa_reset` or `reset_scheduled`.
    #[schema(example = "mfa_reset")]
    status: &'static str,
    /// With a waiting period: when the reset is applied (RFC 3339, UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    reset_at: Option<String>,
    /// The new authenticator, offered right after the reset (when the password was given and
    /// Cognito offers it): finish with `POST /v1/recovery/enrollment/verify`.
    #[serde(skip_serializing_if = "Option::is_none")]
    enrollment: Option<EnrollmentOffer>,
}

/// A new authenticator to set up: the one secret a response carries, once. When the sign-in
/// first asks for the user's other factor, `sign_in_code` says where its code went and the
/// secret comes from `POST /v1/recovery/enrollment/code`.
#[derive(Serialize, ToSchema)]
pub struct EnrollmentOffer {
    /// Finishes the enrollment; keep it only until then.
    #[schema(value_type = String)]
    token: ExposedSecret,
    /// The new authenticator's secret (base32), for typing into an app.
    #[schema(value_type = Option<String>, example = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")]
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_code: Option<ExposedSecret>,
    /// The same secret as a Key URI, for a QR code or a tap on the new phone.
    #[schema(value_type = Option<String>, example = "otpauth://totp/mfa-recovery:jane?secret=JBSWY3DPEHPK3PXP&issuer=mfa-recovery")]
    #[serde(skip_serializing_if = "Option::is_none")]
    otpauth_uri: Option<ExposedSecret>,
    /// The sign-in asked for the user's other factor first: a code went there.
    #[serde(skip_serializing_if = "Option::is_none")]
    sign_in_code: Option<SignInCodeSent>,
    /// Until when the enrollment can be finished (RFC 3339, UTC).
    expires_at: String,
}

/// Where the sign-in sent the code of the user's other factor.
#[derive(Serialize, ToSchema)]
pub struct SignInCodeSent {
    /// `sms` or `email`.
    #[schema(example = "email")]
    factor: &'static str,
    /// The masked phone number or address, as the identity provider gave it.
    #[schema(example = "j***@e***")]
    destination: String,
}

/// A secret written into a response body on purpose (the enrollment offer only).
struct ExposedSecret(SecretString);

impl Serialize for ExposedSecret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.expose_secret())
    }
}

impl From<Enrollment> for EnrollmentOffer {
    fn from(e: Enrollment) -> Self {
        let (secret_code, otpauth_uri, sign_in_code) = match e.step {
            EnrollmentStep::Authenticator {
                secret_code,
                otpauth_uri,
            } => (
                Some(ExposedSecret(secret_code)),
                Some(ExposedSecret(otpauth_uri)),
                None,
            ),
            EnrollmentStep::SignInCode {
                factor,
                destination,
            } => (
                None,
                None,
                Some(SignInCodeSent {
                    factor: if factor == MfaFactor::Email {
                        "email"
                    } else {
                        "sms"
                    },
                    destination,
                }),
            ),
        };
        Self {
            token: ExposedSecret(e.token),
            secret_code,
            otpauth_uri,
            sign_in_code,
            expires_at: e
                .expires_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }
    }
}

/// Confirm with the emailed code (and password): the TOTP authenticator is removed in Cognito,
/// read back, and every session signed out; the next sign-in enrols a new one.
#[utoipa::path(
    post, path = "/v1/recovery/confirm", tag = "recovery",
    request_body = ConfirmBody,
    responses(
        (status = 200, description = "`mfa_reset`: removed, read back, sessions signed out", body = Confirmed),
        (status = 202, description = "`reset_scheduled`: applied at `reset_at` unless cancelled", body = Confirmed),
        (status = 400, description = "`invalid_recovery` (wrong, expired, used or superseded code, wrong password, no recovery) or `invalid_request`", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`too_many_attempts` (locked, or the account must wait) or `rate_limited`", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 502, description = "`mfa_reset_failed`: Cognito answered but the authenticator is still there", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`identity_provider_unavailable` (the code stays usable) or `service_unavailable`", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
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
        return Err(ApiError::invalid_request("The password is required."));
    }
    let outcome = service
        .confirm(Confirmation {
            username,
            code,
            password: body.password,
            client: client_info(&req),
        })
        .await?;
    Ok(confirmed(outcome))
}

/// The answer to a successful confirmation.
fn confirmed(outcome: ConfirmOutcome) -> HttpResponse {
    match outcome {
        ConfirmOutcome::Reset { enrollment } => HttpResponse::Ok().json(Confirmed {
            status: "mfa_reset",
            reset_at: None,
            enrollment: enrollment.map(EnrollmentOffer::from),
        }),
        ConfirmOutcome::Scheduled { reset_at } => HttpResponse::Accepted().json(Confirmed {
            status: "reset_scheduled",
            reset_at: Some(reset_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            enrollment: None,
        }),
    }
}

#[derive(Deserialize, ToSchema)]
pub struct LinkConfirmBody {
    /// The token of the code email's link (`/recover/link?token=`).
    #[schema(value_type = String, pattern = "^[A-Za-z0-9_-]{43}$")]
    token: SecretString,
    /// The user's current password (required when `RECOVERY_REQUIRE_PASSWORD` is on).
    #[schema(value_type = Option<String>, format = Password)]
    password: Option<SecretString>,
}

/// Confirm through the one-time link of the code email instead of the code: the same as
/// `/v1/recovery/confirm`, but not judged against the name's other codes and not refused by the
/// account's ceiling of wrong confirmations (guessing from elsewhere cannot shut it). The link
/// takes a few wrong passwords, then stops working; it works while its code does.
#[utoipa::path(
    post, path = "/v1/recovery/confirm/link", tag = "recovery",
    request_body = LinkConfirmBody,
    responses(
        (status = 200, description = "`mfa_reset`: removed, read back, sessions signed out", body = Confirmed),
        (status = 202, description = "`reset_scheduled`: applied at `reset_at` unless cancelled", body = Confirmed),
        (status = 400, description = "`invalid_recovery` (unknown, used or expired link, or wrong password) or `invalid_request`", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`too_many_attempts` (the link took too many wrong passwords) or `rate_limited`", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 502, description = "`mfa_reset_failed`: Cognito answered but the authenticator is still there", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`identity_provider_unavailable` (the link stays usable) or `service_unavailable`", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn confirm_link(
    req: HttpRequest,
    body: web::Json<LinkConfirmBody>,
    service: web::Data<RecoveryService>,
    rules: web::Data<RecoverySettings>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    if rules.require_password && body.password.is_none() {
        return Err(ApiError::invalid_request("The password is required."));
    }
    if !is_token(body.token.expose_secret()) {
        return Err(ConfirmError::Invalid.into());
    }
    let outcome = service
        .confirm_link(LinkConfirmation {
            link: body.token,
            password: body.password,
            client: client_info(&req),
        })
        .await?;
    Ok(confirmed(outcome))
}

#[derive(Deserialize, ToSchema)]
pub struct EnrollmentResumeBody {
    /// The token of the reset-applied notice's link.
    #[schema(value_type = String, pattern = "^[A-Za-z0-9_-]{43}$")]
    token: SecretString,
    /// The user's current password.
    #[schema(value_type = String, format = Password)]
    password: SecretString,
}

/// A new authenticator to set up, resumed from a notice's link.
#[derive(Serialize, ToSchema)]
pub struct EnrollmentResumed {
    enrollment: EnrollmentOffer,
}

/// Resume setting up the new authenticator from the one-time link of the reset-applied notice
/// (after a waiting period, or when the user left early), with the password. Works once, while
/// the account has no authenticator; then finish with `/v1/recovery/enrollment/verify`.
#[utoipa::path(
    post, path = "/v1/recovery/enrollment", tag = "recovery",
    request_body = EnrollmentResumeBody,
    responses(
        (status = 200, description = "The new authenticator to set up", body = EnrollmentResumed),
        (status = 400, description = "`invalid_enrollment` (unknown, used or expired link, wrong password, or the account already has an authenticator) or `invalid_request`", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "`identity_provider_unavailable` or `service_unavailable`", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn resume_enrollment(
    req: HttpRequest,
    body: web::Json<EnrollmentResumeBody>,
    service: web::Data<RecoveryService>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    if !is_token(body.token.expose_secret()) {
        return Err(EnrollmentError::InvalidLink.into());
    }
    let enrollment = service
        .resume_enrollment(EnrollmentResumption {
            link: body.token,
            password: body.password,
            client: client_info(&req),
        })
        .await?;
    Ok(HttpResponse::Ok().json(EnrollmentResumed {
        enrollment: enrollment.into(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct SignInCodeBody {
    /// The `enrollment.token` of the confirmation's answer.
    #[schema(value_type = String, pattern = "^[A-Za-z0-9_-]{43}$")]
    token: SecretString,
    /// The code the text message or email brought (6 to 8 digits).
    #[schema(example = "12345678", pattern = "^[0-9 ]{6,10}$")]
    code: String,
}

/// The sign-in for the new authenticator asked for the user's other factor (SMS or email MFA)
/// first: answer with the code it sent, and get the new authenticator under the same token.
#[utoipa::path(
    post, path = "/v1/recovery/enrollment/code", tag = "recovery",
    request_body = SignInCodeBody,
    responses(
        (status = 200, description = "The sign-in completed: the new authenticator, to verify with `/v1/recovery/enrollment/verify`", body = EnrollmentResumed),
        (status = 400, description = "`invalid_sign_in_code` (not the code sent; a few tries, then the token dies), `invalid_enrollment` (unknown, used or expired token, or none waiting for a code) or `invalid_request`", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "`identity_provider_unavailable` (the enrollment stays open) or `service_unavailable`", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn answer_sign_in_code(
    req: HttpRequest,
    body: web::Json<SignInCodeBody>,
    service: web::Data<RecoveryService>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let code = SignInCodeText::parse(&body.code)
        .ok_or_else(|| ApiError::invalid_request("the code is 6 to 8 digits"))?;
    let enrollment = service
        .answer_sign_in_code(SignInCodeAnswer {
            token: body.token,
            code,
            client: client_info(&req),
        })
        .await?;
    Ok(HttpResponse::Ok().json(EnrollmentResumed {
        enrollment: enrollment.into(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct EnrollmentVerifyBody {
    /// The `enrollment.token` of the confirmation's answer.
    #[schema(value_type = String, pattern = "^[A-Za-z0-9_-]{43}$")]
    token: SecretString,
    /// A code from the new authenticator app.
    #[schema(example = "123456", pattern = "^[0-9]{3} ?[0-9]{3}$")]
    code: String,
}

/// The new authenticator is the user's TOTP factor; the passkeys their sign-in lists.
#[derive(Serialize, ToSchema)]
pub struct Enrolled {
    /// Always `enrolled`.
    #[schema(example = "enrolled")]
    status: &'static str,
    /// The user's passkeys, listed with their own sign-in (empty when they have none: the
    /// sign-in already ended). One that lived on the lost phone still signs in: remove it with
    /// `DELETE /v1/recovery/enrollment/passkeys/{passkey_id}`, then
    /// `POST /v1/recovery/enrollment/finish`.
    passkeys: Vec<PasskeyView>,
    /// Until when the passkeys can be removed (RFC 3339, UTC); then the user is signed out
    /// everywhere. Absent when there are none.
    #[serde(skip_serializing_if = "Option::is_none")]
    passkeys_until: Option<String>,
}

/// A passkey of the user's, as Cognito lists it (Cognito does not say when it was last used).
#[derive(Serialize, ToSchema)]
pub struct PasskeyView {
    /// The passkey's credential id: names it in `DELETE /v1/recovery/enrollment/passkeys/{passkey_id}`.
    id: String,
    /// The name the user or their device gave it.
    name: String,
    /// When it was registered (RFC 3339, UTC).
    created_at: String,
    /// `platform` (built into a phone or computer) or `cross-platform` (a security key), when
    /// known.
    #[serde(skip_serializing_if = "Option::is_none")]
    attachment: Option<String>,
}

fn rfc3339(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn passkey_views(passkeys: Vec<Passkey>) -> Vec<PasskeyView> {
    passkeys
        .into_iter()
        .map(|p| PasskeyView {
            id: p.id,
            name: p.name,
            created_at: rfc3339(p.created_at),
            attachment: p.attachment,
        })
        .collect()
}

/// Finish enrolling the new authenticator with a code from it: Cognito verifies it, it becomes
/// the preferred factor, and that is read back. The user's passkeys are listed with their own
/// sign-in; with none, every session is signed out at once, else when the user finishes with
/// them (or their time runs out).
#[utoipa::path(
    post, path = "/v1/recovery/enrollment/verify", tag = "recovery",
    request_body = EnrollmentVerifyBody,
    responses(
        (status = 200, description = "`enrolled`: the next sign-in asks for a code from the new authenticator", body = Enrolled),
        (status = 400, description = "`invalid_totp` (wrong code; a few tries, then the token dies), `invalid_enrollment` (unknown, used or expired token) or `invalid_request`", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 502, description = "`enrollment_failed`: Cognito accepted the code but the factor is not the user's", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`identity_provider_unavailable` (the enrollment stays open) or `service_unavailable`", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn verify_enrollment(
    req: HttpRequest,
    body: web::Json<EnrollmentVerifyBody>,
    service: web::Data<RecoveryService>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let code = TotpCode::parse(&body.code).map_err(|e| ApiError::invalid_request(e.to_string()))?;
    let enrolled = service
        .verify_enrollment(EnrollmentVerification {
            token: body.token,
            code,
            client: client_info(&req),
        })
        .await?;
    Ok(HttpResponse::Ok().json(Enrolled {
        status: "enrolled",
        passkeys: passkey_views(enrolled.passkeys),
        passkeys_until: enrolled.until.map(rfc3339),
    }))
}

/// The user's passkeys and until when they can be removed.
#[derive(Serialize, ToSchema)]
pub struct Passkeys {
    passkeys: Vec<PasskeyView>,
    /// Until when they can be removed (RFC 3339, UTC); then the user is signed out everywhere.
    expires_at: String,
}

impl From<crate::recovery::Enrolled> for Passkeys {
    fn from(enrolled: crate::recovery::Enrolled) -> Self {
        Self {
            passkeys: passkey_views(enrolled.passkeys),
            expires_at: enrolled.until.map(rfc3339).unwrap_or_default(),
        }
    }
}

/// The enrollment token of `Authorization: Bearer`, or an invalid enrollment.
fn enrollment_token(req: &HttpRequest) -> Result<SecretString, ApiError> {
    bearer(req)
        .filter(|t| is_token(t.expose_secret()))
        .ok_or_else(|| EnrollmentError::Invalid.into())
}

/// The user's passkeys, listed with their own sign-in, after the new authenticator was
/// verified (the token is the enrollment's, in `Authorization: Bearer`).
#[utoipa::path(
    get, path = "/v1/recovery/enrollment/passkeys", tag = "recovery",
    security(("enrollment_token" = [])),
    responses(
        (status = 200, description = "The user's passkeys", body = Passkeys),
        (status = 400, description = "`invalid_enrollment`: no token, or one that is unknown, not yet verified, finished or expired", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "`identity_provider_unavailable` or `service_unavailable`", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn passkeys(
    req: HttpRequest,
    service: web::Data<RecoveryService>,
) -> Result<HttpResponse, ApiError> {
    let token = enrollment_token(&req)?;
    let listed = service.passkeys(&token, &client_info(&req)).await?;
    Ok(HttpResponse::Ok().json(Passkeys::from(listed)))
}

/// Remove one of the user's passkeys (one that lived on the lost phone) with their own sign-in:
/// deleted in Cognito, read back, audited as `passkeys.removed`. Answers the passkeys left.
#[utoipa::path(
    delete, path = "/v1/recovery/enrollment/passkeys/{passkey_id}", tag = "recovery",
    security(("enrollment_token" = [])),
    params(("passkey_id" = String, Path, description = "The passkey's `id`, as listed")),
    responses(
        (status = 200, description = "Removed and read back: the passkeys left", body = Passkeys),
        (status = 400, description = "`invalid_enrollment`: no token, or one that is unknown, not yet verified, finished or expired", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`passkey_not_found`: the user has no passkey with that id", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 502, description = "`passkey_not_removed`: Cognito answered, but the passkey is still listed", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`identity_provider_unavailable` or `service_unavailable`", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn remove_passkey(
    req: HttpRequest,
    path: web::Path<String>,
    service: web::Data<RecoveryService>,
) -> Result<HttpResponse, ApiError> {
    let token = enrollment_token(&req)?;
    let left = service
        .remove_passkey(PasskeyRemoval {
            token,
            id: path.into_inner(),
            client: client_info(&req),
        })
        .await?;
    Ok(HttpResponse::Ok().json(Passkeys::from(left)))
}

#[derive(Deserialize, ToSchema)]
pub struct EnrollmentFinishBody {
    /// The `enrollment.token` of the confirmation's answer.
    #[schema(value_type = String, pattern = "^[A-Za-z0-9_-]{43}$")]
    token: SecretString,
}

/// The user is done with their passkeys.
#[derive(Serialize, ToSchema)]
pub struct Finished {
    /// Always `finished`.
    #[schema(example = "finished")]
    status: &'static str,
    /// The passkeys left on the account (the notice emailed to the user names them).
    passkeys: Vec<PasskeyView>,
}

/// Done with the passkeys: every session of the user is signed out (the service's sign-in
/// with it), the enrollment ends, and an email tells the user which passkeys remain.
#[utoipa::path(
    post, path = "/v1/recovery/enrollment/finish", tag = "recovery",
    request_body = EnrollmentFinishBody,
    responses(
        (status = 200, description = "`finished`: signed out everywhere", body = Finished),
        (status = 400, description = "`invalid_enrollment` (unknown, not yet verified, finished or expired token) or `invalid_request`", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "`identity_provider_unavailable` (nothing changed; try again) or `service_unavailable`", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn finish_enrollment(
    req: HttpRequest,
    body: web::Json<EnrollmentFinishBody>,
    service: web::Data<RecoveryService>,
) -> Result<HttpResponse, ApiError> {
    let left = service
        .finish_passkeys(&body.into_inner().token, &client_info(&req))
        .await?;
    Ok(HttpResponse::Ok().json(Finished {
        status: "finished",
        passkeys: passkey_views(left),
    }))
}
