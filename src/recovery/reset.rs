//! The one reset sequence, used by a confirmation and by the job that applies a scheduled
//! reset: remove the authenticator at the identity provider, read the result back, sign the
//! user out everywhere (`removal`), and record what happened (completed with its notice, or
//! failed).

use sqlx::PgConnection;
use uuid::Uuid;

use super::jobs::ResetNotice;
use super::removal::{self, Applied, Devices};
use super::RecoveryService;
use crate::audit::{self, Action, AuditEvent, Outcome};
use crate::domain::{Actor, ClientInfo, RecoveryStatus, Transition};
use crate::idp::IdpError;
use crate::store::recoveries::{self, RecoveryRow, Superseding};
use crate::store::{self, attempts};
use crate::worker::{self, JobError};

/// How long the outcome of a reset Cognito applied is written again while the database cannot
/// be reached (a restart), before the reset is left to its `finish_reset` job.
const RECORD_WITHIN: std::time::Duration = std::time::Duration::from_secs(20);

/// A recovery claimed for its reset (status `resetting`), and who is applying it.
pub(super) struct Resetting<'a> {
    pub recovery: &'a RecoveryRow,
    /// The claim's id: every transition of the reset requires it (fencing).
    pub claim: Uuid,
    pub actor: &'a Actor,
    pub client: &'a ClientInfo,
}

/// Why a reset did not complete.
#[derive(Debug)]
pub(super) enum ResetError {
    /// Cognito could not be reached. The token deletion may have been sent: the recovery stays
    /// `resetting`, and the job that finishes resets completes it.
    Unavailable(IdpError),
    /// Cognito answered but the authenticator is still there (recorded as failed).
    NotApplied(String),
    Store(sqlx::Error),
}

impl RecoveryService {
    /// Applies the reset in Cognito and records it. Completed: the recovery is done, `mfa.reset`
    /// and `sessions.revoked` are audited and the notice is queued, in one transaction.
    /// While it works, the holder renews its lease every third of it (a heartbeat), so that the
    /// lease can be short: a holder that dies loses the reset within one lease, and the job
    /// that finishes resets takes it over then, not minutes later.
    pub(super) async fn reset(&self, resetting: &Resetting<'_>) -> Result<(), ResetError> {
        let lease = self.reset_lease_seconds();
        let beat = std::time::Duration::from_secs_f64((lease as f64 / 3.0).max(0.2));
        let work = self.reset_and_record(resetting);
        tokio::pin!(work);
        loop {
            tokio::select! {
                result = &mut work => return result,
                () = tokio::time::sleep(beat) => self.heartbeat(resetting, lease).await,
            }
        }
    }

    /// Renews the lease of the reset `resetting` holds (a failure only means the lease may run
    /// out: the job finishing resets then takes over, which is safe).
    async fn heartbeat(&self, resetting: &Resetting<'_>, lease: i64) {
        let renewed = async {
            let mut conn = self.db.acquire().await?;
            let recovery = resetting.recovery.id;
            recoveries::renew_claim(&mut conn, self.now(), recovery, resetting.claim, lease).await
        };
        match renewed.await {
            Ok(true) => tracing::debug!("the reset's lease was renewed"),
            Ok(false) => tracing::warn!("the reset's lease was taken over while it was applied"),
            Err(err) => tracing::warn!(error = %err, "the reset's lease could not be renewed"),
        }
    }

    async fn reset_and_record(&self, resetting: &Resetting<'_>) -> Result<(), ResetError> {
        match self.reset_at_the_identity_provider(resetting).await {
            Ok(applied) => {
                store::retry_while_unavailable(RECORD_WITHIN, || {
                    self.record_reset(resetting, applied.clone())
                })
                .await
                .map_err(ResetError::Store)?;
                tracing::info!("TOTP authenticator removed and read back");
                Ok(())
            }
            Err(ResetError::NotApplied(why)) => {
                store::retry_while_unavailable(RECORD_WITHIN, || {
                    self.record_reset_not_applied(resetting, &why)
                })
                .await
                .map_err(ResetError::Store)?;
                Err(ResetError::NotApplied(why))
            }
            Err(err) => Err(err),
        }
    }

