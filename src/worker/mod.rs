//! The Postgres-backed job queue: takes due jobs (FOR UPDATE SKIP LOCKED, so any number of
//! loops in any number of instances share one queue), runs each through its registered `Job`,
//! and owns retries with exponential backoff and giving up. The recovery rules the jobs apply
//! live in `crate::recovery`.

mod job;
mod liveness;

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::FutureExt;
use sqlx::{Acquire, PgConnection, PgPool};
use tokio::sync::{watch, Notify};
use uuid::Uuid;

pub use job::{Failure, Job, JobError, JobRow, Queued, Registry};
pub use liveness::Liveness;

use crate::clock::{Clock, SystemClock};
use crate::settings::WorkerSettings;
use crate::store::jobs::{self, JobEnd};
use crate::store::Writes;
use crate::telemetry::{error_chain, log_unexpected};

/// Queues a job of kind `J` for the recovery, due now, in the caller's transaction.
pub async fn enqueue<J: Job<Payload = ()>>(
    conn: &mut PgConnection,
    recovery_id: Uuid,
) -> Result<(), sqlx::Error> {
    enqueue_at::<J>(conn, recovery_id, Utc::now()).await
}

/// Adds the queuing of a job of kind `J` for each recovery, due now, to `writes`.
pub fn enqueue_with<J: Job<Payload = ()>>(writes: &mut Writes<'_>, recovery_ids: Vec<Uuid>) {
    let about = recovery_ids.into_iter().map(Some).collect();
    jobs::enqueue_with(writes, J::KIND, about, serde_json::Value::Null, Utc::now());
}

/// Queues a job of kind `J` for the recovery that is not due before `run_at`.
pub async fn enqueue_at<J: Job<Payload = ()>>(
    conn: &mut PgConnection,
    recovery_id: Uuid,
    run_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    enqueue_payload::<J>(conn, Some(recovery_id), &(), run_at).await
}

/// Queues a job of kind `J` carrying `payload`, about a recovery or none, not due before
/// `run_at`, in the caller's transaction.
pub async fn enqueue_payload<J: Job>(
    conn: &mut PgConnection,
    about: Option<Uuid>,
    payload: &J::Payload,
    run_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let payload = serde_json::to_value(payload).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    jobs::enqueue(conn, J::KIND, about, payload, run_at).await
}

/// Moves the open job of kind `J` for the recovery to `run_at`.
pub async fn reschedule<J: Job>(
    conn: &mut PgConnection,
    recovery_id: Uuid,
    run_at: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    jobs::reschedule(conn, J::KIND, recovery_id, run_at).await
}

pub struct Worker<C> {
    db: PgPool,
    ctx: Arc<C>,
    registry: Registry<C>,
    kinds: Vec<&'static str>,
    settings: WorkerSettings,
    /// Notified when a job is queued in this instance, so that an idle loop starts at once.
    wakeup: Arc<Notify>,
    /// When a job is due, and when a failed one runs again, is read from it.
    clock: Arc<dyn Clock>,
    /// Kinds that may run on at most so many of this instance's loops at once, and how many
    /// run now: work that waits (for a call budget, say) never holds every loop.
    limits: std::sync::Mutex<Vec<(&'static str, usize, usize)>>,
}

/// Gives a limited kind's slot back when its run ends, however it ends.
struct Slot<'a, C> {
    worker: &'a Worker<C>,
    kind: Option<&'static str>,
}

impl<C> Drop for Slot<'_, C> {
    fn drop(&mut self) {
        if let Some(kind) = self.kind {
            let mut limits = self.worker.limits.lock().expect("not poisoned");
            if let Some(entry) = limits.iter_mut().find(|(k, _, _)| *k == kind) {
                entry.2 -= 1;
            }
        }
    }
}

