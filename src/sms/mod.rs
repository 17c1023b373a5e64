//! The text-message port and its one implementation, Amazon SNS: short notices to a user's
//! verified phone number (`NOTIFY_SMS`). A text never carries a code or a link: it only tells
//! the owner to look at their email.

mod sns;

use async_trait::async_trait;

pub use sns::SnsTexter;

#[derive(Debug, thiserror::Error)]
pub enum TextError {
    #[error("the SMS service could not be reached")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the SMS service refused the message: {0}")]
    Rejected(String),
}

#[async_trait]
pub trait Texter: Send + Sync + 'static {
    /// Sends one SMS to `phone` (E.164, such as +14155550100); returns the provider's message id.
    async fn send_text(&self, phone: &str, text: &str) -> Result<String, TextError>;
    /// Whether the account may text only verified sandbox numbers (the SMS sandbox).
    async fn sandboxed(&self) -> Result<bool, TextError>;
}
