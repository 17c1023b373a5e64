//! The preflight (`mfa-recovery doctor`, and `serve` at start): reads the user pool, the app
//! client and the sender's SES identity, and says what in them keeps recoveries from working,
//! each finding with its fix. Gathering (`gather`) asks AWS; judging (`assess`) is a pure
//! function of what was read and the settings.

use crate::idp::{
    AppClient, DeviceRemembering, IdentityProvider, IdpError, MfaMode, PoolDescription, PoolMfa,
    PoolTier, TokenRemoval,
};
use crate::mail::{MailAccount, MailError, Mailer};
use crate::settings::{AppEnv, Settings};
use crate::sms::{TextError, Texter};
use crate::staff::sign_in::ProviderError;
use crate::store::role::RolePrivileges;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Ok,
    /// Works, with a catch, or could not be checked.
    Warn,
    /// Recoveries cannot work: `serve` refuses to start, `doctor` exits 1.
    Fatal,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Warn => "warn",
            Self::Fatal => "FAIL",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub level: Level,
    pub check: &'static str,
    pub detail: String,
    pub fix: Option<String>,
}

fn finding(level: Level, check: &'static str, detail: impl Into<String>) -> Finding {
    Finding {
        level,
        check,
        detail: detail.into(),
        fix: None,
    }
}