impl<C: Send + Sync + 'static> Worker<C> {
    /// What its jobs run against (the recovery service).
    pub fn context(&self) -> &C {
        &self.ctx
    }

    pub fn settings(&self) -> &WorkerSettings {
        &self.settings
    }

    pub fn new(
        db: PgPool,
        ctx: Arc<C>,
        registry: Registry<C>,
        settings: WorkerSettings,
        wakeup: Arc<Notify>,
    ) -> Self {
        let kinds = registry.kinds();
        Self {
            db,
            ctx,
            registry,
            kinds,
            settings,
            wakeup,
            clock: Arc::new(SystemClock),
            limits: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Jobs of `kind` run on at most `at_once` loops of this instance at a time (at least one).
    #[must_use]
    pub fn limit(self, kind: &'static str, at_once: usize) -> Self {
        self.limits
            .lock()
            .expect("not poisoned")
            .push((kind, at_once.max(1), 0));
        self
    }

    /// The kinds this loop may take now, a slot of each limited one reserved (a limited kind
    /// at its limit is left out); `keep` gives back all but the taken kind's.
    fn takeable(&self) -> (Vec<&'static str>, Vec<Slot<'_, C>>) {
        let mut limits = self.limits.lock().expect("not poisoned");
        let mut reserved = Vec::new();
        let kinds = self
            .kinds
            .iter()
            .copied()
            .filter(|kind| match limits.iter_mut().find(|(k, _, _)| k == kind) {
                None => true,
                Some(entry) if entry.2 >= entry.1 => false,
                Some(entry) => {
                    entry.2 += 1;
                    reserved.push(Slot {
                        worker: self,
                        kind: Some(entry.0),
                    });
                    true
                }
            })
            .collect();
        (kinds, reserved)
    }

    /// Jobs come due by `clock` (tests move it instead of sleeping).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Runs the oldest due job, if any; returns whether there was one. The job row stays
    /// locked for the whole run, so each job runs on one worker of one instance at a time; a
    /// crash rolls the run back and the job runs again. A run that panics is a failed run like
    /// any other (rolled back, retried with backoff, given up on as its kind says): it never
    /// ends the loop that ran it.
    pub async fn run_next_job(&self) -> Result<bool, sqlx::Error> {
        let mut tx = self.db.begin().await?;
        let (kinds, mut reserved) = self.takeable();
        let Some(job) = jobs::take_due(&mut tx, self.clock.now(), &kinds).await? else {
            return Ok(false);
        };
        // The taken kind's slot is held until the run ends; the others go back now.
        reserved.retain(|slot| slot.kind == Some(job.kind.as_str()));
        let entry = self
            .registry
            .get(&job.kind)
            .expect("only registered kinds are taken");
        let span = tracing::info_span!("job", job_id = job.id, kind = %job.kind, recovery_id = ?job.recovery_id);
        let outcome = {
            let mut attempt = tx.begin().await?;
            let run = AssertUnwindSafe((entry.run)(&self.ctx, &mut attempt, &job)).catch_unwind();
            match tracing::Instrument::instrument(run, span).await {
                Ok(Ok(())) => attempt.commit().await.map_err(JobError::from),
                Ok(Err(err)) => {
                    attempt.rollback().await?;
                    Err(err)
                }
                Err(panic) => {
                    attempt.rollback().await?;
                    Err(JobError::transient(
                        "the job panicked",
                        Panicked::from(panic),
                    ))
                }
            }
        };
        match outcome {
            Ok(()) => jobs::finish(&mut tx, job.id, JobEnd::Done).await?,
            Err(JobError::Store(err)) => return Err(err),
            Err(err @ JobError::Transient { .. }) => self.job_failed(&mut tx, &job, &err).await?,
            Err(JobError::NotYet { until, why }) => {
                // Never earlier than a second from now, so that a job cannot spin.
                let until = until.max(self.clock.now() + chrono::Duration::seconds(1));
                tracing::debug!(job_id = job.id, kind = %job.kind, recovery_id = ?job.recovery_id, %until, why, "job not due yet");
                jobs::due_at(&mut tx, job.id, until).await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Runs jobs until none is due (tests use it, as Zero To Production's
    /// `dispatch_all_pending_emails`); returns how many ran.
    pub async fn run_pending_jobs(&self) -> Result<usize, sqlx::Error> {
        let mut ran = 0;
        while self.run_next_job().await? {
            ran += 1;
        }
        Ok(ran)
    }

    /// Schedules a retry with exponential backoff and jitter, or gives up after the configured
    /// number of attempts (unless the job's kind never gives up); either way the job's own
    /// `failed` records it. Nothing is dropped silently.
    async fn job_failed(
        &self,
        conn: &mut PgConnection,
        job: &JobRow,
        err: &JobError,
    ) -> Result<(), sqlx::Error> {
        let attempts = job.attempts + 1;
        let gives_up = self
            .registry
            .get(&job.kind)
            .is_none_or(|entry| entry.gives_up);
        let gave_up = gives_up
            && u32::try_from(attempts).unwrap_or(u32::MAX) >= self.settings.job_max_attempts;
        let error = error_chain(err);
        if gave_up {
            tracing::error!(job_id = job.id, kind = %job.kind, recovery_id = ?job.recovery_id, attempts, %error, "job failed for good");
            jobs::finish(conn, job.id, JobEnd::GaveUp).await?;
        } else {
            let delay = retry_delay(self.settings.retry_base, attempts);
            tracing::warn!(job_id = job.id, kind = %job.kind, recovery_id = ?job.recovery_id, attempts, retry_in_seconds = delay, %error, "job failed; will retry");
            jobs::retry_later(conn, self.clock.now(), job.id, delay, &error).await?;
        }
        let entry = self
            .registry
            .get(&job.kind)
            .expect("only registered kinds are taken");
        let failure = Failure {
            attempts,
            gave_up,
            error: &error,
        };
        (entry.failed)(&self.ctx, conn, job, &failure).await
    }

    /// The job loop: runs due jobs, then waits for a wakeup or the poll interval.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                break;
            }
            match self.run_next_job().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(err) => log_unexpected("the job loop could not run a job", &err),
            }
            tokio::select! {
                () = self.wakeup.notified() => {}
                () = tokio::time::sleep(self.settings.poll_interval) => {}
                _ = shutdown.changed() => break,
            }
        }
    }
}

/// What a run that panicked said.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Panicked(String);

impl From<Box<dyn std::any::Any + Send>> for Panicked {
    fn from(panic: Box<dyn std::any::Any + Send>) -> Self {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_owned());
        Self(message)
    }
}

