//! What a reset does at the identity provider, in two halves that the reset records between:
//! the factors removed and read back (`remove_factors`), then what is left read back, the
//! remembered devices forgotten and every session revoked (`read_back_and_sign_out`). Every
//! step is safe to repeat, so a reset retried after an outage completes what an earlier run
//! started. No database here: the rules are tested against the in-memory identity provider.

use super::reset::ResetError;
use crate::idp::{AuthFactors, IdentityProvider, IdpError, MfaFactor, Removal};

/// What became of the user's remembered devices (which skip MFA, and may include the lost
/// phone) in a reset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Devices {
    /// This many were forgotten, and none is listed any more.
    Forgotten(usize),
    /// The provider refused to list or forget them (such as a missing permission): the reset is
    /// still recorded, and says so.
    NotChecked(String),
}

/// The first half done: the authenticator removed and read back, and SMS MFA with it when the
/// operator recovers it and the user had it.
#[derive(Debug, Clone)]
pub(super) struct FactorsRemoved {
    /// What removing the authenticator did.
    authenticator: String,
    /// What removing SMS MFA did, when this run removed it (the reset records that at once).
    pub sms: Option<String>,
}

/// What a reset did at the identity provider, every part of it read back.
#[derive(Debug, Clone)]
pub(super) struct Applied {
    /// For the `mfa.reset` event: each step and what is left.
    pub detail: String,
    pub devices: Devices,
    /// SMS MFA was on and is off now (and, in a pool that requires MFA, its number removed):
    /// the notice asks for a new number.
    pub sms_removed: bool,
}

/// The user as a removal read them back; gone is not a reset.
fn read_back(removal: &Removal) -> Result<&crate::idp::UserProfile, ResetError> {
    removal
        .after
        .as_ref()
        .ok_or_else(|| ResetError::NotApplied("the user no longer exists in the pool".to_owned()))
}

/// Removes the authenticator and reads it back; then SMS MFA, when `recover_sms` (the operator
/// recovers it) and the read-back shows it on (an earlier run may have removed it already).
pub(super) async fn remove_factors(
    idp: &dyn IdentityProvider,
    account: &str,
    recover_sms: bool,
) -> Result<FactorsRemoved, ResetError> {
    let totp = MfaFactor::Totp.name();
    let removal = idp
        .remove_authenticator(account)
        .await
        .map_err(ResetError::Unavailable)?;
    let user = read_back(&removal)?;
    if user.totp_enabled {
        return Err(ResetError::NotApplied(format!(
            "{totp} is still listed after the reset ({}); a pool that requires MFA keeps TOTP \
             unless the token itself is deleted",
            removal.done
        )));
    }
    let sms = if recover_sms && user.sms_enabled {
        let sms = match idp.remove_sms_mfa(account).await {
            Ok(sms) => sms,
            Err(IdpError::Refused { operation, code }) => {
                return Err(ResetError::NotApplied(format!(
                    "SMS MFA not removed: {operation} refused ({code})"
                )))
            }
            Err(err) => return Err(ResetError::Unavailable(err)),
        };
        if read_back(&sms)?.sms_enabled {
            return Err(ResetError::NotApplied(format!(
                "{} is still listed after the reset ({})",
                MfaFactor::Sms.name(),
                sms.done
            )));
        }
        Some(sms.done)
    } else {
        None
    };
    Ok(FactorsRemoved {
        authenticator: removal.done,
        sms,
    })
}

