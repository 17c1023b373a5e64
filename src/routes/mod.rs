//! Thin HTTP handlers: parse into domain types, call the recovery rules, map the result.

mod api;
mod auth;
mod health;
pub mod language;
pub(crate) mod messages;
pub mod openapi;
pub mod pages;
pub mod presentation;
pub mod problem;

use api::{audit, recovery, support};
use pages::{approvals, auditors, cancel, desk, service_accounts, staff};

use actix_web::error::JsonPayloadError;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};

use crate::domain::ClientInfo;
use crate::settings::RecoverySettings;
use presentation::ProblemCode;
use problem::ApiError;

/// Request bodies are a few short strings; anything bigger is refused before it is read.
pub const JSON_BODY_LIMIT: usize = 16 * 1024;
/// User agents are recorded for auditors, trimmed to a sane length.
const USER_AGENT_MAX_CHARS: usize = 256;

/// Headers on every response: nothing is cached, nothing is sniffed, and no page may load,
/// frame or post anywhere but here (`images`: images from here too, for the operator's logo);
/// outside `local` (`https_only`), browsers are told to use HTTPS only (HSTS, a year).
pub fn security_headers(https_only: bool, images: bool) -> actix_web::middleware::DefaultHeaders {
    let headers = if https_only {
        actix_web::middleware::DefaultHeaders::new().add((
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        ))
    } else {
        actix_web::middleware::DefaultHeaders::new()
    };
    headers
        .add((header::CACHE_CONTROL, "no-store"))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((
            header::CONTENT_SECURITY_POLICY,
            if images {
                "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
            } else {
                "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
            },
        ))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
}

/// Browsers may call the end-user endpoints from these origins (apps with their own UI); none
/// by default. Staff endpoints never answer cross-origin requests, and no credential is ever
/// taken from a query string or a cookie on these endpoints, so none is allowed across origins.
fn cors(origins: &[String]) -> actix_cors::Cors {
    origins
        .iter()
        .fold(actix_cors::Cors::default(), |cors, origin| {
            cors.allowed_origin(origin)
        })
        .allowed_methods(["POST"])
        .allowed_header(header::CONTENT_TYPE)
        .max_age(600)
}

/// CORS for the routes that take the enrollment token in `Authorization` (a user's passkeys).
fn cors_with_token(origins: &[String]) -> actix_cors::Cors {
    cors(origins)
        .allowed_methods(["GET", "DELETE"])
        .allowed_header(header::AUTHORIZATION)
}

/// How bodies, queries and forms are read, with their limits: on every listener that serves
/// routes.
fn extractors(cfg: &mut web::ServiceConfig) {
    cfg.app_data(json_config())
        .app_data(query_config())
        .app_data(form_config());
}

/// The public routes: the pages, the end users' API, health and the API's documentation.
pub fn configure(cfg: &mut web::ServiceConfig, cors_origins: &[String]) {
    extractors(cfg);
    cfg.service(
        endpoint("/recover")
            .route(web::get().to(pages::recover::start))
            .route(web::post().to(pages::recover::request)),
    )
    .service(endpoint("/recover/code").route(web::get().to(pages::recover::have_code)))
    .service(endpoint("/recover/confirm").route(web::post().to(pages::recover::confirm)))
    .service(
        endpoint("/recover/link")
            .route(web::get().to(pages::recover::link_form))
            .route(web::post().to(pages::recover::link_confirm)),
    )
    .service(
        endpoint("/recover/enrol")
            .route(web::get().to(pages::recover::resume_form))
            .route(web::post().to(pages::recover::resume)),
    )
    .service(
        endpoint("/recover/enrollment")
            .route(web::get().to(pages::recover::show_enrollment))
            .route(web::post().to(pages::recover::enrol)),
    )
    .service(
        endpoint("/recover/enrollment/code").route(web::post().to(pages::recover::sign_in_code)),
    )
    .service(
        endpoint("/recover/enrollment/passkeys/remove")
            .route(web::post().to(pages::passkeys::remove)),
    )
    .service(
        endpoint("/recover/enrollment/passkeys/finish")
            .route(web::post().to(pages::passkeys::finish)),
    )
    .service(endpoint("/recover/done").route(web::get().to(pages::recover::done)))
    .configure(configure_assets)
    .service(
        endpoint("/v1/recovery")
            .wrap(cors(cors_origins))
            .route(web::post().to(recovery::request)),
    )
    .service(
        endpoint("/v1/recovery/confirm")
            .wrap(cors(cors_origins))
            .route(web::post().to(recovery::confirm)),
    )
    .service(
        endpoint("/v1/recovery/confirm/link")
            .wrap(cors(cors_origins))
            .route(web::post().to(recovery::confirm_link)),
    )
    .service(
        endpoint("/v1/recovery/enrollment")
            .wrap(cors(cors_origins))
            .route(web::post().to(recovery::resume_enrollment)),
    )
    .service(
        endpoint("/v1/recovery/enrollment/code")
            .wrap(cors(cors_origins))
            .route(web::post().to(recovery::answer_sign_in_code)),
    )
    .service(
        endpoint("/v1/recovery/enrollment/verify")
            .wrap(cors(cors_origins))
            .route(web::post().to(recovery::verify_enrollment)),
    )
    .service(
        endpoint("/v1/recovery/enrollment/passkeys")
            .wrap(cors_with_token(cors_origins))
            .route(web::get().to(recovery::passkeys)),
    )
    .service(
        endpoint("/v1/recovery/enrollment/passkeys/{passkey_id}")
            .wrap(cors_with_token(cors_origins))
            .route(web::delete().to(recovery::remove_passkey)),
    )
    .service(
        endpoint("/v1/recovery/enrollment/finish")
            .wrap(cors(cors_origins))
            .route(web::post().to(recovery::finish_enrollment)),
    )
    .service(
        endpoint("/v1/recovery/cancel")
            .route(web::get().to(cancel::show))
            .route(web::post().to(cancel::cancel)),
    )
    .service(endpoint("/healthz").route(web::get().to(health::healthz)))
    .service(endpoint("/openapi.json").route(web::get().to(openapi::document)))
    .service(endpoint("/docs").route(web::get().to(openapi::page)))
    .service(endpoint("/readyz").route(web::get().to(health::readyz)));
}

