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
    /// The refresh token of the sign-in, sealed with the session's token.
    pub refresh_sealed: Option<Vec<u8>>,
    /// Without a refresh token: when the roles read at sign-in stop being relied on.
    pub roles_until: Option<DateTime<Utc>>,
}

/// The columns of a `StaffSessionRow`.
const ROW: &str = "issuer, subject, display_name, email, username, roles, amr, created_at, \
                   refresh_sealed, roles_until";

pub struct NewStaffSession<'a> {
    pub token_hash: &'a str,
    pub issuer: &'a str,
    pub subject: &'a str,
    pub display_name: &'a str,
    pub email: Option<&'a str>,
    pub username: Option<&'a str>,
    pub roles: Vec<String>,
    pub amr: &'a [String],
    pub refresh_sealed: Option<Vec<u8>>,
    pub roles_until: Option<DateTime<Utc>>,
}

pub async fn create(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    new: NewStaffSession<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO staff_sessions
             (token_hash, issuer, subject, display_name, email, roles, amr, created_at, last_seen_at,
              username, refresh_sealed, roles_until)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10, $11)",
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
    .bind(new.refresh_sealed)
    .bind(new.roles_until)
    .execute(conn)
    .await?;
    Ok(())
}

/// The session, when it has not ended, was used within `idle_seconds` and began within
/// `lifetime_seconds`; this use is its last (it stays alive `idle_seconds` more). The row stays
/// locked until the transaction ends: a request that reads the person's roles again does so
/// alone (a rotated refresh token is used once).
pub async fn touch(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    token_hash: &str,
    idle_seconds: i64,
    lifetime_seconds: i64,
) -> Result<Option<StaffSessionRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "UPDATE staff_sessions SET last_seen_at = $2
         WHERE token_hash = $1 AND ended_at IS NULL
           AND last_seen_at > $2 - make_interval(secs => $3)
           AND created_at > $2 - make_interval(secs => $4)
         RETURNING {ROW}"
    ))
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
    sqlx::query_as(&format!(
        "UPDATE staff_sessions SET ended_at = $2 WHERE token_hash = $1 AND ended_at IS NULL
         RETURNING {ROW}"
    ))
    .bind(token_hash)
    .bind(now)
    .fetch_optional(conn)
    .await
}

/// The person's roles as the provider gave them again, with its new refresh token (sealed)
/// when it rotated it.
pub async fn renew(
    conn: &mut PgConnection,
    token_hash: &str,
    roles: Vec<String>,
    refresh_sealed: Option<Vec<u8>>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE staff_sessions SET roles = $2, refresh_sealed = COALESCE($3, refresh_sealed)
         WHERE token_hash = $1",
    )
    .bind(token_hash)
    .bind(roles)
    .bind(refresh_sealed)
    .execute(conn)
    .await?;
    Ok(())
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
