//! Approvals in the staff console (`SUPPORT_REQUIRE_APPROVAL`): the recoveries the support desk
//! started that wait for a second person (`GET /staff/approvals`), and their approval
//! (`POST /staff/approvals/{id}`) by a person in the approver group who did not start them.
//! The use cases are `recovery::support`'s.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::staff::{refused, rendered, SignedIn};
use super::text::{words, Text, EN};
use super::PagesConfig;
use crate::domain::{Agent, Initiator, StaffRole};
use crate::recovery::{RecoveryService, RecoverySummary};
use crate::routes::client_info;
use crate::staff::console::Console;

const APPROVER: StaffRole = StaffRole::Approver;

/// A recovery waiting for approval, as the page shows it.
struct Waiting {
    id: Uuid,
    username: String,
    started_by: String,
    /// The person looking started it: they may not approve it.
    mine: bool,
    reason: Option<String>,
    ticket: Option<String>,
    verification: Option<String>,
    created_at: String,
    lapses_at: String,
}

#[derive(Template)]
#[template(path = "pages/approvals.html")]
struct ApprovalsPage<'a> {
    t: &'a Text,
    lang: &'a str,
    service: &'a str,
    title: &'a str,
    csrf: String,
    waiting: Vec<Waiting>,
}

fn waiting(r: RecoverySummary, me: &Agent) -> Waiting {
    let (started_by, mine) = match &r.initiated_by {
        Initiator::Staff(name) => (name.to_string(), me.is(name)),
        Initiator::User => (r.initiated_by.stored(), false),
    };
    Waiting {
        mine,
        id: r.recovery_id,
        username: r.username,
        started_by,
        reason: r.reason,
        ticket: r.ticket,
        verification: r
            .verification
            .as_deref()
            .map(super::desk::verification_words),
        created_at: words().time(r.created_at),
        lapses_at: words().time(r.expires_at),
    }
}

/// `GET /staff/approvals`: the recoveries waiting for a second person.
#[utoipa::path(
    get, path = "/staff/approvals", tag = "staff console",
    responses(
        (status = 200, description = "The recoveries waiting for approval, oldest first, each with an approve button (`data-testid=\"approve\"`) unless the person looking started it", body = String, content_type = "text/html"),
        (status = 303, description = "No session: to `/staff`, to sign in"),
        (status = 403, description = "Not in the approvers' group", body = String, content_type = "text/html"),
        (status = 404, description = "The console is off", body = String, content_type = "text/html"),
        (status = 503, description = "The database cannot be reached", body = String, content_type = "text/html"),
    )
)]
pub async fn list(
    req: HttpRequest,
    console: Option<web::Data<Console>>,
    pages: web::Data<PagesConfig>,
    service: web::Data<RecoveryService>,
) -> HttpResponse {
    let signed = match SignedIn::require(&req, console.as_ref(), &pages, APPROVER, None).await {
        Ok(signed) => signed,
        Err(page) => return *page,
    };
    let approver = signed.agent();
    match service
        .awaiting_approval(&approver, &client_info(&req))
        .await
    {
        Ok(found) => {
            let t: &Text = &EN;
            rendered(
                StatusCode::OK,
                ApprovalsPage {
                    t,
                    lang: &t.lang,
                    service: &t.staff_service,
                    title: &t.staff_approvals_title,
                    csrf: signed.csrf(),
                    waiting: found.into_iter().map(|r| waiting(r, &approver)).collect(),
                }
                .render(),
            )
        }
        Err(err) => refused(&err),
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ApproveForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /staff/approvals/{recovery_id}`: approves it; its code goes out.
#[utoipa::path(
    post, path = "/staff/approvals/{recovery_id}", tag = "staff console",
    params(("recovery_id" = String, Path, description = "The recovery's id")),
    request_body(content = ApproveForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Approved: back to `/staff/approvals`; the user's code is on its way"),
        (status = 400, description = "The form could not be read", body = String, content_type = "text/html"),
        (status = 401, description = "No session: sign in again", body = String, content_type = "text/html"),
        (status = 403, description = "Not in the approvers' group, the CSRF token is not the session's, the person started it (`self_approval`) or the account is their own (`own_account`); refusals are audited", body = String, content_type = "text/html"),
        (status = 404, description = "No such recovery, or the console is off", body = String, content_type = "text/html"),
        (status = 409, description = "Not waiting for approval: approved already, cancelled, or lapsed", body = String, content_type = "text/html"),
        (status = 503, description = "The database cannot be reached", body = String, content_type = "text/html"),
    )
)]
pub async fn approve(
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<ApproveForm>,
    console: Option<web::Data<Console>>,
    pages: web::Data<PagesConfig>,
    service: web::Data<RecoveryService>,
) -> HttpResponse {
    let csrf = Some(form.csrf.as_str());
    let signed = match SignedIn::require(&req, console.as_ref(), &pages, APPROVER, csrf).await {
        Ok(signed) => signed,
        Err(page) => return *page,
    };
    let id = match super::desk::recovery_id(&path) {
        Ok(id) => id,
        Err(page) => return *page,
    };
    let approver = signed.agent();
    match service.approve(&approver, id, &client_info(&req)).await {
        Ok(_) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/staff/approvals"))
            .finish(),
        Err(err) => refused(&err),
    }
}
