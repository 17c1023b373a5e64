//! An identity provider held in memory, with the semantics the service relies on from Cognito
//! (as AWS documents them and as the emulator-backed tests pin them): in a pool that requires
//! MFA, turning a preference off changes nothing, so only deleting the authenticator removes it
//! and SMS MFA goes only with the phone number; in an optional pool the preference turns the
//! factor off; a sign-in with another MFA factor on is asked for that factor. For fast tests of
//! the recovery rules (no emulator, no network); the service itself never uses it.
//!
//! Faults are set per verb: `unavailable_once` (the next call cannot reach the provider) and
//! `refuse` (every call is refused with a code, as a missing permission would be).

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};

use super::*;
use crate::domain::ClientInfo;

/// A user as the in-memory provider holds them.
#[derive(Debug, Clone, Default)]
pub struct MemoryUser {
    pub password: String,
    pub email: Option<String>,
    pub enabled: bool,
    /// An authenticator app is registered, and whether it is the preferred factor.
    pub totp: bool,
    pub totp_preferred: bool,
    /// SMS MFA is on; it is listed only while there is a phone number to text.
    pub sms: bool,
    pub phone: Option<String>,
    /// Registered passkeys; a live sign-in (`sessions`) lists and deletes them.
    pub passkeys: Vec<Passkey>,
    /// The keys of the remembered devices.
    pub devices: Vec<String>,
    /// Live sessions (refresh tokens).
    pub sessions: u32,
    /// The secret of an authenticator being enrolled, until it is verified.
    pub enrolling: Option<String>,
    /// The code texted for the SMS MFA challenge of a sign-in, until it is answered.
    pub texted_code: Option<String>,
}

impl MemoryUser {
    /// An enabled user with a verified email, the password, and an authenticator app.
    pub fn with_authenticator(password: &str, email: &str) -> Self {
        Self {
            password: password.to_owned(),
            email: Some(email.to_owned()),
            enabled: true,
            totp: true,
            totp_preferred: true,
            sessions: 1,
            ..Self::default()
        }
    }

    fn sms_listed(&self) -> bool {
        self.sms && self.phone.is_some()
    }

    fn profile(&self, username: &str) -> UserProfile {
        UserProfile {
            username: username.to_owned(),
            enabled: self.enabled,
            verified_email: self
                .email
                .as_deref()
                .and_then(|e| EmailAddress::parse(e).ok()),
            totp_enabled: self.totp,
            totp_preferred: self.totp && self.totp_preferred,
            sms_enabled: self.sms_listed(),
            verified_phone: self.phone.clone(),
            locale: None,
        }
    }
}

#[derive(Debug, Clone)]
enum Fault {
    UnavailableOnce,
    Refused(String),
}

struct State {
    mode: MfaMode,
    /// Whether an authenticator can be deleted (Cognito: AdminDeleteSoftwareToken exists).
    token_deletion: bool,
    users: BTreeMap<String, MemoryUser>,
    faults: BTreeMap<&'static str, Fault>,
    /// Every verb called, in order.
    calls: Vec<&'static str>,
}

pub struct MemoryIdp {
    state: Mutex<State>,
}

/// The verbs, by the names faults and the call log use.
pub mod verbs {
    pub const FIND_USER: &str = "find_user";
    pub const FIND_BY_EMAIL: &str = "find_by_email";
    pub const REMEMBERED_DEVICES: &str = "remembered_devices";
    pub const CHECK_PASSWORD: &str = "check_password";
    pub const REMOVE_AUTHENTICATOR: &str = "remove_authenticator";
    pub const REMOVE_SMS: &str = "remove_sms_mfa";
    pub const REMAINING_FACTORS: &str = "remaining_factors";
    pub const FORGET_DEVICES: &str = "forget_devices";
    pub const REVOKE_SESSIONS: &str = "revoke_sessions";
    pub const BEGIN_ENROLLMENT: &str = "begin_enrollment";
    pub const CHECK_ENROLLMENT_CODE: &str = "check_enrollment_code";
    pub const FINISH_ENROLLMENT: &str = "finish_enrollment";
    pub const ANSWER_SIGN_IN_CODE: &str = "answer_sign_in_code";
    pub const LIST_PASSKEYS: &str = "list_passkeys";
    pub const DELETE_PASSKEY: &str = "delete_passkey";
}
use verbs::*;

