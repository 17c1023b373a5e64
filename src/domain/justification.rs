//! Why the support desk acts, and who acts: the grounds recorded on every recovery a person or
//! service account starts, and the agent whose own account they may never touch.

use super::staff::StaffName;
use super::vocabulary::closed_vocabulary;
use super::Actor;

/// A reason is required; it goes on every event the agent causes.
pub const REASON_MAX_CHARS: usize = 500;
/// A ticket reference in the company's tracker (`INC-1234`, a URL).
pub const TICKET_MAX_CHARS: usize = 200;

closed_vocabulary! {
    /// How the agent made sure the caller is the account's owner (the help desk's weak point:
    /// CISA's Scattered Spider advisory).
    pub enum CallerCheck {
        /// The agent called back the number the company has on file for the person.
        CallBack = "call_back",
        /// The person's manager confirmed who they are.
        Manager = "manager",
        /// In person, with an identity document.
        InPerson = "in_person",
        /// Something else, described in words.
        Other = "other",
    }
}

impl CallerCheck {
    /// In words, for the audit log.
    pub fn describe(self) -> &'static str {
        match self {
            Self::CallBack => "call-back to the number on file",
            Self::Manager => "confirmed by their manager",
            Self::InPerson => "in person, with an identity document",
            Self::Other => "other",
        }
    }
}

/// How the caller was verified: one of the list, with words required for `Other`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub check: CallerCheck,
    /// What was done, for `Other` (required there, ignored for the others).
    pub detail: Option<String>,
}

impl Verification {
    /// Another way, described in `words`.
    fn other(words: String) -> Self {
        Self {
            check: CallerCheck::Other,
            detail: Some(words),
        }
    }

    /// As stored on the recovery: `call_back`, or `other: <words>`.
    pub fn stored(&self) -> String {
        match (&self.check, &self.detail) {
            (CallerCheck::Other, Some(detail)) => format!("other: {detail}"),
            (check, _) => check.as_str().to_owned(),
        }
    }
}

impl std::fmt::Display for Verification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.check, &self.detail) {
            (CallerCheck::Other, Some(detail)) => write!(f, "other: {detail}"),
            (check, _) => f.write_str(check.describe()),
        }
    }
}

/// Why a justification was refused (the words are its presentation's).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JustificationError {
    #[error("no reason, or one too long")]
    Reason,
    #[error("a ticket reference too long")]
    Ticket,
    #[error("no description of how the caller was verified, or one too long")]
    VerificationDetail,
}

/// The grounds of a support desk action: on the recovery and on every event it causes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Justification {
    pub reason: String,
    pub ticket: Option<String>,
    /// How the caller was verified; a person at the console must say, an integration with a
    /// key may not know.
    pub verification: Option<Verification>,
}

/// `input` trimmed, `None` when empty, refused when longer than `max` or holding control
/// characters.
pub(crate) fn text(input: Option<&str>, max: usize) -> Result<Option<String>, ()> {
    let Some(text) = input.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > max || text.chars().any(char::is_control) {
        return Err(());
    }
    Ok(Some(text.to_owned()))
}

impl Justification {
    /// Parses the agent's words. `verification` names a `CallerCheck` (`call_back`; `call-back`
    /// and `Call back` too); `verification_detail` gives the words `other` needs. Words that
    /// name no check are kept as they are, as `other` (an integration's own vocabulary is
    /// recorded, not refused). Saying how the caller was verified is optional: the audit log
    /// then says it was not stated.
    pub fn parse(
        reason: &str,
        ticket: Option<&str>,
        verification: Option<&str>,
        verification_detail: Option<&str>,
    ) -> Result<Self, JustificationError> {
        let reason = text(Some(reason), REASON_MAX_CHARS)
            .ok()
            .flatten()
            .ok_or(JustificationError::Reason)?;
        let ticket = text(ticket, TICKET_MAX_CHARS).map_err(|()| JustificationError::Ticket)?;
        let bad_detail = |()| JustificationError::VerificationDetail;
        let words = text(verification, REASON_MAX_CHARS).map_err(bad_detail)?;
        let detail = text(verification_detail, REASON_MAX_CHARS).map_err(bad_detail)?;
        let named = words.as_deref().and_then(|w| {
            w.to_lowercase()
                .replace(['-', ' '], "_")
                .parse::<CallerCheck>()
                .ok()
        });
        let verification = match (named, words, detail) {
            (Some(CallerCheck::Other), _, None) => {
                return Err(JustificationError::VerificationDetail)
            }
            (Some(CallerCheck::Other), _, Some(detail)) => Some(Verification::other(detail)),
            (Some(check), _, _) => Some(Verification {
                check,
                detail: None,
            }),
            (None, Some(words), None) => Some(Verification::other(words)),
            (None, Some(words), Some(detail)) => {
                Some(Verification::other(format!("{words}: {detail}")))
            }
            (None, None, Some(detail)) => Some(Verification::other(detail)),
            (None, None, None) => None,
        };
        Ok(Self {
            reason,
            ticket,
            verification,
        })
    }
}

