//! Settings of Cognito, SES and the AWS clients.

use super::*;

// ---------------------------------------------------------------------------------------------
// Cognito and SES

#[derive(Debug, Clone)]
pub struct CognitoSettings {
    pub user_pool_id: String,
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
    /// Cognito calls per second, of all instances together (`COGNITO_CALLS_PER_SECOND`).
    pub calls_per_second: u32,
}

#[derive(Deserialize)]
pub(super) struct RawCognito {
    cognito_user_pool_id: Option<String>,
    cognito_client_id: Option<String>,
    cognito_client_secret: Option<SecretString>,
    cognito_calls_per_second: u32,
}

impl TryFrom<RawCognito> for CognitoSettings {
    type Error = SettingsError;

    fn try_from(raw: RawCognito) -> Result<Self, SettingsError> {
        Ok(Self {
            user_pool_id: required(raw.cognito_user_pool_id, "COGNITO_USER_POOL_ID")?,
            client_id: raw.cognito_client_id,
            client_secret: raw.cognito_client_secret,
            calls_per_second: at_least(
                "COGNITO_CALLS_PER_SECOND",
                raw.cognito_calls_per_second,
                1,
            )?,
        })
    }
}

#[derive(Deserialize)]
pub(super) struct RawSes {
    ses_from_address: Option<String>,
}

pub(super) fn ses_from_address(raw: RawSes) -> Result<String, SettingsError> {
    let address = required(raw.ses_from_address, "SES_FROM_ADDRESS")?;
    if !address.contains('@') {
        return Err(invalid("SES_FROM_ADDRESS", "must be an email address"));
    }
    Ok(address)
}

// ---------------------------------------------------------------------------------------------
// AWS clients

#[derive(Debug, Clone)]
pub struct AwsSettings {
    /// Overrides the SDK's region chain when set (`AWS_REGION` is read by the SDK as well).
    pub region: Option<String>,
    /// Overrides the endpoint of every AWS service (emulators, VPC endpoints).
    pub endpoint_url: Option<String>,
    pub connect_timeout: Duration,
    pub attempt_timeout: Duration,
    pub operation_timeout: Duration,
    pub max_attempts: u32,
    /// How long `serve` keeps asking an unreachable or throttling Cognito for the pool's
    /// settings at start before it gives up and exits.
    pub startup_wait: Duration,
}

#[derive(Deserialize)]
pub(super) struct RawAws {
    aws_region: Option<String>,
    aws_endpoint_url: Option<String>,
    aws_connect_timeout_ms: u64,
    aws_attempt_timeout_ms: u64,
    aws_operation_timeout_ms: u64,
    aws_max_attempts: u32,
    aws_startup_wait_seconds: u64,
}

impl TryFrom<RawAws> for AwsSettings {
    type Error = SettingsError;

    fn try_from(raw: RawAws) -> Result<Self, SettingsError> {
        let millis = |name, value| at_least(name, value, 1).map(Duration::from_millis);
        Ok(Self {
            region: raw.aws_region,
            endpoint_url: raw.aws_endpoint_url,
            connect_timeout: millis("AWS_CONNECT_TIMEOUT_MS", raw.aws_connect_timeout_ms)?,
            attempt_timeout: millis("AWS_ATTEMPT_TIMEOUT_MS", raw.aws_attempt_timeout_ms)?,
            operation_timeout: millis("AWS_OPERATION_TIMEOUT_MS", raw.aws_operation_timeout_ms)?,
            max_attempts: at_least("AWS_MAX_ATTEMPTS", raw.aws_max_attempts, 1)?,
            startup_wait: Duration::from_secs(raw.aws_startup_wait_seconds),
        })
    }
}
