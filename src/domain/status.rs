//! Where a recovery stands, and the named transitions between states. Each transition owns the
//! states it may start from; the store applies one in a single statement and reports whether
//! it applied.
//!
//! ```text
//! requested ─▶ code_sent ─▶ resetting ─▶ completed     (resetting ─▶ scheduled ─▶ resetting
//!     │            │  ▲          │                      with a waiting period; cancellable)
//!     │            │  └──────────┘ (Cognito unreachable: the claim is released)
//!     │            ├─▶ locked (too many attempts)      resetting ─▶ failed (not removed)
//!     ├─▶ not_eligible ─▶ locked                       requested / code_sent / not_eligible
//!     ├─▶ rate_limited                                     ─▶ superseded
//!     └─▶ failed (the code could not be sent)          support: not yet reset ─▶ cancelled
//! ```
//!
//! `not_eligible` stands in for `code_sent` when the name is unknown, disabled, has no verified
//! email or no authenticator: it behaves the same towards confirmations (attempts, lockout), it
//! simply has no code that can match.

use chrono::{DateTime, Utc};

use super::vocabulary::closed_vocabulary;

closed_vocabulary! {
    pub enum RecoveryStatus {
        /// Started by the support desk, waiting for a second person to approve it
        /// (`SUPPORT_REQUIRE_APPROVAL`); `expires_at` is when it lapses unapproved.
        AwaitingApproval = "awaiting_approval",
        Requested = "requested",
        CodeSent = "code_sent",
        NotEligible = "not_eligible",
        RateLimited = "rate_limited",
        Resetting = "resetting",
        /// Confirmed; the reset waits for the configured delay, cancellable from the notice.
        Scheduled = "scheduled",
        Completed = "completed",
        Superseded = "superseded",
        Locked = "locked",
        Cancelled = "cancelled",
        Failed = "failed",
    }
}

use RecoveryStatus::*;

impl RecoveryStatus {
    /// A confirmation is judged against every unexpired issued recovery of the name in one of
    /// these states (a `not_eligible` one stands in for a code that was never sent).
    pub const LIVE: &'static [Self] = &[CodeSent, NotEligible, Resetting];

    /// ... and those a confirmation's code is compared with: the live ones, and a completed one
    /// whose code was not answered for yet (its confirmation got 503 while the service finished
    /// the reset; the retry with the same code is answered 200).
    pub const MATCHED: &'static [Self] = &[CodeSent, NotEligible, Resetting, Completed];

    /// The code hash is kept only while the code can still be used.
    pub fn keeps_code_hash(self) -> bool {
        matches!(self, CodeSent | Resetting)
    }

    /// No further transition happens from here.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            RateLimited | Completed | Superseded | Locked | Cancelled | Failed
        )
    }

    /// How the support desk sees the state: a code (or its stand-in) past its expiry shows as
    /// `expired`, which is not a state of its own (nothing happens at expiry).
    pub fn label(self, expires_at: DateTime<Utc>, now: DateTime<Utc>) -> &'static str {
        if matches!(self, AwaitingApproval | CodeSent | NotEligible) && expires_at <= now {
            "expired"
        } else {
            self.as_str()
        }
    }
}

/// Every change of a recovery's state, named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The code was emailed.
    CodeSent,
    /// No code for this name; the recovery stands in for one.
    NotEligible,
    /// Over the account's email limit: nothing is sent.
    RateLimited,
    /// The code could not be sent, for good.
    IssueGaveUp,
    /// A newer recovery of the same account replaces this one.
    Supersede,
    /// Too many wrong confirmations.
    Lock,
    /// A confirmation takes the recovery to apply its reset; a claim whose lease ran out may be
    /// taken over.
    ClaimForReset,
    /// Confirmed with a waiting period.
    Schedule,
    /// The waiting period is over: the job takes the recovery to apply its reset.
    ClaimScheduled,
    /// The reset was applied and read back.
    Complete,
    /// Cognito answered, but the authenticator is still there.
    FailReset,
    /// A second person approved a recovery the support desk started: its code goes out.
    Approve,
    /// The support desk stops a recovery whose reset has not started.
    CancelBySupport,
    /// The owner stops a scheduled reset with the notice's link.
    CancelByLink,
    /// A confirmation through the code email's link takes the recovery for its reset: a
    /// recovery locked by wrong codes too (the lock stops guessing the code; the link cannot be
    /// guessed).
    ClaimByLink,
}

