use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::audit::{self, AuditFilter, AuditRecord, Checkpoint, Verification};
use crate::domain::{parse_instant, NameKeys, Username};
use crate::routes::auth::{Auditor, StaffAuthErrors};
use crate::routes::client_info;
use crate::routes::problem::{ApiError, Problem};

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

/// An auditor's query of the log, as the API and the console's page take it.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Only events about this username: a user's Cognito username, or a name as typed (names
    /// are recorded redacted until they prove to be a user's; both forms match).
    pub username: Option<String>,
    /// Only events with this action (such as `mfa.reset`).
    pub action: Option<String>,
    /// Only the events of this recovery (its timeline).
    #[param(value_type = Option<String>, format = Uuid)]
    pub recovery_id: Option<String>,
    /// Events at or after this instant (RFC 3339).
    #[param(format = DateTime)]
    pub since: Option<String>,
    /// Events before this instant (RFC 3339).
    #[param(format = DateTime)]
    pub until: Option<String>,
    /// At most this many events, 1 to 1000 (default 100).
    #[param(value_type = Option<u16>, minimum = 1, maximum = 1000)]
    pub limit: Option<String>,
    /// The `next` cursor of the previous page.
    #[param(pattern = "^[0-9]+$")]
    pub after: Option<String>,
}

/// A page of events in `seq` order.
#[derive(Serialize, ToSchema)]
pub struct EventPage {
    events: Vec<AuditRecord>,
    /// Pass as `after` for the next page; null on the last page.
    next: Option<String>,
}

fn timestamp(name: &str, value: Option<&str>) -> Result<Option<DateTime<Utc>>, String> {
    value
        .map(|v| parse_instant(v).map_err(|e| format!("The `{name}` parameter {e}.")))
        .transpose()
}

/// A text filter: absent when empty; refused with control characters (PostgreSQL's text holds
/// no NUL, and no name or action has them).
fn text(name: &str, value: &Option<String>) -> Result<Option<String>, String> {
    match value.as_deref().filter(|v| !v.is_empty()) {
        Some(v) if v.chars().any(char::is_control) => Err(format!(
            "The `{name}` parameter must not contain control characters."
        )),
        other => Ok(other.map(str::to_owned)),
    }
}

impl EventsQuery {
    /// The filter and page size asked for, or what is wrong with them (in words). A name asked
    /// for before it proved to be a user's (or that never did) is recorded redacted: both
    /// forms match.
    pub fn filter(&self, names: &NameKeys) -> Result<(AuditFilter, i64), String> {
        let (mut filter, limit) = self.parse()?;
        filter.username_redacted = filter
            .username
            .as_deref()
            .and_then(|name| Username::parse(name).ok())
            .map(|name| names.redacted(&name));
        Ok((filter, limit))
    }

    fn parse(&self) -> Result<(AuditFilter, i64), String> {
        let limit = match self.limit.as_deref() {
            None | Some("") => DEFAULT_LIMIT,
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    format!("The `limit` parameter must be a whole number from 1 to {MAX_LIMIT}.")
                })?,
        };
        let after = match self.after.as_deref() {
            None | Some("") => None,
            Some(v) => Some(
                v.parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or("The `after` parameter must be a cursor returned as `next`.")?,
            ),
        };
        let filter = AuditFilter {
            username: text("username", &self.username)?,
            username_redacted: None,
            action: text("action", &self.action)?,
            since: timestamp("since", self.since.as_deref().filter(|v| !v.is_empty()))?,
            until: timestamp("until", self.until.as_deref().filter(|v| !v.is_empty()))?,
            after,
            recovery_id: match self.recovery_id.as_deref().filter(|v| !v.is_empty()) {
                None => None,
                Some(v) => Some(Uuid::parse_str(v).map_err(|_| {
                    "The `recovery_id` parameter must be a recovery's id (a UUID)."
                })?),
            },
        };
        Ok((filter, limit))
    }
}

fn wants_csv(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.to_ascii_lowercase().contains("text/csv"))
}

/// Query the audit log: JSON, or CSV with `Accept: text/csv` (formula cells neutralised).
/// Every query is itself recorded (`audit.read`).
#[utoipa::path(
    get, path = "/v1/audit/events", tag = "audit",
    params(EventsQuery),
    security(("staff_key" = [])),
    responses(
        (status = 200, description = "Events. As CSV, the next page's cursor is in `X-Next-Cursor`", content(
            (EventPage = "application/json"),
            (String = "text/csv"),
        ), headers(
            ("X-Next-Cursor" = String, description = "CSV only: pass as `after` for the next page; absent on the last page"),
        )),
        (status = 400, description = "`invalid_request`", body = Problem, content_type = "application/problem+json"),
        StaffAuthErrors,
    )
)]
pub async fn events(
    req: HttpRequest,
    Auditor(auditor): Auditor,
    query: web::Query<EventsQuery>,
    db: web::Data<PgPool>,
    names: web::Data<NameKeys>,
) -> Result<HttpResponse, ApiError> {
    let (filter, limit) = query.filter(&names).map_err(ApiError::invalid_request)?;
    let events =
        audit::read_events(&db, &auditor.agent(), &client_info(&req), &filter, limit).await?;
    let next = (events.len() as i64 == limit)
        .then(|| events.last().map(|e| e.seq.to_string()))
        .flatten();
    if wants_csv(&req) {
        let body = audit::export::csv_bytes(&events)
            .map_err(|e| ApiError::internal("writing audit events as CSV failed", &e))?;
        let mut response = HttpResponse::Ok();
        response.content_type("text/csv; charset=utf-8");
        if let Some(next) = &next {
            response.insert_header(("X-Next-Cursor", next.as_str()));
        }
        return Ok(response.body(body));
    }
    Ok(HttpResponse::Ok().json(EventPage { events, next }))
}

