//! The audit stream's cursors: per destination, the last event delivered, and when to try the
//! next one again after a failure. A row is locked while its destination is being served, so
//! that one instance at a time delivers to it, in chain order.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// A destination's cursor.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Cursor {
    pub delivered_seq: i64,
    /// Failed attempts at the next event, in a row.
    pub attempts: i32,
    /// Not before this (the service's clock), after a failure.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// Locks `destination`'s cursor for the caller's transaction (creating it at 0, before the first
/// event, when new). None when another instance is serving it.
pub async fn lock(
    conn: &mut PgConnection,
    destination: &str,
) -> Result<Option<Cursor>, sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_deliveries (destination) VALUES ($1) ON CONFLICT (destination) DO NOTHING",
    )
    .bind(destination)
    .execute(&mut *conn)
    .await?;
    sqlx::query_as(
        "SELECT delivered_seq, attempts, next_attempt_at FROM audit_deliveries
          WHERE destination = $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(destination)
    .fetch_optional(conn)
    .await
}

/// Records where `destination` stands: delivered up to `delivered_seq`; `failure`: the attempts
/// at the next event so far, when to try again and why it failed (None after a success).
pub async fn record(
    conn: &mut PgConnection,
    destination: &str,
    delivered_seq: i64,
    failure: Option<(i32, DateTime<Utc>, &str)>,
) -> Result<(), sqlx::Error> {
    let (attempts, next, error) = match failure {
        Some((attempts, next, error)) => (attempts, Some(next), Some(error)),
        None => (0, None, None),
    };
    sqlx::query(
        "UPDATE audit_deliveries
            SET delivered_seq = $2, attempts = $3, next_attempt_at = $4, last_error = $5,
                updated_at = now()
          WHERE destination = $1",
    )
    .bind(destination)
    .bind(delivered_seq)
    .bind(attempts)
    .bind(next)
    .bind(error)
    .execute(conn)
    .await?;
    Ok(())
}
