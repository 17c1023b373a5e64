//! The identity-provider port the recovery rules use: the trait, and the values it speaks in
//! (a user, the factors they have, the pool's MFA mode). Its one real adapter is
//! `cognito::Cognito`; the rules never name it.

pub mod budget;
mod cognito;
pub mod memory;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

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
    /// The user's `locale` attribute (a language tag such as `de` or `es-MX`), if set.
    pub locale: Option<String>,
}

/// Where a new authenticator's enrollment stands at the identity provider, opaque to the
/// rules: they seal it with the enrollment token and hand it back for the next step. Never
/// logged, never handed out.
pub struct EnrollmentState(SecretString);

impl EnrollmentState {
    /// A state as it was sealed (`expose_for_sealing`).
    pub fn from_sealed(state: String) -> Self {
        Self(SecretString::from(state))
    }

    /// The state as text, to be sealed and nothing else.
    pub fn expose_for_sealing(&self) -> &str {
        self.0.expose_secret()
    }
}

/// A new authenticator offered to a user who just signed in with their password.
pub struct EnrollmentStart {
    /// The new authenticator's secret (base32), for the app.
    pub secret_code: SecretString,
    pub state: EnrollmentState,
}

/// The sign-in for an enrollment met the user's other MFA factor: a code was sent to it, and
/// the enrollment goes on once the user types it (`answer_sign_in_code`).
pub struct SignInCode {
    /// `Sms` or `Email`.
    pub factor: MfaFactor,
    /// Where the code went, masked as the provider says it (`+*******0100`, `j***@e***`).
    pub destination: String,
    pub state: EnrollmentState,
}

/// How the sign-in for an enrollment went on.
pub enum EnrollmentBegin {
    /// The new authenticator's association started.
    Started(EnrollmentStart),
    /// The user's other factor is asked for first.
    CodeSent(SignInCode),
}

/// What the identity provider said of the code sent to the user's other factor.
pub enum CodeAnswer {
    /// Signed in: the new authenticator's association started.
    Started(EnrollmentStart),
    /// Not the code sent; the same state takes another try.
    Mismatch,
}

/// What the identity provider said of a code from the new authenticator.
pub enum TotpCheck {
    /// The code matched: the state to finish the enrollment with.
    Verified(EnrollmentState),
    Mismatch,
}

/// The verified authenticator made the user's preferred factor, and the user read back.
pub struct EnrollmentFinish {
    /// The user as read back; `None` when the user is gone.
    pub user: Option<UserProfile>,
    /// The completed sign-in (the user's own access token): it lists and deletes the user's
    /// passkeys until the sessions are revoked.
    pub signed_in: EnrollmentState,
}

/// A passkey (WebAuthn credential) the user registered, as the provider lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Passkey {
    /// The provider's credential id (not a secret: it names the passkey).
    pub id: String,
    /// The name the user or their device gave it.
    pub name: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// `platform` (built into a phone or computer), `cross-platform` (a security key), or
    /// unknown.
    pub attachment: Option<String>,
}

/// A factor removed, and the user read back afterwards.
#[derive(Debug, Clone)]
pub struct Removal {
    /// What was done, step by step, in the provider's words (for the audit detail).
    pub done: String,
    /// The user as read back after the removal; `None` when the user is gone.
    pub after: Option<UserProfile>,
}

