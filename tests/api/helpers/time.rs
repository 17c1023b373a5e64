//! Time and waiting: the service's clock moved, due jobs run, and the one place tests wait (on a condition).

use super::*;

/// How often `eventually` looks again.
const POLL: Duration = Duration::from_millis(20);

/// Looks (every 20 ms, up to `limit`) until `check` gives a value, and returns it; `None` if it
/// never did. With `within_blocking`, the one place the tests wait: always for something another
/// task or process does (a job loop, the binary, the browser), never for time to pass (tests
/// `advance` the service's clock for that).
pub async fn within<T, F, Fut>(limit: Duration, check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    within_every(limit, POLL, check).await
}

/// `within`, looking every `every`: a person trying again, who does not retry every 20 ms.
pub async fn within_every<T, F, Fut>(limit: Duration, every: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(every).await;
    }
}

/// `within`, for code that cannot await (a child process's exit).
pub fn within_blocking<T>(limit: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(value) = check() {
            return Some(value);
        }
        if std::time::Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(POLL);
    }
}

/// `within`, and a failure naming `what` if `check` never gave a value.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    within(limit, check)
        .await
        .unwrap_or_else(|| panic!("{what}: not within {limit:?}"))
}

impl TestApp {
    /// Time passes for the service (its rules and its job queue) without the test waiting.
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// Runs every job due by now, here (as Zero To Production's `dispatch_all_pending_emails`);
    /// a job that a background loop of the service holds is waited for. A job scheduled for
    /// later (a retry, a reset after its waiting period) is not due and not run.
    /// One round of the retention loop's row purge, with the service's settings (what the loop
    /// does every RETENTION_INTERVAL_SECONDS); returns how many rows it deleted.
    pub async fn purge_old_rows(&self) -> u64 {
        let settings = self.worker.settings();
        self.worker
            .context()
            .purge_old_rows(settings.job_retention, settings.recovery_retention)
            .await
            .expect("the purge runs")
    }

    pub async fn run_pending_jobs(&self) {
        // A job held by one of the service's own loops finishes soon: wait for it.
        eventually("the due jobs finish", Duration::from_secs(20), || async {
            self.worker.run_pending_jobs().await.expect("jobs run");
            (due_jobs(&self.db, self.clock.now()).await == 0).then_some(())
        })
        .await;
    }

    /// Moves every queued job's due time to now (a reset after its waiting period, a retry
    /// after its backoff) and runs them: time passes without the test sleeping.
    /// Time passes: every job is due, and every waiting period is over.
    pub async fn run_jobs_scheduled_for_later(&self) {
        sqlx::query("UPDATE jobs SET run_at = now() WHERE finished_at IS NULL")
            .execute(&self.db)
            .await
            .unwrap();
        sqlx::query("UPDATE recoveries SET reset_at = now() WHERE reset_at > now()")
            .execute(&self.db)
            .await
            .unwrap();
        self.run_pending_jobs().await;
    }

    /// Lets every issued code expire now, as if its lifetime had passed.
    pub async fn expire_codes(&self) {
        sqlx::query("UPDATE recoveries SET expires_at = now() - interval '1 second'")
            .execute(&self.db)
            .await
            .unwrap();
    }
}

/// Jobs due by `now` that have not finished (running ones included).
async fn due_jobs(db: &PgPool, now: chrono::DateTime<chrono::Utc>) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM jobs WHERE finished_at IS NULL AND run_at <= $1")
        .bind(now)
        .fetch_one(db)
        .await
        .unwrap()
}

/// Waits (up to 20 s) until the jobs due in `db` are done: for a database whose jobs another
/// process (a `RunningBinary`, on the system's clock) runs.
pub async fn wait_until_jobs_done(db: &PgPool) {
    eventually(
        "the binary's due jobs finish",
        Duration::from_secs(20),
        || async { (due_jobs(db, chrono::Utc::now()).await == 0).then_some(()) },
    )
    .await;
}

/// Waits (up to 20 s) until every job in `db` has finished, those due later included: once it
/// has, nothing more can happen on its own (every email and every step is a job).
pub async fn wait_until_every_job_finished(db: &PgPool) {
    eventually("every job finishes", Duration::from_secs(20), || async {
        let open: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs WHERE finished_at IS NULL")
            .fetch_one(db)
            .await
            .unwrap();
        (open == 0).then_some(())
    })
    .await;
}
