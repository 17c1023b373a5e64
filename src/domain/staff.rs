//! Staff of the support desk and auditors: their roles and names.

use super::vocabulary::closed_vocabulary;

closed_vocabulary! {
    pub enum StaffRole {
        /// Starts recoveries for users and follows them; never sees codes, cannot remove MFA.
        Support = "support",
        /// Approves a recovery another person started, when approval is required.
        Approver = "approver",
        /// Reads, exports and verifies the audit log.
        Auditor = "auditor",
    }
}

/// A staff member's name as it appears in the audit log (`staff:<name>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffName(String);

impl StaffName {
    pub fn parse(input: &str) -> Result<Self, String> {
        // A person's email or preferred username, as their provider has it: `+`, Unicode and
        // long names included; nothing invisible or that would break a log line.
        let ok = (1..=256).contains(&input.chars().count())
            && input.trim() == input
            && !input.chars().any(|c| c.is_control());
        if ok {
            Ok(Self(input.to_owned()))
        } else {
            Err("a staff name is 1 to 256 characters, without control characters or spaces at either end".to_owned())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for StaffName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a service account is for ("SIEM export"), shown beside it.
pub const PURPOSE_MAX_CHARS: usize = 200;

/// Who created a service account (a person's name, as for `StaffName`) and what it is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    pub created_by: StaffName,
    pub purpose: Option<String>,
}

impl Provenance {
    pub fn parse(created_by: &str, purpose: Option<&str>) -> Result<Self, String> {
        let created_by =
            StaffName::parse(created_by.trim()).map_err(|e| format!("who creates the key: {e}"))?;
        let purpose = super::justification::text(purpose, PURPOSE_MAX_CHARS).map_err(|()| {
            format!(
                "a purpose is at most {PURPOSE_MAX_CHARS} characters, without control characters"
            )
        })?;
        Ok(Self {
            created_by,
            purpose,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_names_are_what_a_provider_has_without_anything_invisible() {
        for good in [
            "jane.doe@support",
            "jane+ops@corp.example",
            "Zoë Ångström",
            &"a".repeat(256),
        ] {
            assert!(StaffName::parse(good).is_ok(), "{good:?}");
        }
        for bad in ["", " a", "a ", "x\ny", "tab\there", &"a".repeat(257)] {
            assert!(StaffName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn roles_parse_from_their_names_only() {
        assert_eq!("support".parse::<StaffRole>(), Ok(StaffRole::Support));
        assert_eq!("auditor".parse::<StaffRole>(), Ok(StaffRole::Auditor));
        assert!("admin".parse::<StaffRole>().is_err());
    }
}
