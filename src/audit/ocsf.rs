//! Audit events as OCSF 1.3 JSON, the schema AWS Security Lake and most SIEMs ingest. A reset is
//! Account Change (class 3001) "MFA Factor Disable" (activity 11), an enrollment "MFA Factor
//! Enable" (10); the other actions map to their closest class (docs/SECURITY.md lists them).
//! Every event keeps what OCSF has no place for under `unmapped`, with its `seq` and `hash`, so
//! a SIEM can check it against the chain.

use serde_json::{json, Value};

use super::{Action, AuditRecord};

pub const OCSF_VERSION: &str = "1.3.0";

/// OCSF classes used, with their category.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// 3001, Identity & Access Management.
    AccountChange,
    /// 3002, Identity & Access Management.
    Authentication,
    /// 6003, Application Activity.
    ApiActivity,
}

impl Class {
    pub fn uid(self) -> u32 {
        match self {
            Self::AccountChange => 3001,
            Self::Authentication => 3002,
            Self::ApiActivity => 6003,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::AccountChange => "Account Change",
            Self::Authentication => "Authentication",
            Self::ApiActivity => "API Activity",
        }
    }

    fn category(self) -> (u32, &'static str) {
        match self {
            Self::AccountChange | Self::Authentication => (3, "Identity & Access Management"),
            Self::ApiActivity => (6, "Application Activity"),
        }
    }
}

/// The class and activity (id, name) an action maps to.
pub fn classify(action: Action) -> (Class, u32, &'static str) {
    use Action::*;
    use Class::*;
    match action {
        MfaReset => (AccountChange, 11, "MFA Factor Disable"),
        Enrolled => (AccountChange, 10, "MFA Factor Enable"),
        // A passkey signs in on its own: its closest activity is a factor disabled.
        PasskeysRemoved => (AccountChange, 11, "MFA Factor Disable"),
        Locked => (AccountChange, 9, "Lock"),
        // Account changes that OCSF has no activity for.
        RecoveryRequested | CodeSent | CodeSendFailed | NotEligible | RateLimited | Superseded
        | Dropped | ConfirmFailed | Cancelled | MfaResetFailed | MfaResetScheduled
        | SessionsRevoked | DevicesForgotten | EnrollmentStarted | EnrollmentFailed
        | NotificationSent | NotificationFailed | LockCleared | SupportRefused
        | SupportApproved | StaffAdded | StaffRevoked | StaffRolesChanged => {
            (AccountChange, 99, "Other")
        }
        StaffSignedIn => (Authentication, 1, "Logon"),
        StaffSignedOut | StaffSessionEnded => (Authentication, 2, "Logoff"),
        StaffAuthFailed | StaffSignInRefused => (Authentication, 1, "Logon"),
        AuditRead | SupportLookup => (ApiActivity, 2, "Read"),
        AuditArchived => (ApiActivity, 4, "Delete"),
    }
}

/// Whether the outcome is a failure in OCSF's terms (status 2).
fn failed(outcome: &str) -> bool {
    matches!(
        outcome,
        "rejected" | "failed" | "gave_up" | "limited" | "retryable" | "locked"
    )
}

/// The event as OCSF JSON.
pub fn event(record: &AuditRecord) -> Value {
    let action = record.action.parse::<Action>().ok();
    let (class, activity_id, activity) =
        action.map_or((Class::AccountChange, 99, "Other"), classify);
    let (category_uid, category) = class.category();
    let (status_id, status) = if failed(&record.outcome) {
        (2, "Failure")
    } else {
        (1, "Success")
    };
    let mut event = json!({
        "class_uid": class.uid(),
        "class_name": class.name(),
        "category_uid": category_uid,
        "category_name": category,
        "activity_id": activity_id,
        "activity_name": activity,
        "type_uid": class.uid() * 100 + activity_id,
        "time": record.at.timestamp_millis(),
        "severity_id": 1,
        "severity": "Informational",
        "status_id": status_id,
        "status": status,
        "status_detail": record.outcome,
        "message": record.detail.clone().unwrap_or_else(|| record.action.clone()),
        "metadata": {
            "version": OCSF_VERSION,
            "uid": record.hash,
            "sequence": record.seq,
            "log_name": "mfa-recovery audit",
            "product": { "name": "mfa-recovery", "vendor_name": "mfa-recovery" },
        },
        "actor": { "user": { "name": record.actor } },
        "unmapped": {
            "action": record.action,
            "seq": record.seq,
            "hash": record.hash,
            "recovery_id": record.recovery_id,
            "outcome": record.outcome,
        },
    });
    if let Some(username) = &record.username {
        event["user"] = json!({ "name": username });
    }
    if let Some(ip) = &record.ip {
        event["src_endpoint"] = json!({ "ip": ip });
    }
    if let Some(agent) = &record.user_agent {
        event["http_request"] = json!({ "user_agent": agent });
    }
    if class == Class::ApiActivity {
        event["api"] = json!({ "operation": record.action });
    }
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(action: &str, outcome: &str) -> AuditRecord {
        AuditRecord {
            seq: 7,
            at: chrono::DateTime::parse_from_rfc3339("2026-12-03T10:00:00.250Z")
                .unwrap()
                .with_timezone(&chrono::Utc),
            action: action.into(),
            actor: "user".into(),
            username: Some("alice".into()),
            recovery_id: None,
            ip: Some("203.0.113.9".into()),
            user_agent: None,
            outcome: outcome.into(),
            detail: None,
            hash: "ab".repeat(32),
        }
    }

    #[test]
    fn a_reset_is_an_mfa_factor_disable_and_an_enrollment_an_enable() {
        let reset = event(&record("mfa.reset", "success"));
        assert_eq!(reset["class_uid"], 3001);
        assert_eq!(reset["activity_id"], 11);
        assert_eq!(reset["type_uid"], 300111);
        assert_eq!(reset["time"], 1_796_292_000_250i64);
        assert_eq!(reset["status_id"], 1);
        assert_eq!(reset["user"]["name"], "alice");
        assert_eq!(reset["src_endpoint"]["ip"], "203.0.113.9");
        assert_eq!(reset["metadata"]["sequence"], 7);
        assert_eq!(reset["unmapped"]["hash"], "ab".repeat(32));
        let enrolled = event(&record("mfa.enrolled", "success"));
        assert_eq!(enrolled["activity_id"], 10);
        assert_eq!(enrolled["type_uid"], 300110);
        let failed = event(&record("mfa.reset_failed", "failed"));
        assert_eq!(failed["status_id"], 2);
        assert_eq!(failed["activity_id"], 99);
        let read = event(&record("audit.read", "success"));
        assert_eq!(read["class_uid"], 6003);
        assert_eq!(read["category_uid"], 6);
    }

    #[test]
    fn every_action_maps_to_a_class_and_activity() {
        for action in Action::ALL {
            let (class, activity, name) = classify(*action);
            assert!([3001, 3002, 6003].contains(&class.uid()), "{action}");
            assert!(activity > 0 && !name.is_empty(), "{action}");
        }
    }
}
