use async_trait::async_trait;
use aws_sdk_sesv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use aws_sdk_sesv2::Client;

use super::{Email, MailAccount, MailError, Mailer};
use crate::aws;
use crate::telemetry::timed_call;

pub struct SesMailer {
    client: Client,
    from: String,
}

impl SesMailer {
    pub fn new(client: Client, from: String) -> Self {
        Self { client, from }
    }
}

fn content(data: String) -> Result<Content, MailError> {
    Content::builder()
        .data(data)
        .charset("UTF-8")
        .build()
        .map_err(|e| MailError::Rejected(e.to_string()))
}

/// SES's codes for throttling and its own faults: try again.
const TRANSIENT: &[&str] = &[
    "TooManyRequestsException",
    "LimitExceededException",
    "InternalFailure",
    "ServiceUnavailable",
];

/// An SES error as a `MailError`: a refusal, named by its code, or unavailable (try again).
fn classify<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static, R>(
    err: SdkError<E, R>,
) -> MailError
where
    R: std::fmt::Debug + Send + Sync + 'static,
{
    aws::refusal(err, TRANSIENT).map_or_else(MailError::Unavailable, MailError::Rejected)
}

impl SesMailer {
    /// GetEmailIdentity: `Some(verified)` for an identity SES has, `None` when it has none.
    async fn identity_verified(&self, identity: &str) -> Result<Option<bool>, MailError> {
        let request = self.client.get_email_identity().email_identity(identity);
        match timed_call("ses", "GetEmailIdentity", request.send()).await {
            Ok(found) => Ok(Some(
                found.verified_for_sending_status()
                    || found
                        .verification_status()
                        .is_some_and(|s| s.as_str() == "SUCCESS"),
            )),
            Err(SdkError::ServiceError(err)) if err.err().code() == Some("NotFoundException") => {
                Ok(None)
            }
            Err(err) => Err(classify(err)),
        }
    }
}

#[async_trait]
impl Mailer for SesMailer {
    async fn sender_verified(&self) -> Result<bool, MailError> {
        if let Some(verified) = self.identity_verified(&self.from).await? {
            if verified {
                return Ok(true);
            }
        }
        match self.from.rsplit_once('@') {
            Some((_, domain)) => Ok(self.identity_verified(domain).await?.unwrap_or(false)),
            None => Ok(false),
        }
    }

    async fn account(&self) -> Result<MailAccount, MailError> {
        let account = timed_call("ses", "GetAccount", self.client.get_account().send())
            .await
            .map_err(classify)?;
        Ok(MailAccount {
            sending_enabled: account.sending_enabled(),
            production_access: account.production_access_enabled(),
            daily_quota: account.send_quota().map(|q| q.max24_hour_send()),
        })
    }

    #[tracing::instrument(skip_all)]
    async fn send(&self, email: Email) -> Result<String, MailError> {
        let message = Message::builder()
            .subject(content(email.subject)?)
            .body(
                Body::builder()
                    .text(content(email.text)?)
                    .html(content(email.html)?)
                    .build(),
            )
            .build();
        let request = self
            .client
            .send_email()
            .from_email_address(&self.from)
            .destination(
                Destination::builder()
                    .to_addresses(email.to.as_str())
                    .build(),
            )
            .content(EmailContent::builder().simple(message).build());
        timed_call("ses", "SendEmail", request.send())
            .await
            .map(|output| output.message_id().unwrap_or_default().to_owned())
            .map_err(classify)
    }
}
