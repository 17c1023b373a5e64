//! Settings of the job queue and the background loops.

use super::*;

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    pub poll_interval: Duration,
    pub job_max_attempts: u32,
    pub retry_base: Duration,
    /// How often expired code hashes are purged.
    pub retention_interval: Duration,
    /// How often the sequencer chains recorded audit events: the longest an event waits to be
    /// chained, give or take one batch.
    pub audit_chain_interval: Duration,
    /// An event waiting longer than this to be chained makes `/readyz` say not ready.
    pub audit_pending_max: Duration,
    /// Finished jobs are deleted this long after they finished.
    pub job_retention: Duration,
    /// Recoveries that are over are deleted this long after (the audit log keeps their story).
    pub recovery_retention: Duration,
}

#[derive(Deserialize)]
pub(super) struct RawWorker {
    worker_poll_interval_ms: u64,
    job_max_attempts: u32,
    job_retry_base_seconds: u64,
    retention_interval_seconds: u64,
    audit_chain_interval_ms: u64,
    audit_pending_max_seconds: u64,
    job_retention_days: u64,
    recovery_retention_days: u64,
}

impl TryFrom<RawWorker> for WorkerSettings {
    type Error = SettingsError;

    fn try_from(raw: RawWorker) -> Result<Self, SettingsError> {
        Ok(Self {
            poll_interval: Duration::from_millis(at_least(
                "WORKER_POLL_INTERVAL_MS",
                raw.worker_poll_interval_ms,
                10,
            )?),
            job_max_attempts: at_least("JOB_MAX_ATTEMPTS", raw.job_max_attempts, 1)?,
            retry_base: Duration::from_secs(raw.job_retry_base_seconds),
            retention_interval: Duration::from_secs(at_least(
                "RETENTION_INTERVAL_SECONDS",
                raw.retention_interval_seconds,
                1,
            )?),
            audit_chain_interval: Duration::from_millis(at_least(
                "AUDIT_CHAIN_INTERVAL_MS",
                raw.audit_chain_interval_ms,
                10,
            )?),
            audit_pending_max: Duration::from_secs(at_least(
                "AUDIT_PENDING_MAX_SECONDS",
                raw.audit_pending_max_seconds,
                5,
            )?),
            job_retention: days(at_least("JOB_RETENTION_DAYS", raw.job_retention_days, 1)?),
            recovery_retention: days(at_least(
                "RECOVERY_RETENTION_DAYS",
                raw.recovery_retention_days,
                2,
            )?),
        })
    }
}

fn days(n: u64) -> Duration {
    Duration::from_secs(n * 24 * 3600)
}
