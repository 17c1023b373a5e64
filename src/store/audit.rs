//! The audit log's SQL: recording events (pending), having the database chain them (under the
//! chain's lock, as the schema's owner), and reading chained events back in `seq` order.
//! The rules (chaining, verification, who may read) live in `crate::audit`.

use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};
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

/// The query of the events matching a filter, in `seq` order. Built for the filter at hand, so
/// that each condition can use its index: (username, seq), (action, seq), (recovery_id, seq),
/// and time as a range of `seq` (an event's `at` never goes back along the chain, so the first
/// event at or after an instant, found through the (at, seq) index, bounds `seq`). A name asked
/// for in both its forms is two ordered index scans merged, not one scan sorted. Sent unprepared
/// (planned with its values), so that a rare action and a common one each get their own plan.
pub struct Selection<'a>(QueryBuilder<'a, Postgres>);

impl<'a> Selection<'a> {
    /// The events matching `filter`, at most `limit` (all with None).
    pub fn new(filter: &'a AuditFilter, limit: Option<i64>) -> Self {
        let mut sql = QueryBuilder::new("");
        match (
            filter.username.as_deref(),
            filter.username_redacted.as_deref(),
        ) {
            (Some(name), Some(redacted)) => {
                sql.push(format_args!("SELECT {COLUMNS} FROM (("));
                branch(&mut sql, filter, Some(name), limit);
                sql.push(") UNION ALL (");
                branch(&mut sql, filter, Some(redacted), limit);
                sql.push(")) e ORDER BY seq");
                if let Some(limit) = limit {
                    sql.push(" LIMIT ").push_bind(limit);
                }
            }
            (name, _) => branch(&mut sql, filter, name, limit),
        }
        Self(sql)
    }

    /// Its rows as they come (for verification and export).
    pub fn stream<'s>(
        &'s mut self,
        pool: &'s PgPool,
    ) -> BoxStream<'s, Result<AuditRow, sqlx::Error>> {
        self.0.build_query_as().persistent(false).fetch(pool)
    }
}

/// One `SELECT … ORDER BY seq [LIMIT]` of the events of `filter` under `username`.
fn branch<'a>(
    sql: &mut QueryBuilder<'a, Postgres>,
    filter: &'a AuditFilter,
    username: Option<&'a str>,
    limit: Option<i64>,
) {
    sql.push(format_args!(
        "SELECT {COLUMNS} FROM audit_events WHERE true"
    ));
    if let Some(name) = username {
        sql.push(" AND username = ").push_bind(name);
    }
    if let Some(action) = filter.action.as_deref() {
        sql.push(" AND action = ").push_bind(action);
    }
    if let Some(id) = filter.recovery_id {
        sql.push(" AND recovery_id = ").push_bind(id);
    }
    if let Some(since) = filter.since {
        sql.push(" AND at >= ")
            .push_bind(since)
            .push(" AND seq >= ");
        first_seq_at_or_after(sql, since);
    }
    if let Some(until) = filter.until {
        sql.push(" AND at < ").push_bind(until).push(" AND seq < ");
        first_seq_at_or_after(sql, until);
    }
    if let Some(after) = filter.after {
        sql.push(" AND seq > ").push_bind(after);
    }
    sql.push(" ORDER BY seq");
    if let Some(limit) = limit {
        sql.push(" LIMIT ").push_bind(limit);
    }
}

/// The `seq` of the first event at or after `at` (past the end when there is none).
fn first_seq_at_or_after(sql: &mut QueryBuilder<'_, Postgres>, at: DateTime<Utc>) {
    sql.push("coalesce((SELECT f.seq FROM audit_events f WHERE f.at >= ")
        .push_bind(at)
        .push(format_args!(
            " ORDER BY f.at, f.seq LIMIT 1), {})",
            i64::MAX
        ));
}

/// Events matching the filter in `seq` order, at most `limit`.
pub async fn query(
    pool: &PgPool,
    filter: &AuditFilter,
    limit: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    let mut selection = Selection::new(filter, Some(limit));
    selection
        .0
        .build_query_as()
        .persistent(false)
        .fetch_all(pool)
        .await
}

