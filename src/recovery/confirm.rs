use chrono::{DateTime, Utc};
use secrecy::SecretString;

use super::{HashError, LimitError, RecoveryService, RecoveryStatus};
use crate::cognito::{IdpError, PasswordCheck, TokenRemoval};
use crate::domain::{Actor, ClientInfo, RecoveryCode, Username};
use crate::store::audit::{self, AuditEvent};
use crate::store::jobs::{self, JobKind};
use crate::store::recoveries::{self, RecoveryRow};

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

/// What a successful confirmation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmOutcome {
    /// The authenticator was removed and read back, and the user signed out everywhere.
    Reset,
    /// The reset waits for the configured delay, cancellable from the notice.
    Scheduled { reset_at: DateTime<Utc> },
}

/// A recovery whose reset is being recorded, and the state it leaves.
pub(super) struct AppliedReset<'a> {
    pub recovery: &'a RecoveryRow,
    pub account: &'a str,
    pub from: RecoveryStatus,
}

/// Why a reset in Cognito did not complete.
pub(super) enum ResetError {
    Unavailable(IdpError),
    NotApplied(String),
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
            Ok(ConfirmOutcome::Reset) => "reset",
            Ok(ConfirmOutcome::Scheduled { .. }) => "scheduled",
            Err(ConfirmError::Invalid) => "invalid",
            Err(ConfirmError::Locked) => "locked",
            Err(ConfirmError::Throttled { .. }) => "throttled",
            Err(ConfirmError::RateLimited { .. }) => "rate_limited",
            Err(ConfirmError::IdentityProviderUnavailable(_)) => "identity_provider_unavailable",
            Err(ConfirmError::ResetNotApplied(_)) => "reset_not_applied",
            Err(
                ConfirmError::LimitsUnavailable(_)
                | ConfirmError::Store(_)
                | ConfirmError::Hashing(_),
            ) => "error",
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
            AuditEvent::new("recovery.confirm_failed", &actor, "rejected")
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

