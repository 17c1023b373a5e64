//! The background jobs of a recovery, one file per kind. Adding a kind: a file here implementing
//! `RecoveryJob` (the recovery it works on, and the audit action of a failed run), and one line
//! in `registry`. A job about no recovery implements `worker::Job` itself, with a payload.

mod apply_reset;
mod end_enrollment;
mod finish_reset;
mod guessing_notice;
mod issue_code;
mod lock_notice;
mod look_up;
mod passkeys_notice;
mod reset_notice;
mod text_notice;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

pub use apply_reset::ApplyReset;
pub use end_enrollment::EndEnrollment;
pub use finish_reset::FinishReset;
pub use guessing_notice::GuessingNotice;
pub use issue_code::IssueCode;
pub use lock_notice::LockNotice;
pub use look_up::LookUp;
pub use passkeys_notice::PasskeysNotice;
pub use reset_notice::ResetNotice;
pub use text_notice::TextNotice;

use super::RecoveryService;
use crate::audit::{self, Action, AuditEvent, Outcome};
use crate::domain::Actor;
use crate::store::recoveries;
use crate::worker::{Failure, Job, JobError, Queued, Registry};

/// Every job kind the service runs.
pub fn registry() -> Registry<RecoveryService> {
    Registry::new()
        .register::<IssueCode>()
        .register::<LookUp>()
        .register::<ResetNotice>()
        .register::<LockNotice>()
        .register::<GuessingNotice>()
        .register::<TextNotice>()
        .register::<ApplyReset>()
        .register::<FinishReset>()
        .register::<EndEnrollment>()
        .register::<PasskeysNotice>()
}

/// A job about one recovery: what a kind of it says, the rest (the worker's `Job`) follows.
#[async_trait]
pub trait RecoveryJob: Send + Sync + 'static {
    /// The name jobs of this kind are stored under.
    const KIND: &'static str;
    /// Whether the worker gives up after `JOB_MAX_ATTEMPTS` failed runs (see `Job::GIVES_UP`).
    const GIVES_UP: bool = true;
    /// The audit action of a failed run (`retrying`, or `gave_up`).
    const FAILED: Action;

    /// One run, in the job's own transaction, for the recovery queued at `queued_at`.
    async fn run(
        service: &RecoveryService,
        conn: &mut PgConnection,
        recovery_id: Uuid,
        queued_at: DateTime<Utc>,
    ) -> Result<(), JobError>;

    /// Records a failed run: by default, audits it as `FAILED`, by the service.
    async fn failed(
        _: &RecoveryService,
        conn: &mut PgConnection,
        recovery_id: Uuid,
        failure: &Failure<'_>,
    ) -> Result<(), sqlx::Error> {
        audit_failure(conn, recovery_id, failure, Self::FAILED, &Actor::System).await
    }
}

#[async_trait]
impl<T: RecoveryJob> Job for T {
    const KIND: &'static str = T::KIND;
    type Context = RecoveryService;
    type Payload = ();
    const GIVES_UP: bool = T::GIVES_UP;

    async fn run(
        service: &RecoveryService,
        conn: &mut PgConnection,
        job: &Queued<()>,
    ) -> Result<(), JobError> {
        let recovery_id = job.recovery_id.ok_or_else(|| {
            JobError::transient("a recovery's job names no recovery", "recovery_id is NULL")
        })?;
        T::run(service, conn, recovery_id, job.created_at).await
    }

    async fn failed(
        service: &RecoveryService,
        conn: &mut PgConnection,
        job: &Queued<()>,
        failure: &Failure<'_>,
    ) -> Result<(), sqlx::Error> {
        match job.recovery_id {
            Some(recovery_id) => T::failed(service, conn, recovery_id, failure).await,
            None => Ok(()),
        }
    }
}

/// Audits a failed run of a job as `action` (`retrying` or `gave_up`), about its recovery.
async fn audit_failure(
    conn: &mut PgConnection,
    recovery_id: Uuid,
    failure: &Failure<'_>,
    action: Action,
    actor: &Actor,
) -> Result<(), sqlx::Error> {
    let username = recoveries::get(conn, recovery_id)
        .await?
        .map(|r| r.username)
        .unwrap_or_default();
    let outcome = if failure.gave_up {
        Outcome::GaveUp
    } else {
        Outcome::Retrying
    };
    audit::append(
        conn,
        AuditEvent::new(action, actor, outcome)
            .username(&username)
            .recovery(recovery_id)
            .detail(format!("attempt {}: {}", failure.attempts, failure.error)),
    )
    .await?;
    Ok(())
}
