//! Staff keys, stored only as their SHA-256.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{StaffName, StaffRole};

/// An authenticated staff member.
#[derive(Debug, Clone)]
pub struct StaffMember {
    pub name: StaffName,
    pub role: StaffRole,
}

pub async fn insert_key(
    conn: &mut PgConnection,
    name: &StaffName,
    role: StaffRole,
    key_hash: &str,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO staff_keys (id, name, role, key_hash, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(name.as_str())
    .bind(role)
    .bind(key_hash)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(id)
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
    let row: Option<(String, StaffRole)> = sqlx::query_as(
        "SELECT name, role FROM staff_keys
         WHERE key_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())",
    )
    .bind(key_hash)
    .fetch_optional(conn)
    .await?;
    row.map(|(name, role)| {
        let name = StaffName::parse(&name).map_err(|e| sqlx::Error::Decode(e.into()))?;
        Ok(StaffMember { name, role })
    })
    .transpose()
}
