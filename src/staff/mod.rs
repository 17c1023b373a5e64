//! Staff of the support desk and auditors: the API keys of service accounts (integrations), how
//! a key becomes a staff member, how keys are added and revoked (each audited, with who created
//! them) and listed for auditors. SQL lives in `crate::store::staff`.

pub mod console;
pub mod sign_in;

use secrecy::{ExposeSecret, SecretString};
use sqlx::{PgConnection, PgPool};

use chrono::Utc;

use crate::audit::{self, Action, AuditEvent, Outcome};
use crate::domain::{
    limit_key, random_token, short_key_id, token_digest, Actor, Agent, ClientInfo, Provenance,
    StaffName, StaffRole,
};
use crate::store::limits;
use crate::store::staff as store;

pub use crate::store::staff::{KeyRecord, StaffMember};

impl StaffMember {
    /// The service account acting, by this key.
    pub fn agent(&self) -> Agent {
        Agent::key(self.name.clone(), self.key_id)
    }
}

/// Staff keys are 256 random bits, shown once; `mfr_` makes them recognisable to secret scanners.
const KEY_PREFIX: &str = "mfr_";

/// A new key, from the operating system's CSPRNG.
pub fn generate_key() -> SecretString {
    SecretString::from(format!("{KEY_PREFIX}{}", random_token().expose_secret()))
}

