use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{RecoveryJob, RecoveryService};
use crate::audit::Action;
use crate::worker::JobError;

/// Tell the user their authenticator was removed (or, with a waiting period, when it will be
/// and how to stop it).
pub struct ResetNotice;

#[async_trait]
impl RecoveryJob for ResetNotice {
    const KIND: &'static str = "reset_notice";
    const FAILED: Action = Action::NotificationFailed;

    async fn run(
        service: &RecoveryService,
        conn: &mut PgConnection,
        recovery_id: Uuid,
        queued_at: DateTime<Utc>,
    ) -> Result<(), JobError> {
        service
            .send_reset_notice(conn, recovery_id, queued_at)
            .await
    }
}
