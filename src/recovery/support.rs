//! What the support desk may do: start the same emailed-code recovery a user could start, follow
//! a user's recoveries, and cancel an open one. Staff never see a code and cannot remove MFA.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::{RecoveryRequest, RecoveryService, RecoveryStatus};
use crate::cognito::IdpError;
use crate::domain::{Actor, ClientInfo, Username};
use crate::store::audit::{self, AuditEvent};
use crate::store::recoveries::{self, RecoveryRow};

#[derive(Debug, thiserror::Error)]
pub enum SupportError {
    #[error("no such user in the pool")]
    UserNotFound,
    #[error("the user has no verified email address")]
    NoVerifiedEmail,
    #[error("the user has no TOTP authenticator to remove")]
    NoTotpAuthenticator,
    #[error("no such recovery")]
    RecoveryNotFound,
    #[error("the recovery is {0} and can no longer be cancelled")]
    NotCancellable(&'static str),
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

/// A recovery started by the support desk.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Queued {
    pub recovery_id: Uuid,
    pub status: &'static str,
    pub email_hint: String,
}

/// A recovery as the support desk sees it: never its code or hash.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecoverySummary {
    pub recovery_id: Uuid,
    pub username: String,
    pub status: &'static str,
    pub initiated_by: String,
    pub reason: Option<String>,
    pub email_hint: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub attempts: i32,
}

impl From<RecoveryRow> for RecoverySummary {
    fn from(row: RecoveryRow) -> Self {
        let open = matches!(
            row.status,
            RecoveryStatus::CodeSent | RecoveryStatus::NotEligible
        );
        let status = if open && row.expires_at <= Utc::now() {
            "expired"
        } else {
            row.status.as_str()
        };
        Self {
            recovery_id: row.id,
            username: row.username,
            status,
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
    /// caller is trusted, so unlike the public endpoint it is told why a user is not eligible.
    #[tracing::instrument(skip_all, fields(staff = %staff))]
    pub async fn request_for_user(
        &self,
        staff: &str,
        username: Username,
        reason: String,
        client: ClientInfo,
    ) -> Result<Queued, SupportError> {
        let actor = Actor::Staff(staff.to_owned());
        let user = match self.idp.find_user(username.as_str()).await {
            Ok(user) => user,
            Err(IdpError::Refused { .. }) => None,
            Err(err) => return Err(SupportError::IdentityProviderUnavailable(err)),
        };
        let refusal = match &user {
            None => Some(SupportError::UserNotFound),
            Some(u) if u.verified_email.is_none() => Some(SupportError::NoVerifiedEmail),
            Some(u) if !u.totp_enabled => Some(SupportError::NoTotpAuthenticator),
            Some(_) => None,
        };
        if let Some(refusal) = refusal {
            let mut conn = self.db.acquire().await?;
            audit::append(
                &mut conn,
                AuditEvent::new("recovery.not_eligible", &actor, "refused")
                    .username(username.as_str())
                    .client(&client)
                    .detail(format!("{refusal}; reason: {reason}")),
            )
            .await?;
            return Err(refusal);
        }
        let email_hint = user
            .and_then(|u| u.verified_email)
            .map(|e| e.masked())
            .unwrap_or_default();
        let recovery_id = self
            .record_request(RecoveryRequest {
                username,
                actor,
                reason: Some(reason),
                client,
            })
            .await?;
        Ok(Queued {
            recovery_id,
            status: "queued",
            email_hint,
        })
    }

    /// The user's recoveries, newest first, under whichever of their names they were started.
    pub async fn recoveries_of(
        &self,
        staff: &str,
        username: &Username,
        client: &ClientInfo,
    ) -> Result<Vec<RecoverySummary>, SupportError> {
        let mut tx = self.db.begin().await?;
        let rows = recoveries::list_for(&mut tx, username.as_str()).await?;
        audit::append(
            &mut tx,
            AuditEvent::new("support.lookup", &Actor::Staff(staff.to_owned()), "success")
                .username(username.as_str())
                .client(client)
                .detail(format!("{} recoveries listed", rows.len())),
        )
        .await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(RecoverySummary::from).collect())
    }

    /// Cancels an open recovery: its code stops working at once.
    pub async fn cancel(
        &self,
        staff: &str,
        id: Uuid,
        client: &ClientInfo,
    ) -> Result<RecoverySummary, SupportError> {
        let mut tx = self.db.begin().await?;
        let row = recoveries::lock(&mut tx, id)
            .await?
            .ok_or(SupportError::RecoveryNotFound)?;
        let cancelled = recoveries::transition(
            &mut tx,
            id,
            &[
                RecoveryStatus::Requested,
                RecoveryStatus::CodeSent,
                RecoveryStatus::NotEligible,
                RecoveryStatus::Locked,
            ],
            RecoveryStatus::Cancelled,
        )
        .await?;
        if !cancelled {
            return Err(SupportError::NotCancellable(row.status.as_str()));
        }
        audit::append(
            &mut tx,
            AuditEvent::new(
                "recovery.cancelled",
                &Actor::Staff(staff.to_owned()),
                "cancelled",
            )
            .username(&row.username)
            .recovery(id)
            .client(client)
            .detail(format!("was {}", row.status.as_str())),
        )
        .await?;
        let row = recoveries::get(&mut tx, id)
            .await?
            .ok_or(SupportError::RecoveryNotFound)?;
        tx.commit().await?;
        Ok(row.into())
    }

    /// The owner followed the cancel link of a scheduled reset in time: it will not be applied.
    pub async fn cancel_scheduled_reset(
        &self,
        token: &secrecy::SecretString,
        client: &ClientInfo,
    ) -> Result<(), CancelLinkError> {
        let mut tx = self.db.begin().await?;
        let row = recoveries::cancel_scheduled(&mut tx, &crate::domain::token_digest(token))
            .await?
            .ok_or(CancelLinkError::Invalid)?;
        audit::append(
            &mut tx,
            AuditEvent::new("recovery.cancelled", &Actor::User, "cancelled")
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
    /// and superseded recoveries lose theirs at once), and so are limit counters of long-past
    /// windows. Audit events are never purged.
    pub async fn purge_expired_codes(&self) -> Result<u64, sqlx::Error> {
        let mut conn = self.db.acquire().await?;
        crate::store::limits::purge_old(&mut conn).await?;
        recoveries::purge_expired_hashes(&mut conn).await
    }
}
