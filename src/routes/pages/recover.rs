//! `/recover`: the lost-phone journey in the browser, with no script. Each handler parses the
//! form into the same domain types as its JSON twin and calls the same use case; these pages
//! only choose words and the next step.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use std::sync::Arc;

use askama::Template;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::session::{CodeSent, CookieConfig, Done, PageSession, PendingEnrollment};
use super::text::{self, LanguageLink, Text};
use crate::brand::Brand;
use crate::domain::{is_token, RecoveryCode, SignInCodeText, TotpCode, Username};
use crate::idp::MfaFactor;
use crate::recovery::{
    ConfirmError, ConfirmOutcome, Confirmation, Enrollment, EnrollmentError, EnrollmentResumption,
    EnrollmentStep, EnrollmentVerification, LinkConfirmation, RecoveryService, SignInCodeAnswer,
};
use crate::routes::client_info;
use crate::routes::messages::Message;
use crate::routes::presentation::{present, Present};

/// What the pages need besides the use cases.
#[derive(Clone)]
pub struct PagesConfig {
    pub cookies: CookieConfig,
    pub require_password: bool,
    /// Where the last page sends the user (the app's sign-in), if set.
    pub sign_in_url: Option<String>,
    /// The operator's name, logo, colour and support contact.
    pub brand: Arc<Brand>,
}

pub enum Step {
    Start {
        username: String,
    },
    /// The code form: right after a request (`ask_username` false: the name is carried in the
    /// form), or for someone who already has a code (from the email's link).
    CheckEmail {
        username: String,
        ask_username: bool,
    },
    Enrol {
        qr_svg: String,
        secret_grouped: String,
        otpauth_uri: String,
        expires_at: String,
        expires_label: String,
    },
    /// The code the sign-in sent to the user's other factor (SMS or email), before the new
    /// authenticator: `intro` says where it went.
    SignInCode {
        intro: String,
    },
    /// The password, to resume an enrollment from a notice's link.
    Resume {
        token: String,
    },
    /// The password, to confirm through a code email's link.
    Link {
        token: String,
    },
    Enrolled(EnrolledView),
    Removed,
    Scheduled,
    Problem,
}

/// The last page: the new authenticator is the user's; their passkeys while they may remove
/// them.
#[derive(Default)]
pub struct EnrolledView {
    /// The passkeys listed with the user's sign-in (empty: none, or the user finished).
    pub passkeys: Vec<PasskeyItem>,
    /// Until when they can be removed, as the words write times.
    pub until: String,
    /// What was just done (a passkey removed, or the passkeys finished with).
    pub status: Option<String>,
}

/// A passkey as the page lists it.
pub struct PasskeyItem {
    pub id: String,
    pub name: String,
    /// "Added …", in the page's language.
    pub added: String,
    /// The remove button's accessible name ("Remove iPhone").
    pub remove_label: String,
}

/// An error shown on the page, tied to its field (`""`: the whole form).
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

#[derive(Template)]
#[template(path = "pages/recover.html")]
struct RecoverPage<'a> {
    t: &'a Text,
    /// For the layout: the page's language and the service's name.
    lang: &'a str,
    service: &'a str,
    title: &'a str,
    csrf: &'a str,
    step: Step,
    error: Option<FieldError>,
    password_needed: bool,
    sign_in_url: Option<&'a str>,
    /// The same page in each other language.
    languages: Vec<LanguageLink>,
    brand: &'a Brand,
}

impl RecoverPage<'_> {
    fn error_on(&self, field: &str) -> bool {
        self.error_for(field).is_some()
    }

    /// The message of an error on `field` (`""`: on the whole form).
    fn error_for(&self, field: &str) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

fn title<'a>(t: &'a Text, step: &Step) -> &'a str {
    match step {
        Step::Start { .. } => &t.start_title,
        Step::CheckEmail {
            ask_username: false,
            ..
        } => &t.check_title,
        Step::CheckEmail { .. } => &t.have_code_title,
        Step::Enrol { .. } => &t.enrol_title,
        Step::SignInCode { .. } => &t.sign_in_code_title,
        Step::Resume { .. } => &t.resume_title,
        Step::Link { .. } => &t.link_title,
        Step::Enrolled(_) => &t.enrolled_title,
        Step::Removed => &t.removed_title,
        Step::Scheduled => &t.scheduled_title,
        Step::Problem => &t.problem_title,
    }
}

