//! Secrets the service must keep for a while but never hold in clear at rest (the Cognito
//! session or access token of an enrollment): sealed with a key that only the user's bearer
//! token derives. The database holds the token's digest and the sealed bytes; without the token,
//! which only the user has, neither opens.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

const NONCE_BYTES: usize = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the sealed value does not open with this token")]
pub struct Unsealable;

/// HMAC-SHA256(token, purpose): a 256-bit key per token, separate from its stored digest.
fn key(token: &SecretString) -> Key {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(token.expose_secret().as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(b"mfa-recovery sealed v1");
    Key::from(<[u8; 32]>::from(mac.finalize().into_bytes()))
}

/// ChaCha20-Poly1305 of `plaintext` under the token's key, bound to `context` (the row it is
/// stored in): `nonce || ciphertext`.
pub fn seal(token: &SecretString, context: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let mut nonce = [0u8; NONCE_BYTES];
    OsRng.fill_bytes(&mut nonce);
    let sealed = ChaCha20Poly1305::new(&key(token))
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: context,
            },
        )
        .expect("encryption of a short message cannot fail");
    [nonce.as_slice(), &sealed].concat()
}

pub fn open(token: &SecretString, context: &[u8], sealed: &[u8]) -> Result<Vec<u8>, Unsealable> {
    if sealed.len() < NONCE_BYTES {
        return Err(Unsealable);
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
    ChaCha20Poly1305::new(&key(token))
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: context,
            },
        )
        .map_err(|_| Unsealable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_with_its_token_and_context_only() {
        let token = SecretString::from("token-a");
        let sealed = seal(&token, b"row-1", b"cognito session");
        assert!(!sealed.windows(b"cognito".len()).any(|w| w == b"cognito"));
        assert_eq!(open(&token, b"row-1", &sealed).unwrap(), b"cognito session");
        assert_eq!(
            open(&SecretString::from("token-b"), b"row-1", &sealed),
            Err(Unsealable)
        );
        assert_eq!(open(&token, b"row-2", &sealed), Err(Unsealable));
        assert_eq!(open(&token, b"row-1", &sealed[..5]), Err(Unsealable));
    }

    #[test]
    fn sealing_twice_gives_different_bytes() {
        let token = SecretString::from("t");
        assert_ne!(seal(&token, b"", b"x"), seal(&token, b"", b"x"));
    }
}
