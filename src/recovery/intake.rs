//! Public requests are written in batches. A request waits only while the batch before it is
//! written; the requests that arrived meanwhile then go together, in one statement: one round
//! trip and one commit for all of them, instead of one each (PostgreSQL's cost per statement
//! and per commit, and most of its WAL flushes, are shared). A lone request goes at once, alone:
//! batches grow only with the load. Each request's writes are those it would make alone
//! (`add_requests`), written only when its own count against its client address is within the
//! limit, so a batch changes when requests are written, never what is written.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot, Mutex};

use super::limits::ClientCount;
use super::request::{add_requests, Prepared};
use super::RequestError;
use crate::store::limits::Hit;
use crate::store::{self, Writes};

/// Requests written in one statement at most (each binds about 25 parameters).
const MAX_BATCH: usize = 64;
/// Batches written at once: while one commits, the next is gathered and sent.
const WRITERS: usize = 2;
/// Requests waiting for a writer at most; past that, a request waits to be queued.
const QUEUE: usize = 4096;

/// A request's count against its client address once written (`None`: not counted).
type Written = Result<Option<Hit>, RequestError>;
type Item = (Prepared, oneshot::Sender<Written>);

pub(super) struct Intake {
    queue: mpsc::Sender<Item>,
}

/// What the writers take requests from: the channel, and requests held back from a batch that
/// already counts against the same client address (one statement cannot count one key twice).
struct Queue {
    incoming: mpsc::Receiver<Item>,
    held: VecDeque<Item>,
}

impl Intake {
    /// Starts the writers (on the current Tokio runtime).
    pub fn start(db: PgPool) -> Self {
        let (queue, incoming) = mpsc::channel(QUEUE);
        let shared = Arc::new(Mutex::new(Queue {
            incoming,
            held: VecDeque::new(),
        }));
        for _ in 0..WRITERS {
            tokio::spawn(writer(db.clone(), Arc::clone(&shared)));
        }
        Self { queue }
    }

    /// Whether the writers are there to take requests (they stop only with the runtime).
    pub fn is_open(&self) -> bool {
        !self.queue.is_closed()
    }

    /// Writes the request (with whichever others are waiting) and returns its count against its
    /// client address.
    pub async fn write(&self, prepared: Prepared) -> Written {
        let (reply, written) = oneshot::channel();
        self.queue
            .send((prepared, reply))
            .await
            .map_err(|_| RequestError::Store(sqlx::Error::WorkerCrashed))?;
        written
            .await
            .map_err(|_| RequestError::Store(sqlx::Error::WorkerCrashed))?
    }
}

fn key(item: &Item) -> Option<&str> {
    item.0.count.as_ref().map(|c| c.key.as_str())
}

async fn writer(db: PgPool, queue: Arc<Mutex<Queue>>) {
    use futures::FutureExt;
    while let Some(batch) = next_batch(&queue).await {
        // A fault in one batch must not take the writer with it: that batch's requests are
        // answered 503 (their replies dropped), the next batch is written as usual.
        if std::panic::AssertUnwindSafe(write(&db, batch))
            .catch_unwind()
            .await
            .is_err()
        {
            tracing::error!("writing a batch of requests panicked; its requests were answered 503");
        }
    }
}

/// The next batch: a held request or the next to arrive, then (without waiting) whatever else
/// is there, up to `MAX_BATCH`, at most one per client address. `None` once the service stops.
async fn next_batch(queue: &Mutex<Queue>) -> Option<Vec<Item>> {
    let mut queue = queue.lock().await;
    let first = match queue.held.pop_front() {
        Some(item) => item,
        None => queue.incoming.recv().await?,
    };
    let mut keys: HashSet<String> = key(&first).map(str::to_owned).into_iter().collect();
    let mut batch = vec![first];
    let mut still_held = VecDeque::new();
    while let Some(item) = queue.held.pop_front() {
        if batch.len() < MAX_BATCH && key(&item).is_none_or(|k| keys.insert(k.to_owned())) {
            batch.push(item);
        } else {
            still_held.push_back(item);
        }
    }
    while batch.len() < MAX_BATCH {
        let Ok(item) = queue.incoming.try_recv() else {
            break;
        };
        if key(&item).is_none_or(|k| keys.insert(k.to_owned())) {
            batch.push(item);
        } else {
            still_held.push_back(item);
        }
    }
    queue.held = still_held;
    Some(batch)
}

