//! The service accounts in the staff console (`GET /staff/service-accounts`, auditors): every
//! key integrations use on the support and audit APIs, with who created it and what for, and
//! whether it still works. The audit log names each key by the same first characters of its id.
//! Looking is recorded (`audit.read`). Keys are made and revoked with `mfa-recovery staff`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::staff::{refused, rendered, SignedIn};
use super::text::{words, Text, EN};
use super::PagesConfig;
use crate::domain::{short_key_id, StaffRole};
use crate::routes::client_info;
use crate::staff::console::Console;
use crate::staff::{self, KeyRecord};
use crate::words::Args;

/// A key, as the page shows it.
struct KeyView {
    id: String,
    name: String,
    role: String,
    created_at: String,
    created_by: String,
    purpose: Option<String>,
    /// Active (until when), revoked or expired, in words.
    state: String,
}

#[derive(Template)]
#[template(path = "pages/service_accounts.html")]
struct ServiceAccountsPage<'a> {
    t: &'a Text,
    lang: &'a str,
    service: &'a str,
    title: &'a str,
    keys: Vec<KeyView>,
    /// The list stops at `staff::LISTED_KEYS`.
    cut: bool,
}

fn view(key: KeyRecord) -> KeyView {
    let w = words();
    let at = |t: DateTime<Utc>| Args::new().text("at", w.time(t));
    let state = match (key.active, key.revoked_at, key.expires_at) {
        (_, Some(revoked), _) => w.with("page-staff-key-revoked", at(revoked)),
        (false, None, Some(expired)) => w.with("page-staff-key-expired", at(expired)),
        (_, None, Some(until)) => w.with("page-staff-key-active-until", at(until)),
        (_, None, None) => w.get("page-staff-key-active"),
    };
    KeyView {
        id: short_key_id(key.id),
        name: key.name,
        role: key.role,
        created_at: w.time(key.created_at),
        created_by: key
            .created_by
            .unwrap_or_else(|| w.get("page-staff-key-created-by-unknown")),
        purpose: key.purpose,
        state,
    }
}

/// `GET /staff/service-accounts`: every service account key, newest first.
#[utoipa::path(
    get, path = "/staff/service-accounts", tag = "staff console",
    responses(
        (status = 200, description = "The service accounts' keys, newest first (at most 500), each with its role, who created it and when, what for, and whether it is active, revoked or expired (`data-testid=\"service-account\"`)", body = String, content_type = "text/html"),
        (status = 303, description = "No session: to `/staff`, to sign in"),
        (status = 403, description = "Not in the auditors' group", body = String, content_type = "text/html"),
        (status = 404, description = "The console is off", body = String, content_type = "text/html"),
        (status = 503, description = "The database or the sign-in provider cannot be reached", body = String, content_type = "text/html"),
    )
)]
pub async fn list(
    req: HttpRequest,
    console: Option<web::Data<Console>>,
    pages: web::Data<PagesConfig>,
    db: web::Data<PgPool>,
) -> HttpResponse {
    let signed =
        match SignedIn::require(&req, console.as_ref(), &pages, StaffRole::Auditor, None).await {
            Ok(signed) => signed,
            Err(page) => return *page,
        };
    match staff::service_accounts(&db, &signed.agent(), &client_info(&req)).await {
        Ok(keys) => {
            let t: &Text = &EN;
            let cut = keys.len() as i64 >= staff::LISTED_KEYS;
            rendered(
                StatusCode::OK,
                ServiceAccountsPage {
                    t,
                    lang: &t.lang,
                    service: &t.staff_service,
                    title: &t.staff_keys_title,
                    keys: keys.into_iter().map(view).collect(),
                    cut,
                }
                .render(),
            )
        }
        Err(err) => refused(&err),
    }
}
