//! A user confirms with the emailed code (and password): the attempt is counted before anything
//! is compared, exactly one confirmation claims the recovery, and the reset is applied at once
//! or scheduled after the waiting period.

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use sqlx::PgConnection;

use super::enrollment::Enrollment;
use super::jobs::{ApplyReset, FinishReset, GuessingNotice, LockNotice, ResetNotice};
use super::limits::{AttemptRefused, Block, Reservation};
use super::reset::{ResetError, Resetting};
use super::{HashError, LimitError, RecoveryService};
use crate::audit::{self, Action, AuditEvent, Outcome};
use crate::domain::{
    token_digest, Actor, ClientInfo, RecoveryCode, RecoveryStatus, Transition, Username,
};
use crate::idp::{IdentityProvider, IdpError, PasswordCheck};
use crate::store::attempts;
use crate::store::recoveries::{self, RecoveryRow};
use crate::worker;
use uuid::Uuid;

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
    /// Every hashing slot stayed busy: nothing was judged and the attempt was given back.
    #[error("the service is busy")]
    Busy,
    /// Another confirmation (or the service itself) is applying this recovery's reset.
    #[error("the reset is being applied")]
    ResetInProgress,
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
            Self::Busy => "busy",
            Self::ResetInProgress => "reset_in_progress",
            Self::LimitsUnavailable(_) | Self::Store(_) | Self::Hashing(_) => "error",
        }
    }
}

/// One confirmation attempt, reserved.
struct Attempt {
    /// The key of the name it was typed with: what its limits count against.
    name_key: String,
    /// How the name is recorded.
    display: String,
    /// The client address block it came from.
    prefix: String,
    reservation: Reservation,
    /// The live recoveries requested from the same block (their attempts were counted).
    own: Vec<Uuid>,
    /// The live recovery of the name audit events refer to (the block's own first).
    newest: Option<Uuid>,
}

/// How a confirmation was counted before anything was judged: as an attempt against the name's
/// limits (a code), or as a try of an emailed link (`tries` of at most `max`).
enum Counted<'a> {
    Code(&'a Attempt),
    Link {
        recovery: Uuid,
        tries: i32,
        max: i64,
    },
}

impl Counted<'_> {
    /// How a right confirmation takes the recovery for its reset.
    fn claim(&self) -> Transition {
        match self {
            Self::Code(_) => Transition::ClaimForReset,
            Self::Link { .. } => Transition::ClaimByLink,
        }
    }

    /// The confirmation was right: it no longer counts as a failure.
    async fn right(&self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        match self {
            Self::Code(attempt) => attempts::succeeded(conn, attempt.reservation.id).await,
            Self::Link { .. } => Ok(()),
        }
    }

    /// The confirmation was never judged: it stops counting. Recoveries first, attempts
    /// second: the order a completing reset takes them in, so the two never wait for each other.
    async fn give_back(&self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        match self {
            Self::Code(attempt) => {
                for id in &attempt.own {
                    recoveries::refund_attempt(conn, *id).await?;
                }
                attempts::refund(conn, attempt.reservation.id).await
            }
            Self::Link { recovery, .. } => recoveries::refund_confirm_link(conn, *recovery).await,
        }
    }
}

/// A confirmation through the one-time link of a code email.
pub struct LinkConfirmation {
    pub link: SecretString,
    pub password: Option<SecretString>,
    pub client: ClientInfo,
}

/// What a successful confirmation did.
pub enum ConfirmOutcome {
    /// The authenticator was removed and read back, and the user signed out everywhere; with
    /// the password at hand, the new authenticator's enrollment is offered.
    Reset { enrollment: Option<Enrollment> },
    /// The reset waits for the configured delay, cancellable from the notice.
    Scheduled { reset_at: DateTime<Utc> },
}

/// The password step of a confirmation whose code was right: passed, or failed and why (for
/// the audit). Without `REQUIRE_PASSWORD` there is none, and the identity provider is not asked.
async fn password_step(
    idp: &dyn IdentityProvider,
    required: bool,
    account: &str,
    password: Option<&SecretString>,
    client: &ClientInfo,
) -> Result<Result<(), &'static str>, IdpError> {
    if !required {
        return Ok(Ok(()));
    }
    let Some(password) = password else {
        return Ok(Err("no password"));
    };
    Ok(match idp.check_password(account, password, client).await? {
        PasswordCheck::Correct => Ok(()),
        PasswordCheck::Wrong => Err("wrong password"),
    })
}

