use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{RecoveryJob, RecoveryService};
use crate::audit::Action;
use crate::worker::JobError;

/// Text the owner that a notice went to their email (`NOTIFY_SMS`): queued by the email notice
/// once SES accepted it, so that a retried text never sends the email twice.
pub struct TextNotice;

#[async_trait]
impl RecoveryJob for TextNotice {
    const KIND: &'static str = "text_notice";
    const FAILED: Action = Action::NotificationFailed;

    async fn run(
        service: &RecoveryService,
        conn: &mut PgConnection,
        recovery_id: Uuid,
        _: DateTime<Utc>,
    ) -> Result<(), JobError> {
        service.send_text_notice(conn, recovery_id).await
    }
}
