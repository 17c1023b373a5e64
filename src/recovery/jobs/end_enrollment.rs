use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{RecoveryJob, RecoveryService};
use crate::audit::Action;
use crate::worker::JobError;

/// Ends an enrollment that still holds the user's sign-in when its time runs out (the user
/// left the passkey step open, or signing out failed when they finished): every session is
/// revoked. Nothing to do when the user finished first.
pub struct EndEnrollment;

#[async_trait]
impl RecoveryJob for EndEnrollment {
    const KIND: &'static str = "end_enrollment";
    /// A sign-in left alive is not given up on.
    const GIVES_UP: bool = false;
    const FAILED: Action = Action::EnrollmentFailed;

    async fn run(
        service: &RecoveryService,
        conn: &mut PgConnection,
        recovery_id: Uuid,
        _queued_at: DateTime<Utc>,
    ) -> Result<(), JobError> {
        service.end_enrollment_when_due(conn, recovery_id).await
    }
}
