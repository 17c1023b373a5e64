//! Where the service's messages to a person go: email always, and texts when the operator turns
//! them on (`NOTIFY_SMS`). One value the use cases that write to people receive.

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

use crate::mail::templates::Signature;
use crate::mail::{Email, MailError, Mailer};
use crate::sms::{TextError, Texter};
use crate::words::Words;

pub(super) struct Notifier {
    mailer: Arc<dyn Mailer>,
    /// The language when neither the recovery nor the user names a shipped one.
    default: Words,
    /// Where notices also go as texts; `None` when they do not.
    texter: Option<Arc<dyn Texter>>,
    /// How every email ends (the organisation's name, how to reach support).
    signature: Signature,
}

impl Notifier {
    pub fn new(mailer: Arc<dyn Mailer>, default: Words) -> Self {
        Self {
            mailer,
            default,
            texter: None,
            signature: Signature::default(),
        }
    }

    /// Notices also go as texts through `texter`.
    pub fn with_texts(self, texter: Arc<dyn Texter>) -> Self {
        Self {
            texter: Some(texter),
            ..self
        }
    }

    /// The words a message to a person is written in: the language their recovery was asked
    /// in (`asked`), else their own (`locale`, Cognito's attribute), else `DEFAULT_LOCALE`. A
    /// language that is not shipped counts as none.
    pub fn words(&self, asked: Option<&str>, locale: Option<&str>) -> Words {
        asked
            .and_then(Words::for_tag)
            .or_else(|| locale.and_then(Words::for_tag))
            .unwrap_or_else(|| self.default.clone())
    }

    /// Emails end with `signature`.
    pub fn with_signature(self, signature: Signature) -> Self {
        Self { signature, ..self }
    }

    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// Who a text says it is from: the organisation's name, else `fallback` (the issuer the
    /// authenticator app shows).
    pub fn sender(&self, fallback: &str) -> String {
        self.signature
            .name
            .clone()
            .unwrap_or_else(|| fallback.to_owned())
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

/// A link in a message to a person: `base` (`PUBLIC_BASE_URL`) and `path`, with the one-time
/// `token` when there is one and the message's language, so that the page it opens speaks it.
pub(super) fn link(base: &str, path: &str, token: Option<&SecretString>, words: &Words) -> String {
    match token {
        Some(token) => format!(
            "{base}{path}?token={}&lang={}",
            token.expose_secret(),
            words.lang()
        ),
        None => format!("{base}{path}?lang={}", words.lang()),
    }
}