impl Finding {
    fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

/// What was read from AWS.
pub struct Facts {
    pub mfa: Result<PoolMfa, IdpError>,
    pub pool: Result<PoolDescription, IdpError>,
    pub app_client: Result<Option<AppClient>, IdpError>,
    pub sender_verified: Result<bool, MailError>,
    /// The SES account: sending enabled, and out of the sandbox.
    pub mail_account: Result<MailAccount, MailError>,
    /// What AdminDeleteSoftwareToken answered for a name no user can have.
    pub token_deletion: Result<TokenRemoval, IdpError>,
    /// With `NOTIFY_SMS`: whether the account is in the SMS sandbox.
    pub sms_sandbox: Option<Result<bool, TextError>>,
}

pub async fn gather(
    idp: &dyn IdentityProvider,
    mailer: &dyn Mailer,
    texter: Option<&dyn Texter>,
) -> Facts {
    gather_with(
        idp,
        mailer,
        texter,
        idp.mfa_config().await,
        idp.pool_description().await,
    )
    .await
}

/// As `gather`, with the pool's MFA configuration and description already read (by `serve`,
/// which needs them to start), so that they are not read again.
pub async fn gather_with(
    idp: &dyn IdentityProvider,
    mailer: &dyn Mailer,
    texter: Option<&dyn Texter>,
    mfa: Result<PoolMfa, IdpError>,
    pool: Result<PoolDescription, IdpError>,
) -> Facts {
    let sms_sandbox = match texter {
        Some(texter) => Some(texter.sandboxed().await),
        None => None,
    };
    Facts {
        mfa,
        pool,
        app_client: idp.app_client().await,
        sender_verified: mailer.sender_verified().await,
        mail_account: mailer.account().await,
        token_deletion: idp.authenticator_removal().await,
        sms_sandbox,
    }
}

/// A read that failed: a permission the service lacks for this check (it can still work) or
/// an answer that did not come.
fn unchecked(
    check: &'static str,
    what: &str,
    permission: &str,
    err: &dyn std::fmt::Display,
) -> Finding {
    finding(Level::Warn, check, format!("could not read {what}: {err}")).fix(format!(
        "allow {permission} in the service's IAM policy (deploy/iam-policy.json), or try again"
    ))
}

/// The findings, worst first within each check's order.
pub fn assess(facts: &Facts, settings: &Settings) -> Vec<Finding> {
    let required = matches!(&facts.mfa, Ok(config) if config.mode == MfaMode::Required);
    [
        pool_mfa(facts, settings),
        authenticator_apps(facts),
        sms_recovery(facts, settings),
        token_deletion(facts, required),
        feature_plan(facts),
        remembered_devices(facts),
        app_client(facts, settings, required),
        ses_sender(facts, settings),
        ses_account(facts, settings),
        sms_notices(facts),
        client_addresses(settings),
    ]
    .concat()
}

/// The staff console's provider (`STAFF_OIDC_ISSUER`), as `describe`d; `None` when the console
/// is off. The console is not needed for recoveries: a problem with it is a warning.
pub fn staff_console(
    settings: &Settings,
    provider: Option<Result<crate::oidc::ProviderDescription, ProviderError>>,
    staff_pool: Option<Result<PoolMfa, IdpError>>,
) -> Vec<Finding> {
    let mut findings = console_provider(settings, provider);
    if let (Some(oidc), Some(mfa)) = (&settings.staff.oidc, staff_pool) {
        findings.push(staff_pool_mfa(oidc, mfa));
    }
    findings
}

/// A Cognito staff pool must require MFA itself: its ID tokens carry no `amr` to check.
fn staff_pool_mfa(oidc: &crate::settings::OidcSettings, mfa: Result<PoolMfa, IdpError>) -> Finding {
    const CHECK: &str = "staff pool MFA";
    let pool = oidc.cognito_pool().map(|(_, id)| id).unwrap_or_default();
    match mfa {
        Ok(config) if config.mode == MfaMode::Required => finding(
            Level::Ok,
            CHECK,
            format!("the staff pool {pool} requires MFA of everyone who signs in"),
        ),
        Ok(config) => finding(
            Level::Warn,
            CHECK,
            format!(
                "the staff pool {pool} has MFA {}: staff could sign in to the console with a password alone",
                config.mode
            ),
        )
        .fix("set the staff pool's MFA to required (ON), with authenticator apps or passkeys"),
        Err(err) => finding(
            Level::Warn,
            CHECK,
            format!("the staff pool {pool}'s MFA setting could not be read: {err}"),
        )
        .fix("allow cognito-idp:GetUserPoolMfaConfig on the staff pool, or check the issuer's region and pool id"),
    }
}

/// The console's provider, as `describe`d.
fn console_provider(
    settings: &Settings,
    provider: Option<Result<crate::oidc::ProviderDescription, ProviderError>>,
) -> Vec<Finding> {
    const CHECK: &str = "staff console";
    let (Some(oidc), Some(provider)) = (&settings.staff.oidc, provider) else {
        return vec![finding(
            Level::Ok,
            CHECK,
            "off (STAFF_OIDC_ISSUER unset): staff use keys on the JSON APIs",
        )];
    };
    let described = match provider {
        Ok(described) => described,
        Err(err) => {
            return vec![finding(
                Level::Warn,
                CHECK,
                format!("the provider at {} does not answer: {err}", oidc.issuer),
            )
            .fix("check STAFF_OIDC_ISSUER (its discovery document is <issuer>/.well-known/openid-configuration) and the network path")];
        }
    };
    let mut findings = Vec::new();
    if !described.authorization_code || described.keys == 0 {
        findings.push(
            finding(
                Level::Warn,
                CHECK,
                format!(
                    "{} offers {} and publishes {} signing key(s)",
                    described.issuer,
                    if described.authorization_code {
                        "the authorization code flow"
                    } else {
                        "no authorization code flow"
                    },
                    described.keys
                ),
            )
            .fix("staff sign in with the authorization code flow, verified with the issuer's published keys"),
        );
    }
    if described.cognito && oidc.require_mfa {
        findings.push(
            finding(
                Level::Warn,
                CHECK,
                "a Cognito issuer puts no amr in its ID tokens: with STAFF_OIDC_REQUIRE_MFA on, nobody can sign in",
            )
            .fix("make the staff pool require MFA, then set STAFF_OIDC_REQUIRE_MFA=false"),
        );
    }
    if findings.is_empty() {
        findings.push(finding(
            Level::Ok,
            CHECK,
            format!(
                "{} answers: authorization code flow, {} signing key(s); staff return to {}",
                described.issuer, described.keys, oidc.redirect_url
            ),
        ));
    }
    findings
}

/// In production the service runs behind a load balancer: without `TRUSTED_PROXIES` every client
/// is the balancer's address, and shares one address's limits with everyone.
fn client_addresses(settings: &Settings) -> Vec<Finding> {
    if settings.app_env != AppEnv::Production || !settings.recovery.trusted_proxies.is_empty() {
        return Vec::new();
    }
    vec![finding(Level::Warn, "client addresses", "APP_ENV=production without TRUSTED_PROXIES: behind a load balancer every client is the balancer's address, so all share one address's limits (one person's wrong guesses or requests limit everyone)")
        .fix("set TRUSTED_PROXIES to the load balancer's CIDRs (its X-Forwarded-For is then believed), or leave it unset only when clients connect directly")]
}

/// The pool's MFA mode and the factors it offers.
fn pool_mfa(facts: &Facts, settings: &Settings) -> Vec<Finding> {
    let mut findings = Vec::new();
    let pool_id = &settings.cognito.user_pool_id;
    match &facts.mfa {
        Ok(config) if config.mode == MfaMode::Off => {
            findings.push(
                finding(Level::Warn, "pool MFA", format!("MFA is OFF in {pool_id}: no user has an authenticator to lose, so every request finds no one eligible"))
                    .fix("set the pool's MFA to OPTIONAL or ON, with authenticator apps (TOTP) enabled"),
            );
        }
        Ok(config) => {
            let mode = config.mode;
            let factors = config.factors();
            let offered = if factors.is_empty() {
                "none".to_owned()
            } else {
                factors.join(", ")
            };
            let what = if mode == MfaMode::Required {
                "required: a reset deletes the authenticator and the next sign-in enrols a new one (MFA_SETUP)"
            } else {
                "optional: after a reset the account is password-only until a new authenticator is enrolled"
            };
            findings.push(finding(
                Level::Ok,
                "pool MFA",
                format!("{mode} in {pool_id} (factors: {offered}), {what}"),
            ));
        }
        Err(IdpError::Refused { code, .. }) => {
            findings.push(
                finding(Level::Fatal, "pool MFA", format!("Cognito refused to let the service read {pool_id} ({code})"))
                    .fix("check COGNITO_USER_POOL_ID and AWS_REGION, and allow cognito-idp:GetUserPoolMfaConfig"),
            );
        }
        Err(err) => {
            findings.push(unchecked(
                "pool MFA",
                "the pool's MFA configuration",
                "cognito-idp:GetUserPoolMfaConfig",
                err,
            ));
        }
    }
    findings
}

/// Whether authenticator apps (TOTP) are enabled in the pool.
fn authenticator_apps(facts: &Facts) -> Vec<Finding> {
    let mut findings = Vec::new();
    // Read with the pool's MFA mode: a failed read is reported there.
    match facts.mfa.as_ref().map(|m| m.software_tokens) {
        Ok(true) => findings.push(finding(Level::Ok, "authenticator apps", "TOTP is enabled in the pool")),
        Ok(false) => findings.push(
            finding(Level::Fatal, "authenticator apps", "TOTP (software token MFA) is not enabled in the pool: nobody has one to recover, and no new one can be enrolled")
                .fix("enable it: SetUserPoolMfaConfig with SoftwareTokenMfaConfiguration Enabled=true"),
        ),
        Err(_) => {}
    }
    findings
}

/// With `RECOVERY_FACTORS=totp,sms`: whether the pool offers SMS MFA.
fn sms_recovery(facts: &Facts, settings: &Settings) -> Vec<Finding> {
    let mut findings = Vec::new();
    if settings.recovery.factors.sms {
        match facts.mfa.as_ref().map(|m| m.sms) {
            Ok(true) => findings.push(finding(Level::Ok, "SMS recovery", "RECOVERY_FACTORS lists sms and the pool offers SMS MFA: a recovery turns it off and asks for a new number")),
            Ok(false) => findings.push(
                finding(Level::Warn, "SMS recovery", "RECOVERY_FACTORS lists sms but the pool offers no SMS MFA: no user has it to recover")
                    .fix("set RECOVERY_FACTORS=totp, or configure SMS MFA in the pool (SetUserPoolMfaConfig SmsMfaConfiguration)"),
            ),
            Err(_) => {}
        }
    }
    findings
}

/// Whether AdminDeleteSoftwareToken exists where the service calls it (`required`: the pool
/// requires MFA, so nothing else removes an authenticator).
fn token_deletion(facts: &Facts, required: bool) -> Vec<Finding> {
    let mut findings = Vec::new();
    match &facts.token_deletion {
        Ok(TokenRemoval::Unsupported(code)) => {
            let level = if required { Level::Fatal } else { Level::Warn };
            let effect = if required {
                "in a pool that requires MFA nothing else removes an authenticator, so no reset can work"
            } else {
                "resets fall back to turning the TOTP preference off, which leaves the authenticator registered"
            };
            findings.push(
                finding(level, "token deletion", format!("AdminDeleteSoftwareToken is not available here ({code}): {effect}"))
                    .fix("point AWS_REGION at the pool's primary region (secondary replica regions lack it) and use an SDK endpoint that has it"),
            );
        }
        Ok(TokenRemoval::Refused(code)) if code.contains("AccessDenied") => {
            findings.push(unchecked(
                "token deletion",
                "whether AdminDeleteSoftwareToken is available",
                "cognito-idp:AdminDeleteSoftwareToken",
                code,
            ))
        }
        // Removed (it cannot be, for this name) or refused for the name: the operation exists.
        Ok(_) => findings.push(finding(
            Level::Ok,
            "token deletion",
            "AdminDeleteSoftwareToken is available (asked for a name no user can have)",
        )),
        Err(err) => findings.push(unchecked(
            "token deletion",
            "whether AdminDeleteSoftwareToken is available",
            "cognito-idp:AdminDeleteSoftwareToken",
            err,
        )),
    }
    findings
}

/// The pool's feature plan, and what it means for the factors a recovery leaves.
fn feature_plan(facts: &Facts) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Ok(pool) = &facts.pool {
        let (plan, what) = match pool.tier {
            Some(PoolTier::Lite) => ("Lite", "users have no passkeys and no email MFA (those need Essentials), so a recovery leaves none behind"),
            Some(PoolTier::Essentials) => ("Essentials", "users may also have passkeys and email MFA: a recovery leaves both (no admin API removes a passkey; email MFA goes to the mailbox the recovery proved), and the notice names them"),
            Some(PoolTier::Plus) => ("Plus", "users may also have passkeys and email MFA: a recovery leaves both (no admin API removes a passkey; email MFA goes to the mailbox the recovery proved), and the notice names them"),
            None => ("not reported", "DescribeUserPool names no UserPoolTier; if users have passkeys or email MFA, a recovery leaves both and the notice names them"),
        };
        findings.push(finding(
            Level::Ok,
            "feature plan",
            format!("{plan}: {what}"),
        ));
    }
    findings
}

