//! Staff of the support desk and auditors: their roles and names.

use super::vocabulary::closed_vocabulary;

closed_vocabulary! {
    pub enum StaffRole {
        /// Starts recoveries for users and follows them; never sees codes, cannot remove MFA.
        Support = "support",
        /// Reads, exports and verifies the audit log.
        Auditor = "auditor",
    }
}

/// A staff member's name as it appears in the audit log (`staff:<name>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffName(String);

impl StaffName {
    pub fn parse(input: &str) -> Result<Self, String> {
        let ok = !input.is_empty()
            && input.len() <= 64
            && input
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
        if ok {
            Ok(Self(input.to_owned()))
        } else {
            Err("a staff name is 1 to 64 characters of letters, digits, . _ - @".to_owned())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_names_are_plain() {
        assert!(StaffName::parse("jane.doe@support").is_ok());
        for bad in ["", "a b", "x\ny", "ünï", &"a".repeat(65)] {
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