/// The user's remembered devices forgotten, and read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DevicesForgotten {
    /// How many were listed, and forgotten.
    pub forgotten: usize,
    /// How many are still listed afterwards (none, when it worked).
    pub left: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordCheck {
    Correct,
    Wrong,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenRemoval {
    Removed,
    /// The provider cannot delete an authenticator where the service calls it (such as a
    /// region without the operation): only the MFA preference can be turned off.
    Unsupported(String),
    /// The provider refused it; the read-back decides whether the reset happened anyway.
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
    /// The configured secret compared (in constant time) with the app client's: `None` when
    /// either is missing (or the provider does not show its secret).
    pub secret_matches: Option<bool>,
    /// Minutes a sign-in session (such as `MFA_SETUP`'s) stays valid; Cognito's default is 3.
    pub auth_session_validity_minutes: Option<i32>,
}

/// Why the identity provider did not do what it was asked. `operation` names the provider's
/// own step, for logs and audit details.
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

/// The identity provider, in the recovery's verbs. Every verb that changes something is safe to
/// repeat (a reset retried after an outage completes what an earlier run started), and every
/// removal reads its result back: the rules never report what was not read back.
#[async_trait]
pub trait IdentityProvider: Send + Sync + 'static {
    // Who the user is.

    /// The user the name or alias designates, or `None` when the pool has no such user (or
    /// could not hold one by that name).
    async fn find_user(&self, username: &str) -> Result<Option<UserProfile>, IdpError>;
    /// The Cognito usernames of the users whose `email` attribute is `email`, at most `limit`
    /// (for the support desk, which finds people by email whether or not the pool takes it as
    /// an alias).
    async fn find_by_email(
        &self,
        email: &EmailAddress,
        limit: usize,
    ) -> Result<Vec<String>, IdpError>;
    /// How many devices the user has remembered (read only).
    async fn remembered_devices(&self, username: &str) -> Result<usize, IdpError>;
    /// Whether the password is the user's, checked on behalf of `client` (its address and user
    /// agent go to the provider, so that its threat protection sees the real client).
    async fn check_password(
        &self,
        username: &str,
        password: &SecretString,
        client: &ClientInfo,
    ) -> Result<PasswordCheck, IdpError>;

    // The reset.

    /// Removes the user's authenticator app (TOTP) and its preference, and reads the user back.
    /// A refusal of one step is said in `done`; the read-back decides.
    async fn remove_authenticator(&self, username: &str) -> Result<Removal, IdpError>;
    /// Turns SMS MFA off and reads the user back; where the pool keeps it on whatever the
    /// preference says (a pool that requires MFA), the phone number goes too. A refusal is an
    /// error (`IdpError::Refused`, naming the step).
    async fn remove_sms_mfa(&self, username: &str) -> Result<Removal, IdpError>;
    /// Every way the user can still sign in or pass MFA, read from the provider.
    async fn remaining_factors(&self, username: &str) -> Result<AuthFactors, IdpError>;
    /// Forgets every remembered device (they skip MFA, and the lost phone may be one) and reads
    /// back how many are left.
    async fn forget_devices(&self, username: &str) -> Result<DevicesForgotten, IdpError>;
    /// Revokes every session of the user (every refresh token).
    async fn revoke_sessions(&self, username: &str) -> Result<(), IdpError>;

    // A new authenticator.

    /// Signs in with the password to enrol a new authenticator, and starts its association, or
    /// stops at the user's other MFA factor (SMS or email), whose code was sent: `None` when the
    /// provider asks for anything else (a new password) or refuses the password.
    async fn begin_enrollment(
        &self,
        username: &str,
        password: &SecretString,
        client: &ClientInfo,
    ) -> Result<Option<EnrollmentBegin>, IdpError>;
    /// Answers the other factor's challenge with the code the user received, and starts the
    /// new authenticator's association.
    async fn answer_sign_in_code(
        &self,
        username: &str,
        state: &EnrollmentState,
        code: &str,
    ) -> Result<CodeAnswer, IdpError>;
    /// Checks a code from the new authenticator.
    async fn check_enrollment_code(
        &self,
        state: &EnrollmentState,
        code: &str,
    ) -> Result<TotpCheck, IdpError>;
    /// Makes the verified authenticator the user's preferred factor (completing the sign-in),
    /// and reads the user back. Sessions are left to `revoke_sessions`, once the user's passkeys
    /// were seen to with the sign-in.
    async fn finish_enrollment(
        &self,
        username: &str,
        state: &EnrollmentState,
    ) -> Result<EnrollmentFinish, IdpError>;
    /// The user's passkeys, every page, with the signed-in state of `finish_enrollment`.
    async fn list_passkeys(&self, signed_in: &EnrollmentState) -> Result<Vec<Passkey>, IdpError>;
    /// Deletes one of the user's passkeys with the signed-in state; one already gone is not an
    /// error. The caller reads the list back.
    async fn delete_passkey(&self, signed_in: &EnrollmentState, id: &str) -> Result<(), IdpError>;

    // What the pool offers (capabilities), for the start and the preflight.

    /// The pool's MFA mode and the factors it offers.
    async fn mfa_config(&self) -> Result<PoolMfa, IdpError>;
    /// How names are compared and whether devices are remembered.
    async fn pool_description(&self) -> Result<PoolDescription, IdpError>;
    /// The app client the service signs in with, for the preflight (`None` without one).
    async fn app_client(&self) -> Result<Option<AppClient>, IdpError>;
    /// Whether an authenticator can be deleted where the service calls the provider, asked
    /// for a name no user can have (nothing changes).
    async fn authenticator_removal(&self) -> Result<TokenRemoval, IdpError>;
}