/// Counts a confirmation's outcome (`recovery_confirms_total`).
fn counted(result: Result<ConfirmOutcome, ConfirmError>) -> Result<ConfirmOutcome, ConfirmError> {
    let outcome = match &result {
        Ok(ConfirmOutcome::Reset { .. }) => "reset",
        Ok(ConfirmOutcome::Scheduled { .. }) => "scheduled",
        Err(err) => err.outcome(),
    };
    metrics::counter!("recovery_confirms_total", "outcome" => outcome).increment(1);
    result
}

impl RecoveryService {
    /// Counts the confirmation against its client address (per hour).
    async fn limit_confirmations(&self, client: &ClientInfo) -> Result<(), ConfirmError> {
        self.limits
            .limit_client("confirm", client)
            .await
            .map_err(|e| match e {
                LimitError::Limited { retry_after } => ConfirmError::RateLimited { retry_after },
                LimitError::Unavailable(e) => ConfirmError::LimitsUnavailable(e),
            })
    }

    /// Checks the code (and password) and, when both are right, removes the user's TOTP
    /// authenticator in Cognito, reads the result back and signs the user out everywhere.
    pub async fn confirm(
        &self,
        confirmation: Confirmation,
    ) -> Result<ConfirmOutcome, ConfirmError> {
        counted(self.confirm_attempt(confirmation).await)
    }

    #[tracing::instrument(skip_all, fields(recovery_id))]
    async fn confirm_attempt(
        &self,
        confirmation: Confirmation,
    ) -> Result<ConfirmOutcome, ConfirmError> {
        let actor = Actor::User;
        let client = &confirmation.client;
        let username = confirmation.username.as_str();

        self.limit_confirmations(client).await?;

        // 1. Count this attempt before anything is compared, in a transaction of its own: the
        //    account's limits are read and the attempt reserved under one lock, so concurrent
        //    guesses are each counted and none skips a delay, and a crash later cannot un-count
        //    one. Attempts count per client address block: one address cannot lock or use up
        //    what the owner gets elsewhere.
        let prefix = client.address_block();
        let mut tx = self.db.begin().await?;
        let name_key = self.names.key(&confirmation.username);
        recoveries::lock_account(&mut tx, &name_key).await?;
        let live = recoveries::live_for(&mut tx, self.now(), &name_key, username, &prefix).await?;
        let own: Vec<Uuid> = live
            .iter()
            .filter(|r| r.request_prefix.as_deref() == Some(prefix.as_str()))
            .map(|r| r.id)
            .collect();
        let block = if own.is_empty() {
            Block::Stranger
        } else {
            Block::Holder
        };
        // The name is recorded as the user's Cognito username once a recovery showed it is one,
        // redacted otherwise (it may be anything: a typo, a password typed in the wrong field).
        let display = live.first().map_or_else(
            || self.names.redacted(&confirmation.username),
            |r| r.username.clone(),
        );
        let failed = |detail: &str| {
            AuditEvent::new(Action::ConfirmFailed, &actor, Outcome::Rejected)
                .username(&display)
                .client(client)
                .detail(detail.to_owned())
        };
        let newest = live.first().map(|r| r.id);
        let reservation = match self
            .limits
            .reserve_attempt(&mut tx, &name_key, &prefix, block)
            .await?
        {
            Ok(reservation) => reservation,
            Err(refused) => {
                let (err, detail) = match refused {
                    AttemptRefused::Locked => (
                        ConfirmError::Locked,
                        "locked after too many wrong confirmations from this address".to_owned(),
                    ),
                    AttemptRefused::Throttled { retry_after, why } => {
                        metrics::counter!("rate_limit_rejections_total", "limit" => "account_confirms")
                            .increment(1);
                        (
                            ConfirmError::Throttled { retry_after },
                            format!("{why}; retry in {retry_after} s"),
                        )
                    }
                };
                let mut event = failed(&detail);
                if let Some(id) = newest {
                    event = event.recovery(id);
                }
                audit::append(&mut tx, event).await?;
                tx.commit().await?;
                return Err(err);
            }
        };
        for id in &own {
            recoveries::count_attempt(&mut tx, *id).await?;
        }
        tx.commit().await?;
        let attempt = Attempt {
            name_key,
            display: display.clone(),
            prefix,
            reservation,
            own,
            newest,
        };

        // 2. Compare with the live codes of the name, all of them whatever matches, and with
        //    dummies up to the same number every time: the time taken tells nothing about what
        //    is live. The password is checked only once a code is right, so that a guesser
        //    learns nothing about it.
        let matched = match self.compare(&confirmation.code, &live).await {
            Ok(matched) => matched,
            Err(HashError::Busy) => {
                // Nothing was judged: the attempt is given back.
                self.give_back(&Counted::Code(&attempt)).await?;
                return Err(ConfirmError::Busy);
            }
            Err(err) => return Err(err.into()),
        };
        let Some(recovery) = matched else {
            let why = match live.first().map(|r| r.status) {
                None => "no live recovery for this name",
                Some(RecoveryStatus::NotEligible) => "no code was issued to this name",
                Some(_) => "wrong code",
            };
            return self.failed_attempt(&attempt, client, why).await;
        };
        self.judge_password(
            recovery,
            &Counted::Code(&attempt),
            confirmation.password.as_ref(),
            client,
        )
        .await
    }

