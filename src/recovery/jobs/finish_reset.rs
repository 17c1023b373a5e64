use async_trait::async_trait;
use sqlx::PgConnection;

use super::{audit_failure, RecoveryService};
use crate::audit::Action;
use crate::domain::Actor;
use crate::worker::{Failure, Job, JobError, JobRow};

/// Finish a reset a confirmation started, once its lease ran out: queued with every claim, so
/// that a confirmation that dies, or gives up while Cognito is unreachable, after the token
/// deletion may have been sent leaves nothing half done (a no-op when the reset is finished).
pub struct FinishReset;

#[async_trait]
impl Job for FinishReset {
    const KIND: &'static str = "finish_reset";
    type Context = RecoveryService;
    /// Giving up would leave a reset half done (the token may be gone, sessions alive, no
    /// notice): it is retried until it completes.
    const GIVES_UP: bool = false;

    async fn run(
        service: &RecoveryService,
        conn: &mut PgConnection,
        job: &JobRow,
    ) -> Result<(), JobError> {
        service.finish_reset(conn, job.recovery_id).await
    }

    async fn failed(
        _: &RecoveryService,
        conn: &mut PgConnection,
        job: &JobRow,
        failure: &Failure<'_>,
    ) -> Result<(), sqlx::Error> {
        audit_failure(conn, job, failure, Action::MfaResetFailed, &Actor::System).await
    }
}
