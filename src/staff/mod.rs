//! Staff of the support desk and auditors: their API keys, how a key becomes a staff member,
//! and how keys are added and revoked (each audited). SQL lives in `crate::store::staff`.

use secrecy::{ExposeSecret, SecretString};
use sqlx::{PgConnection, PgPool};

use crate::audit::{self, Action, AuditEvent, Outcome};
use crate::domain::{random_token, token_digest, Actor, StaffName, StaffRole};
use crate::store::staff as store;

pub use crate::store::staff::StaffMember;

/// Staff keys are 256 random bits, shown once; `mfr_` makes them recognisable to secret scanners.
const KEY_PREFIX: &str = "mfr_";

/// A new key, from the operating system's CSPRNG.
pub fn generate_key() -> SecretString {
    SecretString::from(format!("{KEY_PREFIX}{}", random_token().expose_secret()))
}

/// Creates a key for `name` with `role`, audited as `staff.added`; returns the key, which is
/// stored only as its hash and must be shown to the operator now or never.
pub async fn add(
    pool: &PgPool,
    name: &StaffName,
    role: StaffRole,
) -> Result<SecretString, sqlx::Error> {
    let key = generate_key();
    let mut tx = pool.begin().await?;
    store::insert_key(&mut tx, name, role, &token_digest(&key)).await?;
    audit_admin(&mut tx, Action::StaffAdded, name, format!("role {role}")).await?;
    tx.commit().await?;
    Ok(key)
}

/// Revokes every key of `name` at once; returns how many were active.
pub async fn revoke(pool: &PgPool, name: &StaffName) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let revoked = store::revoke(&mut tx, name).await?;
    audit_admin(
        &mut tx,
        Action::StaffRevoked,
        name,
        format!("{revoked} key(s) revoked"),
    )
    .await?;
    tx.commit().await?;
    Ok(revoked)
}

async fn audit_admin(
    conn: &mut PgConnection,
    action: Action,
    name: &StaffName,
    detail: String,
) -> Result<i64, sqlx::Error> {
    audit::append(
        conn,
        AuditEvent::new(action, &Actor::System, Outcome::Success)
            .detail(format!("staff:{name}: {detail}")),
    )
    .await
}

/// The active staff member holding `key`, if any.
pub async fn authenticate(
    pool: &PgPool,
    key: &SecretString,
) -> Result<Option<StaffMember>, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    store::find_active(&mut conn, &token_digest(key)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_long_random_and_prefixed() {
        let a = generate_key();
        let b = generate_key();
        assert!(a.expose_secret().starts_with("mfr_"));
        assert_eq!(a.expose_secret().len(), 4 + 43);
        assert_ne!(a.expose_secret(), b.expose_secret());
    }

    #[test]
    fn the_stored_hash_is_not_the_key() {
        let key = generate_key();
        let hash = token_digest(&key);
        assert_eq!(hash.len(), 64);
        assert!(!hash.contains(key.expose_secret()));
        assert_eq!(hash, token_digest(&key));
    }
}
