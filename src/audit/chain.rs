//! The audit log's tamper evidence: the canonical encoding each event is hashed in, the chain
//! that links every event to the one before, and its verification.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::domain::sha256_hex;
use crate::store::audit::AuditRow;

/// The fields an event's hash covers, in a fixed order. Version 1 of the encoding: compact JSON
/// of exactly these members in this order (serde_json writes struct fields in declaration order
/// and escapes strings deterministically), with `at` in RFC 3339 UTC to the microsecond, which
/// is what PostgreSQL stores.
#[derive(Serialize)]
struct Canonical<'a> {
    v: u8,
    seq: i64,
    at: String,
    action: &'a str,
    actor: &'a str,
    username: Option<&'a str>,
    recovery_id: Option<Uuid>,
    ip: Option<&'a str>,
    user_agent: Option<&'a str>,
    outcome: &'a str,
    detail: Option<&'a str>,
}

/// What an event's hash is computed from: everything but the hash itself.
pub struct Unsealed<'a> {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub action: &'a str,
    pub actor: &'a str,
    pub username: Option<&'a str>,
    pub recovery_id: Option<Uuid>,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub outcome: &'a str,
    pub detail: Option<&'a str>,
}

/// The hash before the first event.
pub const GENESIS: &str = "";

/// hash = hex(SHA-256(previous hash, "\n", canonical encoding of the event)).
pub fn chain_hash(previous: &str, event: &Unsealed<'_>) -> String {
    let canonical = Canonical {
        v: 1,
        seq: event.seq,
        at: event.at.to_rfc3339_opts(SecondsFormat::Micros, true),
        action: event.action,
        actor: event.actor,
        username: event.username,
        recovery_id: event.recovery_id,
        ip: event.ip,
        user_agent: event.user_agent,
        outcome: event.outcome,
        detail: event.detail,
    };
    let json = serde_json::to_vec(&canonical).expect("plain strings and numbers serialise");
    let mut input = Vec::with_capacity(previous.len() + 1 + json.len());
    input.extend_from_slice(previous.as_bytes());
    input.push(b'\n');
    input.extend_from_slice(&json);
    sha256_hex(&input)
}

impl AuditRow {
    pub(super) fn unsealed(&self) -> Unsealed<'_> {
        Unsealed {
            seq: self.seq,
            at: self.at,
            action: &self.action,
            actor: &self.actor,
            username: self.username.as_deref(),
            recovery_id: self.recovery_id,
            ip: self.ip.as_deref(),
            user_agent: self.user_agent.as_deref(),
            outcome: &self.outcome,
            detail: self.detail.as_deref(),
        }
    }
}

/// The result of walking the chain, from the first event or from a trusted checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Verification {
    pub intact: bool,
    /// Where the walk started: null from the first event; else the trusted checkpoint's `seq`,
    /// whose event was found with the checkpoint's hash, and only the events after it were read.
    pub from_seq: Option<i64>,
    /// Events read.
    pub events: u64,
    /// The last event's stored hash: auditors keep it to detect a later truncation of the tail.
    pub head: String,
    /// The first event whose hash does not follow from its content and its predecessor.
    pub first_bad_seq: Option<i64>,
    /// Events recorded but not chained yet (the sequencer chains them within about
    /// `AUDIT_CHAIN_INTERVAL_MS`); not covered by this verification.
    pub pending: u64,
    /// Why the chain does not hold from the trusted checkpoint, when it does not (its event is
    /// gone or has another hash: `first_bad_seq` is then the checkpoint's `seq`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// Feeds events in `seq` order; keeps memory constant however long the log is.
pub struct ChainVerifier {
    previous: String,
    from_seq: Option<i64>,
    events: u64,
    first_bad_seq: Option<i64>,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            previous: GENESIS.to_owned(),
            from_seq: None,
            events: 0,
            first_bad_seq: None,
        }
    }
}

impl ChainVerifier {
    /// Continues after event `seq`, trusted to have the hash `head` (a checkpoint's): the next
    /// event must follow from it.
    pub fn after(seq: i64, head: &str) -> Self {
        Self {
            previous: head.to_owned(),
            from_seq: Some(seq),
            ..Self::default()
        }
    }

    /// The `seq` after which it expects the next event (None: from the first).
    pub fn start_after(&self) -> Option<i64> {
        self.from_seq
    }

    pub fn push(&mut self, record: &AuditRow) {
        self.events += 1;
        if self.first_bad_seq.is_none()
            && chain_hash(&self.previous, &record.unsealed()) != record.hash
        {
            self.first_bad_seq = Some(record.seq);
        }
        // Continue from the stored hash: an edited event is reported once, not with all that follow.
        self.previous.clone_from(&record.hash);
    }

    pub fn finish(self) -> Verification {
        Verification {
            intact: self.first_bad_seq.is_none(),
            from_seq: self.from_seq,
            events: self.events,
            head: self.previous,
            first_bad_seq: self.first_bad_seq,
            pending: 0,
            problem: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seq: i64, previous: &str, username: &str) -> AuditRow {
        let mut r = AuditRow {
            seq,
            at: DateTime::parse_from_rfc3339("2026-11-22T10:00:00.123456Z")
                .unwrap()
                .with_timezone(&Utc),
            action: crate::audit::Action::RecoveryRequested.as_str().into(),
            actor: "user".into(),
            username: Some(username.into()),
            recovery_id: None,
            ip: Some("127.0.0.1".into()),
            user_agent: None,
            outcome: crate::audit::Outcome::Accepted.as_str().into(),
            detail: None,
            hash: String::new(),
        };
        r.hash = chain_hash(previous, &r.unsealed());
        r
    }

    fn chain(n: i64) -> Vec<AuditRow> {
        let mut out: Vec<AuditRow> = Vec::new();
        for seq in 1..=n {
            let previous = out.last().map_or(GENESIS.to_owned(), |r| r.hash.clone());
            out.push(record(seq, &previous, &format!("user{seq}")));
        }
        out
    }

    fn verify(records: &[AuditRow]) -> Verification {
        let mut v = ChainVerifier::default();
        records.iter().for_each(|r| v.push(r));
        v.finish()
    }

    #[test]
    fn an_untouched_chain_verifies_and_reports_its_head() {
        let records = chain(5);
        let result = verify(&records);
        assert!(result.intact);
        assert_eq!(result.events, 5);
        assert_eq!(result.head, records[4].hash);
        assert_eq!(result.head.len(), 64);
    }

    #[test]
    fn an_edited_event_is_reported_by_its_seq() {
        let mut records = chain(5);
        records[2].username = Some("mallory".into());
        assert_eq!(verify(&records).first_bad_seq, Some(3));
    }

    #[test]
    fn a_deleted_event_is_reported_at_the_event_after_the_gap() {
        let mut records = chain(5);
        records.remove(1);
        assert_eq!(verify(&records).first_bad_seq, Some(3));
    }

    #[test]
    fn swapped_sequence_numbers_are_reported() {
        let mut records = chain(5);
        let (a, b) = (records[1].seq, records[2].seq);
        records[1].seq = b;
        records[2].seq = a;
        records.swap(1, 2);
        assert!(!verify(&records).intact);
    }
}
