//! The support desk in the staff console: find a user (`POST /staff/users`), start a recovery
//! for them (`POST /staff/recoveries`) or clear their lock (`POST /staff/users/unlock`) with a
//! reason, a ticket and how the caller was verified, follow one recovery
//! (`GET /staff/recoveries/{id}`) and cancel it (`POST /staff/recoveries/{id}/cancel`). Every
//! form needs a signed-in person in the support group and the session's CSRF token; the use
//! cases are the support API's (`recovery::support`), named for the person and their session.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::staff::{refusal, refused, rendered, Shown, SignedIn};
use super::text::{words, Text, EN};
use super::PagesConfig;
use crate::domain::{CallerCheck, Justification, StaffRole, Username};
use crate::idp::{AuthFactors, MfaFactor, SignInFactor};
use crate::recovery::{RecoveryAtDesk, RecoveryService, RecoverySummary, SupportError, UserAtDesk};
use crate::routes::client_info;
use crate::routes::presentation::present;
use crate::staff::console::Console;

/// Every page here is the support desk's.
const SUPPORT: StaffRole = StaffRole::Support;

/// The words typed in the grounds of an action, kept when the page comes back with an error.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct GroundsForm {
    #[serde(default)]
    csrf: String,
    /// The user's username, alias or email.
    #[serde(default)]
    username: String,
    /// Why: required, on every event the action causes.
    #[serde(default)]
    reason: String,
    /// The ticket in the company's tracker (optional).
    #[serde(default)]
    ticket: String,
    /// How the caller was verified: `call_back`, `manager`, `in_person` or `other`.
    #[serde(default)]
    verification: String,
    /// What was done, for `other`.
    #[serde(default)]
    verification_detail: String,
}

