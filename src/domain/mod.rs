//! Values parsed once at the edge, and the closed vocabularies the rules branch on; everything
//! inside takes these types, never raw strings.

mod vocabulary;

mod client_address;
mod email;
mod factors;
mod initiator;
mod instant;
mod justification;
mod names;
mod recovery_code;
pub mod sealed;
mod secret_token;
mod staff;
mod status;
mod totp;
mod username;

pub(crate) use vocabulary::closed_vocabulary;
pub use vocabulary::UnknownName;

pub use client_address::{limit_key, TrustedProxies};
pub use email::EmailAddress;
pub use factors::RecoveryFactors;
pub use initiator::{Actor, Initiator};
pub use instant::{parse_instant, InstantError};
pub use justification::{
    short_key_id, Agent, CallerCheck, Justification, JustificationError, Verification,
    REASON_MAX_CHARS, TICKET_MAX_CHARS,
};
pub use names::NameKeys;
pub use recovery_code::RecoveryCode;
pub use secret_token::{is_token, random_token, sha256_hex, token_digest};
pub use staff::{Provenance, StaffName, StaffRole, PURPOSE_MAX_CHARS};
pub use status::{Moved, RecoveryStatus, Transition};
pub use totp::{otpauth_uri, SignInCodeText, TotpCode, TotpCodeError};
pub use username::Username;

/// Where a request came from, as recorded in the audit log.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The shipped language the client asked for (its tag), when it named one.
    pub language: Option<String>,
}

impl ClientInfo {
    /// The address block limits count this client in (see `limit_key`); `unknown` when the
    /// request did not come over TCP.
    pub fn address_block(&self) -> String {
        self.ip
            .as_deref()
            .and_then(|ip| ip.parse().ok())
            .map_or_else(|| "unknown".to_owned(), limit_key)
    }
}
