//! What the support desk may do: start the same emailed-code recovery a user could start, follow
//! a user's recoveries, and cancel one whose reset has not started. Staff never see a code and
//! cannot remove MFA.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::eligibility::{eligibility, Ineligible};
use super::notices::masked_phone;
use super::{RecoveryRequest, RecoveryService, RequestError};
use crate::audit::{self, Action, AuditEvent, AuditFilter, AuditRecord, Outcome};
use crate::domain::{
    token_digest, Actor, Agent, ClientInfo, EmailAddress, Initiator, Justification, RecoveryStatus,
    Transition, Username,
};
use crate::idp::{AuthFactors, IdpError, UserProfile};
use crate::store::attempts;
use crate::store::recoveries::{self, RecoveryRow};

#[derive(Debug, thiserror::Error)]
pub enum SupportError {
    #[error("the user cannot be recovered: {0}")]
    NotEligible(Ineligible),
    /// Several users have the email searched for: the agent must use the username.
    #[error("{0} users have that email address")]
    SeveralUsers(usize),
    /// The account is the agent's own (matched by their email or username).
    #[error("the account is the agent's own")]
    OwnAccount,
    #[error("no such recovery")]
    RecoveryNotFound,
    /// The service's hourly email budget (`RECOVERY_EMAILS_PER_HOUR`) is spent.
    #[error("the service's hourly email budget is spent; retry in {retry_after} s")]
    EmailBudgetSpent { retry_after: u64 },
    /// The support desk's own daily quota of recoveries for this account is spent.
    #[error(
        "{started} recoveries were started for this user in the last 24 hours (at most {per_day})"
    )]
    QuotaSpent { started: i64, per_day: u32 },
    #[error("the recovery is {0} and can no longer be cancelled")]
    NotCancellable(RecoveryStatus),
    /// The approver started the recovery themselves: a second person must approve it.
    #[error("a recovery is approved by someone other than the person who started it")]
    SelfApproval,
    /// Not waiting for approval (any more): approved, cancelled, or lapsed (`expired`).
    #[error("the recovery is {0}: there is nothing to approve")]
    NotApprovable(&'static str),
    #[error("the identity provider is unavailable")]
    IdentityProviderUnavailable(#[source] IdpError),
    #[error("the recovery store failed")]
    Store(#[from] sqlx::Error),
}

impl From<IdpError> for SupportError {
    fn from(err: IdpError) -> Self {
        Self::IdentityProviderUnavailable(err)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CancelLinkError {
    #[error("the link is not valid: already used, or the reset was applied or cancelled")]
    Invalid,
    #[error("the recovery store failed")]
    Store(#[from] sqlx::Error),
}

/// A recovery the support desk started.
#[derive(Debug, Clone)]
pub struct Queued {
    pub recovery_id: Uuid,
    /// It waits for a second person's approval before its code goes out.
    pub awaiting_approval: bool,
    /// The masked address the code goes to (`j***@example.com`).
    pub email_hint: String,
}

/// A recovery as the support desk sees it: never its code or hash.
#[derive(Debug, Clone)]
pub struct RecoverySummary {
    pub recovery_id: Uuid,
    pub username: String,
    pub status: RecoveryStatus,
    /// The status as shown: `expired` for a code that is past its expiry, else `status`.
    pub shown_status: &'static str,
    pub initiated_by: Initiator,
    pub reason: Option<String>,
    pub ticket: Option<String>,
    /// How the agent verified the caller, as stored (`call_back`, `other: <words>`).
    pub verification: Option<String>,
    /// Who approved it (`SUPPORT_REQUIRE_APPROVAL`).
    pub approved_by: Option<String>,
    pub email_hint: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub attempts: i32,
}

impl RecoverySummary {
    /// Whether the desk may still cancel it (before its reset starts; a scheduled one too).
    pub fn cancellable(&self) -> bool {
        Transition::CancelBySupport.from().contains(&self.status)
    }

    /// `row` as the support desk sees it at `now`.
    fn of(row: RecoveryRow, now: DateTime<Utc>) -> Self {
        Self {
            recovery_id: row.id,
            username: row.username,
            status: row.status,
            shown_status: row.status.label(row.expires_at, now),
            initiated_by: row.initiated_by,
            reason: row.reason,
            ticket: row.ticket,
            verification: row.verification,
            approved_by: row.approved_by,
            email_hint: row.email_hint,
            created_at: row.created_at,
            expires_at: row.expires_at,
            finished_at: row.finished_at,
            attempts: row.attempts,
        }
    }
}

/// A user as the support desk sees them: enough to recognise the caller's account and decide,
/// never a full address, a code or a secret.
#[derive(Debug, Clone)]
pub struct UserAtDesk {
    /// The Cognito username.
    pub username: String,
    pub enabled: bool,
    /// `j***@example.com`, when the email is verified.
    pub email_hint: Option<String>,
    /// `+*********00`, when the phone number is verified.
    pub phone_hint: Option<String>,
    /// Every way they can sign in or pass MFA, as Cognito reads it.
    pub factors: AuthFactors,
    pub remembered_devices: usize,
    /// Whether a recovery can be started for them, and why not.
    pub eligibility: Result<(), Ineligible>,
    /// The account is the agent's own: the desk may look, not act.
    pub own_account: bool,
    /// Their recoveries, newest first.
    pub recoveries: Vec<RecoverySummary>,
}

/// One recovery and its timeline, for the support desk.
#[derive(Debug, Clone)]
pub struct RecoveryAtDesk {
    pub recovery: RecoverySummary,
    /// Its audit events, oldest first (those chained so far).
    pub timeline: Vec<AuditRecord>,
}

/// How many users an email search lists before it asks for the username.
const EMAIL_MATCHES: usize = 5;

impl RecoveryService {
    /// The user a name, alias or email designates: by name or alias first (as the public door
    /// does), then by the `email` attribute. `None` when no one has it.
    async fn find_for_desk(&self, query: &Username) -> Result<Option<UserProfile>, SupportError> {
        if let Some(user) = self.lookup(query.as_str()).await? {
            return Ok(Some(user));
        }
        let Ok(email) = EmailAddress::parse(query.as_str()) else {
            return Ok(None);
        };
        let matches = self.idp.find_by_email(&email, EMAIL_MATCHES).await?;
        match matches.as_slice() {
            [] => Ok(None),
            [one] => Ok(self.lookup(one).await?),
            several => Err(SupportError::SeveralUsers(several.len())),
        }
    }

    /// The refusal of an action of `agent` on their own account, audited.
    async fn refuse_own(
        &self,
        agent: &Agent,
        account: &str,
        what: &str,
        client: &ClientInfo,
    ) -> SupportError {
        let why = "the account is the agent's own";
        self.refuse(agent, account, what, why, client, SupportError::OwnAccount)
            .await
    }

    /// `refusal` of `what` `agent` tried on `account`, for `why`, audited.
    async fn refuse(
        &self,
        agent: &Agent,
        account: &str,
        what: &str,
        why: &str,
        client: &ClientInfo,
        refusal: SupportError,
    ) -> SupportError {
        let mut conn = match self.db.acquire().await {
            Ok(conn) => conn,
            Err(err) => return err.into(),
        };
        let recorded = audit::append(
            &mut conn,
            AuditEvent::new(Action::SupportRefused, &agent.actor(), Outcome::Rejected)
                .username(account)
                .client(client)
                .detail(agent.says(format!("{what} refused: {why}"))),
        )
        .await;
        match recorded {
            Ok(()) => refusal,
            Err(err) => err.into(),
        }
    }

    /// Queues the emailed-code recovery for the user, to the verified address on file only. The
    /// caller is trusted, so unlike the public endpoint it is told why a user is not eligible,
    /// by the same rule the public path applies. An agent never starts one for their own
    /// account.
    #[tracing::instrument(skip_all, fields(staff = %agent.name))]
    pub async fn request_for_user(
        &self,
        agent: &Agent,
        username: Username,
        grounds: Justification,
        client: ClientInfo,
    ) -> Result<Queued, SupportError> {
        let user = self.find_for_desk(&username).await?;
        if let Some(user) = &user {
            if agent.owns(own_names(user)) {
                return Err(self
                    .refuse_own(agent, &user.username, "starting a recovery", &client)
                    .await);
            }
        }
        let known = user.as_ref().map(|u| u.username.clone());
        // The service's hourly email budget is shared by every instance: when it is spent, say
        // so now rather than queue a recovery that would get no code.
        if let Some(retry_after) = self.limits.codes_budget_spent().await? {
            return Err(SupportError::EmailBudgetSpent { retry_after });
        }
        let eligible = match eligibility(user, self.rules.factors) {
            Ok(eligible) => eligible,
            Err(ineligible) => {
                let actor = agent.actor();
                // A user's Cognito username, or a name that is no one's, redacted.
                let display = known.unwrap_or_else(|| self.names.redacted(&username));
                let mut conn = self.db.acquire().await?;
                audit::append(
                    &mut conn,
                    AuditEvent::new(Action::NotEligible, &actor, Outcome::NoEmail)
                        .username(&display)
                        .client(&client)
                        .detail(agent.says(format!("{ineligible}; {grounds}"))),
                )
                .await?;
                return Err(SupportError::NotEligible(ineligible));
            }
        };
        // Recorded under the account's own name, whichever alias or email was typed.
        let username = Username::parse(&eligible.username).unwrap_or(username);
        let recovery_id = self
            .record_request(
                &mut *self.db.acquire().await?,
                RecoveryRequest {
                    username,
                    account_key: Some(eligible.username.clone()),
                    initiator: Initiator::Staff(agent.name.clone()),
                    justification: Some(grounds),
                    via: Some(agent.via.clone()),
                    client,
                },
            )
            .await
            .map_err(|err| match err {
                RequestError::SupportQuotaSpent { started } => SupportError::QuotaSpent {
                    started,
                    per_day: self.rules.support_requests_per_user_per_day,
                },
                RequestError::Store(e) | RequestError::LimitsUnavailable(e) => {
                    SupportError::Store(e)
                }
                RequestError::RateLimited { .. } => {
                    unreachable!("support requests are not limited per address")
                }
            })?;
        Ok(Queued {
            recovery_id,
            awaiting_approval: self.rules.support_require_approval,
            email_hint: eligible.email.masked(),
        })
    }

    /// Clears the user's count of wrong confirmations, from every address: locked codes stay
    /// locked, but a new code (the user's or one support starts) can be confirmed at once.
    /// Returns how many failures were forgotten.
    pub async fn clear_lock(
        &self,
        agent: &Agent,
        username: Username,
        grounds: &Justification,
        client: &ClientInfo,
    ) -> Result<u64, SupportError> {
        let user = self
            .find_for_desk(&username)
            .await?
            .ok_or(SupportError::NotEligible(Ineligible::UnknownUser))?;
        if agent.owns(own_names(&user)) {
            return Err(self
                .refuse_own(agent, &user.username, "clearing a lock", client)
                .await);
        }
        // Wrong confirmations count against the name they were typed with: the one support
        // typed, and the user's Cognito username.
        let mut keys = vec![self.names.key(&username)];
        if let Ok(own) = Username::parse(&user.username) {
            keys.push(self.names.key(&own));
        }
        keys.dedup();
        let mut tx = self.db.begin().await?;
        let mut cleared = 0;
        for key in &keys {
            recoveries::lock_account(&mut tx, key).await?;
            cleared += attempts::clear(&mut tx, key).await?;
        }
        audit::append(
            &mut tx,
            AuditEvent::new(Action::LockCleared, &agent.actor(), Outcome::Success)
                .username(&user.username)
                .client(client)
                .detail(agent.says(format!(
                    "{cleared} wrong confirmations forgotten; {grounds}"
                ))),
        )
        .await?;
        tx.commit().await?;
        Ok(cleared)
    }

    /// The user's recoveries, newest first, under whichever of their names they were started.
    pub async fn recoveries_of(
        &self,
        agent: &Agent,
        username: &Username,
        client: &ClientInfo,
    ) -> Result<Vec<RecoverySummary>, SupportError> {
        // A name typed, not known to be anyone's: recorded redacted.
        let recorded = self.names.redacted(username);
        self.list_recoveries(agent, username, &recorded, client)
            .await
    }

    /// `recoveries_of`, audited as a lookup of `recorded` (the name as the log may hold it).
    async fn list_recoveries(
        &self,
        agent: &Agent,
        username: &Username,
        recorded: &str,
        client: &ClientInfo,
    ) -> Result<Vec<RecoverySummary>, SupportError> {
        let mut tx = self.db.begin().await?;
        let rows =
            recoveries::list_for(&mut tx, &self.names.key(username), username.as_str()).await?;
        audit::append(
            &mut tx,
            AuditEvent::new(Action::SupportLookup, &agent.actor(), Outcome::Success)
                .username(recorded)
                .client(client)
                .detail(agent.says(format!("{} recoveries listed", rows.len()))),
        )
        .await?;
        tx.commit().await?;
        let now = self.now();
        Ok(rows
            .into_iter()
            .map(|row| RecoverySummary::of(row, now))
            .collect())
    }

    /// What the desk may know of the user a name, alias or email designates (audited as a
    /// lookup): masked contacts, factors, remembered devices, whether a recovery can be
    /// started, and their recoveries.
    pub async fn user_at_desk(
        &self,
        agent: &Agent,
        query: &Username,
        client: &ClientInfo,
    ) -> Result<UserAtDesk, SupportError> {
        let user = self
            .find_for_desk(query)
            .await?
            .ok_or(SupportError::NotEligible(Ineligible::UnknownUser))?;
        let factors = self.idp.remaining_factors(&user.username).await?;
        let remembered_devices = self.idp.remembered_devices(&user.username).await?;
        let own_account = agent.owns(own_names(&user));
        let account = Username::parse(&user.username).unwrap_or_else(|_| query.clone());
        let recoveries = self
            .list_recoveries(agent, &account, &user.username, client)
            .await?;
        Ok(UserAtDesk {
            email_hint: user.verified_email.as_ref().map(EmailAddress::masked),
            phone_hint: user.verified_phone.as_deref().map(masked_phone),
            username: user.username.clone(),
            enabled: user.enabled,
            factors,
            remembered_devices,
            own_account,
            eligibility: eligibility(Some(user), self.rules.factors).map(|_| ()),
            recoveries,
        })
    }

    /// One recovery and its timeline, for the desk (audited as a lookup).
    pub async fn recovery_at_desk(
        &self,
        agent: &Agent,
        id: Uuid,
        client: &ClientInfo,
    ) -> Result<RecoveryAtDesk, SupportError> {
        let mut tx = self.db.begin().await?;
        let row = recoveries::get(&mut tx, id)
            .await?
            .ok_or(SupportError::RecoveryNotFound)?;
        audit::append(
            &mut tx,
            AuditEvent::new(Action::SupportLookup, &agent.actor(), Outcome::Success)
                .username(&row.username)
                .recovery(id)
                .client(client)
                .detail(agent.says("recovery opened")),
        )
        .await?;
        tx.commit().await?;
        let filter = AuditFilter {
            recovery_id: Some(id),
            ..AuditFilter::default()
        };
        let timeline = crate::store::audit::query(&self.db, &filter, 200)
            .await?
            .into_iter()
            .map(AuditRecord::from)
            .collect();
        Ok(RecoveryAtDesk {
            recovery: RecoverySummary::of(row, self.now()),
            timeline,
        })
    }

    /// The names the account of recovery `id` goes by (its Cognito username, and the verified
    /// email Cognito holds), for the rule that nobody acts on their own account. Read before
    /// the recovery is locked; should Cognito not answer, the username alone (stopping a
    /// recovery must not wait for Cognito).
    async fn account_names(&self, id: Uuid) -> Result<Vec<String>, SupportError> {
        let row = recoveries::get(&mut *self.db.acquire().await?, id)
            .await?
            .ok_or(SupportError::RecoveryNotFound)?;
        let account = row.account().to_owned();
        Ok(match self.lookup(&account).await {
            Ok(Some(user)) => own_names(&user).map(str::to_owned).collect(),
            _ => vec![account],
        })
    }

    /// Cancels a recovery whose reset has not started: its code stops working at once.
    pub async fn cancel(
        &self,
        agent: &Agent,
        id: Uuid,
        client: &ClientInfo,
    ) -> Result<RecoverySummary, SupportError> {
        let names = self.account_names(id).await?;
        let mut tx = self.db.begin().await?;
        let row = recoveries::lock(&mut tx, id)
            .await?
            .ok_or(SupportError::RecoveryNotFound)?;
        if agent.owns(names.iter().map(String::as_str)) {
            drop(tx);
            let account = row.account().to_owned();
            return Err(self
                .refuse_own(agent, &account, "cancelling a recovery", client)
                .await);
        }
        if !recoveries::apply(&mut tx, self.now(), id, Transition::CancelBySupport)
            .await?
            .applied()
        {
            return Err(SupportError::NotCancellable(row.status));
        }
        audit::append(
            &mut tx,
            AuditEvent::new(Action::Cancelled, &agent.actor(), Outcome::Cancelled)
                .username(&row.username)
                .recovery(id)
                .client(client)
                .detail(agent.says(format!("was {}", row.status))),
        )
        .await?;
        let row = recoveries::get(&mut tx, id)
            .await?
            .ok_or(SupportError::RecoveryNotFound)?;
        tx.commit().await?;
        Ok(RecoverySummary::of(row, self.now()))
    }

    /// The recoveries waiting for a second person's approval, oldest first (audited as a
    /// lookup).
    pub async fn awaiting_approval(
        &self,
        approver: &Agent,
        client: &ClientInfo,
    ) -> Result<Vec<RecoverySummary>, SupportError> {
        let mut tx = self.db.begin().await?;
        let now = self.now();
        let rows = recoveries::awaiting_approval(&mut tx, now).await?;
        audit::append(
            &mut tx,
            AuditEvent::new(Action::SupportLookup, &approver.actor(), Outcome::Success)
                .client(client)
                .detail(approver.says(format!(
                    "{} recoveries awaiting approval listed",
                    rows.len()
                ))),
        )
        .await?;
        tx.commit().await?;
        Ok(rows
            .into_iter()
            .map(|row| RecoverySummary::of(row, now))
            .collect())
    }

    /// A second person approves a recovery the support desk started: its code goes out now,
    /// with its full lifetime. Never the person who started it, never on their own account,
    /// never once it lapsed.
    #[tracing::instrument(skip_all, fields(staff = %approver.name))]
    pub async fn approve(
        &self,
        approver: &Agent,
        id: Uuid,
        client: &ClientInfo,
    ) -> Result<RecoverySummary, SupportError> {
        let names = self.account_names(id).await?;
        let mut tx = self.db.begin().await?;
        let row = recoveries::lock(&mut tx, id)
            .await?
            .ok_or(SupportError::RecoveryNotFound)?;
        let started_by = match &row.initiated_by {
            Initiator::Staff(name) => Some(name.clone()),
            Initiator::User => None,
        };
        let own_request = started_by.as_ref().is_some_and(|name| approver.is(name));
        if own_request || approver.owns(names.iter().map(String::as_str)) {
            drop(tx);
            let account = row.account().to_owned();
            let what = "approving a recovery";
            return Err(if own_request {
                let why = "the agent started it; a second person must approve it";
                self.refuse(
                    approver,
                    &account,
                    what,
                    why,
                    client,
                    SupportError::SelfApproval,
                )
                .await
            } else {
                self.refuse_own(approver, &account, what, client).await
            });
        }
        let now = self.now();
        let expires_at = now + self.code_lifetime();
        let approved =
            recoveries::approve(&mut tx, now, id, approver.name.as_str(), expires_at).await?;
        if !approved.applied() {
            return Err(SupportError::NotApprovable(
                row.status.label(row.expires_at, now),
            ));
        }
        crate::worker::enqueue::<super::jobs::IssueCode>(&mut tx, id).await?;
        let started = started_by.map_or_else(|| "the user".to_owned(), |n| n.to_string());
        audit::append(
            &mut tx,
            AuditEvent::new(Action::SupportApproved, &approver.actor(), Outcome::Success)
                .username(&row.username)
                .recovery(id)
                .client(client)
                .detail(approver.says(format!("started by {started}"))),
        )
        .await?;
        let row = recoveries::get(&mut tx, id)
            .await?
            .ok_or(SupportError::RecoveryNotFound)?;
        tx.commit().await?;
        self.wakeup.notify_one();
        Ok(RecoverySummary::of(row, now))
    }

    /// The owner followed the cancel link of a scheduled reset in time: it will not be applied.
    pub async fn cancel_scheduled_reset(
        &self,
        token: &secrecy::SecretString,
        client: &ClientInfo,
    ) -> Result<(), CancelLinkError> {
        let mut tx = self.db.begin().await?;
        let row = recoveries::cancel_scheduled(&mut tx, self.now(), &token_digest(token))
            .await?
            .ok_or(CancelLinkError::Invalid)?;
        audit::append(
            &mut tx,
            AuditEvent::new(Action::Cancelled, &Actor::User, Outcome::Cancelled)
                .username(&row.username)
                .recovery(row.id)
                .client(client)
                .detail("scheduled reset cancelled with the notice's link"),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Retention: hashes of codes that expired unused are deleted (codes of finished, cancelled
    /// and superseded recoveries lose theirs at once), and so are the sealed credentials of
    /// enrollments that expired unfinished and limit counters of long-past windows. Audit events
    /// are never purged. Returns how many secrets went.
    pub async fn purge_expired_codes(&self) -> Result<u64, sqlx::Error> {
        let mut conn = self.db.acquire().await?;
        let now = self.now();
        crate::store::limits::purge_old(&mut conn, now).await?;
        crate::store::attempts::purge_old(&mut conn, now).await?;
        crate::store::staff_sessions::purge_old(&mut conn, now).await?;
        crate::store::absent_names::purge_old(&mut conn, now).await?;
        recoveries::purge_typed_names(&mut conn, now).await?;
        let sealed = crate::store::enrollments::purge_expired(&mut conn, now).await?;
        Ok(recoveries::purge_expired_hashes(&mut conn, now).await? + sealed)
    }

    /// Deletes finished jobs older than `jobs`, then recoveries over for longer than
    /// `recoveries` (with their enrollments), a batch at a time; returns how many rows.
    pub async fn purge_old_rows(
        &self,
        jobs: std::time::Duration,
        recoveries: std::time::Duration,
    ) -> Result<u64, sqlx::Error> {
        const BATCH: i64 = 10_000;
        let now = self.now();
        let ago = |d: std::time::Duration| {
            now - chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
        };
        let mut purged = 0;
        loop {
            let mut conn = self.db.acquire().await?;
            let n = crate::store::jobs::purge_finished(&mut conn, ago(jobs), BATCH).await?;
            purged += n;
            if n < BATCH as u64 {
                break;
            }
        }
        loop {
            let mut tx = self.db.begin().await?;
            let n = recoveries::purge_over(&mut tx, ago(recoveries), BATCH).await?;
            tx.commit().await?;
            purged += n;
            if n < BATCH as u64 {
                break;
            }
        }
        Ok(purged)
    }
}

/// The names an account goes by, for the rule that an agent never acts on their own.
fn own_names(user: &UserProfile) -> impl Iterator<Item = &str> {
    std::iter::once(user.username.as_str())
        .chain(user.verified_email.as_ref().map(EmailAddress::as_str))
}
