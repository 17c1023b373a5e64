//! The work queued by requests and confirmations: issuing codes and sending notices.

use sqlx::{Acquire, PgConnection};

use super::{actor_from_initiator, RecoveryService, RecoveryStatus};
use crate::cognito::IdpError;
use crate::domain::{ClientInfo, RecoveryCode};
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
        let (action, username, actor) = match (&recovery, job.kind) {
            (Some(r), JobKind::IssueCode) => (
                "recovery.code_send_failed",
                r.username.clone(),
                actor_from_initiator(&r.initiated_by),
            ),
            (Some(r), JobKind::ResetNotice) => (
                "notification.failed",
                r.username.clone(),
                crate::domain::Actor::System,
            ),
            (None, _) => (
                "notification.failed",
                String::new(),
                crate::domain::Actor::System,
            ),
        };
        if gave_up {
            tracing::error!(job_id = job.id, attempts, %error, "job failed for good");
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
            tracing::warn!(job_id = job.id, attempts, retry_in_seconds = delay, %error, "job failed; will retry");
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
        if let Some(reason) = ineligibility(user.as_ref()) {
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

    async fn send_reset_notice(&self, conn: &mut PgConnection, job: &Job) -> Result<(), JobError> {
        let Some(recovery) = recoveries::get(conn, job.recovery_id).await? else {
            return Ok(());
        };
        let account = recovery
            .account_key
            .as_deref()
            .unwrap_or(&recovery.username);
        let actor = crate::domain::Actor::System;
        let event = |outcome: &'static str, detail: String| {
            AuditEvent::new("notification.sent", &actor, outcome)
                .username(&recovery.username)
                .recovery(recovery.id)
                .detail(detail)
        };
        let Some(email) = self
            .idp
            .find_user(account)
            .await?
            .and_then(|u| u.verified_email)
        else {
            audit::append(
                conn,
                event("skipped", "reset notice: no verified email on file".into()),
            )
            .await?;
            return Ok(());
        };
        let at = recovery
            .finished_at
            .unwrap_or_else(chrono::Utc::now)
            .format("%Y-%m-%d %H:%M:%S UTC")
            .to_string();
        let started_by = match actor_from_initiator(&recovery.initiated_by) {
            crate::domain::Actor::Staff(name) => format!("the support desk (agent {name})"),
            _ => "you, on the account recovery page".to_owned(),
        };
        let ip = recovery.completed_ip.as_deref().unwrap_or("unknown");
        let hint = email.masked();
        let message = templates::reset_notice(
            email,
            &templates::ResetFacts {
                at_utc: &at,
                ip,
                started_by: &started_by,
            },
        )?;
        let message_id = self.mailer.send(message).await?;
        audit::append(
            conn,
            event(
                "sent",
                format!("reset notice to {hint} (SES message {message_id})"),
            ),
        )
        .await?;
        Ok(())
    }
}
