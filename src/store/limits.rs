use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::Writes;

/// A counter after one more hit.
#[derive(Debug, Clone, Copy)]
pub struct Hit {
    pub hits: i64,
    /// Seconds until the window ends and the counter starts again.
    pub resets_in: u64,
}

/// Counts one hit against `key` in the fixed window of `window_seconds` that holds `now`
/// (windows are aligned to the epoch, so every instance agrees on them).
pub async fn hit(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    key: &str,
    window_seconds: i64,
) -> Result<Hit, sqlx::Error> {
    let mut writes = Writes::default();
    hit_with(&mut writes, now, key.to_owned(), window_seconds, i64::MAX);
    hit_of(writes, conn).await
}

/// Adds one hit against `key` to `writes`; the writes added after it happen only when the count
/// is at most `limit` (an over-limit request still counts, and writes nothing else).
pub fn hit_with(
    writes: &mut Writes<'_>,
    now: DateTime<Utc>,
    key: String,
    window_seconds: i64,
    limit: i64,
) {
    let counter = writes.add(|sql| count(sql, now, vec![key], window_seconds));
    writes.only_within(counter, limit);
}

/// One hit against each of `keys`, in the window that holds `now`, counted in the keys' sorted
/// order (deadlock-free): one row per key (its `key`, `hits` and `resets_in`).
fn count(
    sql: &mut sqlx::QueryBuilder<'_, sqlx::Postgres>,
    now: DateTime<Utc>,
    keys: Vec<String>,
    window_seconds: i64,
) {
    sql.push("INSERT INTO rate_limits (key, window_start, hits, last_hit) SELECT key, to_timestamp(floor(extract(epoch FROM ")
        .push_bind(now)
        .push("::timestamptz) / ")
        .push_bind(window_seconds)
        .push(") * ")
        .push_bind(window_seconds)
        .push("), 1, ")
        .push_bind(now)
        .push(" FROM unnest(")
        .push_bind(keys)
        // In one global order (the keys sorted): two statements counting the same keys lock
        // their rows in the same order, so neither can hold one the other waits for.
        .push(
            "::text[]) AS k(key) ORDER BY k.key ON CONFLICT (key, window_start)
                 DO UPDATE SET hits = rate_limits.hits + 1, last_hit = EXCLUDED.last_hit
             RETURNING key, hits, ceil(extract(epoch FROM window_start) + ",
        )
        .push_bind(window_seconds)
        .push(" - extract(epoch FROM ")
        .push_bind(now)
        .push("::timestamptz))::bigint AS resets_in");
}

/// Sends `writes` (which counted a hit with `hit_with`) and returns the count.
pub async fn hit_of(writes: Writes<'_>, conn: &mut PgConnection) -> Result<Hit, sqlx::Error> {
    let (_, hits, resets_in): (String, i32, i64) = writes.execute_answering(conn).await?;
    Ok(counted(hits, resets_in))
}

fn counted(hits: i32, resets_in: i64) -> Hit {
    Hit {
        hits: i64::from(hits),
        resets_in: resets_in.max(1) as u64,
    }
}

/// Counts one hit against each of `keys` (distinct: one statement cannot count a key twice),
/// in one statement; each key with its count.
pub async fn hit_each(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    keys: Vec<String>,
    window_seconds: i64,
) -> Result<Vec<(String, Hit)>, sqlx::Error> {
    let mut writes = Writes::default();
    let counter = writes.add(|sql| count(sql, now, keys, window_seconds));
    let rows: Vec<(String, i32, i64)> = writes.execute_returning(conn, counter).await?;
    Ok(rows
        .into_iter()
        .map(|(key, hits, resets_in)| (key, counted(hits, resets_in)))
        .collect())
}

/// The count for `key` in the window that holds `now`, and seconds since its last hit, without
/// counting.
pub async fn peek(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    key: &str,
    window_seconds: i64,
) -> Result<Option<(i64, f64, u64)>, sqlx::Error> {
    let row: Option<(i32, f64, i64)> = sqlx::query_as(
        "SELECT hits, extract(epoch FROM $3 - last_hit)::float8,
                ceil(extract(epoch FROM window_start) + $2 - extract(epoch FROM $3))::bigint
         FROM rate_limits
         WHERE key = $1 AND window_start = to_timestamp(floor(extract(epoch FROM $3) / $2) * $2)",
    )
    .bind(key)
    .bind(window_seconds)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(hits, since_last, resets_in)| {
        (i64::from(hits), since_last, resets_in.max(1) as u64)
    }))
}

/// Records a once-a-day event for `key` (such as a notice) unless one was recorded in the 24
/// hours before `now` (a rolling day); whether it was. Concurrent callers for one key are
/// ordered by its advisory lock, taken here and held to the end of the transaction.
pub async fn once_a_day(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    key: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 7302))")
        .bind(key)
        .execute(&mut *conn)
        .await?;
    let recorded: Option<i32> = sqlx::query_scalar(
        "INSERT INTO rate_limits (key, window_start, hits, last_hit)
         SELECT $1, $2, 1, $2
         WHERE NOT EXISTS (SELECT 1 FROM rate_limits
                           WHERE key = $1 AND window_start > $2 - interval '1 day')
         ON CONFLICT DO NOTHING
         RETURNING hits",
    )
    .bind(key)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    Ok(recorded.is_some())
}

/// Drops counters of windows that ended long ago.
pub async fn purge_old(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM rate_limits WHERE window_start < $1 - interval '2 days'")
            .bind(now)
            .execute(conn)
            .await?
            .rows_affected(),
    )
}
