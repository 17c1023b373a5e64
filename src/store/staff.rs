use sqlx::PgConnection;
use uuid::Uuid;

use crate::staff::{StaffMember, StaffRole};

pub async fn insert_key(
    conn: &mut PgConnection,
    name: &str,
    role: StaffRole,
    key_hash: &str,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::new_v4();
    sqlx::query("INSERT INTO staff_keys (id, name, role, key_hash) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(name)
        .bind(role.as_str())
        .bind(key_hash)
        .execute(conn)
        .await?;
    Ok(id)
}

/// Revokes every active key of `name`; returns how many.
pub async fn revoke(conn: &mut PgConnection, name: &str) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE staff_keys SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL",
    )
    .bind(name)
    .execute(conn)
    .await?
    .rows_affected())
}

#[derive(sqlx::FromRow)]
struct Row {
    name: String,
    #[sqlx(try_from = "String")]
    role: StaffRole,
}

/// The active staff member holding the key with this hash.
pub async fn find_active(
    conn: &mut PgConnection,
    key_hash: &str,
) -> Result<Option<StaffMember>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT name, role FROM staff_keys WHERE key_hash = $1 AND revoked_at IS NULL",
    )
    .bind(key_hash)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| StaffMember {
        name: r.name,
        role: r.role,
    }))
}
