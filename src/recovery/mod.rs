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
mod prelimit;
mod removal;
mod request;
mod reset;
mod support;

use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::Notify;

use crate::clock::{Clock, SystemClock};
use crate::domain::NameKeys;
use crate::idp::{IdentityProvider, IdpError};
use crate::mail::templates::PoolKind;
use crate::mail::Mailer;
use crate::settings::RecoverySettings;
use crate::sms::Texter;

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
    /// Where notices also go as texts (`NOTIFY_SMS`); `None` when they do not.
    texter: Option<Arc<dyn Texter>>,
    hasher: CodeHasher,
    rules: RecoverySettings,
    /// What the pool does at the next sign-in of a user without an authenticator, read at start.
    pool: PoolKind,
    /// How typed names are keyed and, until they prove to be users', recorded.
    names: NameKeys,
    /// The in-memory limit in front of the shared per-address counters.
    prelimit: prelimit::PreLimit,
    /// Writes public requests, in batches.
    intake: intake::Intake,
    /// Wakes the job loops of this instance as soon as a job is queued.
    wakeup: Arc<Notify>,
    /// Whether the user pool could be read when last asked (readiness).
    pool_check: std::sync::Mutex<PoolCheck>,
    /// What every rule that depends on the time reads it from.
    clock: Arc<dyn Clock>,
}

/// The last answer to "can the service read its user pool?".
#[derive(Clone, Copy)]
struct PoolCheck {
    at: Option<std::time::Instant>,
    readable: bool,
}

/// How long a readiness answer about the pool is reused (probes come every few seconds; Cognito
/// is not asked that often).
const POOL_CHECK_TTL: std::time::Duration = std::time::Duration::from_secs(30);

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
        let prelimit = prelimit::PreLimit::new(rules.requests_per_ip_per_hour);
        Self {
            intake: intake::Intake::start(db.clone()),
            db,
            idp,
            mailer,
            texter: None,
            hasher,
            rules,
            pool,
            names,
            prelimit,
            wakeup: Arc::new(Notify::new()),
            pool_check: std::sync::Mutex::new(PoolCheck {
                at: None,
                readable: true,
            }),
            clock: Arc::new(SystemClock),
        }
    }

    /// The rules read the time from `clock` (tests move it instead of sleeping).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The time, as the rules see it.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Notices also go as texts through `texter` (`NOTIFY_SMS`).
    #[must_use]
    pub fn with_texts(mut self, texter: Arc<dyn Texter>) -> Self {
        self.texter = Some(texter);
        self
    }

    /// Whether the service can read its user pool: `false` once Cognito refused to (no such
    /// pool, no permission), until it answers again. An unreachable Cognito says nothing
    /// about the configuration and keeps the last answer.
    pub async fn pool_readable(&self) -> bool {
        let last = *self.pool_check.lock().expect("not poisoned");
        if last.at.is_some_and(|at| at.elapsed() < POOL_CHECK_TTL) {
            return last.readable;
        }
        let readable = match self.idp.mfa_config().await {
            Ok(_) => true,
            Err(err @ IdpError::Refused { .. }) => {
                self.pool_refused(&err);
                false
            }
            Err(IdpError::Unavailable { .. }) => last.readable,
        };
        *self.pool_check.lock().expect("not poisoned") = PoolCheck {
            at: Some(std::time::Instant::now()),
            readable,
        };
        readable
    }

    /// Cognito refused to let the service read its pool: loud, counted, and not ready.
    fn pool_refused(&self, err: &IdpError) {
        if let IdpError::Refused { operation, code } = err {
            metrics::counter!("identity_provider_refusals_total", "operation" => *operation, "code" => code.clone())
                .increment(1);
            tracing::error!(%operation, %code, "Cognito refused to let the service read its user pool: check COGNITO_USER_POOL_ID, AWS_REGION and the IAM policy");
        }
        *self.pool_check.lock().expect("not poisoned") = PoolCheck {
            at: Some(std::time::Instant::now()),
            readable: false,
        };
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