/// Where the page of `step` is, for its switch between languages: the address that shows it
/// again (the form a failed POST shows is the page it was sent from).
fn here(step: &Step) -> String {
    match step {
        Step::Start { .. }
        | Step::CheckEmail {
            ask_username: false,
            ..
        }
        | Step::Problem => "/recover".to_owned(),
        Step::CheckEmail { .. } => "/recover/code".to_owned(),
        Step::Enrol { .. } | Step::SignInCode { .. } => ENROLLMENT_PAGE.to_owned(),
        // The address the email's link opened.
        Step::Resume { token } => format!("/recover/enrol?token={token}"),
        Step::Link { token } => format!("/recover/link?token={token}"),
        Step::Enrolled(_) | Step::Removed | Step::Scheduled => DONE_PAGE.to_owned(),
    }
}

/// Renders a step with the session's CSRF token and (re)sets the session cookie.
pub(super) fn render(
    t: &Text,
    status: StatusCode,
    session: &PageSession,
    config: &PagesConfig,
    step: Step,
    error: Option<FieldError>,
) -> HttpResponse {
    let page = RecoverPage {
        t,
        lang: &t.lang,
        service: &t.service,
        title: title(t, &step),
        languages: text::switch(t, &here(&step)),
        brand: &config.brand,
        csrf: &session.csrf,
        step,
        error,
        password_needed: config.require_password,
        sign_in_url: config.sign_in_url.as_deref(),
    };
    match page.render() {
        Ok(html) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .cookie(session.cookie(&config.cookies))
            .body(html),
        Err(err) => {
            crate::telemetry::log_unexpected("rendering a page failed", &err);
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body(Message::Internal.text(&t.words))
        }
    }
}

/// A use case's failure, shown on the page of `step` with its words on `field` (`""`: the
/// whole form): the status, words and `Retry-After` of the error's one presentation.
pub(super) fn failed(
    t: &Text,
    err: &dyn Present,
    session: &PageSession,
    config: &PagesConfig,
    step: Step,
    field: &'static str,
) -> HttpResponse {
    let presentation = present(err);
    let message = error(field, presentation.message.text(&t.words));
    presentation.with_retry_after(render(
        t,
        presentation.status,
        session,
        config,
        step,
        message,
    ))
}

fn error(field: &'static str, message: impl Into<String>) -> Option<FieldError> {
    Some(FieldError {
        field,
        message: message.into(),
    })
}

/// A form whose CSRF token does not match the session cookie: refused, with a way back.
pub(super) fn forged(t: &Text, config: &PagesConfig) -> HttpResponse {
    render(
        t,
        StatusCode::FORBIDDEN,
        &PageSession::new(&config.cookies),
        config,
        Step::Problem,
        error("", t.session_expired.as_str()),
    )
}

/// The session holds no open enrollment (it ended, expired, or was never there): said, with
/// nothing left to type.
fn no_enrollment(t: &Text, session: &PageSession, config: &PagesConfig) -> HttpResponse {
    failed(
        t,
        &EnrollmentError::Invalid,
        session,
        config,
        Step::Problem,
        "",
    )
}

/// The form of `step` again, asking for the password it was sent without.
fn password_missing(
    t: &Text,
    session: &PageSession,
    config: &PagesConfig,
    step: Step,
) -> HttpResponse {
    let message = error("password", t.password_missing.as_str());
    render(t, StatusCode::BAD_REQUEST, session, config, step, message)
}

/// `step` in a new page session (a first page, or one whose session is gone).
pub(super) fn fresh(t: &Text, config: &PagesConfig, step: Step) -> HttpResponse {
    let session = PageSession::new(&config.cookies);
    render(t, StatusCode::OK, &session, config, step, None)
}

/// The first step, for a page without the session it needs.
pub(super) fn start_step() -> Step {
    Step::Start {
        username: String::new(),
    }
}

/// `GET /recover`: where a user who lost their phone starts.
pub async fn start(req: HttpRequest, config: web::Data<PagesConfig>) -> HttpResponse {
    let t = text::for_request(&req);
    fresh(t, &config, start_step())
}

#[derive(Deserialize)]
pub struct RequestForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
}

