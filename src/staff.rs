//! Staff of the support desk and auditors: their roles, names and API keys.

use secrecy::{ExposeSecret, SecretString};
use sqlx::{PgConnection, PgPool};

use crate::domain::{random_token, token_digest};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffRole {
    /// Starts recoveries for users and follows them; never sees codes, cannot remove MFA.
    Support,
    /// Reads, exports and verifies the audit log.
    Auditor,
}

impl StaffRole {
    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::Support => "support",
            StaffRole::Auditor => "auditor",
        }
    }
}

impl std::str::FromStr for StaffRole {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "support" => Ok(StaffRole::Support),
            "auditor" => Ok(StaffRole::Auditor),
            other => Err(format!(
                "role must be `support` or `auditor`, not `{other}`"
            )),
        }
    }
}

impl TryFrom<String> for StaffRole {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

/// A staff member's name as it appears in the audit log (`staff:<name>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffName(String);

impl StaffName {
    pub fn parse(input: &str) -> Result<Self, String> {
        let ok = !input.is_empty()
            && input.len() <= 64
            && input
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
        if ok {
            Ok(Self(input.to_owned()))
        } else {
            Err("a staff name is 1 to 64 characters of letters, digits, . _ - @".to_owned())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An authenticated staff member.
#[derive(Debug, Clone)]
pub struct StaffMember {
    pub name: String,
    pub role: StaffRole,
}

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
    crate::store::staff::insert_key(&mut tx, name.as_str(), role, &token_digest(&key)).await?;
    audit_admin(
        &mut tx,
        "staff.added",
        name,
        format!("role {}", role.as_str()),
    )
    .await?;
    tx.commit().await?;
    Ok(key)
}

/// Revokes every key of `name` at once; returns how many were active.
pub async fn revoke(pool: &PgPool, name: &StaffName) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let revoked = crate::store::staff::revoke(&mut tx, name.as_str()).await?;
    audit_admin(
        &mut tx,
        "staff.revoked",
        name,
        format!("{revoked} key(s) revoked"),
    )
    .await?;
    tx.commit().await?;
    Ok(revoked)
}

async fn audit_admin(
    conn: &mut PgConnection,
    action: &'static str,
    name: &StaffName,
    detail: String,
) -> Result<i64, sqlx::Error> {
    crate::store::audit::append(
        conn,
        crate::store::audit::AuditEvent::new(action, &crate::domain::Actor::System, "success")
            .detail(format!("staff:{}: {detail}", name.as_str())),
    )
    .await
}

/// The active staff member holding `key`, if any.
pub async fn authenticate(
    pool: &PgPool,
    key: &SecretString,
) -> Result<Option<StaffMember>, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    crate::store::staff::find_active(&mut conn, &token_digest(key)).await
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

    #[test]
    fn staff_names_are_plain() {
        assert!(StaffName::parse("jane.doe@support").is_ok());
        for bad in ["", "a b", "x\ny", "ünï", &"a".repeat(65)] {
            assert!(StaffName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn roles_parse_from_their_names_only() {
        assert_eq!("support".parse::<StaffRole>(), Ok(StaffRole::Support));
        assert_eq!("auditor".parse::<StaffRole>(), Ok(StaffRole::Auditor));
        assert!("admin".parse::<StaffRole>().is_err());
    }
}
