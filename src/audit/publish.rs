//! Publishing checkpoints: the chain's head is signed at least every `AUDIT_CHECKPOINT_SECONDS`
//! and as soon as `AUDIT_CHECKPOINT_EVENTS` events were chained since the last checkpoint, each
//! checkpoint naming the one before. Every one is stored (for `?seq=` and for verification from
//! the newest), written to the log and, when set, appended to `AUDIT_CHECKPOINT_FILE`: copies
//! that operators ship where the database's administrators cannot change them.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use sqlx::PgPool;

use super::checkpoint::{self, Checkpoint};
use super::GENESIS;
use crate::clock::Clock;
use crate::store::audit::{self as store, CheckpointRow};

/// The log target of published checkpoints: one line each, its JSON in the `checkpoint` field.
pub const LOG_TARGET: &str = "mfa_recovery::audit::published";
/// Counter of checkpoints this instance published.
pub const PUBLISHED_METRIC: &str = "audit_checkpoints_published_total";
/// Gauge: how long ago (seconds) the newest checkpoint was signed, by any instance
/// (deploy/prometheus's alert rule reads it).
pub const AGE_METRIC: &str = "audit_checkpoint_age_seconds";

/// How often the publisher looks whether a checkpoint is due (a cheap query).
const TICK: Duration = Duration::from_secs(1);

impl From<CheckpointRow> for Checkpoint {
    fn from(row: CheckpointRow) -> Self {
        Self {
            seq: row.seq,
            head: row.head,
            at: row.at,
            key_id: row.key_id,
            previous: Some(row.previous),
            signature: row.signature,
        }
    }
}

impl From<&Checkpoint> for CheckpointRow {
    fn from(c: &Checkpoint) -> Self {
        Self {
            seq: c.seq,
            head: c.head.clone(),
            at: c.at.clone(),
            key_id: c.key_id.clone(),
            previous: c.previous.clone().unwrap_or_default(),
            signature: c.signature.clone(),
        }
    }
}

/// When the publisher signs the head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// On its timer: when the last checkpoint is older than the interval, or enough events
    /// were chained since.
    Due,
    /// Now, unless the newest checkpoint already is at the head (an auditor asks for one).
    AtHead,
}

/// Signs, stores and publishes checkpoints.
pub struct Publisher {
    db: PgPool,
    key: SigningKey,
    every: Duration,
    events: i64,
    file: Option<PathBuf>,
    clock: Arc<dyn Clock>,
}

/// Whether a checkpoint is due at `now`, after `last`, with the chain's head at `head_seq`.
fn due(
    when: When,
    last: Option<&Checkpoint>,
    head_seq: i64,
    now: DateTime<Utc>,
    every: Duration,
    events: i64,
) -> bool {
    let Some(last) = last else { return true };
    if head_seq == last.seq && when == When::AtHead {
        return false;
    }
    let age = last.signed_at().map_or(Duration::MAX, |t| {
        (now - t).to_std().unwrap_or(Duration::ZERO)
    });
    when == When::AtHead || head_seq - last.seq >= events || age >= every
}