/// The pool's device remembering, and what every recovery does about it.
fn remembered_devices(facts: &Facts) -> Vec<Finding> {
    let mut findings = Vec::new();
    let remembering = match facts.pool.as_ref().map(|p| p.device_remembering) {
        Ok(DeviceRemembering::Off) => Some("off: no device skips MFA"),
        Ok(DeviceRemembering::UserOptIn) => {
            Some("on, when the user opts in: such a device skips MFA")
        }
        Ok(DeviceRemembering::Always) => {
            Some("on for every device: each one that signed in skips MFA")
        }
        Err(err) => {
            findings.push(unchecked(
                "remembered devices",
                "the pool's device configuration",
                "cognito-idp:DescribeUserPool",
                err,
            ));
            None
        }
    };
    if let Some(mode) = remembering {
        findings.push(finding(
            Level::Ok,
            "remembered devices",
            format!("{mode}; every recovery forgets the user's remembered devices and reads back that none is left"),
        ));
    }
    findings
}

/// The app client: the password check's auth flow, its secret, its sessions' length.
fn app_client(facts: &Facts, settings: &Settings, required: bool) -> Vec<Finding> {
    let mut findings = Vec::new();
    match &facts.app_client {
        Ok(Some(client)) => {
            let flows = &client.explicit_auth_flows;
            let admin_password = flows
                .iter()
                .any(|f| f == "ALLOW_ADMIN_USER_PASSWORD_AUTH" || f == "ADMIN_NO_SRP_AUTH");
            if settings.recovery.require_password && !admin_password {
                findings.push(
                    finding(Level::Fatal, "app client", format!("COGNITO_CLIENT_ID's client does not allow ALLOW_ADMIN_USER_PASSWORD_AUTH (it allows {}): every password check, so every confirmation, would fail", if flows.is_empty() { "none".to_owned() } else { flows.join(", ") }))
                        .fix("add ALLOW_ADMIN_USER_PASSWORD_AUTH to the app client's ExplicitAuthFlows"),
                );
            } else {
                findings.push(finding(Level::Ok, "app client", "allows the service's password check (ALLOW_ADMIN_USER_PASSWORD_AUTH)"));
            }
            match (client.has_secret, settings.cognito.client_secret.is_some()) {
                (true, false) => findings.push(
                    finding(Level::Fatal, "app client secret", "the app client has a secret and COGNITO_CLIENT_SECRET is not set: Cognito refuses every sign-in without it")
                        .fix("set COGNITO_CLIENT_SECRET to the app client's secret"),
                ),
                (false, true) => findings.push(
                    finding(Level::Warn, "app client secret", "COGNITO_CLIENT_SECRET is set but the app client has no secret")
                        .fix("unset COGNITO_CLIENT_SECRET, or point COGNITO_CLIENT_ID at the client it belongs to"),
                ),
                (true, true) => findings.push(match client.secret_matches {
                    Some(true) => finding(Level::Ok, "app client secret", "COGNITO_CLIENT_SECRET is the app client's secret (compared with it)"),
                    Some(false) => finding(Level::Fatal, "app client secret", "COGNITO_CLIENT_SECRET is not the app client's secret: Cognito refuses every sign-in, so no confirmation can succeed")
                        .fix("set COGNITO_CLIENT_SECRET to the secret of the app client COGNITO_CLIENT_ID names"),
                    None => finding(Level::Ok, "app client secret", "COGNITO_CLIENT_SECRET is set (the app client's secret could not be read to compare it)"),
                }),
                (false, false) => findings.push(finding(Level::Ok, "app client secret", "the app client has no secret, and none is set")),
            }
            let session_seconds = u64::try_from(client.auth_session_validity_minutes.unwrap_or(3)).unwrap_or(0) * 60;
            let ttl = settings.recovery.enrollment_ttl.as_secs();
            if required && ttl > session_seconds {
                findings.push(
                    finding(Level::Warn, "enrollment time", format!("ENROLLMENT_TTL_SECONDS is {ttl} s but the app client's AuthSessionValidity is {session_seconds} s: in a pool that requires MFA an enrollment ends when its MFA_SETUP session does"))
                        .fix(format!("raise the app client's AuthSessionValidity to {} minutes (at most 15), or lower ENROLLMENT_TTL_SECONDS", ttl.div_ceil(60))),
                );
            } else {
                findings.push(finding(Level::Ok, "enrollment time", format!("ENROLLMENT_TTL_SECONDS ({ttl} s) fits the app client's sign-in sessions ({session_seconds} s)")));
            }
        }
        Ok(None) => findings.push(
            finding(Level::Warn, "app client", "no COGNITO_CLIENT_ID: no password is checked and no new authenticator is offered after a reset")
                .fix("set COGNITO_CLIENT_ID to an app client allowing ALLOW_ADMIN_USER_PASSWORD_AUTH"),
        ),
        Err(IdpError::Refused { code, .. }) if code == "ResourceNotFoundException" => findings.push(
            finding(Level::Fatal, "app client", "the pool has no app client with COGNITO_CLIENT_ID's id")
                .fix("set COGNITO_CLIENT_ID to an app client of COGNITO_USER_POOL_ID"),
        ),
        Err(err) => findings.push(unchecked("app client", "the app client", "cognito-idp:DescribeUserPoolClient", err)),
    }
    findings
}

