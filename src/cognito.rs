//! The identity-provider port the recovery rules use, and its one implementation: Cognito.

use async_trait::async_trait;
use aws_sdk_cognitoidentityprovider::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cognitoidentityprovider::types::{AuthFlowType, SoftwareTokenMfaSettingsType};
use aws_sdk_cognitoidentityprovider::Client;
use base64::Engine;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use crate::domain::EmailAddress;
use crate::settings::CognitoSettings;
use crate::telemetry::timed_call;

/// What the recovery rules need to know about a user.
#[derive(Debug, Clone)]
pub struct UserProfile {
    /// Cognito's own username (for pools that sign in with email, the `sub`-like name).
    pub username: String,
    pub enabled: bool,
    pub verified_email: Option<EmailAddress>,
    /// The user lists SOFTWARE_TOKEN_MFA: a TOTP authenticator is registered and enabled.
    pub totp_enabled: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordCheck {
    Correct,
    Wrong,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenRemoval {
    Removed,
    /// AdminDeleteSoftwareToken does not exist where we called it (older region or endpoint).
    Unsupported(String),
    /// Cognito refused it; the read-back decides whether the reset happened anyway.
    Refused(String),
}

#[derive(Debug, thiserror::Error)]
pub enum IdpError {
    #[error("Cognito could not be reached for {operation}")]
    Unavailable {
        operation: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("Cognito refused {operation}: {code}")]
    Refused {
        operation: &'static str,
        code: String,
    },
}

#[async_trait]
pub trait IdentityProvider: Send + Sync + 'static {
    /// The user the name or alias designates, or `None` when the pool has no such user.
    async fn find_user(&self, username: &str) -> Result<Option<UserProfile>, IdpError>;
    async fn check_password(
        &self,
        username: &str,
        password: &SecretString,
    ) -> Result<PasswordCheck, IdpError>;
    /// AdminDeleteSoftwareToken: the TOTP registration goes, and its preference with it.
    async fn delete_software_token(&self, username: &str) -> Result<TokenRemoval, IdpError>;
    /// AdminSetUserMFAPreference with only the software-token settings, both false.
    async fn disable_totp_preference(&self, username: &str) -> Result<(), IdpError>;
    /// AdminUserGlobalSignOut: every refresh token of the user is revoked.
    async fn sign_out_everywhere(&self, username: &str) -> Result<(), IdpError>;
    /// The pool's MFA configuration (`OFF`, `OPTIONAL` or `ON`).
    async fn mfa_configuration(&self) -> Result<String, IdpError>;
}

pub struct Cognito {
    client: Client,
    settings: CognitoSettings,
}

impl Cognito {
    pub fn new(client: Client, settings: CognitoSettings) -> Self {
        Self { client, settings }
    }

    /// SECRET_HASH = Base64(HMAC-SHA256(client secret, username + client id)), as Cognito
    /// requires for app clients that have a secret.
    fn secret_hash(&self, username: &str) -> Option<String> {
        let secret = self.settings.client_secret.as_ref()?;
        let client_id = self.settings.client_id.as_deref()?;
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
            .expect("HMAC accepts keys of any length");
        mac.update(username.as_bytes());
        mac.update(client_id.as_bytes());
        Some(base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()))
    }
}

/// Throttling, Cognito's internal errors, 5xx and every failure to get an answer at all are
/// "unavailable": the caller may retry later and nothing was decided.
fn classify<E, R>(operation: &'static str, err: SdkError<E, R>) -> IdpError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    if let SdkError::ServiceError(service) = &err {
        let code = service.err().code().unwrap_or("Unknown").to_owned();
        let transient = matches!(
            code.as_str(),
            "TooManyRequestsException"
                | "ThrottlingException"
                | "InternalErrorException"
                | "ServiceUnavailable"
                | "LimitExceededException"
        );
        if !transient {
            return IdpError::Refused { operation, code };
        }
    }
    IdpError::Unavailable {
        operation,
        source: Box::new(err),
    }
}

fn refused_code(err: &IdpError) -> Option<&str> {
    match err {
        IdpError::Refused { code, .. } => Some(code),
        IdpError::Unavailable { .. } => None,
    }
}

#[async_trait]
impl IdentityProvider for Cognito {
    #[tracing::instrument(skip(self))]
    async fn find_user(&self, username: &str) -> Result<Option<UserProfile>, IdpError> {
        let result = timed_call(
            "cognito",
            "AdminGetUser",
            self.client
                .admin_get_user()
                .user_pool_id(&self.settings.user_pool_id)
                .username(username)
                .send(),
        )
        .await;
        let user = match result {
            Ok(user) => user,
            Err(err) => {
                let err = classify("AdminGetUser", err);
                return match refused_code(&err) {
                    Some("UserNotFoundException") => Ok(None),
                    _ => Err(err),
                };
            }
        };
        let attribute = |name: &str| {
            user.user_attributes()
                .iter()
                .find(|a| a.name() == name)
                .and_then(|a| a.value())
        };
        let verified_email = match (attribute("email"), attribute("email_verified")) {
            (Some(email), Some("true")) => EmailAddress::parse(email).ok(),
            _ => None,
        };
        Ok(Some(UserProfile {
            username: user.username().to_owned(),
            enabled: user.enabled(),
            verified_email,
            totp_enabled: user
                .user_mfa_setting_list()
                .iter()
                .any(|m| m == "SOFTWARE_TOKEN_MFA"),
        }))
    }

