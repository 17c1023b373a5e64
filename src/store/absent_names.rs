//! Names Cognito just said it has no user for, by their keyed digest: a flood of requests for
//! the same junk name costs one lookup per window, not one each.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// Whether Cognito said it has no user by this name since before `now` and until after it.
pub async fn is_absent(
    conn: &mut PgConnection,
    name_key: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM absent_names WHERE name_key = $1 AND until > $2)",
    )
    .bind(name_key)
    .bind(now)
    .fetch_one(conn)
    .await
}

/// Cognito has no user by this name: not asked again before `until`.
pub async fn remember(
    conn: &mut PgConnection,
    name_key: &str,
    until: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO absent_names (name_key, until) VALUES ($1, $2)
         ON CONFLICT (name_key) DO UPDATE SET until = excluded.until",
    )
    .bind(name_key)
    .bind(until)
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets the names whose window has passed.
pub async fn purge_old(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM absent_names WHERE until <= $1")
        .bind(now)
        .execute(conn)
        .await?
        .rows_affected())
}
