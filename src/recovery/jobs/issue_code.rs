use async_trait::async_trait;
use sqlx::PgConnection;

use super::{audit_failure, RecoveryService};
use crate::audit::Action;
use crate::domain::Transition;
use crate::store::recoveries;
use crate::worker::{Failure, Job, JobError, JobRow};

/// Look the user up, decide eligibility and limits, email a fresh code.
pub struct IssueCode;

#[async_trait]
impl Job for IssueCode {
    const KIND: &'static str = "issue_code";
    type Context = RecoveryService;

    async fn run(
        service: &RecoveryService,
        conn: &mut PgConnection,
        job: &JobRow,
    ) -> Result<(), JobError> {
        service.issue_code(conn, job.recovery_id).await
    }

    async fn failed(
        _: &RecoveryService,
        conn: &mut PgConnection,
        job: &JobRow,
        failure: &Failure<'_>,
    ) -> Result<(), sqlx::Error> {
        let Some(recovery) = recoveries::get(conn, job.recovery_id).await? else {
            return Ok(());
        };
        if failure.gave_up {
            let gave_up = recoveries::apply(conn, job.recovery_id, Transition::IssueGaveUp).await?;
            if !gave_up.applied() {
                tracing::warn!("the recovery had left `requested` when its code was given up");
            }
        }
        let actor = recovery.initiated_by.actor();
        audit_failure(conn, job, failure, Action::CodeSendFailed, &actor).await
    }
}