/// The pages' stylesheet: on the public listener, and on the staff listener for the console.
pub fn configure_assets(cfg: &mut web::ServiceConfig) {
    cfg.service(endpoint("/assets/pages.css").route(web::get().to(pages::recover::stylesheet)))
        .service(endpoint("/assets/logo").route(web::get().to(pages::recover::logo)));
}

/// The staff routes (support desk and auditors): on the public listener, or on a listener of
/// their own (`STAFF_BIND_ADDR`).
pub fn configure_staff(cfg: &mut web::ServiceConfig) {
    extractors(cfg);
    cfg.service(
        endpoint("/v1/support/recoveries")
            .route(web::post().to(support::start))
            .route(web::get().to(support::list)),
    )
    .service(
        endpoint("/v1/support/recoveries/{recovery_id}/cancel")
            .route(web::post().to(support::cancel)),
    )
    .service(endpoint("/v1/support/unlock").route(web::post().to(support::unlock)))
    .service(endpoint("/v1/audit/events").route(web::get().to(audit::events)))
    .service(endpoint("/v1/audit/verify").route(web::get().to(audit::verify)))
    .service(endpoint("/v1/audit/checkpoint").route(web::get().to(audit::checkpoint)))
    .service(endpoint("/staff").route(web::get().to(pages::staff::console)))
    .service(endpoint("/staff/callback").route(web::get().to(pages::staff::callback)))
    .service(endpoint("/staff/sign-out").route(web::post().to(pages::staff::sign_out)))
    .service(endpoint("/staff/approvals").route(web::get().to(approvals::list)))
    .service(endpoint("/staff/approvals/{recovery_id}").route(web::post().to(approvals::approve)))
    .service(endpoint("/staff/audit").route(web::get().to(auditors::events)))
    .service(endpoint("/staff/audit/events.csv").route(web::get().to(auditors::csv)))
    .service(endpoint("/staff/audit/events.jsonl").route(web::get().to(auditors::jsonl)))
    .service(endpoint("/staff/service-accounts").route(web::get().to(service_accounts::list)))
    .service(endpoint("/staff/users").route(web::post().to(desk::find)))
    .service(endpoint("/staff/users/unlock").route(web::post().to(desk::unlock)))
    .service(endpoint("/staff/recoveries").route(web::post().to(desk::start)))
    .service(endpoint("/staff/recoveries/{recovery_id}").route(web::get().to(desk::recovery)))
    .service(
        endpoint("/staff/recoveries/{recovery_id}/cancel").route(web::post().to(desk::cancel)),
    );
}