/// Creates a key for the service account `name` with `role`, valid for `lifetime` (or until
/// revoked), recording who created it and what for (`provenance`), audited as `staff.added`;
/// returns the key, which is stored only as its hash and must be shown to the operator now or
/// never.
pub async fn add(
    pool: &PgPool,
    name: &StaffName,
    role: StaffRole,
    lifetime: Option<std::time::Duration>,
    provenance: &Provenance,
) -> Result<SecretString, sqlx::Error> {
    let key = generate_key();
    let expires_at = lifetime
        .map(|d| Utc::now() + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX));
    let mut tx = pool.begin().await?;
    let id = store::insert_key(
        &mut tx,
        store::NewKey {
            name,
            role,
            key_hash: &token_digest(&key),
            expires_at,
            created_by: provenance.created_by.as_str(),
            purpose: provenance.purpose.as_deref(),
        },
    )
    .await?;
    let until = expires_at.map_or_else(
        || "no expiry".to_owned(),
        |t| format!("expires {}", t.to_rfc3339()),
    );
    let purpose = provenance
        .purpose
        .as_deref()
        .map_or_else(String::new, |p| format!(", for: {p}"));
    audit_admin(
        &mut tx,
        Action::StaffAdded,
        Outcome::Success,
        name,
        format!(
            "service account key {} created by {}, role {role}, {until}{purpose}",
            short_key_id(id),
            provenance.created_by
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(key)
}

/// The most keys the console lists.
pub const LISTED_KEYS: i64 = 500;

/// Every service account key (newest first, at most `LISTED_KEYS`) with who created it, for
/// `auditor`; the reading is audited (`audit.read`).
pub async fn service_accounts(
    pool: &PgPool,
    auditor: &Agent,
    client: &ClientInfo,
) -> Result<Vec<KeyRecord>, sqlx::Error> {
    let keys = store::list(&mut *pool.acquire().await?, LISTED_KEYS).await?;
    audit::record_read(
        pool,
        auditor,
        client,
        format!("service accounts: {} key(s) listed", keys.len()),
    )
    .await?;
    Ok(keys)
}

/// Revokes every key of `name` at once; returns how many were active.
pub async fn revoke(pool: &PgPool, name: &StaffName) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let revoked = store::revoke(&mut tx, name).await?;
    // Revoking nothing is recorded as what it is: a failed revocation.
    let outcome = if revoked == 0 {
        Outcome::Failed
    } else {
        Outcome::Success
    };
    audit_admin(
        &mut tx,
        Action::StaffRevoked,
        outcome,
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
    outcome: Outcome,
    name: &StaffName,
    detail: String,
) -> Result<(), sqlx::Error> {
    audit::append(
        conn,
        AuditEvent::new(action, &Actor::System, outcome).detail(format!("staff:{name}: {detail}")),
    )
    .await
}

/// Failed staff authentications one client address may make per hour; past it, every staff
/// request from there is refused until the hour is over (keys are 256 random bits: this bounds
/// noise and probing, not a real guessing chance).
pub const AUTH_FAILURES_PER_IP_PER_HOUR: i64 = 50;
const HOUR: i64 = 3600;

#[derive(Debug, thiserror::Error)]
pub enum StaffAuthError {
    /// Missing, unknown, revoked or expired key.
    #[error("no valid staff key")]
    Unauthorized,
    #[error("too many failed staff authentications from this address; retry in {retry_after} s")]
    Limited { retry_after: u64 },
    #[error("the staff store failed")]
    Store(#[from] sqlx::Error),
}

/// At most this many `staff.auth_failed` events per hour, from every address together: failures
/// from many addresses (such as rotating IPv6 /64s) are counted in metrics, never a flood of
/// permanent audit rows.
pub const AUTH_FAILURE_EVENTS_PER_HOUR: i64 = 100;
const AUDITED_FAILURES: &str = "staff_auth_failures_audited";

/// The active staff member holding `key`. The key is checked first: a valid key is never
/// refused because others from the same address (a shared office, or every staff member
/// without `TRUSTED_PROXIES`) failed. Only a request without a valid key spends its client
/// address's hourly budget of failures, and is refused once it is spent. Failures are audited
/// (`staff.auth_failed`): an address's first of the hour and the one that spends its budget,
/// at most `AUTH_FAILURE_EVENTS_PER_HOUR` events an hour in all.
pub async fn authenticate(
    pool: &PgPool,
    now: chrono::DateTime<chrono::Utc>,
    key: Option<&SecretString>,
    client: &ClientInfo,
) -> Result<StaffMember, StaffAuthError> {
    let mut conn = pool.acquire().await?;
    let member = match key {
        Some(key) => store::find_active(&mut conn, &token_digest(key)).await?,
        None => None,
    };
    if let Some(member) = member {
        return Ok(member);
    }
    metrics::counter!("staff_auth_failures_total").increment(1);
    let counter = client
        .ip
        .as_deref()
        .and_then(|ip| ip.parse().ok())
        .map(|ip| format!("staff_auth_failures:{}", limit_key(ip)));
    if let Some(counter) = &counter {
        if let Some((failures, _, resets_in)) = limits::peek(&mut conn, now, counter, HOUR).await? {
            if failures >= AUTH_FAILURES_PER_IP_PER_HOUR {
                return Err(StaffAuthError::Limited {
                    retry_after: resets_in,
                });
            }
        }
    }
    let failures = match &counter {
        Some(counter) => limits::hit(&mut conn, now, counter, HOUR).await?.hits,
        None => 1,
    };
    if failures == 1 || failures == AUTH_FAILURES_PER_IP_PER_HOUR {
        let audited = limits::hit(&mut conn, now, AUDITED_FAILURES, HOUR)
            .await?
            .hits;
        if audited > AUTH_FAILURE_EVENTS_PER_HOUR {
            return Err(StaffAuthError::Unauthorized);
        }
        let (outcome, mut detail) = if failures == 1 {
            (
                Outcome::Rejected,
                "missing, unknown, revoked or expired staff key".to_owned(),
            )
        } else {
            (
                Outcome::Limited,
                format!("{failures} failed staff authentications from this address this hour: refused until the hour is over"),
            )
        };
        if audited == AUTH_FAILURE_EVENTS_PER_HOUR {
            detail.push_str(&format!("; {AUTH_FAILURE_EVENTS_PER_HOUR} failures audited this hour: further ones are counted (staff_auth_failures_total), not audited, until the hour is over"));
        }
        audit::append(
            &mut conn,
            AuditEvent::new(Action::StaffAuthFailed, &Actor::System, outcome)
                .client(client)
                .detail(detail),
        )
        .await?;
    }
    Err(StaffAuthError::Unauthorized)
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
