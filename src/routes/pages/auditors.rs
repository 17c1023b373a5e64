//! The auditors in the staff console: the log's events with the API's filters and paging
//! (`GET /staff/audit`, one recovery's timeline with `recovery_id`), the chain's state with its
//! head signed now, and the same events as CSV or JSON lines
//! (`GET /staff/audit/events.csv`, `.jsonl`). Every view and download is itself recorded
//! (`audit.read`), with the person and their session. The query is the API's (`EventsQuery`).

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use sqlx::PgPool;

use super::staff::{refusal, refused, rendered, SignedIn};
use super::text::{words, Text, EN};
use super::PagesConfig;
use crate::audit::{self, export, Action, AuditRecord, AuditView};
use crate::domain::{NameKeys, StaffRole};
use crate::routes::api::audit::EventsQuery;
use crate::routes::client_info;
use crate::staff::console::Console;
use crate::words::Args;

/// Every page here is the auditors'.
const AUDITOR: StaffRole = StaffRole::Auditor;

/// A download holds at most this many events; `mfa-recovery audit export` writes them all.
const DOWNLOAD_MAX: i64 = 10_000;

/// The filter as typed, to show in the form and carry to the next page and the downloads.
struct Typed {
    username: String,
    action: String,
    recovery_id: String,
    since: String,
    until: String,
    limit: String,
}

impl From<&EventsQuery> for Typed {
    fn from(q: &EventsQuery) -> Self {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        Self {
            username: text(&q.username),
            action: text(&q.action),
            recovery_id: text(&q.recovery_id),
            since: text(&q.since),
            until: text(&q.until),
            limit: text(&q.limit),
        }
    }
}

/// An action of the filter's list, chosen or not.
struct ActionChoice {
    value: &'static str,
    selected: bool,
}

struct EventView {
    seq: i64,
    at: String,
    action: String,
    actor: String,
    username: Option<String>,
    recovery_id: Option<String>,
    ip: Option<String>,
    outcome: String,
    detail: Option<String>,
}

impl From<AuditRecord> for EventView {
    fn from(e: AuditRecord) -> Self {
        Self {
            seq: e.seq,
            at: words().time(e.at),
            action: e.action,
            actor: e.actor,
            username: e.username,
            recovery_id: e.recovery_id.map(|id| id.to_string()),
            ip: e.ip,
            outcome: e.outcome,
            detail: e.detail,
        }
    }
}

/// The chain's state, in words, and the signed head.
struct ChainView {
    intact: bool,
    /// `The chain is intact: N events …` or `Broken at event N …`.
    summary: String,
    /// Verified from a checkpoint, not from the first event: the page offers the full walk.
    partial: bool,
    checkpoint_seq: i64,
    checkpoint_head: String,
    checkpoint_at: String,
    checkpoint_key_id: String,
    checkpoint_signature: String,
}

#[derive(Template)]
#[template(path = "pages/audit.html")]
struct AuditPage<'a> {
    t: &'a Text,
    lang: &'a str,
    service: &'a str,
    title: &'a str,
    typed: Typed,
    actions: Vec<ActionChoice>,
    /// What is wrong with the filter, in words.
    error: Option<String>,
    chain: Option<ChainView>,
    events: Vec<EventView>,
    /// The next page's cursor.
    next: Option<String>,
}

fn chain_view(view: &AuditView) -> ChainView {
    let v = &view.verification;
    let summary = match (v.first_bad_seq, v.from_seq) {
        (None, None) => words().number("page-staff-chain-intact", "events", v.events as f64),
        (None, Some(from)) => words().with(
            "page-staff-chain-intact-since",
            Args::new()
                .number("seq", from as f64)
                .number("events", v.events as f64),
        ),
        (Some(seq), _) => words().number("page-staff-chain-broken", "seq", seq as f64),
    };
    let pending = if v.pending > 0 {
        format!(
            " {}",
            words().number("page-staff-chain-pending", "pending", v.pending as f64)
        )
    } else {
        String::new()
    };
    ChainView {
        intact: v.intact,
        summary: format!("{summary}{pending}"),
        partial: v.from_seq.is_some(),
        checkpoint_seq: view.checkpoint.seq,
        checkpoint_head: view.checkpoint.head.clone(),
        checkpoint_at: view.checkpoint.at.clone(),
        checkpoint_key_id: view.checkpoint.key_id.clone(),
        checkpoint_signature: view.checkpoint.signature.clone(),
    }
}

