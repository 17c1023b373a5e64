//! The audit log: what an event says (`event`), how events are chained and verified (`chain`),
//! how the log leaves the service (`export`), and the rules of writing and reading it. SQL lives
//! in `crate::store::audit`.

pub mod archive;
mod chain;
pub mod checkpoint;
mod event;
pub mod export;
pub mod ocsf;
pub mod publish;
pub mod stream;

use chrono::{DateTime, SecondsFormat, Utc};
use futures::TryStreamExt;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

pub use chain::{chain_hash, ChainVerifier, Unsealed, Verification, GENESIS};
pub use checkpoint::{Checkpoint, CheckpointError};
pub use event::{Action, AuditEvent, Outcome};
pub use export::CsvExport;
pub use publish::{Publisher, When};
pub use store::AuditFilter;

use crate::domain::{Agent, ClientInfo};
use crate::store::audit::{self as store, AuditRow, NewPendingRow};
use crate::store::Writes;

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

/// Records `event` in the caller's transaction, so that the change and its event commit
/// together (or neither does): one plain INSERT, no lock. The sequencer chains it shortly after
/// (`AUDIT_CHAIN_INTERVAL_MS`).
pub async fn append(conn: &mut PgConnection, event: AuditEvent<'_>) -> Result<(), sqlx::Error> {
    let mut writes = Writes::default();
    append_with(&mut writes, &event);
    writes.execute(conn).await
}

/// Adds the recording of `event` to `writes`, to be sent with the change it records.
pub fn append_with<'a>(writes: &mut Writes<'a>, event: &AuditEvent<'a>) {
    append_each_with(writes, std::slice::from_ref(event));
}

/// Adds the recording of `events` to `writes` (one INSERT for all), in this order.
pub fn append_each_with<'a>(writes: &mut Writes<'a>, events: &[AuditEvent<'a>]) {
    let rows = events
        .iter()
        .map(|event| NewPendingRow {
            action: event.action.as_str(),
            actor: event.actor.as_audit_string(),
            username: event.username,
            recovery_id: event.recovery_id,
            ip: event.client.and_then(|c| c.ip.as_deref()),
            user_agent: event.client.and_then(|c| c.user_agent.as_deref()),
            outcome: event.outcome.as_str(),
            detail: event.detail.clone(),
        })
        .collect();
    store::insert_pending_with(writes, rows);
}

/// Events chained per transaction at most: one commit (one WAL flush) for all of them.
pub const CHAIN_BATCH: i64 = 1000;

/// The sequencer's step: chains the oldest pending events (at most `CHAIN_BATCH`) after the
/// chain's committed end, in one transaction under the chain's lock. The database does it
/// (`audit_chain_pending`, which runs as the schema's owner and computes each hash as
/// `chain_hash` does): the service's role can record events, not chain, delete or forge them.
/// Returns how many it chained; 0 as well when another sequencer holds the lock.
pub async fn chain_pending(db: &PgPool) -> Result<usize, sqlx::Error> {
    // Idle: one query, no transaction or lock.
    if !store::any_pending(db).await? {
        return Ok(0);
    }
    let mut tx = db.begin().await?;
    let chained = store::chain_pending(&mut tx, CHAIN_BATCH).await?;
    tx.commit().await?;
    Ok(chained)
}

/// The metric of how long the oldest event has waited to be chained (deploy/prometheus's alert
/// rule reads it).
pub const PENDING_AGE_METRIC: &str = "audit_pending_oldest_seconds";

/// Watches the sequencer from outside: an event that waits too long to be chained means the
/// sequencer is stuck, or a session holds the chain's lock to keep events out of it.
#[derive(Debug, Clone, Copy)]
pub struct ChainWatch {
    /// Past this, `/readyz` says not ready (`AUDIT_PENDING_MAX_SECONDS`).
    pub max_wait: std::time::Duration,
}

impl ChainWatch {
    /// How long (seconds) the oldest pending event has waited at `now`, 0 when none; sets the
    /// gauge `audit_pending_oldest_seconds`.
    pub async fn waited(db: &PgPool, now: DateTime<Utc>) -> Result<f64, sqlx::Error> {
        let waited = store::oldest_pending_at(db).await?.map_or(0.0, |at| {
            (now - at).num_milliseconds().max(0) as f64 / 1000.0
        });
        metrics::gauge!(PENDING_AGE_METRIC).set(waited);
        Ok(waited)
    }

