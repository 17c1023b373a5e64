//! Staff authentication: `Authorization: Bearer <key>`, checked against the stored key hashes.
//! Missing, unknown and revoked keys are 401; a key of another role is 403.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures::future::LocalBoxFuture;
use secrecy::SecretString;
use sqlx::PgPool;

use super::problem::{ApiError, Problem};
use crate::domain::StaffRole;
use crate::routes::client_info;
use crate::staff::{self, StaffAuthError, StaffMember};

/// Keys are 47 characters; anything much longer is not one of ours.
const MAX_KEY_CHARS: usize = 128;

/// The answers of every staff endpoint to a bad key, for the OpenAPI document.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // only described, never built: ApiError::unauthorized/forbidden answer
pub enum StaffAuthErrors {
    /// `unauthorized`: missing, unknown or revoked key
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// `forbidden`: a key of another role
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
    /// `rate_limited`: too many failed staff authentications from this address this hour
    #[response(status = 429, content_type = "application/problem+json")]
    RateLimited(Problem),
}

/// A staff member with the `support` role.
pub struct Support(pub StaffMember);

/// A staff member with the `auditor` role.
pub struct Auditor(pub StaffMember);

/// The credential of `Authorization: Bearer <credential>` (a staff key, or an enrollment token).
pub(crate) fn bearer(req: &HttpRequest) -> Option<SecretString> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, key) = value.split_once(' ')?;
    let key = key.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !key.is_empty() && key.len() <= MAX_KEY_CHARS)
        .then(|| SecretString::from(key))
}

async fn authenticate(req: HttpRequest, role: StaffRole) -> Result<StaffMember, ApiError> {
    let key = bearer(&req);
    let db = req
        .app_data::<web::Data<PgPool>>()
        .expect("the database pool is registered");
    let now = req
        .app_data::<web::Data<crate::recovery::RecoveryService>>()
        .expect("the service is registered")
        .now();
    let member = staff::authenticate(db, now, key.as_ref(), &client_info(&req))
        .await
        .map_err(|err| match err {
            StaffAuthError::Unauthorized => ApiError::unauthorized(),
            StaffAuthError::Limited { retry_after } => ApiError::rate_limited(retry_after),
            StaffAuthError::Store(e) => e.into(),
        })?;
    if member.role != role {
        return Err(ApiError::forbidden());
    }
    Ok(member)
}

impl FromRequest for Support {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { authenticate(req, StaffRole::Support).await.map(Support) })
    }
}

impl FromRequest for Auditor {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { authenticate(req, StaffRole::Auditor).await.map(Auditor) })
    }
}
