//! The pages' state between two requests: a private cookie (encrypted and authenticated with a
//! key derived from the pepper, HttpOnly, SameSite=Strict; outside `local` Secure and named
//! `__Host-`, so that no subdomain can set or shadow it) holding the CSRF synchronizer token, when
//! the session began, the enrollment in progress and the outcome last shown. It lives
//! `SESSION_MINUTES` (the cookie's Max-Age, and checked against the time it holds). Nothing of it
//! ever appears in a URL.

use actix_web::cookie::{Cookie, CookieJar, Key, SameSite};
use actix_web::HttpRequest;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use std::sync::Arc;

use crate::clock::{Clock, SystemClock};
use crate::domain::random_token;

/// The pages' cookie: `__Host-mfa_recovery` over HTTPS (bound to this host and path `/`), and
/// `mfa_recovery` for `/recover` in a `local` run over plain HTTP, which browsers refuse
/// `__Host-` for.
const COOKIE: &str = "mfa_recovery";
const LOCAL_PATH: &str = "/recover";
/// How long a page session lives, from its first page.
pub const SESSION_MINUTES: i64 = 30;

/// How the pages' cookie is protected.
#[derive(Clone)]
pub struct CookieConfig {
    key: Key,
    secure: bool,
    clock: Arc<dyn Clock>,
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
            clock: Arc::new(SystemClock),
        }
    }

    /// Sessions begin and end by `clock` (tests move it).
    #[must_use]
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        Self { clock, ..self }
    }

    /// The cookie's name: `__Host-<base>` over HTTPS, `<base>` in a `local` run.
    fn named(&self, base: &str) -> String {
        if self.secure {
            format!("__Host-{base}")
        } else {
            base.to_owned()
        }
    }

    fn now(&self) -> i64 {
        self.clock.now().timestamp()
    }

    /// The service's clock, in Unix seconds (what sealed cookies measure their age with).
    pub fn now_seconds(&self) -> i64 {
        self.now()
    }

    /// A cookie named after `base` holding `value`, encrypted and authenticated with this key:
    /// HttpOnly, for `max_age_seconds`; over HTTPS `Secure`, host-only and for path `/`, in a
    /// `local` run for `local_path`.
    pub fn seal(
        &self,
        base: &str,
        local_path: &'static str,
        value: String,
        max_age_seconds: i64,
        same_site: SameSite,
    ) -> Cookie<'static> {
        let name = self.named(base);
        let mut jar = CookieJar::new();
        jar.private_mut(&self.key).add(
            Cookie::build(name.clone(), value)
                .path(if self.secure { "/" } else { local_path })
                .http_only(true)
                .secure(self.secure)
                .same_site(same_site)
                .max_age(actix_web::cookie::time::Duration::seconds(
                    max_age_seconds.max(0),
                ))
                .finish(),
        );
        jar.get(&name).expect("just added").clone().into_owned()
    }

    /// The value of the request's cookie named after `base`, when this key sealed it.
    pub fn open(&self, req: &HttpRequest, base: &str) -> Option<String> {
        let name = self.named(base);
        let mut jar = CookieJar::new();
        jar.add_original(req.cookie(&name)?);
        Some(jar.private(&self.key).get(&name)?.value().to_owned())
    }

    /// A cookie that removes the one named after `base`.
    pub fn removal(&self, base: &str, local_path: &'static str) -> Cookie<'static> {
        self.seal(base, local_path, String::new(), 0, SameSite::Lax)
    }
}

/// What the last successful step showed, for the page a redirect lands on (Post/Redirect/Get:
/// a refresh shows it again, and posts nothing).
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    Removed,
    Scheduled,
    /// The new authenticator was verified (shown at once; `/recover/done` shows it again, as
    /// the switch between languages does).
    Enrolled,
}

#[derive(Serialize, Deserialize, Clone)]
pub struct PendingEnrollment {
    pub token: String,
    pub secret_code: String,
    pub otpauth_uri: String,
    pub expires_at: String,
    /// The sign-in waits for the code sent to the user's other factor (no secret yet).
    #[serde(default)]
    pub code_sent: Option<CodeSent>,
}

/// Where the sign-in sent the code of the user's other factor.
#[derive(Serialize, Deserialize, Clone)]
pub struct CodeSent {
    /// Sent by text message (else by email).
    pub by_text: bool,
    /// The masked number or address.
    pub destination: String,
}

