//! The one reset sequence, used by a confirmation and by the job that applies a scheduled
//! reset: remove the authenticator in Cognito, read the result back, sign the user out
//! everywhere, and record what happened (completed with its notice, or failed).

use sqlx::PgConnection;
use uuid::Uuid;

use super::jobs::ResetNotice;
use super::RecoveryService;
use crate::audit::{self, Action, AuditEvent, Outcome};
use crate::domain::{Actor, ClientInfo, RecoveryStatus, Transition};
use crate::idp::{AuthFactors, IdpError, MfaFactor, TokenRemoval};
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

/// What became of the user's remembered devices (which skip MFA, and may include the lost
/// phone) in a reset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Devices {
    /// This many were forgotten, and none is listed any more.
    Forgotten(usize),
    /// Cognito refused to list or forget them (such as a missing IAM permission): the reset is
    /// still recorded, and says so.
    NotChecked(String),
}

/// What a reset did in Cognito, every part of it read back.
#[derive(Debug, Clone)]
pub(super) struct Applied {
    /// For the `mfa.reset` event: each step and what is left.
    detail: String,
    devices: Devices,
    /// SMS MFA was on and is off now (and, in a pool that requires MFA, its number removed):
    /// the notice asks for a new number.
    sms_removed: bool,
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

/// What the user can still sign in or pass MFA with, for the audit detail.
fn remaining_factors(factors: &AuthFactors) -> String {
    let list = |names: Vec<&str>| {
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    };
    let mut text = format!(
        "factors left: {}; MFA left: {}",
        list(factors.sign_in.iter().map(|f| f.name()).collect()),
        list(factors.mfa.iter().map(|f| f.name()).collect())
    );
    if factors.has_passkey() {
        text.push_str(" (a passkey stays: no admin API removes one; the notice asks the owner to remove it if it was on the lost phone)");
    }
    text
}

impl RecoveryService {
    /// Applies the reset in Cognito and records it. Completed: the recovery is done, `mfa.reset`
    /// and `sessions.revoked` are audited and the notice is queued, in one transaction.
    pub(super) async fn reset(&self, resetting: &Resetting<'_>) -> Result<(), ResetError> {
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

    /// AdminDeleteSoftwareToken, AdminSetUserMFAPreference (TOTP off), SMS MFA off when
    /// `RECOVERY_FACTORS` lists it, AdminGetUser and AdminGetUserAuthFactors to read the result
    /// back, the remembered devices forgotten and read back, AdminUserGlobalSignOut. Every step
    /// is safe to repeat, so a reset retried after an outage completes what an earlier one
    /// started.
    async fn reset_at_the_identity_provider(
        &self,
        resetting: &Resetting<'_>,
    ) -> Result<Applied, ResetError> {
        let recovery = resetting.recovery;
        let account = recovery.account();
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
        let sms_on = match after {
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
            Some(user) => user.sms_enabled,
        };
        // SMS MFA too, when the operator recovers it and the read-back shows it on (an earlier
        // run of this reset may have removed it already).
        let sms = if self.rules.factors.sms && sms_on {
            let removed = self.remove_sms(account).await?;
            store::retry_while_unavailable(RECORD_WITHIN, || {
                recoveries::sms_removed(&self.db, recovery.id, resetting.claim)
            })
            .await
            .map_err(ResetError::Store)?;
            Some(removed)
        } else if recovery.sms_removed {
            Some("SMS MFA removed by an earlier attempt of this reset".to_owned())
        } else {
            None
        };
        // Every factor read back: what the reset removed must be gone from the MFA factors too,
        // and what is left is said (a passkey on the lost phone cannot be removed by any admin
        // API).
        let factors = match self.idp.auth_factors(account).await {
            Ok(f) if f.has_mfa(&MfaFactor::Totp) => {
                return Err(ResetError::NotApplied(format!(
                    "SOFTWARE_TOKEN_MFA is still listed by AdminGetUserAuthFactors after the reset ({removal_text}; {preference})"
                )))
            }
            Ok(f) if self.rules.factors.sms && f.has_mfa(&MfaFactor::Sms) => {
                return Err(ResetError::NotApplied(
                    "SMS_MFA is still listed by AdminGetUserAuthFactors after it was turned off"
                        .to_owned(),
                ))
            }
            Ok(f) => remaining_factors(&f),
            Err(IdpError::Refused { code, .. }) => {
                format!("remaining factors not read (AdminGetUserAuthFactors refused: {code})")
            }
            Err(err) => return Err(ResetError::Unavailable(err)),
        };
        let devices = self.forget_devices(account).await?;
        match self.idp.sign_out_everywhere(account).await {
            Ok(()) => {}
            Err(IdpError::Refused { code, .. }) => {
                return Err(ResetError::NotApplied(format!(
                    "TOTP removed but AdminUserGlobalSignOut was refused ({code})"
                )))
            }
            Err(err) => return Err(ResetError::Unavailable(err)),
        }
        let sms_text = sms.as_deref().map(|s| format!("; {s}")).unwrap_or_default();
        Ok(Applied {
            detail: format!(
                "{removal_text}; {preference}{sms_text}; read back: SOFTWARE_TOKEN_MFA no longer listed; {factors}"
            ),
            devices,
            sms_removed: sms.is_some(),
        })
    }

    /// SMS MFA off (AdminSetUserMFAPreference) and read back. A pool that requires MFA keeps SMS
    /// MFA on whatever the preference says (Cognito: "You can't turn off SMS MFA for any of your
    /// users when MFA is required"), so there the phone number is removed too, and read back.
    /// For a user whose read-back lists SMS MFA; says what was done.
    async fn remove_sms(&self, account: &str) -> Result<String, ResetError> {
        let sms_on = || async {
            match self.idp.find_user(account).await {
                Ok(Some(user)) => Ok(user.sms_enabled),
                Ok(None) => Err(ResetError::NotApplied(
                    "the user no longer exists in the pool".to_owned(),
                )),
                Err(err) => Err(ResetError::Unavailable(err)),
            }
        };
        let refused = |operation: &str, code: String| {
            ResetError::NotApplied(format!("SMS MFA not removed: {operation} refused ({code})"))
        };
        match self.idp.disable_sms_mfa(account).await {
            Ok(()) => {}
            Err(IdpError::Refused { code, .. }) => {
                return Err(refused("AdminSetUserMFAPreference", code))
            }
            Err(err) => return Err(ResetError::Unavailable(err)),
        }
        if !sms_on().await? {
            return Ok("SMS MFA turned off".to_owned());
        }
        match self.idp.remove_phone_number(account).await {
            Ok(()) => {}
            Err(IdpError::Refused { code, .. }) => {
                return Err(refused("AdminDeleteUserAttributes(phone_number)", code))
            }
            Err(err) => return Err(ResetError::Unavailable(err)),
        }
        if sms_on().await? {
            return Err(ResetError::NotApplied(
                "SMS_MFA is still listed after the phone number was removed".to_owned(),
            ));
        }
        Ok(
            "SMS MFA still on after AdminSetUserMFAPreference (the pool requires MFA): phone number removed, SMS MFA no longer listed"
                .to_owned(),
        )
    }

    /// AdminListDevices (every page), AdminForgetDevice for each, and AdminListDevices again to
    /// read back that none is left. A device forgotten by an earlier run of the same reset is
    /// simply no longer listed.
    async fn forget_devices(&self, account: &str) -> Result<Devices, ResetError> {
        let refused = |code: String, operation: &str| {
            Ok(Devices::NotChecked(format!("{operation} refused ({code})")))
        };
        let listed = match self.idp.list_devices(account).await {
            Ok(keys) => keys,
            Err(IdpError::Refused { code, .. }) => return refused(code, "AdminListDevices"),
            Err(err) => return Err(ResetError::Unavailable(err)),
        };
        for key in &listed {
            match self.idp.forget_device(account, key).await {
                Ok(()) => {}
                Err(IdpError::Refused { code, .. }) => return refused(code, "AdminForgetDevice"),
                Err(err) => return Err(ResetError::Unavailable(err)),
            }
        }
        let left = self
            .idp
            .list_devices(account)
            .await
            .map_err(ResetError::Unavailable)?;
        if !left.is_empty() {
            return Err(ResetError::NotApplied(format!(
                "TOTP removed but {} remembered device(s) are still listed after AdminForgetDevice",
                left.len()
            )));
        }
        Ok(Devices::Forgotten(listed.len()))
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
                format!("{n} remembered device(s) forgotten (AdminForgetDevice); read back: none listed"),
            ),
            Devices::NotChecked(why) => {
                tracing::error!(reason = %why, "remembered devices could not be forgotten; allow cognito-idp:AdminListDevices and AdminForgetDevice");
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
            done(Action::SessionsRevoked, "AdminUserGlobalSignOut".to_owned()),
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
            return Err(JobError::transient(
                "finishing the reset",
                "its confirmation still holds it",
            ));
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
            user_agent: None,
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
