//! Which MFA factors a recovery replaces: the ones that lived on the lost phone.

/// `RECOVERY_FACTORS`: a recovery always replaces the TOTP authenticator; SMS MFA only when the
/// operator opts in (`totp,sms`: the number may have gone with the phone). Email MFA is never
/// touched: the recovery just proved the mailbox.
const ALLOWED: &str =
    "must be `totp` or `totp,sms` (a recovery always replaces the authenticator app)";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecoveryFactors {
    pub totp: bool,
    pub sms: bool,
}

impl Default for RecoveryFactors {
    fn default() -> Self {
        Self {
            totp: true,
            sms: false,
        }
    }
}

impl RecoveryFactors {
    /// A comma-separated list: `totp`, and `sms` as well if wanted (any case, any order).
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut factors = Self {
            totp: false,
            sms: false,
        };
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            match item.to_ascii_lowercase().as_str() {
                "totp" => factors.totp = true,
                "sms" => factors.sms = true,
                _ => return Err(format!("{ALLOWED}, not `{item}`")),
            }
        }
        if !factors.totp {
            return Err(format!("{ALLOWED}, not `{}`", list.trim()));
        }
        Ok(factors)
    }

    /// What a user lacks who has none of these factors, for the audit and the support desk.
    pub fn missing(self) -> &'static str {
        if self.sms {
            "neither a TOTP authenticator nor SMS MFA"
        } else {
            "no TOTP authenticator"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_of_totp_and_sms_in_any_order_and_case() {
        assert_eq!(
            RecoveryFactors::parse("totp").unwrap(),
            RecoveryFactors::default()
        );
        let both = RecoveryFactors {
            totp: true,
            sms: true,
        };
        assert_eq!(RecoveryFactors::parse("totp,sms").unwrap(), both);
        assert_eq!(RecoveryFactors::parse(" SMS , totp ").unwrap(), both);
    }

    #[test]
    fn anything_else_or_nothing_is_refused_with_what_is_allowed() {
        for wrong in ["", " , ", "totp,email", "passkey", "sms"] {
            let reason = RecoveryFactors::parse(wrong).unwrap_err();
            assert!(
                reason.starts_with("must be `totp` or `totp,sms`"),
                "{reason}"
            );
        }
    }
}