        // 1. Find the open recovery and count this attempt before anything is compared, in a
        //    transaction of its own: concurrent guesses are each counted, and a crash later
        //    cannot un-count one.
        let mut tx = self.db.begin().await?;
        let Some(recovery) = recoveries::lock_newest_open(&mut tx, username).await? else {
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
        let account = recovery
            .account_key
            .clone()
            .unwrap_or_else(|| recovery.username.clone());
        match self.confirm_throttle(&mut tx, &account).await {
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
        let account = recovery
            .account_key
            .as_deref()
            .unwrap_or(&recovery.username);
        if self.rules.require_password {
            let Some(password) = &confirmation.password else {
                return self
                    .failed_attempt(&recovery, attempts, client, "no password")
                    .await;
            };
            match self.idp.check_password(account, password).await {
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
        if !recoveries::claim_for_reset(&mut conn, recovery.id, RESET_LEASE_SECONDS).await? {
            audit::append(&mut conn, failed("code already used").recovery(recovery.id)).await?;
            return Err(ConfirmError::Invalid);
        }
        drop(conn);

        // 4. With a waiting period, schedule the reset; otherwise apply it in Cognito and prove it.
        if !self.rules.reset_delay.is_zero() {
            return self.schedule_reset(&recovery, client).await;
        }
        match self.reset_in_cognito(account).await {
            Ok(detail) => {
                let applied = AppliedReset {
                    recovery: &recovery,
                    account,
                    from: RecoveryStatus::Resetting,
                };
                self.record_reset(&applied, &actor, client, detail).await?;
                tracing::info!("TOTP authenticator removed and read back");
                Ok(ConfirmOutcome::Reset)
            }
            Err(ResetError::Unavailable(err)) => {
                Err(self.unavailable(&recovery, client, err, true).await?)
            }
            Err(ResetError::NotApplied(why)) => {
                let applied = AppliedReset {
                    recovery: &recovery,
                    account,
                    from: RecoveryStatus::Resetting,
                };
                self.record_reset_not_applied(&applied, &actor, client, &why)
                    .await?;
                Err(ConfirmError::ResetNotApplied(why))
            }
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
        jobs::enqueue(&mut tx, JobKind::ResetNotice, recovery.id).await?;
        jobs::enqueue_at(&mut tx, JobKind::ApplyReset, recovery.id, reset_at).await?;
        audit::append(
            &mut tx,
            AuditEvent::new("mfa.reset_scheduled", &Actor::User, "scheduled")
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

    /// The reset was applied and read back: the recovery completes, with its audit events and
    /// the notice to the user, in one transaction.
    pub(super) async fn record_reset(
        &self,
        applied: &AppliedReset<'_>,
        actor: &Actor,
        client: &ClientInfo,
        detail: String,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.db.begin().await?;
        recoveries::complete(
            &mut tx,
            applied.recovery.id,
            applied.from,
            client.ip.as_deref(),
        )
        .await?;
        jobs::enqueue(&mut tx, JobKind::ResetNotice, applied.recovery.id).await?;
        let done = |action: &'static str, detail: String| {
            AuditEvent::new(action, actor, "success")
                .username(applied.account)
                .recovery(applied.recovery.id)
                .client(client)
                .detail(detail)
        };
        audit::append(&mut tx, done("mfa.reset", detail)).await?;
        audit::append(
            &mut tx,
            done("sessions.revoked", "AdminUserGlobalSignOut".to_owned()),
        )
        .await?;
        tx.commit().await?;
        metrics::counter!("mfa_resets_total", "outcome" => "applied").increment(1);
        self.wakeup.notify_one();
        Ok(())
    }

    /// Cognito answered but the read-back shows the authenticator is still there.
    pub(super) async fn record_reset_not_applied(
        &self,
        applied: &AppliedReset<'_>,
        actor: &Actor,
        client: &ClientInfo,
        why: &str,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.db.begin().await?;
        recoveries::transition(
            &mut tx,
            applied.recovery.id,
            &[applied.from],
            RecoveryStatus::Failed,
        )
        .await?;
        audit::append(
            &mut tx,
            AuditEvent::new("mfa.reset_failed", actor, "failed")
                .username(applied.account)
                .recovery(applied.recovery.id)
                .client(client)
                .detail(why.to_owned()),
        )
        .await?;
        tx.commit().await?;
        metrics::counter!("mfa_resets_total", "outcome" => "not_applied").increment(1);
        tracing::error!(reason = %why, "MFA reset was not applied");
        Ok(())
    }

    fn max_attempts(&self) -> i32 {
        i32::try_from(self.rules.max_attempts).unwrap_or(i32::MAX)
    }

    /// AdminDeleteSoftwareToken, AdminSetUserMFAPreference (TOTP off), AdminGetUser to read the
    /// result back, AdminUserGlobalSignOut. Every step is safe to repeat, so a confirmation
    /// retried after an outage completes what an earlier one started.
    pub(super) async fn reset_in_cognito(&self, account: &str) -> Result<String, ResetError> {
        let removal = self
            .idp
            .delete_software_token(account)
            .await
            .map_err(ResetError::Unavailable)?;
        // In a pool that requires MFA this answers 200 and changes nothing; the token removal
        // above is what counts there. In an optional pool it turns TOTP off.
        let preference = match self.idp.disable_totp_preference(account).await {
            Ok(()) => "preference cleared".to_owned(),
            Err(IdpError::Refused { code, .. }) => format!("preference refused ({code})"),
            Err(err) => return Err(ResetError::Unavailable(err)),
        };
        let after = self
            .idp
            .find_user(account)
            .await
            .map_err(ResetError::Unavailable)?;
        let removal_text = match &removal {
            TokenRemoval::Removed => "software token deleted".to_owned(),
            TokenRemoval::Unsupported(code) => {
                format!("AdminDeleteSoftwareToken not available ({code})")
            }
            TokenRemoval::Refused(code) => format!("AdminDeleteSoftwareToken refused ({code})"),
        };
        match after {
            None => {
                return Err(ResetError::NotApplied(
                    "the user no longer exists in the pool".to_owned(),
                ))
            }
            Some(user) if user.totp_enabled => {
                return Err(ResetError::NotApplied(format!(
                    "SOFTWARE_TOKEN_MFA is still listed after the reset ({removal_text}; {preference}); \
                     a pool that requires MFA keeps TOTP unless the token itself is deleted"
                )))
            }
            Some(_) => {}
        }
        match self.idp.sign_out_everywhere(account).await {
            Ok(()) => {}
            Err(IdpError::Refused { code, .. }) => {
                return Err(ResetError::NotApplied(format!(
                    "TOTP removed but AdminUserGlobalSignOut was refused ({code})"
                )))
            }
            Err(err) => return Err(ResetError::Unavailable(err)),
        }
        Ok(format!(
            "{removal_text}; {preference}; read back: SOFTWARE_TOKEN_MFA no longer listed"
        ))
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
        let account = recovery
            .account_key
            .as_deref()
            .unwrap_or(&recovery.username);
        let mut tx = self.db.begin().await?;
        // Row changes first, audit events last (the audit chain lock is held to commit).
        self.count_failed_confirm(&mut tx, account).await?;
        let locked = attempts >= self.max_attempts()
            && recoveries::transition(
                &mut tx,
                recovery.id,
                &[RecoveryStatus::CodeSent, RecoveryStatus::NotEligible],
                RecoveryStatus::Locked,
            )
            .await?;
        audit::append(
            &mut tx,
            AuditEvent::new("recovery.confirm_failed", &Actor::User, "rejected")
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
        conn: &mut sqlx::PgConnection,
        recovery: &RecoveryRow,
        client: &ClientInfo,
    ) -> Result<(), sqlx::Error> {
        recoveries::set_locked_ip(conn, recovery.id, client.ip.as_deref()).await?;
        jobs::enqueue(conn, JobKind::LockNotice, recovery.id).await?;
        audit::append(
            conn,
            AuditEvent::new("recovery.locked", &Actor::User, "locked")
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
        if claimed {
            recoveries::transition(
                &mut tx,
                recovery.id,
                &[RecoveryStatus::Resetting],
                RecoveryStatus::CodeSent,
            )
            .await?;
        }
        audit::append(
            &mut tx,
            AuditEvent::new(
                if claimed {
                    "mfa.reset_failed"
                } else {
                    "recovery.confirm_failed"
                },
                &Actor::User,
                "retryable",
            )
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
