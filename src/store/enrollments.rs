//! Enrollments' SQL: one row per new authenticator being set up after a reset.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::closed_vocabulary;

closed_vocabulary! {
    /// How an enrollment ended.
    pub enum EnrollmentEnd {
        Enrolled = "enrolled",
        /// Too many wrong codes from the new authenticator.
        TooManyAttempts = "too_many_attempts",
        /// Cognito verified the code but the read-back did not show TOTP preferred.
        NotApplied = "not_applied",
    }
}

pub struct NewEnrollment<'a> {
    pub id: Uuid,
    pub recovery_id: Uuid,
    pub token_hash: &'a str,
    pub sealed: &'a [u8],
    pub expires_at: DateTime<Utc>,
}

pub async fn insert(conn: &mut PgConnection, new: NewEnrollment<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO enrollments (id, recovery_id, token_hash, sealed, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(new.id)
    .bind(new.recovery_id)
    .bind(new.token_hash)
    .bind(new.sealed)
    .bind(new.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// An open enrollment.
#[derive(sqlx::FromRow)]
pub struct EnrollmentRow {
    pub id: Uuid,
    pub recovery_id: Uuid,
    pub sealed: Vec<u8>,
    pub attempts: i32,
    pub expires_at: DateTime<Utc>,
}

/// The enrollment whose token has this digest, if it is still open (not ended, not expired),
/// row-locked.
pub async fn lock_open(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    token_hash: &str,
) -> Result<Option<EnrollmentRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, recovery_id, sealed, attempts, expires_at FROM enrollments
         WHERE token_hash = $1 AND sealed IS NOT NULL AND finished_at IS NULL AND expires_at > $2
         FOR UPDATE",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(conn)
    .await
}

/// Whether the enrollment with this token is still open (not finished, not expired).
pub async fn is_open(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    token_hash: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM enrollments
         WHERE token_hash = $1 AND sealed IS NOT NULL AND finished_at IS NULL AND expires_at > $2)",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_one(conn)
    .await
}

pub async fn count_attempt(conn: &mut PgConnection, id: Uuid) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE enrollments SET attempts = attempts + 1 WHERE id = $1 RETURNING attempts",
    )
    .bind(id)
    .fetch_one(conn)
    .await
}

/// Gives back an attempt that failed through no fault of the user (Cognito unreachable).
pub async fn refund_attempt(conn: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE enrollments SET attempts = greatest(attempts - 1, 0) WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The enrollment ends: its sealed credential goes with it.
pub async fn finish(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    id: Uuid,
    end: EnrollmentEnd,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE enrollments SET sealed = NULL, finished_at = $3, outcome = $2 WHERE id = $1",
    )
    .bind(id)
    .bind(end)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Drops the sealed credentials of enrollments that expired unfinished; returns how many.
pub async fn purge_expired(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE enrollments SET sealed = NULL WHERE sealed IS NOT NULL AND expires_at < $1",
    )
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected())
}

/// Replaces the sealed credential (after Cognito verified the code and issued a new session).
pub async fn reseal(conn: &mut PgConnection, id: Uuid, sealed: &[u8]) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE enrollments SET sealed = $2 WHERE id = $1 AND finished_at IS NULL")
        .bind(id)
        .bind(sealed)
        .execute(conn)
        .await?;
    Ok(())
}

/// The new authenticator is the user's; the sign-in stays (resealed) until `until` while the
/// user sees to their passkeys (`step`, when they have any: the rules' record of them, as JSON).
pub async fn mark_enrolled(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    id: Uuid,
    sealed: &[u8],
    until: DateTime<Utc>,
    step: Option<&serde_json::Value>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE enrollments SET sealed = $2, enrolled_at = $3, expires_at = $4, passkey_step = $5
         WHERE id = $1 AND finished_at IS NULL",
    )
    .bind(id)
    .bind(sealed)
    .bind(now)
    .bind(until)
    .bind(step)
    .execute(conn)
    .await?;
    Ok(())
}

/// The passkeys as read back after a removal.
pub async fn record_passkeys(
    conn: &mut PgConnection,
    id: Uuid,
    step: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE enrollments SET passkey_step = $2 WHERE id = $1")
        .bind(id)
        .bind(step)
        .execute(conn)
        .await?;
    Ok(())
}

/// An enrollment whose authenticator is the user's and whose sign-in still lives.
#[derive(sqlx::FromRow)]
pub struct EnrolledRow {
    pub id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub passkey_step: Option<serde_json::Value>,
}

/// The recovery's enrollment still holding the user's sign-in (whether or not its time ran
/// out), row-locked.
pub async fn lock_enrolled(
    conn: &mut PgConnection,
    recovery_id: Uuid,
) -> Result<Option<EnrolledRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, expires_at, passkey_step FROM enrollments
         WHERE recovery_id = $1 AND enrolled_at IS NOT NULL AND finished_at IS NULL
         FOR UPDATE",
    )
    .bind(recovery_id)
    .fetch_optional(conn)
    .await
}

/// The passkeys of the recovery's latest enrollment that had a passkey step.
pub async fn passkey_step_of(
    conn: &mut PgConnection,
    recovery_id: Uuid,
) -> Result<Option<serde_json::Value>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT passkey_step FROM enrollments
         WHERE recovery_id = $1 AND passkey_step IS NOT NULL
         ORDER BY created_at DESC LIMIT 1",
    )
    .bind(recovery_id)
    .fetch_optional(conn)
    .await
}
