//! A user confirms with the emailed code (and password): the attempt is counted before anything
//! is compared, exactly one confirmation claims the recovery, and the reset is applied at once
//! or scheduled after the waiting period.

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use sqlx::PgConnection;

use super::enrollment::Enrollment;
use super::jobs::{ApplyReset, LockNotice, ResetNotice};
use super::reset::{ResetError, Resetting};
use super::{HashError, LimitError, RecoveryService};
use crate::audit::{self, Action, AuditEvent, Outcome};
use crate::cognito::{IdpError, PasswordCheck};
use crate::domain::{Actor, ClientInfo, RecoveryCode, RecoveryStatus, Transition, Username};
use crate::store::recoveries::{self, RecoveryRow};
use crate::worker;

/// How long one confirmation may hold a recovery while it applies the reset in Cognito; a
/// holder that dies lets go after this, so a retry with the same code can complete.
const RESET_LEASE_SECONDS: i64 = 60;

pub struct Confirmation {
    pub username: Username,
    pub code: RecoveryCode,
    pub password: Option<SecretString>,
    pub client: ClientInfo,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    /// Wrong, expired, used or superseded code, wrong password, or no open recovery: the
    /// caller is never told which.
    #[error("the recovery code or password is not valid")]
    Invalid,
    #[error("the recovery is locked after too many attempts")]
    Locked,
    /// Too many wrong confirmations for this account lately: wait, then try again.
    #[error("too many wrong confirmations for this account; retry in {retry_after} s")]
    Throttled { retry_after: u64 },
    #[error("the client address is over its hourly limit")]
    RateLimited { retry_after: u64 },
    #[error("the limit counters are unavailable")]
    LimitsUnavailable(#[source] sqlx::Error),
    #[error("the identity provider is unavailable")]
    IdentityProviderUnavailable(#[source] IdpError),
    /// Cognito answered, but the read-back shows the authenticator is still there.
    #[error("the authenticator could not be removed: {0}")]
    ResetNotApplied(String),
    #[error("the recovery store failed")]
    Store(#[from] sqlx::Error),
    #[error("hashing failed")]
    Hashing(#[from] HashError),
}

impl ConfirmError {
    /// The metrics label.
    fn outcome(&self) -> &'static str {
        match self {
            Self::Invalid => "invalid",
            Self::Locked => "locked",
            Self::Throttled { .. } => "throttled",
            Self::RateLimited { .. } => "rate_limited",
            Self::IdentityProviderUnavailable(_) => "identity_provider_unavailable",
            Self::ResetNotApplied(_) => "reset_not_applied",
            Self::LimitsUnavailable(_) | Self::Store(_) | Self::Hashing(_) => "error",
        }
    }
}

/// What a successful confirmation did.
pub enum ConfirmOutcome {
    /// The authenticator was removed and read back, and the user signed out everywhere; with
    /// the password at hand, the new authenticator's enrollment is offered.
    Reset { enrollment: Option<Enrollment> },
    /// The reset waits for the configured delay, cancellable from the notice.
    Scheduled { reset_at: DateTime<Utc> },
}

impl RecoveryService {
    /// Checks the code (and password) and, when both are right, removes the user's TOTP
    /// authenticator in Cognito, reads the result back and signs the user out everywhere.
    pub async fn confirm(
        &self,
        confirmation: Confirmation,
    ) -> Result<ConfirmOutcome, ConfirmError> {
        let result = self.confirm_attempt(confirmation).await;
        let outcome = match &result {
            Ok(ConfirmOutcome::Reset { .. }) => "reset",
            Ok(ConfirmOutcome::Scheduled { .. }) => "scheduled",
            Err(err) => err.outcome(),
        };
        metrics::counter!("recovery_confirms_total", "outcome" => outcome).increment(1);
        result
    }

    #[tracing::instrument(skip_all, fields(recovery_id))]
    async fn confirm_attempt(
        &self,
        confirmation: Confirmation,
    ) -> Result<ConfirmOutcome, ConfirmError> {
        let actor = Actor::User;
        let client = &confirmation.client;
        let username = confirmation.username.as_str();
        let failed = |detail: &str| {
            AuditEvent::new(Action::ConfirmFailed, &actor, Outcome::Rejected)
                .username(username)
                .client(client)
                .detail(detail.to_owned())
        };

        self.limit_client("confirm", client)
            .await
            .map_err(|e| match e {
                LimitError::Limited { retry_after } => ConfirmError::RateLimited { retry_after },
                LimitError::Unavailable(e) => ConfirmError::LimitsUnavailable(e),
            })?;

        // 1. Find the recovery and count this attempt before anything is compared, in a
        //    transaction of its own: concurrent guesses are each counted, and a crash later
        //    cannot un-count one.
        let mut tx = self.db.begin().await?;
        let Some(recovery) = recoveries::lock_newest_confirmable(&mut tx, username).await? else {
            audit::append(&mut tx, failed("no open recovery for this name")).await?;
            tx.commit().await?;
            // The same argon2 work as for a name that has a recovery.
            self.hasher.verify(&confirmation.code, None).await?;
            return Err(ConfirmError::Invalid);
        };
        tracing::Span::current().record("recovery_id", tracing::field::display(recovery.id));
        // NIST SP 800-63B-4 §4.2: recovery codes expire.
        if recovery.expires_at <= Utc::now() {
            audit::append(&mut tx, failed("expired").recovery(recovery.id)).await?;
            tx.commit().await?;
            self.hasher.verify(&confirmation.code, None).await?;
            return Err(ConfirmError::Invalid);
        }
        if recovery.status == RecoveryStatus::Locked {
            audit::append(&mut tx, failed("locked").recovery(recovery.id)).await?;
            tx.commit().await?;
            return Err(ConfirmError::Locked);
        }
        match self.confirm_throttle(&mut tx, recovery.account()).await {
            Ok(()) => {}
            Err(LimitError::Limited { retry_after }) => {
                metrics::counter!("rate_limit_rejections_total", "limit" => "account_confirms")
                    .increment(1);
                let detail =
                    format!("account throttled for {retry_after} s after wrong confirmations");
                audit::append(&mut tx, failed(&detail).recovery(recovery.id)).await?;
                tx.commit().await?;
                return Err(ConfirmError::Throttled { retry_after });
            }
            Err(LimitError::Unavailable(e)) => return Err(ConfirmError::LimitsUnavailable(e)),
        }
        let attempts = recoveries::count_attempt(&mut tx, recovery.id).await?;
        if attempts > self.max_attempts() {
            // Over the limit while earlier attempts are still being judged. The recovery locks
            // only once that many attempts have failed: a right code in flight still completes.
            let detail = format!("over the limit of {} attempts", self.max_attempts());
            audit::append(&mut tx, failed(&detail).recovery(recovery.id)).await?;
            tx.commit().await?;
            return Err(ConfirmError::Locked);
        }
        tx.commit().await?;

        // 2. Compare. The password is checked only once the code is right, so that a guesser
        //    without the code learns nothing about the password.
        let code_right = self
            .hasher
            .verify(&confirmation.code, recovery.code_hash.as_deref())
            .await?;
        if !code_right {
            let why = match recovery.status {
                RecoveryStatus::NotEligible => "no code was issued to this name",
                _ => "wrong code",
            };
            return self.failed_attempt(&recovery, attempts, client, why).await;
        }
        if self.rules.require_password {
            let Some(password) = &confirmation.password else {
                return self
                    .failed_attempt(&recovery, attempts, client, "no password")
                    .await;
            };
            match self
                .idp
                .check_password(recovery.account(), password, client)
                .await
            {
                Ok(PasswordCheck::Correct) => {}
                Ok(PasswordCheck::Wrong) => {
                    return self
                        .failed_attempt(&recovery, attempts, client, "wrong password")
                        .await;
                }
                Err(err) => return Err(self.unavailable(&recovery, client, err, false).await?),
            }
        }

        // 3. Only one confirmation applies the reset; the others see a used code.
        let mut conn = self.db.acquire().await?;
        let claim =
            recoveries::claim_for_reset(&mut conn, recovery.id, RESET_LEASE_SECONDS).await?;
        if !claim.applied() {
            audit::append(&mut conn, failed("code already used").recovery(recovery.id)).await?;
            return Err(ConfirmError::Invalid);
        }
        drop(conn);

        // 4. With a waiting period, schedule the reset; otherwise apply it in Cognito and prove it.
        if !self.rules.reset_delay.is_zero() {
            return self.schedule_reset(&recovery, client).await;
        }
        let resetting = Resetting {
            recovery: &recovery,
            actor: &actor,
            client,
        };
        match self.reset(&resetting).await {
            Ok(()) => {
                let enrollment = match &confirmation.password {
                    Some(password) => self.start_enrollment(&recovery, password, client).await,
                    None => None,
                };
                Ok(ConfirmOutcome::Reset { enrollment })
            }
            Err(ResetError::Unavailable(err)) => {
                Err(self.unavailable(&recovery, client, err, true).await?)
            }
            Err(ResetError::NotApplied(why)) => Err(ConfirmError::ResetNotApplied(why)),
            Err(ResetError::Store(err)) => Err(ConfirmError::Store(err)),
        }
    }

    /// The code and password were right and a waiting period is set: the reset is applied by a
    /// job at `reset_at` unless the owner cancels it from the notice.
    async fn schedule_reset(
        &self,
        recovery: &RecoveryRow,
        client: &ClientInfo,
    ) -> Result<ConfirmOutcome, ConfirmError> {
        let delay = self.rules.reset_delay.as_secs_f64();
        let mut tx = self.db.begin().await?;
        let reset_at = recoveries::schedule(&mut tx, recovery.id, delay, client.ip.as_deref())
            .await?
            .ok_or(ConfirmError::Invalid)?;
        worker::enqueue::<ResetNotice>(&mut tx, recovery.id).await?;
        worker::enqueue_at::<ApplyReset>(&mut tx, recovery.id, reset_at).await?;
        audit::append(
            &mut tx,
            AuditEvent::new(Action::MfaResetScheduled, &Actor::User, Outcome::Scheduled)
                .username(&recovery.username)
                .recovery(recovery.id)
                .client(client)
                .detail(format!(
                    "the reset will be applied at {}",
                    reset_at.to_rfc3339()
                )),
        )
        .await?;
        tx.commit().await?;
        self.wakeup.notify_one();
        Ok(ConfirmOutcome::Scheduled { reset_at })
    }

    fn max_attempts(&self) -> i32 {
        i32::try_from(self.rules.max_attempts).unwrap_or(i32::MAX)
    }

    /// A wrong code or password: counted against the account's daily budget, recorded, and at
    /// the last allowed attempt the recovery locks.
    async fn failed_attempt(
        &self,
        recovery: &RecoveryRow,
        attempts: i32,
        client: &ClientInfo,
        why: &str,
    ) -> Result<ConfirmOutcome, ConfirmError> {
        let mut tx = self.db.begin().await?;
        // Row changes first, audit events last (the audit chain lock is held to commit).
        self.count_failed_confirm(&mut tx, recovery.account())
            .await?;
        let locked = attempts >= self.max_attempts()
            && recoveries::apply(&mut tx, recovery.id, Transition::Lock)
                .await?
                .applied();
        audit::append(
            &mut tx,
            AuditEvent::new(Action::ConfirmFailed, &Actor::User, Outcome::Rejected)
                .username(&recovery.username)
                .recovery(recovery.id)
                .client(client)
                .detail(format!(
                    "{why} (attempt {attempts} of {})",
                    self.max_attempts()
                )),
        )
        .await?;
        if locked {
            self.recovery_locked(&mut tx, recovery, client).await?;
        }
        tx.commit().await?;
        Err(ConfirmError::Invalid)
    }

    /// The recovery just locked: audited, and its owner told (a name without an account has
    /// no one to tell; the job finds that out, so this path is the same for every name).
    async fn recovery_locked(
        &self,
        conn: &mut PgConnection,
        recovery: &RecoveryRow,
        client: &ClientInfo,
    ) -> Result<(), sqlx::Error> {
        recoveries::set_locked_ip(conn, recovery.id, client.ip.as_deref()).await?;
        worker::enqueue::<LockNotice>(conn, recovery.id).await?;
        audit::append(
            conn,
            AuditEvent::new(Action::Locked, &Actor::User, Outcome::Locked)
                .username(&recovery.username)
                .recovery(recovery.id)
                .client(client)
                .detail(format!("{} wrong attempts", self.max_attempts())),
        )
        .await?;
        self.wakeup.notify_one();
        Ok(())
    }

    /// Cognito could not be reached: nothing was decided, so the attempt is given back and a
    /// claimed recovery released, leaving the code usable for a retry.
    async fn unavailable(
        &self,
        recovery: &RecoveryRow,
        client: &ClientInfo,
        err: IdpError,
        claimed: bool,
    ) -> Result<ConfirmError, ConfirmError> {
        tracing::warn!(error = %err, "Cognito unavailable during confirmation");
        let mut tx = self.db.begin().await?;
        recoveries::refund_attempt(&mut tx, recovery.id).await?;
        let action = if claimed {
            let released =
                recoveries::apply(&mut tx, recovery.id, Transition::ReleaseClaim).await?;
            if !released.applied() {
                // The lease ran out meanwhile and another confirmation took the claim over.
                tracing::warn!("the reset claim was no longer held when released");
            }
            Action::MfaResetFailed
        } else {
            Action::ConfirmFailed
        };
        audit::append(
            &mut tx,
            AuditEvent::new(action, &Actor::User, Outcome::Retryable)
                .username(&recovery.username)
                .recovery(recovery.id)
                .client(client)
                .detail(format!("{err}; the code stays usable")),
        )
        .await?;
        tx.commit().await?;
        Ok(ConfirmError::IdentityProviderUnavailable(err))
    }
}
