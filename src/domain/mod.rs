//! Values parsed once at the edge; everything inside takes these types, never raw strings.

mod client_address;
mod email;
mod recovery_code;
mod secret_token;
mod username;

pub use client_address::{limit_key, TrustedProxies};
pub use email::EmailAddress;
pub use recovery_code::RecoveryCode;
pub use secret_token::{random_token, sha256_hex, token_digest};
pub use username::Username;

/// Where a request came from, as recorded in the audit log.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Who caused an event: the end user, a staff member, or the service itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    User,
    Staff(String),
    System,
}

impl Actor {
    pub fn as_audit_string(&self) -> String {
        match self {
            Actor::User => "user".to_owned(),
            Actor::Staff(name) => format!("staff:{name}"),
            Actor::System => "system".to_owned(),
        }
    }
}