    /// The reset at the identity provider (`removal`), with what must survive a crash recorded
    /// between its halves: that this run removed SMS MFA, so that a retry's notice still asks
    /// for a new number.
    async fn reset_at_the_identity_provider(
        &self,
        resetting: &Resetting<'_>,
    ) -> Result<Applied, ResetError> {
        let recovery = resetting.recovery;
        let account = recovery.account();
        let recover_sms = self.rules.factors.sms;
        let removed = removal::remove_factors(self.idp.as_ref(), account, recover_sms).await?;
        if removed.sms.is_some() {
            store::retry_while_unavailable(RECORD_WITHIN, || {
                recoveries::sms_removed(&self.db, recovery.id, resetting.claim)
            })
            .await
            .map_err(ResetError::Store)?;
        }
        removal::read_back_and_sign_out(
            self.idp.as_ref(),
            account,
            recover_sms,
            removed,
            recovery.sms_removed,
        )
        .await
    }

    /// The owner proved code and password and this recovery goes on (applied, or scheduled):
    /// every other code of the account stops working, and its count of wrong confirmations
    /// starts again (NIST SP 800-63B-4 limits consecutive failures).
    pub(super) async fn recovery_decided(
        &self,
        conn: &mut PgConnection,
        recovery: &RecoveryRow,
        client: &ClientInfo,
    ) -> Result<(), sqlx::Error> {
        attempts::clear(conn, &self.name_key_of(recovery)).await?;
        self.supersede(
            conn,
            recovery,
            &recovery.username,
            client,
            Superseding::Account(recovery.account()),
        )
        .await
    }

    /// The reset was applied and read back: the recovery completes, with its audit events and
    /// the notice to the user, in one transaction.
    async fn record_reset(
        &self,
        resetting: &Resetting<'_>,
        applied: Applied,
    ) -> Result<(), sqlx::Error> {
        let Applied {
            detail,
            devices,
            sms_removed,
        } = applied;
        let Resetting {
            recovery,
            claim,
            actor,
            client,
        } = resetting;
        let mut tx = self.db.begin().await?;
        if !recoveries::complete(
            &mut tx,
            self.now(),
            recovery.id,
            *claim,
            client.ip.as_deref(),
            sms_removed,
        )
        .await?
        .applied()
        {
            // This holder's lease ran out and another took the reset over: it records it.
            tracing::warn!("the reset was taken over by another holder; not recorded twice");
            return Ok(());
        }
        worker::enqueue::<ResetNotice>(&mut tx, recovery.id).await?;
        self.recovery_decided(&mut tx, recovery, client).await?;
        let done = |action: Action, detail: String| {
            AuditEvent::new(action, actor, Outcome::Success)
                .username(recovery.account())
                .recovery(recovery.id)
                .client(client)
                .detail(detail)
        };
        audit::append(&mut tx, done(Action::MfaReset, detail)).await?;
        let devices_event = match devices {
            Devices::Forgotten(n) => done(
                Action::DevicesForgotten,
                format!("{n} remembered device(s) forgotten; read back: none listed"),
            ),
            Devices::NotChecked(why) => {
                tracing::error!(reason = %why, "remembered devices could not be forgotten: the service may not list or forget them (see the IAM policy in docs/OPERATIONS.md)");
                AuditEvent::new(Action::DevicesForgotten, actor, Outcome::Failed)
                    .username(recovery.account())
                    .recovery(recovery.id)
                    .client(client)
                    .detail(format!("remembered devices not checked: {why}"))
            }
        };
        audit::append(&mut tx, devices_event).await?;
        audit::append(
            &mut tx,
            done(
                Action::SessionsRevoked,
                "every session signed out".to_owned(),
            ),
        )
        .await?;
        tx.commit().await?;
        metrics::counter!("mfa_resets_total", "outcome" => "applied").increment(1);
        self.wakeup.notify_one();
        Ok(())
    }

    /// Cognito answered but the read-back shows the authenticator is still there.
    async fn record_reset_not_applied(
        &self,
        resetting: &Resetting<'_>,
        why: &str,
    ) -> Result<(), sqlx::Error> {
        let Resetting {
            recovery,
            claim,
            actor,
            client,
        } = resetting;
        let mut tx = self.db.begin().await?;
        if recoveries::fail_reset(&mut tx, self.now(), recovery.id, *claim)
            .await?
            .applied()
        {
            audit::append(
                &mut tx,
                AuditEvent::new(Action::MfaResetFailed, actor, Outcome::Failed)
                    .username(recovery.account())
                    .recovery(recovery.id)
                    .client(client)
                    .detail(why.to_owned()),
            )
            .await?;
        }
        tx.commit().await?;
        metrics::counter!("mfa_resets_total", "outcome" => "not_applied").increment(1);
        tracing::error!(reason = %why, "MFA reset was not applied");
        Ok(())
    }