impl MemoryIdp {
    /// A pool in `mode`, where authenticators can be deleted, without users.
    pub fn new(mode: MfaMode) -> Self {
        Self {
            state: Mutex::new(State {
                mode,
                token_deletion: true,
                users: BTreeMap::new(),
                faults: BTreeMap::new(),
                calls: Vec::new(),
            }),
        }
    }

    /// As a region or endpoint where an authenticator cannot be deleted (only the preference
    /// can be turned off).
    #[must_use]
    pub fn without_token_deletion(self) -> Self {
        self.state().token_deletion = false;
        self
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("not poisoned")
    }

    pub fn add_user(&self, username: &str, user: MemoryUser) {
        self.state().users.insert(username.to_owned(), user);
    }

    /// The user as held now.
    pub fn user(&self, username: &str) -> Option<MemoryUser> {
        self.state().users.get(username).cloned()
    }

    /// The next call of `verb` cannot reach the provider.
    pub fn unavailable_once(&self, verb: &'static str) {
        self.state().faults.insert(verb, Fault::UnavailableOnce);
    }

    /// Every call of `verb` is refused with `code`, until `heal`.
    pub fn refuse(&self, verb: &'static str, code: &str) {
        self.state()
            .faults
            .insert(verb, Fault::Refused(code.to_owned()));
    }

    pub fn heal(&self, verb: &'static str) {
        self.state().faults.remove(verb);
    }

    /// The verbs called so far, in order.
    pub fn calls(&self) -> Vec<&'static str> {
        self.state().calls.clone()
    }

    /// The code the new authenticator app shows for `secret` (a stand-in for TOTP: six digits
    /// that only this secret gives).
    /// A new authenticator's association for a signed-in user.
    fn associate(user: &mut MemoryUser, username: &str) -> EnrollmentStart {
        let secret = crate::domain::random_token().expose_secret().to_owned();
        user.enrolling = Some(secret.clone());
        EnrollmentStart {
            secret_code: SecretString::from(secret),
            state: EnrollmentState::from_sealed(username.to_owned()),
        }
    }

    /// The texted code of the user's SMS MFA challenge, as the person reads it on their phone.
    pub fn texted_code(&self, username: &str) -> Option<String> {
        let state = self.state.lock().expect("the memory provider's lock");
        state
            .users
            .get(username)
            .and_then(|u| u.texted_code.clone())
    }

    pub fn code_for(secret: &str) -> String {
        let n = secret.bytes().fold(7u64, |acc, b| {
            acc.wrapping_mul(31).wrapping_add(u64::from(b))
        });
        format!("{:06}", n % 1_000_000)
    }

    /// The user a signed-in state belongs to, while their sessions live (Cognito refuses a
    /// revoked access token).
    fn signed_in<'s>(
        state: &'s State,
        signed_in: &EnrollmentState,
        verb: &'static str,
    ) -> Result<&'s MemoryUser, IdpError> {
        state
            .users
            .get(signed_in.expose_for_sealing())
            .filter(|u| u.sessions > 0)
            .ok_or_else(|| refused(verb, "NotAuthorizedException"))
    }

    /// Records the call and answers with the verb's fault, if it has one.
    fn enter(&self, verb: &'static str) -> Result<std::sync::MutexGuard<'_, State>, IdpError> {
        let mut state = self.state();
        state.calls.push(verb);
        match state.faults.get(verb).cloned() {
            None => Ok(state),
            Some(Fault::UnavailableOnce) => {
                state.faults.remove(verb);
                Err(IdpError::Unavailable {
                    operation: verb,
                    source: "the in-memory provider was told to be unreachable".into(),
                })
            }
            Some(Fault::Refused(code)) => Err(IdpError::Refused {
                operation: verb,
                code,
            }),
        }
    }
}

fn refused(operation: &'static str, code: &str) -> IdpError {
    IdpError::Refused {
        operation,
        code: code.to_owned(),
    }
}

#[async_trait]
impl IdentityProvider for MemoryIdp {
    async fn find_user(&self, username: &str) -> Result<Option<UserProfile>, IdpError> {
        let state = self.enter(FIND_USER)?;
        Ok(state.users.get(username).map(|u| u.profile(username)))
    }

    async fn find_by_email(
        &self,
        email: &EmailAddress,
        limit: usize,
    ) -> Result<Vec<String>, IdpError> {
        let state = self.enter(FIND_BY_EMAIL)?;
        Ok(state
            .users
            .iter()
            .filter(|(_, u)| u.email.as_deref() == Some(email.as_str()))
            .map(|(name, _)| name.clone())
            .take(limit)
            .collect())
    }