    /// How long the oldest pending event has waited, when that is longer than allowed.
    pub async fn stalled(
        &self,
        db: &PgPool,
        now: DateTime<Utc>,
    ) -> Result<Option<f64>, sqlx::Error> {
        let waited = Self::waited(db, now).await?;
        Ok((waited > self.max_wait.as_secs_f64()).then_some(waited))
    }
}

/// Chains every pending event now (what the sequencer does over time), for tests and the final
/// flush of a stopping instance. While another sequencer holds the chain's lock it waits for it,
/// for up to 30 s; returns how many this call chained.
pub async fn chain_all_pending(db: &PgPool) -> Result<usize, sqlx::Error> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut chained = 0;
    loop {
        let n = chain_pending(db).await?;
        chained += n;
        if n == 0 {
            if store::pending_count(db).await? == 0 || tokio::time::Instant::now() > deadline {
                return Ok(chained);
            }
            // Another sequencer holds the lock: it is chaining them.
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

/// The sequencer, in every instance: every `interval`, chains what is pending. Only one
/// instance chains at a time (the chain's lock, tried, not waited for); when it dies, the next
/// one to try takes over.
pub async fn run_sequencer(
    db: PgPool,
    interval: std::time::Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        match chain_pending(&db).await {
            // A full batch: more may be waiting.
            Ok(n) if n as i64 == CHAIN_BATCH => continue,
            Ok(_) => {}
            Err(err) => crate::telemetry::log_unexpected("chaining audit events failed", &err),
        }
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            _ = shutdown.changed() => break,
        }
    }
    // Stopping: chain what this instance recorded last, if the database lets it in time.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), chain_all_pending(&db)).await;
}

/// Where the chain starts in the database: after the last archive's cut (its seq and hash),
/// or at the first event.
async fn chain_start(db: &PgPool) -> Result<ChainVerifier, sqlx::Error> {
    Ok(match store::last_cut(db).await? {
        Some((seq, head)) => ChainVerifier::after(seq, &head),
        None => ChainVerifier::default(),
    })
}

/// Where the chain holds `seq`'s hash: in the log, or (for the last archive's cut) in the cut's
/// record. Err when it was archived before the cut, or is not there.
async fn hash_at(db: &PgPool, seq: i64) -> Result<Result<String, CheckpointError>, sqlx::Error> {
    if seq == 0 {
        return Ok(Ok(GENESIS.to_owned()));
    }
    if let Some((cut, head)) = store::last_cut(db).await? {
        if seq == cut {
            return Ok(Ok(head));
        }
        if seq < cut {
            return Ok(Err(CheckpointError::Archived { seq, cut }));
        }
    }
    Ok(store::hash_of(db, seq)
        .await?
        .ok_or(CheckpointError::Missing { seq }))
}

/// Walks the whole chain (from the first event, or from the last archive's cut), and counts the
/// events not chained yet.
pub async fn verify_chain(db: &PgPool) -> Result<Verification, sqlx::Error> {
    let mut verification = walk_chain(db, chain_start(db).await?, |_| {}).await?;
    verification.pending = u64::try_from(store::pending_count(db).await?).unwrap_or(0);
    Ok(verification)
}

/// Verifies from a trusted point (a checkpoint's `seq` and `head`) to the end, reading only the
/// events after it: the event `seq` must still have the hash `head`, and every later event
/// must follow. Time grows with the events since the checkpoint, not with the log. What came
/// before the checkpoint was covered when it was verified; `verify_chain` walks it all again.
pub async fn verify_from(
    db: &PgPool,
    seq: i64,
    head: &str,
) -> Result<Result<Verification, CheckpointError>, sqlx::Error> {
    match hash_at(db, seq).await? {
        Err(problem) => return Ok(Err(problem)),
        Ok(hash) if hash != head => return Ok(Err(CheckpointError::Diverged { seq })),
        Ok(_) => {}
    }
    let mut verification = walk_chain(db, ChainVerifier::after(seq, head), |_| {}).await?;
    verification.pending = u64::try_from(store::pending_count(db).await?).unwrap_or(0);
    Ok(match verification.first_bad_seq {
        Some(bad) => Err(CheckpointError::Broken { seq: bad }),
        None => Ok(verification),
    })
}

