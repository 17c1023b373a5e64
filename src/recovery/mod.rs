//! The recovery rules: who gets a code, when a confirmation counts, how a reset is applied and
//! proven. One file per use case; no HTTP and no AWS types in here: Cognito and SES are reached
//! through the `IdentityProvider` and `Mailer` ports, Postgres through `crate::store`.

mod code_hasher;
mod confirm;
mod eligibility;
mod enrollment;
mod issue;
pub mod jobs;
mod limits;
mod notices;
mod request;
mod reset;
mod support;

use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::Notify;

use crate::cognito::IdentityProvider;
use crate::mail::templates::PoolKind;
use crate::mail::Mailer;
use crate::settings::RecoverySettings;

pub use code_hasher::{CodeHasher, HashError};
pub use confirm::{ConfirmError, ConfirmOutcome, Confirmation};
pub use eligibility::Ineligible;
pub use enrollment::{
    Enrollment, EnrollmentError, EnrollmentResumption, EnrollmentVerification,
    ENROLLMENT_MAX_ATTEMPTS,
};
pub use limits::LimitError;
pub use request::{RecoveryRequest, RequestError};
pub use support::{CancelLinkError, Queued, RecoverySummary, SupportError};

pub struct RecoveryService {
    db: PgPool,
    idp: Arc<dyn IdentityProvider>,
    mailer: Arc<dyn Mailer>,
    hasher: CodeHasher,
    rules: RecoverySettings,
    /// What the pool does at the next sign-in of a user without an authenticator, read at start.
    pool: PoolKind,
    /// Wakes the job loops of this instance as soon as a job is queued.
    wakeup: Arc<Notify>,
}

impl RecoveryService {
    pub fn new(
        db: PgPool,
        idp: Arc<dyn IdentityProvider>,
        mailer: Arc<dyn Mailer>,
        hasher: CodeHasher,
        rules: RecoverySettings,
        pool: PoolKind,
    ) -> Self {
        Self {
            db,
            idp,
            mailer,
            hasher,
            rules,
            pool,
            wakeup: Arc::new(Notify::new()),
        }
    }

    /// What the job loops wait on.
    pub fn wakeup(&self) -> Arc<Notify> {
        Arc::clone(&self.wakeup)
    }
}
