//! The company's OpenID Connect provider, for staff sign-in (the adapter of
//! `staff::sign_in::StaffSignIn`): the authorization code flow with PKCE, state and nonce; the
//! ID token verified against the issuer's published keys, its audience, expiry and nonce. What
//! it says about the person is handed to the console, which decides.

use std::sync::Arc;

use base64::Engine;
use chrono::{DateTime, Utc};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreResponseType, CoreTokenResponse,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, NonceVerifier,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, Scope,
    TokenResponse,
};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::RwLock;

use async_trait::async_trait;

use crate::clock::Clock;
use crate::settings::OidcSettings;
use crate::staff::sign_in::{Answer, Asserted, ProviderError, SignInFlow, StaffSignIn};
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

/// The client the provider's discovery document makes: authorization endpoint set, token and
/// user-info endpoints as published.
type Client = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

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

    fn client(&self, metadata: CoreProviderMetadata) -> Result<Client, ProviderError> {
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
        let metadata = self.metadata().await?;
        let client = self.client(metadata.clone())?;
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
        if offers_offline_access(&metadata) {
            request = request.add_scope(Scope::new("offline_access".to_owned()));
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
    async fn finish(&self, flow: SignInFlow, code: SecretString) -> Result<Answer, ProviderError> {
        let client = self.client(self.metadata().await?)?;
        let response = client
            .exchange_code(AuthorizationCode::new(code.expose_secret().to_owned()))
            .map_err(|e| ProviderError::Unavailable(format!("no token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(flow.verifier))
            .request_async(&self.http)
            .await
            .map_err(|e| refused_or_unavailable("the code", e))?;
        self.verified(&client, &response, &Nonce::new(flow.nonce))
    }

    /// Redeems the refresh token for a new ID token, verified as at sign-in (an ID token from a
    /// refresh carries no nonce: none is asked).
    async fn refresh(&self, refresh_token: &SecretString) -> Result<Answer, ProviderError> {
        let client = self.client(self.metadata().await?)?;
        let response = client
            .exchange_refresh_token(&RefreshToken::new(refresh_token.expose_secret().to_owned()))
            .map_err(|e| ProviderError::Unavailable(format!("no token endpoint: {e}")))?
            .request_async(&self.http)
            .await
            .map_err(|e| refused_or_unavailable("the refresh token", e))?;
        self.verified(&client, &response, |_: Option<&Nonce>| Ok(()))
    }
}

impl OidcProvider {
    /// The ID token of the provider's `response`, verified (signature by the published keys,
    /// issuer, audience, expiry, `nonce`), and what it says.
    fn verified(
        &self,
        client: &Client,
        response: &CoreTokenResponse,
        nonce: impl NonceVerifier,
    ) -> Result<Answer, ProviderError> {
        let id_token = response
            .id_token()
            .ok_or_else(|| ProviderError::Invalid("no ID token in the answer".to_owned()))?;
        let verifier = client.id_token_verifier();
        let claims = id_token
            .claims(&verifier, nonce)
            .map_err(|e| ProviderError::Invalid(e.to_string()))?;
        // The roles claim is the provider's own (`groups`, `cognito:groups`): read from the
        // payload of the token whose signature was just verified.
        let groups = custom_claim(&id_token.to_string(), &self.settings.roles_claim);
        Ok(Answer {
            asserted: Asserted {
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
            },
            refresh_token: response
                .refresh_token()
                .map(|t| SecretString::from(t.secret().clone())),
            expires_at: claims.expiration(),
        })
    }
}

/// A token request's failure: the provider's refusal (`invalid_grant` and the like) is
/// `Invalid`; anything else (no answer, not OAuth) is `Unavailable`.
fn refused_or_unavailable<E: std::error::Error + 'static>(
    what: &str,
    e: openidconnect::RequestTokenError<
        E,
        openidconnect::StandardErrorResponse<openidconnect::core::CoreErrorResponseType>,
    >,
) -> ProviderError {
    match e {
        openidconnect::RequestTokenError::ServerResponse(r) => {
            ProviderError::Invalid(format!("the provider refused {what}: {}", r.error()))
        }
        other => ProviderError::Unavailable(error_chain(&other)),
    }
}

/// Whether the provider lists `offline_access` (Okta, Entra ID, Keycloak): asked for, so that it
/// issues a refresh token. Cognito issues one without it and refuses scopes it does not know.
fn offers_offline_access(metadata: &CoreProviderMetadata) -> bool {
    metadata
        .scopes_supported()
        .is_some_and(|scopes| scopes.iter().any(|s| s.as_str() == "offline_access"))
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

    fn discovery(scopes: Option<&[&str]>) -> CoreProviderMetadata {
        let mut doc = serde_json::json!({
            "issuer": "https://id.example.com",
            "authorization_endpoint": "https://id.example.com/auth",
            "token_endpoint": "https://id.example.com/token",
            "jwks_uri": "https://id.example.com/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        });
        if let Some(scopes) = scopes {
            doc["scopes_supported"] = serde_json::json!(scopes);
        }
        serde_json::from_value(doc).unwrap()
    }

    #[test]
    fn offline_access_is_asked_only_of_a_provider_that_lists_it() {
        assert!(offers_offline_access(&discovery(Some(&[
            "openid",
            "offline_access"
        ]))));
        // Cognito lists openid, email, phone, profile and refuses scopes it does not know.
        assert!(!offers_offline_access(&discovery(Some(&[
            "openid", "email", "phone", "profile"
        ]))));
        assert!(!offers_offline_access(&discovery(None)));
    }

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