impl GroundsForm {
    fn grounds(&self) -> Result<Justification, crate::domain::JustificationError> {
        Justification::parse(
            &self.reason,
            Some(&self.ticket),
            Some(&self.verification),
            Some(&self.verification_detail),
        )
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SearchForm {
    #[serde(default)]
    csrf: String,
    /// A username, alias or email address.
    #[serde(default)]
    username: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CancelForm {
    #[serde(default)]
    csrf: String,
}

/// One way the caller may have been verified, as the form offers it.
struct Check {
    value: &'static str,
    label: String,
    checked: bool,
}

/// A user, as the page shows them.
struct UserView {
    username: String,
    enabled: bool,
    email_hint: Option<String>,
    phone_hint: Option<String>,
    factors: Vec<String>,
    remembered_devices: usize,
    own_account: bool,
    /// Why no recovery can be started, in words.
    cannot_start: Option<String>,
    recoveries: Vec<RecoveryView>,
}

struct RecoveryView {
    id: Uuid,
    username: String,
    status: &'static str,
    initiated_by: String,
    reason: Option<String>,
    ticket: Option<String>,
    verification: Option<String>,
    approved_by: Option<String>,
    email_hint: Option<String>,
    created_at: String,
    expires_at: String,
    finished_at: Option<String>,
    cancellable: bool,
}

struct EventView {
    at: String,
    action: String,
    actor: String,
    outcome: String,
    detail: Option<String>,
}

enum DeskStep {
    User {
        user: UserView,
        form: GroundsForm,
        checks: Vec<Check>,
        /// What was wrong with the form, in words.
        error: Option<String>,
        /// What was just done (a lock cleared).
        notice: Option<String>,
    },
    Recovery {
        recovery: RecoveryView,
        timeline: Vec<EventView>,
    },
}

#[derive(Template)]
#[template(path = "pages/desk.html")]
struct DeskPage<'a> {
    t: &'a Text,
    lang: &'a str,
    service: &'a str,
    title: &'a str,
    csrf: String,
    step: DeskStep,
}

fn page(status: StatusCode, signed: &SignedIn, title: &str, step: DeskStep) -> HttpResponse {
    let t: &Text = &EN;
    rendered(
        status,
        DeskPage {
            t,
            lang: &t.lang,
            service: &t.staff_service,
            title,
            csrf: signed.csrf(),
            step,
        }
        .render(),
    )
}

fn time(at: DateTime<Utc>) -> String {
    words().time(at)
}

fn factor_words(factors: &AuthFactors) -> Vec<String> {
    let mfa = factors.mfa.iter().map(|factor| match factor {
        MfaFactor::Totp => EN.staff_factor_totp.clone(),
        MfaFactor::Sms => EN.staff_factor_sms.clone(),
        MfaFactor::Email => EN.staff_factor_email.clone(),
        MfaFactor::Other(name) => name.clone(),
    });
    let sign_in = factors.sign_in.iter().map(|factor| match factor {
        SignInFactor::Password => EN.staff_factor_password.clone(),
        SignInFactor::SmsCode => EN.staff_factor_sms_sign_in.clone(),
        SignInFactor::EmailCode => EN.staff_factor_email_sign_in.clone(),
        SignInFactor::Passkey => EN.staff_factor_passkey.clone(),
        SignInFactor::Other(name) => name.clone(),
    });
    mfa.chain(sign_in).collect()
}

fn check_words(check: CallerCheck) -> String {
    match check {
        CallerCheck::CallBack => EN.staff_verification_call_back.clone(),
        CallerCheck::Manager => EN.staff_verification_manager.clone(),
        CallerCheck::InPerson => EN.staff_verification_in_person.clone(),
        CallerCheck::Other => EN.staff_verification_other.clone(),
    }
}

/// How the caller was verified, as stored on a recovery (`call_back`, `other: <words>`), in
/// the page's words.
pub(super) fn verification_words(stored: &str) -> String {
    match stored.split_once(": ") {
        Some(("other", words)) => format!("{}: {words}", EN.staff_verification_another),
        _ => stored
            .parse::<CallerCheck>()
            .map_or_else(|_| stored.to_owned(), check_words),
    }
}

fn checks(chosen: &str) -> Vec<Check> {
    CallerCheck::ALL
        .iter()
        .map(|check| Check {
            value: check.as_str(),
            label: check_words(*check),
            checked: check.as_str() == chosen,
        })
        .collect()
}

impl From<RecoverySummary> for RecoveryView {
    fn from(r: RecoverySummary) -> Self {
        Self {
            cancellable: r.cancellable(),
            id: r.recovery_id,
            username: r.username,
            status: r.shown_status,
            initiated_by: r.initiated_by.stored(),
            reason: r.reason,
            ticket: r.ticket,
            verification: r.verification.as_deref().map(verification_words),
            approved_by: r.approved_by,
            email_hint: r.email_hint,
            created_at: time(r.created_at),
            expires_at: time(r.expires_at),
            finished_at: r.finished_at.map(time),
        }
    }
}

impl From<UserAtDesk> for UserView {
    fn from(user: UserAtDesk) -> Self {
        Self {
            factors: factor_words(&user.factors),
            cannot_start: user.eligibility.err().map(|why| {
                present(&SupportError::NotEligible(why))
                    .message
                    .text(&words())
            }),
            username: user.username,
            enabled: user.enabled,
            email_hint: user.email_hint,
            phone_hint: user.phone_hint,
            remembered_devices: user.remembered_devices,
            own_account: user.own_account,
            recoveries: user
                .recoveries
                .into_iter()
                .map(RecoveryView::from)
                .collect(),
        }
    }
}

impl From<RecoveryAtDesk> for DeskStep {
    fn from(r: RecoveryAtDesk) -> Self {
        DeskStep::Recovery {
            recovery: r.recovery.into(),
            timeline: r
                .timeline
                .into_iter()
                .map(|e| EventView {
                    at: time(e.at),
                    action: e.action,
                    actor: e.actor,
                    outcome: e.outcome,
                    detail: e.detail,
                })
                .collect(),
        }
    }
}

fn parse_username(input: &str) -> Result<Username, Shown> {
    Username::parse(input.trim()).map_err(|_| {
        Box::new(refusal(
            StatusCode::BAD_REQUEST,
            EN.staff_query_invalid.clone(),
        ))
    })
}

/// How the user page comes: fresh, back with a form whose grounds did not hold, or after an
/// action, saying what was done.
enum Visit {
    Fresh,
    Refused { typed: GroundsForm, error: String },
    Done { notice: String },
}

/// The user page for `query`, as `visit` brings it.
async fn user_page(
    signed: &SignedIn,
    service: &RecoveryService,
    req: &HttpRequest,
    query: &Username,
    visit: Visit,
) -> HttpResponse {
    let (status, form, error, notice) = match visit {
        Visit::Fresh => (StatusCode::OK, GroundsForm::default(), None, None),
        Visit::Refused { typed, error } => (StatusCode::BAD_REQUEST, typed, Some(error), None),
        Visit::Done { notice } => (StatusCode::OK, GroundsForm::default(), None, Some(notice)),
    };
    match service
        .user_at_desk(&signed.agent(), query, &client_info(req))
        .await
    {
        Ok(user) => {
            let title = EN.staff_user_title.clone();
            let checks = checks(&form.verification);
            let step = DeskStep::User {
                user: user.into(),
                form,
                checks,
                error,
                notice,
            };
            page(status, signed, &title, step)
        }
        Err(err) => refused(&err),
    }
}

/// What a form that acts on a user brings: the agent, the user named, and grounds that hold;
/// or the page to show instead (the user page again, with the error and the words typed, when
/// the grounds do not hold).
async fn acting(
    req: &HttpRequest,
    form: web::Form<GroundsForm>,
    console: Option<web::Data<Console>>,
    pages: &PagesConfig,
    service: &RecoveryService,
) -> Result<(SignedIn, Username, Justification), Shown> {
    let csrf = Some(form.csrf.as_str());
    let signed = SignedIn::require(req, console.as_ref(), pages, SUPPORT, csrf).await?;
    let username = parse_username(&form.username)?;
    match form.grounds() {
        Ok(grounds) => Ok((signed, username, grounds)),
        Err(err) => {
            let error = present(&err).message.text(&words());
            let back = Visit::Refused {
                typed: form.into_inner(),
                error,
            };
            Err(Box::new(
                user_page(&signed, service, req, &username, back).await,
            ))
        }
    }
}

/// `POST /staff/users`: the user a username, alias or email designates.
#[utoipa::path(
    post, path = "/staff/users", tag = "staff console",
    request_body(content = SearchForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The user: masked email and phone (`data-testid=\"user-email-hint\"`), factors (`data-testid=\"user-factors\"`), recent recoveries, and the start form", body = String, content_type = "text/html"),
        (status = 400, description = "Not a username or email, or the form could not be read", body = String, content_type = "text/html"),
        (status = 401, description = "No session: sign in again", body = String, content_type = "text/html"),
        (status = 403, description = "Not in the support group, or the form's CSRF token is not the session's", body = String, content_type = "text/html"),
        (status = 404, description = "No such user, or the console is off", body = String, content_type = "text/html"),
        (status = 409, description = "Several users have that email: search by username", body = String, content_type = "text/html"),
        (status = 503, description = "Cognito or the database cannot be reached", body = String, content_type = "text/html"),
    )
)]
pub async fn find(
    req: HttpRequest,
    form: web::Form<SearchForm>,
    console: Option<web::Data<Console>>,
    pages: web::Data<PagesConfig>,
    service: web::Data<RecoveryService>,
) -> HttpResponse {
    let csrf = Some(form.csrf.as_str());
    let signed = match SignedIn::require(&req, console.as_ref(), &pages, SUPPORT, csrf).await {
        Ok(signed) => signed,
        Err(page) => return *page,
    };
    let query = match parse_username(&form.username) {
        Ok(query) => query,
        Err(page) => return *page,
    };
    user_page(&signed, &service, &req, &query, Visit::Fresh).await
}

