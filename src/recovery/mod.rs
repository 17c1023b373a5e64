//! The recovery rules: who gets a code, when a confirmation counts, how a reset is applied and
//! proven. One file per use case; no HTTP and no AWS types in here: Cognito and SES are reached
//! through the `IdentityProvider` and `Mailer` ports, Postgres through `crate::store`.

mod code_hasher;
mod confirm;
mod eligibility;
mod enrollment;
mod intake;
mod issue;
pub mod jobs;
mod limits;
mod notices;
mod notifier;
mod prelimit;
mod readiness;
mod removal;
mod request;
mod reset;
mod support;

use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::Notify;

use crate::clock::{Clock, SystemClock};
use crate::domain::NameKeys;
use crate::idp::IdentityProvider;
use crate::mail::templates::PoolKind;
use crate::mail::Mailer;
use crate::settings::RecoverySettings;
use crate::sms::Texter;

pub use code_hasher::{CodeHasher, HashError};
pub use confirm::{ConfirmError, ConfirmOutcome, Confirmation, LinkConfirmation};
pub use eligibility::Ineligible;
pub use enrollment::{
    Enrolled, Enrollment, EnrollmentError, EnrollmentResumption, EnrollmentStep,
    EnrollmentVerification, PasskeyRemoval, SignInCodeAnswer, ENROLLMENT_MAX_ATTEMPTS,
};
pub use limits::LimitError;
pub use readiness::Readiness;
pub use request::{RecoveryRequest, RequestError};
pub use support::{
    CancelLinkError, Queued, RecoveryAtDesk, RecoverySummary, SupportError, UserAtDesk,
};

/// The recovery's use cases, and the components they receive: the store, the identity
/// provider, where messages go (`notifier`), the limits, the intake of public requests, and
/// readiness. Each use case is one file (`request`, `issue`, `confirm`, ...).
pub struct RecoveryService {
    db: PgPool,
    idp: Arc<dyn IdentityProvider>,
    /// Email, and texts with `NOTIFY_SMS`.
    notifier: notifier::Notifier,
    /// The shared per-address and per-account counters, the in-memory pre-limit, the budgets.
    limits: limits::Limits,
    /// Writes public requests, in batches.
    intake: intake::Intake,
    /// Whether the user pool can be read (for `/readyz`).
    readiness: readiness::Readiness,
    hasher: CodeHasher,
    rules: RecoverySettings,
    /// What the pool does at the next sign-in of a user without an authenticator, read at start.
    pool: PoolKind,
    /// How typed names are keyed and, until they prove to be users', recorded.
    names: NameKeys,
    /// Wakes the job loops of this instance as soon as a job is queued.
    wakeup: Arc<Notify>,
    /// What every rule that depends on the time reads it from.
    clock: Arc<dyn Clock>,
}

impl RecoveryService {
    pub fn new(
        db: PgPool,
        idp: Arc<dyn IdentityProvider>,
        mailer: Arc<dyn Mailer>,
        hasher: CodeHasher,
        rules: RecoverySettings,
        pool: PoolKind,
        names: NameKeys,
    ) -> Self {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        Self {
            intake: intake::Intake::start(db.clone()),
            limits: limits::Limits::new(db.clone(), &rules, Arc::clone(&clock)),
            readiness: readiness::Readiness::new(Arc::clone(&idp)),
            notifier: notifier::Notifier::new(mailer, rules.default_language.clone()),
            db,
            idp,
            hasher,
            rules,
            pool,
            names,
            wakeup: Arc::new(Notify::new()),
            clock,
        }
    }

    /// The rules read the time from `clock` (tests move it instead of sleeping).
    #[must_use]
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        Self {
            limits: self.limits.with_clock(Arc::clone(&clock)),
            clock,
            ..self
        }
    }

    /// The time, as the rules see it.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Emails end with `signature` (`BRAND_NAME`, `SUPPORT_CONTACT`).
    #[must_use]
    pub fn with_signature(self, signature: crate::mail::templates::Signature) -> Self {
        Self {
            notifier: self.notifier.with_signature(signature),
            ..self
        }
    }

    /// Notices also go as texts through `texter` (`NOTIFY_SMS`).
    #[must_use]
    pub fn with_texts(self, texter: Arc<dyn Texter>) -> Self {
        Self {
            notifier: self.notifier.with_texts(texter),
            ..self
        }
    }

    /// Whether the service can do its work (for `/readyz`).
    pub fn readiness(&self) -> &Readiness {
        &self.readiness
    }

    /// Gauges read at scrape time: the job queue and this hour's email budget.
    pub async fn observe_gauges(&self) -> Result<(), sqlx::Error> {
        self.limits.observe_gauges().await
    }

    /// Whether public requests can be written (the intake's writers are running).
    pub fn accepts_requests(&self) -> bool {
        self.intake.is_open()
    }

    /// What the job loops wait on.
    pub fn wakeup(&self) -> Arc<Notify> {
        Arc::clone(&self.wakeup)
    }
}
