//! Settings of the recovery rules.

use super::*;
use crate::words::Words;

#[derive(Debug, Clone)]
pub struct RecoverySettings {
    pub code_ttl: Duration,
    pub max_attempts: u32,
    pub require_password: bool,
    /// Self-service recovery emails one account receives per hour, whoever asks; one client
    /// address block gets at most one fewer.
    pub requests_per_user_per_hour: u32,
    /// ... and per 24 hours; one client address block gets at most half.
    pub emails_per_user_per_day: u32,
    /// Recoveries the support desk may start for one account per 24 hours (counted apart).
    pub support_requests_per_user_per_day: u32,
    /// A recovery the support desk starts sends its code only once a second person with the
    /// approver role approves it (`SUPPORT_REQUIRE_APPROVAL`).
    pub support_require_approval: bool,
    /// How long such a recovery waits for approval before it lapses (`SUPPORT_APPROVAL_MINUTES`).
    pub support_approval_ttl: Duration,
    pub requests_per_ip_per_hour: u32,
    /// Wrong confirmations one account may take in 24 hours (rolling), across its recoveries and
    /// addresses, before address blocks that asked for no code of it are refused; such a block
    /// gets a tenth, one that asked half. At most 100 (NIST SP 800-63B-4).
    pub failed_confirms_per_account_per_day: u32,
    /// Past one recovery's worth of wrong confirmations, each further one waits this long,
    /// doubled each time.
    pub failed_confirm_delay: Duration,
    /// Emails of every kind sent per hour by all instances together (protects the SES quota).
    pub emails_per_hour: u32,
    /// A confirmed reset waits this long, cancellable from the notice; zero applies it at once.
    pub reset_delay: Duration,
    /// How long a confirmation may hold a reset before the job that finishes resets takes it
    /// over (after a crash, or while Cognito is unreachable).
    pub reset_lease: Duration,
    /// Where cancel links point (the service's public address); required with a reset delay.
    pub public_base_url: Option<String>,
    pub trusted_proxies: TrustedProxies,
    /// The issuer authenticator apps show for the new authenticator.
    pub totp_issuer: String,
    /// How long an enrollment started after a reset can be finished: at most what Cognito
    /// allows (the app client's AuthSessionValidity, 3 to 15 minutes, in pools that require MFA).
    pub enrollment_ttl: Duration,
    /// The app's sign-in page, linked from the last page of the journey.
    pub app_sign_in_url: Option<String>,
    /// Origins whose pages may call the end-user endpoints from the browser (CORS).
    pub cors_allowed_origins: Vec<String>,
    /// The MFA factors a recovery replaces (`RECOVERY_FACTORS`).
    pub factors: RecoveryFactors,
    /// Notices also go as a short SMS (Amazon SNS) to a verified phone number.
    pub notify_sms: bool,
    /// The language of pages and messages when nothing says another (`DEFAULT_LOCALE`).
    pub default_language: Words,
}

#[derive(Deserialize)]
pub(super) struct RawRecovery {
    recovery_code_ttl_seconds: u64,
    recovery_max_attempts: u32,
    recovery_require_password: bool,
    recovery_requests_per_user_per_hour: u32,
    recovery_emails_per_user_per_day: u32,
    support_recoveries_per_user_per_day: u32,
    support_require_approval: bool,
    support_approval_minutes: u64,
    recovery_requests_per_ip_per_hour: u32,
    recovery_failed_confirms_per_account_per_day: u32,
    recovery_failed_confirm_delay_seconds: u64,
    recovery_emails_per_hour: u32,
    recovery_reset_delay_seconds: u64,
    recovery_reset_lease_seconds: u64,
    public_base_url: Option<String>,
    trusted_proxies: Option<String>,
    totp_issuer: String,
    enrollment_ttl_seconds: u64,
    app_sign_in_url: Option<String>,
    cors_allowed_origins: Option<String>,
    recovery_factors: String,
    notify_sms: bool,
    default_locale: String,
}

impl TryFrom<RawRecovery> for RecoverySettings {
    type Error = SettingsError;

