//! The job queue's SQL. A job names its kind (the name a `worker::Job` registers under), carries
//! its payload (JSON) and, when it is about one, the recovery it works on.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::Writes;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    /// The recovery the job is about, if any.
    pub recovery_id: Option<Uuid>,
    /// What the job carries, as its kind serialised it (`null` for none).
    pub payload: serde_json::Value,
    /// Failed runs so far.
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
}

/// Moves the open job of `kind` for the recovery to `run_at`.
pub async fn reschedule(
    conn: &mut PgConnection,
    kind: &str,
    recovery_id: Uuid,
    run_at: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE jobs SET run_at = $3 WHERE kind = $1 AND recovery_id = $2 AND finished_at IS NULL",
    )
    .bind(kind)
    .bind(recovery_id)
    .bind(run_at)
    .execute(conn)
    .await?
    .rows_affected())
}

/// Adds the queuing of a job of `kind` about each of `about` (a recovery, or none), each with
/// `payload`, not due before `run_at`, to `writes` (one INSERT for all).
pub fn enqueue_with<'a>(
    writes: &mut Writes<'a>,
    kind: &'static str,
    about: Vec<Option<Uuid>>,
    payload: serde_json::Value,
    run_at: DateTime<Utc>,
) {
    writes.add(|sql| {
        sql.push("INSERT INTO jobs (kind, recovery_id, payload, run_at) SELECT ")
            .push_bind(kind)
            .push(", recovery_id, ")
            .push_bind(payload)
            .push(", ")
            .push_bind(run_at)
            .push(" FROM unnest(")
            .push_bind(about)
            .push("::uuid[]) AS r(recovery_id)");
    });
}

/// Queues one job of `kind`, about a recovery or none, not due before `run_at`.
pub async fn enqueue(
    conn: &mut PgConnection,
    kind: &'static str,
    about: Option<Uuid>,
    payload: serde_json::Value,
    run_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let mut writes = Writes::default();
    enqueue_with(&mut writes, kind, vec![about], payload, run_at);
    writes.execute(conn).await
}

/// The kind of the public lookups (a self-service request's Cognito lookup and code email):
/// taken after every other due job, newest first (`take_due`). Named in the indexes of
/// migration 20261210000001.
pub const LOOKUP_KIND: &str = "look_up";

/// The next due job of one of `kinds` that nobody else holds, locked until the caller's
/// transaction ends; with SKIP LOCKED several workers (and several instances) share the queue
/// without blocking. Every other job goes first, oldest due first (security notices, the
/// support desk's recoveries, resets); then the public lookups, newest first: under a flood of
/// requests the one that just arrived is served next, and those left behind grow stale (and are
/// dropped) instead of delaying everyone.
pub async fn take_due(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    kinds: &[&str],
) -> Result<Option<JobRow>, sqlx::Error> {
    let first: Option<JobRow> = sqlx::query_as(
        "SELECT id, kind, recovery_id, payload, attempts, created_at FROM jobs
         WHERE finished_at IS NULL AND kind <> 'look_up' AND run_at <= $2 AND kind = ANY($1)
         ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED",
    )
    .bind(kinds)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    if first.is_some() || !kinds.contains(&LOOKUP_KIND) {
        return Ok(first);
    }
    sqlx::query_as(
        "SELECT id, kind, recovery_id, payload, attempts, created_at FROM jobs
         WHERE finished_at IS NULL AND kind = 'look_up' AND run_at <= $1
         ORDER BY created_at DESC, id DESC LIMIT 1 FOR UPDATE SKIP LOCKED",
    )
    .bind(now)
    .fetch_optional(conn)
    .await
}

crate::domain::closed_vocabulary! {
    /// How a job ended.
    pub enum JobEnd {
        Done = "done",
        GaveUp = "gave_up",
    }
}

pub async fn finish(conn: &mut PgConnection, id: i64, end: JobEnd) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE jobs SET finished_at = now(), outcome = $2 WHERE id = $1")
        .bind(id)
        .bind(end)
        .execute(conn)
        .await?;
    Ok(())
}

/// Makes the job due at `until`, without counting a failed run.
pub async fn due_at(
    conn: &mut PgConnection,
    id: i64,
    until: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE jobs SET run_at = $2 WHERE id = $1")
        .bind(id)
        .bind(until)
        .execute(conn)
        .await?;
    Ok(())
}

/// Counts a failed run and makes the job due again `delay_seconds` after `now`.
pub async fn retry_later(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    id: i64,
    delay_seconds: f64,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE jobs SET attempts = attempts + 1, last_error = $3,
                run_at = $4 + make_interval(secs => $2)
         WHERE id = $1",
    )
    .bind(id)
    .bind(delay_seconds)
    .bind(error)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// The jobs due at `now`: how many, how long the oldest waited, and the public lookups among
/// them (seconds).
pub async fn due_stats(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
) -> Result<DueStats, sqlx::Error> {
    sqlx::query_as(
        "SELECT count(*) AS depth,
                coalesce(extract(epoch FROM $1 - min(run_at) FILTER (WHERE kind <> 'look_up')),
                         0)::float8 AS oldest,
                count(*) FILTER (WHERE kind = 'look_up') AS lookups,
                coalesce(extract(epoch FROM $1 - min(created_at) FILTER (WHERE kind = 'look_up')),
                         0)::float8 AS oldest_lookup
         FROM jobs WHERE finished_at IS NULL AND run_at <= $1",
    )
    .bind(now)
    .fetch_one(conn)
    .await
}

/// The due jobs, for the gauges.
#[derive(sqlx::FromRow)]
pub struct DueStats {
    /// Every due job.
    pub depth: i64,
    /// How long the oldest due job other than a public lookup has waited, in seconds.
    pub oldest: f64,
    /// Public lookups waiting (a flood's backlog; they are served newest first).
    pub lookups: i64,
    /// How long ago the oldest of them was asked for, in seconds.
    pub oldest_lookup: f64,
}

/// Deletes up to `batch` jobs that finished before `before`; returns how many.
pub async fn purge_finished(
    conn: &mut PgConnection,
    before: DateTime<Utc>,
    batch: i64,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "DELETE FROM jobs WHERE id IN (
             SELECT id FROM jobs WHERE finished_at < $1 ORDER BY finished_at LIMIT $2)",
    )
    .bind(before)
    .bind(batch)
    .execute(conn)
    .await?
    .rows_affected())
}
