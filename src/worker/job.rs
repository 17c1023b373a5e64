//! What a background job is: one type per kind, implementing `Job`, registered in one line. A
//! job carries a payload of its kind's own type, stored as JSON.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

pub use crate::store::jobs::JobRow;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a run did not finish. `Transient` failures are retried with backoff until the worker
/// gives up; the source chain is kept for the log and the job's `last_error`.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("{context}")]
    Transient {
        context: &'static str,
        #[source]
        source: BoxError,
    },
    /// The database failed: the run is rolled back and the job stays due.
    #[error(transparent)]
    Store(#[from] sqlx::Error),
    /// Nothing failed, but the job cannot do its work before `until` (such as a reset whose
    /// holder's lease still runs): the run is rolled back and the job is due again then,
    /// without counting a failed attempt or backing off.
    #[error("not due before {until}: {why}")]
    NotYet {
        until: chrono::DateTime<chrono::Utc>,
        why: &'static str,
    },
}

impl JobError {
    pub fn transient(context: &'static str, source: impl Into<BoxError>) -> Self {
        Self::Transient {
            context,
            source: source.into(),
        }
    }
}

/// A failed run, as the job's `failed` hook sees it.
pub struct Failure<'a> {
    /// Failed runs so far, this one included.
    pub attempts: i32,
    /// No more runs: the worker gave up on this job.
    pub gave_up: bool,
    /// The whole error chain, as text.
    pub error: &'a str,
}

/// A queued job, as a run of its kind sees it.
pub struct Queued<P> {
    pub id: i64,
    /// The recovery the job is about, if any.
    pub recovery_id: Option<Uuid>,
    pub payload: P,
    /// Failed runs so far.
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
}

/// One kind of background job. Each run gets the job's own transaction (`conn`): what it
/// writes commits only when it returns `Ok`, so a run that fails, panics or dies leaves nothing
/// half written and can run again.
#[async_trait]
pub trait Job: Send + Sync + 'static {
    /// The name jobs of this kind are stored under.
    const KIND: &'static str;
    /// What every run is given (the service whose rules the job applies).
    type Context: Send + Sync + 'static;
    /// What a job of this kind carries (`()` for nothing), stored as JSON.
    type Payload: Serialize + DeserializeOwned + Send + Sync + 'static;
    /// Whether the worker gives up after `JOB_MAX_ATTEMPTS` failed runs. A job whose giving up
    /// would leave something half done (a reset Cognito may have applied) says `false`: it is
    /// retried, at most `MAX_RETRY_DELAY` apart, until it succeeds.
    const GIVES_UP: bool = true;

    async fn run(
        ctx: &Self::Context,
        conn: &mut PgConnection,
        job: &Queued<Self::Payload>,
    ) -> Result<(), JobError>;

    /// Records a failed run (`conn` is the queue's transaction, not the rolled-back run's).
    /// By default nothing more than the worker's own log line and the job's `last_error`.
    async fn failed(
        _ctx: &Self::Context,
        _conn: &mut PgConnection,
        _job: &Queued<Self::Payload>,
        _failure: &Failure<'_>,
    ) -> Result<(), sqlx::Error> {
        Ok(())
    }
}

/// The payload of `row` as kind `J`'s type.
fn queued<J: Job>(row: &JobRow) -> Result<Queued<J::Payload>, serde_json::Error> {
    Ok(Queued {
        id: row.id,
        recovery_id: row.recovery_id,
        payload: serde_json::from_value(row.payload.clone())?,
        attempts: row.attempts,
        created_at: row.created_at,
    })
}

type RunFn<C> =
    for<'a> fn(&'a C, &'a mut PgConnection, &'a JobRow) -> BoxFuture<'a, Result<(), JobError>>;
type FailedFn<C> = for<'a> fn(
    &'a C,
    &'a mut PgConnection,
    &'a JobRow,
    &'a Failure<'a>,
) -> BoxFuture<'a, Result<(), sqlx::Error>>;

pub(super) struct Entry<C> {
    pub run: RunFn<C>,
    pub failed: FailedFn<C>,
    pub gives_up: bool,
}

fn run_erased<'a, J: Job>(
    ctx: &'a J::Context,
    conn: &'a mut PgConnection,
    row: &'a JobRow,
) -> BoxFuture<'a, Result<(), JobError>> {
    Box::pin(async move {
        let job = queued::<J>(row).map_err(|e| {
            JobError::transient("the job's payload does not parse as its kind's", e)
        })?;
        J::run(ctx, conn, &job).await
    })
}

fn failed_erased<'a, J: Job>(
    ctx: &'a J::Context,
    conn: &'a mut PgConnection,
    row: &'a JobRow,
    failure: &'a Failure<'a>,
) -> BoxFuture<'a, Result<(), sqlx::Error>> {
    Box::pin(async move {
        match queued::<J>(row) {
            Ok(job) => J::failed(ctx, conn, &job, failure).await,
            // Its failure was that very payload: the worker's log and `last_error` say so.
            Err(_) => Ok(()),
        }
    })
}

/// The job kinds a worker runs, by name.
pub struct Registry<C> {
    entries: Vec<(&'static str, Entry<C>)>,
}

impl<C: Send + Sync + 'static> Registry<C> {
    pub fn new() -> Self {
        Self {
            entries: Vec::new(),
        }
    }

    /// Adds a job kind. Kinds are unique: registering one twice is a programming error.
    pub fn register<J: Job<Context = C>>(mut self) -> Self {
        assert!(
            self.get(J::KIND).is_none(),
            "job kind {} registered twice",
            J::KIND
        );
        self.entries.push((
            J::KIND,
            Entry {
                run: run_erased::<J>,
                failed: failed_erased::<J>,
                gives_up: J::GIVES_UP,
            },
        ));
        self
    }

    pub(super) fn get(&self, kind: &str) -> Option<&Entry<C>> {
        self.entries
            .iter()
            .find(|(name, _)| *name == kind)
            .map(|(_, entry)| entry)
    }

    pub fn kinds(&self) -> Vec<&'static str> {
        self.entries.iter().map(|(name, _)| *name).collect()
    }
}

impl<C: Send + Sync + 'static> Default for Registry<C> {
    fn default() -> Self {
        Self::new()
    }
}
