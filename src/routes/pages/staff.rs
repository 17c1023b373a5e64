//! `/staff`: the staff console, signed in through the company's OpenID Connect provider.
//! `GET /staff` shows the console to a signed-in person and starts sign-in for anyone else;
//! `/staff/callback` is where the provider sends them back; `POST /staff/sign-out` ends the
//! session. The use cases live in `staff::console`; these handlers carry cookies and choose words.

use actix_web::cookie::SameSite;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::text::{words, Text, EN};
use super::PagesConfig;
use crate::domain::{Agent, StaffRole};
use crate::routes::client_info;
use crate::routes::presentation::{present, Present};
use crate::staff::console::{Console, Person, SignInError};
use crate::staff::sign_in::SignInFlow;

/// The console's session cookie (`__Host-mfa_recovery_staff` over HTTPS): a random token whose
/// SHA-256 names the session in PostgreSQL. SameSite=Lax: the provider's redirect back is a
/// cross-site navigation, and a Strict cookie would not come with it; every form carries a
/// CSRF token.
const SESSION_COOKIE: &str = "mfa_recovery_staff";
/// The sign-in under way: its state, nonce and PKCE verifier, sealed, for `FLOW_MINUTES`.
const FLOW_COOKIE: &str = "mfa_recovery_staff_flow";
const LOCAL_PATH: &str = "/staff";
const FLOW_MINUTES: i64 = 10;

#[derive(Serialize, Deserialize)]
struct Flow {
    /// When it began (Unix seconds, the service's clock).
    started_at: i64,
    flow: SignInFlow,
}

pub enum StaffStep {
    Console {
        name: String,
        roles: Vec<String>,
        csrf: String,
        /// The support desk's search form is shown.
        support: bool,
        /// The way to the audit log is shown.
        auditor: bool,
        /// The way to the approvals is shown.
        approver: bool,
    },
    SignedOut,
    Problem {
        message: String,
        /// The way on: back to the console (signed in), or sign in again.
        signed_in: bool,
    },
}

#[derive(Template)]
#[template(path = "pages/staff.html")]
struct StaffPage<'a> {
    t: &'a Text,
    lang: &'a str,
    service: &'a str,
    title: &'a str,
    step: StaffStep,
}

fn page(status: StatusCode, title: &str, step: StaffStep) -> HttpResponse {
    let t: &Text = &EN;
    rendered(
        status,
        StaffPage {
            t,
            lang: &t.lang,
            service: &t.staff_service,
            title,
            step,
        }
        .render(),
    )
}

