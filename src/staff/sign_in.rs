//! The port to the company's identity provider that staff sign in with: start a sign-in, and
//! finish it from the provider's answer with what it verifiably says about the person. The one
//! adapter is `crate::oidc` (OpenID Connect); the console decides what the answer allows.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The provider could not be reached, or answered what is not OpenID Connect.
    #[error("the sign-in provider is unavailable: {0}")]
    Unavailable(String),
    /// The provider's answer does not prove who signed in (bad signature, audience, nonce,
    /// expiry, a refused code).
    #[error("the sign-in could not be verified: {0}")]
    Invalid(String),
}

/// What one sign-in carries from its start to the provider's answer: kept sealed in the
/// browser, so that nothing is stored for a sign-in that is never finished. `state` is what the
/// answer must bring back; the rest stays secret.
#[derive(Serialize, Deserialize)]
pub struct SignInFlow {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
}

/// What the provider verifiably said about the person who signed in.
#[derive(Debug, Clone)]
pub struct Asserted {
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    pub preferred_username: Option<String>,
    pub name: Option<String>,
    /// How they signed in (RFC 8176 `amr`).
    pub amr: Vec<String>,
    /// The values of the roles claim (`STAFF_OIDC_ROLES_CLAIM`).
    pub groups: Vec<String>,
}

/// A verified answer of the provider: what it says about the person now, and how the console
/// can ask again.
#[derive(Debug)]
pub struct Answer {
    pub asserted: Asserted,
    /// A refresh token, with which the console reads the person's groups again at their next
    /// request (on a refresh: a new one when the provider rotates them, else `None`).
    pub refresh_token: Option<SecretString>,
    /// When the ID token expires: what it says may be relied on until then.
    pub expires_at: DateTime<Utc>,
}

#[async_trait]
pub trait StaffSignIn: Send + Sync {
    /// Where to send the browser to sign in, and what its answer must match.
    async fn begin(&self) -> Result<(String, SignInFlow), ProviderError>;

    /// The provider's answer (`code`) for the sign-in `flow`, verified.
    async fn finish(&self, flow: SignInFlow, code: SecretString) -> Result<Answer, ProviderError>;

    /// What the provider says about the person now, asked with the `refresh_token` of their
    /// sign-in: `Invalid` when it refuses (the person was disabled or removed, the token
    /// revoked), `Unavailable` when it cannot be asked.
    async fn refresh(&self, refresh_token: &SecretString) -> Result<Answer, ProviderError>;
}
