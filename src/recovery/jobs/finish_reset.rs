use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{RecoveryJob, RecoveryService};
use crate::audit::Action;
use crate::worker::JobError;

/// Finish a reset a confirmation started, once its lease ran out: queued with every claim, so
/// that a confirmation that dies, or gives up while Cognito is unreachable, after the token
/// deletion may have been sent leaves nothing half done (a no-op when the reset is finished).
pub struct FinishReset;

#[async_trait]
impl RecoveryJob for FinishReset {
    const KIND: &'static str = "finish_reset";
    const FAILED: Action = Action::MfaResetFailed;
    /// Giving up would leave a reset half done (the token may be gone, sessions alive, no
    /// notice): it is retried until it completes.
    const GIVES_UP: bool = false;

    async fn run(
        service: &RecoveryService,
        conn: &mut PgConnection,
        recovery_id: Uuid,
        _: DateTime<Utc>,
    ) -> Result<(), JobError> {
        service.finish_reset(conn, recovery_id).await
    }
}
