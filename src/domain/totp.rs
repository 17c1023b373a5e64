//! The new authenticator: a code typed from it, and the Key URI that sets it up in an app.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// A 6-digit code from an authenticator app (RFC 6238 as Cognito uses it).
#[derive(Clone)]
pub struct TotpCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the code from the authenticator app is 6 digits")]
pub struct TotpCodeError;

impl TotpCode {
    /// Six digits; spaces (apps show `123 456`) are ignored.
    pub fn parse(input: &str) -> Result<Self, TotpCodeError> {
        let digits: String = input.chars().filter(|c| *c != ' ').collect();
        if digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(digits))
        } else {
            Err(TotpCodeError)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A code the identity provider sent by text or email at sign-in (6 to 8 digits).
#[derive(Clone)]
pub struct SignInCodeText(String);

impl SignInCodeText {
    /// Six to eight digits; spaces are ignored.
    pub fn parse(input: &str) -> Option<Self> {
        let digits: String = input.chars().filter(|c| *c != ' ').collect();
        ((6..=8).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()))
            .then_some(Self(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// RFC 3986 unreserved characters stay; everything else in a label or parameter is encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The Key URI format (`otpauth://totp/ISSUER:ACCOUNT?secret=...&issuer=ISSUER`), label parts
/// percent-encoded, the base32 secret without padding.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &str) -> String {
    let encode = |s: &str| utf8_percent_encode(s, COMPONENT).to_string();
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}",
        encode(issuer),
        encode(account),
        secret.trim_end_matches('='),
        encode(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_with_optional_spaces() {
        assert_eq!(TotpCode::parse("123 456").unwrap().as_str(), "123456");
        for bad in ["", "12345", "1234567", "12345a", "１２３４５６"] {
            assert!(TotpCode::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_key_uri_encodes_its_label_and_drops_padding() {
        assert_eq!(
            otpauth_uri("Acme Corp", "jane@example.com", "JBSWY3DPEHPK3PXP===="),
            "otpauth://totp/Acme%20Corp:jane%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Acme%20Corp"
        );
    }
}
