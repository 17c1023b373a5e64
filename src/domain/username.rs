use unicode_normalization::UnicodeNormalization;

/// A Cognito username or an alias the pool accepts (such as the email address), as the user
/// typed it, trimmed: that is what Cognito is asked about (NFKC could turn one real username
/// into another: `ﬁle` and `file` are two users). Limits, superseding and matching use its
/// normal form (`NameKeys`), the same for every name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UsernameError {
    #[error("username must not be empty")]
    Empty,
    #[error("username must be at most {max} characters", max = Username::MAX_CHARS)]
    TooLong,
    #[error("username must not contain control characters")]
    ControlCharacter,
}

impl Username {
    /// Cognito's own limit for usernames and aliases is 128 characters.
    pub const MAX_CHARS: usize = 128;

    pub fn parse(input: &str) -> Result<Self, UsernameError> {
        let trimmed = input.trim();
        let normalised: String = trimmed.nfkc().collect();
        if normalised.trim().is_empty() {
            return Err(UsernameError::Empty);
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(UsernameError::TooLong);
        }
        // Control characters (CR/LF included) could forge log lines and are never valid here.
        if trimmed.chars().any(char::is_control) {
            return Err(UsernameError::ControlCharacter);
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The one form limits and matching key on: Unicode NFKC, trimmed, and lower-cased when the
    /// pool ignores case, so that look-alike spellings (full-width letters, ligatures, odd
    /// spaces, capitals) are one name whether or not it exists.
    pub fn normal_form(&self, case_sensitive: bool) -> String {
        let normalised: String = self.0.nfkc().collect();
        let trimmed = normalised.trim();
        if case_sensitive {
            trimmed.to_owned()
        } else {
            trimmed.to_lowercase()
        }
    }
}

impl std::fmt::Display for Username {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_and_email_aliases_are_accepted_and_trimmed() {
        assert_eq!(Username::parse("alice").unwrap().as_str(), "alice");
        assert_eq!(
            Username::parse("  a@example.com ").unwrap().as_str(),
            "a@example.com"
        );
        assert_eq!(Username::parse("Zoë").unwrap().as_str(), "Zoë");
    }

    #[test]
    fn look_alike_spellings_have_one_normal_form_but_are_kept_as_typed() {
        let normal = |s: &str| Username::parse(s).unwrap().normal_form(true);
        assert_eq!(normal("ａｌｉｃｅ"), "alice");
        assert_eq!(normal("\u{3000}alice\u{3000}"), "alice");
        assert_eq!(normal("ﬁona"), "fiona");
        assert_eq!(normal("Zoe\u{0308}"), "Zoë");
        assert_eq!(Username::parse("ﬁona").unwrap().as_str(), "ﬁona");
        assert_eq!(
            Username::parse("\u{3000}alice\u{3000}").unwrap().as_str(),
            "alice"
        );
    }

    #[test]
    fn case_is_folded_only_for_a_pool_that_ignores_it() {
        let name = Username::parse("Alice@Example.com").unwrap();
        assert_eq!(name.normal_form(false), "alice@example.com");
        assert_eq!(name.normal_form(true), "Alice@Example.com");
    }

    #[test]
    fn empty_and_blank_names_are_rejected() {
        assert_eq!(Username::parse(""), Err(UsernameError::Empty));
        assert_eq!(Username::parse("   "), Err(UsernameError::Empty));
    }

    #[test]
    fn names_longer_than_128_characters_are_rejected() {
        assert!(Username::parse(&"é".repeat(128)).is_ok());
        assert_eq!(
            Username::parse(&"a".repeat(129)),
            Err(UsernameError::TooLong)
        );
    }

    #[test]
    fn control_characters_are_rejected() {
        for bad in ["al\nice", "al\rice", "a\u{0}b", "a\u{1b}[31m", "a\u{7f}b"] {
            assert_eq!(
                Username::parse(bad),
                Err(UsernameError::ControlCharacter),
                "{bad:?}"
            );
        }
    }
}
