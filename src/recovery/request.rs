//! A recovery is asked for: at the public door (counted against the client address) or by the
//! support desk. Either way it is recorded with its audit event and the job that issues the
//! code, in one transaction.

use chrono::Utc;
use sqlx::{Acquire, PgConnection};
use uuid::Uuid;

use super::jobs::IssueCode;
use super::{LimitError, RecoveryService};
use crate::audit::{self, Action, AuditEvent, Outcome};
use crate::domain::{ClientInfo, Initiator, Username};
use crate::store::recoveries::{self, NewRecovery};
use crate::store::{limits, Writes};
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
    /// A request at the public door: counted against the client address and recorded, in one
    /// round trip on one pooled connection (taking and giving back a connection costs two more).
    /// Deliberately does no Cognito, SES or argon2 work: the answer, and how long it takes, is
    /// the same for every username.
    pub async fn request(
        &self,
        username: Username,
        client: ClientInfo,
    ) -> Result<Uuid, RequestError> {
        self.prelimit_client("request", &client)?;
        let mut conn = self
            .db
            .acquire()
            .await
            .map_err(RequestError::LimitsUnavailable)?;
        self.record_request(
            &mut conn,
            RecoveryRequest {
                username,
                account_key: None,
                initiator: Initiator::User,
                reason: None,
                client,
            },
        )
        .await
    }

    /// Records the request and queues its processing. A self-service request is counted against
    /// its client address in the same statement, and recorded only when within the limit. Staff
    /// requests come here directly: they are authenticated and accountable, so no per-address
    /// limit applies, but the support desk's own daily quota per account does (checked under the
    /// account's lock, so that concurrent requests cannot pass it together).
    #[tracing::instrument(skip_all, fields(recovery_id))]
    pub(super) async fn record_request(
        &self,
        conn: &mut PgConnection,
        request: RecoveryRequest,
    ) -> Result<Uuid, RequestError> {
        // Time-ordered (UUIDv7): a new recovery lands at the right edge of the primary key and
        // of the audit log's per-recovery index instead of on a random page (intake measured
        // 1.05x with it). The id is no secret: it tells only when the recovery was created.
        let id = Uuid::now_v7();
        tracing::Span::current().record("recovery_id", tracing::field::display(id));
        let ttl = chrono::Duration::from_std(self.rules.code_ttl).unwrap_or(chrono::Duration::MAX);
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
        let actor = request.initiator.actor();
        // The count against the client address (self-service only), then the recovery, its
        // job and its audit event, made only when the address is within its limit: one
        // statement, one round trip.
        let mut writes = Writes::default();
        let counted = request.initiator == Initiator::User
            && self.count_client_with(&mut writes, "request", &request.client);
        recoveries::insert(
            &mut writes,
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
        );
        worker::enqueue_with::<IssueCode>(&mut writes, id);
        let mut event = AuditEvent::new(Action::RecoveryRequested, &actor, Outcome::Accepted)
            .username(&display)
            .recovery(id)
            .client(&request.client);
        if let Some(reason) = &request.reason {
            event = event.detail(format!("reason: {reason}"));
        }
        audit::append_with(&mut writes, &event);
        match (&request.initiator, &request.account_key) {
            (Initiator::Staff(_), Some(account)) => {
                let mut tx = conn.begin().await?;
                recoveries::lock_account(&mut tx, account).await?;
                let started = recoveries::support_requests_last_day(&mut tx, account).await?;
                if started >= i64::from(self.rules.support_requests_per_user_per_day) {
                    return Err(RequestError::SupportQuotaSpent { started });
                }
                writes.execute(&mut tx).await?;
                tx.commit().await?;
            }
            _ if counted => {
                let hit = limits::hit_of(writes, conn)
                    .await
                    .map_err(RequestError::LimitsUnavailable)?;
                self.judge_client(conn, "request", &request.client, hit)
                    .await?;
            }
            _ => writes.execute(conn).await?,
        }
        metrics::counter!("recovery_requests_total", "initiated_by" => request.initiator.kind())
            .increment(1);
        self.wakeup.notify_one();
        Ok(id)
    }
}
