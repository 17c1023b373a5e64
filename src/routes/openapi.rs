//! The OpenAPI 3 document of every endpoint, generated from the handlers' annotations, and a
//! plain HTML page of it (no scripts, no remote assets: it renders offline under a strict CSP).

use actix_web::{HttpResponse, ResponseError};
use askama::Template;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{audit, cancel, health, recovery, support};

struct StaffKey;

impl Modify for StaffKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.description = Some(
            "A staff key from `mfa-recovery staff add`: role `support` for /v1/support, `auditor` for /v1/audit."
                .to_owned(),
        );
        components.add_security_scheme("staff_key", SecurityScheme::Http(scheme));
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "mfa-recovery",
        description = "Gets people who lost their authenticator phone back into their AWS Cognito account, safely. Every error is application/problem+json (RFC 9457) with a stable `code`.",
    ),
    paths(
        recovery::request,
        recovery::confirm,
        recovery::resume_enrollment,
        recovery::verify_enrollment,
        cancel::show,
        cancel::cancel,
        support::start,
        support::list,
        support::cancel,
        support::unlock,
        audit::events,
        audit::verify,
        health::healthz,
        health::readyz,
        document,
    ),
    modifiers(&StaffKey),
    tags(
        (name = "recovery", description = "End users (no authentication)"),
        (name = "support", description = "Support desk (staff key, role support)"),
        (name = "audit", description = "Auditors (staff key, role auditor)"),
        (name = "operations", description = "Probes and this document (metrics are served on the internal listener, ADMIN_BIND_ADDR, only)"),
    )
)]
pub struct ApiDoc;

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations", responses(
    (status = 200, description = "The OpenAPI 3 document", body = Object, content_type = "application/json"),
))]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}

#[derive(Template)]
#[template(path = "docs.html")]
struct DocsPage {
    operations: Vec<Operation>,
}

struct Operation {
    method: String,
    path: String,
    summary: String,
    auth: bool,
    responses: Vec<(String, String)>,
}

/// `GET /docs`: the document as a page a person can read.
pub async fn page() -> HttpResponse {
    let doc = ApiDoc::openapi();
    let value = serde_json::to_value(&doc).unwrap_or_default();
    let mut operations = Vec::new();
    if let Some(paths) = value["paths"].as_object() {
        for (path, item) in paths {
            for (method, op) in item.as_object().into_iter().flatten() {
                let responses = op["responses"]
                    .as_object()
                    .map(|r| {
                        r.iter()
                            .map(|(status, resp)| {
                                (
                                    status.clone(),
                                    resp["description"].as_str().unwrap_or_default().to_owned(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                operations.push(Operation {
                    method: method.to_uppercase(),
                    path: path.clone(),
                    summary: op["summary"]
                        .as_str()
                        .or(op["description"].as_str())
                        .unwrap_or_default()
                        .to_owned(),
                    auth: op.get("security").is_some(),
                    responses,
                });
            }
        }
    }
    match (DocsPage { operations }).render() {
        Ok(html) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(html),
        Err(_) => super::problem::ApiError::internal().error_response(),
    }
}
