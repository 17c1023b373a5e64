//! The mailer port, its SES v2 implementation, and the email templates.

mod ses;
pub mod templates;

use async_trait::async_trait;

use crate::domain::EmailAddress;

pub use ses::SesMailer;

/// One email, rendered, in both text and HTML.
pub struct Email {
    pub to: EmailAddress,
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the email service could not be reached")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the email service refused the message: {0}")]
    Rejected(String),
}

#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    /// Sends the email; returns the provider's message id.
    async fn send(&self, email: Email) -> Result<String, MailError>;
    /// Whether the provider lets the service send from its address: an identity for the
    /// address, or for its domain, that is verified.
    async fn sender_verified(&self) -> Result<bool, MailError>;
    /// What the provider lets this account do: send at all, and to any address.
    async fn account(&self) -> Result<MailAccount, MailError>;
}

/// The sending account's state (SES: GetAccount in the configured region).
#[derive(Debug, Clone, PartialEq)]
pub struct MailAccount {
    /// Whether the account may send at all (SES pauses sending on a poor reputation).
    pub sending_enabled: bool,
    /// Out of the sandbox: mail may go to any address, not only to verified ones.
    pub production_access: bool,
    /// How many emails may go in 24 hours.
    pub daily_quota: Option<f64>,
}
