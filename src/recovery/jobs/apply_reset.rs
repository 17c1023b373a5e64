use async_trait::async_trait;
use sqlx::PgConnection;

use super::{audit_failure, RecoveryService};
use crate::audit::Action;
use crate::domain::Actor;
use crate::worker::{Failure, Job, JobError, JobRow};

/// Apply a reset whose waiting period is over.
pub struct ApplyReset;

#[async_trait]
impl Job for ApplyReset {
    const KIND: &'static str = "apply_reset";
    type Context = RecoveryService;

    async fn run(
        service: &RecoveryService,
        conn: &mut PgConnection,
        job: &JobRow,
    ) -> Result<(), JobError> {
        service.apply_scheduled_reset(conn, job.recovery_id).await
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