    /// A confirmation through the one-time link of a code email: the password (when required)
    /// is all it asks for. It is not judged against the name's other codes and not refused by
    /// the account's ceiling of wrong confirmations, so that guessing from elsewhere can never
    /// shut out the person who holds the mailbox; the link takes a few wrong passwords, then
    /// stops working (the code does not). It works until its code expires, unless its recovery
    /// is superseded, cancelled or used: a lock of the code does not end it.
    pub async fn confirm_link(
        &self,
        confirmation: LinkConfirmation,
    ) -> Result<ConfirmOutcome, ConfirmError> {
        counted(self.confirm_link_attempt(confirmation).await)
    }

    #[tracing::instrument(skip_all, fields(recovery_id))]
    async fn confirm_link_attempt(
        &self,
        confirmation: LinkConfirmation,
    ) -> Result<ConfirmOutcome, ConfirmError> {
        let client = &confirmation.client;
        self.limit_confirmations(client).await?;
        let mut tx = self.db.begin().await?;
        let Some((recovery, tries)) =
            recoveries::try_confirm_link(&mut tx, self.now(), &token_digest(&confirmation.link))
                .await?
        else {
            return Err(ConfirmError::Invalid);
        };
        let max = self.limits.budgets().attempts_per_code;
        if i64::from(tries) > max {
            recoveries::end_confirm_link(&mut tx, recovery.id).await?;
            audit::append(
                &mut tx,
                AuditEvent::new(Action::ConfirmFailed, &Actor::User, Outcome::Rejected)
                    .username(&recovery.username)
                    .recovery(recovery.id)
                    .client(client)
                    .detail(format!(
                        "the emailed link stopped working after {max} wrong passwords; the code still works"
                    )),
            )
            .await?;
            tx.commit().await?;
            return Err(ConfirmError::Locked);
        }
        tx.commit().await?;
        self.judge_password(
            &recovery,
            &Counted::Link {
                recovery: recovery.id,
                tries,
                max,
            },
            confirmation.password.as_ref(),
            client,
        )
        .await
    }