/// A console page as sent: never kept by a browser or a proxy (who is signed in, and their
/// work).
pub(super) fn rendered(status: StatusCode, html: askama::Result<String>) -> HttpResponse {
    match html {
        Ok(html) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(html),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

/// A failure of sign-in, as a page: the words, status and `Retry-After` of its one
/// presentation.
fn failed(err: &dyn Present) -> HttpResponse {
    let presentation = present(err);
    let message = presentation.message.text(&words());
    presentation.with_retry_after(page(
        presentation.status,
        &EN.staff_problem_title,
        StaffStep::Problem {
            message,
            signed_in: false,
        },
    ))
}

/// A failure of a signed-in person's action, as a page with the way back to the console.
pub(super) fn refused(err: &dyn Present) -> HttpResponse {
    let presentation = present(err);
    let message = presentation.message.text(&words());
    presentation.with_retry_after(refusal(presentation.status, message))
}

/// `message`, as a page with the way back to the console.
pub(super) fn refusal(status: StatusCode, message: String) -> HttpResponse {
    page(
        status,
        &EN.staff_refused_title,
        StaffStep::Problem {
            message,
            signed_in: true,
        },
    )
}

fn role_words(role: StaffRole) -> String {
    match role {
        StaffRole::Support => EN.staff_role_support.clone(),
        StaffRole::Approver => EN.staff_role_approver.clone(),
        StaffRole::Auditor => EN.staff_role_auditor.clone(),
    }
}

fn console_page(person: &Person, csrf: String) -> HttpResponse {
    let step = StaffStep::Console {
        name: person.name.to_string(),
        roles: person.roles.iter().copied().map(role_words).collect(),
        csrf,
        support: person.has(StaffRole::Support),
        auditor: person.has(StaffRole::Auditor),
        approver: person.has(StaffRole::Approver),
    };
    page(StatusCode::OK, &EN.staff_title, step)
}

/// The console is off (`STAFF_OIDC_ISSUER` unset): as if it did not exist.
fn off() -> HttpResponse {
    super::recover::not_found_page(&EN, &crate::brand::Brand::default())
}

/// A page shown instead of the one asked for (boxed: a response is large).
pub(super) type Shown = Box<HttpResponse>;

/// A person signed in with this browser, in the session `token`.
pub(super) struct SignedIn {
    pub person: Person,
    pub token: SecretString,
}

impl SignedIn {
    /// The person signed in with this browser, holding `role`, whose form (when `form_csrf`
    /// is given) carries the session's CSRF token; or the page to show instead: the console
    /// is off (404); no session (a form asks to sign in again: 401; a `GET` is sent to sign
    /// in); a form posted from elsewhere (403, nothing done); not in `role`'s group (403).
    pub(super) async fn require(
        req: &HttpRequest,
        console: Option<&web::Data<Console>>,
        pages: &PagesConfig,
        role: StaffRole,
        form_csrf: Option<&str>,
    ) -> Result<Self, Shown> {
        let console = console.ok_or_else(|| Box::new(off()))?;
        let token = session_token(req, pages);
        let person = match &token {
            Some(token) => console
                .session(token)
                .await
                .map_err(|e| Box::new(failed(&e)))?,
            None => None,
        };
        let (Some(person), Some(token)) = (person, token) else {
            if req.method() == actix_web::http::Method::GET {
                return Err(Box::new(
                    HttpResponse::SeeOther()
                        .insert_header((header::LOCATION, LOCAL_PATH))
                        .insert_header((header::CACHE_CONTROL, "no-store"))
                        .finish(),
                ));
            }
            return Err(Box::new(page(
                StatusCode::UNAUTHORIZED,
                &EN.staff_problem_title,
                StaffStep::Problem {
                    message: EN.staff_session_ended.clone(),
                    signed_in: false,
                },
            )));
        };
        if form_csrf.is_some_and(|csrf| !Console::csrf_matches(&token, csrf)) {
            return Err(Box::new(forged()));
        }
        if !person.has(role) {
            return Err(Box::new(refusal(
                StatusCode::FORBIDDEN,
                EN.staff_not_in_group.clone(),
            )));
        }
        Ok(Self { person, token })
    }
    /// The person, acting in this session (named with it in the audit log).
    pub(super) fn agent(&self) -> Agent {
        self.person.agent(&self.token)
    }

    /// This session's CSRF token, for the forms of a page.
    pub(super) fn csrf(&self) -> String {
        Console::csrf(&self.token)
    }
}

/// A form posted from elsewhere (or an old one): refused, with a way back.
fn forged() -> HttpResponse {
    page(
        StatusCode::FORBIDDEN,
        &EN.staff_problem_title,
        StaffStep::Problem {
            message: EN.session_expired.clone(),
            signed_in: false,
        },
    )
}

fn session_token(req: &HttpRequest, pages: &PagesConfig) -> Option<SecretString> {
    pages
        .cookies
        .open(req, SESSION_COOKIE)
        .filter(|t| !t.is_empty())
        .map(SecretString::from)
}

/// `GET /staff`: the console for a signed-in person; anyone else is sent to sign in.
#[utoipa::path(
    get, path = "/staff", tag = "staff console",
    responses(
        (status = 200, description = "The console, for a signed-in person", body = String, content_type = "text/html"),
        (status = 303, description = "To the company's OpenID Connect provider, to sign in (authorization code with PKCE, state and nonce)"),
        (status = 404, description = "The console is off (`STAFF_OIDC_ISSUER` unset)", body = String, content_type = "text/html"),
        (status = 503, description = "The provider cannot be reached", body = String, content_type = "text/html"),
    )
)]
pub async fn console(
    req: HttpRequest,
    console: Option<web::Data<Console>>,
    pages: web::Data<PagesConfig>,
) -> HttpResponse {
    let Some(console) = console else {
        return off();
    };
    if let Some(token) = session_token(&req, &pages) {
        match console.session(&token).await {
            Ok(Some(person)) => return console_page(&person, Console::csrf(&token)),
            Ok(None) => {} // ended or expired: sign in again
            Err(err) => return failed(&err),
        }
    }
    match console.begin_sign_in().await {
        Ok((url, flow)) => {
            let flow = Flow {
                started_at: pages.cookies.now_seconds(),
                flow,
            };
            let sealed = serde_json::to_string(&flow).expect("strings serialise");
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, url))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .cookie(pages.cookies.seal(
                    FLOW_COOKIE,
                    LOCAL_PATH,
                    sealed,
                    FLOW_MINUTES * 60,
                    SameSite::Lax,
                ))
                .finish()
        }
        Err(err) => failed(&SignInError::Provider(err)),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Callback {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    state: Option<String>,
}

