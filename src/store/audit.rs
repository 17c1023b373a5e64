//! The audit log's SQL: recording events (pending), chaining them under the chain lock, and
//! reading chained events back in `seq` order.
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

/// An event recorded by a change, not chained yet.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub action: String,
    pub actor: String,
    pub username: Option<String>,
    pub recovery_id: Option<Uuid>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub outcome: String,
    pub detail: Option<String>,
}

/// An event to record.
pub struct NewPendingRow<'a> {
    pub at: DateTime<Utc>,
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
    let ats: Vec<DateTime<Utc>> = rows.iter().map(|r| r.at).collect();
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
            "INSERT INTO audit_pending (at, action, actor, username, recovery_id, ip, user_agent, outcome, detail)
             SELECT * FROM unnest(",
        )
        .push_bind(ats)
        .push("::timestamptz[], ")
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

/// Records an event in the caller's transaction: one plain INSERT, no lock.
pub async fn insert_pending(
    conn: &mut PgConnection,
    row: NewPendingRow<'_>,
) -> Result<(), sqlx::Error> {
    let mut writes = Writes::default();
    insert_pending_with(&mut writes, vec![row]);
    writes.execute(conn).await
}

/// The chain's lock: whoever chains holds it for its transaction, so that one sequencer at a
/// time (in any instance) extends the chain from its committed end.
const CHAIN_LOCK: i64 = 0x6d66_615f_6175_6469; // "mfa_audi"

/// Takes the chain's lock for this transaction if it is free; `false` when another sequencer
/// holds it (it is chaining: nothing to do here).
pub async fn try_lock_chain(conn: &mut PgConnection) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
        .bind(CHAIN_LOCK)
        .fetch_one(conn)
        .await
}

/// The oldest pending events (in the order they were recorded), at most `limit`. No row lock
/// is needed: only the holder of the chain's lock reads and deletes pending events.
pub async fn take_pending(
    conn: &mut PgConnection,
    limit: i64,
) -> Result<Vec<PendingRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, at, action, actor, username, recovery_id, ip, user_agent, outcome, detail
         FROM audit_pending ORDER BY id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Whether any event waits to be chained: one cheap query for an idle sequencer's tick.
pub async fn any_pending(pool: &PgPool) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM audit_pending)")
        .fetch_one(pool)
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

/// Moves chained events from pending to the chain, in one statement each way.
pub async fn insert_chained(
    conn: &mut PgConnection,
    pending: &[PendingRow],
    seqs: &[i64],
    hashes: &[String],
) -> Result<(), sqlx::Error> {
    let column = |f: fn(&PendingRow) -> Option<String>| pending.iter().map(f).collect::<Vec<_>>();
    sqlx::query(
        "INSERT INTO audit_events (seq, at, action, actor, username, recovery_id, ip, user_agent, outcome, detail, hash)
         SELECT * FROM UNNEST($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[],
                              $6::uuid[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
         ORDER BY 1",
    )
    .bind(seqs)
    .bind(pending.iter().map(|p| p.at).collect::<Vec<_>>())
    .bind(column(|p| Some(p.action.clone())))
    .bind(column(|p| Some(p.actor.clone())))
    .bind(column(|p| p.username.clone()))
    .bind(pending.iter().map(|p| p.recovery_id).collect::<Vec<_>>())
    .bind(column(|p| p.ip.clone()))
    .bind(column(|p| p.user_agent.clone()))
    .bind(column(|p| Some(p.outcome.clone())))
    .bind(column(|p| p.detail.clone()))
    .bind(hashes)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM audit_pending WHERE id = ANY($1)")
        .bind(pending.iter().map(|p| p.id).collect::<Vec<_>>())
        .execute(conn)
        .await?;
    Ok(())
}

/// `n` fresh seqs, in increasing order.
pub async fn next_seqs(conn: &mut PgConnection, n: i64) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT nextval(pg_get_serial_sequence('audit_events', 'seq')) FROM generate_series(1, $1) ORDER BY 1",
    )
    .bind(n)
    .fetch_all(conn)
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
