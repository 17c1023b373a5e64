//! Notices to the account's verified email: the reset (or the scheduled reset, with its cancel
//! link), the lock after wrong codes, and guessing from elsewhere. They never carry a code.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::jobs::{ApplyReset, TextNotice};
use super::limits::EmailKind;
use super::notifier;
use super::RecoveryService;
use crate::audit::{self, Action, AuditEvent, Outcome};
use crate::domain::{random_token, token_digest, Actor, EmailAddress, Initiator, RecoveryStatus};
use crate::idp::{AuthFactors, IdpError, MfaFactor, UserProfile};
use crate::mail::{templates, Email};
use crate::store::limits;
use crate::store::recoveries::{self, RecoveryRow};
use crate::words::{Args, Words};
use crate::worker::{self, JobError};

/// How long the enrollment link of a reset-applied notice works.
const ENROLLMENT_LINK_HOURS: i64 = 24;

/// A phone number as the audit shows it: its last two digits only (`+*********00`).
pub(super) fn masked_phone(phone: &str) -> String {
    let digits = phone.chars().count();
    phone
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i == 0 && c == '+' || i + 2 >= digits {
                c
            } else {
                '*'
            }
        })
        .collect()
}

impl RecoveryService {
    /// Tells the owner their authenticator was removed, or, for a scheduled reset, when it will
    /// be and how to stop it. `queued_at` is when the confirmation queued the notice.
    pub(super) async fn send_reset_notice(
        &self,
        conn: &mut PgConnection,
        recovery_id: Uuid,
        queued_at: DateTime<Utc>,
    ) -> Result<(), JobError> {
        let Some(recovery) = recoveries::get(conn, recovery_id).await? else {
            return Ok(());
        };
        let Some((email, user)) = self.recipient(conn, &recovery, "reset notice").await? else {
            return Ok(());
        };
        let has_totp = user.as_ref().is_some_and(|u| u.totp_enabled);
        let factors = match self.idp.remaining_factors(recovery.account()).await {
            Ok(factors) => factors,
            // Not allowed to read them (an older IAM policy): the notice cannot say.
            Err(IdpError::Refused { .. }) => AuthFactors::default(),
            Err(err) => {
                return Err(JobError::transient(
                    "reading the user's sign-in factors",
                    err,
                ))
            }
        };
        let words = self.words_of(&recovery, user.as_ref());
        let started_by = match &recovery.initiated_by {
            Initiator::Staff(name) => words.with(
                "email-started-by-staff",
                Args::new().text("agent", name.to_string()),
            ),
            Initiator::User => words.get("email-started-by-user"),
        };
        let ip = recovery
            .completed_ip
            .clone()
            .unwrap_or_else(|| words.get("email-unknown-address"));
        let hint = email.masked();
        let (message, what) = match (recovery.status, recovery.reset_at) {
            (RecoveryStatus::Scheduled, Some(_)) if recovery.notice_sent_at.is_none() => {
                // The cancel link's token exists in clear only here and in the email. It is
                // committed before the email leaves (on a connection of its own), so the link
                // works the moment it arrives and no rollback of this job can take it away; a
                // retried job sends a new one.
                let token = random_token();
                let mut own = self.db.acquire().await?;
                let stored =
                    recoveries::set_cancel_token(&mut own, recovery.id, &token_digest(&token))
                        .await?;
                drop(own);
                if !stored.applied() {
                    return Ok(()); // applied or cancelled meanwhile: nothing left to stop
                }
                // The waiting period starts once this notice is handed to SES.
                let reset_at = self.now() + self.reset_delay();
                let base = self.rules.public_base_url.as_deref().unwrap_or_default();
                let cancel_url = notifier::link(base, "/v1/recovery/cancel", Some(&token), &words);
                let message = templates::ResetScheduledEmail {
                    at: words.time(queued_at),
                    ip,
                    started_by,
                    reset_at: words.time(reset_at),
                    cancel_url,
                    mfa_required: self.pool.mfa_required,
                    mfa_optional: self.pool.mfa_optional,
                }
                .render(email, &words, self.notifier.signature())
                .map_err(|e| JobError::transient("rendering the scheduled-reset notice", e))?;
                (message, "scheduled-reset notice with cancel link")
            }
            (RecoveryStatus::Scheduled, _) => return Ok(()), // already announced
            _ => {
                // The link never replaces an authenticator the account has again.
                let enrol_url = if has_totp {
                    None
                } else {
                    self.enrol_link(conn, &recovery, &words).await?
                };
                let message = templates::ResetNoticeEmail {
                    at: words.time(recovery.finished_at.unwrap_or_else(|| self.now())),
                    ip,
                    started_by,
                    enrol_url,
                    passkey_remains: factors.has_passkey(),
                    sms_removed: recovery.sms_removed,
                    email_mfa_remains: factors.has_mfa(&MfaFactor::Email),
                    mfa_required: self.pool.mfa_required,
                    mfa_optional: self.pool.mfa_optional,
                }
                .render(email, &words, self.notifier.signature())
                .map_err(|e| JobError::transient("rendering the reset notice", e))?;
                (message, "reset notice")
            }
        };
        let message_id = self.send_notice(message).await?;
        let mut detail = format!("{what} to {hint} (SES message {message_id})");
        if recovery.status == RecoveryStatus::Scheduled {
            let delay = self.rules.reset_delay.as_secs_f64();
            if let Some(reset_at) =
                recoveries::mark_scheduled_notice_sent(conn, self.now(), recovery.id, delay).await?
            {
                worker::reschedule::<ApplyReset>(conn, recovery.id, reset_at).await?;
                detail.push_str(&format!(
                    "; the reset will be applied at {}",
                    reset_at.to_rfc3339()
                ));
            }
        }
        audit::append(conn, Self::notice_event(&recovery, Outcome::Sent, detail)).await?;
        self.queue_text(conn, recovery.id).await?;
        Ok(())
    }