/// `POST /recover`: the same request as `POST /v1/recovery`; the next page is the same for
/// every name.
pub async fn request(
    req: HttpRequest,
    form: web::Form<RequestForm>,
    service: web::Data<RecoveryService>,
    config: web::Data<PagesConfig>,
) -> HttpResponse {
    let t = text::for_request(&req);
    let Some(mut session) = PageSession::verified(&req, &config.cookies, &form.csrf) else {
        return forged(t, &config);
    };
    let typed = form.username.trim().to_owned();
    let Ok(username) = Username::parse(&form.username) else {
        let step = Step::Start { username: typed };
        let message = error("username", t.username_invalid.as_str());
        return render(t, StatusCode::BAD_REQUEST, &session, &config, step, message);
    };
    if let Err(err) = service.request(username.clone(), client_info(&req)).await {
        let step = Step::Start { username: typed };
        return failed(t, &err, &session, &config, step, "username");
    }
    session.enrollment = None;
    let step = Step::CheckEmail {
        username: username.as_str().to_owned(),
        ask_username: false,
    };
    render(t, StatusCode::OK, &session, &config, step, None)
}

/// `GET /recover/code`: for someone who already has a code (the email links here): asking
/// again would send a new code and replace theirs.
pub async fn have_code(req: HttpRequest, config: web::Data<PagesConfig>) -> HttpResponse {
    let t = text::for_request(&req);
    let step = Step::CheckEmail {
        username: String::new(),
        ask_username: true,
    };
    fresh(t, &config, step)
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    /// Whether the form showed the username field (the page for someone who has a code).
    #[serde(default)]
    ask_username: bool,
    #[serde(default)]
    code: String,
    #[serde(default)]
    password: String,
}

/// `POST /recover/confirm`: the same confirmation as `POST /v1/recovery/confirm`.
pub async fn confirm(
    req: HttpRequest,
    form: web::Form<ConfirmForm>,
    service: web::Data<RecoveryService>,
    config: web::Data<PagesConfig>,
) -> HttpResponse {
    let t = text::for_request(&req);
    let form = form.into_inner();
    let Some(session) = PageSession::verified(&req, &config.cookies, &form.csrf) else {
        return forged(t, &config);
    };
    let typed = form.username.trim().to_owned();
    let ask_username = form.ask_username;
    let step = || Step::CheckEmail {
        username: typed.clone(),
        ask_username,
    };
    let again = |field, message: &str| {
        render(
            t,
            StatusCode::BAD_REQUEST,
            &session,
            &config,
            step(),
            error(field, message),
        )
    };
    let Ok(username) = Username::parse(&typed) else {
        return again("username", t.username_invalid.as_str());
    };
    let Ok(code) = RecoveryCode::parse(&form.code) else {
        return again("code", t.code_invalid.as_str());
    };
    let password = (!form.password.is_empty()).then(|| SecretString::from(form.password));
    if config.require_password && password.is_none() {
        return again("password", t.password_missing.as_str());
    }
    let outcome = service
        .confirm(Confirmation {
            username,
            code,
            password,
            client: client_info(&req),
        })
        .await;
    match outcome {
        Ok(outcome) => confirmed(t, outcome, session, &config),
        Err(err) => failed(t, &err, &session, &config, step(), "code"),
    }
}

/// A confirmation succeeded: answered with a redirect to a page that shows what it did
/// (Post/Redirect/Get: a refresh shows the same page and posts no second confirmation, which
/// would cost an attempt).
fn confirmed(
    t: &Text,
    outcome: ConfirmOutcome,
    mut session: PageSession,
    config: &PagesConfig,
) -> HttpResponse {
    match outcome {
        ConfirmOutcome::Reset {
            enrollment: Some(enrollment),
        } => {
            session.enrollment = Some(PendingEnrollment::from(enrollment));
            redirect(t, session, config, ENROLLMENT_PAGE)
        }
        ConfirmOutcome::Reset { enrollment: None } => {
            session.done = Some(Done::Removed);
            redirect(t, session, config, DONE_PAGE)
        }
        ConfirmOutcome::Scheduled { .. } => {
            session.done = Some(Done::Scheduled);
            redirect(t, session, config, DONE_PAGE)
        }
    }
}

/// `GET /recover/link?token=`: a code email's link. Opening it changes nothing (mail scanners
/// open links); its form confirms.
pub async fn link_form(
    req: HttpRequest,
    query: web::Query<LinkQuery>,
    config: web::Data<PagesConfig>,
) -> HttpResponse {
    let t = text::for_request(&req);
    opened(t, &query.token, &config, &ConfirmError::Invalid, |token| {
        Step::Link { token }
    })
}

