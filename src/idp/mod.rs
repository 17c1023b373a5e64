//! The identity-provider port the recovery rules use: the trait, and the values it speaks in
//! (a user, the factors they have, the pool's MFA mode). Its one real adapter is
//! `cognito::Cognito`; the rules never name it.

mod cognito;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};

use crate::domain::{ClientInfo, EmailAddress};

pub use cognito::Cognito;

/// What the recovery rules need to know about a user.
#[derive(Debug, Clone)]
pub struct UserProfile {
    /// Cognito's own username (for pools that sign in with email, the `sub`-like name).
    pub username: String,
    pub enabled: bool,
    pub verified_email: Option<EmailAddress>,
    /// The user lists SOFTWARE_TOKEN_MFA: a TOTP authenticator is registered and enabled.
    pub totp_enabled: bool,
    /// SOFTWARE_TOKEN_MFA is the user's preferred MFA: sign-ins ask for its code.
    pub totp_preferred: bool,
    /// The user lists SMS_MFA: sign-ins may ask for a code sent by SMS.
    pub sms_enabled: bool,
    /// `phone_number`, when `phone_number_verified` is true (E.164, such as +14155550100).
    pub verified_phone: Option<String>,
}

/// What lets the service associate a new authenticator for a user who just signed in with
/// their password: the `Session` of an MFA_SETUP challenge (pools that require MFA), or the
/// access token of a completed sign-in (pools where MFA is optional). Never logged, never
/// handed out, stored only sealed.
pub enum EnrollmentCredential {
    Session(SecretString),
    AccessToken(SecretString),
}

impl EnrollmentCredential {
    fn session(&self) -> Option<String> {
        match self {
            Self::Session(s) => Some(s.expose_secret().to_owned()),
            Self::AccessToken(_) => None,
        }
    }

    /// The credential for the next step: Cognito answers a session-based step with a new
    /// `Session`; an access token stays valid.
    fn next(&self, session: Option<&str>) -> Self {
        match (self, session) {
            (Self::Session(_), Some(next)) => Self::Session(SecretString::from(next)),
            (Self::Session(s), None) => Self::Session(s.clone()),
            (Self::AccessToken(t), _) => Self::AccessToken(t.clone()),
        }
    }

    fn access_token(&self) -> Option<String> {
        match self {
            Self::AccessToken(t) => Some(t.expose_secret().to_owned()),
            Self::Session(_) => None,
        }
    }
}

/// A new authenticator's secret (base32), and the credential to verify it with.
pub struct Association {
    pub secret_code: SecretString,
    pub credential: EnrollmentCredential,
}

/// What VerifySoftwareToken said of a code.
pub enum TotpCheck {
    /// The code matched: the credential to finish with (a new `Session` in MFA_SETUP).
    Verified(EnrollmentCredential),
    Mismatch,
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

/// A second factor a user can have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MfaFactor {
    /// An authenticator app (TOTP).
    Totp,
    /// Codes by text message.
    Sms,
    /// Codes by email.
    Email,
    /// One the service does not know, by the provider's name.
    Other(String),
}

impl MfaFactor {
    /// The factor by the name the identity provider reports it under (for audit details).
    pub fn name(&self) -> &str {
        match self {
            Self::Totp => "SOFTWARE_TOKEN_MFA",
            Self::Sms => "SMS_MFA",
            Self::Email => "EMAIL_OTP",
            Self::Other(name) => name,
        }
    }

    pub fn from_name(name: &str) -> Self {
        [Self::Totp, Self::Sms, Self::Email]
            .into_iter()
            .find(|f| f.name() == name)
            .unwrap_or_else(|| Self::Other(name.to_owned()))
    }
}

/// A way a user can sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInFactor {
    Password,
    SmsCode,
    EmailCode,
    Passkey,
    /// One the service does not know, by the provider's name.
    Other(String),
}

impl SignInFactor {
    /// The factor by the name the identity provider reports it under (for audit details).
    pub fn name(&self) -> &str {
        match self {
            Self::Password => "PASSWORD",
            Self::SmsCode => "SMS_OTP",
            Self::EmailCode => "EMAIL_OTP",
            Self::Passkey => "WEB_AUTHN",
            Self::Other(name) => name,
        }
    }

    pub fn from_name(name: &str) -> Self {
        [
            Self::Password,
            Self::SmsCode,
            Self::EmailCode,
            Self::Passkey,
        ]
        .into_iter()
        .find(|f| f.name() == name)
        .unwrap_or_else(|| Self::Other(name.to_owned()))
    }
}

/// Every way the user can still sign in or pass MFA, as the provider reads it back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthFactors {
    pub mfa: Vec<MfaFactor>,
    pub sign_in: Vec<SignInFactor>,
}

impl AuthFactors {
    /// A passkey is registered; no admin API removes one.
    pub fn has_passkey(&self) -> bool {
        self.sign_in.contains(&SignInFactor::Passkey)
    }

    /// The user has `factor` as a second factor.
    pub fn has_mfa(&self, factor: &MfaFactor) -> bool {
        self.mfa.contains(factor)
    }
}

/// Whether the pool asks for a second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MfaMode {
    Off,
    Optional,
    Required,
}

/// Shown as the provider's console shows it (`OFF`, `OPTIONAL`, `ON`).
impl std::fmt::Display for MfaMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Off => "OFF",
            Self::Optional => "OPTIONAL",
            Self::Required => "ON",
        })
    }
}