/// `POST /staff/recoveries`: emails the user a recovery code, for the reason given.
#[utoipa::path(
    post, path = "/staff/recoveries", tag = "staff console",
    request_body(content = GroundsForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Queued: to the recovery's page, `/staff/recoveries/{id}`"),
        (status = 400, description = "No reason, no way the caller was verified, or a field too long: the user page again, with the error and the words typed", body = String, content_type = "text/html"),
        (status = 401, description = "No session: sign in again", body = String, content_type = "text/html"),
        (status = 403, description = "Not in the support group, the CSRF token is not the session's, or the account is the agent's own (`own_account`, audited)", body = String, content_type = "text/html"),
        (status = 404, description = "No such user, or the console is off", body = String, content_type = "text/html"),
        (status = 409, description = "Several users have that email", body = String, content_type = "text/html"),
        (status = 422, description = "The user cannot be recovered (disabled, no verified email, nothing to recover)", body = String, content_type = "text/html"),
        (status = 429, description = "The support desk's daily quota for this user is spent", body = String, content_type = "text/html"),
        (status = 503, description = "Cognito or the database cannot be reached, or the service's hourly email budget is spent", body = String, content_type = "text/html"),
    )
)]
pub async fn start(
    req: HttpRequest,
    form: web::Form<GroundsForm>,
    console: Option<web::Data<Console>>,
    pages: web::Data<PagesConfig>,
    service: web::Data<RecoveryService>,
) -> HttpResponse {
    let (signed, username, grounds) = match acting(&req, form, console, &pages, &service).await {
        Ok(acting) => acting,
        Err(page) => return *page,
    };
    match service
        .request_for_user(&signed.agent(), username, grounds, client_info(&req))
        .await
    {
        Ok(queued) => HttpResponse::SeeOther()
            .insert_header((
                header::LOCATION,
                format!("/staff/recoveries/{}", queued.recovery_id),
            ))
            .finish(),
        Err(err) => refused(&err),
    }
}