/// An emailed link, opened: its password form in a new page session (`step` with the token), or
/// `invalid` for a token that cannot be one. Opening changes nothing: mail scanners open links.
fn opened(
    t: &Text,
    token: &str,
    config: &PagesConfig,
    invalid: &dyn Present,
    step: impl FnOnce(String) -> Step,
) -> HttpResponse {
    let session = PageSession::new(&config.cookies);
    if !is_token(token) {
        return failed(t, invalid, &session, config, Step::Problem, "");
    }
    render(
        t,
        StatusCode::OK,
        &session,
        config,
        step(token.to_owned()),
        None,
    )
}

/// `POST /recover/link`: confirms through a code email's link, with the password.
pub async fn link_confirm(
    req: HttpRequest,
    form: web::Form<LinkForm>,
    service: web::Data<RecoveryService>,
    config: web::Data<PagesConfig>,
) -> HttpResponse {
    let t = text::for_request(&req);
    let form = form.into_inner();
    let Some(session) = PageSession::verified(&req, &config.cookies, &form.csrf) else {
        return forged(t, &config);
    };
    let step = || Step::Link {
        token: form.token.clone(),
    };
    let password = (!form.password.is_empty()).then(|| SecretString::from(form.password.clone()));
    if config.require_password && password.is_none() {
        return password_missing(t, &session, &config, step());
    }
    let outcome = if is_token(&form.token) {
        service
            .confirm_link(LinkConfirmation {
                link: SecretString::from(form.token.clone()),
                password,
                client: client_info(&req),
            })
            .await
    } else {
        Err(ConfirmError::Invalid)
    };
    match outcome {
        Ok(outcome) => confirmed(t, outcome, session, &config),
        Err(err) => failed(t, &err, &session, &config, step(), "password"),
    }
}

/// Where a confirmed recovery's new authenticator is shown, and where other outcomes are.
const ENROLLMENT_PAGE: &str = "/recover/enrollment";
const DONE_PAGE: &str = "/recover/done";

/// `303 See Other` to `page`, with the session (its CSRF token renewed: a form captured before
/// the step succeeded is refused).
fn redirect(t: &Text, mut session: PageSession, config: &PagesConfig, page: &str) -> HttpResponse {
    session.rotate_csrf();
    HttpResponse::SeeOther()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("{page}?lang={}", t.lang),
        ))
        .cookie(session.cookie(&config.cookies))
        .finish()
}

/// `GET /recover/enrollment`: the new authenticator of the session's enrollment, while that
/// enrollment is open. A replayed cookie of an enrollment that ended shows no secret.
pub async fn show_enrollment(
    req: HttpRequest,
    service: web::Data<RecoveryService>,
    config: web::Data<PagesConfig>,
) -> HttpResponse {
    let t = text::for_request(&req);
    let Some(mut session) = PageSession::load(&req, &config.cookies) else {
        return fresh(t, &config, start_step());
    };
    let open = match &session.enrollment {
        Some(pending) => {
            let token = SecretString::from(pending.token.clone());
            match service.enrollment_open(&token).await {
                Ok(open) => open,
                Err(err) => {
                    let err = EnrollmentError::Store(err);
                    return failed(t, &err, &session, &config, Step::Problem, "");
                }
            }
        }
        None => false,
    };
    if !open {
        session.enrollment = None;
        return no_enrollment(t, &session, &config);
    }
    enrol_page(t, StatusCode::OK, &session, &config, None)
}

/// `GET /recover/done`: what the confirmation did, when there was no enrollment to show.
pub async fn done(
    req: HttpRequest,
    service: web::Data<RecoveryService>,
    config: web::Data<PagesConfig>,
) -> HttpResponse {
    let t = text::for_request(&req);
    let Some(session) = PageSession::load(&req, &config.cookies) else {
        return fresh(t, &config, start_step());
    };
    let step = match session.done {
        Some(Done::Removed) => Step::Removed,
        Some(Done::Scheduled) => Step::Scheduled,
        Some(Done::Enrolled) => {
            return super::passkeys::enrolled_page(t, session, &service, &config, &req).await
        }
        None => start_step(),
    };
    render(t, StatusCode::OK, &session, &config, step, None)
}

