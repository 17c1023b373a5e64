//! The OpenAPI 3 document of every endpoint, generated from the handlers' annotations, and a
//! plain HTML page of it (no scripts, no remote assets: it renders offline under a strict CSP).

use actix_web::{HttpResponse, ResponseError};
use askama::Template;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{
    approvals, audit, auditors, cancel, desk, health, recovery, service_accounts, staff, support,
};

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
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.description = Some(
            "The enrollment's `token`, once the new authenticator is verified: for the user's passkeys."
                .to_owned(),
        );
        components.add_security_scheme("enrollment_token", SecurityScheme::Http(scheme));
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
        recovery::confirm_link,
        recovery::resume_enrollment,
        recovery::verify_enrollment,
        recovery::answer_sign_in_code,
        recovery::passkeys,
        recovery::remove_passkey,
        recovery::finish_enrollment,
        cancel::show,
        cancel::cancel,
        staff::console,
        staff::callback,
        staff::sign_out,
        desk::find,
        desk::start,
        desk::unlock,
        desk::recovery,
        desk::cancel,
        approvals::list,
        approvals::approve,
        auditors::events,
        auditors::csv,
        auditors::jsonl,
        service_accounts::list,
        support::start,
        support::list,
        support::cancel,
        support::unlock,
        audit::events,
        audit::verify,
        audit::checkpoint,
        health::healthz,
        health::readyz,
        document,
    ),
    modifiers(&StaffKey),
    tags(
        (name = "recovery", description = "End users (no authentication)"),
        (name = "support", description = "Support desk (staff key, role support)"),
        (name = "audit", description = "Auditors (staff key, role auditor)"),
        (name = "staff console", description = "Staff in the browser, signed in as themselves through the company's OpenID Connect provider with a second factor"),
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
    description: String,
    operations: Vec<Operation>,
}

struct Operation {
    method: String,
    path: String,
    /// HTML (see `inline_markdown`).
    summary: String,
    description: String,
    auth: bool,
    parameters: Vec<Field>,
    body: Vec<Field>,
    responses: Vec<(String, String)>,
}

/// A parameter or a member of the JSON body.
struct Field {
    name: String,
    place: String,
    kind: String,
    required: bool,
    /// HTML (see `inline_markdown`).
    description: String,
}

/// The little Markdown the annotations use, as HTML: text is escaped, `code` spans become
/// `<code>`, and a blank line starts a new paragraph.
fn inline_markdown(text: &str) -> String {
    let mut html = String::new();
    for (n, paragraph) in text.trim().split("\n\n").enumerate() {
        if n > 0 {
            html.push_str("</p><p>");
        }
        for (i, part) in paragraph.split('`').enumerate() {
            let escaped = askama::MarkupDisplay::new_unsafe(part, askama::Html).to_string();
            if i % 2 == 1 {
                html.push_str("<code>");
                html.push_str(&escaped);
                html.push_str("</code>");
            } else {
                html.push_str(&escaped);
            }
        }
    }
    html
}

/// The schema's type as a reader wants it: `string`, `integer`, `string or null`.
fn kind(schema: &serde_json::Value) -> String {
    match &schema["type"] {
        serde_json::Value::String(t) => t.clone(),
        serde_json::Value::Array(types) => types
            .iter()
            .filter_map(|t| t.as_str())
            .filter(|t| *t != "null")
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "object".to_owned(),
    }
}

/// The members of the operation's JSON body, from its schema in `components`.
fn body_fields(doc: &serde_json::Value, op: &serde_json::Value) -> Vec<Field> {
    let Some(reference) =
        op["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str()
    else {
        return Vec::new();
    };
    let name = reference.rsplit('/').next().unwrap_or_default();
    let schema = &doc["components"]["schemas"][name];
    let required: Vec<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r.as_str())
        .collect();
    schema["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(member, property)| Field {
            name: member.clone(),
            place: "body".to_owned(),
            kind: kind(property),
            required: required.contains(&member.as_str()),
            description: inline_markdown(property["description"].as_str().unwrap_or_default()),
        })
        .collect()
}

/// `GET /docs`: the document as a page a person can read.
pub async fn page() -> HttpResponse {
    let doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            let parameters = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| Field {
                    name: p["name"].as_str().unwrap_or_default().to_owned(),
                    place: p["in"].as_str().unwrap_or_default().to_owned(),
                    kind: kind(&p["schema"]),
                    required: p["required"].as_bool().unwrap_or(false),
                    description: inline_markdown(p["description"].as_str().unwrap_or_default()),
                })
                .collect();
            let responses = op["responses"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(status, response)| {
                    let description = response["description"].as_str().unwrap_or_default();
                    (status.clone(), inline_markdown(description))
                })
                .collect();
            operations.push(Operation {
                method: method.to_uppercase(),
                path: path.clone(),
                summary: inline_markdown(op["summary"].as_str().unwrap_or_default()),
                description: inline_markdown(op["description"].as_str().unwrap_or_default()),
                auth: op.get("security").is_some(),
                parameters,
                body: body_fields(&doc, op),
                responses,
            });
        }
    }
    let page = DocsPage {
        description: inline_markdown(doc["info"]["description"].as_str().unwrap_or_default()),
        operations,
    };
    match page.render() {
        Ok(html) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(html),
        Err(err) => {
            super::problem::ApiError::internal("rendering /docs failed", &err).error_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::inline_markdown;

    #[test]
    fn annotations_render_code_spans_and_paragraphs_and_escape_everything_else() {
        assert_eq!(
            inline_markdown("Use `a<b>` & go.\n\nNext"),
            "Use <code>a&lt;b&gt;</code> &amp; go.</p><p>Next"
        );
    }
}
