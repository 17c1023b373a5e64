use async_trait::async_trait;
use aws_sdk_sns::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sns::types::MessageAttributeValue;
use aws_sdk_sns::Client;

use super::{TextError, Texter};
use crate::aws;
use crate::telemetry::timed_call;

pub struct SnsTexter {
    client: Client,
}

impl SnsTexter {
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

/// SNS's codes for throttling and its own faults: try again.
const TRANSIENT: &[&str] = &[
    "Throttling",
    "ThrottledException",
    "InternalError",
    "InternalFailure",
];

/// An SNS error as a `TextError`: a refusal, named by its code, or unavailable (try again).
fn classify<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static, R>(
    err: SdkError<E, R>,
) -> TextError
where
    R: std::fmt::Debug + Send + Sync + 'static,
{
    aws::refusal(err, TRANSIENT).map_or_else(TextError::Unavailable, TextError::Rejected)
}

#[async_trait]
impl Texter for SnsTexter {
    #[tracing::instrument(skip_all)]
    async fn send_text(&self, phone: &str, text: &str) -> Result<String, TextError> {
        // A notice about the account's security: sent as transactional (highest delivery
        // priority), not promotional.
        let kind = MessageAttributeValue::builder()
            .data_type("String")
            .string_value("Transactional")
            .build()
            .map_err(|e| TextError::Rejected(e.to_string()))?;
        let request = self
            .client
            .publish()
            .phone_number(phone)
            .message(text)
            .message_attributes("AWS.SNS.SMS.SMSType", kind);
        timed_call("sns", "Publish", request.send())
            .await
            .map(|output| output.message_id().unwrap_or_default().to_owned())
            .map_err(classify)
    }

    async fn sandboxed(&self) -> Result<bool, TextError> {
        timed_call(
            "sns",
            "GetSMSSandboxAccountStatus",
            self.client.get_sms_sandbox_account_status().send(),
        )
        .await
        .map(|status| status.is_in_sandbox())
        .map_err(classify)
    }
}
