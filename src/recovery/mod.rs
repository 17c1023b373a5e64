//! The recovery rules: who gets a code, when a confirmation counts, how a reset is applied and
//! proven. No HTTP and no AWS types in here: Cognito and SES are reached through the
//! `IdentityProvider` and `Mailer` ports, Postgres through `crate::store`.

mod code_hasher;
mod confirm;
mod jobs;
mod limits;
mod request;
mod status;
mod support;

use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::Notify;

use crate::cognito::IdentityProvider;
use crate::domain::Actor;
use crate::mail::Mailer;
use crate::settings::{RecoverySettings, WorkerSettings};

pub use code_hasher::{CodeHasher, HashError};
pub use confirm::{ConfirmError, ConfirmOutcome, Confirmation};
pub use limits::LimitError;
pub use request::{RecoveryRequest, RequestError};
pub use status::RecoveryStatus;
pub use support::{CancelLinkError, Queued, RecoverySummary, SupportError};

pub struct RecoveryService {
    db: PgPool,
    idp: Arc<dyn IdentityProvider>,
    mailer: Arc<dyn Mailer>,
    hasher: CodeHasher,
    rules: RecoverySettings,
    jobs: WorkerSettings,
    /// Wakes the job loop of this instance as soon as a job is queued.
    wakeup: Arc<Notify>,
}

impl RecoveryService {
    pub fn new(
        db: PgPool,
        idp: Arc<dyn IdentityProvider>,
        mailer: Arc<dyn Mailer>,
        hasher: CodeHasher,
        rules: RecoverySettings,
        jobs: WorkerSettings,
    ) -> Self {
        Self {
            db,
            idp,
            mailer,
            hasher,
            rules,
            jobs,
            wakeup: Arc::new(Notify::new()),
        }
    }

    pub fn wakeup(&self) -> Arc<Notify> {
        Arc::clone(&self.wakeup)
    }

    pub fn job_poll_interval(&self) -> std::time::Duration {
        self.jobs.poll_interval
    }

    pub fn retention_interval(&self) -> std::time::Duration {
        self.jobs.retention_interval
    }
}

/// `initiated_by` as stored: `user` or `staff:<name>`.
fn actor_from_initiator(initiated_by: &str) -> Actor {
    match initiated_by.strip_prefix("staff:") {
        Some(name) => Actor::Staff(name.to_owned()),
        None => Actor::User,
    }
}