/// Where verification starts: a checkpoint the auditor trusts (one they kept, or one published
/// where the database's administrators cannot reach). Both or neither.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VerifyQuery {
    /// The trusted checkpoint's `seq`: only the events after it are read.
    #[param(value_type = Option<i64>, minimum = 0)]
    pub seq: Option<String>,
    /// The trusted checkpoint's `head`: event `seq` must still have this hash.
    #[param(pattern = "^[0-9a-f]{64}$")]
    pub head: Option<String>,
}

impl VerifyQuery {
    fn trusted(&self) -> Result<Option<(i64, &str)>, String> {
        match (self.seq.as_deref(), self.head.as_deref()) {
            (None, None) => Ok(None),
            (Some(seq), Some(head)) => {
                let seq: i64 = seq
                    .parse()
                    .ok()
                    .filter(|s| *s >= 0)
                    .ok_or("The `seq` parameter must be a checkpoint's seq (0 or more).")?;
                let is_hash = head.len() == 64
                    && head.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
                if !(is_hash || (seq == 0 && head.is_empty())) {
                    return Err("The `head` parameter must be a checkpoint's head (64 lowercase hex digits).".into());
                }
                Ok(Some((seq, head)))
            }
            _ => Err("Give both `seq` and `head` of a trusted checkpoint, or neither.".into()),
        }
    }
}

/// Verify the hash chain: from the first event, or from a trusted checkpoint (`seq`, `head`) to
/// the end, reading only the events after it.
#[utoipa::path(
    get, path = "/v1/audit/verify", tag = "audit",
    security(("staff_key" = [])),
    params(VerifyQuery),
    responses(
        (status = 200, description = "The chain's state", body = Verification),
        (status = 400, description = "`seq` without `head` (or the reverse), or not a checkpoint's", body = Problem, content_type = "application/problem+json"),
        StaffAuthErrors,
    )
)]
pub async fn verify(
    req: HttpRequest,
    Auditor(auditor): Auditor,
    db: web::Data<PgPool>,
    query: web::Query<VerifyQuery>,
) -> Result<HttpResponse, ApiError> {
    let trusted = query.trusted().map_err(ApiError::invalid_request)?;
    let verification =
        audit::verify_for(&db, trusted, &auditor.agent(), &client_info(&req)).await?;
    Ok(HttpResponse::Ok().json(verification))
}

/// Which checkpoint: the newest (the head), or an older published one.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CheckpointQuery {
    /// The published checkpoint at this event `seq`, or the newest one before it.
    #[param(value_type = Option<i64>, minimum = 0)]
    pub seq: Option<String>,
}

/// The chain's head, signed with the service's Ed25519 key (`AUDIT_SIGNING_KEY`) and published
/// like every checkpoint (the newest one when it is at the head already). Keep it:
/// `mfa-recovery audit verify --checkpoint FILE` later proves, with the public key alone
/// (`mfa-recovery audit public-key`), that the log still holds that event with that hash and is
/// intact to its end. With `seq`: the published checkpoint at that event, or the newest before it.
#[utoipa::path(
    get, path = "/v1/audit/checkpoint", tag = "audit",
    security(("staff_key" = [])),
    params(CheckpointQuery),
    responses(
        (status = 200, description = "The chain's head, signed; or the older checkpoint asked for", body = Checkpoint),
        (status = 400, description = "`seq` is not a number of 0 or more", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No checkpoint was published at or before `seq`", body = Problem, content_type = "application/problem+json"),
        StaffAuthErrors,
    )
)]
pub async fn checkpoint(
    req: HttpRequest,
    Auditor(auditor): Auditor,
    db: web::Data<PgPool>,
    publisher: web::Data<audit::Publisher>,
    query: web::Query<CheckpointQuery>,
) -> Result<HttpResponse, ApiError> {
    let (agent, client) = (auditor.agent(), client_info(&req));
    let Some(seq) = query.seq.as_deref() else {
        let signed = audit::checkpoint_for(&publisher, &db, &agent, &client).await?;
        return Ok(HttpResponse::Ok().json(signed));
    };
    let seq: i64 = seq.parse().ok().filter(|s| *s >= 0).ok_or_else(|| {
        ApiError::invalid_request("The `seq` parameter must be an event's seq (0 or more).")
    })?;
    match audit::older_checkpoint_for(&publisher, &db, seq, &agent, &client).await? {
        Some(signed) => Ok(HttpResponse::Ok().json(signed)),
        None => Err(ApiError::new(
            actix_web::http::StatusCode::NOT_FOUND,
            crate::routes::presentation::ProblemCode::NotFound,
            format!("No checkpoint was published at or before event {seq}."),
        )),
    }
}