fn audit_page(
    status: StatusCode,
    typed: Typed,
    error: Option<String>,
    view: Option<AuditView>,
    limit: i64,
) -> HttpResponse {
    let t: &Text = &EN;
    let chain = view.as_ref().map(chain_view);
    let events: Vec<EventView> = view
        .map(|v| v.events.into_iter().map(EventView::from).collect())
        .unwrap_or_default();
    let next = (events.len() as i64 == limit)
        .then(|| events.last().map(|e| e.seq.to_string()))
        .flatten();
    let actions = Action::ALL
        .iter()
        .map(|a| ActionChoice {
            value: a.as_str(),
            selected: a.as_str() == typed.action,
        })
        .collect();
    rendered(
        status,
        AuditPage {
            t,
            lang: &t.lang,
            service: &t.staff_service,
            title: &t.staff_audit_title,
            typed,
            actions,
            error,
            chain,
            events,
            next,
        }
        .render(),
    )
}

/// Whether the auditor asked to verify the whole chain (`verify=full`): by default the page
/// verifies from the newest published checkpoint on.
fn full_walk_asked(req: &HttpRequest) -> bool {
    web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
        .is_ok_and(|q| q.get("verify").map(String::as_str) == Some("full"))
}

/// The query of the page's address, read here so that a malformed one is answered as a page.
fn asked(req: &HttpRequest) -> Result<EventsQuery, String> {
    web::Query::<EventsQuery>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .map_err(|_| EN.staff_query_malformed.clone())
}

/// `GET /staff/audit`: the log's events, filtered and paged as `GET /v1/audit/events` is, with
/// the chain's state and its head signed now.
#[utoipa::path(
    get, path = "/staff/audit", tag = "staff console",
    params(EventsQuery),
    responses(
        (status = 200, description = "The events, one `data-testid=\"audit-event\"` each, and the chain's state (`data-testid=\"chain-state\"`) with a checkpoint", body = String, content_type = "text/html"),
        (status = 303, description = "No session: to `/staff`, to sign in"),
        (status = 400, description = "A filter is not valid: the page says which", body = String, content_type = "text/html"),
        (status = 403, description = "Not in the auditors' group", body = String, content_type = "text/html"),
        (status = 404, description = "The console is off", body = String, content_type = "text/html"),
        (status = 503, description = "The database cannot be reached", body = String, content_type = "text/html"),
    )
)]
pub async fn events(
    req: HttpRequest,
    console: Option<web::Data<Console>>,
    pages: web::Data<PagesConfig>,
    db: web::Data<PgPool>,
    names: web::Data<NameKeys>,
    publisher: web::Data<audit::Publisher>,
) -> HttpResponse {
    let signed = match SignedIn::require(&req, console.as_ref(), &pages, AUDITOR, None).await {
        Ok(signed) => signed,
        Err(page) => return *page,
    };
    let query = match asked(&req) {
        Ok(query) => query,
        Err(error) => {
            let typed = Typed::from(&EventsQuery::default());
            return audit_page(StatusCode::BAD_REQUEST, typed, Some(error), None, 0);
        }
    };
    let typed = Typed::from(&query);
    let (filter, limit) = match query.filter(&names) {
        Ok(asked) => asked,
        Err(error) => return audit_page(StatusCode::BAD_REQUEST, typed, Some(error), None, 0),
    };
    let reader = signed.agent();
    let walk = if full_walk_asked(&req) {
        audit::Walk::Full
    } else {
        audit::Walk::FromCheckpoint
    };
    let client = client_info(&req);
    match audit::view_for(&publisher, &db, &reader, &client, &filter, limit, walk).await {
        Ok(view) => audit_page(StatusCode::OK, typed, None, Some(view), limit),
        Err(err) => refused(&err),
    }
}

