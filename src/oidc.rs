//! The company's OpenID Connect provider, for staff sign-in (the adapter of
//! `staff::sign_in::StaffSignIn`): the authorization code flow with PKCE, state and nonce; the
//! ID token verified against the issuer's published keys, its audience, expiry and nonce. What
//! it says about the person is handed to the console, which decides.

use std::sync::Arc;

use base64::Engine;
use chrono::{DateTime, Utc};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreResponseType,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::RwLock;

use async_trait::async_trait;

use crate::clock::Clock;
use crate::settings::OidcSettings;
use crate::staff::sign_in::{Asserted, ProviderError, SignInFlow, StaffSignIn};
use crate::telemetry::error_chain;

/// The provider's discovery document and keys are read again after this long (key rotation).
const METADATA_MINUTES: i64 = 10;

/// The provider, as `doctor` sees it.
#[derive(Debug, Clone)]
pub struct ProviderDescription {
    pub issuer: String,
    /// It offers the authorization code flow.
    pub authorization_code: bool,
    /// Signing keys it publishes.
    pub keys: usize,
    /// A Cognito user pool (no `amr` in its ID tokens).
    pub cognito: bool,
}

pub struct OidcProvider {
    settings: OidcSettings,
    http: openidconnect::reqwest::Client,
    metadata: RwLock<Option<(CoreProviderMetadata, DateTime<Utc>)>>,
    clock: Arc<dyn Clock>,
}

impl OidcProvider {
    pub fn new(settings: OidcSettings, clock: Arc<dyn Clock>) -> Result<Self, ProviderError> {
        let http = openidconnect::reqwest::ClientBuilder::new()
            // Following redirects would open the client to SSRF.
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| ProviderError::Unavailable(e.to_string()))?;
        Ok(Self {
            settings,
            http,
            metadata: RwLock::new(None),
            clock,
        })
    }

    /// The provider's discovery document with its keys, read at most every few minutes.
    async fn metadata(&self) -> Result<CoreProviderMetadata, ProviderError> {
        let now = self.clock.now();
        if let Some((metadata, at)) = self.metadata.read().await.as_ref() {
            if now - *at < chrono::Duration::minutes(METADATA_MINUTES) {
                return Ok(metadata.clone());
            }
        }
        let issuer = IssuerUrl::new(self.settings.issuer.clone())
            .map_err(|e| ProviderError::Unavailable(format!("STAFF_OIDC_ISSUER: {e}")))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| ProviderError::Unavailable(error_chain(&e)))?;
        *self.metadata.write().await = Some((metadata.clone(), now));
        Ok(metadata)
    }

    /// What the doctor checks: the provider answers its discovery document for exactly this
    /// issuer, with its keys, and offers the authorization code flow; whether it is Cognito
    /// (whose ID tokens carry no `amr`).
    pub async fn describe(&self) -> Result<ProviderDescription, ProviderError> {
        let metadata = self.metadata().await?;
        let code = metadata
            .response_types_supported()
            .iter()
            .any(|t| t.contains(&CoreResponseType::Code));
        Ok(ProviderDescription {
            issuer: metadata.issuer().as_str().to_owned(),
            authorization_code: code,
            keys: metadata.jwks().keys().len(),
            cognito: self.settings.issuer.contains("://cognito-idp."),
        })
    }

    fn client(
        &self,
        metadata: CoreProviderMetadata,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        ProviderError,
    > {
        let redirect = RedirectUrl::new(self.settings.redirect_url.clone())
            .map_err(|e| ProviderError::Unavailable(format!("the staff redirect URL: {e}")))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            self.settings
                .client_secret
                .as_ref()
                .map(|s| ClientSecret::new(s.expose_secret().to_owned())),
        )
        .set_redirect_uri(redirect))
    }
}

#[async_trait]
impl StaffSignIn for OidcProvider {
    async fn begin(&self) -> Result<(String, SignInFlow), ProviderError> {
        let client = self.client(self.metadata().await?)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".to_owned()))
            .add_scope(Scope::new("profile".to_owned()))
            .set_pkce_challenge(challenge);
        if self.settings.roles_claim == "groups" {
            request = request.add_scope(Scope::new("groups".to_owned()));
        }
        let (url, state, nonce) = request.url();
        Ok((
            url.to_string(),
            SignInFlow {
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                verifier: verifier.secret().clone(),
            },
        ))
    }

    /// Exchanges the callback's code (PKCE) and verifies the ID token it brings.
    async fn finish(
        &self,
        flow: SignInFlow,
        code: SecretString,
    ) -> Result<Asserted, ProviderError> {
        let client = self.client(self.metadata().await?)?;
        let response = client
            .exchange_code(AuthorizationCode::new(code.expose_secret().to_owned()))
            .map_err(|e| ProviderError::Unavailable(format!("no token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(flow.verifier))
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                openidconnect::RequestTokenError::ServerResponse(r) => {
                    ProviderError::Invalid(format!("the provider refused the code: {r:?}"))
                }
                other => ProviderError::Unavailable(error_chain(&other)),
            })?;
        let id_token = response
            .id_token()
            .ok_or_else(|| ProviderError::Invalid("no ID token in the answer".to_owned()))?;
        let verifier = client.id_token_verifier();
        let claims = id_token
            .claims(&verifier, &Nonce::new(flow.nonce))
            .map_err(|e| ProviderError::Invalid(e.to_string()))?;
        // The roles claim is the provider's own (`groups`, `cognito:groups`): read from the
        // payload of the token whose signature was just verified.
        let groups = custom_claim(&id_token.to_string(), &self.settings.roles_claim);
        Ok(Asserted {
            issuer: claims.issuer().as_str().to_owned(),
            subject: claims.subject().as_str().to_owned(),
            email: claims.email().map(|e| e.as_str().to_owned()),
            preferred_username: claims.preferred_username().map(|u| u.as_str().to_owned()),
            name: claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str().to_owned()),
            amr: claims
                .auth_method_refs()
                .map(|amr| amr.iter().map(|a| a.as_str().to_owned()).collect())
                .unwrap_or_default(),
            groups,
        })
    }
}

/// The string values of `claim` in a JWT's payload (a list, or one string).
fn custom_claim(jwt: &str, claim: &str) -> Vec<String> {
    let payload = jwt
        .split('.')
        .nth(1)
        .and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .ok()
        })
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok());
    match payload.as_ref().and_then(|p| p.get(claim)) {
        Some(serde_json::Value::Array(values)) => values
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Some(serde_json::Value::String(value)) => vec![value.clone()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_roles_claim_is_read_as_a_list_or_one_string() {
        let jwt = |payload: &str| {
            format!(
                "e30.{}.sig",
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload)
            )
        };
        assert_eq!(
            custom_claim(&jwt(r#"{"groups":["a","b",3]}"#), "groups"),
            ["a", "b"]
        );
        assert_eq!(
            custom_claim(&jwt(r#"{"cognito:groups":"a"}"#), "cognito:groups"),
            ["a"]
        );
        assert!(custom_claim(&jwt(r#"{"other":["a"]}"#), "groups").is_empty());
        assert!(custom_claim("not a jwt", "groups").is_empty());
    }
}