    #[tracing::instrument(skip(self, password))]
    async fn check_password(
        &self,
        username: &str,
        password: &SecretString,
    ) -> Result<PasswordCheck, IdpError> {
        let client_id = self
            .settings
            .client_id
            .as_deref()
            .ok_or(IdpError::Refused {
                operation: "AdminInitiateAuth",
                code: "NoAppClientConfigured".to_owned(),
            })?;
        let mut request = self
            .client
            .admin_initiate_auth()
            .user_pool_id(&self.settings.user_pool_id)
            .client_id(client_id)
            .auth_flow(AuthFlowType::AdminUserPasswordAuth)
            .auth_parameters("USERNAME", username)
            .auth_parameters("PASSWORD", password.expose_secret());
        if let Some(hash) = self.secret_hash(username) {
            request = request.auth_parameters("SECRET_HASH", hash);
        }
        match timed_call("cognito", "AdminInitiateAuth", request.send()).await {
            // A challenge (SOFTWARE_TOKEN_MFA, MFA_SETUP, ...) or tokens: the password is right.
            Ok(_) => Ok(PasswordCheck::Correct),
            Err(err) => {
                let err = classify("AdminInitiateAuth", err);
                match refused_code(&err) {
                    Some(
                        "NotAuthorizedException"
                        | "UserNotFoundException"
                        | "PasswordResetRequiredException"
                        | "UserNotConfirmedException",
                    ) => Ok(PasswordCheck::Wrong),
                    _ => Err(err),
                }
            }
        }
    }

    #[tracing::instrument(skip(self))]
    async fn delete_software_token(&self, username: &str) -> Result<TokenRemoval, IdpError> {
        let result = timed_call(
            "cognito",
            "AdminDeleteSoftwareToken",
            self.client
                .admin_delete_software_token()
                .user_pool_id(&self.settings.user_pool_id)
                .username(username)
                .send(),
        )
        .await;
        match result {
            Ok(_) => Ok(TokenRemoval::Removed),
            Err(err) => match classify("AdminDeleteSoftwareToken", err) {
                IdpError::Refused { code, .. }
                    if matches!(code.as_str(), "UnknownOperationException" | "InvalidAction") =>
                {
                    Ok(TokenRemoval::Unsupported(code))
                }
                IdpError::Refused { code, .. } => Ok(TokenRemoval::Refused(code)),
                unavailable => Err(unavailable),
            },
        }
    }

    #[tracing::instrument(skip(self))]
    async fn disable_totp_preference(&self, username: &str) -> Result<(), IdpError> {
        timed_call(
            "cognito",
            "AdminSetUserMFAPreference",
            self.client
                .admin_set_user_mfa_preference()
                .user_pool_id(&self.settings.user_pool_id)
                .username(username)
                .software_token_mfa_settings(
                    SoftwareTokenMfaSettingsType::builder()
                        .enabled(false)
                        .preferred_mfa(false)
                        .build(),
                )
                .send(),
        )
        .await
        .map_err(|e| classify("AdminSetUserMFAPreference", e))?;
        Ok(())
    }

    #[tracing::instrument(skip(self))]
    async fn sign_out_everywhere(&self, username: &str) -> Result<(), IdpError> {
        timed_call(
            "cognito",
            "AdminUserGlobalSignOut",
            self.client
                .admin_user_global_sign_out()
                .user_pool_id(&self.settings.user_pool_id)
                .username(username)
                .send(),
        )
        .await
        .map_err(|e| classify("AdminUserGlobalSignOut", e))?;
        Ok(())
    }

    async fn mfa_configuration(&self) -> Result<String, IdpError> {
        let config = timed_call(
            "cognito",
            "GetUserPoolMfaConfig",
            self.client
                .get_user_pool_mfa_config()
                .user_pool_id(&self.settings.user_pool_id)
                .send(),
        )
        .await
        .map_err(|e| classify("GetUserPoolMfaConfig", e))?;
        Ok(config
            .mfa_configuration()
            .map_or_else(|| "OFF".to_owned(), |m| m.as_str().to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_hash_matches_the_cognito_documentation_algorithm() {
        // Reference value computed independently (Python hmac module):
        // base64(hmac_sha256(key="secret", msg="alice" + "client123"))
        let settings = CognitoSettings {
            user_pool_id: "pool".into(),
            client_id: Some("client123".into()),
            client_secret: Some(SecretString::from("secret")),
        };
        let client = Client::from_conf(
            aws_sdk_cognitoidentityprovider::Config::builder()
                .behavior_version(aws_config::BehaviorVersion::latest())
                .region(aws_config::Region::new("us-east-1"))
                .build(),
        );
        let cognito = Cognito::new(client, settings);
        assert_eq!(
            cognito.secret_hash("alice").as_deref(),
            Some("oKHO337pkuh1r3zUNCZ1oCL3YgM0Yi2nkcAZsKQTIH8=")
        );
    }
}
