//! Staff console sessions, by the SHA-256 of the token the browser holds.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// A signed-in person, as their session records them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StaffSessionRow {
    pub issuer: String,
    pub subject: String,
    pub display_name: String,
    pub email: Option<String>,
    pub username: Option<String>,
    pub roles: Vec<String>,
    pub amr: Vec<String>,
    pub created_at: DateTime<Utc>,
}

pub struct NewStaffSession<'a> {
    pub token_hash: &'a str,
    pub issuer: &'a str,
    pub subject: &'a str,
    pub display_name: &'a str,
    pub email: Option<&'a str>,
    pub username: Option<&'a str>,
    pub roles: Vec<String>,
    pub amr: &'a [String],
}

pub async fn create(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    new: NewStaffSession<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO staff_sessions
             (token_hash, issuer, subject, display_name, email, roles, amr, created_at, last_seen_at,
              username)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9)",
    )
    .bind(new.token_hash)
    .bind(new.issuer)
    .bind(new.subject)
    .bind(new.display_name)
    .bind(new.email)
    .bind(new.roles)
    .bind(new.amr)
    .bind(now)
    .bind(new.username)
    .execute(conn)
    .await?;
    Ok(())
}

/// The session, when it has not ended, was used within `idle_seconds` and began within
/// `lifetime_seconds`; this use is its last (it stays alive `idle_seconds` more).
pub async fn touch(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    token_hash: &str,
    idle_seconds: i64,
    lifetime_seconds: i64,
) -> Result<Option<StaffSessionRow>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE staff_sessions SET last_seen_at = $2
         WHERE token_hash = $1 AND ended_at IS NULL
           AND last_seen_at > $2 - make_interval(secs => $3)
           AND created_at > $2 - make_interval(secs => $4)
         RETURNING issuer, subject, display_name, email, username, roles, amr, created_at",
    )
    .bind(token_hash)
    .bind(now)
    .bind(idle_seconds as f64)
    .bind(lifetime_seconds as f64)
    .fetch_optional(conn)
    .await
}

/// Ends the session (sign-out); returns it when it was open.
pub async fn end(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    token_hash: &str,
) -> Result<Option<StaffSessionRow>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE staff_sessions SET ended_at = $2 WHERE token_hash = $1 AND ended_at IS NULL
         RETURNING issuer, subject, display_name, email, username, roles, amr, created_at",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(conn)
    .await
}

/// Drops sessions that began more than two days ago (no lifetime is that long).
pub async fn purge_old(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM staff_sessions WHERE created_at < $1 - interval '2 days'")
            .bind(now)
            .execute(conn)
            .await?
            .rows_affected(),
    )
}
