//! Signed checkpoints of the chain: the head (`seq`, `hash`) at an instant, signed with the
//! service's Ed25519 key (`AUDIT_SIGNING_KEY`). An auditor who keeps one can later prove, with
//! the public key alone, that the log still holds that event with that hash and is intact to its
//! end: nothing before it was rewritten and the tail was not cut.
//!
//! Checkpoints are themselves chained: each names the digest of the one before (`previous`), so
//! a published series of them shows whether one was left out or the series forked.

use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The chain head, signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Checkpoint {
    /// The last chained event's `seq` (0 while the log is empty).
    pub seq: i64,
    /// That event's hash (empty while the log is empty).
    pub head: String,
    /// When the checkpoint was made, RFC 3339 UTC.
    pub at: String,
    /// Which key signed it: the first 16 hex digits of SHA-256 over the public key.
    pub key_id: String,
    /// The digest of the checkpoint before it (`digest`: hex SHA-256 of what that one was signed
    /// over), empty for the first. Absent from checkpoints made before checkpoints were chained
    /// (version 1), which are signed without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
    /// Ed25519 over `message()`, base64: version 2,
    /// `mfa-recovery audit checkpoint v2\nseq {seq}\nhead {head}\nat {at}\nprevious {previous}`;
    /// version 1 (no `previous`), `mfa-recovery audit checkpoint v1\nseq {seq}\nhead {head}\nat {at}`.
    pub signature: String,
}

impl Checkpoint {
    /// What the checkpoint is signed over (UTF-8, no trailing newline).
    pub fn message(&self) -> Vec<u8> {
        message(self.seq, &self.head, &self.at, self.previous.as_deref())
    }

    /// The checkpoint's digest, which the next checkpoint names as its `previous`: hex SHA-256
    /// of `message()`.
    pub fn digest(&self) -> String {
        crate::domain::sha256_hex(&self.message())
    }

    /// When it was signed (None if its `at` is not RFC 3339).
    pub fn signed_at(&self) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(&self.at)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    /// Whether `self` is the checkpoint right after `before` in the published series.
    pub fn follows(&self, before: &Checkpoint) -> bool {
        self.previous.as_deref() == Some(before.digest().as_str())
    }
}

fn message(seq: i64, head: &str, at: &str, previous: Option<&str>) -> Vec<u8> {
    match previous {
        Some(previous) => format!(
            "mfa-recovery audit checkpoint v2\nseq {seq}\nhead {head}\nat {at}\nprevious {previous}"
        ),
        None => format!("mfa-recovery audit checkpoint v1\nseq {seq}\nhead {head}\nat {at}"),
    }
    .into_bytes()
}

pub fn key_id(key: &VerifyingKey) -> String {
    Sha256::digest(key.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The public key, as `audit public-key` prints it (base64 of its 32 bytes).
pub fn public_key_text(key: &VerifyingKey) -> String {
    B64.encode(key.as_bytes())
}

/// A public key as `audit public-key` printed it.
pub fn parse_public_key(text: &str) -> Result<VerifyingKey, String> {
    let bytes: [u8; 32] = B64
        .decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(
            "a public key is the base64 of 32 bytes (as `mfa-recovery audit public-key` prints it)",
        )?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| "not an Ed25519 public key".to_owned())
}

/// Signs the head (`seq`, `head`) at `at`, after the checkpoint `before` (None for the first).
pub fn sign(
    key: &SigningKey,
    seq: i64,
    head: &str,
    at: DateTime<Utc>,
    before: Option<&Checkpoint>,
) -> Checkpoint {
    let mut checkpoint = Checkpoint {
        seq,
        head: head.to_owned(),
        key_id: key_id(&key.verifying_key()),
        at: at.to_rfc3339_opts(SecondsFormat::Micros, true),
        previous: Some(before.map(Checkpoint::digest).unwrap_or_default()),
        signature: String::new(),
    };
    checkpoint.signature = B64.encode(key.sign(&checkpoint.message()).to_bytes());
    checkpoint
}

/// Why a checkpoint does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("the checkpoint was signed by key {signed_by}, not by this public key ({expected})")]
    OtherKey { signed_by: String, expected: String },
    #[error("the signature does not match the checkpoint (its seq, head or time was changed, or it is not a signature)")]
    BadSignature,
    #[error("the log has no event {seq} any more: its tail was cut")]
    Missing { seq: i64 },
    #[error("event {seq} was archived (the log goes on after event {cut}): verify it against the archive with scripts/verify_audit.py")]
    Archived { seq: i64, cut: i64 },
    #[error(
        "event {seq} has another hash than the checkpoint's head: the log was rewritten up to it"
    )]
    Diverged { seq: i64 },
    #[error("the chain is broken at event {seq}")]
    Broken { seq: i64 },
}

