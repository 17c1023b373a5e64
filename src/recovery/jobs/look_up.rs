use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{IssueCode, RecoveryJob, RecoveryService};
use crate::audit::Action;
use crate::worker::{Failure, JobError};

/// A self-service request's turn: the user looked up, the code emailed (as `IssueCode`, which
/// the support desk's recoveries use). A kind of its own so that the queue serves these after
/// every other job, newest first (`store::jobs::take_due`).
pub struct LookUp;

#[async_trait]
impl RecoveryJob for LookUp {
    const KIND: &'static str = crate::store::jobs::LOOKUP_KIND;
    const FAILED: Action = Action::CodeSendFailed;

    async fn run(
        service: &RecoveryService,
        conn: &mut PgConnection,
        recovery_id: Uuid,
        queued_at: DateTime<Utc>,
    ) -> Result<(), JobError> {
        // Its Cognito calls leave room in the call budget for the people waiting on a page.
        crate::idp::budget::background(<IssueCode as RecoveryJob>::run(
            service,
            conn,
            recovery_id,
            queued_at,
        ))
        .await
    }

    async fn failed(
        service: &RecoveryService,
        conn: &mut PgConnection,
        recovery_id: Uuid,
        failure: &Failure<'_>,
    ) -> Result<(), sqlx::Error> {
        <IssueCode as RecoveryJob>::failed(service, conn, recovery_id, failure).await
    }
}
