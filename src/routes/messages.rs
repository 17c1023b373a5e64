//! The words for each failure a use case can report: one message each (`error-…` in
//! `src/words/locales/<language>/errors.ftl`), the same in a problem's `detail` and on a page. A
//! message carries its arguments; waits are written in whole minutes, rounded up, singular or
//! plural by the language's rules.

use crate::words::{Args, Words};

/// What a failure says, with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    InvalidRecovery,
    Locked,
    AccountThrottled { retry_after: u64 },
    AddressLimited { retry_after: u64 },
    LimitsUnavailable,
    DatabaseUnavailable,
    Busy,
    ResetInProgress,
    IdpUnavailableCodeKept,
    ResetNotApplied,
    Internal,
    InvalidTotp,
    InvalidSignInCode,
    EnrollmentGone,
    EnrolLinkInvalid,
    IdpUnavailableEnrollmentKept,
    EnrollmentNotApplied,
    PasskeyNotFound,
    PasskeyNotRemoved,
    CancelLinkInvalid,
    UserNotFound,
    NoVerifiedEmail,
    NothingToRecover { missing: &'static str },
    UserDisabled,
    EmailBudgetSpent { retry_after: u64 },
    SupportQuotaSpent { started: i64, per_day: Option<u32> },
    RecoveryNotFound,
    SeveralUsers { count: usize },
    OwnAccount,
    SelfApproval,
    NotApprovable { status: &'static str },
    ReasonRequired { max: usize },
    TicketInvalid { max: usize },
    VerificationDetailRequired { max: usize },
    NotCancellable { status: &'static str },
    IdpRefusesPool,
    IdpUnavailableNothingQueued,
    StaffIdpUnavailable,
    SignInFailed,
    SignInNeedsMfa,
    SignInNoRole,
    SignInNoName,
}

impl Message {
    /// The message in the words of `words`.
    pub fn text(&self, words: &Words) -> String {
        let minutes = |seconds: &u64| {
            let minutes = seconds.div_ceil(60).max(1);
            Args::new().number("minutes", u32::try_from(minutes).unwrap_or(u32::MAX))
        };
        let (id, args) = match self {
            Self::InvalidRecovery => ("error-invalid-recovery", Args::new()),
            Self::Locked => ("error-locked", Args::new()),
            Self::AccountThrottled { retry_after } => {
                ("error-account-throttled", minutes(retry_after))
            }
            Self::AddressLimited { retry_after } => ("error-address-limited", minutes(retry_after)),
            Self::LimitsUnavailable => ("error-limits-unavailable", Args::new()),
            Self::DatabaseUnavailable => ("error-database-unavailable", Args::new()),
            Self::Busy => ("error-busy", Args::new()),
            Self::ResetInProgress => ("error-reset-in-progress", Args::new()),
            Self::IdpUnavailableCodeKept => ("error-idp-unavailable-code-kept", Args::new()),
            Self::ResetNotApplied => ("error-reset-not-applied", Args::new()),
            Self::Internal => ("error-internal", Args::new()),
            Self::InvalidTotp => ("error-invalid-totp", Args::new()),
            Self::InvalidSignInCode => ("error-invalid-sign-in-code", Args::new()),
            Self::EnrollmentGone => ("error-enrollment-gone", Args::new()),
            Self::EnrolLinkInvalid => ("error-enrol-link-invalid", Args::new()),
            Self::IdpUnavailableEnrollmentKept => {
                ("error-idp-unavailable-enrollment-kept", Args::new())
            }
            Self::EnrollmentNotApplied => ("error-enrollment-not-applied", Args::new()),
            Self::PasskeyNotFound => ("error-passkey-not-found", Args::new()),
            Self::PasskeyNotRemoved => ("error-passkey-not-removed", Args::new()),
            Self::CancelLinkInvalid => ("error-cancel-link-invalid", Args::new()),
            Self::UserNotFound => ("error-user-not-found", Args::new()),
            Self::NoVerifiedEmail => ("error-no-verified-email", Args::new()),
            Self::NothingToRecover { missing } => (
                "error-nothing-to-recover",
                Args::new().text("missing", *missing),
            ),
            Self::UserDisabled => ("error-user-disabled", Args::new()),
            Self::EmailBudgetSpent { retry_after } => {
                ("error-email-budget-spent", minutes(retry_after))
            }
            Self::SupportQuotaSpent { started, per_day } => (
                "error-support-quota-spent",
                Args::new().number("started", *started as f64).text(
                    "per-day",
                    per_day.map_or_else(|| "none".to_owned(), |n| n.to_string()),
                ),
            ),
            Self::RecoveryNotFound => ("error-recovery-not-found", Args::new()),
            Self::SeveralUsers { count } => (
                "error-several-users",
                Args::new().number("count", *count as f64),
            ),
            Self::OwnAccount => ("error-own-account", Args::new()),
            Self::SelfApproval => ("error-self-approval", Args::new()),
            Self::NotApprovable { status } => {
                ("error-not-approvable", Args::new().text("status", *status))
            }
            Self::ReasonRequired { max } => (
                "error-reason-required",
                Args::new().number("max", *max as f64),
            ),
            Self::TicketInvalid { max } => (
                "error-ticket-invalid",
                Args::new().number("max", *max as f64),
            ),
            Self::VerificationDetailRequired { max } => (
                "error-verification-detail-required",
                Args::new().number("max", *max as f64),
            ),
            Self::NotCancellable { status } => {
                ("error-not-cancellable", Args::new().text("status", *status))
            }
            Self::IdpRefusesPool => ("error-idp-refuses-pool", Args::new()),
            Self::IdpUnavailableNothingQueued => {
                ("error-idp-unavailable-nothing-queued", Args::new())
            }
            Self::StaffIdpUnavailable => ("error-staff-idp-unavailable", Args::new()),
            Self::SignInFailed => ("error-sign-in-failed", Args::new()),
            Self::SignInNeedsMfa => ("error-sign-in-needs-mfa", Args::new()),
            Self::SignInNoRole => ("error-sign-in-no-role", Args::new()),
            Self::SignInNoName => ("error-sign-in-no-name", Args::new()),
        };
        words.with(id, &args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_is_rounded_up_to_whole_minutes_and_one_minute_is_singular() {
        let wait = |retry_after| Message::AddressLimited { retry_after }.text(&Words::english());
        assert!(wait(1).ends_with("Try again in 1 minute."), "{}", wait(1));
        assert!(wait(60).ends_with("Try again in 1 minute."), "{}", wait(60));
        assert!(
            wait(61).ends_with("Try again in 2 minutes."),
            "{}",
            wait(61)
        );
        assert!(wait(0).ends_with("Try again in 1 minute."), "{}", wait(0));
    }
}
