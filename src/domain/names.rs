//! How names people type are kept. Every name is matched and limited by a keyed hash of its
//! normal form, the same way whether or not the pool has such a user. A name is recorded in full
//! only once Cognito showed it is a user's; until then (and for ever, for names that are no one's:
//! typos, or a password typed into the wrong field) the audit log and the recoveries table keep
//! only its first two characters and a short keyed hash.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use super::Username;

#[derive(Clone)]
pub struct NameKeys {
    key: [u8; 32],
    /// Whether the pool tells `Alice` from `alice` (`DescribeUserPool`'s
    /// `UsernameConfiguration.CaseSensitive`; Cognito's default is true).
    case_sensitive: bool,
}

/// The key is never printed.
impl std::fmt::Debug for NameKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NameKeys")
            .field("case_sensitive", &self.case_sensitive)
            .finish_non_exhaustive()
    }
}

/// Characters of a name kept in clear while it is not known to be a user's.
const PREFIX_CHARS: usize = 2;
/// Hex digits of the keyed hash kept with them (48 bits: enough to tell names apart in a log).
const SHORT_HASH_HEX: usize = 12;

impl NameKeys {
    /// Keyed with a key derived from the code pepper (never the pepper itself).
    pub fn new(pepper: &SecretString, case_sensitive: bool) -> Self {
        let mut mac = Hmac::<Sha256>::new_from_slice(pepper.expose_secret().as_bytes())
            .expect("HMAC takes keys of any length");
        mac.update(b"mfa-recovery/name-keys/v1");
        Self {
            key: mac.finalize().into_bytes().into(),
            case_sensitive,
        }
    }

    pub fn case_sensitive(&self) -> bool {
        self.case_sensitive
    }

    /// What limits and matching key on: HMAC-SHA256 of the name's normal form, in hex.
    pub fn key(&self, name: &Username) -> String {
        self.key_of(&name.normal_form(self.case_sensitive))
    }

    /// How a name not known to be a user's is recorded: `al…#3f9a1c2b7d4e`.
    pub fn redacted(&self, name: &Username) -> String {
        let normal = name.normal_form(self.case_sensitive);
        let prefix: String = normal.chars().take(PREFIX_CHARS).collect();
        format!("{prefix}…#{}", &self.key_of(&normal)[..SHORT_HASH_HEX])
    }

    fn key_of(&self, normal_form: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("32-byte key");
        mac.update(normal_form.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(case_sensitive: bool) -> NameKeys {
        NameKeys::new(
            &SecretString::from("a-test-pepper".to_owned()),
            case_sensitive,
        )
    }

    fn name(s: &str) -> Username {
        Username::parse(s).unwrap()
    }

    #[test]
    fn look_alikes_share_a_key_and_case_only_where_the_pool_ignores_it() {
        let insensitive = keys(false);
        assert_eq!(
            insensitive.key(&name("Alice@x.com")),
            insensitive.key(&name("alice@x.com"))
        );
        assert_eq!(
            insensitive.key(&name("ａｌｉｃｅ")),
            insensitive.key(&name("alice"))
        );
        let sensitive = keys(true);
        assert_ne!(sensitive.key(&name("Alice")), sensitive.key(&name("alice")));
        assert_ne!(sensitive.key(&name("alice")), sensitive.key(&name("bob")));
    }

    #[test]
    fn a_redacted_name_keeps_two_characters_and_a_short_keyed_hash() {
        let k = keys(true);
        let r = k.redacted(&name("hunter2-my-password"));
        assert!(r.starts_with("hu…#"), "{r}");
        assert_eq!(r.chars().count(), 2 + 2 + 12);
        assert!(!r.contains("hunter2"));
        let other = NameKeys::new(&SecretString::from("another-pepper".to_owned()), true);
        assert_ne!(other.redacted(&name("hunter2-my-password")), r, "keyed");
        assert!(!format!("{k:?}").contains("key:"));
    }
}