    /// The waiting period is over and nobody cancelled: apply the reset, as a confirmation
    /// would have at once. The recovery is claimed (scheduled → resetting) in a statement of its
    /// own first, so that from then on a cancel link answers that it is too late, and nothing
    /// here holds the row while Cognito is called.
    pub(super) async fn apply_scheduled_reset(
        &self,
        conn: &mut PgConnection,
        recovery_id: Uuid,
    ) -> Result<(), JobError> {
        let Some(recovery) = recoveries::get(conn, recovery_id).await? else {
            return Ok(());
        };
        let Some(reset_at) = recovery.reset_at else {
            return Ok(());
        };
        if !Transition::ClaimScheduled.applies_to(recovery.status) {
            return Ok(()); // cancelled or applied meanwhile
        }
        // A reset nobody was told about is not applied: the notice with the cancel link must
        // have been handed to SES, and its waiting period (which starts there) be over. Retried,
        // and each try audited, until then.
        if recovery.notice_sent_at.is_none() {
            return Err(JobError::transient(
                "applying the scheduled reset",
                "its notice with the cancel link has not been sent yet, so it is not applied",
            ));
        }
        if reset_at > self.now() {
            return Err(JobError::transient(
                "applying the scheduled reset",
                "its waiting period, which started when the notice was sent, is not over",
            ));
        }
        let mut conn = self.db.acquire().await?;
        // From `resetting` too: a run that died after claiming is picked up by the retry.
        let Some(claim) = recoveries::claim_scheduled(
            &mut conn,
            self.now(),
            recovery.id,
            self.reset_lease_seconds(),
        )
        .await?
        else {
            return Ok(()); // cancelled meanwhile
        };
        self.reset_or_retry(&mut conn, &recovery, claim, "applying the scheduled reset")
            .await
    }

    /// Finishes a reset whose confirmation let go of it (died, or gave up while Cognito was
    /// unreachable), unasked: every step is safe to repeat. Once the token deletion may have
    /// been sent, the recovery never goes back to a usable or failed state; this job retries
    /// until the reset is done.
    pub(super) async fn finish_reset(
        &self,
        conn: &mut PgConnection,
        recovery_id: Uuid,
    ) -> Result<(), JobError> {
        let Some(recovery) = recoveries::get(conn, recovery_id).await? else {
            return Ok(());
        };
        if recovery.status != RecoveryStatus::Resetting {
            return Ok(()); // finished by its confirmation, or scheduled
        }
        let mut conn = self.db.acquire().await?;
        let lease = self.reset_lease_seconds();
        let Some(claim) =
            recoveries::take_over_reset(&mut conn, self.now(), recovery.id, lease).await?
        else {
            // Its holder's lease still runs: due again the moment it ends, not backed off.
            let until = recoveries::claimed_until(&mut conn, recovery.id)
                .await?
                .unwrap_or_else(|| self.now());
            return Err(JobError::NotYet {
                until,
                why: "its confirmation still holds it",
            });
        };
        self.reset_or_retry(&mut conn, &recovery, claim, "finishing the reset")
            .await
    }

    /// Applies a claimed reset for a job (the system acts, for the address the confirmation came
    /// from); when Cognito is unreachable the lease goes at once and the job retries (the
    /// recovery stays `resetting`).
    async fn reset_or_retry(
        &self,
        conn: &mut PgConnection,
        recovery: &RecoveryRow,
        claim: Uuid,
        doing: &'static str,
    ) -> Result<(), JobError> {
        let client = ClientInfo {
            ip: recovery.completed_ip.clone(),
            ..ClientInfo::default()
        };
        let resetting = Resetting {
            recovery,
            claim,
            actor: &Actor::System,
            client: &client,
        };
        match self.reset(&resetting).await {
            Ok(()) | Err(ResetError::NotApplied(_)) => Ok(()),
            Err(ResetError::Store(err)) => Err(err.into()),
            Err(ResetError::Unavailable(err)) => {
                recoveries::hand_over_reset(conn, self.now(), recovery.id, claim).await?;
                Err(JobError::transient(doing, err))
            }
        }
    }

    pub(super) fn reset_lease_seconds(&self) -> i64 {
        i64::try_from(self.rules.reset_lease.as_secs()).unwrap_or(i64::MAX)
    }
}
