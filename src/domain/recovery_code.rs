use rand::rngs::OsRng;
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};

/// An 8-digit one-time recovery code. Deliberately neither `Debug` nor `Display`: the digits
/// leave memory only through `expose`, at the call that hashes or emails them.
pub struct RecoveryCode(SecretString);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a recovery code is 8 digits, optionally split in two halves by one space or hyphen")]
pub struct RecoveryCodeError;

impl RecoveryCode {
    pub const DIGITS: usize = 8;

    /// A fresh code from the operating system's CSPRNG, uniform over 00000000..=99999999.
    pub fn generate() -> Self {
        let n: u32 = OsRng.gen_range(0..100_000_000);
        Self(SecretString::from(format!("{n:08}")))
    }

    /// Accepts `12345678`, `1234 5678` and `1234-5678` (surrounding white space ignored).
    pub fn parse(input: &str) -> Result<Self, RecoveryCodeError> {
        let s = input.trim();
        let digits: String = match s.len() {
            8 => s.to_owned(),
            9 if matches!(s.as_bytes()[4], b' ' | b'-') => format!("{}{}", &s[..4], &s[5..]),
            _ => return Err(RecoveryCodeError),
        };
        if digits.len() != Self::DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(RecoveryCodeError);
        }
        Ok(Self(SecretString::from(digits)))
    }

    /// The 8 digits, for hashing.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The code as shown to a person: `1234 5678`.
    pub fn grouped(&self) -> String {
        let d = self.expose();
        format!("{} {}", &d[..4], &d[4..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_written_forms_are_the_same_code() {
        for form in ["12345678", "1234 5678", "1234-5678", " 1234-5678\n"] {
            assert_eq!(
                RecoveryCode::parse(form).unwrap().expose(),
                "12345678",
                "{form:?}"
            );
        }
    }

    #[test]
    fn anything_else_is_rejected() {
        for bad in [
            "",
            "1234567",
            "123456789",
            "1234  5678",
            "12-345678",
            "1234_5678",
            "abcdefgh",
            "１２３４５６７８",
            "1234 567x",
            "+2345678",
        ] {
            assert!(RecoveryCode::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn generated_codes_are_eight_digits_and_vary() {
        let codes: std::collections::HashSet<String> = (0..50)
            .map(|_| RecoveryCode::generate().expose().to_owned())
            .collect();
        assert!(codes
            .iter()
            .all(|c| c.len() == 8 && c.bytes().all(|b| b.is_ascii_digit())));
        assert!(
            codes.len() > 45,
            "50 draws from 10^8 should almost never collide"
        );
    }

    #[test]
    fn grouped_form_splits_the_halves() {
        assert_eq!(
            RecoveryCode::parse("00001234").unwrap().grouped(),
            "0000 1234"
        );
    }
}