/// The internal listener (`ADMIN_BIND_ADDR`): probes and metrics, never exposed publicly.
/// Metrics tell what happened to each kind of request, so they are not served on the public
/// listener at all: there they would tell eligible names from unknown ones.
pub fn configure_admin(cfg: &mut web::ServiceConfig) {
    cfg.service(endpoint("/metrics").route(web::get().to(health::metrics)))
        .service(endpoint("/healthz").route(web::get().to(health::healthz)))
        .service(endpoint("/readyz").route(web::get().to(health::readyz)));
}

/// A path that does not exist: browsers get a page in words; API clients a problem.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    if wants_html(&req) {
        let brand = req
            .app_data::<web::Data<pages::recover::PagesConfig>>()
            .map(|config| std::sync::Arc::clone(&config.brand))
            .unwrap_or_default();
        return pages::recover::not_found_page(pages::text::for_request(&req), &brand);
    }
    ApiError::new(
        StatusCode::NOT_FOUND,
        ProblemCode::NotFound,
        "There is no such endpoint.",
    )
    .error_response()
}

/// A path of the service: any method it has no route for answers 405.
fn endpoint(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

async fn method_not_allowed() -> HttpResponse {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        ProblemCode::MethodNotAllowed,
        "This endpoint does not accept that method.",
    )
    .error_response()
}

/// Bad bodies become problem+json. The details never echo the body: a mistyped member could be
/// a password.
fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(JSON_BODY_LIMIT)
        .content_type_required(true)
        .error_handler(|err, _req| {
            let api = match &err {
                JsonPayloadError::Overflow { .. }
                | JsonPayloadError::OverflowKnownLength { .. } => ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    ProblemCode::PayloadTooLarge,
                    format!("The request body must be at most {JSON_BODY_LIMIT} bytes."),
                ),
                JsonPayloadError::ContentType => ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    ProblemCode::UnsupportedMediaType,
                    "The request body must be JSON, sent as Content-Type: application/json.",
                ),
                JsonPayloadError::Deserialize(e) if e.is_data() => ApiError::invalid_request(
                    "The JSON body has a missing member or a member of the wrong type.",
                ),
                JsonPayloadError::Deserialize(_) => {
                    ApiError::invalid_request("The request body is not valid JSON.")
                }
                _ => ApiError::invalid_request("The request body could not be read."),
            };
            actix_web::error::InternalError::from_response(err, api.error_response()).into()
        })
}

/// Whether the client is a browser asking for a page.
fn wants_html(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// Forms are posted by pages: a form that cannot be read gets a page, not JSON.
fn form_config() -> web::FormConfig {
    web::FormConfig::default()
        .limit(JSON_BODY_LIMIT)
        .error_handler(|err, _req| {
            let response = HttpResponse::BadRequest()
                .content_type("text/html; charset=utf-8")
                .body("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Form not readable</title></head><body><h1>This form could not be read</h1><p><a href=\"/recover\">Start again</a></p></body></html>");
            actix_web::error::InternalError::from_response(err, response).into()
        })
}

fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| {
        let api = ApiError::invalid_request("The query string is malformed.");
        actix_web::error::InternalError::from_response(err, api.error_response()).into()
    })
}

/// The audit facts of a request: the client's address (the socket peer, or behind trusted
/// proxies the address they forwarded) and a cleaned user agent.
pub fn client_info(req: &HttpRequest) -> ClientInfo {
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| {
            ua.chars()
                .filter(|c| !c.is_control())
                .take(USER_AGENT_MAX_CHARS)
                .collect::<String>()
        });
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect();
    let ip = req
        .peer_addr()
        .map(|peer| match req.app_data::<web::Data<RecoverySettings>>() {
            Some(rules) => rules.trusted_proxies.client_address(peer.ip(), &forwarded),
            None => peer.ip(),
        });
    ClientInfo {
        ip: ip.map(|ip| ip.to_string()),
        user_agent,
        language: language::requested(req).map(|words| words.lang()),
    }
}

#[cfg(test)]
mod tests {
    use actix_web::{test, web, App, HttpResponse};

    #[actix_web::test]
    async fn browsers_are_told_to_use_https_only_outside_local() {
        for (https_only, hsts) in [
            (true, Some("max-age=31536000; includeSubDomains")),
            (false, None),
        ] {
            let app = test::init_service(
                App::new()
                    .wrap(super::security_headers(https_only, false))
                    .route("/", web::get().to(HttpResponse::Ok)),
            )
            .await;
            let response =
                test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
            let header = response
                .headers()
                .get("strict-transport-security")
                .map(|v| v.to_str().unwrap());
            assert_eq!(header, hsts);
            assert!(response.headers().contains_key("content-security-policy"));
        }
    }
}