    /// With `NOTIFY_SMS`, queues the text that goes with a notice SES just accepted.
    async fn queue_text(&self, conn: &mut PgConnection, recovery_id: Uuid) -> Result<(), JobError> {
        if self.notifier.texts() {
            worker::enqueue::<TextNotice>(conn, recovery_id).await?;
        }
        Ok(())
    }

    /// The text that goes with a notice (`NOTIFY_SMS`), to the account's verified phone number:
    /// what happened, in one or two sentences, and where to look. It names no code and no link
    /// (a text is easy to spoof and read on a lock screen). Said after the recovery's state when
    /// it runs: removed, scheduled, or locked.
    pub(super) async fn send_text_notice(
        &self,
        conn: &mut PgConnection,
        recovery_id: Uuid,
    ) -> Result<(), JobError> {
        if !self.notifier.texts() {
            return Ok(());
        }
        let Some(recovery) = recoveries::get(conn, recovery_id).await? else {
            return Ok(());
        };
        let (id, what) = match recovery.status {
            RecoveryStatus::Completed => ("text-reset", "reset notice"),
            RecoveryStatus::Scheduled => ("text-scheduled", "scheduled-reset notice"),
            RecoveryStatus::Locked => ("text-locked", "lock notice"),
            _ => return Ok(()),
        };
        // The number the account has now: a reset that removed SMS MFA in a pool that
        // requires it removed the number too (it was the lost phone's).
        let user = self.user_of(&recovery).await?;
        let Some(phone) = user.as_ref().and_then(|u| u.verified_phone.clone()) else {
            let detail = format!("{what} text: no verified phone number on file");
            audit::append(
                conn,
                Self::notice_event(&recovery, Outcome::Skipped, detail),
            )
            .await?;
            return Ok(());
        };
        let text = self.words_of(&recovery, user.as_ref()).with(
            id,
            Args::new().text("name", self.notifier.sender(&self.rules.totp_issuer)),
        );
        let Some(sent) = self.notifier.text(&phone, &text).await else {
            return Ok(()); // texts were turned off meanwhile (not in one process's life)
        };
        let message_id = sent.map_err(|e| JobError::transient("sending a text notice", e))?;
        metrics::counter!("texts_sent_total").increment(1);
        let detail = format!(
            "{what} text to {} (SNS message {message_id})",
            masked_phone(&phone)
        );
        audit::append(conn, Self::notice_event(&recovery, Outcome::Sent, detail)).await?;
        Ok(())
    }