/// The format of a download.
#[derive(Clone, Copy)]
enum Format {
    Csv,
    JsonLines,
}

/// The events of the filter, at most `DOWNLOAD_MAX` from the cursor, as `format`.
async fn download(
    req: HttpRequest,
    console: Option<web::Data<Console>>,
    pages: web::Data<PagesConfig>,
    (db, names): (web::Data<PgPool>, web::Data<NameKeys>),
    format: Format,
) -> HttpResponse {
    let signed = match SignedIn::require(&req, console.as_ref(), &pages, AUDITOR, None).await {
        Ok(signed) => signed,
        Err(page) => return *page,
    };
    let filter = match asked(&req).and_then(|query| query.filter(&names)) {
        Ok((filter, _)) => filter,
        Err(error) => return refusal(StatusCode::BAD_REQUEST, error),
    };
    let reader = signed.agent();
    let events =
        match audit::read_events(&db, &reader, &client_info(&req), &filter, DOWNLOAD_MAX).await {
            Ok(events) => events,
            Err(err) => return refused(&err),
        };
    let (written, content_type, name) = match format {
        Format::Csv => (
            export::csv_bytes(&events),
            "text/csv; charset=utf-8",
            "audit-events.csv",
        ),
        Format::JsonLines => (
            export::jsonl_bytes(&events),
            "application/jsonl; charset=utf-8",
            "audit-events.jsonl",
        ),
    };
    let Ok(body) = written else {
        return HttpResponse::InternalServerError().finish();
    };
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .body(body)
}

/// `GET /staff/audit/events.csv`: the filtered events as CSV (formula cells neutralised).
#[utoipa::path(
    get, path = "/staff/audit/events.csv", tag = "staff console",
    params(EventsQuery),
    responses(
        (status = 200, description = "At most 10,000 events from the cursor, as CSV with a header row (`mfa-recovery audit export` writes them all)", body = String, content_type = "text/csv"),
        (status = 303, description = "No session: to `/staff`, to sign in"),
        (status = 400, description = "A filter is not valid", body = String, content_type = "text/html"),
        (status = 403, description = "Not in the auditors' group", body = String, content_type = "text/html"),
        (status = 404, description = "The console is off", body = String, content_type = "text/html"),
        (status = 503, description = "The database cannot be reached", body = String, content_type = "text/html"),
    )
)]
pub async fn csv(
    req: HttpRequest,
    console: Option<web::Data<Console>>,
    pages: web::Data<PagesConfig>,
    db: web::Data<PgPool>,
    names: web::Data<NameKeys>,
) -> HttpResponse {
    download(req, console, pages, (db, names), Format::Csv).await
}

/// `GET /staff/audit/events.jsonl`: the filtered events as JSON lines, one event per line.
#[utoipa::path(
    get, path = "/staff/audit/events.jsonl", tag = "staff console",
    params(EventsQuery),
    responses(
        (status = 200, description = "At most 10,000 events from the cursor, one JSON object per line (the API's event)", body = String, content_type = "application/jsonl"),
        (status = 303, description = "No session: to `/staff`, to sign in"),
        (status = 400, description = "A filter is not valid", body = String, content_type = "text/html"),
        (status = 403, description = "Not in the auditors' group", body = String, content_type = "text/html"),
        (status = 404, description = "The console is off", body = String, content_type = "text/html"),
        (status = 503, description = "The database cannot be reached", body = String, content_type = "text/html"),
    )
)]
pub async fn jsonl(
    req: HttpRequest,
    console: Option<web::Data<Console>>,
    pages: web::Data<PagesConfig>,
    db: web::Data<PgPool>,
    names: web::Data<NameKeys>,
) -> HttpResponse {
    download(req, console, pages, (db, names), Format::JsonLines).await
}
