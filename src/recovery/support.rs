//! What the support desk may do: start the same emailed-code recovery a user could start, follow
//! a user's recoveries, and cancel one whose reset has not started. Staff never see a code and
//! cannot remove MFA.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::eligibility::{eligibility, Ineligible};
use super::{RecoveryRequest, RecoveryService, RequestError};
use crate::audit::{self, Action, AuditEvent, Outcome};
use crate::domain::{
    token_digest, Actor, ClientInfo, Initiator, RecoveryStatus, StaffName, Transition, Username,
};
use crate::idp::IdpError;
use crate::store::attempts;
use crate::store::recoveries::{self, RecoveryRow};

#[derive(Debug, thiserror::Error)]
pub enum SupportError {
    #[error("the user cannot be recovered: {0}")]
    NotEligible(Ineligible),
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
    #[error("the identity provider is unavailable")]
    IdentityProviderUnavailable(#[source] IdpError),
    #[error("the recovery store failed")]
    Store(#[from] sqlx::Error),
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
    pub email_hint: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub attempts: i32,
}

impl RecoverySummary {
    /// `row` as the support desk sees it at `now`.
    fn of(row: RecoveryRow, now: DateTime<Utc>) -> Self {
        Self {
            recovery_id: row.id,
            username: row.username,
            status: row.status,
            shown_status: row.status.label(row.expires_at, now),
            initiated_by: row.initiated_by,
            reason: row.reason,
            email_hint: row.email_hint,
            created_at: row.created_at,
            expires_at: row.expires_at,
            finished_at: row.finished_at,
            attempts: row.attempts,
        }
    }
}

impl RecoveryService {
    /// Queues the emailed-code recovery for the user, to the verified address on file only. The
    /// caller is trusted, so unlike the public endpoint it is told why a user is not eligible,
    /// by the same rule the public path applies.
    #[tracing::instrument(skip_all, fields(staff = %staff))]
    pub async fn request_for_user(
        &self,
        staff: &StaffName,
        username: Username,
        reason: String,
        client: ClientInfo,
    ) -> Result<Queued, SupportError> {
        let user = self
            .lookup(username.as_str())
            .await
            .map_err(SupportError::IdentityProviderUnavailable)?;
        let known = user.as_ref().map(|u| u.username.clone());
        // The service's hourly email budget is shared by every instance: when it is spent, say
        // so now rather than queue a recovery that would get no code.
        if let Some(retry_after) = self.limits.codes_budget_spent().await? {
            return Err(SupportError::EmailBudgetSpent { retry_after });
        }
        let eligible = match eligibility(user, self.rules.factors) {
            Ok(eligible) => eligible,
            Err(ineligible) => {
                let actor = Actor::Staff(staff.clone());
                // A user's Cognito username, or a name that is no one's, redacted.
                let display = known.unwrap_or_else(|| self.names.redacted(&username));
                let mut conn = self.db.acquire().await?;
                audit::append(
                    &mut conn,
                    AuditEvent::new(Action::NotEligible, &actor, Outcome::NoEmail)
                        .username(&display)
                        .client(&client)
                        .detail(format!("{ineligible}; reason: {reason}")),
                )
                .await?;
                return Err(SupportError::NotEligible(ineligible));
            }
        };
        let recovery_id = self
            .record_request(
                &mut *self.db.acquire().await?,
                RecoveryRequest {
                    username,
                    account_key: Some(eligible.username.clone()),
                    initiator: Initiator::Staff(staff.clone()),
                    reason: Some(reason),
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
            email_hint: eligible.email.masked(),
        })
    }

    /// Clears the user's count of wrong confirmations, from every address: locked codes stay
    /// locked, but a new code (the user's or one support starts) can be confirmed at once.
    /// Returns how many failures were forgotten.
    pub async fn clear_lock(
        &self,
        staff: &StaffName,
        username: Username,
        reason: String,
        client: &ClientInfo,
    ) -> Result<u64, SupportError> {
        let user = self
            .lookup(username.as_str())
            .await
            .map_err(SupportError::IdentityProviderUnavailable)?
            .ok_or(SupportError::NotEligible(Ineligible::UnknownUser))?;
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
            AuditEvent::new(
                Action::LockCleared,
                &Actor::Staff(staff.clone()),
                Outcome::Success,
            )
            .username(&user.username)
            .client(client)
            .detail(format!(
                "{cleared} wrong confirmations forgotten; reason: {reason}"
            )),
        )
        .await?;
        tx.commit().await?;
        Ok(cleared)
    }

    /// The user's recoveries, newest first, under whichever of their names they were started.
    pub async fn recoveries_of(
        &self,
        staff: &StaffName,
        username: &Username,
        client: &ClientInfo,
    ) -> Result<Vec<RecoverySummary>, SupportError> {
        let mut tx = self.db.begin().await?;
        let rows =
            recoveries::list_for(&mut tx, &self.names.key(username), username.as_str()).await?;
        audit::append(
            &mut tx,
            AuditEvent::new(
                Action::SupportLookup,
                &Actor::Staff(staff.clone()),
                Outcome::Success,
            )
            .username(&self.names.redacted(username))
            .client(client)
            .detail(format!("{} recoveries listed", rows.len())),
        )
        .await?;
        tx.commit().await?;
        let now = self.now();
        Ok(rows
            .into_iter()
            .map(|row| RecoverySummary::of(row, now))
            .collect())
    }

    /// Cancels a recovery whose reset has not started: its code stops working at once.
    pub async fn cancel(
        &self,
        staff: &StaffName,
        id: Uuid,
        client: &ClientInfo,
    ) -> Result<RecoverySummary, SupportError> {
        let mut tx = self.db.begin().await?;
        let row = recoveries::lock(&mut tx, id)
            .await?
            .ok_or(SupportError::RecoveryNotFound)?;
        if !recoveries::apply(&mut tx, self.now(), id, Transition::CancelBySupport)
            .await?
            .applied()
        {
            return Err(SupportError::NotCancellable(row.status));
        }
        audit::append(
            &mut tx,
            AuditEvent::new(
                Action::Cancelled,
                &Actor::Staff(staff.clone()),
                Outcome::Cancelled,
            )
            .username(&row.username)
            .recovery(id)
            .client(client)
            .detail(format!("was {}", row.status)),
        )
        .await?;
        let row = recoveries::get(&mut tx, id)
            .await?
            .ok_or(SupportError::RecoveryNotFound)?;
        tx.commit().await?;
        Ok(RecoverySummary::of(row, self.now()))
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
        recoveries::purge_typed_names(&mut conn, now).await?;
        let sealed = crate::store::enrollments::purge_expired(&mut conn, now).await?;
        Ok(recoveries::purge_expired_hashes(&mut conn, now).await? + sealed)
    }
}