impl From<Enrollment> for PendingEnrollment {
    fn from(enrollment: Enrollment) -> Self {
        let (secret_code, otpauth_uri, code_sent) = match enrollment.step {
            EnrollmentStep::Authenticator {
                secret_code,
                otpauth_uri,
            } => (
                secret_code.expose_secret().to_owned(),
                otpauth_uri.expose_secret().to_owned(),
                None,
            ),
            EnrollmentStep::SignInCode {
                factor,
                destination,
            } => (
                String::new(),
                String::new(),
                Some(CodeSent {
                    by_text: factor != MfaFactor::Email,
                    destination,
                }),
            ),
        };
        Self {
            token: enrollment.token.expose_secret().to_owned(),
            secret_code,
            otpauth_uri,
            expires_at: enrollment
                .expires_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            code_sent,
        }
    }
}

/// The enrollment page of the session's pending enrollment.
fn enrol_page(
    t: &Text,
    status: StatusCode,
    session: &PageSession,
    config: &PagesConfig,
    error: Option<FieldError>,
) -> HttpResponse {
    let Some(pending) = &session.enrollment else {
        return render(t, status, session, config, Step::Problem, error);
    };
    if let Some(sent) = &pending.code_sent {
        let id = if sent.by_text {
            "page-sign-in-code-intro-sms"
        } else {
            "page-sign-in-code-intro-email"
        };
        let intro = t.words.with(
            id,
            crate::words::Args::new().text("destination", sent.destination.clone()),
        );
        return render(
            t,
            status,
            session,
            config,
            Step::SignInCode { intro },
            error,
        );
    }
    let step = Step::Enrol {
        qr_svg: qr_svg(&pending.otpauth_uri),
        secret_grouped: grouped(&pending.secret_code),
        otpauth_uri: pending.otpauth_uri.clone(),
        expires_at: pending.expires_at.clone(),
        expires_label: chrono::DateTime::parse_from_rfc3339(&pending.expires_at)
            .map(|t| t.format("%H:%M UTC").to_string())
            .unwrap_or_else(|_| pending.expires_at.clone()),
    };
    render(t, status, session, config, step, error)
}

/// The Key URI as an inline SVG QR code (no image request, so it works offline and under the
/// strict CSP).
fn qr_svg(uri: &str) -> String {
    match qrcode::QrCode::new(uri.as_bytes()) {
        Ok(code) => {
            let svg = code
                .render::<qrcode::render::svg::Color>()
                .min_dimensions(240, 240)
                .quiet_zone(true)
                .build();
            // Inline in HTML: without the XML declaration.
            svg.find("<svg")
                .map_or(svg.clone(), |i| svg[i..].to_owned())
        }
        Err(_) => String::new(),
    }
}

/// The key in groups of four, as people read it aloud or type it.
fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The page session of a form posted at an enrollment's step, with its pending enrollment at
/// that step (`code_sent`: the sign-in's code; else the new authenticator's); else the page to
/// answer with (a forged form, or no such enrollment; boxed: a response is large).
fn pending_step(
    t: &Text,
    req: &HttpRequest,
    config: &PagesConfig,
    csrf: &str,
    code_sent: bool,
) -> Result<(PageSession, PendingEnrollment), Box<HttpResponse>> {
    let Some(session) = PageSession::verified(req, &config.cookies, csrf) else {
        return Err(Box::new(forged(t, config)));
    };
    match session
        .enrollment
        .clone()
        .filter(|p| p.code_sent.is_some() == code_sent)
    {
        Some(pending) => Ok((session, pending)),
        None => Err(Box::new(no_enrollment(t, &session, config))),
    }
}

/// The enrollment's page again, with the words, status and `Retry-After` of the use case's
/// failure on `field`.
fn enrol_page_failed(
    t: &Text,
    err: &EnrollmentError,
    session: &PageSession,
    config: &PagesConfig,
    field: &'static str,
) -> HttpResponse {
    let presentation = present(err);
    let message = error(field, presentation.message.text(&t.words));
    presentation.with_retry_after(enrol_page(t, presentation.status, session, config, message))
}

#[derive(Deserialize)]
pub struct EnrolForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    totp_code: String,
}