/// Writes the batch and answers each request. If the database cannot be reached, each is
/// told so; if the statement failed for another reason, each request is written alone, so
/// that one request's fault fails only that request.
async fn write(db: &PgPool, batch: Vec<Item>) {
    metrics::histogram!("intake_batch_size").record(batch.len() as f64);
    let (prepared, replies): (Vec<Prepared>, Vec<_>) = batch.into_iter().unzip();
    let mut written = write_together(db, &prepared).await;
    // Counters are locked in one order, so a deadlock should not happen; should one happen
    // anyway (another writer of the same rows), the batch is tried once more, as a batch.
    if written.as_ref().is_err_and(deadlocked) {
        metrics::counter!("intake_deadlocks_total").increment(1);
        tracing::warn!("a batch of requests met a deadlock; writing it again");
        written = write_together(db, &prepared).await;
    }
    match written {
        Ok(hits) => {
            for (reply, hit) in replies.into_iter().zip(hits) {
                let _ = reply.send(Ok(hit));
            }
        }
        Err(err) if prepared.len() == 1 => {
            let _ = replies.into_iter().next().map(|reply| reply.send(Err(err)));
        }
        Err(err) if unavailable(&err) => {
            for reply in replies {
                let _ = reply.send(Err(told_again(&err)));
            }
        }
        Err(err) => {
            tracing::warn!(error = %err, requests = prepared.len(), "a batch of requests failed; writing each alone");
            for (one, reply) in prepared.chunks(1).zip(replies) {
                let written = write_together(db, one).await.map(|mut hits| hits.remove(0));
                let _ = reply.send(written);
            }
        }
    }
}

/// Whether PostgreSQL aborted the batch to break a deadlock (SQLSTATE 40P01).
fn deadlocked(err: &RequestError) -> bool {
    match err {
        RequestError::LimitsUnavailable(sqlx::Error::Database(e))
        | RequestError::Store(sqlx::Error::Database(e)) => e.code().as_deref() == Some("40P01"),
        _ => false,
    }
}

/// Whether the database could not be reached (for the whole batch, not one request).
fn unavailable(err: &RequestError) -> bool {
    match err {
        RequestError::LimitsUnavailable(e) | RequestError::Store(e) => store::unavailable(e),
        _ => false,
    }
}

/// The batch's failure, for one more of its requests.
fn told_again(err: &RequestError) -> RequestError {
    let again = sqlx::Error::Io(std::io::Error::other(format!(
        "writing a batch of requests: {err}"
    )));
    match err {
        RequestError::LimitsUnavailable(_) => RequestError::LimitsUnavailable(again),
        _ => RequestError::Store(again),
    }
}

/// Writes the requests in one transaction: their counts against their client addresses in one
/// statement, then those within their limits (recovery, job and audit event) in another. Each
/// one's count, in order.
async fn write_together(
    db: &PgPool,
    prepared: &[Prepared],
) -> Result<Vec<Option<Hit>>, RequestError> {
    let mut tx = db.begin().await.map_err(RequestError::LimitsUnavailable)?;
    let counts: Vec<&ClientCount> = prepared.iter().filter_map(|p| p.count.as_ref()).collect();
    // Failing to count is failing closed: the request is refused (503), not waved through.
    // Counted in the window of the batch's latest request (a batch forms within milliseconds).
    let now = prepared
        .iter()
        .map(|p| p.at)
        .max()
        .unwrap_or_else(chrono::Utc::now);
    let counted = ClientCount::count_each(&mut tx, now, &counts)
        .await
        .map_err(RequestError::LimitsUnavailable)?;
    let hits: Vec<Option<Hit>> = prepared
        .iter()
        .map(|p| p.count.as_ref().and_then(|c| counted.get(&c.key).copied()))
        .collect();
    let within: Vec<&Prepared> = prepared
        .iter()
        .zip(&hits)
        .filter(|(p, hit)| match (&p.count, hit) {
            (None, _) => true,
            (Some(count), Some(hit)) => count.within(hit),
            (Some(_), None) => false,
        })
        .map(|(p, _)| p)
        .collect();
    if !within.is_empty() {
        let mut writes = Writes::default();
        add_requests(&mut writes, &within, now);
        writes.execute(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(hits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_intake_is_closed_once_its_writers_are_gone() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let intake = runtime.block_on(async {
            let db = PgPool::connect_lazy("postgres://nobody@127.0.0.1:1/none").unwrap();
            Intake::start(db)
        });
        assert!(intake.is_open());
        // The writers end with their runtime (as when every one of them has died).
        drop(runtime);
        assert!(!intake.is_open());
    }
}
