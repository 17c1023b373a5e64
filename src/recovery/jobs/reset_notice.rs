use async_trait::async_trait;
use sqlx::PgConnection;

use super::{audit_failure, RecoveryService};
use crate::audit::Action;
use crate::domain::Actor;
use crate::worker::{Failure, Job, JobError, JobRow};

/// Tell the user their authenticator was removed (or, with a waiting period, when it will be
/// and how to stop it).
pub struct ResetNotice;

#[async_trait]
impl Job for ResetNotice {
    const KIND: &'static str = "reset_notice";
    type Context = RecoveryService;

    async fn run(
        service: &RecoveryService,
        conn: &mut PgConnection,
        job: &JobRow,
    ) -> Result<(), JobError> {
        service
            .send_reset_notice(conn, job.recovery_id, job.created_at)
            .await
    }

    async fn failed(
        _: &RecoveryService,
        conn: &mut PgConnection,
        job: &JobRow,
        failure: &Failure<'_>,
    ) -> Result<(), sqlx::Error> {
        audit_failure(
            conn,
            job,
            failure,
            Action::NotificationFailed,
            &Actor::System,
        )
        .await
    }
}
