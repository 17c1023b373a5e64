use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{Actor, ClientInfo};

/// One row of the audit log, written in the same transaction as the change it records.
#[derive(Debug, Clone)]
pub struct AuditEvent<'a> {
    pub action: &'static str,
    pub actor: &'a Actor,
    pub username: Option<&'a str>,
    pub recovery_id: Option<Uuid>,
    pub client: Option<&'a ClientInfo>,
    pub outcome: &'static str,
    pub detail: Option<String>,
}

impl<'a> AuditEvent<'a> {
    pub fn new(action: &'static str, actor: &'a Actor, outcome: &'static str) -> Self {
        Self {
            action,
            actor,
            username: None,
            recovery_id: None,
            client: None,
            outcome,
            detail: None,
        }
    }

    pub fn username(mut self, username: &'a str) -> Self {
        self.username = Some(username);
        self
    }

    pub fn recovery(mut self, id: Uuid) -> Self {
        self.recovery_id = Some(id);
        self
    }

    pub fn client(mut self, client: &'a ClientInfo) -> Self {
        self.client = Some(client);
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

pub async fn append(conn: &mut PgConnection, event: AuditEvent<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO audit_events (action, actor, username, recovery_id, ip, user_agent, outcome, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING seq",
    )
    .bind(event.action)
    .bind(event.actor.as_audit_string())
    .bind(event.username)
    .bind(event.recovery_id)
    .bind(event.client.and_then(|c| c.ip.as_deref()))
    .bind(event.client.and_then(|c| c.user_agent.as_deref()))
    .bind(event.outcome)
    .bind(event.detail)
    .fetch_one(conn)
    .await
}
