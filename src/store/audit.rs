use chrono::{DateTime, SubsecRound, Utc};
use futures::stream::BoxStream;
use sqlx::{Connection, PgConnection, PgPool};
use uuid::Uuid;

use crate::audit::{chain_hash, AuditRecord, ChainVerifier, Unsealed, Verification, GENESIS};
use crate::domain::{Actor, ClientInfo};
use futures::TryStreamExt;

/// One event to append, written in the same transaction as the change it records.
#[derive(Debug, Clone)]
pub struct AuditEvent<'a> {
    pub action: &'static str,
    pub actor: &'a Actor,
    pub username: Option<&'a str>,
    pub recovery_id: Option<Uuid>,
    pub client: Option<&'a ClientInfo>,
    pub outcome: &'static str,
    pub detail: Option<String>,
}

impl<'a> AuditEvent<'a> {
    pub fn new(action: &'static str, actor: &'a Actor, outcome: &'static str) -> Self {
        Self {
            action,
            actor,
            username: None,
            recovery_id: None,
            client: None,
            outcome,
            detail: None,
        }
    }

    pub fn username(mut self, username: &'a str) -> Self {
        self.username = Some(username);
        self
    }

    pub fn recovery(mut self, id: Uuid) -> Self {
        self.recovery_id = Some(id);
        self
    }

    pub fn client(mut self, client: &'a ClientInfo) -> Self {
        self.client = Some(client);
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// Every appender, in every instance, takes this transaction-level lock, so that each event is
/// chained to the last committed one. It is held until the caller's transaction commits: append
/// events after the transaction's row changes, never before a row lock, or two transactions
/// could wait on each other.
const CHAIN_LOCK: i64 = 0x6d66_615f_6175_6469; // "mfa_audi"

/// Appends the event, chained to the last one; returns its `seq`. Runs in a (nested)
/// transaction of its own, so the chain lock is held even when `conn` is not in one.
pub async fn append(conn: &mut PgConnection, event: AuditEvent<'_>) -> Result<i64, sqlx::Error> {
    let mut tx = conn.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(CHAIN_LOCK)
        .execute(&mut *tx)
        .await?;
    let previous: Option<String> =
        sqlx::query_scalar("SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
    let seq: i64 =
        sqlx::query_scalar("SELECT nextval(pg_get_serial_sequence('audit_events', 'seq'))")
            .fetch_one(&mut *tx)
            .await?;
    // PostgreSQL keeps microseconds: hash exactly what is stored.
    let at = Utc::now().trunc_subsecs(6);
    let actor = event.actor.as_audit_string();
    let ip = event.client.and_then(|c| c.ip.as_deref());
    let user_agent = event.client.and_then(|c| c.user_agent.as_deref());
    let hash = chain_hash(
        previous.as_deref().unwrap_or(GENESIS),
        &Unsealed {
            seq,
            at,
            action: event.action,
            actor: &actor,
            username: event.username,
            recovery_id: event.recovery_id,
            ip,
            user_agent,
            outcome: event.outcome,
            detail: event.detail.as_deref(),
        },
    );
    sqlx::query(
        "INSERT INTO audit_events (seq, at, action, actor, username, recovery_id, ip, user_agent, outcome, detail, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(seq)
    .bind(at)
    .bind(event.action)
    .bind(&actor)
    .bind(event.username)
    .bind(event.recovery_id)
    .bind(ip)
    .bind(user_agent)
    .bind(event.outcome)
    .bind(event.detail.as_deref())
    .bind(&hash)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(seq)
}

const COLUMNS: &str =
    "seq, at, action, actor, username, recovery_id, ip, user_agent, outcome, detail, hash";

/// Which events an auditor asks for; every filter is optional.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub username: Option<String>,
    pub action: Option<String>,
    /// Inclusive.
    pub since: Option<DateTime<Utc>>,
    /// Exclusive.
    pub until: Option<DateTime<Utc>>,
    /// Only events after this `seq` (the paging cursor).
    pub after: Option<i64>,
}

const FILTERED: &str = "FROM audit_events
     WHERE ($1::text IS NULL OR username = $1)
       AND ($2::text IS NULL OR action = $2)
       AND ($3::timestamptz IS NULL OR at >= $3)
       AND ($4::timestamptz IS NULL OR at < $4)
       AND ($5::bigint IS NULL OR seq > $5)
     ORDER BY seq";

type AuditQuery<'q> =
    sqlx::query::QueryAs<'q, sqlx::Postgres, AuditRecord, sqlx::postgres::PgArguments>;

/// Binds $1..$5 of `FILTERED`.
fn bind_filter<'q>(query: AuditQuery<'q>, filter: &'q AuditFilter) -> AuditQuery<'q> {
    query
        .bind(&filter.username)
        .bind(&filter.action)
        .bind(filter.since)
        .bind(filter.until)
        .bind(filter.after)
}

/// Events matching the filter in `seq` order, at most `limit`.
pub async fn query(
    pool: &PgPool,
    filter: &AuditFilter,
    limit: i64,
) -> Result<Vec<AuditRecord>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} {FILTERED} LIMIT $6");
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
) -> BoxStream<'a, Result<AuditRecord, sqlx::Error>> {
    bind_filter(sqlx::query_as(STREAM_SQL.as_str()), filter).fetch(pool)
}

/// Walks the whole chain from the first event.
pub async fn verify_chain(pool: &PgPool) -> Result<Verification, sqlx::Error> {
    let filter = AuditFilter::default();
    let mut events = stream(pool, &filter);
    let mut verifier = ChainVerifier::default();
    while let Some(record) = events.try_next().await? {
        verifier.push(&record);
    }
    Ok(verifier.finish())
}