/// `POST /staff/users/unlock`: forgets the user's wrong confirmations, for the reason given.
#[utoipa::path(
    post, path = "/staff/users/unlock", tag = "staff console",
    request_body(content = GroundsForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Cleared: the user page, saying how many wrong confirmations were forgotten", body = String, content_type = "text/html"),
        (status = 400, description = "No reason, no way the caller was verified, or a field too long: the user page again, with the error", body = String, content_type = "text/html"),
        (status = 401, description = "No session: sign in again", body = String, content_type = "text/html"),
        (status = 403, description = "Not in the support group, the CSRF token is not the session's, or the account is the agent's own", body = String, content_type = "text/html"),
        (status = 404, description = "No such user, or the console is off", body = String, content_type = "text/html"),
        (status = 409, description = "Several users have that email", body = String, content_type = "text/html"),
        (status = 503, description = "Cognito or the database cannot be reached", body = String, content_type = "text/html"),
    )
)]
pub async fn unlock(
    req: HttpRequest,
    form: web::Form<GroundsForm>,
    console: Option<web::Data<Console>>,
    pages: web::Data<PagesConfig>,
    service: web::Data<RecoveryService>,
) -> HttpResponse {
    let (signed, username, grounds) = match acting(&req, form, console, &pages, &service).await {
        Ok(acting) => acting,
        Err(page) => return *page,
    };
    match service
        .clear_lock(
            &signed.agent(),
            username.clone(),
            &grounds,
            &client_info(&req),
        )
        .await
    {
        Ok(cleared) => {
            let notice = words().number("page-staff-unlocked", "count", cleared as f64);
            user_page(&signed, &service, &req, &username, Visit::Done { notice }).await
        }
        Err(err) => refused(&err),
    }
}

