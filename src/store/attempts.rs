//! Confirmation attempts: one row each, reserved before anything is compared, counted in rolling
//! windows per account and per client address block.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// The attempts that count against a confirmation from `prefix` for `account` right now (the
/// last 24 hours).
#[derive(Debug, Clone, Copy, Default, sqlx::FromRow)]
pub struct AttemptStats {
    /// Wrong confirmations for the account, from every address.
    pub account_failures: i64,
    /// Seconds until the account's oldest counted failure leaves the window.
    pub account_frees_in: f64,
    /// Wrong confirmations for the account from this address block.
    pub prefix_failures: i64,
    /// Seconds until this block's oldest counted failure leaves the window.
    pub prefix_frees_in: f64,
    /// Wrong confirmations from this block since it last asked for a code for the account.
    pub prefix_failures_since_code: i64,
    /// Seconds since this block's last wrong confirmation (`None`: none counted).
    pub since_last_prefix_failure: Option<f64>,
}

const WINDOW: &str = "interval '1 day'";

/// What counts against the next attempt with the name whose key is `name_key`. Take its
/// advisory lock first (`recoveries::lock_account`): reading and reserving are then one atomic
/// step.
pub async fn stats(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    name_key: &str,
    prefix: &str,
) -> Result<AttemptStats, sqlx::Error> {
    sqlx::query_as(&format!(
        "WITH counted AS (
             SELECT prefix, at FROM confirm_attempts
             WHERE account_key = $1 AND failed AND at > $3 - {WINDOW}
         ), last_code AS (
             -- The block's last request, from the moment it was made (whether and when its code
             -- went out must not matter: that would tell real names from unknown ones).
             SELECT max(created_at) AS at FROM recoveries
             WHERE name_key = $1 AND request_prefix = $2
         )
         SELECT count(*) AS account_failures,
                coalesce(extract(epoch FROM min(at) + {WINDOW} - $3), 0)::float8
                    AS account_frees_in,
                count(*) FILTER (WHERE prefix = $2) AS prefix_failures,
                coalesce(extract(epoch FROM min(at) FILTER (WHERE prefix = $2) + {WINDOW} - $3), 0)::float8
                    AS prefix_frees_in,
                count(*) FILTER (WHERE prefix = $2
                                 AND at > coalesce((SELECT at FROM last_code), '-infinity'))
                    AS prefix_failures_since_code,
                extract(epoch FROM $3 - max(at) FILTER (WHERE prefix = $2))::float8
                    AS since_last_prefix_failure
         FROM counted"
    ))
    .bind(name_key)
    .bind(prefix)
    .bind(now)
    .fetch_one(conn)
    .await
}

/// Counts an attempt as failed until it proves right; returns its id. `now` is the moment of the reservation (read once the name's lock is held), not of its
/// transaction's start: delays are measured between reservations.
pub async fn reserve(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    account: &str,
    prefix: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO confirm_attempts (account_key, prefix, at) VALUES ($1, $2, $3)
         RETURNING id",
    )
    .bind(account)
    .bind(prefix)
    .bind(now)
    .fetch_one(conn)
    .await
}

/// The attempt was right: it no longer counts as a failure.
pub async fn succeeded(conn: &mut PgConnection, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE confirm_attempts SET failed = false WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The attempt could not be judged (Cognito unreachable): it is given back.
pub async fn refund(conn: &mut PgConnection, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM confirm_attempts WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Forgets the account's wrong confirmations (after its reset, or when support clears a lock);
/// returns how many.
pub async fn clear(conn: &mut PgConnection, account: &str) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM confirm_attempts WHERE account_key = $1 AND failed")
            .bind(account)
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

/// Drops attempts no window counts any more.
pub async fn purge_old(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM confirm_attempts WHERE at < $1 - interval '2 days'")
            .bind(now)
            .execute(conn)
            .await?
            .rows_affected(),
    )
}
