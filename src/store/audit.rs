//! The audit log's SQL: recording events (pending), having the database chain them (under the
//! chain's lock, as the schema's owner), and reading chained events back in `seq` order.
//! The rules (chaining, verification, who may read) live in `crate::audit`.

use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::Writes;

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

/// An event to record (the database stamps its time).
pub struct NewPendingRow<'a> {
    pub action: &'a str,
    pub actor: String,
    pub username: Option<&'a str>,
    pub recovery_id: Option<Uuid>,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub outcome: &'a str,
    pub detail: Option<String>,
}

/// Adds the recording of events to `writes`: one plain INSERT (each column bound as one
/// array), no lock. They are chained in the order given.
pub fn insert_pending_with<'a>(writes: &mut Writes<'a>, rows: Vec<NewPendingRow<'a>>) {
    let actions: Vec<&str> = rows.iter().map(|r| r.action).collect();
    let usernames: Vec<Option<&str>> = rows.iter().map(|r| r.username).collect();
    let recovery_ids: Vec<Option<Uuid>> = rows.iter().map(|r| r.recovery_id).collect();
    let ips: Vec<Option<&str>> = rows.iter().map(|r| r.ip).collect();
    let user_agents: Vec<Option<&str>> = rows.iter().map(|r| r.user_agent).collect();
    let outcomes: Vec<&str> = rows.iter().map(|r| r.outcome).collect();
    let (actors, details): (Vec<String>, Vec<Option<String>>) =
        rows.into_iter().map(|r| (r.actor, r.detail)).unzip();
    writes.add(|sql| {
        sql.push(
            "INSERT INTO audit_pending (action, actor, username, recovery_id, ip, user_agent, outcome, detail)
             SELECT * FROM unnest(",
        )
        .push_bind(actions)
        .push("::text[], ")
        .push_bind(actors)
        .push("::text[], ")
        .push_bind(usernames)
        .push("::text[], ")
        .push_bind(recovery_ids)
        .push("::uuid[], ")
        .push_bind(ips)
        .push("::text[], ")
        .push_bind(user_agents)
        .push("::text[], ")
        .push_bind(outcomes)
        .push("::text[], ")
        .push_bind(details)
        .push("::text[])");
    });
}

/// Chains the oldest pending events, at most `limit`, in the caller's transaction: the
/// database's `audit_chain_pending` (the schema owner's, under the chain's lock, tried; 0 when
/// another sequencer holds it). Returns how many it chained.
pub async fn chain_pending(conn: &mut PgConnection, limit: i64) -> Result<usize, sqlx::Error> {
    let chained: i32 = sqlx::query_scalar("SELECT audit_chain_pending($1)")
        .bind(i32::try_from(limit).unwrap_or(i32::MAX))
        .fetch_one(conn)
        .await?;
    Ok(usize::try_from(chained).unwrap_or(0))
}

/// Whether any event waits to be chained: one cheap query for an idle sequencer's tick.
pub async fn any_pending(pool: &PgPool) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM audit_pending)")
        .fetch_one(pool)
        .await
}

/// When the oldest event waiting to be chained was recorded (the database's time).
pub async fn oldest_pending_at(pool: &PgPool) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar("SELECT at FROM audit_pending ORDER BY id LIMIT 1")
        .fetch_optional(pool)
        .await
}

/// How many events are recorded but not chained yet.
pub async fn pending_count(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM audit_pending")
        .fetch_one(pool)
        .await
}

/// The last chained event's seq and hash, if there is one.
pub async fn last(conn: &mut PgConnection) -> Result<Option<(i64, String)>, sqlx::Error> {
    sqlx::query_as("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
        .fetch_optional(conn)
        .await
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
    /// Only the events of this recovery.
    pub recovery_id: Option<Uuid>,
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
       AND ($7::uuid IS NULL OR recovery_id = $7)
     ORDER BY seq";

type AuditQuery<'q> =
    sqlx::query::QueryAs<'q, sqlx::Postgres, AuditRow, sqlx::postgres::PgArguments>;

/// Binds $1..$7 of `FILTERED`.
fn bind_filter<'q>(query: AuditQuery<'q>, filter: &'q AuditFilter) -> AuditQuery<'q> {
    query
        .bind(&filter.username)
        .bind(&filter.action)
        .bind(filter.since)
        .bind(filter.until)
        .bind(filter.after)
        .bind(&filter.username_redacted)
        .bind(filter.recovery_id)
}

/// Events matching the filter in `seq` order, at most `limit`.
pub async fn query(
    pool: &PgPool,
    filter: &AuditFilter,
    limit: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} {FILTERED} LIMIT $8");
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