/// Whether SES may send from SES_FROM_ADDRESS.
fn ses_sender(facts: &Facts, settings: &Settings) -> Vec<Finding> {
    let mut findings = Vec::new();
    let sender = &settings.ses_from_address;
    match &facts.sender_verified {
        Ok(true) => findings.push(finding(Level::Ok, "SES sender", format!("{sender} may send (a verified identity for it or its domain)"))),
        Ok(false) => findings.push(
            finding(Level::Fatal, "SES sender", format!("SES has no verified identity for SES_FROM_ADDRESS ({sender}) or its domain in this region: no code can be sent"))
                .fix("verify the address or its domain in SES in AWS_REGION (and request production access to send to any address)"),
        ),
        Err(err) => findings.push(unchecked("SES sender", "the sender's SES identity", "ses:GetEmailIdentity", err)),
    }
    findings
}

/// Whether the SES account may send, and to whom.
fn ses_account(facts: &Facts, settings: &Settings) -> Vec<Finding> {
    let mut findings = Vec::new();
    let region = settings
        .aws
        .region
        .as_deref()
        .unwrap_or("the default region");
    match &facts.mail_account {
        Ok(account) if !account.sending_enabled => findings.push(
            finding(Level::Fatal, "SES account", format!("SES has paused sending for this account in {region}: no code can be sent"))
                .fix("see the SES console's reputation dashboard (and any notice from AWS) to have sending resumed"),
        ),
        Ok(account) if !account.production_access => findings.push(
            finding(Level::Warn, "SES account", format!("the SES account in {region} is in the sandbox: mail reaches only verified addresses (at most 200 a day), so most users would get no code"))
                .fix("request production access for SES in this region (SES console, Get set up)"),
        ),
        Ok(account) => findings.push(finding(Level::Ok, "SES account", match account.daily_quota {
            Some(quota) if quota >= 0.0 => format!("out of the sandbox in {region}: may send to any address, {quota:.0} emails a day"),
            _ => format!("out of the sandbox in {region}: may send to any address"),
        })),
        Err(err) => findings.push(unchecked("SES account", "the SES account's sending state", "ses:GetAccount", err)),
    }
    findings
}

