//! Staff keys (service accounts), stored only as their SHA-256.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{StaffName, StaffRole};

/// An authenticated staff member: a service account, by one of its keys.
#[derive(Debug, Clone)]
pub struct StaffMember {
    pub name: StaffName,
    pub role: StaffRole,
    /// The key used (a name may hold several).
    pub key_id: Uuid,
}

/// A key of a service account, as auditors see it (never the key, nor its hash).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyRecord {
    pub id: Uuid,
    pub name: String,
    pub role: String,
    pub created_at: DateTime<Utc>,
    /// Who created it (`None`: made before this was recorded).
    pub created_by: Option<String>,
    pub purpose: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// It works now (not revoked, not expired: the test authentication makes).
    pub active: bool,
}

pub struct NewKey<'a> {
    pub name: &'a StaffName,
    pub role: StaffRole,
    pub key_hash: &'a str,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_by: &'a str,
    pub purpose: Option<&'a str>,
}

pub async fn insert_key(conn: &mut PgConnection, new: NewKey<'_>) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO staff_keys (id, name, role, key_hash, expires_at, created_by, purpose)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(new.name.as_str())
    .bind(new.role)
    .bind(new.key_hash)
    .bind(new.expires_at)
    .bind(new.created_by)
    .bind(new.purpose)
    .execute(conn)
    .await?;
    Ok(id)
}

/// Every key, newest first, at most `limit`.
pub async fn list(conn: &mut PgConnection, limit: i64) -> Result<Vec<KeyRecord>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, role, created_at, created_by, purpose, expires_at, revoked_at,
                revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now()) AS active
         FROM staff_keys ORDER BY created_at DESC, id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Revokes every active key of `name`; returns how many.
pub async fn revoke(conn: &mut PgConnection, name: &StaffName) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE staff_keys SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL",
    )
    .bind(name.as_str())
    .execute(conn)
    .await?
    .rows_affected())
}

/// The active staff member holding the key with this hash (not revoked, not expired).
pub async fn find_active(
    conn: &mut PgConnection,
    key_hash: &str,
) -> Result<Option<StaffMember>, sqlx::Error> {
    let row: Option<(String, StaffRole, Uuid)> = sqlx::query_as(
        "SELECT name, role, id FROM staff_keys
         WHERE key_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())",
    )
    .bind(key_hash)
    .fetch_optional(conn)
    .await?;
    row.map(|(name, role, key_id)| {
        let name = StaffName::parse(&name).map_err(|e| sqlx::Error::Decode(e.into()))?;
        Ok(StaffMember { name, role, key_id })
    })
    .transpose()
}
