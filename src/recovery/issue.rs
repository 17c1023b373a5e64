//! Issuing the code of a requested recovery (run by the `IssueCode` job): the user is looked up,
//! the limits are applied, and an eligible user is emailed a fresh code, committed before it is
//! sent; every other name gets a recovery that behaves the same towards confirmations but has
//! no code.

use sqlx::PgConnection;

use super::eligibility::{eligibility, Eligible};
use super::limits::{email_refused, EmailKind};
use super::notifier;
use super::RecoveryService;
use crate::audit::{self, Action, AuditEvent, Outcome};
use crate::domain::{
    random_token, token_digest, ClientInfo, EmailAddress, Initiator, RecoveryCode, RecoveryStatus,
    Transition,
};
use crate::mail::{templates, Email};
use crate::store::absent_names;
use crate::store::recoveries::{self, Issued, RecoveryRow, Superseding};
use crate::words::Words;
use crate::worker::JobError;

/// A code ready to go out: its hash is committed, its email rendered.
struct Prepared {
    message: Email,
    hash: String,
    /// The SHA-256 of the email's confirmation link, when it carries one.
    link_hash: Option<String>,
    hint: String,
    /// How the name is recorded.
    display: String,
}

impl RecoveryService {
    /// Codes go out in the order commit, send, mark sent: the hash is committed (on a
    /// connection of its own, with its `recovery.code_sent` event) before the email leaves, so a
    /// code works, and is audited, the moment it arrives.
    /// A send that fails, or a crash between the send and the mark, runs this job again, and it
    /// sends a fresh code (the unmarked one stops working). `conn` is the job's transaction: the
    /// mark commits with the job's end.
    pub(super) async fn issue_code(
        &self,
        conn: &mut PgConnection,
        recovery_id: uuid::Uuid,
    ) -> Result<(), JobError> {
        let Some(recovery) = recoveries::get(conn, recovery_id).await? else {
            return Ok(());
        };
        let prepared = match recovery.status {
            RecoveryStatus::Requested => self.decide(&recovery).await?,
            RecoveryStatus::CodeSent if recovery.code_delivered_at.is_none() => {
                self.reissue(&recovery).await?
            }
            _ => None, // already handled, or cancelled meanwhile
        };
        let Some(prepared) = prepared else {
            return Ok(());
        };
        let message_id = self
            .notifier
            .email(prepared.message)
            .await
            .map_err(|e| JobError::transient("sending the code email", e))?;
        if !recoveries::mark_delivered(conn, self.now(), recovery.id, &prepared.hash)
            .await?
            .applied()
        {
            // Replaced or ended meanwhile (a support cancel, a lock): the email went out all
            // the same, and is recorded.
            tracing::warn!("the code was no longer the recovery's when its email was sent");
        }
        metrics::counter!("recovery_codes_total", "outcome" => "sent").increment(1);
        tracing::info!(email = %prepared.hint, ses_message = %message_id, "recovery code sent");
        Ok(())
    }

    /// Records the `recovery.code_sent` event of a code about to be emailed, in the
    /// transaction that commits the code: it is in the audit log before the email leaves, and a
    /// crash after the send cannot leave an emailed code unaudited.
    async fn record_code_sent(
        &self,
        conn: &mut PgConnection,
        recovery: &RecoveryRow,
        prepared: &Prepared,
        what: &str,
    ) -> Result<(), sqlx::Error> {
        let (actor, client) = (recovery.initiated_by.actor(), client_of(recovery));
        let event = AuditEvent::new(Action::CodeSent, &actor, Outcome::Sent)
            .username(&prepared.display)
            .recovery(recovery.id)
            .client(&client)
            .detail(format!(
                "{what} for {}, committed before its email is handed to SES",
                prepared.hint
            ));
        audit::append(conn, event).await
    }