/// With `NOTIFY_SMS`: whether texts can reach any number.
fn sms_notices(facts: &Facts) -> Vec<Finding> {
    let mut findings = Vec::new();
    match &facts.sms_sandbox {
        None => {}
        Some(Ok(false)) => findings.push(finding(Level::Ok, "SMS notices", "NOTIFY_SMS: SNS may text any number (out of the SMS sandbox)")),
        Some(Ok(true)) => findings.push(
            finding(Level::Warn, "SMS notices", "NOTIFY_SMS is on but the account is in the SNS SMS sandbox: texts reach only the sandbox's verified numbers")
                .fix("request SMS production access in SNS (or unset NOTIFY_SMS)"),
        ),
        Some(Err(err)) => findings.push(unchecked("SMS notices", "the SNS SMS sandbox status", "sns:GetSMSSandboxAccountStatus", err)),
    }
    findings
}

/// The database role against the grants the service needs (`config/service-role-grants.sql`):
/// one missing is fatal (some step would fail mid-recovery); a role that could rewrite the audit
/// log is a warning (the triggers and the hash chain still guard it).
pub fn database_role(privileges: &RolePrivileges) -> Finding {
    let role = &privileges.role;
    let grants = "apply config/service-role-grants.sql (with the role's name) as the owner, after `mfa-recovery migrate`";
    if !privileges.missing.is_empty() {
        let missing: Vec<String> = privileges.missing.iter().map(|g| g.to_string()).collect();
        return finding(
            Level::Fatal,
            "database role",
            format!(
                "{role} lacks {}: the recoveries that need it would fail",
                missing.join(", ")
            ),
        )
        .fix(grants);
    }
    match privileges.rewrites_audit {
        Some(how) => finding(
            Level::Warn,
            "database role",
            format!("{role} has every privilege the service needs, and {how}: it could rewrite the audit log (the hash chain would still show it)"),
        )
        .fix(format!("run the service as a role of its own with only these grants: {grants}")),
        None if !privileges.extra.is_empty() => {
            let extra: Vec<String> = privileges.extra.iter().map(|g| g.to_string()).collect();
            finding(
                Level::Warn,
                "database role",
                format!(
                    "{role} has every privilege the service needs, cannot rewrite the audit log, and holds more than it needs: {}",
                    extra.join(", ")
                ),
            )
            .fix("revoke them: config/service-role-grants.sql is the whole list")
        }
        None => finding(
            Level::Ok,
            "database role",
            format!("{role} has every privilege the service needs, and cannot rewrite the audit log"),
        ),
    }
}

