use sqlx::PgConnection;

/// A counter after one more hit.
#[derive(Debug, Clone, Copy)]
pub struct Hit {
    pub hits: i64,
    /// Seconds until the window ends and the counter starts again.
    pub resets_in: u64,
}

/// Counts one hit against `key` in the current fixed window of `window_seconds` (windows are
/// aligned to the epoch, so every instance agrees on them).
pub async fn hit(
    conn: &mut PgConnection,
    key: &str,
    window_seconds: i64,
) -> Result<Hit, sqlx::Error> {
    let (hits, resets_in): (i32, i64) = sqlx::query_as(
        "INSERT INTO rate_limits (key, window_start, hits)
         VALUES ($1, to_timestamp(floor(extract(epoch FROM now()) / $2) * $2), 1)
         ON CONFLICT (key, window_start)
             DO UPDATE SET hits = rate_limits.hits + 1, last_hit = now()
         RETURNING hits, ceil(extract(epoch FROM window_start) + $2 - extract(epoch FROM now()))::bigint",
    )
    .bind(key)
    .bind(window_seconds)
    .fetch_one(conn)
    .await?;
    Ok(Hit {
        hits: i64::from(hits),
        resets_in: resets_in.max(1) as u64,
    })
}

/// The current window's count for `key` and seconds since its last hit, without counting.
pub async fn peek(
    conn: &mut PgConnection,
    key: &str,
    window_seconds: i64,
) -> Result<Option<(i64, f64, u64)>, sqlx::Error> {
    let row: Option<(i32, f64, i64)> = sqlx::query_as(
        "SELECT hits, extract(epoch FROM now() - last_hit)::float8,
                ceil(extract(epoch FROM window_start) + $2 - extract(epoch FROM now()))::bigint
         FROM rate_limits
         WHERE key = $1 AND window_start = to_timestamp(floor(extract(epoch FROM now()) / $2) * $2)",
    )
    .bind(key)
    .bind(window_seconds)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(hits, since_last, resets_in)| {
        (i64::from(hits), since_last, resets_in.max(1) as u64)
    }))
}

/// Drops counters of windows that ended long ago.
pub async fn purge_old(conn: &mut PgConnection) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM rate_limits WHERE window_start < now() - interval '2 days'")
            .execute(conn)
            .await?
            .rows_affected(),
    )
}
