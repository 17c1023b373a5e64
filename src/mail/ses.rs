use async_trait::async_trait;
use aws_sdk_sesv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use aws_sdk_sesv2::Client;

use super::{Email, MailError, Mailer};
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

#[async_trait]
impl Mailer for SesMailer {
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
        let result = timed_call("ses", "SendEmail", request.send()).await;
        match result {
            Ok(output) => Ok(output.message_id().unwrap_or_default().to_owned()),
            Err(SdkError::ServiceError(err)) => {
                let code = err.err().code().unwrap_or("Unknown").to_owned();
                if matches!(
                    code.as_str(),
                    "TooManyRequestsException"
                        | "LimitExceededException"
                        | "InternalFailure"
                        | "ServiceUnavailable"
                ) {
                    Err(MailError::Unavailable(Box::new(err.into_err())))
                } else {
                    Err(MailError::Rejected(code))
                }
            }
            Err(other) => Err(MailError::Unavailable(Box::new(other))),
        }
    }
}