/// `verify_from`'s answer as the API gives it: a trusted point that does not hold is a chain
/// that is not intact, named at the checkpoint's `seq` (or the first bad event after it).
pub fn as_verification(seq: i64, result: Result<Verification, CheckpointError>) -> Verification {
    result.unwrap_or_else(|problem| Verification {
        intact: false,
        from_seq: Some(seq),
        events: 0,
        head: String::new(),
        first_bad_seq: Some(match problem {
            CheckpointError::Broken { seq: bad } => bad,
            _ => seq,
        }),
        pending: 0,
        problem: Some(problem.to_string()),
    })
}

/// Walks the chain in `seq` order from where `verifier` starts, showing each event to `each`.
async fn walk_chain(
    db: &PgPool,
    mut verifier: ChainVerifier,
    mut each: impl FnMut(&AuditRow),
) -> Result<Verification, sqlx::Error> {
    let filter = AuditFilter {
        after: verifier.start_after(),
        ..AuditFilter::default()
    };
    let mut selection = store::Selection::new(&filter, None);
    let mut events = selection.stream(db);
    while let Some(row) = events.try_next().await? {
        each(&row);
        verifier.push(&row);
    }
    Ok(verifier.finish())
}

/// A checkpoint of the head for an auditor: the newest published one when it is at the head,
/// else one published now. Recorded like every read.
pub async fn checkpoint_for(
    publisher: &Publisher,
    db: &PgPool,
    auditor: &Agent,
    client: &ClientInfo,
) -> Result<Checkpoint, sqlx::Error> {
    let signed = publisher
        .publish(When::AtHead)
        .await?
        .expect("publishing at the head always gives one");
    let detail = format!("checkpoint: seq {}", signed.seq);
    record_read(db, auditor, client, detail).await?;
    Ok(signed)
}

/// An older published checkpoint for an auditor: the one at event `seq`, or the newest before
/// it; None when none was published that early. Recorded like every read.
pub async fn older_checkpoint_for(
    publisher: &Publisher,
    db: &PgPool,
    seq: i64,
    auditor: &Agent,
    client: &ClientInfo,
) -> Result<Option<Checkpoint>, sqlx::Error> {
    let found = publisher.at_or_before(seq).await?;
    let detail = format!(
        "checkpoint: asked for seq {seq}, {}",
        found
            .as_ref()
            .map_or("none".to_owned(), |c| format!("gave seq {}", c.seq))
    );
    record_read(db, auditor, client, detail).await?;
    Ok(found)
}

/// How far a verification with a checkpoint reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Walk {
    /// From the checkpoint to the end (time grows with the events since it).
    FromCheckpoint,
    /// From the first event, checking that the checkpoint's event is on the way.
    Full,
}

/// Whether the log still holds `signed`: a valid signature by `key`, the event `seq` with the
/// hash `head`, and an intact chain to its end (`walk`: read from the checkpoint, or from the
/// first event). The chain's state when it does.
pub async fn verify_checkpoint(
    db: &PgPool,
    signed: &Checkpoint,
    key: &ed25519_dalek::VerifyingKey,
    walk: Walk,
) -> Result<Result<Verification, CheckpointError>, sqlx::Error> {
    if let Err(err) = checkpoint::check_signature(signed, key) {
        return Ok(Err(err));
    }
    if walk == Walk::FromCheckpoint {
        return verify_from(db, signed.seq, &signed.head).await;
    }
    let start = chain_start(db).await?;
    let mut at_seq = match hash_at(db, signed.seq).await? {
        // Before the walk's start (0, or the cut): known without reading it.
        Ok(hash) if start.start_after().unwrap_or(0) >= signed.seq => Some(hash),
        Ok(_) => None,
        Err(problem @ CheckpointError::Archived { .. }) => return Ok(Err(problem)),
        Err(_) => None,
    };
    let verification = walk_chain(db, start, |row| {
        if row.seq == signed.seq {
            at_seq = Some(row.hash.clone());
        }
    })
    .await?;
    Ok(match at_seq {
        None => Err(CheckpointError::Missing { seq: signed.seq }),
        Some(hash) if hash != signed.head => Err(CheckpointError::Diverged { seq: signed.seq }),
        Some(_) => match verification.first_bad_seq {
            Some(seq) => Err(CheckpointError::Broken { seq }),
            None => Ok(verification),
        },
    })
}