/// As the audit log records it: `reason: …; ticket: …; caller verified: …`.
impl std::fmt::Display for Justification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "reason: {}", self.reason)?;
        if let Some(ticket) = &self.ticket {
            write!(f, "; ticket: {ticket}")?;
        }
        match &self.verification {
            Some(verification) => write!(f, "; caller verified: {verification}"),
            None => f.write_str("; caller verified: not stated"),
        }
    }
}

/// How a key of a service account is named in the audit log and the console: the first eight
/// hexadecimal digits of its id (never anything of the key).
pub fn short_key_id(key_id: uuid::Uuid) -> String {
    key_id.simple().to_string()[..8].to_owned()
}

/// Who acts for the support desk: a person signed in to the console, or a service account's key.
#[derive(Debug, Clone)]
pub struct Agent {
    pub name: StaffName,
    /// The names under which the agent may themselves be a user of the pool (their email, their
    /// username at the company's provider): an agent never acts on an account they name.
    pub own_names: Vec<String>,
    /// How the agent was authenticated, for the audit log (`console session 1a2b3c4d…`,
    /// `service account key 1a2b3c4d`).
    pub via: String,
}

impl Agent {
    /// A service account, by the key `key_id` (auditors find it by the same first characters
    /// in the console's list of service accounts).
    pub fn key(name: StaffName, key_id: uuid::Uuid) -> Self {
        Self {
            name,
            own_names: Vec::new(),
            via: format!("service account key {}", short_key_id(key_id)),
        }
    }

    /// The agent, as the audit log names who acted.
    pub fn actor(&self) -> Actor {
        Actor::Staff(self.name.clone())
    }

    /// `detail` of an event the agent caused, with how they were authenticated.
    pub fn says(&self, detail: impl std::fmt::Display) -> String {
        format!("{detail}; through {}", self.via)
    }

    /// Whether `name` is this agent's (staff names compare without regard to case).
    pub fn is(&self, name: &StaffName) -> bool {
        self.name.as_str().to_lowercase() == name.as_str().to_lowercase()
    }

    /// Whether the account (its Cognito username and email) is the agent's own: matched without
    /// regard to case, as both providers compare emails.
    pub fn owns<'a>(&self, account_names: impl IntoIterator<Item = &'a str>) -> bool {
        let own: Vec<String> = self.own_names.iter().map(|n| n.to_lowercase()).collect();
        account_names
            .into_iter()
            .any(|n| own.contains(&n.to_lowercase()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(
        reason: &str,
        ticket: Option<&str>,
        check: Option<&str>,
        detail: Option<&str>,
    ) -> Result<Justification, JustificationError> {
        Justification::parse(reason, ticket, check, detail)
    }

    #[test]
    fn a_reason_is_required_and_how_the_caller_was_verified_is_recorded() {
        let j = parse(" lost phone ", Some(" INC-1 "), Some("call_back"), None).unwrap();
        assert_eq!(j.reason, "lost phone");
        assert_eq!(j.ticket.as_deref(), Some("INC-1"));
        assert_eq!(
            j.to_string(),
            "reason: lost phone; ticket: INC-1; caller verified: call-back to the number on file"
        );
        assert_eq!(
            parse("  ", None, Some("manager"), None),
            Err(JustificationError::Reason)
        );
        assert_eq!(
            parse("x", None, Some("Call-Back"), None)
                .unwrap()
                .verification
                .unwrap()
                .check,
            CallerCheck::CallBack
        );
        // Words that name no check are recorded as they are.
        assert_eq!(
            parse("x", None, Some("badge scanned at the desk"), None)
                .unwrap()
                .to_string(),
            "reason: x; caller verified: other: badge scanned at the desk"
        );
        assert_eq!(
            parse("x", None, Some("other"), Some(" ")),
            Err(JustificationError::VerificationDetail)
        );
        let other = parse(
            "x",
            Some(""),
            Some("other"),
            Some("video call, badge shown"),
        )
        .unwrap();
        assert_eq!(other.ticket, None);
        assert_eq!(
            other.verification.unwrap().stored(),
            "other: video call, badge shown"
        );
        assert_eq!(
            parse("x", Some("a\nb"), Some("manager"), None),
            Err(JustificationError::Ticket)
        );
        assert_eq!(
            parse(
                &"r".repeat(REASON_MAX_CHARS + 1),
                None,
                Some("manager"),
                None
            ),
            Err(JustificationError::Reason)
        );
    }

    #[test]
    fn the_verification_may_be_left_out_and_the_log_says_so() {
        let j = Justification::parse("ticket T-1", None, None, None).unwrap();
        assert_eq!(j.verification, None);
        assert_eq!(
            j.to_string(),
            "reason: ticket T-1; caller verified: not stated"
        );
    }

    #[test]
    fn an_agent_owns_the_accounts_that_carry_one_of_their_names_in_any_case() {
        let agent = Agent {
            name: StaffName::parse("Zoë@Corp.example").unwrap(),
            own_names: vec!["Zoë@Corp.example".into(), "zoe".into()],
            via: "console".into(),
        };
        assert!(agent.owns(["ZOË@corp.example"]));
        assert!(agent.owns(["someone", "Zoe"]));
        assert!(!agent.owns(["zoe2", "zoe@corp.example.org"]));
        assert!(!Agent::key(StaffName::parse("ci").unwrap(), uuid::Uuid::nil()).owns(["ci"]));
    }
}
