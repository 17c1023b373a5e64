//! The pages' state between two requests: a private cookie (encrypted and authenticated with a
//! key derived from the pepper, HttpOnly, SameSite=Strict, Secure outside `local`) holding the
//! CSRF synchronizer token, the name typed, and the enrollment in progress. Nothing of it ever
//! appears in a URL.

use actix_web::cookie::{Cookie, CookieJar, Key, SameSite};
use actix_web::HttpRequest;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::domain::random_token;

const COOKIE: &str = "mfa_recovery";
const PATH: &str = "/recover";

/// How the pages' cookie is protected.
#[derive(Clone)]
pub struct CookieConfig {
    key: Key,
    secure: bool,
}

impl CookieConfig {
    /// The key is HMAC-SHA256(pepper, purpose), expanded by the cookie crate: a secret of its
    /// own, without another setting to manage.
    pub fn new(pepper: &SecretString, secure: bool) -> Self {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(pepper.expose_secret().as_bytes())
            .expect("HMAC accepts keys of any length");
        mac.update(b"mfa-recovery page cookies v1");
        Self {
            key: Key::derive_from(&mac.finalize().into_bytes()),
            secure,
        }
    }
}

#[derive(Serialize, Deserialize, Clone)]
pub struct PendingEnrollment {
    pub token: String,
    pub secret_code: String,
    pub otpauth_uri: String,
    pub expires_at: String,
}

#[derive(Serialize, Deserialize, Clone)]
pub struct PageSession {
    pub csrf: String,
    pub enrollment: Option<PendingEnrollment>,
}

impl PageSession {
    pub fn new() -> Self {
        Self {
            csrf: random_token().expose_secret().to_owned(),
            enrollment: None,
        }
    }

    fn load(req: &HttpRequest, config: &CookieConfig) -> Option<Self> {
        let mut jar = CookieJar::new();
        jar.add_original(req.cookie(COOKIE)?);
        let cookie = jar.private(&config.key).get(COOKIE)?;
        serde_json::from_str(cookie.value()).ok()
    }

    /// The session of a form post whose CSRF token matches the cookie's (compared in constant
    /// time); `None` for a forged or stale form.
    pub fn verified(req: &HttpRequest, config: &CookieConfig, csrf: &str) -> Option<Self> {
        let session = Self::load(req, config)?;
        let matches: bool = session.csrf.as_bytes().ct_eq(csrf.as_bytes()).into();
        matches.then_some(session)
    }

    /// The cookie that carries this session.
    pub fn cookie(&self, config: &CookieConfig) -> Cookie<'static> {
        let value = serde_json::to_string(self).expect("strings serialise");
        let mut jar = CookieJar::new();
        jar.private_mut(&config.key).add(
            Cookie::build(COOKIE, value)
                .path(PATH)
                .http_only(true)
                .secure(config.secure)
                .same_site(SameSite::Strict)
                .finish(),
        );
        jar.get(COOKIE).expect("just added").clone().into_owned()
    }
}
