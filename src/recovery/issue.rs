//! Issuing the code of a requested recovery (run by the `IssueCode` job): the user is looked up,
//! the account's limits are applied, and an eligible user is emailed a fresh code; every other
//! name gets a recovery that behaves the same towards confirmations but has no code.

use sqlx::PgConnection;

use super::eligibility::{eligibility, Eligible};
use super::limits::{email_refused, EmailKind};
use super::RecoveryService;
use crate::audit::{self, Action, AuditEvent, Outcome};
use crate::domain::{ClientInfo, Initiator, RecoveryCode, Transition};
use crate::mail::templates;
use crate::store::recoveries::{self, Issued, RecoveryRow, Superseding};
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
        let name_key = self.name_key_of(&recovery);
        // The SES budget of all instances, less the notices' reserve: once spent, no code goes
        // out this hour, and every name is treated alike (decided before any lookup).
        if self.codes_budget_spent().await?.is_some() {
            return self
                .email_budget_spent(conn, &recovery, None, &recovery.username, &client)
                .await;
        }
        // Cognito is asked about the name as typed.
        let user = self
            .lookup(recovery.account())
            .await
            .map_err(|e| JobError::transient("looking the user up", e))?;
        // From here on a user's name is recorded as their Cognito username; any other name stays
        // redacted.
        let account_key = user.as_ref().map(|u| u.username.clone());
        let display = account_key
            .clone()
            .unwrap_or_else(|| recovery.username.clone());
        recoveries::lock_account(conn, &name_key).await?;
        // A new code replaces only the codes asked for with this name from the same place: a
        // request from elsewhere never kills the owner's live code.
        let same_origin = Superseding::SameOrigin {
            name_key: &name_key,
            prefix: recovery.request_prefix.as_deref(),
        };
        let event = |action: Action, outcome: Outcome| {
            AuditEvent::new(action, &actor, outcome)
                .username(&display)
                .recovery(recovery.id)
                .client(&client)
        };

        // The email limits count the issued recoveries of the name (by its key), whether or not
        // it is a user's, so that they do not tell those apart either. A
        // self-service request spends its address block's share; the support desk's requests
        // were counted against their own quota when they were made.
        if recovery.initiated_by == Initiator::User {
            let counts =
                recoveries::issue_counts(conn, &name_key, recovery.request_prefix.as_deref())
                    .await?;
            if let Some(why) = email_refused(&self.budgets(), &counts) {
                metrics::counter!("rate_limit_rejections_total", "limit" => "account_emails")
                    .increment(1);
                if recoveries::mark_rate_limited(
                    conn,
                    recovery.id,
                    account_key.as_deref(),
                    &display,
                )
                .await?
                .applied()
                {
                    audit::append(
                        conn,
                        event(Action::RateLimited, Outcome::Limited).detail(why),
                    )
                    .await?;
                }
                return Ok(());
            }
        }

        let ttl_seconds = i64::try_from(self.rules.code_ttl.as_secs()).unwrap_or(i64::MAX);
        let Eligible { email, .. } = match eligibility(user) {
            Ok(eligible) => eligible,
            Err(reason) => {
                let issued = Issued {
                    id: recovery.id,
                    account_key: account_key.as_deref(),
                    username: &display,
                    transition: Transition::NotEligible,
                    code_hash: None,
                    email_hint: None,
                    ttl_seconds,
                };
                if recoveries::mark_issued(conn, issued).await?.applied() {
                    self.supersede(conn, &recovery, &display, &client, same_origin)
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
        // Taken only now, for a code about to go out; another instance may have taken the last
        // one since the check above, which is then recorded the same way.
        if !self.take_email(EmailKind::Code).await? {
            return self
                .email_budget_spent(conn, &recovery, account_key.as_deref(), &display, &client)
                .await;
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
            account_key: account_key.as_deref(),
            username: &display,
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
        self.supersede(conn, &recovery, &display, &client, same_origin)
            .await?;
        let detail = format!("code emailed to {hint} (SES message {message_id})");
        audit::append(conn, event(Action::CodeSent, Outcome::Sent).detail(detail)).await?;
        metrics::counter!("recovery_codes_total", "outcome" => "sent").increment(1);
        tracing::info!(email = %hint, "recovery code sent");
        Ok(())
    }

    /// No code goes out this hour: the service's email budget is spent (recorded).
    async fn email_budget_spent(
        &self,
        conn: &mut PgConnection,
        recovery: &RecoveryRow,
        account_key: Option<&str>,
        display: &str,
        client: &ClientInfo,
    ) -> Result<(), JobError> {
        if recoveries::mark_rate_limited(conn, recovery.id, account_key, display)
            .await?
            .applied()
        {
            audit::append(
                conn,
                AuditEvent::new(
                    Action::RateLimited,
                    &recovery.initiated_by.actor(),
                    Outcome::Limited,
                )
                .username(display)
                .recovery(recovery.id)
                .client(client)
                .detail("the hourly email budget of the service is spent"),
            )
            .await?;
            tracing::warn!("hourly email budget spent: a recovery was not sent a code");
        }
        Ok(())
    }

    /// Other recoveries in `scope` stop being usable, each audited (under the name `display`).
    pub(super) async fn supersede(
        &self,
        conn: &mut PgConnection,
        recovery: &RecoveryRow,
        display: &str,
        client: &ClientInfo,
        scope: Superseding<'_>,
    ) -> Result<(), sqlx::Error> {
        let actor = recovery.initiated_by.actor();
        for old in recoveries::supersede_others(conn, recovery.id, scope).await? {
            audit::append(
                conn,
                AuditEvent::new(Action::Superseded, &actor, Outcome::Superseded)
                    .username(display)
                    .recovery(old)
                    .client(client)
                    .detail(format!("replaced by recovery {}", recovery.id)),
            )
            .await?;
        }
        Ok(())
    }
}

impl RecoveryService {
    /// The key limits and matching use for the recovery's name (computed for recoveries
    /// recorded before names were keyed).
    pub(super) fn name_key_of(&self, recovery: &RecoveryRow) -> String {
        recovery.name_key.clone().unwrap_or_else(|| {
            crate::domain::Username::parse(&recovery.username)
                .map_or_else(|_| recovery.username.clone(), |name| self.names.key(&name))
        })
    }
}

/// Where the request came from, as recorded with the recovery.
fn client_of(recovery: &RecoveryRow) -> ClientInfo {
    ClientInfo {
        ip: recovery.request_ip.clone(),
        user_agent: recovery.user_agent.clone(),
    }
}
