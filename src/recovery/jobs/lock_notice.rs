use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{RecoveryJob, RecoveryService};
use crate::audit::Action;
use crate::worker::JobError;

/// Tell the user a recovery of their account locked after too many wrong attempts.
pub struct LockNotice;

#[async_trait]
impl RecoveryJob for LockNotice {
    const KIND: &'static str = "lock_notice";
    const FAILED: Action = Action::NotificationFailed;

    async fn run(
        service: &RecoveryService,
        conn: &mut PgConnection,
        recovery_id: Uuid,
        queued_at: DateTime<Utc>,
    ) -> Result<(), JobError> {
        service.send_lock_notice(conn, recovery_id, queued_at).await
    }
}
