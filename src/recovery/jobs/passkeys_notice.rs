use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{RecoveryJob, RecoveryService};
use crate::audit::Action;
use crate::worker::JobError;

/// Tell the owner which passkeys they removed after the recovery and which remain.
pub struct PasskeysNotice;

#[async_trait]
impl RecoveryJob for PasskeysNotice {
    const KIND: &'static str = "passkeys_notice";
    const FAILED: Action = Action::NotificationFailed;

    async fn run(
        service: &RecoveryService,
        conn: &mut PgConnection,
        recovery_id: Uuid,
        _queued_at: DateTime<Utc>,
    ) -> Result<(), JobError> {
        service.send_passkeys_notice(conn, recovery_id).await
    }
}
