//! Settings of the staff console: sign-in through the company's OpenID Connect provider, and
//! the console's sessions.

use super::*;

/// Staff sign in at `/staff` through the company's OpenID Connect provider; `None` when
/// `STAFF_OIDC_ISSUER` is unset (the console is off; staff keys still work on the JSON APIs).
#[derive(Debug, Clone)]
pub struct StaffSettings {
    pub oidc: Option<OidcSettings>,
    /// A console session ends after this long without a request.
    pub session_idle: Duration,
    /// ... and this long after sign-in, whatever happens.
    pub session_lifetime: Duration,
}

#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// The issuer, exactly as its ID tokens name it (discovery at
    /// `<issuer>/.well-known/openid-configuration`).
    pub issuer: String,
    pub client_id: String,
    /// Absent for a public client (PKCE alone).
    pub client_secret: Option<SecretString>,
    /// Where the provider sends staff back: `<STAFF_BASE_URL or PUBLIC_BASE_URL>/staff/callback`,
    /// registered with the provider.
    pub redirect_url: String,
    /// The ID token claim that lists the person's groups (`groups`; `cognito:groups` for Cognito).
    pub roles_claim: String,
    pub support_group: String,
    pub approver_group: String,
    pub auditor_group: String,
    /// The ID token's `amr` must show a second factor.
    pub require_mfa: bool,
}

#[derive(Deserialize)]
pub(super) struct RawStaff {
    #[serde(default)]
    staff_oidc_issuer: Option<String>,
    #[serde(default)]
    staff_oidc_client_id: Option<String>,
    #[serde(default)]
    staff_oidc_client_secret: Option<String>,
    staff_oidc_roles_claim: String,
    staff_support_group: String,
    staff_approver_group: String,
    staff_auditor_group: String,
    staff_oidc_require_mfa: bool,
    #[serde(default)]
    staff_base_url: Option<String>,
    #[serde(default)]
    public_base_url: Option<String>,
    staff_session_idle_minutes: u64,
    staff_session_hours: u64,
}

/// An `http(s)://host[:port]` address without a trailing slash.
fn base_url(name: &str, value: &str) -> Result<String, SettingsError> {
    let value = value.trim().trim_end_matches('/');
    if !(value.starts_with("https://") || value.starts_with("http://")) || value.contains('?') {
        return Err(invalid(
            name,
            format!("must be an http(s) address such as https://id.example.com, not `{value}`"),
        ));
    }
    Ok(value.to_owned())
}

fn group(name: &str, value: String) -> Result<String, SettingsError> {
    let value = value.trim().to_owned();
    if value.is_empty() {
        return Err(invalid(name, "must name a group"));
    }
    Ok(value)
}

impl OidcSettings {
    /// The region and id of the Cognito user pool the issuer is
    /// (`https://cognito-idp.<region>.amazonaws.com/<pool id>`), if it is one.
    pub fn cognito_pool(&self) -> Option<(String, String)> {
        let rest = self.issuer.strip_prefix("https://cognito-idp.")?;
        let (host, pool) = rest.split_once('/')?;
        let region = host.strip_suffix(".amazonaws.com")?;
        let pool = pool.trim_end_matches('/');
        (!region.is_empty() && !pool.is_empty() && !pool.contains('/'))
            .then(|| (region.to_owned(), pool.to_owned()))
    }
}

impl TryFrom<RawStaff> for StaffSettings {
    type Error = SettingsError;

    fn try_from(raw: RawStaff) -> Result<Self, SettingsError> {
        let mut mistakes = Mistakes::default();
        let session_idle = mistakes.take(at_least(
            "STAFF_SESSION_IDLE_MINUTES",
            raw.staff_session_idle_minutes,
            1,
        ));
        let session_hours =
            mistakes.take(at_least("STAFF_SESSION_HOURS", raw.staff_session_hours, 1));
        let oidc = match raw.staff_oidc_issuer.filter(|v| !v.trim().is_empty()) {
            None => Some(None),
            Some(issuer) => {
                let issuer = mistakes.take(base_url("STAFF_OIDC_ISSUER", &issuer));
                let client_id = mistakes.take(
                    raw.staff_oidc_client_id
                        .filter(|v| !v.trim().is_empty())
                        .ok_or_else(|| {
                            invalid("STAFF_OIDC_CLIENT_ID", "is required with STAFF_OIDC_ISSUER")
                        }),
                );
                let base = match (raw.staff_base_url, raw.public_base_url) {
                    (Some(staff), _) if !staff.trim().is_empty() => {
                        mistakes.take(base_url("STAFF_BASE_URL", &staff))
                    }
                    (_, Some(public)) if !public.trim().is_empty() => {
                        mistakes.take(base_url("PUBLIC_BASE_URL", &public))
                    }
                    _ => mistakes.take(Err(invalid(
                        "STAFF_BASE_URL",
                        "is required with STAFF_OIDC_ISSUER (or PUBLIC_BASE_URL): the provider sends staff back to <it>/staff/callback",
                    ))),
                };
                let roles_claim =
                    mistakes.take(group("STAFF_OIDC_ROLES_CLAIM", raw.staff_oidc_roles_claim));
                let support_group =
                    mistakes.take(group("STAFF_SUPPORT_GROUP", raw.staff_support_group));
                let approver_group =
                    mistakes.take(group("STAFF_APPROVER_GROUP", raw.staff_approver_group));
                let auditor_group =
                    mistakes.take(group("STAFF_AUDITOR_GROUP", raw.staff_auditor_group));
                Some(Some(OidcSettings {
                    issuer: issuer.unwrap_or_default(),
                    client_id: client_id.unwrap_or_default(),
                    client_secret: raw
                        .staff_oidc_client_secret
                        .filter(|v| !v.is_empty())
                        .map(SecretString::from),
                    redirect_url: base
                        .map(|b| format!("{b}/staff/callback"))
                        .unwrap_or_default(),
                    roles_claim: roles_claim.unwrap_or_default(),
                    support_group: support_group.unwrap_or_default(),
                    approver_group: approver_group.unwrap_or_default(),
                    auditor_group: auditor_group.unwrap_or_default(),
                    require_mfa: raw.staff_oidc_require_mfa,
                }))
            }
        };
        mistakes.check()?;
        Ok(Self {
            oidc: oidc.expect("checked"),
            session_idle: Duration::from_secs(session_idle.expect("checked") * 60),
            session_lifetime: Duration::from_secs(session_hours.expect("checked") * 3600),
        })
    }
}