/// What GetUserPoolMfaConfig says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolMfa {
    pub mode: MfaMode,
    /// `SoftwareTokenMfaConfiguration.Enabled`: the pool offers authenticator apps.
    pub software_tokens: bool,
    /// `SmsMfaConfiguration` is set: the pool offers codes by text message.
    pub sms: bool,
    /// `EmailMfaConfiguration` is set: the pool offers codes by email (Essentials and Plus).
    pub email: bool,
}

impl PoolMfa {
    /// The MFA factors the pool offers, for messages.
    pub fn factors(&self) -> Vec<&'static str> {
        [
            (self.software_tokens, "authenticator apps (TOTP)"),
            (self.sms, "SMS"),
            (self.email, "email"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect()
    }
}

/// What DescribeUserPool says that the service needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolDescription {
    /// `UsernameConfiguration.CaseSensitive` (Cognito's default, true, when the pool has
    /// none): whether `Alice` and `alice` are two users.
    pub case_sensitive: bool,
    /// `DeviceConfiguration`: whether devices can be remembered (and so skip MFA).
    pub device_remembering: DeviceRemembering,
    /// `UserPoolTier`, the feature plan, when Cognito says it.
    pub tier: Option<PoolTier>,
}

/// The pool's feature plan: passkeys and email MFA need Essentials or Plus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolTier {
    Lite,
    Essentials,
    Plus,
}

/// Whether the pool lets devices be remembered, so that they skip MFA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceRemembering {
    Off,
    /// The user chooses, device by device.
    UserOptIn,
    /// Every device that signs in is remembered.
    Always,
}

/// What the preflight reads of the app client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppClient {
    pub explicit_auth_flows: Vec<String>,
    pub has_secret: bool,
    /// Minutes a sign-in session (such as `MFA_SETUP`'s) stays valid; Cognito's default is 3.
    pub auth_session_validity_minutes: Option<i32>,
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
    /// AdminInitiateAuth with the password, on behalf of `client` (its address and user agent
    /// go to Cognito as ContextData, so that its threat protection sees the real client).
    async fn check_password(
        &self,
        username: &str,
        password: &SecretString,
        client: &ClientInfo,
    ) -> Result<PasswordCheck, IdpError>;
    /// AdminDeleteSoftwareToken: the TOTP registration goes, and its preference with it.
    async fn delete_software_token(&self, username: &str) -> Result<TokenRemoval, IdpError>;
    /// AdminSetUserMFAPreference with only the software-token settings, both false.
    async fn disable_totp_preference(&self, username: &str) -> Result<(), IdpError>;
    /// AdminSetUserMFAPreference with only the SMS settings, both false. In a pool that
    /// requires MFA, Cognito answers 200 and keeps SMS MFA on.
    async fn disable_sms_mfa(&self, username: &str) -> Result<(), IdpError>;
    /// AdminDeleteUserAttributes `phone_number`: SMS codes have nowhere to go.
    async fn remove_phone_number(&self, username: &str) -> Result<(), IdpError>;
    /// AdminUserGlobalSignOut: every refresh token of the user is revoked.
    async fn sign_out_everywhere(&self, username: &str) -> Result<(), IdpError>;
    /// AdminGetUserAuthFactors: every way the user can still sign in or pass MFA.
    async fn auth_factors(&self, username: &str) -> Result<AuthFactors, IdpError>;
    /// AdminListDevices, every page: the keys of the user's remembered devices.
    async fn list_devices(&self, username: &str) -> Result<Vec<String>, IdpError>;
    /// AdminForgetDevice: the device no longer skips MFA (`Ok` too when it was already gone).
    async fn forget_device(&self, username: &str, device_key: &str) -> Result<(), IdpError>;
    /// GetUserPoolMfaConfig: the pool's MFA mode and whether it offers authenticator apps.
    async fn mfa_config(&self) -> Result<PoolMfa, IdpError>;
    /// DescribeUserPool: how names are compared and whether devices are remembered.
    async fn pool_description(&self) -> Result<PoolDescription, IdpError>;
    /// DescribeUserPoolClient of `COGNITO_CLIENT_ID`, for the preflight (`None` without one).
    async fn app_client(&self) -> Result<Option<AppClient>, IdpError>;
    /// Signs in with the password (ADMIN_USER_PASSWORD_AUTH) to enrol a new authenticator:
    /// the MFA_SETUP session or the access token; `None` when Cognito asks for anything else
    /// (another factor, a new password) or refuses the password.
    async fn sign_in_to_enrol(
        &self,
        username: &str,
        password: &SecretString,
        client: &ClientInfo,
    ) -> Result<Option<EnrollmentCredential>, IdpError>;
    /// AssociateSoftwareToken: a fresh secret for a new authenticator.
    async fn associate_software_token(
        &self,
        credential: &EnrollmentCredential,
    ) -> Result<Association, IdpError>;
    /// VerifySoftwareToken with a code from the new authenticator.
    async fn verify_software_token(
        &self,
        credential: &EnrollmentCredential,
        code: &str,
    ) -> Result<TotpCheck, IdpError>;
    /// AdminRespondToAuthChallenge(MFA_SETUP) with the verified session; the tokens it returns
    /// are dropped.
    async fn complete_mfa_setup(
        &self,
        username: &str,
        session: &SecretString,
    ) -> Result<(), IdpError>;
    /// AdminSetUserMFAPreference: TOTP enabled and preferred.
    async fn prefer_totp(&self, username: &str) -> Result<(), IdpError>;
}