    async fn remembered_devices(&self, username: &str) -> Result<usize, IdpError> {
        let state = self.enter(REMEMBERED_DEVICES)?;
        Ok(state.users.get(username).map_or(0, |u| u.devices.len()))
    }

    async fn check_password(
        &self,
        username: &str,
        password: &SecretString,
        _client: &ClientInfo,
    ) -> Result<PasswordCheck, IdpError> {
        let state = self.enter(CHECK_PASSWORD)?;
        Ok(match state.users.get(username) {
            Some(u) if u.enabled && u.password == password.expose_secret() => {
                PasswordCheck::Correct
            }
            _ => PasswordCheck::Wrong,
        })
    }

    async fn remove_authenticator(&self, username: &str) -> Result<Removal, IdpError> {
        let mut state = self.enter(REMOVE_AUTHENTICATOR)?;
        let (deletion, required) = (state.token_deletion, state.mode == MfaMode::Required);
        let Some(user) = state.users.get_mut(username) else {
            return Ok(Removal {
                done: "no such user".to_owned(),
                after: None,
            });
        };
        let removal = if deletion {
            user.totp = false;
            user.totp_preferred = false;
            "authenticator deleted"
        } else {
            "authenticator deletion not available"
        };
        // A pool that requires MFA ignores the preference; an optional one turns TOTP off.
        if !required {
            user.totp = false;
            user.totp_preferred = false;
        }
        Ok(Removal {
            done: format!("{removal}; preference cleared"),
            after: Some(user.profile(username)),
        })
    }

    async fn remove_sms_mfa(&self, username: &str) -> Result<Removal, IdpError> {
        let mut state = self.enter(REMOVE_SMS)?;
        let required = state.mode == MfaMode::Required;
        let user = state
            .users
            .get_mut(username)
            .ok_or_else(|| refused(REMOVE_SMS, "UserNotFoundException"))?;
        let done = if required {
            user.phone = None;
            "SMS MFA kept on by the pool: phone number removed"
        } else {
            user.sms = false;
            "SMS MFA turned off"
        };
        Ok(Removal {
            done: done.to_owned(),
            after: Some(user.profile(username)),
        })
    }

    async fn remaining_factors(&self, username: &str) -> Result<AuthFactors, IdpError> {
        let state = self.enter(REMAINING_FACTORS)?;
        let user = state
            .users
            .get(username)
            .ok_or_else(|| refused(REMAINING_FACTORS, "UserNotFoundException"))?;
        let mut factors = AuthFactors {
            mfa: Vec::new(),
            sign_in: vec![SignInFactor::Password],
        };
        if user.totp {
            factors.mfa.push(MfaFactor::Totp);
        }
        if user.sms_listed() {
            factors.mfa.push(MfaFactor::Sms);
        }
        if !user.passkeys.is_empty() {
            factors.sign_in.push(SignInFactor::Passkey);
        }
        Ok(factors)
    }

    async fn forget_devices(&self, username: &str) -> Result<DevicesForgotten, IdpError> {
        let mut state = self.enter(FORGET_DEVICES)?;
        let user = state
            .users
            .get_mut(username)
            .ok_or_else(|| refused(FORGET_DEVICES, "UserNotFoundException"))?;
        let forgotten = std::mem::take(&mut user.devices).len();
        Ok(DevicesForgotten { forgotten, left: 0 })
    }

    async fn revoke_sessions(&self, username: &str) -> Result<(), IdpError> {
        let mut state = self.enter(REVOKE_SESSIONS)?;
        let user = state
            .users
            .get_mut(username)
            .ok_or_else(|| refused(REVOKE_SESSIONS, "UserNotFoundException"))?;
        user.sessions = 0;
        Ok(())
    }

