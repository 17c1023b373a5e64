use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{audit_failure, RecoveryJob, RecoveryService};
use crate::audit::Action;
use crate::domain::Transition;
use crate::store::recoveries;
use crate::worker::{Failure, JobError};

/// Look the user up, decide eligibility and limits, email a fresh code.
pub struct IssueCode;

#[async_trait]
impl RecoveryJob for IssueCode {
    const KIND: &'static str = "issue_code";
    const FAILED: Action = Action::CodeSendFailed;

    async fn run(
        service: &RecoveryService,
        conn: &mut PgConnection,
        recovery_id: Uuid,
        _: DateTime<Utc>,
    ) -> Result<(), JobError> {
        service.issue_code(conn, recovery_id).await
    }

    /// Audited as done by whoever asked for the code; given up, the recovery fails.
    async fn failed(
        service: &RecoveryService,
        conn: &mut PgConnection,
        recovery_id: Uuid,
        failure: &Failure<'_>,
    ) -> Result<(), sqlx::Error> {
        let Some(recovery) = recoveries::get(conn, recovery_id).await? else {
            return Ok(());
        };
        if failure.gave_up {
            let gave_up =
                recoveries::apply(conn, service.now(), recovery_id, Transition::IssueGaveUp)
                    .await?;
            if !gave_up.applied() {
                tracing::warn!("the recovery had left `requested` when its code was given up");
            }
        }
        let actor = recovery.initiated_by.actor();
        audit_failure(conn, recovery_id, failure, Self::FAILED, &actor).await
    }
}
