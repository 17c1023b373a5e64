//! The audit stream: every chained event, as OCSF JSON (`ocsf`), delivered to each configured
//! destination (a Standard Webhooks endpoint, a JSON-lines file) at least once and in chain
//! order. Each destination has a durable cursor (`audit_deliveries`); one instance at a time
//! serves it (the cursor's row lock); a failed delivery is tried again, the same event first,
//! after a delay that doubles up to 15 minutes. The port (`EventSink`) has one adapter per kind
//! of destination in `crate::siem`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::{AuditFilter, AuditRecord};
use crate::clock::Clock;
use crate::store::{audit as events, deliveries};

/// Events delivered per destination per turn (one transaction holds the cursor meanwhile).
const BATCH: i64 = 100;
/// How often the stream looks for new events.
const TICK: Duration = Duration::from_millis(500);
/// The first retry's delay; it doubles per failure, up to the job queue's cap (15 min).
const RETRY_BASE: Duration = Duration::from_secs(1);

/// Metric names (label `destination`: the destination's kind).
pub const LAG_EVENTS_METRIC: &str = "audit_stream_lag_events";
pub const LAG_SECONDS_METRIC: &str = "audit_stream_lag_seconds";
pub const DELIVERED_METRIC: &str = "audit_stream_delivered_total";
pub const FAILURES_METRIC: &str = "audit_stream_failures_total";

/// Why a delivery failed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SinkError(pub String);

/// One message of the stream.
pub struct Message<'a> {
    /// Unique per event and stable across retries, so that a receiver can drop duplicates.
    pub id: &'a str,
    /// The event as OCSF JSON.
    pub body: &'a [u8],
    /// When it is sent (the service's clock).
    pub at: DateTime<Utc>,
}

/// A destination of the stream.
#[async_trait]
pub trait EventSink: Send + Sync + 'static {
    /// The cursor's key: stable for the same destination, with nothing secret in it.
    fn destination(&self) -> &str;
    /// Its kind, for metrics and logs (`webhook`, `file`).
    fn kind(&self) -> &'static str;
    /// Delivers one message; Ok only once the destination has it.
    async fn deliver(&self, message: &Message<'_>) -> Result<(), SinkError>;
}

/// The message id of an event: its `seq` and the start of its hash.
pub fn message_id(record: &AuditRecord) -> String {
    format!(
        "evt_{}_{}",
        record.seq,
        &record.hash[..record.hash.len().min(16)]
    )
}

/// Delivers the stream to its destinations.
pub struct Stream {
    db: PgPool,
    sinks: Vec<Arc<dyn EventSink>>,
    clock: Arc<dyn Clock>,
}

impl Stream {
    pub fn new(db: PgPool, sinks: Vec<Arc<dyn EventSink>>, clock: Arc<dyn Clock>) -> Self {
        Self { db, sinks, clock }
    }

    pub fn is_empty(&self) -> bool {
        self.sinks.is_empty()
    }

    /// One turn for every destination: delivers up to a batch of the events after its cursor,
    /// unless it waits after a failure or another instance serves it. Returns how many were
    /// delivered.
    pub async fn deliver_due(&self) -> Result<usize, sqlx::Error> {
        let mut delivered = 0;
        for sink in &self.sinks {
            delivered += self.turn(sink.as_ref()).await?;
        }
        Ok(delivered)
    }

    async fn turn(&self, sink: &dyn EventSink) -> Result<usize, sqlx::Error> {
        let kind = sink.kind();
        let mut tx = self.db.begin().await?;
        let Some(cursor) = deliveries::lock(&mut tx, sink.destination()).await? else {
            return Ok(0);
        };
        let now = self.clock.now();
        if cursor.next_attempt_at.is_some_and(|at| at > now) {
            return Ok(0);
        }
        let filter = AuditFilter {
            after: Some(cursor.delivered_seq),
            ..AuditFilter::default()
        };
        let batch: Vec<AuditRecord> = events::query(&self.db, &filter, BATCH)
            .await?
            .into_iter()
            .map(AuditRecord::from)
            .collect();
        let mut delivered_seq = cursor.delivered_seq;
        let mut failure = None;
        for record in &batch {
            let body =
                serde_json::to_vec(&super::ocsf::event(record)).expect("JSON values serialise");
            let id = message_id(record);
            let message = Message {
                id: &id,
                body: &body,
                at: self.clock.now(),
            };
            match sink.deliver(&message).await {
                Ok(()) => {
                    delivered_seq = record.seq;
                    metrics::counter!(DELIVERED_METRIC, "destination" => kind).increment(1);
                }
                Err(err) => {
                    metrics::counter!(FAILURES_METRIC, "destination" => kind).increment(1);
                    let attempts = cursor.attempts.saturating_add(1);
                    let delay = crate::worker::retry_delay(RETRY_BASE, attempts);
                    let next = now + chrono::Duration::milliseconds((delay * 1000.0) as i64);
                    tracing::warn!(
                        destination = kind,
                        seq = record.seq,
                        attempts,
                        retry_in_seconds = delay,
                        error = %err,
                        "audit stream delivery failed; it is tried again"
                    );
                    failure = Some((attempts, next, err.0));
                    break;
                }
            }
        }
        let delivered = usize::try_from(delivered_seq - cursor.delivered_seq).unwrap_or(0);
        if delivered > 0 || failure.is_some() {
            let failure = failure
                .as_ref()
                .map(|(attempts, next, error)| (*attempts, *next, error.as_str()));
            deliveries::record(&mut tx, sink.destination(), delivered_seq, failure).await?;
        }
        tx.commit().await?;
        self.measure_lag(kind, delivered_seq).await?;
        Ok(delivered)
    }

    /// How far the destination is behind the chain: events, and seconds since the oldest event
    /// it does not have yet was recorded.
    async fn measure_lag(&self, kind: &'static str, delivered_seq: i64) -> Result<(), sqlx::Error> {
        let mut conn = self.db.acquire().await?;
        let head = events::last(&mut conn).await?.map_or(0, |(seq, _)| seq);
        let oldest = events::at_of(&self.db, delivered_seq + 1).await?;
        let seconds = oldest.map_or(0.0, |at| {
            (self.clock.now() - at).num_milliseconds().max(0) as f64 / 1000.0
        });
        metrics::gauge!(LAG_EVENTS_METRIC, "destination" => kind)
            .set((head - delivered_seq).max(0) as f64);
        metrics::gauge!(LAG_SECONDS_METRIC, "destination" => kind).set(seconds);
        Ok(())
    }

    /// In every instance, while destinations are configured: a turn every half second, more at
    /// once while there is a backlog.
    pub async fn run(self: Arc<Self>, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        loop {
            let busy = match self.deliver_due().await {
                Ok(n) => n > 0,
                Err(err) => {
                    crate::telemetry::log_unexpected("delivering the audit stream failed", &err);
                    false
                }
            };
            if busy && !*shutdown.borrow() {
                continue;
            }
            tokio::select! {
                () = tokio::time::sleep(TICK) => {}
                _ = shutdown.changed() => break,
            }
        }
    }
}
