use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// Look the user up, decide eligibility and limits, email a fresh code.
    IssueCode,
    /// Tell the user their authenticator was removed.
    ResetNotice,
    /// Tell the user a recovery of their account locked after too many wrong attempts.
    LockNotice,
    /// Apply a reset whose waiting period is over.
    ApplyReset,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::IssueCode => "issue_code",
            JobKind::ResetNotice => "reset_notice",
            JobKind::LockNotice => "lock_notice",
            JobKind::ApplyReset => "apply_reset",
        }
    }
}

impl TryFrom<String> for JobKind {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        [
            JobKind::IssueCode,
            JobKind::ResetNotice,
            JobKind::LockNotice,
            JobKind::ApplyReset,
        ]
        .into_iter()
        .find(|k| k.as_str() == value)
        .ok_or_else(|| format!("unknown job kind {value}"))
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Job {
    pub id: i64,
    #[sqlx(try_from = "String")]
    pub kind: JobKind,
    pub recovery_id: Uuid,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
}

pub async fn enqueue(
    conn: &mut PgConnection,
    kind: JobKind,
    recovery_id: Uuid,
) -> Result<i64, sqlx::Error> {
    enqueue_at(conn, kind, recovery_id, Utc::now()).await
}

/// Queues a job that is not due before `run_at`.
pub async fn enqueue_at(
    conn: &mut PgConnection,
    kind: JobKind,
    recovery_id: Uuid,
    run_at: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO jobs (kind, recovery_id, run_at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(kind.as_str())
    .bind(recovery_id)
    .bind(run_at)
    .fetch_one(conn)
    .await
}

/// The oldest due job nobody else holds, locked until the caller's transaction ends; with
/// SKIP LOCKED several workers (and several instances) share the queue without blocking.
pub async fn take_due(conn: &mut PgConnection) -> Result<Option<Job>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, kind, recovery_id, attempts, created_at FROM jobs
         WHERE finished_at IS NULL AND run_at <= now()
         ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED",
    )
    .fetch_optional(conn)
    .await
}

pub async fn finish(conn: &mut PgConnection, id: i64, gave_up: bool) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE jobs SET finished_at = now(), outcome = $2 WHERE id = $1")
        .bind(id)
        .bind(if gave_up { "gave_up" } else { "done" })
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn retry_later(
    conn: &mut PgConnection,
    id: i64,
    delay_seconds: f64,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE jobs SET attempts = attempts + 1, last_error = $3,
                run_at = now() + make_interval(secs => $2)
         WHERE id = $1",
    )
    .bind(id)
    .bind(delay_seconds)
    .bind(error)
    .execute(conn)
    .await?;
    Ok(())
}

/// How many jobs are due, and how long the oldest has waited (seconds).
pub async fn due_stats(conn: &mut PgConnection) -> Result<(i64, f64), sqlx::Error> {
    sqlx::query_as(
        "SELECT count(*), coalesce(extract(epoch FROM now() - min(run_at)), 0)::float8
         FROM jobs WHERE finished_at IS NULL AND run_at <= now()",
    )
    .fetch_one(conn)
    .await
}
