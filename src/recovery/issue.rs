//! Issuing the code of a requested recovery (run by the `IssueCode` job): the user is looked up,
//! the account's limits are applied, and an eligible user is emailed a fresh code; every other
//! name gets a recovery that behaves the same towards confirmations but has no code.

use sqlx::PgConnection;

use super::eligibility::{eligibility, Eligible};
use super::RecoveryService;
use crate::audit::{self, Action, AuditEvent, Outcome};
use crate::domain::{ClientInfo, RecoveryCode, Transition};
use crate::mail::templates;
use crate::store::recoveries::{self, Issued, RecoveryRow};
use crate::worker::JobError;

impl RecoveryService {
    pub(super) async fn issue_code(
        &self,
        conn: &mut PgConnection,
        recovery_id: uuid::Uuid,
    ) -> Result<(), JobError> {
        let Some(recovery) = recoveries::lock(conn, recovery_id).await? else {
            return Ok(());
        };
        if !Transition::CodeSent.applies_to(recovery.status) {
            return Ok(()); // already handled, or cancelled meanwhile
        }
        let actor = recovery.initiated_by.actor();
        let client = client_of(&recovery);
        let user = self
            .lookup(&recovery.username)
            .await
            .map_err(|e| JobError::transient("looking the user up", e))?;
        let account_key = user
            .as_ref()
            .map_or(recovery.username.as_str(), |u| u.username.as_str())
            .to_owned();
        recoveries::lock_account(conn, &account_key).await?;
        let event = |action: Action, outcome: Outcome| {
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
            if recoveries::mark_rate_limited(conn, recovery.id, &account_key)
                .await?
                .applied()
            {
                let detail =
                    format!("{issued} recoveries issued for this account in the last hour");
                audit::append(
                    conn,
                    event(Action::RateLimited, Outcome::Limited).detail(detail),
                )
                .await?;
            }
            return Ok(());
        }

        let ttl_seconds = i64::try_from(self.rules.code_ttl.as_secs()).unwrap_or(i64::MAX);
        let Eligible { email, .. } = match eligibility(user) {
            Ok(eligible) => eligible,
            Err(reason) => {
                let issued = Issued {
                    id: recovery.id,
                    account_key: &account_key,
                    transition: Transition::NotEligible,
                    code_hash: None,
                    email_hint: None,
                    ttl_seconds,
                };
                if recoveries::mark_issued(conn, issued).await?.applied() {
                    self.supersede(conn, &recovery, &account_key, &client)
                        .await?;
                    audit::append(
                        conn,
                        event(Action::NotEligible, Outcome::NoEmail).detail(reason.to_string()),
                    )
                    .await?;
                    metrics::counter!("recovery_codes_total", "outcome" => "not_eligible")
                        .increment(1);
                }
                return Ok(());
            }
        };
        // The SES budget of all instances: past it, no code goes out this hour (recorded).
        if !self.email_budget_left().await? {
            if recoveries::mark_rate_limited(conn, recovery.id, &account_key)
                .await?
                .applied()
            {
                let detail = "the hourly email budget of the service is spent";
                audit::append(
                    conn,
                    event(Action::RateLimited, Outcome::Limited).detail(detail),
                )
                .await?;
                tracing::warn!("hourly email budget spent: a recovery code was not sent");
            }
            return Ok(());
        }
        let hint = email.masked();
        let code = RecoveryCode::generate();
        let code_hash = self
            .hasher
            .hash(&code)
            .await
            .map_err(|e| JobError::transient("hashing the code", e))?;
        let message = templates::RecoveryCodeEmail {
            code: code.grouped(),
            minutes: self.rules.code_ttl.as_secs().div_ceil(60),
            password_needed: self.rules.require_password,
            recover_url: self
                .rules
                .public_base_url
                .as_ref()
                .map(|base| format!("{base}/recover/code")),
            mfa_required: self.pool.mfa_required,
            mfa_optional: self.pool.mfa_optional,
        }
        .render(email)
        .map_err(|e| JobError::transient("rendering the code email", e))?;
        drop(code);
        let message_id = self
            .mailer
            .send(message)
            .await
            .map_err(|e| JobError::transient("sending the code email", e))?;
        let issued = Issued {
            id: recovery.id,
            account_key: &account_key,
            transition: Transition::CodeSent,
            code_hash: Some(&code_hash),
            email_hint: Some(&hint),
            ttl_seconds,
        };
        if !recoveries::mark_issued(conn, issued).await?.applied() {
            // The row is locked and was checked above: this cannot happen without a bug.
            return Err(JobError::transient(
                "recording the code",
                "the recovery left `requested` while its row was locked",
            ));
        }
        self.supersede(conn, &recovery, &account_key, &client)
            .await?;
        let detail = format!("code emailed to {hint} (SES message {message_id})");
        audit::append(conn, event(Action::CodeSent, Outcome::Sent).detail(detail)).await?;
        metrics::counter!("recovery_codes_total", "outcome" => "sent").increment(1);
        tracing::info!(email = %hint, "recovery code sent");
        Ok(())
    }

    /// Older recoveries of the account stop being usable, each audited.
    async fn supersede(
        &self,
        conn: &mut PgConnection,
        recovery: &RecoveryRow,
        account_key: &str,
        client: &ClientInfo,
    ) -> Result<(), sqlx::Error> {
        let actor = recovery.initiated_by.actor();
        for old in recoveries::supersede_others(conn, account_key, recovery.id).await? {
            audit::append(
                conn,
                AuditEvent::new(Action::Superseded, &actor, Outcome::Superseded)
                    .username(&recovery.username)
                    .recovery(old)
                    .client(client)
                    .detail(format!("replaced by recovery {}", recovery.id)),
            )
            .await?;
        }
        Ok(())
    }
}

/// Where the request came from, as recorded with the recovery.
fn client_of(recovery: &RecoveryRow) -> ClientInfo {
    ClientInfo {
        ip: recovery.request_ip.clone(),
        user_agent: recovery.user_agent.clone(),
    }
}
