use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{RecoveryJob, RecoveryService};
use crate::audit::Action;
use crate::worker::JobError;

/// Tell the owner, at most once a day, that wrong codes from addresses that never asked for one
/// reached the account's daily ceiling (about the recovery the last of them was judged against).
pub struct GuessingNotice;

#[async_trait]
impl RecoveryJob for GuessingNotice {
    const KIND: &'static str = "guessing_notice";
    const FAILED: Action = Action::NotificationFailed;

    async fn run(
        service: &RecoveryService,
        conn: &mut PgConnection,
        recovery_id: Uuid,
        _queued_at: DateTime<Utc>,
    ) -> Result<(), JobError> {
        service.send_guessing_notice(conn, recovery_id).await
    }
}