    async fn begin_enrollment(
        &self,
        username: &str,
        password: &SecretString,
        _client: &ClientInfo,
    ) -> Result<Option<EnrollmentBegin>, IdpError> {
        let mut state = self.enter(BEGIN_ENROLLMENT)?;
        let required = state.mode == MfaMode::Required;
        let Some(user) = state.users.get_mut(username) else {
            return Ok(None);
        };
        // A wrong password, or an authenticator still there: no enrollment.
        if !user.enabled || user.password != password.expose_secret() || user.totp {
            return Ok(None);
        }
        // The other factor is asked for first: a code goes to the phone.
        if user.sms_listed() {
            let code = Self::code_for(crate::domain::random_token().expose_secret());
            user.texted_code = Some(code);
            let phone = user.phone.clone().unwrap_or_default();
            return Ok(Some(EnrollmentBegin::CodeSent(SignInCode {
                factor: MfaFactor::Sms,
                destination: format!("+*******{}", &phone[phone.len().saturating_sub(4)..]),
                state: EnrollmentState::from_sealed(username.to_owned()),
            })));
        }
        if !required {
            user.sessions += 1; // an optional pool signs the user in
        }
        Ok(Some(EnrollmentBegin::Started(Self::associate(
            user, username,
        ))))
    }

    async fn answer_sign_in_code(
        &self,
        username: &str,
        _enrollment: &EnrollmentState,
        code: &str,
    ) -> Result<CodeAnswer, IdpError> {
        let mut state = self.enter(ANSWER_SIGN_IN_CODE)?;
        let user = state
            .users
            .get_mut(username)
            .ok_or_else(|| refused(ANSWER_SIGN_IN_CODE, "NotAuthorizedException"))?;
        if user.texted_code.as_deref() != Some(code) {
            return Ok(CodeAnswer::Mismatch);
        }
        user.texted_code = None;
        user.sessions += 1; // the sign-in completed
        Ok(CodeAnswer::Started(Self::associate(user, username)))
    }

    async fn check_enrollment_code(
        &self,
        enrollment: &EnrollmentState,
        code: &str,
    ) -> Result<TotpCheck, IdpError> {
        let state = self.enter(CHECK_ENROLLMENT_CODE)?;
        let username = enrollment.expose_for_sealing();
        let secret = state
            .users
            .get(username)
            .and_then(|u| u.enrolling.clone())
            .ok_or_else(|| refused(CHECK_ENROLLMENT_CODE, "NotAuthorizedException"))?;
        Ok(if Self::code_for(&secret) == code {
            TotpCheck::Verified(EnrollmentState::from_sealed(username.to_owned()))
        } else {
            TotpCheck::Mismatch
        })
    }

    async fn finish_enrollment(
        &self,
        username: &str,
        _enrollment: &EnrollmentState,
    ) -> Result<EnrollmentFinish, IdpError> {
        let mut state = self.enter(FINISH_ENROLLMENT)?;
        let signed_in = EnrollmentState::from_sealed(username.to_owned());
        let Some(user) = state.users.get_mut(username) else {
            return Ok(EnrollmentFinish {
                user: None,
                signed_in,
            });
        };
        if user.enrolling.take().is_some() {
            user.totp = true;
            user.totp_preferred = true;
            user.sessions += 1; // the sign-in completed
        }
        Ok(EnrollmentFinish {
            user: Some(user.profile(username)),
            signed_in,
        })
    }

    async fn list_passkeys(&self, signed_in: &EnrollmentState) -> Result<Vec<Passkey>, IdpError> {
        let state = self.enter(LIST_PASSKEYS)?;
        Ok(Self::signed_in(&state, signed_in, LIST_PASSKEYS)?
            .passkeys
            .clone())
    }

    async fn delete_passkey(&self, signed_in: &EnrollmentState, id: &str) -> Result<(), IdpError> {
        let mut state = self.enter(DELETE_PASSKEY)?;
        Self::signed_in(&state, signed_in, DELETE_PASSKEY)?;
        let username = signed_in.expose_for_sealing();
        if let Some(user) = state.users.get_mut(username) {
            user.passkeys.retain(|p| p.id != id);
        }
        Ok(())
    }

    async fn mfa_config(&self) -> Result<PoolMfa, IdpError> {
        Ok(PoolMfa {
            mode: self.state().mode,
            software_tokens: true,
            sms: true,
            email: false,
        })
    }

    async fn pool_description(&self) -> Result<PoolDescription, IdpError> {
        Ok(PoolDescription {
            case_sensitive: false,
            device_remembering: DeviceRemembering::Always,
            tier: Some(PoolTier::Essentials),
        })
    }

    async fn app_client(&self) -> Result<Option<AppClient>, IdpError> {
        Ok(None)
    }

    async fn authenticator_removal(&self) -> Result<TokenRemoval, IdpError> {
        Ok(if self.state().token_deletion {
            TokenRemoval::Removed
        } else {
            TokenRemoval::Unsupported("not available".to_owned())
        })
    }
}
