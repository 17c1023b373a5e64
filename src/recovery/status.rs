/// Where a recovery stands. Transitions:
///
/// ```text
/// requested ─▶ code_sent ─▶ resetting ─▶ completed     (resetting ─▶ scheduled ─▶ completed
///                                                       with a waiting period; cancellable)
///     │            │  ▲          │
///     │            │  └──────────┘ (Cognito unreachable: the claim is released)
///     │            ├─▶ locked (too many attempts)      resetting ─▶ failed (not removed)
///     ├─▶ not_eligible ─▶ locked                       code_sent / not_eligible ─▶ superseded
///     └─▶ rate_limited                                 any open ─▶ cancelled
/// ```
///
/// `not_eligible` stands in for `code_sent` when the name is unknown, has no verified email or
/// no authenticator: it behaves the same towards confirmations (attempts, lockout), it simply has
/// no code that can match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecoveryStatus {
    Requested,
    CodeSent,
    NotEligible,
    RateLimited,
    Resetting,
    /// Confirmed; the reset waits for the configured delay, cancellable from the notice.
    Scheduled,
    Completed,
    Superseded,
    Locked,
    Cancelled,
    Failed,
}

impl RecoveryStatus {
    pub const ALL: [Self; 11] = [
        Self::Requested,
        Self::CodeSent,
        Self::NotEligible,
        Self::RateLimited,
        Self::Resetting,
        Self::Scheduled,
        Self::Completed,
        Self::Superseded,
        Self::Locked,
        Self::Cancelled,
        Self::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::CodeSent => "code_sent",
            Self::NotEligible => "not_eligible",
            Self::RateLimited => "rate_limited",
            Self::Resetting => "resetting",
            Self::Scheduled => "scheduled",
            Self::Completed => "completed",
            Self::Superseded => "superseded",
            Self::Locked => "locked",
            Self::Cancelled => "cancelled",
            Self::Failed => "failed",
        }
    }

    /// The code hash is kept only while the code can still be used.
    pub fn keeps_code_hash(self) -> bool {
        matches!(self, Self::CodeSent | Self::Resetting)
    }

    /// No further transition happens from here.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::RateLimited
                | Self::Completed
                | Self::Superseded
                | Self::Locked
                | Self::Cancelled
                | Self::Failed
        )
    }
}

impl TryFrom<String> for RecoveryStatus {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| format!("unknown recovery status {value}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_round_trips_through_its_database_name() {
        for s in RecoveryStatus::ALL {
            assert_eq!(RecoveryStatus::try_from(s.as_str().to_owned()), Ok(s));
        }
        assert!(RecoveryStatus::try_from("bogus".to_owned()).is_err());
    }

    #[test]
    fn only_usable_states_keep_a_code_hash() {
        assert!(RecoveryStatus::CodeSent.keeps_code_hash());
        assert!(!RecoveryStatus::Completed.keeps_code_hash());
        assert!(!RecoveryStatus::Locked.keeps_code_hash());
        assert!(!RecoveryStatus::Superseded.keeps_code_hash());
    }
}