    /// The recovery's first turn: the user is looked up, the limits applied, and either the
    /// recovery ends here (recorded and committed) or its code is committed, ready to send.
    async fn decide(&self, recovery: &RecoveryRow) -> Result<Option<Prepared>, JobError> {
        let actor = recovery.initiated_by.actor();
        let client = client_of(recovery);
        let name_key = self.name_key_of(recovery);
        // The SES budget of all instances, less the notices' reserve: once spent, no code goes
        // out this hour, and every name is treated alike (decided before any lookup).
        if self.limits.codes_budget_spent().await?.is_some() {
            let mut tx = self.db.begin().await?;
            self.email_budget_spent(&mut tx, recovery, None, &recovery.username, &client)
                .await?;
            tx.commit().await?;
            return Ok(None);
        }
        let public = recovery.initiated_by == Initiator::User;
        // A request that waited longer than a code lives (behind a backlog) could no longer
        // give its owner a usable code in time: dropped before any lookup, whatever the name.
        if public
            && self.now() - recovery.created_at > chrono::Duration::seconds(self.code_ttl_seconds())
        {
            self.drop_stale(recovery, &client).await?;
            return Ok(None);
        }
        // Cognito is asked about the name as typed, unless it just said it has no such user.
        let user = self.lookup_public(recovery, &name_key, public).await?;
        // From here on a user's name is recorded as their Cognito username; any other name stays
        // redacted.
        let account_key = user.as_ref().map(|u| u.username.clone());
        let display = account_key
            .clone()
            .unwrap_or_else(|| recovery.username.clone());
        let eligible = eligibility(user, self.rules.factors);
        // An eligible user's code is made and hashed before any lock is taken.
        let fresh = match &eligible {
            Ok(Eligible { email, locale, .. }) => {
                let words = self
                    .notifier
                    .words(recovery.language.as_deref(), locale.as_deref());
                Some(self.fresh_code(email, &display, &words).await?)
            }
            Err(_) => None,
        };

        let mut tx = self.db.begin().await?;
        let Some(row) = recoveries::lock(&mut tx, recovery.id).await? else {
            return Ok(None);
        };
        if !Transition::CodeSent.applies_to(row.status) {
            return Ok(None); // locked or cancelled while the user was looked up
        }
        recoveries::lock_account(&mut tx, &name_key).await?;
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
        // it is a user's, so that they do not tell those apart either. A self-service request
        // spends its address block's share; the support desk's requests were counted against
        // their own quota when they were made.
        if recovery.initiated_by == Initiator::User {
            let counts = recoveries::issue_counts(
                &mut tx,
                self.now(),
                &name_key,
                recovery.request_prefix.as_deref(),
            )
            .await?;
            if let Some(why) = email_refused(&self.limits.budgets(), &counts) {
                metrics::counter!("rate_limit_rejections_total", "limit" => "account_emails")
                    .increment(1);
                if recoveries::mark_rate_limited(
                    &mut tx,
                    self.now(),
                    recovery.id,
                    account_key.as_deref(),
                    &display,
                )
                .await?
                .applied()
                {
                    audit::append(
                        &mut tx,
                        event(Action::RateLimited, Outcome::Limited).detail(why),
                    )
                    .await?;
                }
                tx.commit().await?;
                return Ok(None);
            }
        }

        let ttl_seconds = self.code_ttl_seconds();
        let Some(prepared) = fresh else {
            let reason = eligible.err().map(|r| r.to_string()).unwrap_or_default();
            let issued = Issued {
                id: recovery.id,
                account_key: account_key.as_deref(),
                username: &display,
                transition: Transition::NotEligible,
                code_hash: None,
                link_hash: None,
                email_hint: None,
                ttl_seconds,
            };
            if recoveries::mark_issued(&mut tx, self.now(), issued)
                .await?
                .applied()
            {
                self.supersede(&mut tx, recovery, &display, &client, same_origin)
                    .await?;
                audit::append(
                    &mut tx,
                    event(Action::NotEligible, Outcome::NoEmail).detail(reason),
                )
                .await?;
                metrics::counter!("recovery_codes_total", "outcome" => "not_eligible").increment(1);
            }
            tx.commit().await?;
            return Ok(None);
        };
        // Taken only now, for a code about to go out; another instance may have taken the last
        // one since the check above, which is then recorded the same way.
        if !self.limits.take_email(EmailKind::Code).await? {
            self.email_budget_spent(&mut tx, recovery, account_key.as_deref(), &display, &client)
                .await?;
            tx.commit().await?;
            return Ok(None);
        }
        let issued = Issued {
            id: recovery.id,
            account_key: account_key.as_deref(),
            username: &display,
            transition: Transition::CodeSent,
            code_hash: Some(&prepared.hash),
            link_hash: prepared.link_hash.as_deref(),
            email_hint: Some(&prepared.hint),
            ttl_seconds,
        };
        if !recoveries::mark_issued(&mut tx, self.now(), issued)
            .await?
            .applied()
        {
            // The row is locked and was checked above: this cannot happen without a bug.
            return Err(JobError::transient(
                "recording the code",
                "the recovery left `requested` while its row was locked",
            ));
        }
        self.supersede(&mut tx, recovery, &display, &client, same_origin)
            .await?;
        self.record_code_sent(&mut tx, recovery, &prepared, "code issued")
            .await?;
        tx.commit().await?;
        Ok(Some(prepared))
    }

    /// A code was committed but its email never marked sent (the send failed, or the service
    /// died before the mark): a fresh code replaces it, committed before it is sent.
    async fn reissue(&self, recovery: &RecoveryRow) -> Result<Option<Prepared>, JobError> {
        let user = self
            .lookup(recovery.account())
            .await
            .map_err(|e| JobError::transient("looking the user up", e))?;
        let Ok(Eligible { email, locale, .. }) = eligibility(user, self.rules.factors) else {
            tracing::warn!("the user can no longer be sent a code; the unsent one expires");
            return Ok(None);
        };
        let words = self
            .notifier
            .words(recovery.language.as_deref(), locale.as_deref());
        let prepared = self.fresh_code(&email, &recovery.username, &words).await?;
        if !self.limits.take_email(EmailKind::Code).await? {
            return Err(JobError::transient(
                "sending the code email",
                "the hourly email budget is spent",
            ));
        }
        let mut tx = self.db.begin().await?;
        let replaced = recoveries::replace_undelivered_code(
            &mut tx,
            self.now(),
            recovery.id,
            &prepared.hash,
            prepared.link_hash.as_deref(),
            self.code_ttl_seconds(),
        )
        .await?;
        if !replaced.applied() {
            return Ok(None);
        }
        let what = "fresh code issued (the previous one's email was never marked sent, and it no longer works)";
        self.record_code_sent(&mut tx, recovery, &prepared, what)
            .await?;
        tx.commit().await?;
        Ok(Some(prepared))
    }