impl Transition {
    /// The states this transition may start from.
    pub fn from(self) -> &'static [RecoveryStatus] {
        match self {
            Self::CodeSent | Self::NotEligible | Self::RateLimited | Self::IssueGaveUp => {
                &[Requested]
            }
            Self::Supersede => &[Requested, CodeSent, NotEligible],
            // From the moment it is requested, the same for every name (a code still on its
            // way locks too, and is then never sent).
            Self::Lock => &[Requested, CodeSent, NotEligible],
            Self::ClaimForReset => &[CodeSent, Resetting],
            Self::ClaimByLink => &[CodeSent, Resetting, Locked],
            Self::Schedule | Self::Complete | Self::FailReset => &[Resetting],
            Self::ClaimScheduled => &[Scheduled, Resetting],
            // A scheduled reset too: the waiting period exists so that it can be stopped.
            Self::Approve => &[AwaitingApproval],
            Self::CancelBySupport => &[
                AwaitingApproval,
                Requested,
                CodeSent,
                NotEligible,
                Locked,
                Scheduled,
            ],
            Self::CancelByLink => &[Scheduled],
        }
    }

    /// The state it leads to.
    pub fn to(self) -> RecoveryStatus {
        match self {
            Self::CodeSent => CodeSent,
            Self::NotEligible => NotEligible,
            Self::RateLimited => RateLimited,
            Self::IssueGaveUp | Self::FailReset => Failed,
            Self::Supersede => Superseded,
            Self::Lock => Locked,
            Self::ClaimForReset | Self::ClaimScheduled | Self::ClaimByLink => Resetting,
            Self::Schedule => Scheduled,
            Self::Complete => Completed,
            Self::CancelBySupport | Self::CancelByLink => Cancelled,
            Self::Approve => Requested,
        }
    }

    pub fn applies_to(self, status: RecoveryStatus) -> bool {
        self.from().contains(&status)
    }
}

/// Whether a transition applied. The answer must be looked at: a transition that did not apply
/// means another actor changed the recovery first.
#[must_use = "a transition that did not apply means someone else changed the recovery first"]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moved(pub bool);

impl Moved {
    pub fn applied(self) -> bool {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL_TRANSITIONS: [Transition; 15] = [
        Transition::CodeSent,
        Transition::NotEligible,
        Transition::RateLimited,
        Transition::IssueGaveUp,
        Transition::Supersede,
        Transition::Lock,
        Transition::ClaimForReset,
        Transition::Schedule,
        Transition::ClaimScheduled,
        Transition::Complete,
        Transition::FailReset,
        Transition::Approve,
        Transition::CancelBySupport,
        Transition::CancelByLink,
        Transition::ClaimByLink,
    ];

    #[test]
    fn every_status_round_trips_through_its_database_name() {
        for s in RecoveryStatus::ALL {
            assert_eq!(s.as_str().parse::<RecoveryStatus>(), Ok(*s));
        }
        assert!("bogus".parse::<RecoveryStatus>().is_err());
    }

    #[test]
    fn only_usable_states_keep_a_code_hash() {
        assert!(CodeSent.keeps_code_hash());
        assert!(!Completed.keeps_code_hash());
        assert!(!Locked.keeps_code_hash());
        assert!(!Superseded.keeps_code_hash());
    }

    #[test]
    fn nothing_leaves_a_final_state_but_a_locked_recovery_cancelled_or_claimed_by_its_link() {
        for t in ALL_TRANSITIONS {
            for from in t.from() {
                // A lock stops guessing the code; support may still cancel, and the emailed
                // link (which cannot be guessed) may still claim it.
                let allowed = matches!(t, Transition::CancelBySupport | Transition::ClaimByLink)
                    && *from == Locked;
                assert!(
                    !from.is_final() || allowed,
                    "{t:?} starts from final state {from}"
                );
            }
        }
    }

    #[test]
    fn a_reset_in_progress_or_done_cannot_be_cancelled_by_support_but_a_scheduled_one_can() {
        for s in [Resetting, Completed] {
            assert!(!Transition::CancelBySupport.applies_to(s), "{s}");
        }
        assert!(Transition::CancelBySupport.applies_to(Locked));
        assert!(Transition::CancelBySupport.applies_to(Scheduled));
    }

    #[test]
    fn expired_is_shown_only_for_a_live_code_past_its_expiry() {
        let now = Utc::now();
        let past = now - chrono::Duration::seconds(1);
        assert_eq!(CodeSent.label(past, now), "expired");
        assert_eq!(NotEligible.label(past, now), "expired");
        assert_eq!(AwaitingApproval.label(past, now), "expired");
        assert_eq!(
            CodeSent.label(now + chrono::Duration::seconds(60), now),
            "code_sent"
        );
        assert_eq!(Completed.label(past, now), "completed");
    }

    /// docs/ARCHITECTURE.md's table of transitions says what the code does.
    #[test]
    fn the_architecture_pages_table_of_transitions_is_the_codes() {
        let doc = include_str!("../../docs/ARCHITECTURE.md");
        let section = doc
            .split("## A recovery's states")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .expect("docs/ARCHITECTURE.md has the section");
        let rows: Vec<String> = section
            .lines()
            .filter(|l| l.starts_with("| `"))
            .map(str::to_owned)
            .collect();
        let expected: Vec<String> = ALL_TRANSITIONS
            .iter()
            .map(|t| {
                let from: Vec<&str> = t.from().iter().map(|s| s.as_str()).collect();
                format!("| `{t:?}` | {} | {} |", from.join(", "), t.to().as_str())
            })
            .collect();
        assert_eq!(rows, expected);
    }
}