#[derive(Serialize, Deserialize, Clone)]
pub struct PageSession {
    pub csrf: String,
    /// When the session began (Unix seconds, the service's clock).
    issued_at: i64,
    pub enrollment: Option<PendingEnrollment>,
    #[serde(default)]
    pub done: Option<Done>,
    /// The enrollment token while the user sees to their passkeys (their sign-in is kept until
    /// they finish, or its time runs out).
    #[serde(default)]
    pub passkeys: Option<String>,
}

impl PageSession {
    pub fn new(config: &CookieConfig) -> Self {
        Self {
            csrf: random_token().expose_secret().to_owned(),
            issued_at: config.now(),
            enrollment: None,
            done: None,
            passkeys: None,
        }
    }

    /// A new CSRF token, once a step succeeded: a form captured before it is refused.
    pub fn rotate_csrf(&mut self) {
        self.csrf = random_token().expose_secret().to_owned();
    }

    /// The request's session: `None` without one, for another key, or past its lifetime.
    pub fn load(req: &HttpRequest, config: &CookieConfig) -> Option<Self> {
        let session: Self = serde_json::from_str(&config.open(req, COOKIE)?).ok()?;
        let age = config.now() - session.issued_at;
        (0..SESSION_MINUTES * 60).contains(&age).then_some(session)
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
        let left = self.issued_at + SESSION_MINUTES * 60 - config.now();
        config.seal(COOKIE, LOCAL_PATH, value, left, SameSite::Strict)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A clock that moves only when told.
    struct Still(Mutex<chrono::DateTime<chrono::Utc>>);

    impl Still {
        fn advance(&self, by: std::time::Duration) {
            *self.0.lock().unwrap() += chrono::Duration::from_std(by).unwrap();
        }
    }

    impl Clock for Still {
        fn now(&self) -> chrono::DateTime<chrono::Utc> {
            *self.0.lock().unwrap()
        }
    }

    fn config(secure: bool) -> (CookieConfig, Arc<Still>) {
        let clock = Arc::new(Still(Mutex::new(chrono::Utc::now())));
        let config = CookieConfig::new(&SecretString::from("p".repeat(32)), secure)
            .with_clock(clock.clone());
        (config, clock)
    }

    #[test]
    fn over_https_the_cookie_is_host_only_secure_and_lives_thirty_minutes() {
        let (config, clock) = config(true);
        let session = PageSession::new(&config);
        let cookie = session.cookie(&config);
        assert_eq!(cookie.name(), "__Host-mfa_recovery");
        assert_eq!(cookie.path(), Some("/"));
        assert_eq!(cookie.domain(), None);
        assert_eq!(cookie.secure(), Some(true));
        assert_eq!(cookie.http_only(), Some(true));
        assert_eq!(cookie.same_site(), Some(SameSite::Strict));
        assert_eq!(
            cookie.max_age(),
            Some(actix_web::cookie::time::Duration::minutes(30))
        );
        // Written again later, it still ends when the session does.
        clock.advance(std::time::Duration::from_secs(10 * 60));
        assert_eq!(
            session.cookie(&config).max_age(),
            Some(actix_web::cookie::time::Duration::minutes(20))
        );

        let (local, _) = self::config(false);
        let cookie = PageSession::new(&local).cookie(&local);
        assert_eq!(
            (cookie.name(), cookie.path()),
            ("mfa_recovery", Some("/recover"))
        );
    }

    #[test]
    fn a_session_is_read_back_until_it_is_thirty_minutes_old() {
        let (config, clock) = config(true);
        let session = PageSession::new(&config);
        let cookie = session.cookie(&config);
        let request = || {
            actix_web::test::TestRequest::default()
                .cookie(cookie.clone())
                .to_http_request()
        };
        let csrf = session.csrf.clone();
        assert!(PageSession::verified(&request(), &config, &csrf).is_some());
        assert!(PageSession::verified(&request(), &config, "forged").is_none());
        clock.advance(std::time::Duration::from_secs(30 * 60 - 1));
        assert!(PageSession::verified(&request(), &config, &csrf).is_some());
        clock.advance(std::time::Duration::from_secs(1));
        assert!(PageSession::verified(&request(), &config, &csrf).is_none());
    }
}