/// The recovery an address names; a malformed id is no recovery (404).
pub(super) fn recovery_id(path: &str) -> Result<Uuid, Shown> {
    Uuid::parse_str(path).map_err(|_| Box::new(refused(&SupportError::RecoveryNotFound)))
}

/// `GET /staff/recoveries/{recovery_id}`: one recovery, its status and its timeline.
#[utoipa::path(
    get, path = "/staff/recoveries/{recovery_id}", tag = "staff console",
    params(("recovery_id" = String, Path, description = "The recovery's id")),
    responses(
        (status = 200, description = "The recovery: its status (`data-testid=\"recovery-status\"`), grounds and timeline, and a cancel form while it can be cancelled", body = String, content_type = "text/html"),
        (status = 303, description = "No session: to `/staff`, to sign in"),
        (status = 403, description = "Not in the support group", body = String, content_type = "text/html"),
        (status = 404, description = "No such recovery, or the console is off", body = String, content_type = "text/html"),
        (status = 503, description = "The database cannot be reached", body = String, content_type = "text/html"),
    )
)]
pub async fn recovery(
    req: HttpRequest,
    path: web::Path<String>,
    console: Option<web::Data<Console>>,
    pages: web::Data<PagesConfig>,
    service: web::Data<RecoveryService>,
) -> HttpResponse {
    let signed = match SignedIn::require(&req, console.as_ref(), &pages, SUPPORT, None).await {
        Ok(signed) => signed,
        Err(page) => return *page,
    };
    let id = match recovery_id(&path) {
        Ok(id) => id,
        Err(page) => return *page,
    };
    match service
        .recovery_at_desk(&signed.agent(), id, &client_info(&req))
        .await
    {
        Ok(found) => page(
            StatusCode::OK,
            &signed,
            &EN.staff_recovery_title,
            found.into(),
        ),
        Err(err) => refused(&err),
    }
}

/// `POST /staff/recoveries/{recovery_id}/cancel`: its code stops working at once.
#[utoipa::path(
    post, path = "/staff/recoveries/{recovery_id}/cancel", tag = "staff console",
    params(("recovery_id" = String, Path, description = "The recovery's id")),
    request_body(content = CancelForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Cancelled: back to the recovery's page"),
        (status = 400, description = "The form could not be read", body = String, content_type = "text/html"),
        (status = 401, description = "No session: sign in again", body = String, content_type = "text/html"),
        (status = 403, description = "Not in the support group, the CSRF token is not the session's, or the account is the agent's own", body = String, content_type = "text/html"),
        (status = 404, description = "No such recovery, or the console is off", body = String, content_type = "text/html"),
        (status = 409, description = "Its reset started or it ended: it can no longer be cancelled", body = String, content_type = "text/html"),
        (status = 503, description = "The database cannot be reached", body = String, content_type = "text/html"),
    )
)]
pub async fn cancel(
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<CancelForm>,
    console: Option<web::Data<Console>>,
    pages: web::Data<PagesConfig>,
    service: web::Data<RecoveryService>,
) -> HttpResponse {
    let csrf = Some(form.csrf.as_str());
    let signed = match SignedIn::require(&req, console.as_ref(), &pages, SUPPORT, csrf).await {
        Ok(signed) => signed,
        Err(page) => return *page,
    };
    let id = match recovery_id(&path) {
        Ok(id) => id,
        Err(page) => return *page,
    };
    match service
        .cancel(&signed.agent(), id, &client_info(&req))
        .await
    {
        Ok(_) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("/staff/recoveries/{id}")))
            .finish(),
        Err(err) => refused(&err),
    }
}

#[cfg(test)]
mod tests {
    use super::verification_words;

    #[test]
    fn a_stored_verification_is_shown_in_words() {
        assert_eq!(
            verification_words("call_back"),
            "I called back the number the company has on file for them"
        );
        assert_eq!(
            verification_words("other: video call"),
            "Another way: video call"
        );
        assert_eq!(verification_words("carrier pigeon"), "carrier pigeon");
    }
}