/// `POST /recover/enrollment`: the same verification as `POST /v1/recovery/enrollment/verify`.
pub async fn enrol(
    req: HttpRequest,
    form: web::Form<EnrolForm>,
    service: web::Data<RecoveryService>,
    config: web::Data<PagesConfig>,
) -> HttpResponse {
    let t = text::for_request(&req);
    let (mut session, pending) = match pending_step(t, &req, &config, &form.csrf, false) {
        Ok(found) => found,
        Err(page) => return *page,
    };
    let Ok(code) = TotpCode::parse(&form.totp_code) else {
        return enrol_page(
            t,
            StatusCode::BAD_REQUEST,
            &session,
            &config,
            error("totp_code", t.totp_malformed.as_str()),
        );
    };
    let token = pending.token;
    let result = service
        .verify_enrollment(EnrollmentVerification {
            token: SecretString::from(token.clone()),
            code,
            client: client_info(&req),
        })
        .await;
    match result {
        Ok(enrolled) => {
            session.enrollment = None;
            session.done = Some(Done::Enrolled);
            // The user's sign-in is kept while they see to their passkeys.
            session.passkeys = enrolled.until.map(|_| token);
            let view = super::passkeys::view(t, enrolled, None);
            render(
                t,
                StatusCode::OK,
                &session,
                &config,
                Step::Enrolled(view),
                None,
            )
        }
        // This enrollment is over: the page says so, with nothing left to type.
        Err(err @ (EnrollmentError::Invalid | EnrollmentError::NotApplied(_))) => {
            session.enrollment = None;
            failed(t, &err, &session, &config, Step::Problem, "")
        }
        // The same form again, the words of the failure on the code.
        Err(err) => enrol_page_failed(t, &err, &session, &config, "totp_code"),
    }
}

#[derive(Deserialize)]
pub struct SignInCodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    sign_in_code: String,
}

/// `POST /recover/enrollment/code`: the same use case as `POST /v1/recovery/enrollment/code`:
/// the code the sign-in sent to the user's other factor, then the new authenticator.
pub async fn sign_in_code(
    req: HttpRequest,
    form: web::Form<SignInCodeForm>,
    service: web::Data<RecoveryService>,
    config: web::Data<PagesConfig>,
) -> HttpResponse {
    let t = text::for_request(&req);
    let (mut session, pending) = match pending_step(t, &req, &config, &form.csrf, true) {
        Ok(found) => found,
        Err(page) => return *page,
    };
    let Some(code) = SignInCodeText::parse(&form.sign_in_code) else {
        let message = error("sign_in_code", t.sign_in_code_malformed.as_str());
        return enrol_page(t, StatusCode::BAD_REQUEST, &session, &config, message);
    };
    let result = service
        .answer_sign_in_code(SignInCodeAnswer {
            token: SecretString::from(pending.token),
            code,
            client: client_info(&req),
        })
        .await;
    match result {
        Ok(enrollment) => {
            session.enrollment = Some(PendingEnrollment::from(enrollment));
            redirect(t, session, &config, ENROLLMENT_PAGE)
        }
        Err(err @ EnrollmentError::Invalid) => {
            session.enrollment = None;
            failed(t, &err, &session, &config, Step::Problem, "")
        }
        Err(err) => enrol_page_failed(t, &err, &session, &config, "sign_in_code"),
    }
}

/// An emailed link as opened: its token.
#[derive(Deserialize)]
pub struct LinkQuery {
    #[serde(default)]
    token: String,
}

/// `GET /recover/enrol?token=`: the reset-applied notice's link. Opening it changes nothing
/// (mail scanners open links); the password form resumes the enrollment.
pub async fn resume_form(
    req: HttpRequest,
    query: web::Query<LinkQuery>,
    config: web::Data<PagesConfig>,
) -> HttpResponse {
    let t = text::for_request(&req);
    opened(
        t,
        &query.token,
        &config,
        &EnrollmentError::InvalidLink,
        |token| Step::Resume { token },
    )
}

/// The password form of an emailed link (`/recover/link`, `/recover/enrol`).
#[derive(Deserialize)]
pub struct LinkForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
}