/// Whether any finding keeps recoveries from working.
pub fn fatal(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.level == Level::Fatal)
}

/// The findings as a table for a terminal: level, check, what was found, and the fix.
pub fn report(findings: &[Finding]) -> String {
    let width = findings.iter().map(|f| f.check.len()).max().unwrap_or(0);
    let mut out = String::new();
    for f in findings {
        out.push_str(&format!(
            "{:<4}  {:<width$}  {}\n",
            f.level.as_str(),
            f.check,
            f.detail
        ));
        if let Some(fix) = &f.fix {
            out.push_str(&format!("{:<4}  {:<width$}  fix: {fix}\n", "", ""));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(extra: &[(&str, &str)]) -> Settings {
        let mut vars: std::collections::HashMap<String, String> = [
            ("DATABASE_URL", "postgres://localhost/x"),
            ("COGNITO_USER_POOL_ID", "us-east-1_abc"),
            ("COGNITO_CLIENT_ID", "client"),
            ("SES_FROM_ADDRESS", "no-reply@example.com"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Settings::load_from(vars).unwrap()
    }

    fn ready() -> Facts {
        Facts {
            mfa: Ok(PoolMfa {
                mode: MfaMode::Required,
                software_tokens: true,
                sms: false,
                email: true,
            }),
            pool: Ok(PoolDescription {
                case_sensitive: true,
                device_remembering: DeviceRemembering::UserOptIn,
                tier: Some(PoolTier::Essentials),
            }),
            app_client: Ok(Some(AppClient {
                explicit_auth_flows: vec!["ALLOW_ADMIN_USER_PASSWORD_AUTH".into()],
                has_secret: false,
                secret_matches: None,
                auth_session_validity_minutes: Some(15),
            })),
            sender_verified: Ok(true),
            mail_account: Ok(MailAccount {
                sending_enabled: true,
                production_access: true,
                daily_quota: Some(50_000.0),
            }),
            token_deletion: Ok(TokenRemoval::Refused("UserNotFoundException".into())),
            sms_sandbox: None,
        }
    }

    fn levels(findings: &[Finding]) -> Vec<(&'static str, Level)> {
        findings.iter().map(|f| (f.check, f.level)).collect()
    }

    #[test]
    fn a_ready_pool_has_no_finding_above_ok() {
        let findings = assess(&ready(), &settings(&[]));
        assert!(
            findings.iter().all(|f| f.level == Level::Ok),
            "{findings:?}"
        );
    }

    #[test]
    fn a_secret_the_service_lacks_is_fatal_and_a_short_session_is_a_warning() {
        let mut facts = ready();
        facts.app_client = Ok(Some(AppClient {
            explicit_auth_flows: vec!["ALLOW_ADMIN_USER_PASSWORD_AUTH".into()],
            has_secret: true,
            secret_matches: None,
            auth_session_validity_minutes: None,
        }));
        let findings = assess(&facts, &settings(&[("ENROLLMENT_TTL_SECONDS", "600")]));
        let found = levels(&findings);
        assert!(
            found.contains(&("app client secret", Level::Fatal)),
            "{found:?}"
        );
        assert!(
            found.contains(&("enrollment time", Level::Warn)),
            "{found:?}"
        );
        assert!(fatal(&findings));
    }

    #[test]
    fn without_admin_delete_software_token_a_required_pool_cannot_reset_and_an_optional_one_can_partly(
    ) {
        let mut facts = ready();
        facts.token_deletion = Ok(TokenRemoval::Unsupported(
            "UnknownOperationException".into(),
        ));
        let found = levels(&assess(&facts, &settings(&[])));
        assert!(
            found.contains(&("token deletion", Level::Fatal)),
            "{found:?}"
        );
        facts.mfa = Ok(PoolMfa {
            mode: MfaMode::Optional,
            software_tokens: true,
            sms: false,
            email: true,
        });
        let found = levels(&assess(&facts, &settings(&[])));
        assert!(
            found.contains(&("token deletion", Level::Warn)),
            "{found:?}"
        );
    }

    #[test]
    fn sms_notices_in_the_sns_sandbox_are_a_warning_and_unchecked_without_notify_sms() {
        let mut facts = ready();
        assert!(!levels(&assess(&facts, &settings(&[])))
            .iter()
            .any(|(c, _)| *c == "SMS notices"));
        facts.sms_sandbox = Some(Ok(true));
        let found = levels(&assess(&facts, &settings(&[("NOTIFY_SMS", "true")])));
        assert!(found.contains(&("SMS notices", Level::Warn)), "{found:?}");
        facts.sms_sandbox = Some(Ok(false));
        let found = levels(&assess(&facts, &settings(&[("NOTIFY_SMS", "true")])));
        assert!(found.contains(&("SMS notices", Level::Ok)), "{found:?}");
    }

    #[test]
    fn a_missing_grant_is_fatal_and_a_role_that_could_rewrite_the_audit_log_a_warning() {
        use crate::store::role::{Grant, ObjectKind};
        let mut role = RolePrivileges {
            role: "svc".into(),
            missing: vec![Grant {
                privilege: "UPDATE".into(),
                object: "jobs".into(),
                kind: ObjectKind::Table,
            }],
            extra: Vec::new(),
            rewrites_audit: None,
        };
        let found = database_role(&role);
        assert_eq!(found.level, Level::Fatal);
        assert!(
            found.detail.contains("svc lacks UPDATE on jobs"),
            "{found:?}"
        );
        role.missing.clear();
        assert_eq!(database_role(&role).level, Level::Ok);
        role.extra.push(Grant {
            privilege: "DELETE".into(),
            object: "rate_limits_archive".into(),
            kind: ObjectKind::Table,
        });
        let found = database_role(&role);
        assert_eq!(found.level, Level::Warn);
        assert!(
            found
                .detail
                .contains("holds more than it needs: DELETE on rate_limits_archive"),
            "{found:?}"
        );
        role.rewrites_audit = Some("is a superuser");
        assert_eq!(database_role(&role).level, Level::Warn);
    }

    #[test]
    fn sms_recovery_in_a_pool_without_sms_mfa_is_a_warning() {
        let mut facts = ready();
        assert!(!levels(&assess(&facts, &settings(&[])))
            .iter()
            .any(|(c, _)| *c == "SMS recovery"));
        let sms = [("RECOVERY_FACTORS", "totp,sms")];
        let found = levels(&assess(&facts, &settings(&sms)));
        assert!(found.contains(&("SMS recovery", Level::Warn)), "{found:?}");
        if let Ok(mfa) = facts.mfa.as_mut() {
            mfa.sms = true;
        }
        let findings = assess(&facts, &settings(&sms));
        assert!(
            levels(&findings).contains(&("SMS recovery", Level::Ok)),
            "{findings:?}"
        );
        let pool = findings.iter().find(|f| f.check == "pool MFA").unwrap();
        assert!(
            pool.detail
                .contains("(factors: authenticator apps (TOTP), SMS, email)"),
            "{pool:?}"
        );
    }

    #[test]
    fn an_ses_account_in_the_sandbox_is_a_warning_and_one_that_may_not_send_is_fatal() {
        let mut facts = ready();
        let account = |sending_enabled, production_access| {
            Ok(MailAccount {
                sending_enabled,
                production_access,
                daily_quota: Some(200.0),
            })
        };
        facts.mail_account = account(true, false);
        let found = levels(&assess(&facts, &settings(&[])));
        assert!(found.contains(&("SES account", Level::Warn)), "{found:?}");
        facts.mail_account = account(false, true);
        let findings = assess(&facts, &settings(&[]));
        assert!(
            levels(&findings).contains(&("SES account", Level::Fatal)),
            "{findings:?}"
        );
        assert!(fatal(&findings));
    }

    #[test]
    fn a_check_the_service_may_not_make_is_a_warning_not_a_refusal_to_start() {
        let mut facts = ready();
        facts.app_client = Err(IdpError::Refused {
            operation: "DescribeUserPoolClient",
            code: "AccessDeniedException".into(),
        });
        facts.sender_verified = Err(MailError::Rejected("AccessDeniedException".into()));
        facts.mail_account = Err(MailError::Rejected("AccessDeniedException".into()));
        facts.token_deletion = Ok(TokenRemoval::Refused("AccessDeniedException".into()));
        facts.sms_sandbox = Some(Err(TextError::Rejected("AuthorizationError".into())));
        let findings = assess(&facts, &settings(&[]));
        assert!(!fatal(&findings), "{findings:?}");
        let unchecked: Vec<_> = findings.iter().filter(|f| f.level == Level::Warn).collect();
        assert_eq!(unchecked.len(), 5, "{findings:?}");
        assert!(unchecked.iter().any(|f| f
            .fix
            .as_deref()
            .unwrap_or("")
            .contains("ses:GetEmailIdentity")));
    }

    #[test]
    fn in_production_without_trusted_proxies_every_client_sharing_one_address_is_a_warning() {
        let production = [
            ("APP_ENV", "production"),
            (
                "CODE_PEPPER",
                "a-production-pepper-of-at-least-32-bytes-0123456789",
            ),
            // base64 of 32 bytes, an Ed25519 key for this test only.
            (
                "AUDIT_SIGNING_KEY",
                "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
            ),
        ];
        let without = assess(&ready(), &settings(&production));
        assert!(
            levels(&without).contains(&("client addresses", Level::Warn)),
            "{:?}",
            levels(&without)
        );
        let behind_proxies = [&production[..], &[("TRUSTED_PROXIES", "10.0.0.0/8")]].concat();
        let with = assess(&ready(), &settings(&behind_proxies));
        assert!(!levels(&with)
            .iter()
            .any(|(check, _)| *check == "client addresses"));
        let local = assess(&ready(), &settings(&[]));
        assert!(!levels(&local)
            .iter()
            .any(|(check, _)| *check == "client addresses"));
    }

    #[test]
    fn the_staff_console_is_checked_only_when_on_and_a_cognito_issuer_needs_mfa_checked_elsewhere()
    {
        let off = settings(&[]);
        assert_eq!(
            levels(&staff_console(&off, None, None)),
            [("staff console", Level::Ok)]
        );
        let on = |extra: &[(&str, &str)]| {
            let mut vars = vec![
                (
                    "STAFF_OIDC_ISSUER",
                    "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_x",
                ),
                ("STAFF_OIDC_CLIENT_ID", "console"),
                ("STAFF_BASE_URL", "https://recovery.example.com"),
            ];
            vars.extend_from_slice(extra);
            settings(&vars)
        };
        let cognito = crate::oidc::ProviderDescription {
            issuer: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_x".into(),
            authorization_code: true,
            keys: 2,
            cognito: true,
        };
        assert_eq!(
            levels(&staff_console(&on(&[]), Some(Ok(cognito.clone())), None)),
            [("staff console", Level::Warn)],
            "no amr from Cognito: nobody could sign in"
        );
        let trusted = on(&[("STAFF_OIDC_REQUIRE_MFA", "false")]);
        let findings = staff_console(&trusted, Some(Ok(cognito.clone())), None);
        assert_eq!(levels(&findings), [("staff console", Level::Ok)]);
        assert!(findings[0]
            .detail
            .contains("https://recovery.example.com/staff/callback"));
        let down = staff_console(
            &trusted,
            Some(Err(ProviderError::Unavailable("connection refused".into()))),
            None,
        );
        assert_eq!(levels(&down), [("staff console", Level::Warn)]);

        // The staff pool's own MFA setting: required, or a warning.
        let pool = |mode| {
            Some(Ok(PoolMfa {
                mode,
                software_tokens: true,
                sms: false,
                email: false,
            }))
        };
        let checked = |mfa| levels(&staff_console(&trusted, Some(Ok(cognito.clone())), mfa));
        assert_eq!(
            checked(pool(MfaMode::Required)),
            [("staff console", Level::Ok), ("staff pool MFA", Level::Ok)]
        );
        assert_eq!(
            checked(pool(MfaMode::Optional)),
            [
                ("staff console", Level::Ok),
                ("staff pool MFA", Level::Warn)
            ]
        );
    }
}