/// `GET /staff/callback`: the provider sent the browser back. The sign-in must be the one this
/// browser started (its sealed state, compared in constant time, within `FLOW_MINUTES`); the
/// code is exchanged and the person admitted; the session cookie replaces the sign-in's.
#[utoipa::path(
    get, path = "/staff/callback", tag = "staff console",
    params(Callback),
    responses(
        (status = 303, description = "Signed in: to `/staff`, with the session cookie", headers(("Set-Cookie" = String, description = "`__Host-mfa_recovery_staff`"))),
        (status = 400, description = "`sign_in_failed`: not a sign-in this browser started, too old, or not verified", body = String, content_type = "text/html"),
        (status = 403, description = "No second factor in the ID token's `amr`, or none of the console's groups", body = String, content_type = "text/html"),
        (status = 404, description = "The console is off (`STAFF_OIDC_ISSUER` unset)", body = String, content_type = "text/html"),
        (status = 503, description = "The provider or the database cannot be reached", body = String, content_type = "text/html"),
    )
)]
pub async fn callback(
    req: HttpRequest,
    query: web::Query<Callback>,
    console: Option<web::Data<Console>>,
    pages: web::Data<PagesConfig>,
) -> HttpResponse {
    let Some(console) = console else {
        return off();
    };
    let now = pages.cookies.now_seconds();
    let flow = pages
        .cookies
        .open(&req, FLOW_COOKIE)
        .and_then(|sealed| serde_json::from_str::<Flow>(&sealed).ok())
        .filter(|f| (0..FLOW_MINUTES * 60).contains(&(now - f.started_at)));
    let state_matches = |flow: &Flow| {
        let state = query.state.as_deref().unwrap_or_default();
        bool::from(flow.flow.state.as_bytes().ct_eq(state.as_bytes()))
    };
    let (Some(flow), Some(code)) = (flow.filter(state_matches), query.code.clone()) else {
        return with_flow_removed(failed(&SignInError::Mismatch), &pages);
    };
    let result = console
        .finish_sign_in(flow.flow, SecretString::from(code), &client_info(&req))
        .await;
    match result {
        Ok((token, _)) => {
            let cookie = pages.cookies.seal(
                SESSION_COOKIE,
                LOCAL_PATH,
                token.expose_secret().to_owned(),
                i64::try_from(console.session_lifetime().as_secs()).unwrap_or(i64::MAX),
                SameSite::Lax,
            );
            let response = HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/staff"))
                .cookie(cookie)
                .finish();
            with_flow_removed(response, &pages)
        }
        Err(err) => with_flow_removed(failed(&err), &pages),
    }
}

/// `response`, with the finished (or failed) sign-in's cookie removed: a state works once.
fn with_flow_removed(mut response: HttpResponse, pages: &PagesConfig) -> HttpResponse {
    let _ = response.add_cookie(&pages.cookies.removal(FLOW_COOKIE, LOCAL_PATH));
    response
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SignOutForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /staff/sign-out`: ends the session on the server, and its cookie.
#[utoipa::path(
    post, path = "/staff/sign-out", tag = "staff console",
    request_body(content = SignOutForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Signed out: the session ended on the server", body = String, content_type = "text/html"),
        (status = 400, description = "The form could not be read", body = String, content_type = "text/html"),
        (status = 403, description = "The form's CSRF token does not match the session", body = String, content_type = "text/html"),
        (status = 404, description = "The console is off (`STAFF_OIDC_ISSUER` unset)", body = String, content_type = "text/html"),
        (status = 503, description = "The database cannot be reached", body = String, content_type = "text/html"),
    )
)]
pub async fn sign_out(
    req: HttpRequest,
    form: web::Form<SignOutForm>,
    console: Option<web::Data<Console>>,
    pages: web::Data<PagesConfig>,
) -> HttpResponse {
    let Some(console) = console else {
        return off();
    };
    if let Some(token) = session_token(&req, &pages) {
        if !Console::csrf_matches(&token, &form.csrf) {
            return forged();
        }
        if let Err(err) = console.sign_out(&token, &client_info(&req)).await {
            return failed(&err);
        }
    }
    let mut response = page(
        StatusCode::OK,
        &EN.staff_signed_out_title,
        StaffStep::SignedOut,
    );
    let _ = response.add_cookie(&pages.cookies.removal(SESSION_COOKIE, LOCAL_PATH));
    response
}
