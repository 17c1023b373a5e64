//! The job loop: takes due jobs from Postgres (FOR UPDATE SKIP LOCKED, so any number of loops in
//! any number of instances share one queue) and runs them through the recovery rules.

use std::sync::Arc;

use tokio::sync::watch;

use crate::recovery::RecoveryService;
use crate::telemetry::log_unexpected;

pub async fn run(service: Arc<RecoveryService>, mut shutdown: watch::Receiver<bool>) {
    let wakeup = service.wakeup();
    loop {
        if *shutdown.borrow() {
            break;
        }
        match service.run_next_job().await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(err) => log_unexpected("the job loop could not run a job", &err),
        }
        tokio::select! {
            () = wakeup.notified() => {}
            () = tokio::time::sleep(service.job_poll_interval()) => {}
            _ = shutdown.changed() => break,
        }
    }
}

/// Retention: purges expired code hashes every `retention_interval`, in every instance (the
/// purge is one idempotent UPDATE).
pub async fn run_retention(service: Arc<RecoveryService>, mut shutdown: watch::Receiver<bool>) {
    loop {
        match service.purge_expired_codes().await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "expired code hashes purged"),
            Err(err) => log_unexpected("the retention purge failed", &err),
        }
        tokio::select! {
            () = tokio::time::sleep(service.retention_interval()) => {}
            _ = shutdown.changed() => break,
        }
    }
}
