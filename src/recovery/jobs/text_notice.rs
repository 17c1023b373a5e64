use async_trait::async_trait;
use sqlx::PgConnection;

use super::{audit_failure, RecoveryService};
use crate::audit::Action;
use crate::domain::Actor;
use crate::worker::{Failure, Job, JobError, JobRow};

/// Text the owner that a notice went to their email (`NOTIFY_SMS`): queued by the email notice
/// once SES accepted it, so that a retried text never sends the email twice.
pub struct TextNotice;

#[async_trait]
impl Job for TextNotice {
    const KIND: &'static str = "text_notice";
    type Context = RecoveryService;

    async fn run(
        service: &RecoveryService,
        conn: &mut PgConnection,
        job: &JobRow,
    ) -> Result<(), JobError> {
        service.send_text_notice(conn, job.recovery_id).await
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
