//! A recovery is asked for: at the public door (counted against the client address) or by the
//! support desk. Either way it is recorded with its audit event and the job that issues the
//! code, in one transaction (public requests in a batch with others: `intake.rs`).

use chrono::{DateTime, Utc};
use sqlx::{Acquire, PgConnection};
use uuid::Uuid;

use super::jobs::{IssueCode, LookUp};
use super::limits::ClientCount;
use super::{LimitError, RecoveryService};
use crate::audit::{self, Action, AuditEvent, Outcome};
use crate::domain::{
    Actor, ClientInfo, Initiator, Justification, RecoveryStatus, Username, Verification,
};
use crate::store::recoveries::{self, NewRecovery};
use crate::store::Writes;
use crate::worker;

pub struct RecoveryRequest {
    pub username: Username,
    /// The Cognito username, when the caller already looked the user up (the support desk).
    pub account_key: Option<String>,
    pub initiator: Initiator,
    /// Why staff started it, and how they verified the caller; `None` for self-service.
    pub justification: Option<Justification>,
    /// How the agent was authenticated (`console session …`, `staff key`); `None` for
    /// self-service.
    pub via: Option<String>,
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

/// A request with everything worked out, ready to be written: alone (the support desk's), or
/// with other public requests in one statement (`intake.rs`).
pub(super) struct Prepared {
    pub id: Uuid,
    /// The name recorded: redacted until Cognito has shown it is a user's.
    display: String,
    name_key: String,
    typed_name: Option<String>,
    account_key: Option<String>,
    prefix: Option<String>,
    initiator: Initiator,
    actor: Actor,
    justification: Option<Justification>,
    /// `justification`'s verification as stored.
    verification: Option<String>,
    via: Option<String>,
    /// A support request that waits for a second person's approval (`SUPPORT_REQUIRE_APPROVAL`):
    /// no code job until then, and `expires_at` is when it lapses unapproved.
    pub(super) awaiting_approval: bool,
    /// When it was asked for, by the service's clock: what its limits count in.
    pub at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    pub client: ClientInfo,
    /// The count against the client address (self-service only).
    pub count: Option<ClientCount>,
}

impl Prepared {
    /// The recovery to insert, recorded as created at `now` (a batch's requests share it).
    fn new_recovery(&self, now: DateTime<Utc>) -> NewRecovery<'_> {
        NewRecovery {
            status: if self.awaiting_approval {
                RecoveryStatus::AwaitingApproval
            } else {
                RecoveryStatus::Requested
            },
            id: self.id,
            username: &self.display,
            name_key: &self.name_key,
            typed_name: self.typed_name.as_deref(),
            account_key: self.account_key.as_deref(),
            request_prefix: self.prefix.as_deref(),
            initiated_by: &self.initiator,
            reason: self.justification.as_ref().map(|j| j.reason.as_str()),
            ticket: self
                .justification
                .as_ref()
                .and_then(|j| j.ticket.as_deref()),
            verification: self.verification.as_deref(),
            created_at: now,
            expires_at: self.expires_at,
            request_ip: self.client.ip.as_deref(),
            user_agent: self.client.user_agent.as_deref(),
            // The person's own language; a support agent's browser says nothing of the user's.
            language: match self.initiator {
                Initiator::User => self.client.language.as_deref(),
                Initiator::Staff(_) => None,
            },
        }
    }

    fn event(&self) -> AuditEvent<'_> {
        let event = AuditEvent::new(Action::RecoveryRequested, &self.actor, Outcome::Accepted)
            .username(&self.display)
            .recovery(self.id)
            .client(&self.client);
        let waits = if self.awaiting_approval {
            "; awaiting approval"
        } else {
            ""
        };
        match (&self.justification, &self.via) {
            (Some(grounds), Some(via)) => event.detail(format!("{grounds}; through {via}{waits}")),
            (Some(grounds), None) => event.detail(format!("{grounds}{waits}")),
            _ => event,
        }
    }
}

/// Adds the recording of `requests` (already within their limits) to `writes`: the recoveries,
/// the jobs that issue their codes and their audit events, one INSERT each for all of them.
pub(super) fn add_requests<'a>(
    writes: &mut Writes<'a>,
    requests: &[&'a Prepared],
    now: DateTime<Utc>,
) {
    let recoveries: Vec<NewRecovery<'a>> = requests.iter().map(|p| p.new_recovery(now)).collect();
    recoveries::insert(writes, &recoveries);
    // Self-service lookups queue behind everything else (newest first); the support desk's
    // recoveries go ahead of them.
    let (public, staff): (Vec<&&Prepared>, Vec<&&Prepared>) = requests
        .iter()
        .filter(|p| !p.awaiting_approval)
        .partition(|p| p.initiator == Initiator::User);
    let ids = |prepared: Vec<&&Prepared>| prepared.iter().map(|p| p.id).collect::<Vec<_>>();
    if !public.is_empty() {
        worker::enqueue_with::<LookUp>(writes, ids(public));
    }
    if !staff.is_empty() {
        worker::enqueue_with::<IssueCode>(writes, ids(staff));
    }
    let events: Vec<AuditEvent<'a>> = requests.iter().map(|p| p.event()).collect();
    audit::append_each_with(writes, &events);
}

