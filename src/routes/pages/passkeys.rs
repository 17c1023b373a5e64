//! `/recover/enrollment/passkeys`: after the new authenticator, the user's passkeys, listed with
//! their own sign-in, each removable with one button, and the button that finishes (signing the
//! user out everywhere). The same use cases as the JSON routes under
//! `/v1/recovery/enrollment/passkeys`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use secrecy::SecretString;
use serde::Deserialize;

use super::recover::{
    failed, forged, fresh, render, start_step, EnrolledView, PagesConfig, PasskeyItem, Step,
};
use super::session::PageSession;
use super::text::{self, Text};
use crate::idp::Passkey;
use crate::recovery::{Enrolled, EnrollmentError, PasskeyRemoval, RecoveryService};
use crate::routes::client_info;
use crate::words::Args;

/// The last page's view of the user's passkeys; `status`: what was just done.
pub(super) fn view(t: &Text, enrolled: Enrolled, status: Option<String>) -> EnrolledView {
    let words = &t.words;
    let Some(until) = enrolled.until else {
        return EnrolledView {
            status,
            ..EnrolledView::default()
        };
    };
    EnrolledView {
        passkeys: enrolled.passkeys.iter().map(|p| item(t, p)).collect(),
        until: words.time(until),
        status,
    }
}

fn item(t: &Text, passkey: &Passkey) -> PasskeyItem {
    let name = || Args::new().text("name", passkey.name.clone());
    PasskeyItem {
        id: passkey.id.clone(),
        name: passkey.name.clone(),
        added: t.words.with(
            "page-passkey-added",
            Args::new().text("added", t.words.time(passkey.created_at)),
        ),
        remove_label: t.words.with("page-passkey-remove", name()),
    }
}

/// The last page for the session: with the passkeys while the user's sign-in is kept.
pub(super) async fn enrolled_page(
    t: &Text,
    mut session: PageSession,
    service: &RecoveryService,
    config: &PagesConfig,
    req: &HttpRequest,
) -> HttpResponse {
    let Some(token) = session.passkeys.clone() else {
        return render(t, StatusCode::OK, &session, config, enrolled(None), None);
    };
    match service
        .passkeys(&SecretString::from(token), &client_info(req))
        .await
    {
        Ok(listed) => {
            let step = Step::Enrolled(view(t, listed, None));
            render(t, StatusCode::OK, &session, config, step, None)
        }
        // The step ended (the time ran out): the page says the authenticator is set up.
        Err(EnrollmentError::Invalid) => {
            session.passkeys = None;
            render(t, StatusCode::OK, &session, config, enrolled(None), None)
        }
        Err(err) => failed(t, &err, &session, config, enrolled(None), ""),
    }
}

/// The passkeys as they are now, for the page that says why a step failed.
async fn listed_again(
    t: &Text,
    service: &RecoveryService,
    token: &SecretString,
    req: &HttpRequest,
) -> Step {
    match service.passkeys(token, &client_info(req)).await {
        Ok(listed) => Step::Enrolled(view(t, listed, None)),
        Err(_) => enrolled(None),
    }
}

fn enrolled(status: Option<String>) -> Step {
    Step::Enrolled(EnrolledView {
        status,
        ..EnrolledView::default()
    })
}

#[derive(Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    passkey_id: String,
}

/// The session of a form posted at the passkey step, with its enrollment token; else the page
/// to answer with (boxed: a response is large).
fn passkey_step(
    t: &Text,
    req: &HttpRequest,
    config: &PagesConfig,
    csrf: &str,
) -> Result<(PageSession, SecretString), Box<HttpResponse>> {
    let Some(session) = PageSession::verified(req, &config.cookies, csrf) else {
        return Err(Box::new(forged(t, config)));
    };
    match session.passkeys.clone() {
        Some(token) => Ok((session, SecretString::from(token))),
        None => Err(Box::new(fresh(t, config, start_step()))),
    }
}

/// `POST /recover/enrollment/passkeys/remove`: one passkey removed, read back; the list again.
pub async fn remove(
    req: HttpRequest,
    form: web::Form<RemoveForm>,
    service: web::Data<RecoveryService>,
    config: web::Data<PagesConfig>,
) -> HttpResponse {
    let t = text::for_request(&req);
    let (mut session, token) = match passkey_step(t, &req, &config, &form.csrf) {
        Ok(found) => found,
        Err(page) => return *page,
    };
    let form = form.into_inner();
    let result = service
        .remove_passkey(PasskeyRemoval {
            token: token.clone(),
            id: form.passkey_id.clone(),
            client: client_info(&req),
        })
        .await;
    match result {
        Ok(left) => {
            let status = t.words.get("page-passkey-removed");
            let step = Step::Enrolled(view(t, left, Some(status)));
            render(t, StatusCode::OK, &session, &config, step, None)
        }
        Err(EnrollmentError::Invalid) => {
            session.passkeys = None;
            render(t, StatusCode::OK, &session, &config, enrolled(None), None)
        }
        // The list again (as it is now), the failure's words above it.
        Err(err) => {
            let step = listed_again(t, &service, &token, &req).await;
            failed(t, &err, &session, &config, step, "")
        }
    }
}

#[derive(Deserialize)]
pub struct FinishForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /recover/enrollment/passkeys/finish`: done with the passkeys; signed out everywhere.
pub async fn finish(
    req: HttpRequest,
    form: web::Form<FinishForm>,
    service: web::Data<RecoveryService>,
    config: web::Data<PagesConfig>,
) -> HttpResponse {
    let t = text::for_request(&req);
    let (mut session, token) = match passkey_step(t, &req, &config, &form.csrf) {
        Ok(found) => found,
        Err(page) => return *page,
    };
    match service.finish_passkeys(&token, &client_info(&req)).await {
        Ok(left) => {
            session.passkeys = None;
            let status = t.words.with(
                "page-passkeys-finished",
                Args::new().number("count", left.len() as f64),
            );
            let step = enrolled(Some(status));
            render(t, StatusCode::OK, &session, &config, step, None)
        }
        Err(EnrollmentError::Invalid) => {
            session.passkeys = None;
            render(t, StatusCode::OK, &session, &config, enrolled(None), None)
        }
        Err(err) => {
            let step = listed_again(t, &service, &token, &req).await;
            failed(t, &err, &session, &config, step, "")
        }
    }
}
