//! A recovery is asked for: at the public door (counted against the client address) or by the
//! support desk. Either way it is recorded with its audit event and the job that issues the
//! code, in one transaction.

use chrono::Utc;
use uuid::Uuid;

use super::jobs::IssueCode;
use super::{LimitError, RecoveryService};
use crate::audit::{self, Action, AuditEvent, Outcome};
use crate::domain::{ClientInfo, Initiator, Username};
use crate::store::recoveries::{self, NewRecovery};
use crate::worker;

pub struct RecoveryRequest {
    pub username: Username,
    /// The Cognito username, when the caller already looked the user up (the support desk).
    pub account_key: Option<String>,
    pub initiator: Initiator,
    /// Why staff started it (a ticket number); `None` for self-service.
    pub reason: Option<String>,
    pub client: ClientInfo,
}

#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("the client address is over its hourly limit")]
    RateLimited { retry_after: u64 },
    #[error("the limit counters are unavailable")]
    LimitsUnavailable(#[source] sqlx::Error),
    /// The support desk already started its day's quota of recoveries for this account.
    #[error("{started} recoveries were started by support for this account in 24 h")]
    SupportQuotaSpent { started: i64 },
    #[error("the recovery could not be recorded")]
    Store(#[from] sqlx::Error),
}

impl From<LimitError> for RequestError {
    fn from(err: LimitError) -> Self {
        match err {
            LimitError::Limited { retry_after } => RequestError::RateLimited { retry_after },
            LimitError::Unavailable(e) => RequestError::LimitsUnavailable(e),
        }
    }
}

impl RecoveryService {
    /// A request at the public door: counted against the client address, then recorded.
    /// Deliberately does no Cognito, SES or argon2 work: the answer, and how long it takes, is
    /// the same for every username.
    pub async fn request(
        &self,
        username: Username,
        client: ClientInfo,
    ) -> Result<Uuid, RequestError> {
        self.limit_client("request", &client).await?;
        self.record_request(RecoveryRequest {
            username,
            account_key: None,
            initiator: Initiator::User,
            reason: None,
            client,
        })
        .await
    }

    /// Records the request and queues its processing. Staff requests come here directly: they
    /// are authenticated and accountable, so no per-address limit applies, but the support
    /// desk's own daily quota per account does (checked under the account's lock, so that
    /// concurrent requests cannot pass it together).
    #[tracing::instrument(skip_all, fields(recovery_id))]
    pub(super) async fn record_request(
        &self,
        request: RecoveryRequest,
    ) -> Result<Uuid, RequestError> {
        let id = Uuid::new_v4();
        tracing::Span::current().record("recovery_id", tracing::field::display(id));
        let ttl = chrono::Duration::from_std(self.rules.code_ttl).unwrap_or(chrono::Duration::MAX);
        let mut tx = self.db.begin().await?;
        if let (Initiator::Staff(_), Some(account)) = (&request.initiator, &request.account_key) {
            recoveries::lock_account(&mut tx, account).await?;
            let started = recoveries::support_requests_last_day(&mut tx, account).await?;
            if started >= i64::from(self.rules.support_requests_per_user_per_day) {
                return Err(RequestError::SupportQuotaSpent { started });
            }
        }
        let prefix = match request.initiator {
            Initiator::User => Some(request.client.address_block()),
            Initiator::Staff(_) => None,
        };
        // Until Cognito has shown the name is a user's, it is kept redacted (the name as typed
        // only until the job has looked it up).
        let display = match &request.account_key {
            Some(account) => account.clone(),
            None => self.names.redacted(&request.username),
        };
        let name_key = self.names.key(&request.username);
        recoveries::insert(
            &mut tx,
            NewRecovery {
                id,
                username: &display,
                name_key: &name_key,
                typed_name: request
                    .account_key
                    .is_none()
                    .then_some(request.username.as_str()),
                account_key: request.account_key.as_deref(),
                request_prefix: prefix.as_deref(),
                initiated_by: &request.initiator,
                reason: request.reason.as_deref(),
                expires_at: Utc::now() + ttl,
                request_ip: request.client.ip.as_deref(),
                user_agent: request.client.user_agent.as_deref(),
            },
        )
        .await?;
        worker::enqueue::<IssueCode>(&mut tx, id).await?;
        let actor = request.initiator.actor();
        let mut event = AuditEvent::new(Action::RecoveryRequested, &actor, Outcome::Accepted)
            .username(&display)
            .recovery(id)
            .client(&request.client);
        if let Some(reason) = &request.reason {
            event = event.detail(format!("reason: {reason}"));
        }
        audit::append(&mut tx, event).await?;
        tx.commit().await?;
        metrics::counter!("recovery_requests_total", "initiated_by" => request.initiator.kind())
            .increment(1);
        self.wakeup.notify_one();
        Ok(id)
    }
}