    /// The code (or the emailed link) was right: checks the password and, when it is right too,
    /// claims the recovery and applies its reset (or schedules it).
    async fn judge_password(
        &self,
        recovery: &RecoveryRow,
        counted: &Counted<'_>,
        password: Option<&SecretString>,
        client: &ClientInfo,
    ) -> Result<ConfirmOutcome, ConfirmError> {
        tracing::Span::current().record("recovery_id", tracing::field::display(recovery.id));
        match password_step(
            self.idp.as_ref(),
            self.rules.require_password,
            recovery.account(),
            password,
            client,
        )
        .await
        {
            Ok(Ok(())) => {}
            Ok(Err(why)) => {
                return match counted {
                    Counted::Code(attempt) => self.failed_attempt(attempt, client, why).await,
                    Counted::Link { tries, max, .. } => {
                        self.failed_link(recovery, client, why, *tries, *max).await
                    }
                }
            }
            Err(err) => return Err(self.unavailable(recovery, counted, client, err).await?),
        }
        let actor = Actor::User;

        // The service already finished this reset on its own after this code's confirmation
        // was answered 503: the retry is answered as the reset it asked for, once.
        if recovery.status == RecoveryStatus::Completed {
            let mut conn = self.db.acquire().await?;
            counted.right(&mut conn).await?;
            recoveries::code_used(&mut conn, recovery.id).await?;
            return Ok(ConfirmOutcome::Reset { enrollment: None });
        }
        // Only one confirmation applies the reset. Its claim queues, in the same transaction,
        // the job that finishes the reset should this confirmation not (it dies, or Cognito
        // stops answering after the token deletion may have been sent).
        let lease = self.reset_lease_seconds();
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let Some(claim) =
            recoveries::claim_for_reset(&mut tx, now, recovery.id, counted.claim(), lease).await?
        else {
            let now = recoveries::get(&mut tx, recovery.id)
                .await?
                .map(|r| r.status);
            if now == Some(RecoveryStatus::Resetting) {
                // Right code and password: this attempt does not count against anyone.
                tx.rollback().await?;
                self.give_back(counted).await?;
                return Err(ConfirmError::ResetInProgress);
            }
            let event = AuditEvent::new(Action::ConfirmFailed, &actor, Outcome::Rejected)
                .username(&recovery.username)
                .recovery(recovery.id)
                .client(client)
                .detail("code already used");
            audit::append(&mut tx, event).await?;
            tx.commit().await?;
            return Err(ConfirmError::Invalid);
        };
        counted.right(&mut tx).await?;
        if self.rules.reset_delay.is_zero() {
            // Taking over a reset whose holder's lease ran out moves its job: one per reset.
            let due = now + chrono::Duration::seconds(lease);
            if worker::reschedule::<FinishReset>(&mut tx, recovery.id, due).await? == 0 {
                worker::enqueue_at::<FinishReset>(&mut tx, recovery.id, due).await?;
            }
        }
        tx.commit().await?;

        // With a waiting period, schedule the reset; otherwise apply it in Cognito and prove it.
        if !self.rules.reset_delay.is_zero() {
            return self.schedule_reset(recovery, client).await;
        }
        let resetting = Resetting {
            recovery,
            claim,
            actor: &actor,
            client,
        };
        match self.reset(&resetting).await {
            Ok(()) => {
                // Answered 200: the code is used.
                recoveries::code_used(&mut *self.db.acquire().await?, recovery.id).await?;
                let enrollment = match password {
                    Some(password) => self.start_enrollment(recovery, password, client).await,
                    None => None,
                };
                Ok(ConfirmOutcome::Reset { enrollment })
            }
            Err(ResetError::Unavailable(err)) => {
                Err(self.hand_over(recovery, claim, client, err).await?)
            }
            Err(ResetError::NotApplied(why)) => Err(ConfirmError::ResetNotApplied(why)),
            Err(ResetError::Store(err)) => Err(ConfirmError::Store(err)),
        }
    }