/// A page of events for an auditor. Every query of the log is itself recorded (`audit.read`).
pub async fn read_events(
    db: &PgPool,
    auditor: &Agent,
    client: &ClientInfo,
    filter: &AuditFilter,
    limit: i64,
) -> Result<Vec<AuditRecord>, sqlx::Error> {
    // The read is recorded (its own commit) while the query runs: the answer waits for both,
    // not for one after the other.
    let detail = format!("events: {filter:?}, limit {limit}");
    let (rows, ()) = tokio::try_join!(
        store::query(db, filter, limit),
        record_read(db, auditor, client, detail)
    )?;
    Ok(rows.into_iter().map(AuditRecord::from).collect())
}

/// What the console shows an auditor at once: a page of events, the chain's state (verified
/// from the newest published checkpoint) and its head signed now.
#[derive(Debug, Clone)]
pub struct AuditView {
    pub events: Vec<AuditRecord>,
    pub verification: Verification,
    pub checkpoint: Checkpoint,
}

/// The console's view for an auditor: one read, recorded once. `walk`: verify from the newest
/// published checkpoint (what was added since), or the whole chain.
pub async fn view_for(
    publisher: &Publisher,
    db: &PgPool,
    auditor: &Agent,
    client: &ClientInfo,
    filter: &AuditFilter,
    limit: i64,
    walk: Walk,
) -> Result<AuditView, sqlx::Error> {
    let events = store::query(db, filter, limit).await?;
    let verification = match walk {
        Walk::FromCheckpoint => verify_since_newest(publisher, db).await?,
        Walk::Full => verify_chain(db).await?,
    };
    let signed = publisher
        .publish(When::AtHead)
        .await?
        .expect("publishing at the head always gives one");
    let detail = format!(
        "console: events: {filter:?}, limit {limit}; verify: intact={} events={} from={:?}; checkpoint: seq {}",
        verification.intact, verification.events, verification.from_seq, signed.seq
    );
    record_read(db, auditor, client, detail).await?;
    Ok(AuditView {
        events: events.into_iter().map(AuditRecord::from).collect(),
        verification,
        checkpoint: signed,
    })
}

/// The chain's state from the newest published checkpoint that this service's key signed (a
/// full walk when there is none): what was added since it was published.
async fn verify_since_newest(
    publisher: &Publisher,
    db: &PgPool,
) -> Result<Verification, sqlx::Error> {
    let public = publisher.signing_key().verifying_key();
    match publisher.newest().await? {
        Some(newest) if checkpoint::check_signature(&newest, &public).is_ok() => Ok(
            as_verification(newest.seq, verify_from(db, newest.seq, &newest.head).await?),
        ),
        _ => verify_chain(db).await,
    }
}

/// The chain's state for an auditor, recorded like every read.
/// `trusted`: a checkpoint's (`seq`, `head`) the auditor trusts, to verify only what came
/// after it; None walks the whole chain.
pub async fn verify_for(
    db: &PgPool,
    trusted: Option<(i64, &str)>,
    auditor: &Agent,
    client: &ClientInfo,
) -> Result<Verification, sqlx::Error> {
    let verification = match trusted {
        Some((seq, head)) => as_verification(seq, verify_from(db, seq, head).await?),
        None => verify_chain(db).await?,
    };
    let detail = format!(
        "verify: intact={} events={} from={:?}",
        verification.intact, verification.events, verification.from_seq
    );
    record_read(db, auditor, client, detail).await?;
    Ok(verification)
}

/// Records a read of the log (or of what it relies on) by `auditor`, with how they were
/// authenticated.
pub(crate) async fn record_read(
    db: &PgPool,
    auditor: &Agent,
    client: &ClientInfo,
    detail: String,
) -> Result<(), sqlx::Error> {
    let mut conn = db.acquire().await?;
    append(
        &mut conn,
        AuditEvent::new(Action::AuditRead, &auditor.actor(), Outcome::Success)
            .client(client)
            .detail(auditor.says(detail)),
    )
    .await?;
    Ok(())
}
