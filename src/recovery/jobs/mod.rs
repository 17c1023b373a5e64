//! The background jobs of a recovery, one file per kind. Adding a kind: a file here implementing
//! `worker::Job`, and one line in `registry`.

mod apply_reset;
mod finish_reset;
mod issue_code;
mod lock_notice;
mod reset_notice;
mod text_notice;

use sqlx::PgConnection;

pub use apply_reset::ApplyReset;
pub use finish_reset::FinishReset;
pub use issue_code::IssueCode;
pub use lock_notice::LockNotice;
pub use reset_notice::ResetNotice;
pub use text_notice::TextNotice;

use super::RecoveryService;
use crate::audit::{self, Action, AuditEvent, Outcome};
use crate::domain::Actor;
use crate::store::recoveries;
use crate::worker::{Failure, JobRow, Registry};

/// Every job kind the service runs.
pub fn registry() -> Registry<RecoveryService> {
    Registry::new()
        .register::<IssueCode>()
        .register::<ResetNotice>()
        .register::<LockNotice>()
        .register::<TextNotice>()
        .register::<ApplyReset>()
        .register::<FinishReset>()
}

/// Audits a failed run of a job as `action` (`retrying` or `gave_up`), about the job's recovery.
async fn audit_failure(
    conn: &mut PgConnection,
    job: &JobRow,
    failure: &Failure<'_>,
    action: Action,
    actor: &Actor,
) -> Result<(), sqlx::Error> {
    let username = recoveries::get(conn, job.recovery_id)
        .await?
        .map(|r| r.username)
        .unwrap_or_default();
    let outcome = if failure.gave_up {
        Outcome::GaveUp
    } else {
        Outcome::Retrying
    };
    audit::append(
        conn,
        AuditEvent::new(action, actor, outcome)
            .username(&username)
            .recovery(job.recovery_id)
            .detail(format!("attempt {}: {}", failure.attempts, failure.error)),
    )
    .await?;
    Ok(())
}
