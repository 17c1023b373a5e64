/// An email address as Cognito holds it for a user (the `email` attribute).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not a usable email address")]
pub struct EmailAddressError;

impl EmailAddress {
    /// A light check: Cognito validated the address already; this only refuses what cannot
    /// be a mailbox (and header injection: no white space or control characters).
    pub fn parse(input: &str) -> Result<Self, EmailAddressError> {
        let s = input.trim();
        let (local, domain) = s.rsplit_once('@').ok_or(EmailAddressError)?;
        if local.is_empty()
            || domain.is_empty()
            || !domain.contains('.')
            || s.len() > 254
            || s.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(EmailAddressError);
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `j***@example.com`: enough for a person to recognise their address, not to learn it.
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.rsplit_once('@').expect("parsed addresses hold an @");
        let first: String = local.chars().take(1).collect();
        format!("{first}***@{domain}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_addresses_parse() {
        assert_eq!(
            EmailAddress::parse("jane@example.com").unwrap().as_str(),
            "jane@example.com"
        );
    }

    #[test]
    fn non_addresses_and_header_injection_are_refused() {
        for bad in [
            "",
            "jane",
            "@example.com",
            "jane@",
            "jane@localhost",
            "a b@example.com",
            "a@example.com\r\nBcc: x@y.z",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn masking_keeps_the_first_letter_and_the_domain() {
        assert_eq!(
            EmailAddress::parse("jane@example.com").unwrap().masked(),
            "j***@example.com"
        );
    }
}
