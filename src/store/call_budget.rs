//! The call budget every instance shares: a token bucket in one row, refilled at `rate` times
//! its adaptive `factor`, holding at most `burst` tokens.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// What asking for one call's token said.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Take {
    /// Taken: make the call.
    Taken,
    /// Not enough tokens above the caller's floor: ask again after this many seconds.
    Wait(f64),
}

/// Takes one token from the budget `name` at `now` if more than `floor` would be left, refilling
/// it first (`rate` per second times its factor, at most `burst`). The row is made on first use.
pub async fn take(
    conn: &mut PgConnection,
    name: &str,
    now: DateTime<Utc>,
    rate: f64,
    burst: f64,
    floor: f64,
) -> Result<Take, sqlx::Error> {
    sqlx::query(
        "INSERT INTO call_budgets (name, tokens, refilled_at) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(burst)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    let (taken, available, factor): (bool, f64, f64) = sqlx::query_as(
        "WITH b AS (
             SELECT least($4, tokens + greatest(0, extract(epoch FROM $2 - refilled_at))
                                   * $3 * factor) AS available,
                    factor, greatest(refilled_at, $2) AS at
             FROM call_budgets WHERE name = $1 FOR UPDATE)
         UPDATE call_budgets c
         SET tokens = b.available - CASE WHEN b.available >= $5 + 1 THEN 1 ELSE 0 END,
             refilled_at = b.at,
             factor = CASE WHEN b.available >= $5 + 1 THEN least(1, b.factor * 1.01)
                           ELSE b.factor END
         FROM b WHERE c.name = $1
         RETURNING b.available >= $5 + 1, b.available, b.factor",
    )
    .bind(name)
    .bind(now)
    .bind(rate)
    .bind(burst)
    .bind(floor)
    .fetch_one(conn)
    .await?;
    Ok(if taken {
        Take::Taken
    } else {
        Take::Wait((floor + 1.0 - available) / (rate * factor))
    })
}

/// The provider throttled a call: the rate halves (at most down to a tenth) and what is left in
/// the bucket goes, for every instance.
pub async fn throttled(conn: &mut PgConnection, name: &str) -> Result<f64, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE call_budgets SET factor = greatest(0.1, factor / 2), tokens = least(tokens, 0)
         WHERE name = $1 RETURNING factor",
    )
    .bind(name)
    .fetch_optional(conn)
    .await
    .map(|f| f.unwrap_or(1.0))
}
