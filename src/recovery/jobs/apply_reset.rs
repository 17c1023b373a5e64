use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{RecoveryJob, RecoveryService};
use crate::audit::Action;
use crate::worker::JobError;

/// Apply a reset whose waiting period is over.
pub struct ApplyReset;

#[async_trait]
impl RecoveryJob for ApplyReset {
    const KIND: &'static str = "apply_reset";
    const FAILED: Action = Action::MfaResetFailed;

    async fn run(
        service: &RecoveryService,
        conn: &mut PgConnection,
        recovery_id: Uuid,
        _: DateTime<Utc>,
    ) -> Result<(), JobError> {
        service.apply_scheduled_reset(conn, recovery_id).await
    }
}
