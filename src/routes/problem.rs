//! Every error leaves the service as RFC 9457 problem+json with a stable `code`. A use-case
//! error is rendered from its one presentation (`presentation`), which also logs it once when it
//! is unexpected; the client gets no internals.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use super::presentation::{present, Present, Presentation, ProblemCode};
pub use crate::telemetry::log_unexpected;
use crate::words::Words;

/// RFC 9457 problem details, with a stable snake_case `code`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    #[schema(example = "tag:mfa-recovery,2026:problem/invalid_recovery")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[schema(inline)]
    pub code: ProblemCode,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: ProblemCode,
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
    pub fn new(status: StatusCode, code: ProblemCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            headers: Vec::new(),
        }
    }

    /// A use-case error, as problem+json.
    pub fn from_present(err: &dyn Present) -> Self {
        Self::presented(present(err))
    }

    /// A use-case error's one presentation, as problem+json.
    pub fn presented(presentation: Presentation) -> Self {
        let api = Self::new(
            presentation.status,
            presentation.code,
            presentation.message.text(&Words::english()),
        );
        match presentation.retry_after {
            Some(seconds) => api.retry_after(seconds),
            None => api,
        }
    }

    /// `detail` is made a sentence (a capital letter, a full stop), so that the domain's
    /// messages ("username must not be empty") read like every other detail.
    pub fn invalid_request(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ProblemCode::InvalidRequest,
            sentence(detail.into()),
        )
    }

    /// Something failed on the service's side while `doing`: logged once, 500.
    pub fn internal(doing: &'static str, err: &(dyn std::error::Error + 'static)) -> Self {
        log_unexpected(doing, err);
        Self::presented(Presentation::internal(doing))
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
            ProblemCode::Unauthorized,
            "A valid staff key is required: Authorization: Bearer <key>.",
        )
        .header(header::WWW_AUTHENTICATE, "Bearer")
    }

    pub fn rate_limited(retry_after: u64) -> Self {
        Self::presented(Presentation::rate_limited(retry_after))
    }

    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            ProblemCode::Forbidden,
            "This staff key's role may not use this endpoint.",
        )
    }

    pub fn code(&self) -> ProblemCode {
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
            title: self.code.title(&Words::english()),
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

/// Every use-case error becomes problem+json through its one presentation.
impl<E: Present> From<E> for ApiError {
    fn from(err: E) -> Self {
        Self::from_present(&err)
    }
}
