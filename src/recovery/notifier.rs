//! Where the service's messages to a person go: email always, and texts when the operator turns
//! them on (`NOTIFY_SMS`). One value the use cases that write to people receive.

use std::sync::Arc;

use crate::mail::{Email, MailError, Mailer};
use crate::sms::{TextError, Texter};
use crate::words::Words;

pub(super) struct Notifier {
    mailer: Arc<dyn Mailer>,
    /// Where notices also go as texts; `None` when they do not.
    texter: Option<Arc<dyn Texter>>,
}

impl Notifier {
    pub fn new(mailer: Arc<dyn Mailer>) -> Self {
        Self {
            mailer,
            texter: None,
        }
    }

    /// Notices also go as texts through `texter`.
    pub fn with_texts(self, texter: Arc<dyn Texter>) -> Self {
        Self {
            texter: Some(texter),
            ..self
        }
    }

    /// The words emails and texts are written in: English, the one language so far.
    pub fn words(&self) -> Words {
        Words::english()
    }

    /// Whether notices also go as texts.
    pub fn texts(&self) -> bool {
        self.texter.is_some()
    }

    /// Sends an email; the provider's message id.
    pub async fn email(&self, email: Email) -> Result<String, MailError> {
        self.mailer.send(email).await
    }

    /// Sends a text, when texts are on (`None` when they are not); the provider's message id.
    pub async fn text(&self, phone: &str, text: &str) -> Option<Result<String, TextError>> {
        match &self.texter {
            Some(texter) => Some(texter.send_text(phone, text).await),
            None => None,
        }
    }
}