/// Every factor read back (what the reset removed must be gone from the MFA factors too, and
/// what is left is said: no admin API removes a passkey), the remembered devices forgotten and
/// read back, and every session revoked. `sms_earlier`: an earlier run of this reset removed
/// SMS MFA (recorded on the recovery).
pub(super) async fn read_back_and_sign_out(
    idp: &dyn IdentityProvider,
    account: &str,
    recover_sms: bool,
    removed: FactorsRemoved,
    sms_earlier: bool,
) -> Result<Applied, ResetError> {
    let totp = MfaFactor::Totp.name();
    let factors = match idp.remaining_factors(account).await {
        Ok(f) if f.has_mfa(&MfaFactor::Totp) => {
            return Err(ResetError::NotApplied(format!(
                "{totp} is still listed in the remaining factors after the reset ({})",
                removed.authenticator
            )))
        }
        Ok(f) if recover_sms && f.has_mfa(&MfaFactor::Sms) => {
            return Err(ResetError::NotApplied(format!(
                "{} is still listed in the remaining factors after it was turned off",
                MfaFactor::Sms.name()
            )))
        }
        Ok(f) => remaining(&f),
        Err(IdpError::Refused { operation, code }) => {
            format!("remaining factors not read ({operation} refused: {code})")
        }
        Err(err) => return Err(ResetError::Unavailable(err)),
    };
    let devices = match idp.forget_devices(account).await {
        Ok(d) if d.left > 0 => {
            return Err(ResetError::NotApplied(format!(
            "TOTP removed but {} remembered device(s) are still listed after they were forgotten",
            d.left
        )))
        }
        Ok(d) => Devices::Forgotten(d.forgotten),
        Err(IdpError::Refused { operation, code }) => {
            Devices::NotChecked(format!("{operation} refused ({code})"))
        }
        Err(err) => return Err(ResetError::Unavailable(err)),
    };
    match idp.revoke_sessions(account).await {
        Ok(()) => {}
        Err(IdpError::Refused { operation, code }) => {
            return Err(ResetError::NotApplied(format!(
                "TOTP removed but {operation} was refused ({code})"
            )))
        }
        Err(err) => return Err(ResetError::Unavailable(err)),
    }
    let sms = match removed.sms {
        Some(done) => Some(done),
        None if sms_earlier => {
            Some("SMS MFA removed by an earlier attempt of this reset".to_owned())
        }
        None => None,
    };
    let sms_text = sms.as_deref().map(|s| format!("; {s}")).unwrap_or_default();
    Ok(Applied {
        detail: format!(
            "{}{sms_text}; read back: {totp} no longer listed; {factors}",
            removed.authenticator
        ),
        devices,
        sms_removed: sms.is_some(),
    })
}

