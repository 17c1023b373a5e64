//! The cancel link of a scheduled reset. Following the link (GET) only shows a page with a
//! button: mail scanners that open links must not cancel anything. The button POSTs the token.

use actix_web::http::StatusCode;
use actix_web::{web, Either, HttpRequest, HttpResponse, ResponseError};
use askama::Template;
use secrecy::SecretString;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::recover::PagesConfig;
use super::text::{self, LanguageLink, Text};
use crate::brand::Brand;
use crate::domain::is_token;
use crate::recovery::{CancelLinkError, RecoveryService};
use crate::routes::client_info;
use crate::routes::presentation::{present, Present};
use crate::routes::problem::{ApiError, Problem};

#[derive(Template)]
#[template(path = "cancel.html")]
struct CancelPage<'a> {
    t: &'a Text,
    /// For the layout: the page's language and the service's name.
    lang: &'a str,
    service: &'a str,
    title: &'a str,
    message: &'a str,
    token: Option<&'a str>,
    /// This page in each language (none once the link was used: it shows nothing more).
    languages: Vec<LanguageLink>,
    brand: &'a Brand,
}

fn page(
    t: &Text,
    brand: &Brand,
    status: StatusCode,
    title: &str,
    message: &str,
    token: Option<&str>,
) -> HttpResponse {
    let languages = match token {
        Some(token) => text::switch(t, &format!("/v1/recovery/cancel?token={token}")),
        None => Vec::new(),
    };
    match (CancelPage {
        t,
        lang: &t.lang,
        service: &t.service,
        title,
        message,
        token,
        languages,
        brand,
    })
    .render()
    {
        Ok(html) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(html),
        Err(err) => ApiError::internal("rendering the cancel page failed", &err).error_response(),
    }
}

/// A failure as a page: the words, status and `Retry-After` of its one presentation.
fn problem_page(t: &Text, brand: &Brand, err: &dyn Present) -> HttpResponse {
    let presentation = present(err);
    presentation.with_retry_after(page(
        t,
        brand,
        presentation.status,
        &presentation.code.title(&t.words),
        &presentation.message.text(&t.words),
        None,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    /// The token from the notice's link.
    #[param(pattern = "^[A-Za-z0-9_-]{43}$")]
    token: Option<String>,
    /// The page's language (en, de, es), as the notice's link carries it; otherwise
    /// Accept-Language, else DEFAULT_LOCALE.
    #[allow(dead_code)] // read by routes::language, documented here
    lang: Option<String>,
}

/// The page a scheduled-reset notice links to: a button that cancels (opening the link changes
/// nothing).
#[utoipa::path(
    get, path = "/v1/recovery/cancel", tag = "recovery",
    params(TokenQuery),
    responses(
        (status = 200, description = "The confirmation page", body = String, content_type = "text/html"),
        (status = 400, description = "The link is not valid", body = String, content_type = "text/html"),
    )
)]
pub async fn show(
    req: HttpRequest,
    query: Option<web::Query<TokenQuery>>,
    config: web::Data<PagesConfig>,
) -> HttpResponse {
    let t = text::for_request(&req);
    let brand = &config.brand;
    // A mangled link (a query string that does not parse) is an invalid link too: a page for
    // the person who clicked it, not JSON.
    let token = query.as_ref().and_then(|q| q.token.as_deref());
    match token.filter(|t| is_token(t)) {
        Some(token) => page(
            t,
            brand,
            StatusCode::OK,
            &t.cancel_title,
            &t.cancel_intro,
            Some(token),
        ),
        None => problem_page(t, brand, &CancelLinkError::Invalid),
    }
}

#[derive(Deserialize, ToSchema)]
pub struct CancelBody {
    /// The token from the notice's link.
    #[schema(pattern = "^[A-Za-z0-9_-]{43}$")]
    token: String,
}

#[derive(serde::Serialize, ToSchema)]
pub struct Cancelled {
    /// Always `cancelled`.
    #[schema(example = "cancelled")]
    status: &'static str,
}

/// Cancel a scheduled reset with the token of the notice's link: from the page's form (answers
/// HTML) or as JSON (answers JSON).
#[utoipa::path(
    post, path = "/v1/recovery/cancel", tag = "recovery",
    request_body(content(
        (CancelBody = "application/json"),
        (CancelBody = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "Cancelled", content(
            (Cancelled = "application/json"),
            (String = "text/html"),
        )),
        (status = 400, description = "`invalid_cancel_token`: used, applied, cancelled or unknown", content(
            (Problem = "application/problem+json"),
            (String = "text/html"),
        )),
        (status = 413, description = "`payload_too_large`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`: neither JSON nor a form", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn cancel(
    req: HttpRequest,
    body: Either<web::Json<CancelBody>, web::Form<CancelBody>>,
    service: web::Data<RecoveryService>,
    config: web::Data<PagesConfig>,
) -> Result<HttpResponse, ApiError> {
    let t = text::for_request(&req);
    let brand = &config.brand;
    let (token, json) = match body {
        Either::Left(json) => (json.into_inner().token, true),
        Either::Right(form) => (form.into_inner().token, false),
    };
    let result = if is_token(&token) {
        service
            .cancel_scheduled_reset(&SecretString::from(token), &client_info(&req))
            .await
    } else {
        Err(CancelLinkError::Invalid)
    };
    Ok(match (result, json) {
        (Ok(()), true) => HttpResponse::Ok().json(Cancelled {
            status: "cancelled",
        }),
        (Ok(()), false) => page(
            t,
            brand,
            StatusCode::OK,
            &t.cancelled_title,
            &t.cancelled_body,
            None,
        ),
        (Err(err), true) => return Err(err.into()),
        (Err(err), false) => problem_page(t, brand, &err),
    })
}