impl RecoveryService {
    /// A request at the public door: counted against the client address and recorded, in one
    /// statement shared with the other public requests arriving meanwhile (`intake.rs`).
    /// Deliberately does no Cognito, SES or argon2 work: the answer, and how long it takes, is
    /// the same for every username.
    #[tracing::instrument(skip_all, fields(recovery_id))]
    pub async fn request(
        &self,
        username: Username,
        client: ClientInfo,
    ) -> Result<Uuid, RequestError> {
        self.limits.prelimit_client("request", &client)?;
        let prepared = self.prepare(RecoveryRequest {
            username,
            account_key: None,
            initiator: Initiator::User,
            justification: None,
            via: None,
            client,
        });
        let id = prepared.id;
        tracing::Span::current().record("recovery_id", tracing::field::display(id));
        let client = prepared.client.clone();
        let written = self.intake.write(prepared).await;
        if let Some(hit) = written? {
            self.limits.judge_client("request", &client, hit).await?;
        }
        self.requested(&Initiator::User);
        Ok(id)
    }

    /// Works a request out: its id, the name recorded and its key, its expiry, and (for
    /// self-service) its count against the client address.
    fn prepare(&self, request: RecoveryRequest) -> Prepared {
        // Time-ordered (UUIDv7): a new recovery lands at the right edge of the primary key and
        // of the audit log's per-recovery index instead of on a random page (intake measured
        // 1.05x with it). The id is no secret: it tells only when the recovery was created.
        let id = Uuid::now_v7();
        let ttl = self.code_lifetime();
        // A support request waits for a second person when the operator asks for one.
        let awaiting_approval =
            matches!(request.initiator, Initiator::Staff(_)) && self.rules.support_require_approval;
        let wait = if awaiting_approval {
            chrono::Duration::from_std(self.rules.support_approval_ttl)
                .unwrap_or(chrono::Duration::MAX)
        } else {
            ttl
        };
        let (prefix, count) = match request.initiator {
            Initiator::User => (
                Some(request.client.address_block()),
                self.limits.client_count("request", &request.client),
            ),
            Initiator::Staff(_) => (None, None),
        };
        // Until Cognito has shown the name is a user's, it is kept redacted (the name as typed
        // only until the job has looked it up).
        let at = self.now();
        let display = match &request.account_key {
            Some(account) => account.clone(),
            None => self.names.redacted(&request.username),
        };
        Prepared {
            id,
            display,
            name_key: self.names.key(&request.username),
            typed_name: request
                .account_key
                .is_none()
                .then(|| request.username.as_str().to_owned()),
            account_key: request.account_key,
            prefix,
            actor: request.initiator.actor(),
            initiator: request.initiator,
            verification: request
                .justification
                .as_ref()
                .and_then(|j| j.verification.as_ref())
                .map(Verification::stored),
            justification: request.justification,
            via: request.via,
            awaiting_approval,
            at,
            expires_at: at + wait,
            client: request.client,
            count,
        }
    }

    /// Records a support desk's request and queues its processing. Staff requests are
    /// authenticated and accountable, so no per-address limit applies, but the support desk's
    /// own daily quota per account does (checked under the account's lock, so that concurrent
    /// requests cannot pass it together).
    #[tracing::instrument(skip_all, fields(recovery_id))]
    pub(super) async fn record_request(
        &self,
        conn: &mut PgConnection,
        request: RecoveryRequest,
    ) -> Result<Uuid, RequestError> {
        let prepared = self.prepare(request);
        tracing::Span::current().record("recovery_id", tracing::field::display(prepared.id));
        let mut writes = Writes::default();
        add_requests(&mut writes, &[&prepared], prepared.at);
        let mut tx = conn.begin().await?;
        if let (Initiator::Staff(_), Some(account)) = (&prepared.initiator, &prepared.account_key) {
            recoveries::lock_account(&mut tx, account).await?;
            let started =
                recoveries::support_requests_last_day(&mut tx, self.now(), account).await?;
            if started >= i64::from(self.rules.support_requests_per_user_per_day) {
                return Err(RequestError::SupportQuotaSpent { started });
            }
        }
        writes.execute(&mut tx).await?;
        tx.commit().await?;
        self.requested(&prepared.initiator);
        Ok(prepared.id)
    }

    /// How long a code works once it is issued (`RECOVERY_CODE_TTL_SECONDS`).
    pub(super) fn code_lifetime(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.rules.code_ttl).unwrap_or(chrono::Duration::MAX)
    }

    /// A request was recorded: counted, and the job loops woken for its job.
    fn requested(&self, initiator: &Initiator) {
        metrics::counter!("recovery_requests_total", "initiated_by" => initiator.kind())
            .increment(1);
        self.wakeup.notify_one();
    }
}