/// One stored checkpoint, as it was signed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CheckpointRow {
    pub seq: i64,
    pub head: String,
    pub at: String,
    pub key_id: String,
    pub previous: String,
    pub signature: String,
}

const CHECKPOINT_COLUMNS: &str = "seq, head, at, key_id, previous, signature";

/// Takes the checkpoints' lock for the caller's transaction: one publisher at a time, so that
/// the series never forks. `wait`: wait for it; otherwise false when another holds it.
pub async fn lock_checkpoints(conn: &mut PgConnection, wait: bool) -> Result<bool, sqlx::Error> {
    const CHECKPOINTS_LOCK: i64 = 7883095260043502698;
    if wait {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(CHECKPOINTS_LOCK)
            .execute(conn)
            .await?;
        return Ok(true);
    }
    sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
        .bind(CHECKPOINTS_LOCK)
        .fetch_one(conn)
        .await
}

/// The newest stored checkpoint.
pub async fn last_checkpoint(
    conn: &mut PgConnection,
) -> Result<Option<CheckpointRow>, sqlx::Error> {
    let sql =
        format!("SELECT {CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY id DESC LIMIT 1");
    sqlx::query_as(&sql).fetch_optional(conn).await
}

/// The newest checkpoint of the chain up to event `seq` (made at `seq` or before it).
pub async fn checkpoint_at_or_before(
    pool: &PgPool,
    seq: i64,
) -> Result<Option<CheckpointRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE seq <= $1
          ORDER BY seq DESC, id DESC LIMIT 1"
    );
    sqlx::query_as(&sql).bind(seq).fetch_optional(pool).await
}

/// Stores a checkpoint (refused should another already follow the same one).
pub async fn insert_checkpoint(
    conn: &mut PgConnection,
    row: &CheckpointRow,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_checkpoints (seq, head, at, key_id, previous, signature)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(row.seq)
    .bind(&row.head)
    .bind(&row.at)
    .bind(&row.key_id)
    .bind(&row.previous)
    .bind(&row.signature)
    .execute(conn)
    .await?;
    Ok(())
}

/// When event `seq` was recorded, if the chain holds it.
pub async fn at_of(pool: &PgPool, seq: i64) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar("SELECT at FROM audit_events WHERE seq = $1")
        .bind(seq)
        .fetch_optional(pool)
        .await
}

/// The stored hash of event `seq`, if the chain holds it.
pub async fn hash_of(pool: &PgPool, seq: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT hash FROM audit_events WHERE seq = $1")
        .bind(seq)
        .fetch_optional(pool)
        .await
}

/// The newest cut of the log (the last archived event's seq and hash), if it was ever archived.
pub async fn last_cut(pool: &PgPool) -> Result<Option<(i64, String)>, sqlx::Error> {
    sqlx::query_as("SELECT seq, head FROM audit_cuts ORDER BY seq DESC LIMIT 1")
        .fetch_optional(pool)
        .await
}

/// The newest published checkpoint whose event was recorded before `before` and is still in
/// the log with the checkpoint's hash: where an archive can cut.
pub async fn checkpoint_to_cut_at(
    pool: &PgPool,
    before: DateTime<Utc>,
) -> Result<Option<CheckpointRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.seq, c.head, c.at, c.key_id, c.previous, c.signature
           FROM audit_checkpoints c
           JOIN audit_events e ON e.seq = c.seq AND e.hash = c.head
          WHERE e.at < $1
          ORDER BY c.seq DESC, c.id DESC LIMIT 1",
    )
    .bind(before)
    .fetch_optional(pool)
    .await
}

/// Removes the events up to `seq` (whose hash must be `head`), as the owner: the database's
/// audit_archive(), which records the cut and an `audit.archived` event by `actor`.
pub async fn archive(
    pool: &PgPool,
    seq: i64,
    head: &str,
    checkpoint: &str,
    actor: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT audit_archive($1, $2, $3, $4)")
        .bind(seq)
        .bind(head)
        .bind(checkpoint)
        .bind(actor)
        .fetch_one(pool)
        .await
}
