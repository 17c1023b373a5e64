//! The audit stream to an HTTPS endpoint, one event per request, signed in the Standard Webhooks
//! format (https://www.standardwebhooks.com): `webhook-id` (stable across retries, for
//! deduplication), `webhook-timestamp` (Unix seconds) and `webhook-signature`
//! (`v1,<base64 HMAC-SHA256 over "{id}.{timestamp}.{body}">`, keyed with the secret's bytes).
//! Any 2xx answer is a delivery; anything else, or no answer within 10 s, is tried again.

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::audit::stream::{EventSink, Message, SinkError};
use crate::settings::WebhookSecret;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const TIMEOUT: Duration = Duration::from_secs(10);

/// `v1,<signature>` of one message: base64 of HMAC-SHA256, keyed with the secret's bytes, over
/// `{id}.{timestamp}.{body}`.
pub fn sign(secret: &WebhookSecret, id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.bytes()).expect("HMAC takes keys of any length");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", B64.encode(mac.finalize().into_bytes()))
}

pub struct WebhookSink {
    url: String,
    secret: WebhookSecret,
    http: reqwest::Client,
    destination: String,
}

impl WebhookSink {
    pub fn new(url: String, secret: WebhookSecret) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let destination = super::destination("webhook", &url);
        Ok(Self {
            url,
            secret,
            http,
            destination,
        })
    }
}

#[async_trait]
impl EventSink for WebhookSink {
    fn destination(&self) -> &str {
        &self.destination
    }

    fn kind(&self) -> &'static str {
        "webhook"
    }

    async fn deliver(&self, message: &Message<'_>) -> Result<(), SinkError> {
        let timestamp = message.at.timestamp();
        let signature = sign(&self.secret, message.id, timestamp, message.body);
        let response = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .header("webhook-id", message.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(message.body.to_vec())
            .send()
            .await
            // Without the URL: it may carry a token.
            .map_err(|e| {
                SinkError(format!(
                    "the webhook could not be reached: {}",
                    e.without_url()
                ))
            })?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(SinkError(format!("the webhook answered {status}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification's reference libraries.
    #[test]
    fn signs_as_the_standard_webhooks_reference_does() {
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let signature = sign(
            &secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(WebhookSecret::parse("whsec_c2hvcnQ=").is_err());
        assert!(WebhookSecret::parse("whsec_!!!").is_err());
        assert!(!format!("{secret:?}").contains("MfKQ"));
    }
}