    /// The waiting period of a scheduled reset.
    fn reset_delay(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.rules.reset_delay).unwrap_or(chrono::Duration::MAX)
    }

    /// The one-time link that resumes the new authenticator's enrollment, for the reset-applied
    /// notice of an account that has no authenticator (the user did not finish on the page, or
    /// the reset waited), where the password is checked and the service's address is known. It
    /// works once, for `ENROLLMENT_LINK_HOURS`.
    async fn enrol_link(
        &self,
        conn: &mut PgConnection,
        recovery: &RecoveryRow,
        words: &Words,
    ) -> Result<Option<String>, JobError> {
        let Some(base) = self.rules.public_base_url.as_deref() else {
            return Ok(None);
        };
        if !self.rules.require_password {
            return Ok(None);
        }
        let token = random_token();
        let expires_at = self.now() + chrono::Duration::hours(ENROLLMENT_LINK_HOURS);
        let stored =
            recoveries::set_enrol_link(conn, recovery.id, &token_digest(&token), expires_at)
                .await?;
        Ok(stored
            .applied()
            .then(|| notifier::link(base, "/recover/enrol", Some(&token), words)))
    }

    /// Tells the owner that wrong codes from addresses that never asked for one reached the
    /// account's daily ceiling, so that further tries from such addresses are refused: at most
    /// once a day per name (whoever's it is), and only to an account's verified email.
    pub(super) async fn send_guessing_notice(
        &self,
        conn: &mut PgConnection,
        recovery_id: Uuid,
    ) -> Result<(), JobError> {
        let Some(recovery) = recoveries::get(conn, recovery_id).await? else {
            return Ok(());
        };
        let key = format!("notice:guessing:{}", self.name_key_of(&recovery));
        if !limits::once_a_day(conn, self.now(), &key).await? {
            return Ok(()); // told in the last 24 hours
        }
        let user = self.user_of(&recovery).await?;
        let Some(email) = user.as_ref().and_then(|u| u.verified_email.clone()) else {
            return Ok(());
        };
        let hint = email.masked();
        let message = templates::GuessingEmail {
            failures: self.limits.budgets().failures_per_day,
        }
        .render(
            email,
            &self.words_of(&recovery, user.as_ref()),
            self.notifier.signature(),
        )
        .map_err(|e| JobError::transient("rendering the guessing notice", e))?;
        let message_id = self.send_notice(message).await?;
        audit::append(
            conn,
            AuditEvent::new(Action::NotificationSent, &Actor::System, Outcome::Sent)
                .username(&recovery.username)
                .recovery(recovery.id)
                .detail(format!(
                    "guessing notice to {hint} (SES message {message_id}): the account's daily ceiling of wrong confirmations from addresses that asked for no code was reached"
                )),
        )
        .await?;
        Ok(())
    }

    /// Tells the owner that a recovery of their account locked after wrong codes. Names without
    /// an account have no one to tell.
    pub(super) async fn send_lock_notice(
        &self,
        conn: &mut PgConnection,
        recovery_id: Uuid,
        queued_at: DateTime<Utc>,
    ) -> Result<(), JobError> {
        let Some(recovery) = recoveries::get(conn, recovery_id).await? else {
            return Ok(());
        };
        let user = self.user_of(&recovery).await?;
        let Some(email) = user.as_ref().and_then(|u| u.verified_email.clone()) else {
            return Ok(());
        };
        let hint = email.masked();
        let words = self.words_of(&recovery, user.as_ref());
        let message = templates::RecoveryLockedEmail {
            at: words.time(queued_at),
            ip: recovery
                .locked_ip
                .clone()
                .unwrap_or_else(|| words.get("email-unknown-address")),
            attempts: self.rules.max_attempts,
        }
        .render(email, &words, self.notifier.signature())
        .map_err(|e| JobError::transient("rendering the lock notice", e))?;
        let message_id = self.send_notice(message).await?;
        audit::append(
            conn,
            AuditEvent::new(Action::NotificationSent, &Actor::System, Outcome::Sent)
                .username(&recovery.username)
                .recovery(recovery.id)
                .detail(format!("lock notice to {hint} (SES message {message_id})")),
        )
        .await?;
        self.queue_text(conn, recovery.id).await?;
        Ok(())
    }

    /// Tells the owner which passkeys they removed after the recovery and which remain (as last
    /// read back with their sign-in): one left on the lost phone still signs in.
    pub(super) async fn send_passkeys_notice(
        &self,
        conn: &mut PgConnection,
        recovery_id: Uuid,
    ) -> Result<(), JobError> {
        let Some(recovery) = recoveries::get(conn, recovery_id).await? else {
            return Ok(());
        };
        let Some(step) = crate::store::enrollments::passkey_step_of(conn, recovery.id)
            .await?
            .map(super::enrollment::PasskeyStep::from_json)
        else {
            return Ok(());
        };
        let Some((email, user)) = self.recipient(conn, &recovery, "passkeys notice").await? else {
            return Ok(());
        };
        let hint = email.masked();
        let words = self.words_of(&recovery, user.as_ref());
        let named = |passkeys: &[crate::idp::Passkey]| {
            passkeys
                .iter()
                .map(|p| {
                    words.with(
                        "passkeys-email-passkey",
                        Args::new()
                            .text("name", p.name.clone())
                            .text("added", words.time(p.created_at)),
                    )
                })
                .collect()
        };
        let message = templates::PasskeysNoticeEmail {
            removed: named(&step.removed),
            remaining: named(&step.listed),
        }
        .render(email, &words, self.notifier.signature())
        .map_err(|e| JobError::transient("rendering the passkeys notice", e))?;
        let message_id = self.send_notice(message).await?;
        let detail = format!(
            "passkeys notice to {hint}: {} removed, {} left (SES message {message_id})",
            step.removed.len(),
            step.listed.len()
        );
        audit::append(conn, Self::notice_event(&recovery, Outcome::Sent, detail)).await?;
        Ok(())
    }

    /// A notice's `notice_sent` event about `recovery`, by the service.
    fn notice_event(recovery: &RecoveryRow, outcome: Outcome, detail: String) -> AuditEvent<'_> {
        AuditEvent::new(Action::NotificationSent, &Actor::System, outcome)
            .username(&recovery.username)
            .recovery(recovery.id)
            .detail(detail)
    }

    /// Where the notice `what` goes: the account's verified email, with the user as Cognito has
    /// them now; `None` (audited as skipped) without one.
    async fn recipient(
        &self,
        conn: &mut PgConnection,
        recovery: &RecoveryRow,
        what: &str,
    ) -> Result<Option<(EmailAddress, Option<UserProfile>)>, JobError> {
        let user = self.user_of(recovery).await?;
        let Some(email) = user.as_ref().and_then(|u| u.verified_email.clone()) else {
            let detail = format!("{what}: no verified email on file");
            audit::append(conn, Self::notice_event(recovery, Outcome::Skipped, detail)).await?;
            return Ok(None);
        };
        Ok(Some((email, user)))
    }

    /// Sends a notice; when the hourly budget is spent it waits for a later try (notices matter
    /// more than speed).
    async fn send_notice(&self, email: Email) -> Result<String, JobError> {
        if !self.limits.take_email(EmailKind::Notice).await? {
            return Err(JobError::transient(
                "sending a notice",
                "the hourly email budget is spent",
            ));
        }
        let id = self
            .notifier
            .email(email)
            .await
            .map_err(|e| JobError::transient("sending a notice", e))?;
        metrics::counter!("notices_sent_total").increment(1);
        Ok(id)
    }

    /// The recovery's account as Cognito has it now.
    /// The words of a message about `recovery` to `user`.
    fn words_of(&self, recovery: &RecoveryRow, user: Option<&UserProfile>) -> Words {
        self.notifier.words(
            recovery.language.as_deref(),
            user.and_then(|u| u.locale.as_deref()),
        )
    }

    async fn user_of(&self, recovery: &RecoveryRow) -> Result<Option<UserProfile>, JobError> {
        self.idp
            .find_user(recovery.account())
            .await
            .map_err(|e| JobError::transient("looking up the user for a notice", e))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_phone_number_shows_only_its_last_two_digits() {
        assert_eq!(super::masked_phone("+14155550123"), "+*********23");
    }
}