impl Publisher {
    pub fn new(
        db: PgPool,
        key: SigningKey,
        every: Duration,
        events: i64,
        file: Option<PathBuf>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            db,
            key,
            every,
            events,
            file,
            clock,
        }
    }

    /// The key checkpoints are signed with.
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// Signs and publishes a checkpoint of the head when one is due (`when`). Returns the newest
    /// checkpoint (the new one, or the last when none was due); None only when none is due,
    /// none exists yet, or (on the timer) another instance is publishing.
    pub async fn publish(&self, when: When) -> Result<Option<Checkpoint>, sqlx::Error> {
        let mut tx = self.db.begin().await?;
        if !store::lock_checkpoints(&mut tx, when == When::AtHead).await? {
            return Ok(None);
        }
        let last = store::last_checkpoint(&mut tx).await?.map(Checkpoint::from);
        let (seq, head) = store::last(&mut tx)
            .await?
            .unwrap_or((0, GENESIS.to_owned()));
        let now = self.clock.now();
        if let Some(signed_at) = last.as_ref().and_then(Checkpoint::signed_at) {
            let age = (now - signed_at).num_milliseconds() as f64 / 1e3;
            metrics::gauge!(AGE_METRIC).set(age.max(0.0));
        }
        if !due(when, last.as_ref(), seq, now, self.every, self.events) {
            return Ok(last);
        }
        let signed = checkpoint::sign(&self.key, seq, &head, now, last.as_ref());
        store::insert_checkpoint(&mut tx, &CheckpointRow::from(&signed)).await?;
        tx.commit().await?;
        metrics::counter!(PUBLISHED_METRIC).increment(1);
        metrics::gauge!(AGE_METRIC).set(0.0);
        self.write_out(&signed).await;
        Ok(Some(signed))
    }

    /// The log line, and the file's line when a file is set. The checkpoint is stored already:
    /// should the file not take it, the error is logged and the next checkpoint still names it
    /// (`previous`), so a reader of the file sees that one is missing; `?seq=` hands it out.
    async fn write_out(&self, signed: &Checkpoint) {
        let line = serde_json::to_string(signed).expect("a checkpoint serialises");
        tracing::info!(target: LOG_TARGET, checkpoint = %line, "audit checkpoint published");
        let Some(path) = self.file.clone() else {
            return;
        };
        if let Err(err) = super::export::append_synced_line(path, line.into_bytes()).await {
            crate::telemetry::log_unexpected("writing the audit checkpoint file failed", &err);
        }
    }

    /// The stored checkpoint at event `seq`, or the newest before it.
    pub async fn at_or_before(&self, seq: i64) -> Result<Option<Checkpoint>, sqlx::Error> {
        Ok(store::checkpoint_at_or_before(&self.db, seq)
            .await?
            .map(Checkpoint::from))
    }

    /// The newest stored checkpoint.
    pub async fn newest(&self) -> Result<Option<Checkpoint>, sqlx::Error> {
        let mut conn = self.db.acquire().await?;
        Ok(store::last_checkpoint(&mut conn)
            .await?
            .map(Checkpoint::from))
    }

    /// In every instance: looks every second whether a checkpoint is due, and publishes it (one
    /// instance at a time).
    pub async fn run(self: Arc<Self>, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        loop {
            if let Err(err) = self.publish(When::Due).await {
                crate::telemetry::log_unexpected("publishing an audit checkpoint failed", &err);
            }
            tokio::select! {
                () = tokio::time::sleep(TICK) => {}
                _ = shutdown.changed() => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_checkpoint_is_due_after_the_interval_or_enough_events_and_at_head_when_asked() {
        let key = SigningKey::from_bytes(&[5; 32]);
        let last = checkpoint::sign(&key, 100, "h", at("2026-12-01T10:00:00Z"), None);
        let every = Duration::from_secs(600);
        let due_at = |when, head, now| due(when, Some(&last), head, at(now), every, 1000);
        assert!(due(
            When::Due,
            None,
            0,
            at("2026-12-01T10:00:00Z"),
            every,
            1000
        ));
        assert!(!due_at(When::Due, 100, "2026-12-01T10:09:59Z"));
        assert!(!due_at(When::Due, 1099, "2026-12-01T10:09:59Z"));
        assert!(due_at(When::Due, 1100, "2026-12-01T10:00:01Z"));
        // On the timer even with no new event: the series shows the publisher was alive.
        assert!(due_at(When::Due, 100, "2026-12-01T10:10:00Z"));
        assert!(due_at(When::AtHead, 101, "2026-12-01T10:00:01Z"));
        assert!(!due_at(When::AtHead, 100, "2026-12-01T10:30:00Z"));
    }
}
