//! The work queued by requests and confirmations: issuing codes and sending notices.

use sqlx::{Acquire, PgConnection};

use secrecy::ExposeSecret;

use super::confirm::{AppliedReset, ResetError};
use super::{actor_from_initiator, RecoveryService, RecoveryStatus};
use crate::cognito::IdpError;
use crate::domain::{random_token, token_digest, Actor, ClientInfo, RecoveryCode};
use crate::mail::{templates, MailError};
use crate::store::audit::{self, AuditEvent};
use crate::store::jobs::{self, Job, JobKind};
use crate::store::recoveries::{self, Issued, RecoveryRow};

#[derive(Debug, thiserror::Error)]
enum JobError {
    /// Worth another try later (Cognito or SES unreachable or refusing for now).
    #[error("{0}")]
    Transient(String),
    #[error(transparent)]
    Store(#[from] sqlx::Error),
}

impl From<IdpError> for JobError {
    fn from(err: IdpError) -> Self {
        JobError::Transient(err.to_string())
    }
}

impl From<MailError> for JobError {
    fn from(err: MailError) -> Self {
        JobError::Transient(err.to_string())
    }
}

impl From<super::HashError> for JobError {
    fn from(err: super::HashError) -> Self {
        JobError::Transient(err.to_string())
    }
}

impl From<askama::Error> for JobError {
    fn from(err: askama::Error) -> Self {
        JobError::Transient(format!("template: {err}"))
    }
}

/// Why a name gets no code. Recorded for auditors; the requester never learns it.
fn ineligibility(user: Option<&crate::cognito::UserProfile>) -> Option<&'static str> {
    match user {
        None => Some("unknown user"),
        Some(u) if !u.enabled => Some("user disabled"),
        Some(u) if !u.totp_enabled => Some("no TOTP authenticator"),
        Some(u) if u.verified_email.is_none() => Some("no verified email"),
        Some(_) => None,
    }
}

fn client_of(recovery: &RecoveryRow) -> ClientInfo {
    ClientInfo {
        ip: recovery.request_ip.clone(),
        user_agent: recovery.user_agent.clone(),
    }
}