    /// A new code for `email`: hashed, and its email rendered, with a one-time confirmation
    /// link bound to it when the service's address is known, in `words`. The code and the link
    /// live only in the email.
    async fn fresh_code(
        &self,
        email: &EmailAddress,
        display: &str,
        words: &Words,
    ) -> Result<Prepared, JobError> {
        let code = RecoveryCode::generate();
        let hash = self
            .hasher
            .hash(&code)
            .await
            .map_err(|e| JobError::transient("hashing the code", e))?;
        let base = self.rules.public_base_url.as_ref();
        let link = base.map(|_| random_token());
        let message = templates::RecoveryCodeEmail {
            code: code.grouped(),
            minutes: self.rules.code_ttl.as_secs().div_ceil(60),
            password_needed: self.rules.require_password,
            recover_url: base.map(|base| notifier::link(base, "/recover/code", None, words)),
            confirm_url: base
                .zip(link.as_ref())
                .map(|(base, link)| notifier::link(base, "/recover/link", Some(link), words)),
            mfa_required: self.pool.mfa_required,
            mfa_optional: self.pool.mfa_optional,
        }
        .render(email.clone(), words, self.notifier.signature())
        .map_err(|e| JobError::transient("rendering the code email", e))?;
        Ok(Prepared {
            message,
            hash,
            link_hash: link.as_ref().map(token_digest),
            hint: email.masked(),
            display: display.to_owned(),
        })
    }

    fn code_ttl_seconds(&self) -> i64 {
        i64::try_from(self.rules.code_ttl.as_secs()).unwrap_or(i64::MAX)
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
        if recoveries::mark_rate_limited(conn, self.now(), recovery.id, account_key, display)
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
        for old in recoveries::supersede_others(conn, self.now(), recovery.id, scope).await? {
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

/// How long a name Cognito has no user for is not asked about again.
const ABSENT_NAME_SECONDS: i64 = 60;

impl RecoveryService {
    /// The user the recovery names, from Cognito; for a self-service request (`public`), a
    /// name Cognito said it has no user for within the last minute is not asked about again.
    /// (A user created meanwhile gets their code from a request a minute later.)
    async fn lookup_public(
        &self,
        recovery: &RecoveryRow,
        name_key: &str,
        public: bool,
    ) -> Result<Option<crate::idp::UserProfile>, JobError> {
        if public {
            let mut conn = self.db.acquire().await?;
            if absent_names::is_absent(&mut conn, name_key, self.now()).await? {
                metrics::counter!("cognito_lookups_skipped_total").increment(1);
                return Ok(None);
            }
        }
        let user = self
            .lookup(recovery.account())
            .await
            .map_err(|e| JobError::transient("looking the user up", e))?;
        if public && user.is_none() {
            let until = self.now() + chrono::Duration::seconds(ABSENT_NAME_SECONDS);
            let mut conn = self.db.acquire().await?;
            absent_names::remember(&mut conn, name_key, until).await?;
        }
        Ok(user)
    }

    /// Drops a self-service request that waited longer than a code lives: audited
    /// (`recovery.dropped`) and counted, never looked up.
    async fn drop_stale(
        &self,
        recovery: &RecoveryRow,
        client: &ClientInfo,
    ) -> Result<(), JobError> {
        let mut tx = self.db.begin().await?;
        let waited = (self.now() - recovery.created_at).num_seconds();
        let dropped =
            recoveries::apply(&mut tx, self.now(), recovery.id, Transition::IssueGaveUp).await?;
        if dropped.applied() {
            let actor = recovery.initiated_by.actor();
            let event = AuditEvent::new(Action::Dropped, &actor, Outcome::Skipped)
                .username(&recovery.username)
                .recovery(recovery.id)
                .client(client)
                .detail(format!(
                    "not looked up: the request waited {waited} s in the queue, longer than a code lives ({} s)",
                    self.code_ttl_seconds()
                ));
            audit::append(&mut tx, event).await?;
            metrics::counter!("recovery_lookups_dropped_total").increment(1);
            tracing::warn!(
                waited_seconds = waited,
                "a stale self-service lookup was dropped"
            );
        }
        tx.commit().await?;
        Ok(())
    }

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
        language: recovery.language.clone(),
    }
}