/// The longest wait between two runs of a failing job.
pub const MAX_RETRY_DELAY: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Seconds before the next run of a job that failed `attempts` times: `base` doubled per failed
/// run, at most `MAX_RETRY_DELAY`, then a random part of it taken off (between none and half),
/// so that jobs that failed together (an outage) do not all retry at the same moment.
pub fn retry_delay(base: std::time::Duration, attempts: i32) -> f64 {
    let doubled = base.as_secs_f64() * 2f64.powi((attempts - 1).clamp(0, 30));
    let capped = doubled.min(MAX_RETRY_DELAY.as_secs_f64());
    capped * (1.0 - rand::random::<f64>() / 2.0)
}

/// Runs `task` every `interval` until shutdown, in every instance (it must be idempotent),
/// logging what it did and any failure.
pub async fn every<F, Fut>(
    what: &'static str,
    interval: std::time::Duration,
    mut shutdown: watch::Receiver<bool>,
    task: F,
) where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<u64, sqlx::Error>>,
{
    loop {
        match task().await {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, "{what}"),
            Err(err) => log_unexpected(what, &err),
        }
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            _ = shutdown.changed() => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{retry_delay, MAX_RETRY_DELAY};

    #[test]
    fn retries_back_off_doubling_with_jitter_and_never_wait_longer_than_the_cap() {
        let base = Duration::from_secs(5);
        for attempts in 1..=40 {
            let full = (5.0 * 2f64.powi(attempts - 1)).min(MAX_RETRY_DELAY.as_secs_f64());
            for _ in 0..50 {
                let delay = retry_delay(base, attempts);
                assert!(
                    delay > full / 2.0 - 1e-9 && delay <= full,
                    "{attempts}: {delay}"
                );
            }
        }
        // Jitter: two jobs that failed together do not come back at the same moment.
        let delays: Vec<f64> = (0..20).map(|_| retry_delay(base, 3)).collect();
        assert!(delays.iter().any(|d| (d - delays[0]).abs() > 1e-6));
    }
}