/// `POST /recover/enrol`: the same use case as `POST /v1/recovery/enrollment`.
pub async fn resume(
    req: HttpRequest,
    form: web::Form<LinkForm>,
    service: web::Data<RecoveryService>,
    config: web::Data<PagesConfig>,
) -> HttpResponse {
    let t = text::for_request(&req);
    let form = form.into_inner();
    let Some(mut session) = PageSession::verified(&req, &config.cookies, &form.csrf) else {
        return forged(t, &config);
    };
    let step = || Step::Resume {
        token: form.token.clone(),
    };
    if form.password.is_empty() {
        return password_missing(t, &session, &config, step());
    }
    let result = if is_token(&form.token) {
        service
            .resume_enrollment(EnrollmentResumption {
                link: SecretString::from(form.token.clone()),
                password: SecretString::from(form.password.clone()),
                client: client_info(&req),
            })
            .await
    } else {
        Err(EnrollmentError::InvalidLink)
    };
    match result {
        Ok(enrollment) => {
            session.enrollment = Some(PendingEnrollment::from(enrollment));
            redirect(t, session, &config, ENROLLMENT_PAGE)
        }
        Err(err) => failed(t, &err, &session, &config, step(), "password"),
    }
}

/// `GET /assets/pages.css`, in the operator's accent colour.
pub async fn stylesheet(config: web::Data<PagesConfig>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(config.brand.stylesheet.clone())
}

/// `GET /assets/logo`: the operator's logo (`BRAND_LOGO_FILE`), 404 without one.
pub async fn logo(config: web::Data<PagesConfig>) -> HttpResponse {
    match &config.brand.logo {
        Some(logo) => HttpResponse::Ok()
            .content_type(logo.content_type)
            .insert_header(("Cache-Control", "public, max-age=3600"))
            .body(logo.bytes.clone()),
        None => HttpResponse::NotFound().finish(),
    }
}

/// A page for a path that does not exist, for browsers.
pub fn not_found_page(t: &Text, brand: &Brand) -> HttpResponse {
    // This page sets no cookie: its forms' token is never checked, so any fresh one does.
    let csrf = crate::domain::random_token();
    let page = RecoverPage {
        t,
        lang: &t.lang,
        service: &t.service,
        title: &t.not_found,
        csrf: csrf.expose_secret(),
        step: Step::Problem,
        error: None,
        password_needed: false,
        sign_in_url: None,
        languages: text::switch(t, "/recover"),
        brand,
    };
    match page.render() {
        Ok(html) => HttpResponse::NotFound()
            .content_type("text/html; charset=utf-8")
            .body(html),
        Err(_) => HttpResponse::NotFound().finish(),
    }
}

#[cfg(test)]
mod tests {
    use actix_web::body::MessageBody;
    use actix_web::ResponseError;

    use super::*;
    use crate::routes::presentation::tests::every_error;
    use crate::routes::problem::ApiError;

    fn retry_after(response: &HttpResponse) -> Option<String> {
        response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned())
    }

    /// The page and the API say the same about every failure: the same status, the same
    /// `Retry-After`, the same words (`ResetInProgress` was a 500 without `Retry-After` on the
    /// page while the API said 503 with one).
    #[test]
    fn the_page_and_the_api_agree_on_every_use_case_error() {
        let config = PagesConfig {
            cookies: CookieConfig::new(&SecretString::from("p".repeat(32)), false),
            require_password: true,
            sign_in_url: None,
            brand: Arc::default(),
        };
        let session = PageSession::new(&config.cookies);
        let t = text::text(&crate::words::Words::english());
        for (err, status, _, retry) in every_error() {
            let api = ApiError::from_present(&*err).error_response();
            let page = failed(t, &*err, &session, &config, Step::Problem, "");
            assert_eq!(api.status().as_u16(), status, "{err}");
            assert_eq!(page.status().as_u16(), status, "{err}");
            assert_eq!(retry_after(&api), retry.map(|s| s.to_string()), "{err}");
            assert_eq!(retry_after(&page), retry.map(|s| s.to_string()), "{err}");

            let words = present(&*err).message.text(&t.words);
            let api: serde_json::Value =
                serde_json::from_slice(&api.into_body().try_into_bytes().unwrap()).unwrap();
            assert_eq!(api["detail"], words.as_str(), "{err}");
            let html =
                String::from_utf8(page.into_body().try_into_bytes().unwrap().to_vec()).unwrap();
            // As askama escapes text into HTML.
            let escaped = words
                .replace('&', "&amp;")
                .replace('\'', "&#x27;")
                .replace('"', "&quot;");
            assert!(html.contains(&escaped), "{err}: {words}");
        }
    }
}
