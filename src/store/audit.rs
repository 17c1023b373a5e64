//! The audit log's SQL: appending under the chain lock, and reading events back in `seq` order.
//! The rules (chaining, verification, who may read) live in `crate::audit`.

use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// One stored event.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditRow {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub action: String,
    pub actor: String,
    pub username: Option<String>,
    pub recovery_id: Option<Uuid>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub outcome: String,
    pub detail: Option<String>,
    pub hash: String,
}

/// An event to insert, its hash computed.
pub struct NewAuditRow<'a> {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub action: &'a str,
    pub actor: &'a str,
    pub username: Option<&'a str>,
    pub recovery_id: Option<Uuid>,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub outcome: &'a str,
    pub detail: Option<&'a str>,
    pub hash: &'a str,
}

/// Every appender, in every instance, takes this transaction-level lock, so that each event is
/// chained to the last committed one.
const CHAIN_LOCK: i64 = 0x6d66_615f_6175_6469; // "mfa_audi"

pub async fn lock_chain(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(CHAIN_LOCK)
        .execute(conn)
        .await?;
    Ok(())
}

/// The hash of the last event, if there is one.
pub async fn last_hash(conn: &mut PgConnection) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1")
        .fetch_optional(conn)
        .await
}

pub async fn next_seq(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT nextval(pg_get_serial_sequence('audit_events', 'seq'))")
        .fetch_one(conn)
        .await
}

pub async fn insert(conn: &mut PgConnection, row: &NewAuditRow<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_events (seq, at, action, actor, username, recovery_id, ip, user_agent, outcome, detail, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(row.seq)
    .bind(row.at)
    .bind(row.action)
    .bind(row.actor)
    .bind(row.username)
    .bind(row.recovery_id)
    .bind(row.ip)
    .bind(row.user_agent)
    .bind(row.outcome)
    .bind(row.detail)
    .bind(row.hash)
    .execute(conn)
    .await?;
    Ok(())
}

const COLUMNS: &str =
    "seq, at, action, actor, username, recovery_id, ip, user_agent, outcome, detail, hash";

/// Which events an auditor asks for; every filter is optional.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub username: Option<String>,
    /// How `username` is recorded while it is not known to be a user's (redacted): events under
    /// either form match.
    pub username_redacted: Option<String>,
    pub action: Option<String>,
    /// Inclusive.
    pub since: Option<DateTime<Utc>>,
    /// Exclusive.
    pub until: Option<DateTime<Utc>>,
    /// Only events after this `seq` (the paging cursor).
    pub after: Option<i64>,
}

impl AuditFilter {
    pub fn between(since: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>) -> Self {
        Self {
            since,
            until,
            ..Self::default()
        }
    }
}

const FILTERED: &str = "FROM audit_events
     WHERE ($1::text IS NULL OR username = $1 OR username = $6)
       AND ($2::text IS NULL OR action = $2)
       AND ($3::timestamptz IS NULL OR at >= $3)
       AND ($4::timestamptz IS NULL OR at < $4)
       AND ($5::bigint IS NULL OR seq > $5)
     ORDER BY seq";

type AuditQuery<'q> =
    sqlx::query::QueryAs<'q, sqlx::Postgres, AuditRow, sqlx::postgres::PgArguments>;

/// Binds $1..$6 of `FILTERED`.
fn bind_filter<'q>(query: AuditQuery<'q>, filter: &'q AuditFilter) -> AuditQuery<'q> {
    query
        .bind(&filter.username)
        .bind(&filter.action)
        .bind(filter.since)
        .bind(filter.until)
        .bind(filter.after)
        .bind(&filter.username_redacted)
}

/// Events matching the filter in `seq` order, at most `limit`.
pub async fn query(
    pool: &PgPool,
    filter: &AuditFilter,
    limit: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} {FILTERED} LIMIT $7");
    bind_filter(sqlx::query_as(&sql), filter)
        .bind(limit)
        .fetch_all(pool)
        .await
}

static STREAM_SQL: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("SELECT {COLUMNS} {FILTERED}"));

/// Every event matching the filter, in `seq` order, streamed (for verification and export).
pub fn stream<'a>(
    pool: &'a PgPool,
    filter: &'a AuditFilter,
) -> BoxStream<'a, Result<AuditRow, sqlx::Error>> {
    bind_filter(sqlx::query_as(STREAM_SQL.as_str()), filter).fetch(pool)
}