    /// A wrong password through the emailed link (counted when it was tried): recorded.
    async fn failed_link(
        &self,
        recovery: &RecoveryRow,
        client: &ClientInfo,
        why: &str,
        tries: i32,
        max: i64,
    ) -> Result<ConfirmOutcome, ConfirmError> {
        let mut tx = self.db.begin().await?;
        audit::append(
            &mut tx,
            AuditEvent::new(Action::ConfirmFailed, &Actor::User, Outcome::Rejected)
                .username(&recovery.username)
                .recovery(recovery.id)
                .client(client)
                .detail(format!(
                    "{why} through the emailed link (try {tries} of {max})"
                )),
        )
        .await?;
        tx.commit().await?;
        Err(ConfirmError::Invalid)
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
        let reset_at = recoveries::schedule(
            &mut tx,
            self.now(),
            recovery.id,
            delay,
            client.ip.as_deref(),
        )
        .await?
        .ok_or(ConfirmError::Invalid)?;
        worker::enqueue::<ResetNotice>(&mut tx, recovery.id).await?;
        worker::enqueue_at::<ApplyReset>(&mut tx, recovery.id, reset_at).await?;
        self.recovery_decided(&mut tx, recovery, client).await?;
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

    /// The live recovery whose code this is, comparing with every one of them and with dummies
    /// up to `recoveries::COMPARED` verifications in all, whatever is live.
    async fn compare<'a>(
        &self,
        code: &RecoveryCode,
        live: &'a [RecoveryRow],
    ) -> Result<Option<&'a RecoveryRow>, HashError> {
        let mut matched = None;
        for n in 0..recoveries::COMPARED.max(live.len()) {
            let recovery = live.get(n);
            let right = self
                .hasher
                .verify(code, recovery.and_then(|r| r.code_hash.as_deref()))
                .await?;
            if right && matched.is_none() {
                matched = recovery;
            }
        }
        Ok(matched)
    }

    /// A confirmation that was never judged stops counting.
    async fn give_back(&self, counted: &Counted<'_>) -> Result<(), sqlx::Error> {
        let mut tx = self.db.begin().await?;
        counted.give_back(&mut tx).await?;
        tx.commit().await
    }

    /// A wrong code or password. It was counted when reserved; here it is recorded, and when
    /// it is the last one allowed from its address block, that block's own codes lock.
    async fn failed_attempt(
        &self,
        attempt: &Attempt,
        client: &ClientInfo,
        why: &str,
    ) -> Result<ConfirmOutcome, ConfirmError> {
        let max = self.limits.budgets().attempts_per_code;
        let n = attempt.reservation.failures_since_code;
        let mut tx = self.db.begin().await?;
        // Row changes first, audit events last (the audit chain lock is held to commit).
        let locked = if n >= max {
            recoveries::lock_from_prefix(&mut tx, self.now(), &attempt.name_key, &attempt.prefix)
                .await?
        } else {
            Vec::new()
        };
        let mut event = AuditEvent::new(Action::ConfirmFailed, &Actor::User, Outcome::Rejected)
            .username(&attempt.display)
            .client(client)
            .detail(format!("{why} (attempt {n} of {max} from this address)"));
        if let Some(id) = attempt.newest {
            event = event.recovery(id);
        }
        audit::append(&mut tx, event).await?;
        self.recoveries_locked(&mut tx, &locked, client).await?;
        // This failure reached the account's daily ceiling, past which addresses that asked for
        // no code are refused: the owner is told (the job sends at most one a day, and finds
        // out whether there is an owner, so this path is the same for every name).
        if attempt.reservation.account_failures == self.limits.budgets().failures_per_day {
            if let Some(id) = attempt.newest {
                worker::enqueue::<GuessingNotice>(&mut tx, id).await?;
                self.wakeup.notify_one();
            }
        }
        tx.commit().await?;
        Err(ConfirmError::Invalid)
    }

    /// Recoveries just locked: each audited, and their owner told once, about the newest (a name
    /// without an account has no one to tell; the job finds that out, so this path is the same
    /// for every name).
    async fn recoveries_locked(
        &self,
        conn: &mut PgConnection,
        locked: &[RecoveryRow],
        client: &ClientInfo,
    ) -> Result<(), sqlx::Error> {
        let Some(newest) = locked.first() else {
            return Ok(());
        };
        recoveries::set_locked_ip(conn, newest.id, client.ip.as_deref()).await?;
        worker::enqueue::<LockNotice>(conn, newest.id).await?;
        for recovery in locked {
            audit::append(
                conn,
                AuditEvent::new(Action::Locked, &Actor::User, Outcome::Locked)
                    .username(&recovery.username)
                    .recovery(recovery.id)
                    .client(client)
                    .detail(format!(
                        "{} wrong attempts from this address",
                        self.limits.budgets().attempts_per_code
                    )),
            )
            .await?;
        }
        self.wakeup.notify_one();
        Ok(())
    }

    /// Cognito could not be reached before anything was decided (the password check): the
    /// attempt is given back, leaving the code usable for a retry.
    async fn unavailable(
        &self,
        recovery: &RecoveryRow,
        counted: &Counted<'_>,
        client: &ClientInfo,
        err: IdpError,
    ) -> Result<ConfirmError, ConfirmError> {
        tracing::warn!(error = %err, "Cognito unavailable during confirmation");
        self.give_back(counted).await?;
        let mut tx = self.db.begin().await?;
        audit::append(
            &mut tx,
            AuditEvent::new(Action::ConfirmFailed, &Actor::User, Outcome::Retryable)
                .username(&recovery.username)
                .recovery(recovery.id)
                .client(client)
                .detail(format!("{err}; the code stays usable")),
        )
        .await?;
        tx.commit().await?;
        Ok(ConfirmError::IdentityProviderUnavailable(err))
    }

    /// Cognito stopped answering while the reset was being applied: the token deletion may have
    /// been sent, so the recovery never goes back. Its lease goes at once and the job finishes
    /// the reset, unasked; a retry with the same code is answered once it has.
    async fn hand_over(
        &self,
        recovery: &RecoveryRow,
        claim: Uuid,
        client: &ClientInfo,
        err: IdpError,
    ) -> Result<ConfirmError, ConfirmError> {
        tracing::warn!(error = %err, "Cognito unavailable while applying a reset; the job finishes it");
        let mut tx = self.db.begin().await?;
        recoveries::hand_over_reset(&mut tx, self.now(), recovery.id, claim).await?;
        worker::reschedule::<FinishReset>(&mut tx, recovery.id, self.now()).await?;
        audit::append(
            &mut tx,
            AuditEvent::new(Action::MfaResetFailed, &Actor::User, Outcome::Retryable)
                .username(&recovery.username)
                .recovery(recovery.id)
                .client(client)
                .detail(format!(
                    "{err}; the service finishes the reset on its own, and a retry with the same code is answered once it has"
                )),
        )
        .await?;
        tx.commit().await?;
        self.wakeup.notify_one();
        Ok(ConfirmError::IdentityProviderUnavailable(err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idp::memory::{verbs, MemoryIdp, MemoryUser};
    use crate::idp::MfaMode;

    fn idp() -> MemoryIdp {
        let idp = MemoryIdp::new(MfaMode::Required);
        idp.add_user(
            "jane",
            MemoryUser::with_authenticator("correct horse", "jane@example.com"),
        );
        idp
    }

    async fn step(
        idp: &MemoryIdp,
        required: bool,
        password: Option<&str>,
    ) -> Result<Result<(), &'static str>, IdpError> {
        let password = password.map(SecretString::from);
        password_step(
            idp,
            required,
            "jane",
            password.as_ref(),
            &ClientInfo::default(),
        )
        .await
    }

    #[tokio::test]
    async fn the_password_is_checked_with_the_identity_provider_only_when_required_and_given() {
        let idp = idp();
        assert_eq!(
            step(&idp, true, Some("correct horse")).await.unwrap(),
            Ok(())
        );
        assert_eq!(
            step(&idp, true, Some("Correct horse")).await.unwrap(),
            Err("wrong password")
        );
        assert_eq!(idp.calls(), [verbs::CHECK_PASSWORD, verbs::CHECK_PASSWORD]);

        let idp = self::idp();
        assert_eq!(step(&idp, true, None).await.unwrap(), Err("no password"));
        assert_eq!(step(&idp, false, None).await.unwrap(), Ok(()));
        assert_eq!(step(&idp, false, Some("wrong")).await.unwrap(), Ok(()));
        assert!(
            idp.calls().is_empty(),
            "nobody was asked: {:?}",
            idp.calls()
        );
    }

    #[tokio::test]
    async fn an_unreachable_identity_provider_decides_nothing() {
        let idp = idp();
        idp.unavailable_once(verbs::CHECK_PASSWORD);
        assert!(matches!(
            step(&idp, true, Some("correct horse")).await,
            Err(IdpError::Unavailable { .. })
        ));
    }
}
