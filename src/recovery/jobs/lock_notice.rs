use async_trait::async_trait;
use sqlx::PgConnection;

use super::{audit_failure, RecoveryService};
use crate::audit::Action;
use crate::domain::Actor;
use crate::worker::{Failure, Job, JobError, JobRow};

/// Tell the user a recovery of their account locked after too many wrong attempts.
pub struct LockNotice;

#[async_trait]
impl Job for LockNotice {
    const KIND: &'static str = "lock_notice";
    type Context = RecoveryService;

    async fn run(
        service: &RecoveryService,
        conn: &mut PgConnection,
        job: &JobRow,
    ) -> Result<(), JobError> {
        service
            .send_lock_notice(conn, job.recovery_id, job.created_at)
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