    fn try_from(raw: RawRecovery) -> Result<Self, SettingsError> {
        let trusted_proxies = TrustedProxies::parse(raw.trusted_proxies.as_deref().unwrap_or(""))
            .map_err(|reason| invalid("TRUSTED_PROXIES", reason))?;
        let public_base_url = http_url(
            "PUBLIC_BASE_URL",
            raw.public_base_url
                .map(|u| u.trim_end_matches('/').to_owned()),
        )?;
        let app_sign_in_url = http_url("APP_SIGN_IN_URL", raw.app_sign_in_url)?;
        if raw.recovery_reset_delay_seconds > 0 && public_base_url.is_none() {
            return Err(invalid(
                "PUBLIC_BASE_URL",
                "is required while RECOVERY_RESET_DELAY_SECONDS is set (cancel links point to it)",
            ));
        }
        let factors = RecoveryFactors::parse(&raw.recovery_factors)
            .map_err(|reason| invalid("RECOVERY_FACTORS", reason))?;
        let default_language = Words::for_tag(&raw.default_locale).ok_or_else(|| {
            let shipped: Vec<String> = crate::words::shipped().iter().map(Words::lang).collect();
            invalid(
                "DEFAULT_LOCALE",
                format!(
                    "`{}` is not a shipped language: choose one of {}",
                    raw.default_locale,
                    shipped.join(", ")
                ),
            )
        })?;
        Ok(Self {
            factors,
            notify_sms: raw.notify_sms,
            default_language,
            code_ttl: Duration::from_secs(at_least(
                "RECOVERY_CODE_TTL_SECONDS",
                raw.recovery_code_ttl_seconds,
                1,
            )?),
            max_attempts: at_least("RECOVERY_MAX_ATTEMPTS", raw.recovery_max_attempts, 1)?,
            require_password: raw.recovery_require_password,
            requests_per_user_per_hour: at_least(
                "RECOVERY_REQUESTS_PER_USER_PER_HOUR",
                raw.recovery_requests_per_user_per_hour,
                1,
            )?,
            emails_per_user_per_day: at_least(
                "RECOVERY_EMAILS_PER_USER_PER_DAY",
                raw.recovery_emails_per_user_per_day,
                1,
            )?,
            support_requests_per_user_per_day: at_least(
                "SUPPORT_RECOVERIES_PER_USER_PER_DAY",
                raw.support_recoveries_per_user_per_day,
                1,
            )?,
            support_require_approval: raw.support_require_approval,
            support_approval_ttl: Duration::from_secs(
                60 * at_most(
                    "SUPPORT_APPROVAL_MINUTES",
                    at_least("SUPPORT_APPROVAL_MINUTES", raw.support_approval_minutes, 1)?,
                    7 * 24 * 60,
                )?,
            ),
            requests_per_ip_per_hour: at_least(
                "RECOVERY_REQUESTS_PER_IP_PER_HOUR",
                raw.recovery_requests_per_ip_per_hour,
                1,
            )?,
            failed_confirms_per_account_per_day: at_most(
                "RECOVERY_FAILED_CONFIRMS_PER_ACCOUNT_PER_DAY",
                at_least(
                    "RECOVERY_FAILED_CONFIRMS_PER_ACCOUNT_PER_DAY",
                    raw.recovery_failed_confirms_per_account_per_day,
                    1,
                )?,
                100,
            )?,
            failed_confirm_delay: Duration::from_secs(raw.recovery_failed_confirm_delay_seconds),
            // A tenth (at least one) is kept for notices, so codes need at least two.
            emails_per_hour: at_least("RECOVERY_EMAILS_PER_HOUR", raw.recovery_emails_per_hour, 2)?,
            reset_delay: Duration::from_secs(raw.recovery_reset_delay_seconds),
            reset_lease: Duration::from_secs(at_least(
                "RECOVERY_RESET_LEASE_SECONDS",
                raw.recovery_reset_lease_seconds,
                1,
            )?),
            public_base_url,
            trusted_proxies,
            totp_issuer: totp_issuer(raw.totp_issuer)?,
            app_sign_in_url,
            cors_allowed_origins: origins(raw.cors_allowed_origins.as_deref().unwrap_or(""))?,
            enrollment_ttl: Duration::from_secs(at_most(
                "ENROLLMENT_TTL_SECONDS",
                at_least("ENROLLMENT_TTL_SECONDS", raw.enrollment_ttl_seconds, 60)?,
                COGNITO_MAX_SESSION_SECONDS,
            )?),
        })
    }
}

/// Cognito's longest AuthSessionValidity (15 minutes): an MFA_SETUP session lasts no longer.
pub(super) const COGNITO_MAX_SESSION_SECONDS: u64 = 900;

/// A comma-separated list of origins: `scheme://host[:port]`, nothing after.
pub(super) fn origins(list: &str) -> Result<Vec<String>, SettingsError> {
    list.split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|origin| {
            let rest = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"));
            match rest {
                Some(host) if !host.is_empty() && !host.contains('/') && origin != "*" => {
                    Ok(origin.to_owned())
                }
                _ => Err(invalid(
                    "CORS_ALLOWED_ORIGINS",
                    format!("`{origin}` is not an origin such as https://app.example.com"),
                )),
            }
        })
        .collect()
}

pub(super) fn http_url(
    name: &'static str,
    value: Option<String>,
) -> Result<Option<String>, SettingsError> {
    match value {
        Some(url) if !(url.starts_with("https://") || url.starts_with("http://")) => Err(invalid(
            name,
            format!("must be an http(s) URL, not `{url}`"),
        )),
        other => Ok(other),
    }
}

pub(super) fn totp_issuer(value: String) -> Result<String, SettingsError> {
    let value = value.trim().to_owned();
    if value.is_empty() || value.chars().count() > 64 || value.contains(':') {
        return Err(invalid(
            "TOTP_ISSUER",
            "must be 1 to 64 characters without a colon (authenticator apps split the label on it)",
        ));
    }
    Ok(value)
}