/// Checks the checkpoint's signature with `key`.
pub fn check_signature(checkpoint: &Checkpoint, key: &VerifyingKey) -> Result<(), CheckpointError> {
    let expected = key_id(key);
    if checkpoint.key_id != expected {
        return Err(CheckpointError::OtherKey {
            signed_by: checkpoint.key_id.clone(),
            expected,
        });
    }
    let signature = B64
        .decode(&checkpoint.signature)
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
        .map(|b| Signature::from_bytes(&b))
        .ok_or(CheckpointError::BadSignature)?;
    key.verify(&checkpoint.message(), &signature)
        .map_err(|_| CheckpointError::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> SigningKey {
        SigningKey::from_bytes(&[n; 32])
    }

    #[test]
    fn a_checkpoint_holds_with_its_key_and_not_once_anything_in_it_changes() {
        let first = sign(&key(1), 41, "abb", Utc::now(), None);
        let cp = sign(&key(1), 42, "abc", Utc::now(), Some(&first));
        assert_eq!(first.previous.as_deref(), Some(""));
        assert!(cp.follows(&first));
        assert!(!first.follows(&cp));
        let public = key(1).verifying_key();
        assert_eq!(check_signature(&cp, &public), Ok(()));
        let parsed = parse_public_key(&public_key_text(&public)).unwrap();
        assert_eq!(check_signature(&cp, &parsed), Ok(()));

        for changed in [
            Checkpoint {
                seq: 41,
                ..cp.clone()
            },
            Checkpoint {
                head: "abd".into(),
                ..cp.clone()
            },
            Checkpoint {
                at: "2020-01-01T00:00:00.000000Z".into(),
                ..cp.clone()
            },
            Checkpoint {
                previous: Some("0".repeat(64)),
                ..cp.clone()
            },
            Checkpoint {
                previous: None,
                ..cp.clone()
            },
            Checkpoint {
                signature: "AAAA".into(),
                ..cp.clone()
            },
        ] {
            assert_eq!(
                check_signature(&changed, &public),
                Err(CheckpointError::BadSignature),
                "{changed:?}"
            );
        }
        assert!(matches!(
            check_signature(&cp, &key(2).verifying_key()),
            Err(CheckpointError::OtherKey { .. })
        ));
        assert!(parse_public_key("c2hvcnQ=").is_err());
    }
}

#[cfg(test)]
mod version_one {
    use super::*;

    /// A checkpoint handed out before checkpoints were chained (no `previous`) still verifies:
    /// auditors keep them.
    #[test]
    fn a_version_1_checkpoint_still_verifies() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let at = "2026-11-30T10:00:00.000000Z";
        let signature = key
            .sign(format!("mfa-recovery audit checkpoint v1\nseq 7\nhead abc\nat {at}").as_bytes());
        let old: Checkpoint = serde_json::from_value(serde_json::json!({
            "seq": 7, "head": "abc", "at": at, "key_id": key_id(&key.verifying_key()),
            "signature": B64.encode(signature.to_bytes()),
        }))
        .unwrap();
        assert_eq!(old.previous, None);
        assert_eq!(check_signature(&old, &key.verifying_key()), Ok(()));
        assert!(!serde_json::to_string(&old).unwrap().contains("previous"));
    }
}