impl RecoveryService {
    /// Runs the oldest due job, if any; returns whether there was one. The job row stays
    /// locked (FOR UPDATE SKIP LOCKED) for the whole run, so each job runs on one worker of one
    /// instance at a time; a crash rolls everything back and the job runs again, issuing a
    /// fresh code (the plaintext of the old one never left memory).
    pub async fn run_next_job(&self) -> Result<bool, sqlx::Error> {
        let mut tx = self.db.begin().await?;
        let Some(job) = jobs::take_due(&mut tx).await? else {
            return Ok(false);
        };
        let span = tracing::info_span!("job", job_id = job.id, kind = job.kind.as_str(), recovery_id = %job.recovery_id);
        let outcome = {
            let mut attempt = tx.begin().await?;
            match tracing::Instrument::instrument(self.execute(&mut attempt, &job), span.clone())
                .await
            {
                Ok(()) => attempt.commit().await.map_err(JobError::from),
                Err(err) => {
                    attempt.rollback().await?;
                    Err(err)
                }
            }
        };
        match outcome {
            Ok(()) => jobs::finish(&mut tx, job.id, false).await?,
            Err(JobError::Store(err)) => return Err(err),
            Err(JobError::Transient(error)) => self.job_failed(&mut tx, &job, &error).await?,
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Records the failure and schedules a retry with exponential backoff, or gives up after
    /// the configured number of attempts. Nothing is dropped silently.
    async fn job_failed(
        &self,
        conn: &mut PgConnection,
        job: &Job,
        error: &str,
    ) -> Result<(), sqlx::Error> {
        let attempts = job.attempts + 1;
        let gave_up = attempts >= i32::try_from(self.jobs.job_max_attempts).unwrap_or(i32::MAX);
        let recovery = recoveries::get(conn, job.recovery_id).await?;
        let username = recovery
            .as_ref()
            .map(|r| r.username.clone())
            .unwrap_or_default();
        let (action, actor) = match (&recovery, job.kind) {
            (Some(r), JobKind::IssueCode) => (
                "recovery.code_send_failed",
                actor_from_initiator(&r.initiated_by),
            ),
            (_, JobKind::ApplyReset) => ("mfa.reset_failed", Actor::System),
            _ => ("notification.failed", Actor::System),
        };
        if gave_up {
            tracing::error!(job_id = job.id, recovery_id = %job.recovery_id, attempts, %error, "job failed for good");
            jobs::finish(conn, job.id, true).await?;
            if job.kind == JobKind::IssueCode {
                recoveries::transition(
                    conn,
                    job.recovery_id,
                    &[RecoveryStatus::Requested],
                    RecoveryStatus::Failed,
                )
                .await?;
            }
        } else {
            let delay = self.jobs.retry_base.as_secs_f64() * 2f64.powi(attempts - 1);
            tracing::warn!(job_id = job.id, recovery_id = %job.recovery_id, attempts, retry_in_seconds = delay, %error, "job failed; will retry");
            jobs::retry_later(conn, job.id, delay, error).await?;
        }
        audit::append(
            conn,
            AuditEvent::new(action, &actor, if gave_up { "gave_up" } else { "retrying" })
                .username(&username)
                .recovery(job.recovery_id)
                .detail(format!("attempt {attempts}: {error}")),
        )
        .await?;
        Ok(())
    }

    async fn execute(&self, conn: &mut PgConnection, job: &Job) -> Result<(), JobError> {
        match job.kind {
            JobKind::IssueCode => self.issue_code(conn, job).await,
            JobKind::ResetNotice => self.send_reset_notice(conn, job).await,
            JobKind::LockNotice => self.send_lock_notice(conn, job).await,
            JobKind::ApplyReset => self.apply_scheduled_reset(conn, job).await,
        }
    }

    async fn issue_code(&self, conn: &mut PgConnection, job: &Job) -> Result<(), JobError> {
        let Some(recovery) = recoveries::lock(conn, job.recovery_id).await? else {
            return Ok(());
        };
        if recovery.status != RecoveryStatus::Requested {
            return Ok(()); // already handled, or cancelled meanwhile
        }
        let actor = actor_from_initiator(&recovery.initiated_by);
        let client = client_of(&recovery);
        let user = match self.idp.find_user(&recovery.username).await {
            Ok(user) => user,
            // Cognito rejects some names outright (invalid characters): no such user.
            Err(IdpError::Refused { .. }) => None,
            Err(err) => return Err(err.into()),
        };
        let account_key = user
            .as_ref()
            .map_or(recovery.username.as_str(), |u| u.username.as_str())
            .to_owned();
        recoveries::lock_account(conn, &account_key).await?;
        let event = |action: &'static str, outcome: &'static str| {
            AuditEvent::new(action, &actor, outcome)
                .username(&recovery.username)
                .recovery(recovery.id)
                .client(&client)
        };

        // The hourly limit counts the account's issued recoveries, whichever alias was typed and
        // whether or not the name exists, so that it does not tell those apart either.
        let issued = recoveries::issued_in_last_hour(conn, &account_key).await?;
        if issued >= i64::from(self.rules.requests_per_user_per_hour) {
            metrics::counter!("rate_limit_rejections_total", "limit" => "account_emails")
                .increment(1);
            recoveries::mark_rate_limited(conn, recovery.id, &account_key).await?;
            let detail = format!("{issued} recoveries issued for this account in the last hour");
            audit::append(
                conn,
                event("recovery.rate_limited", "limited").detail(detail),
            )
            .await?;
            return Ok(());
        }

        let ttl_seconds = i64::try_from(self.rules.code_ttl.as_secs()).unwrap_or(i64::MAX);
        let reason = ineligibility(user.as_ref());
        // The SES budget of all instances: past it, no code goes out this hour (recorded).
        if reason.is_none() && !self.email_budget_left().await? {
            recoveries::mark_rate_limited(conn, recovery.id, &account_key).await?;
            let detail = "the hourly email budget of the service is spent";
            audit::append(
                conn,
                event("recovery.rate_limited", "limited").detail(detail),
            )
            .await?;
            tracing::warn!("hourly email budget spent: a recovery code was not sent");
            return Ok(());
        }
        if let Some(reason) = reason {
            recoveries::mark_issued(
                conn,
                Issued {
                    id: recovery.id,
                    account_key: &account_key,
                    status: RecoveryStatus::NotEligible,
                    code_hash: None,
                    email_hint: None,
                    ttl_seconds,
                },
            )
            .await?;
            self.supersede(conn, &recovery, &account_key, &actor, &client)
                .await?;
            audit::append(
                conn,
                event("recovery.not_eligible", "no_email").detail(reason),
            )
            .await?;
            metrics::counter!("recovery_codes_total", "outcome" => "not_eligible").increment(1);
            return Ok(());
        }
        let email = user
            .and_then(|u| u.verified_email)
            .expect("eligible users have a verified email");
        let hint = email.masked();

        let code = RecoveryCode::generate();
        let code_hash = self.hasher.hash(&code).await?;
        let message = templates::recovery_code(
            email,
            &code,
            self.rules.code_ttl.as_secs(),
            self.rules.require_password,
        )?;
        drop(code);
        let message_id = self.mailer.send(message).await?;
        recoveries::mark_issued(
            conn,
            Issued {
                id: recovery.id,
                account_key: &account_key,
                status: RecoveryStatus::CodeSent,
                code_hash: Some(&code_hash),
                email_hint: Some(&hint),
                ttl_seconds,
            },
        )
        .await?;
        self.supersede(conn, &recovery, &account_key, &actor, &client)
            .await?;
        let detail = format!("code emailed to {hint} (SES message {message_id})");
        audit::append(conn, event("recovery.code_sent", "sent").detail(detail)).await?;
        metrics::counter!("recovery_codes_total", "outcome" => "sent").increment(1);
        tracing::info!(email = %hint, "recovery code sent");
        Ok(())
    }

    async fn supersede(
        &self,
        conn: &mut PgConnection,
        recovery: &RecoveryRow,
        account_key: &str,
        actor: &crate::domain::Actor,
        client: &ClientInfo,
    ) -> Result<(), sqlx::Error> {
        for old in recoveries::supersede_others(conn, account_key, recovery.id).await? {
            audit::append(
                conn,
                AuditEvent::new("recovery.superseded", actor, "superseded")
                    .username(&recovery.username)
                    .recovery(old)
                    .client(client)
                    .detail(format!("replaced by recovery {}", recovery.id)),
            )
            .await?;
        }
        Ok(())
    }

    /// Takes one email from the hourly budget, on a connection of its own so that the shared
    /// counter is not held while the email is sent.
    async fn email_budget_left(&self) -> Result<bool, sqlx::Error> {
        let mut conn = self.db.acquire().await?;
        self.take_email_budget(&mut conn).await
    }

    /// Sends a notice; when the hourly budget is spent it waits for a later try (notices matter
    /// more than speed).
    async fn send_notice(&self, email: crate::mail::Email) -> Result<String, JobError> {
        if !self.email_budget_left().await? {
            return Err(JobError::Transient(
                "the hourly email budget is spent".to_owned(),
            ));
        }
        let id = self.mailer.send(email).await?;
        metrics::counter!("notices_sent_total").increment(1);
        Ok(id)
    }

    /// The verified address on file for the recovery's account, if any.
    async fn email_on_file(
        &self,
        recovery: &RecoveryRow,
    ) -> Result<Option<crate::domain::EmailAddress>, JobError> {
        let account = recovery
            .account_key
            .as_deref()
            .unwrap_or(&recovery.username);
        Ok(self
            .idp
            .find_user(account)
            .await?
            .and_then(|u| u.verified_email))
    }

    async fn send_reset_notice(&self, conn: &mut PgConnection, job: &Job) -> Result<(), JobError> {
        let Some(recovery) = recoveries::get(conn, job.recovery_id).await? else {
            return Ok(());
        };
        let actor = Actor::System;
        let event = |outcome: &'static str, detail: String| {
            AuditEvent::new("notification.sent", &actor, outcome)
                .username(&recovery.username)
                .recovery(recovery.id)
                .detail(detail)
        };
        let Some(email) = self.email_on_file(&recovery).await? else {
            audit::append(
                conn,
                event("skipped", "reset notice: no verified email on file".into()),
            )
            .await?;
            return Ok(());
        };
        let format =
            |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M:%S UTC").to_string();
        let started_by = match actor_from_initiator(&recovery.initiated_by) {
            Actor::Staff(name) => format!("the support desk (agent {name})"),
            _ => "you, on the account recovery page".to_owned(),
        };
        let ip = recovery.completed_ip.as_deref().unwrap_or("unknown");
        let hint = email.masked();
        let (message, what) = match (recovery.status, recovery.reset_at) {
            (RecoveryStatus::Scheduled, Some(reset_at)) => {
                // The cancel link's token exists in clear only here and in the email; a retried
                // job makes a new one.
                let token = random_token();
                recoveries::set_cancel_token(conn, recovery.id, &token_digest(&token)).await?;
                let base = self.rules.public_base_url.as_deref().unwrap_or_default();
                let url = format!("{base}/v1/recovery/cancel?token={}", token.expose_secret());
                // Queued by the confirmation, in its transaction: this is when it happened.
                let at = format(job.created_at);
                let facts = templates::ResetFacts {
                    at_utc: &at,
                    ip,
                    started_by: &started_by,
                };
                (
                    templates::reset_scheduled(email, &facts, &format(reset_at), &url)?,
                    "scheduled-reset notice with cancel link",
                )
            }
            (RecoveryStatus::Scheduled, None) => return Ok(()),
            _ => {
                let at = format(recovery.finished_at.unwrap_or_else(chrono::Utc::now));
                let facts = templates::ResetFacts {
                    at_utc: &at,
                    ip,
                    started_by: &started_by,
                };
                (templates::reset_notice(email, &facts)?, "reset notice")
            }
        };
        let message_id = self.send_notice(message).await?;
        audit::append(
            conn,
            event(
                "sent",
                format!("{what} to {hint} (SES message {message_id})"),
            ),
        )
        .await?;
        Ok(())
    }

    /// Tells the owner that a recovery of their account locked after wrong codes. Names without
    /// an account have no one to tell.
    async fn send_lock_notice(&self, conn: &mut PgConnection, job: &Job) -> Result<(), JobError> {
        let Some(recovery) = recoveries::get(conn, job.recovery_id).await? else {
            return Ok(());
        };
        let Some(email) = self.email_on_file(&recovery).await? else {
            return Ok(());
        };
        let hint = email.masked();
        let at = job.created_at.format("%Y-%m-%d %H:%M:%S UTC").to_string();
        let ip = recovery.locked_ip.as_deref().unwrap_or("unknown");
        let message = templates::recovery_locked(email, &at, ip, self.rules.max_attempts)?;
        let message_id = self.send_notice(message).await?;
        audit::append(
            conn,
            AuditEvent::new("notification.sent", &Actor::System, "sent")
                .username(&recovery.username)
                .recovery(recovery.id)
                .detail(format!("lock notice to {hint} (SES message {message_id})")),
        )
        .await?;
        Ok(())
    }

    /// The waiting period is over and nobody cancelled: apply the reset, as a confirmation
    /// would have at once. The recovery is claimed (scheduled → resetting) in a statement of its
    /// own first, so that from then on a cancel link answers that it is too late, and nothing
    /// here holds the row while Cognito is called.
    async fn apply_scheduled_reset(
        &self,
        conn: &mut PgConnection,
        job: &Job,
    ) -> Result<(), JobError> {
        let Some(recovery) = recoveries::get(conn, job.recovery_id).await? else {
            return Ok(());
        };
        let mut claim = self.db.acquire().await?;
        // `resetting` too: a run that died after claiming is picked up by the retry.
        let from = [RecoveryStatus::Scheduled, RecoveryStatus::Resetting];
        if recovery.reset_at.is_none()
            || !recoveries::transition(&mut claim, recovery.id, &from, RecoveryStatus::Resetting)
                .await?
        {
            return Ok(()); // cancelled meanwhile
        }
        let account = recovery
            .account_key
            .clone()
            .unwrap_or_else(|| recovery.username.clone());
        let client = ClientInfo {
            ip: recovery.completed_ip.clone(),
            user_agent: None,
        };
        let applied = AppliedReset {
            recovery: &recovery,
            account: &account,
            from: RecoveryStatus::Resetting,
        };
        match self.reset_in_cognito(&account).await {
            Ok(detail) => {
                self.record_reset(&applied, &Actor::System, &client, detail)
                    .await?
            }
            Err(ResetError::NotApplied(why)) => {
                self.record_reset_not_applied(&applied, &Actor::System, &client, &why)
                    .await?
            }
            Err(ResetError::Unavailable(err)) => {
                // Give it back: still cancellable until the retry claims it again.
                let back = [RecoveryStatus::Resetting];
                recoveries::transition(&mut claim, recovery.id, &back, RecoveryStatus::Scheduled)
                    .await?;
                return Err(err.into());
            }
        }
        Ok(())
    }
}