/// What the user can still sign in or pass MFA with, for the audit detail.
fn remaining(factors: &AuthFactors) -> String {
    let list = |names: Vec<&str>| {
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    };
    let mut text = format!(
        "factors left: {}; MFA left: {}",
        list(factors.sign_in.iter().map(|f| f.name()).collect()),
        list(factors.mfa.iter().map(|f| f.name()).collect())
    );
    if factors.has_passkey() {
        text.push_str(" (a passkey stays: no admin API removes one; the notice asks the owner to remove it if it was on the lost phone)");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idp::memory::{verbs, MemoryIdp, MemoryUser};
    use crate::idp::MfaMode;

    const NAME: &str = "jane";

    fn pool(mode: MfaMode, user: MemoryUser) -> MemoryIdp {
        let idp = MemoryIdp::new(mode);
        idp.add_user(NAME, user);
        idp
    }

    fn jane() -> MemoryUser {
        MemoryUser {
            devices: vec!["phone".into(), "laptop".into()],
            sessions: 3,
            ..MemoryUser::with_authenticator("correct horse", "jane@example.com")
        }
    }

    fn with_sms(user: MemoryUser) -> MemoryUser {
        MemoryUser {
            sms: true,
            phone: Some("+14155550100".into()),
            ..user
        }
    }

    async fn reset(idp: &MemoryIdp, recover_sms: bool) -> Result<Applied, ResetError> {
        let removed = remove_factors(idp, NAME, recover_sms).await?;
        read_back_and_sign_out(idp, NAME, recover_sms, removed, false).await
    }

    #[tokio::test]
    async fn a_reset_removes_the_authenticator_forgets_devices_and_signs_out_in_either_pool() {
        for mode in [MfaMode::Required, MfaMode::Optional] {
            let idp = pool(mode, jane());
            let applied = reset(&idp, false).await.expect("applied");
            let user = idp.user(NAME).unwrap();
            assert!(
                !user.totp && user.devices.is_empty() && user.sessions == 0,
                "{mode}"
            );
            assert_eq!(applied.devices, Devices::Forgotten(2));
            assert!(!applied.sms_removed);
            assert!(
                applied
                    .detail
                    .contains("read back: SOFTWARE_TOKEN_MFA no longer listed")
                    && applied
                        .detail
                        .contains("factors left: PASSWORD; MFA left: none"),
                "{}",
                applied.detail
            );
        }
    }

    #[tokio::test]
    async fn without_token_deletion_a_required_pool_keeps_the_authenticator_and_the_reset_is_not_applied(
    ) {
        let idp = pool(MfaMode::Required, jane()).without_token_deletion();
        let Err(ResetError::NotApplied(why)) = reset(&idp, false).await else {
            panic!("a required pool ignores the preference: nothing else removes TOTP");
        };
        assert!(why.contains("still listed"), "{why}");
        let user = idp.user(NAME).unwrap();
        assert!(user.totp, "the authenticator is still there");
        assert_eq!(
            user.sessions, 3,
            "no session was revoked for a reset that did not happen"
        );
        assert!(!idp.calls().contains(&verbs::REVOKE_SESSIONS));
    }

    #[tokio::test]
    async fn without_token_deletion_an_optional_pool_still_resets_through_the_preference() {
        let idp = pool(MfaMode::Optional, jane()).without_token_deletion();
        let applied = reset(&idp, false).await.expect("applied");
        assert!(
            applied.detail.contains("not available"),
            "{}",
            applied.detail
        );
        assert!(!idp.user(NAME).unwrap().totp);
    }

    #[tokio::test]
    async fn sms_mfa_goes_only_when_the_operator_recovers_it_and_in_a_required_pool_with_its_number(
    ) {
        let idp = pool(MfaMode::Required, with_sms(jane()));
        let kept = reset(&idp, false).await.expect("applied");
        assert!(!kept.sms_removed);
        assert!(kept.detail.contains("MFA left: SMS_MFA"), "{}", kept.detail);

        let idp = pool(MfaMode::Required, with_sms(jane()));
        let applied = reset(&idp, true).await.expect("applied");
        assert!(applied.sms_removed);
        assert!(
            idp.user(NAME).unwrap().phone.is_none(),
            "a required pool keeps SMS MFA on while it has a number"
        );

        let idp = pool(MfaMode::Optional, with_sms(jane()));
        let applied = reset(&idp, true).await.expect("applied");
        assert!(applied.sms_removed && applied.detail.contains("SMS MFA turned off"));
        assert!(
            idp.user(NAME).unwrap().phone.is_some(),
            "an optional pool turns it off and keeps the number"
        );
    }

    #[tokio::test]
    async fn a_refused_sms_removal_is_not_a_reset() {
        let idp = pool(MfaMode::Optional, with_sms(jane()));
        idp.refuse(verbs::REMOVE_SMS, "AccessDeniedException");
        let Err(ResetError::NotApplied(why)) = reset(&idp, true).await else {
            panic!("SMS MFA that stays is not a completed reset");
        };
        assert!(
            why.contains("SMS MFA not removed") && why.contains("AccessDeniedException"),
            "{why}"
        );
    }

    #[tokio::test]
    async fn refused_devices_are_said_and_the_reset_still_completes_but_a_refused_sign_out_does_not(
    ) {
        let idp = pool(MfaMode::Required, jane());
        idp.refuse(verbs::FORGET_DEVICES, "AccessDeniedException");
        let applied = reset(&idp, false).await.expect("applied");
        assert_eq!(
            applied.devices,
            Devices::NotChecked("forget_devices refused (AccessDeniedException)".into())
        );

        let idp = pool(MfaMode::Required, jane());
        idp.refuse(verbs::REVOKE_SESSIONS, "AccessDeniedException");
        assert!(matches!(
            reset(&idp, false).await,
            Err(ResetError::NotApplied(_))
        ));
    }

    #[tokio::test]
    async fn an_outage_midway_is_unavailable_and_the_retry_completes_what_the_first_run_did() {
        let idp = pool(MfaMode::Required, with_sms(jane()));
        idp.unavailable_once(verbs::REMAINING_FACTORS);
        let removed = remove_factors(&idp, NAME, true).await.expect("removed");
        assert!(
            removed.sms.is_some(),
            "this run removed SMS MFA (the reset records it)"
        );
        let Err(ResetError::Unavailable(_)) =
            read_back_and_sign_out(&idp, NAME, true, removed, false).await
        else {
            panic!("an unreachable provider is not a failed reset");
        };
        assert_eq!(idp.user(NAME).unwrap().sessions, 3, "not yet signed out");

        // The retry finds TOTP and SMS already gone, and says an earlier run removed SMS MFA.
        let removed = remove_factors(&idp, NAME, true)
            .await
            .expect("removed again");
        assert!(removed.sms.is_none());
        let applied = read_back_and_sign_out(&idp, NAME, true, removed, true)
            .await
            .expect("applied");
        assert!(
            applied.sms_removed,
            "the notice still asks for a new number"
        );
        assert!(applied
            .detail
            .contains("SMS MFA removed by an earlier attempt of this reset"));
        assert_eq!(idp.user(NAME).unwrap().sessions, 0);
    }

    #[tokio::test]
    async fn a_passkey_is_named_as_left_and_a_vanished_user_is_not_a_reset() {
        let idp = pool(
            MfaMode::Optional,
            MemoryUser {
                passkeys: vec![crate::idp::Passkey {
                    id: "p1".into(),
                    name: "phone".into(),
                    created_at: chrono::Utc::now(),
                    attachment: None,
                }],
                ..jane()
            },
        );
        let applied = reset(&idp, false).await.expect("applied");
        assert!(
            applied
                .detail
                .contains("factors left: PASSWORD, WEB_AUTHN; MFA left: none (a passkey stays"),
            "{}",
            applied.detail
        );

        let idp = MemoryIdp::new(MfaMode::Required);
        let Err(ResetError::NotApplied(why)) = reset(&idp, false).await else {
            panic!("no user, no reset");
        };
        assert!(why.contains("no longer exists"), "{why}");
    }
}
