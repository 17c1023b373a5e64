//! The words for each failure a use case can report: one text per message, the same in a
//! problem's `detail` and on a page. A message carries its arguments; waits are written in
//! whole minutes, singular or plural as English needs.

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
    EnrollmentGone,
    EnrolLinkInvalid,
    IdpUnavailableEnrollmentKept,
    EnrollmentNotApplied,
    CancelLinkInvalid,
    UserNotFound,
    NoVerifiedEmail,
    NothingToRecover { missing: &'static str },
    UserDisabled,
    EmailBudgetSpent { retry_after: u64 },
    SupportQuotaSpent { started: i64, per_day: Option<u32> },
    RecoveryNotFound,
    NotCancellable { status: &'static str },
    IdpRefusesPool,
    IdpUnavailableNothingQueued,
}

impl Message {
    /// The message in words.
    pub fn text(&self) -> String {
        match self {
            Self::InvalidRecovery => "That code or password is not right, or the code has expired or was replaced by a newer one. Check the latest email, or ask for a new code.".into(),
            Self::Locked => "Too many wrong codes were typed from this network, so this code no longer works here. Ask for a new code later, or ask support to clear the lock.".into(),
            Self::AccountThrottled { retry_after } => format!("Too many wrong attempts for this account lately. Try again in {}.", minutes(*retry_after)),
            Self::AddressLimited { retry_after } => format!("Too many requests from your network. Try again in {}.", minutes(*retry_after)),
            Self::LimitsUnavailable => "The service cannot check its limits right now, so nothing was done. Try again shortly.".into(),
            Self::DatabaseUnavailable => "The service cannot reach its database right now, so nothing was done. Try again in a few seconds.".into(),
            Self::Busy => "We are very busy right now. Nothing was checked and your code still works: try again in a few seconds.".into(),
            Self::ResetInProgress => "Your lost authenticator is being removed. Try again in a few seconds with the same code to see it done.".into(),
            Self::IdpUnavailableCodeKept => "We could not reach the sign-in service. Your code still works: try again in a minute. If the removal had begun, the service finishes it on its own.".into(),
            Self::ResetNotApplied => "The sign-in service did not remove the lost authenticator, so nothing was changed. Please contact support; the attempt was recorded.".into(),
            Self::Internal => "Something went wrong on our side. Nothing was lost: please try again.".into(),
            Self::InvalidTotp => "That code does not match. Check that the app shows this account, then type its current code.".into(),
            Self::EnrollmentGone => "This setup step has expired or was already used. Sign in: you will be asked to set up your authenticator app.".into(),
            Self::EnrolLinkInvalid => "This link has expired or was already used, or the password is not right. If you already set up a new authenticator app, there is nothing more to do.".into(),
            Self::IdpUnavailableEnrollmentKept => "We could not reach the sign-in service. Your setup is still open: try again in a minute.".into(),
            Self::EnrollmentNotApplied => "The sign-in service accepted the code but did not make the app your sign-in factor. Sign in to set up your app, or contact support; the attempt was recorded.".into(),
            Self::CancelLinkInvalid => "This link is not valid: it was already used, or the removal was already applied or cancelled. If you did not ask for a recovery, change your password and contact support.".into(),
            Self::UserNotFound => "No user of the pool has this username or alias.".into(),
            Self::NoVerifiedEmail => "The user has no verified email address, so no code can be sent. Verify the address in Cognito first.".into(),
            Self::NothingToRecover { missing } => format!("The user has {missing}, so there is nothing to recover."),
            Self::UserDisabled => "The user is disabled in Cognito, so no code is sent. Enable the user first if the recovery is legitimate.".into(),
            Self::EmailBudgetSpent { retry_after } => format!("The service's hourly email budget is spent, so no code could be sent and nothing was queued. Try again in {}.", minutes(*retry_after)),
            Self::SupportQuotaSpent { started, per_day: Some(per_day) } => format!("{started} recoveries were started for this user in the last 24 hours (at most {per_day})."),
            Self::SupportQuotaSpent { started, per_day: None } => format!("{started} recoveries were started for this user in the last 24 hours."),
            Self::RecoveryNotFound => "No such recovery.".into(),
            Self::NotCancellable { status } => format!("The recovery is {status} and can no longer be cancelled."),
            Self::IdpRefusesPool => "The identity provider refuses to let the service read the user pool, so nothing was queued. This is a configuration problem: tell the operator.".into(),
            Self::IdpUnavailableNothingQueued => "The identity provider could not be reached. Nothing was queued: try again shortly.".into(),
        }
    }
}

/// A wait in words: whole minutes, rounded up, at least one ("1 minute", "2 minutes").
fn minutes(seconds: u64) -> String {
    match seconds.div_ceil(60).max(1) {
        1 => "1 minute".to_owned(),
        n => format!("{n} minutes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_is_rounded_up_to_whole_minutes_and_one_minute_is_singular() {
        let wait = |retry_after| Message::AddressLimited { retry_after }.text();
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
