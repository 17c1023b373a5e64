//! What an audit event says: its action and outcome (closed vocabularies; docs/SECURITY.md's list
//! of actions is pinned to `Action::ALL` by a test), who caused it, about whom, and from where.

use uuid::Uuid;

use crate::domain::{closed_vocabulary, Actor, ClientInfo};

closed_vocabulary! {
    pub enum Action {
        RecoveryRequested = "recovery.requested",
        CodeSent = "recovery.code_sent",
        CodeSendFailed = "recovery.code_send_failed",
        NotEligible = "recovery.not_eligible",
        RateLimited = "recovery.rate_limited",
        Superseded = "recovery.superseded",
        /// A self-service request waited longer than a code lives (a backlog): dropped unlooked.
        Dropped = "recovery.dropped",
        ConfirmFailed = "recovery.confirm_failed",
        Locked = "recovery.locked",
        Cancelled = "recovery.cancelled",
        MfaReset = "mfa.reset",
        MfaResetFailed = "mfa.reset_failed",
        MfaResetScheduled = "mfa.reset_scheduled",
        SessionsRevoked = "sessions.revoked",
        DevicesForgotten = "devices.forgotten",
        EnrollmentStarted = "mfa.enrollment_started",
        EnrollmentFailed = "mfa.enrollment_failed",
        Enrolled = "mfa.enrolled",
        /// The user removed passkeys with their own sign-in after enrolling (the count, read back).
        PasskeysRemoved = "passkeys.removed",
        NotificationSent = "notification.sent",
        NotificationFailed = "notification.failed",
        SupportLookup = "support.lookup",
        LockCleared = "support.lock_cleared",
        /// An agent tried to act on their own account (matched by email or username).
        SupportRefused = "support.refused",
        SupportApproved = "support.approved",
        AuditRead = "audit.read",
        /// Events up to a published checkpoint were archived to a file and removed.
        AuditArchived = "audit.archived",
        StaffAdded = "staff.added",
        StaffRevoked = "staff.revoked",
        StaffAuthFailed = "staff.auth_failed",
        StaffSignedIn = "staff.signed_in",
        StaffSignInRefused = "staff.sign_in_refused",
        StaffSignedOut = "staff.signed_out",
        /// The console ended a session: no role left, or the provider no longer renews it.
        StaffSessionEnded = "staff.session_ended",
        StaffRolesChanged = "staff.roles_changed",
    }
}

closed_vocabulary! {
    pub enum Outcome {
        Accepted = "accepted",
        Rejected = "rejected",
        Success = "success",
        Failed = "failed",
        /// Nothing was decided (Cognito unreachable); the same step can be tried again.
        Retryable = "retryable",
        Retrying = "retrying",
        GaveUp = "gave_up",
        Limited = "limited",
        /// No email goes out: the name is unknown or the user is not eligible.
        NoEmail = "no_email",
        Sent = "sent",
        Skipped = "skipped",
        Scheduled = "scheduled",
        Superseded = "superseded",
        Cancelled = "cancelled",
        Locked = "locked",
    }
}

/// One event to append, written in the same transaction as the change it records.
#[derive(Debug, Clone)]
pub struct AuditEvent<'a> {
    pub action: Action,
    pub actor: &'a Actor,
    pub username: Option<&'a str>,
    pub recovery_id: Option<Uuid>,
    pub client: Option<&'a ClientInfo>,
    pub outcome: Outcome,
    pub detail: Option<String>,
}

impl<'a> AuditEvent<'a> {
    pub fn new(action: Action, actor: &'a Actor, outcome: Outcome) -> Self {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The actions in docs/SECURITY.md's table (its first column), in order.
    fn documented_actions() -> Vec<String> {
        let doc = include_str!("../../docs/SECURITY.md");
        let table = doc
            .split("| action | when | outcomes |")
            .nth(1)
            .expect("docs/SECURITY.md has the table of audit actions");
        table
            .lines()
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .map(|l| {
                l.split('`')
                    .nth(1)
                    .expect("an action in backticks")
                    .to_owned()
            })
            .collect()
    }

    #[test]
    fn the_security_page_lists_exactly_the_audit_actions() {
        let documented = documented_actions();
        let actual: Vec<String> = Action::ALL.iter().map(|a| a.as_str().to_owned()).collect();
        assert_eq!(documented, actual);
    }

    #[test]
    fn actions_and_outcomes_round_trip_through_their_names() {
        for a in Action::ALL {
            assert_eq!(a.as_str().parse::<Action>(), Ok(*a));
        }
        for o in Outcome::ALL {
            assert_eq!(o.as_str().parse::<Outcome>(), Ok(*o));
        }
        assert!("recovery.bogus".parse::<Action>().is_err());
    }
}
