//! Who can be recovered: decided once, here, for the public request's job and for the support
//! desk alike.

use super::RecoveryService;
use crate::domain::{EmailAddress, RecoveryFactors};
use crate::idp::{IdpError, UserProfile};

/// Why a name gets no code. Auditors see it; the public requester never does (the support
/// desk, being authenticated, is told).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Ineligible {
    #[error("unknown user")]
    UnknownUser,
    #[error("user disabled")]
    Disabled,
    /// None of the factors the service recovers (`RECOVERY_FACTORS`): nothing to recover.
    #[error("{}", .0.missing())]
    NothingToRecover(RecoveryFactors),
    #[error("no verified email")]
    NoVerifiedEmail,
}

/// A user who may receive a recovery code, and where it goes.
#[derive(Debug, Clone)]
pub struct Eligible {
    /// The user's Cognito username (the account whatever alias was typed).
    pub username: String,
    /// Where the code goes.
    pub email: EmailAddress,
    /// The user's `locale` attribute: the code email's language when the request named none.
    pub locale: Option<String>,
}

/// The one rule: an enabled user with a verified email and a factor the service recovers (a
/// TOTP authenticator; SMS MFA too when `RECOVERY_FACTORS` lists `sms`). The factors are
/// AdminGetUser's `UserMFASettingList`, the same list AdminGetUserAuthFactors returns, so the
/// lookup takes one call.
pub fn eligibility(
    user: Option<UserProfile>,
    factors: RecoveryFactors,
) -> Result<Eligible, Ineligible> {
    let user = user.ok_or(Ineligible::UnknownUser)?;
    if !user.enabled {
        return Err(Ineligible::Disabled);
    }
    if !(factors.totp && user.totp_enabled || factors.sms && user.sms_enabled) {
        return Err(Ineligible::NothingToRecover(factors));
    }
    let email = user.verified_email.ok_or(Ineligible::NoVerifiedEmail)?;
    Ok(Eligible {
        username: user.username,
        email,
        locale: user.locale,
    })
}

impl RecoveryService {
    /// The user a typed name designates, or `None` when the pool has no such user. A refusal
    /// (no such pool, no permission) is the operator's to fix: never taken for an unknown user,
    /// and the service is not ready until the pool can be read again.
    pub(super) async fn lookup(&self, username: &str) -> Result<Option<UserProfile>, IdpError> {
        let user = self.idp.find_user(username).await;
        if let Err(err @ IdpError::Refused { .. }) = &user {
            self.readiness.pool_refused(err);
        }
        user
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> UserProfile {
        UserProfile {
            username: "jane".into(),
            enabled: true,
            verified_email: Some(EmailAddress::parse("jane@example.com").unwrap()),
            totp_enabled: true,
            totp_preferred: true,
            sms_enabled: false,
            verified_phone: None,
            locale: None,
        }
    }

    const TOTP: RecoveryFactors = RecoveryFactors {
        totp: true,
        sms: false,
    };
    const BOTH: RecoveryFactors = RecoveryFactors {
        totp: true,
        sms: true,
    };

    #[test]
    fn an_enabled_user_with_totp_and_a_verified_email_is_eligible() {
        let eligible = eligibility(Some(user()), TOTP).unwrap();
        assert_eq!(eligible.email.as_str(), "jane@example.com");
    }

    #[test]
    fn each_missing_condition_is_named() {
        assert_eq!(
            eligibility(None, TOTP).unwrap_err(),
            Ineligible::UnknownUser
        );
        let disabled = UserProfile {
            enabled: false,
            ..user()
        };
        assert_eq!(
            eligibility(Some(disabled), TOTP).unwrap_err(),
            Ineligible::Disabled
        );
        let no_totp = UserProfile {
            totp_enabled: false,
            ..user()
        };
        assert_eq!(
            eligibility(Some(no_totp), TOTP).unwrap_err(),
            Ineligible::NothingToRecover(TOTP)
        );
        assert_eq!(
            Ineligible::NothingToRecover(TOTP).to_string(),
            "no TOTP authenticator"
        );
        let no_email = UserProfile {
            verified_email: None,
            ..user()
        };
        assert_eq!(
            eligibility(Some(no_email), TOTP).unwrap_err(),
            Ineligible::NoVerifiedEmail
        );
    }

    #[test]
    fn sms_mfa_counts_only_when_the_operator_recovers_it() {
        let sms_only = UserProfile {
            totp_enabled: false,
            totp_preferred: false,
            sms_enabled: true,
            ..user()
        };
        assert_eq!(
            eligibility(Some(sms_only.clone()), TOTP).unwrap_err(),
            Ineligible::NothingToRecover(TOTP)
        );
        assert!(eligibility(Some(sms_only), BOTH).is_ok());
        let neither = UserProfile {
            totp_enabled: false,
            ..user()
        };
        assert_eq!(
            eligibility(Some(neither), BOTH).unwrap_err().to_string(),
            "neither a TOTP authenticator nor SMS MFA"
        );
        // TOTP alone is still recovered with `totp,sms`.
        assert!(eligibility(Some(user()), BOTH).is_ok());
    }
}
