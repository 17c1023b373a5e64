//! The audit log: what an event says (`event`), how events are chained and verified (`chain`),
//! how the log leaves the service (`export`), and the rules of writing and reading it. SQL lives
//! in `crate::store::audit`.

mod chain;
mod event;
pub mod export;

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use futures::TryStreamExt;
use serde::Serialize;
use sqlx::{Connection, PgConnection, PgPool};
use uuid::Uuid;

pub use chain::{chain_hash, ChainVerifier, Unsealed, Verification, GENESIS};
pub use event::{Action, AuditEvent, Outcome};
pub use export::CsvExport;
pub use store::AuditFilter;

use crate::domain::{Actor, ClientInfo, StaffName};
use crate::store::audit::{self as store, AuditRow, NewAuditRow};

/// One stored audit event, as auditors see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AuditRecord {
    pub seq: i64,
    /// RFC 3339, UTC, to the microsecond.
    #[serde(serialize_with = "rfc3339_micros")]
    pub at: DateTime<Utc>,
    pub action: String,
    pub actor: String,
    pub username: Option<String>,
    pub recovery_id: Option<Uuid>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub outcome: String,
    pub detail: Option<String>,
    pub hash: String,
}

fn rfc3339_micros<S: serde::Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&at.to_rfc3339_opts(SecondsFormat::Micros, true))
}

impl From<AuditRow> for AuditRecord {
    fn from(row: AuditRow) -> Self {
        Self {
            seq: row.seq,
            at: row.at,
            action: row.action,
            actor: row.actor,
            username: row.username,
            recovery_id: row.recovery_id,
            ip: row.ip,
            user_agent: row.user_agent,
            outcome: row.outcome,
            detail: row.detail,
            hash: row.hash,
        }
    }
}

/// Appends the event, chained to the last one; returns its `seq`. Runs in a (nested)
/// transaction of its own, so the chain lock is held even when `conn` is not in one. The lock
/// is held until the caller's transaction commits: append events after the transaction's row
/// changes, never before a row lock, or two transactions could wait on each other.
pub async fn append(conn: &mut PgConnection, event: AuditEvent<'_>) -> Result<i64, sqlx::Error> {
    let mut tx = conn.begin().await?;
    store::lock_chain(&mut tx).await?;
    let previous = store::last_hash(&mut tx).await?;
    let seq = store::next_seq(&mut tx).await?;
    // PostgreSQL keeps microseconds: hash exactly what is stored.
    let at = Utc::now().trunc_subsecs(6);
    let actor = event.actor.as_audit_string();
    let ip = event.client.and_then(|c| c.ip.as_deref());
    let user_agent = event.client.and_then(|c| c.user_agent.as_deref());
    let unsealed = Unsealed {
        seq,
        at,
        action: event.action.as_str(),
        actor: &actor,
        username: event.username,
        recovery_id: event.recovery_id,
        ip,
        user_agent,
        outcome: event.outcome.as_str(),
        detail: event.detail.as_deref(),
    };
    let hash = chain_hash(previous.as_deref().unwrap_or(GENESIS), &unsealed);
    let row = NewAuditRow {
        seq,
        at,
        action: unsealed.action,
        actor: &actor,
        username: event.username,
        recovery_id: event.recovery_id,
        ip,
        user_agent,
        outcome: unsealed.outcome,
        detail: unsealed.detail,
        hash: &hash,
    };
    store::insert(&mut tx, &row).await?;
    tx.commit().await?;
    Ok(seq)
}

/// Walks the whole chain from the first event.
pub async fn verify_chain(db: &PgPool) -> Result<Verification, sqlx::Error> {
    let filter = AuditFilter::default();
    let mut events = store::stream(db, &filter);
    let mut verifier = ChainVerifier::default();
    while let Some(row) = events.try_next().await? {
        verifier.push(&row);
    }
    Ok(verifier.finish())
}

/// A page of events for an auditor. Every query of the log is itself recorded (`audit.read`).
pub async fn read_events(
    db: &PgPool,
    auditor: &StaffName,
    client: &ClientInfo,
    filter: &AuditFilter,
    limit: i64,
) -> Result<Vec<AuditRecord>, sqlx::Error> {
    let rows = store::query(db, filter, limit).await?;
    record_read(
        db,
        auditor,
        client,
        format!("events: {filter:?}, limit {limit}"),
    )
    .await?;
    Ok(rows.into_iter().map(AuditRecord::from).collect())
}

/// The chain's state for an auditor, recorded like every read.
pub async fn verify_for(
    db: &PgPool,
    auditor: &StaffName,
    client: &ClientInfo,
) -> Result<Verification, sqlx::Error> {
    let verification = verify_chain(db).await?;
    let detail = format!(
        "verify: intact={} events={}",
        verification.intact, verification.events
    );
    record_read(db, auditor, client, detail).await?;
    Ok(verification)
}

async fn record_read(
    db: &PgPool,
    auditor: &StaffName,
    client: &ClientInfo,
    detail: String,
) -> Result<(), sqlx::Error> {
    let mut conn = db.acquire().await?;
    let actor = Actor::Staff(auditor.clone());
    append(
        &mut conn,
        AuditEvent::new(Action::AuditRead, &actor, Outcome::Success)
            .client(client)
            .detail(detail),
    )
    .await?;
    Ok(())
}
