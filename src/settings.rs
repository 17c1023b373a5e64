//! Typed settings, layered: `config/default.toml` → `config/$APP_ENV.toml` → environment.
//!
//! Every key is the lower-case form of its environment variable (`RECOVERY_CODE_TTL_SECONDS`
//! is `recovery_code_ttl_seconds` in the TOML files), so one table documents both. Each section
//! reads its own keys (`Raw*`) and becomes typed settings through `TryFrom`, which refuses a
//! value out of range by the name of its variable instead of quietly changing it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::domain::{RecoveryFactors, TrustedProxies};

/// Used only with `APP_ENV=local` when `CODE_PEPPER` is unset, so a developer can start the
/// service with no secrets; production refuses to start without a real pepper.
const LOCAL_DEV_PEPPER: &str = "local-development-pepper-not-a-secret-0123456789";
/// HMAC and argon2 secrets below 256 bits are refused in production.
const MIN_PEPPER_BYTES: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppEnv {
    Local,
    Production,
}

impl AppEnv {
    fn parse(value: &str) -> Result<Self, SettingsError> {
        match value.trim().to_ascii_lowercase().as_str() {
            "local" => Ok(Self::Local),
            "production" => Ok(Self::Production),
            other => Err(invalid(
                "APP_ENV",
                format!("must be `local` or `production`, not `{other}`"),
            )),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Production => "production",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("setting {0} is required")]
    Missing(&'static str),
    #[error("setting {name} is invalid: {reason}")]
    Invalid { name: String, reason: String },
    #[error("could not read the settings: {0}")]
    Load(#[from] config::ConfigError),
    /// Every mistake found, so that one start reports them all.
    #[error("{} settings are wrong:\n  {}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  "))]
    Several(Vec<SettingsError>),
}

fn invalid(name: &str, reason: impl Into<String>) -> SettingsError {
    SettingsError::Invalid {
        name: name.to_owned(),
        reason: reason.into(),
    }
}

/// Collects the mistakes of several independent checks, so that all of them are reported.
#[derive(Default)]
struct Mistakes(Vec<SettingsError>);

impl Mistakes {
    /// The value, or `None` with its mistake noted.
    fn take<T>(&mut self, checked: Result<T, SettingsError>) -> Option<T> {
        match checked {
            Ok(value) => Some(value),
            Err(SettingsError::Several(all)) => {
                self.0.extend(all);
                None
            }
            Err(err) => {
                self.0.push(err);
                None
            }
        }
    }

    /// Err with every mistake noted (one alone as itself), if there is any.
    fn check(self) -> Result<(), SettingsError> {
        match self.0.len() {
            0 => Ok(()),
            1 => Err(self.0.into_iter().next().expect("one")),
            _ => Err(SettingsError::Several(self.0)),
        }
    }
}

fn required(value: Option<String>, name: &'static str) -> Result<String, SettingsError> {
    value
        .filter(|v| !v.trim().is_empty())
        .ok_or(SettingsError::Missing(name))
}

/// `value`, if it is at least `min`; otherwise an error naming the variable, the value and the
/// minimum.
fn at_least<T: PartialOrd + std::fmt::Display>(
    name: &'static str,
    value: T,
    min: T,
) -> Result<T, SettingsError> {
    if value < min {
        return Err(invalid(
            name,
            format!("must be at least {min}, not {value}"),
        ));
    }
    Ok(value)
}

/// Whether a listen address only accepts connections from this machine.
fn is_loopback(bind_addr: &str) -> bool {
    match bind_addr.parse::<std::net::SocketAddr>() {
        Ok(addr) => addr.ip().is_loopback(),
        Err(_) => bind_addr
            .rsplit_once(':')
            .is_some_and(|(host, _)| host.eq_ignore_ascii_case("localhost")),
    }
}

/// `value`, if it is at most `max`.
fn at_most<T: PartialOrd + std::fmt::Display>(
    name: &'static str,
    value: T,
    max: T,
) -> Result<T, SettingsError> {
    if value > max {
        return Err(invalid(name, format!("must be at most {max}, not {value}")));
    }
    Ok(value)
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub app_env: AppEnv,
    pub database: DatabaseSettings,
    pub server: ServerSettings,
    pub cognito: CognitoSettings,
    pub ses_from_address: String,
    pub aws: AwsSettings,
    pub recovery: RecoverySettings,
    pub hashing: HashingSettings,
    pub worker: WorkerSettings,
    pub audit: AuditSettings,
}

// ---------------------------------------------------------------------------------------------
// Server

#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub bind_addr: String,
    /// The internal listener: `/metrics`, `/healthz`, `/readyz`; never exposed publicly.
    pub admin_bind_addr: String,
    pub log_format: LogFormat,
}

#[derive(Deserialize)]
struct RawServer {
    bind_addr: String,
    admin_bind_addr: String,
    log_format: String,
}

/// A listen address: `IP:port` (or `localhost:port`).
fn listen_addr(name: &str, value: String) -> Result<String, SettingsError> {
    let valid = value.parse::<std::net::SocketAddr>().is_ok()
        || value.rsplit_once(':').is_some_and(|(host, port)| {
            host.eq_ignore_ascii_case("localhost") && port.parse::<u16>().is_ok()
        });
    if !valid {
        return Err(invalid(
            name,
            format!("must be an address and a port, such as 127.0.0.1:8080, 0.0.0.0:8080 or [::]:8080, not `{value}`"),
        ));
    }
    Ok(value)
}

impl TryFrom<RawServer> for ServerSettings {
    type Error = SettingsError;

    fn try_from(raw: RawServer) -> Result<Self, SettingsError> {
        let mut mistakes = Mistakes::default();
        let bind_addr = mistakes.take(listen_addr("BIND_ADDR", raw.bind_addr));
        let admin_bind_addr = mistakes.take(listen_addr("ADMIN_BIND_ADDR", raw.admin_bind_addr));
        let log_format = mistakes.take(match raw.log_format.trim().to_ascii_lowercase().as_str() {
            "pretty" => Ok(LogFormat::Pretty),
            "json" => Ok(LogFormat::Json),
            _ => Err(invalid(
                "LOG_FORMAT",
                format!("must be `pretty` or `json`, not `{}`", raw.log_format),
            )),
        });
        mistakes.check()?;
        Ok(Self {
            bind_addr: bind_addr.expect("checked"),
            admin_bind_addr: admin_bind_addr.expect("checked"),
            log_format: log_format.expect("checked"),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Database: all that the administrative commands (`migrate`, `staff`, `audit`) need.

#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub url: SecretString,
    pub max_connections: u32,
}

#[derive(Deserialize)]
struct RawDatabase {
    database_url: Option<SecretString>,
    database_max_connections: u32,
}

impl TryFrom<RawDatabase> for DatabaseSettings {
    type Error = SettingsError;

    fn try_from(raw: RawDatabase) -> Result<Self, SettingsError> {
        let mut mistakes = Mistakes::default();
        let url = mistakes.take(
            raw.database_url
                .ok_or(SettingsError::Missing("DATABASE_URL"))
                .and_then(|url| {
                    // The value is not repeated: it may hold a password.
                    match sqlx::postgres::PgConnectOptions::from_str(url.expose_secret()) {
                        Ok(_) => Ok(url),
                        Err(_) => Err(invalid(
                            "DATABASE_URL",
                            "must be a PostgreSQL URL, such as postgres://user:password@host:5432/database",
                        )),
                    }
                }),
        );
        // A job loop and a request each hold one.
        let max_connections = mistakes.take(at_least(
            "DATABASE_MAX_CONNECTIONS",
            raw.database_max_connections,
            2,
        ));
        mistakes.check()?;
        Ok(Self {
            url: url.expect("checked"),
            max_connections: max_connections.expect("checked"),
        })
    }
}

impl DatabaseSettings {
    /// Reads the same layers as `Settings::load`, but requires only `DATABASE_URL`.
    pub fn load() -> Result<Self, SettingsError> {
        Self::load_from(std::env::vars().collect())
    }

    pub fn load_from(vars: HashMap<String, String>) -> Result<Self, SettingsError> {
        let (_, layers) = Layers::read(vars)?;
        layers.section::<RawDatabase, Self>()
    }
}

// ---------------------------------------------------------------------------------------------
// Cognito and SES

#[derive(Debug, Clone)]
pub struct CognitoSettings {
    pub user_pool_id: String,
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
}

#[derive(Deserialize)]
struct RawCognito {
    cognito_user_pool_id: Option<String>,
    cognito_client_id: Option<String>,
    cognito_client_secret: Option<SecretString>,
}

impl TryFrom<RawCognito> for CognitoSettings {
    type Error = SettingsError;

    fn try_from(raw: RawCognito) -> Result<Self, SettingsError> {
        Ok(Self {
            user_pool_id: required(raw.cognito_user_pool_id, "COGNITO_USER_POOL_ID")?,
            client_id: raw.cognito_client_id,
            client_secret: raw.cognito_client_secret,
        })
    }
}

#[derive(Deserialize)]
struct RawSes {
    ses_from_address: Option<String>,
}

fn ses_from_address(raw: RawSes) -> Result<String, SettingsError> {
    let address = required(raw.ses_from_address, "SES_FROM_ADDRESS")?;
    if !address.contains('@') {
        return Err(invalid("SES_FROM_ADDRESS", "must be an email address"));
    }
    Ok(address)
}

// ---------------------------------------------------------------------------------------------
// AWS clients

#[derive(Debug, Clone)]
pub struct AwsSettings {
    /// Overrides the SDK's region chain when set (`AWS_REGION` is read by the SDK as well).
    pub region: Option<String>,
    /// Overrides the endpoint of every AWS service (emulators, VPC endpoints).
    pub endpoint_url: Option<String>,
    pub connect_timeout: Duration,
    pub attempt_timeout: Duration,
    pub operation_timeout: Duration,
    pub max_attempts: u32,
    /// How long `serve` keeps asking an unreachable or throttling Cognito for the pool's
    /// settings at start before it gives up and exits.
    pub startup_wait: Duration,
}

#[derive(Deserialize)]
struct RawAws {
    aws_region: Option<String>,
    aws_endpoint_url: Option<String>,
    aws_connect_timeout_ms: u64,
    aws_attempt_timeout_ms: u64,
    aws_operation_timeout_ms: u64,
    aws_max_attempts: u32,
    aws_startup_wait_seconds: u64,
}

impl TryFrom<RawAws> for AwsSettings {
    type Error = SettingsError;

    fn try_from(raw: RawAws) -> Result<Self, SettingsError> {
        let millis = |name, value| at_least(name, value, 1).map(Duration::from_millis);
        Ok(Self {
            region: raw.aws_region,
            endpoint_url: raw.aws_endpoint_url,
            connect_timeout: millis("AWS_CONNECT_TIMEOUT_MS", raw.aws_connect_timeout_ms)?,
            attempt_timeout: millis("AWS_ATTEMPT_TIMEOUT_MS", raw.aws_attempt_timeout_ms)?,
            operation_timeout: millis("AWS_OPERATION_TIMEOUT_MS", raw.aws_operation_timeout_ms)?,
            max_attempts: at_least("AWS_MAX_ATTEMPTS", raw.aws_max_attempts, 1)?,
            startup_wait: Duration::from_secs(raw.aws_startup_wait_seconds),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Recovery rules

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
    pub requests_per_ip_per_hour: u32,
    /// Wrong confirmations one account may take in 24 hours (rolling), across its recoveries and
    /// addresses; one client address block gets at most half. At most 100 (NIST SP 800-63B-4).
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
}

#[derive(Deserialize)]
struct RawRecovery {
    recovery_code_ttl_seconds: u64,
    recovery_max_attempts: u32,
    recovery_require_password: bool,
    recovery_requests_per_user_per_hour: u32,
    recovery_emails_per_user_per_day: u32,
    support_recoveries_per_user_per_day: u32,
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
        Ok(Self {
            factors,
            notify_sms: raw.notify_sms,
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
const COGNITO_MAX_SESSION_SECONDS: u64 = 900;

/// A comma-separated list of origins: `scheme://host[:port]`, nothing after.
fn origins(list: &str) -> Result<Vec<String>, SettingsError> {
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

fn http_url(name: &'static str, value: Option<String>) -> Result<Option<String>, SettingsError> {
    match value {
        Some(url) if !(url.starts_with("https://") || url.starts_with("http://")) => Err(invalid(
            name,
            format!("must be an http(s) URL, not `{url}`"),
        )),
        other => Ok(other),
    }
}

fn totp_issuer(value: String) -> Result<String, SettingsError> {
    let value = value.trim().to_owned();
    if value.is_empty() || value.chars().count() > 64 || value.contains(':') {
        return Err(invalid(
            "TOTP_ISSUER",
            "must be 1 to 64 characters without a colon (authenticator apps split the label on it)",
        ));
    }
    Ok(value)
}

// ---------------------------------------------------------------------------------------------
// Hashing

#[derive(Clone)]
pub struct HashingSettings {
    pub pepper: SecretString,
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    /// Hashes computed at once (a semaphore): one per core keeps the HTTP workers responsive.
    pub concurrency: usize,
    /// How long a hash may wait for a slot; past it the request is refused with 503 (a flood of
    /// confirmations then costs its senders, not everyone's latency).
    pub queue_timeout: Duration,
}

impl std::fmt::Debug for HashingSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HashingSettings")
            .field("pepper", &"[redacted]")
            .field("memory_kib", &self.memory_kib)
            .field("iterations", &self.iterations)
            .field("parallelism", &self.parallelism)
            .field("concurrency", &self.concurrency)
            .field("queue_timeout", &self.queue_timeout)
            .finish()
    }
}

#[derive(Deserialize)]
struct RawHashing {
    code_pepper: Option<SecretString>,
    argon2_memory_kib: u32,
    argon2_iterations: u32,
    argon2_parallelism: u32,
    hash_concurrency: usize,
    hash_queue_timeout_ms: u64,
}

impl TryFrom<(AppEnv, RawHashing)> for HashingSettings {
    type Error = SettingsError;

    fn try_from((app_env, raw): (AppEnv, RawHashing)) -> Result<Self, SettingsError> {
        let pepper = match (raw.code_pepper, app_env) {
            (Some(pepper), _) => pepper,
            (None, AppEnv::Local) => SecretString::from(LOCAL_DEV_PEPPER),
            (None, AppEnv::Production) => return Err(SettingsError::Missing("CODE_PEPPER")),
        };
        if pepper.expose_secret().len() < MIN_PEPPER_BYTES {
            return Err(invalid(
                "CODE_PEPPER",
                format!("must be at least {MIN_PEPPER_BYTES} bytes"),
            ));
        }
        if app_env == AppEnv::Production && pepper.expose_secret() == LOCAL_DEV_PEPPER {
            return Err(invalid("CODE_PEPPER", "is the public development value"));
        }
        // The example manifests' placeholder is long enough to pass the length check.
        if pepper
            .expose_secret()
            .to_ascii_uppercase()
            .contains("CHANGE_ME")
        {
            return Err(invalid(
                "CODE_PEPPER",
                "is a placeholder: generate one with `openssl rand -base64 48` and keep it in your secret store",
            ));
        }
        // OWASP Password Storage Cheat Sheet: argon2id with at least m=19 MiB, t=2, p=1.
        let owasp = " (OWASP's minimum for argon2id is m=19456, t=2, p=1)";
        let floor = |name, value, min| {
            at_least(name, value, min).map_err(|e| match e {
                SettingsError::Invalid { name, reason } => invalid(&name, reason + owasp),
                other => other,
            })
        };
        Ok(Self {
            pepper,
            memory_kib: floor("ARGON2_MEMORY_KIB", raw.argon2_memory_kib, 19456)?,
            iterations: floor("ARGON2_ITERATIONS", raw.argon2_iterations, 2)?,
            parallelism: floor("ARGON2_PARALLELISM", raw.argon2_parallelism, 1)?,
            concurrency: match raw.hash_concurrency {
                0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
                n => n,
            },
            queue_timeout: Duration::from_millis(at_least(
                "HASH_QUEUE_TIMEOUT_MS",
                raw.hash_queue_timeout_ms,
                1,
            )?),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Audit checkpoints

/// Used only with `APP_ENV=local` when `AUDIT_SIGNING_KEY` is unset: a fixed, public development
/// seed, so that checkpoints work locally with no secrets; production refuses it.
const LOCAL_DEV_AUDIT_SEED: [u8; 32] = *b"local-dev-audit-key-not-secret!!";

/// The key that signs audit checkpoints (`AUDIT_SIGNING_KEY`: base64 of a 32-byte Ed25519
/// seed). Its `Debug` shows only the public half.
#[derive(Clone)]
pub struct AuditSettings {
    pub signing_key: ed25519_dalek::SigningKey,
}

impl std::fmt::Debug for AuditSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditSettings")
            .field("signing_key", &"[redacted]")
            .finish()
    }
}

#[derive(Deserialize)]
struct RawAudit {
    audit_signing_key: Option<SecretString>,
}

impl TryFrom<(AppEnv, RawAudit)> for AuditSettings {
    type Error = SettingsError;

    fn try_from((app_env, raw): (AppEnv, RawAudit)) -> Result<Self, SettingsError> {
        use base64::Engine;
        let seed: [u8; 32] = match (raw.audit_signing_key, app_env) {
            (Some(key), _) => base64::engine::general_purpose::STANDARD
                .decode(key.expose_secret().trim())
                .ok()
                .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
                .ok_or_else(|| {
                    invalid(
                        "AUDIT_SIGNING_KEY",
                        "must be the base64 of a 32-byte Ed25519 seed (generate one with `openssl rand -base64 32`)",
                    )
                })?,
            (None, AppEnv::Local) => LOCAL_DEV_AUDIT_SEED,
            (None, AppEnv::Production) => return Err(SettingsError::Missing("AUDIT_SIGNING_KEY")),
        };
        if app_env == AppEnv::Production && seed == LOCAL_DEV_AUDIT_SEED {
            return Err(invalid(
                "AUDIT_SIGNING_KEY",
                "is the public development value",
            ));
        }
        Ok(Self {
            signing_key: ed25519_dalek::SigningKey::from_bytes(&seed),
        })
    }
}

impl AuditSettings {
    /// Reads the same layers as `Settings::load`, but requires only what signing needs.
    pub fn load() -> Result<Self, SettingsError> {
        Self::load_from(std::env::vars().collect())
    }

    pub fn load_from(vars: HashMap<String, String>) -> Result<Self, SettingsError> {
        let (app_env, layers) = Layers::read(vars)?;
        layers
            .raw::<RawAudit>()
            .and_then(|raw| Self::try_from((app_env, raw)))
    }
}

// ---------------------------------------------------------------------------------------------
// Job queue

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    pub poll_interval: Duration,
    pub job_max_attempts: u32,
    pub retry_base: Duration,
    /// How often expired code hashes are purged.
    pub retention_interval: Duration,
    /// How often the sequencer chains recorded audit events: the longest an event waits to be
    /// chained, give or take one batch.
    pub audit_chain_interval: Duration,
}

#[derive(Deserialize)]
struct RawWorker {
    worker_poll_interval_ms: u64,
    job_max_attempts: u32,
    job_retry_base_seconds: u64,
    retention_interval_seconds: u64,
    audit_chain_interval_ms: u64,
}

impl TryFrom<RawWorker> for WorkerSettings {
    type Error = SettingsError;

    fn try_from(raw: RawWorker) -> Result<Self, SettingsError> {
        Ok(Self {
            poll_interval: Duration::from_millis(at_least(
                "WORKER_POLL_INTERVAL_MS",
                raw.worker_poll_interval_ms,
                10,
            )?),
            job_max_attempts: at_least("JOB_MAX_ATTEMPTS", raw.job_max_attempts, 1)?,
            retry_base: Duration::from_secs(raw.job_retry_base_seconds),
            retention_interval: Duration::from_secs(at_least(
                "RETENTION_INTERVAL_SECONDS",
                raw.retention_interval_seconds,
                1,
            )?),
            audit_chain_interval: Duration::from_millis(at_least(
                "AUDIT_CHAIN_INTERVAL_MS",
                raw.audit_chain_interval_ms,
                10,
            )?),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Loading

impl Settings {
    /// Reads `config/` (or `$APP_CONFIG_DIR`) and the process environment.
    pub fn load() -> Result<Self, SettingsError> {
        Self::load_from(std::env::vars().collect())
    }

    /// As `load`, with `vars` standing for the environment (tests pass their own).
    pub fn load_from(vars: HashMap<String, String>) -> Result<Self, SettingsError> {
        let (app_env, layers) = Layers::read(vars)?;
        let mut mistakes = Mistakes::default();
        let database = mistakes.take(layers.section::<RawDatabase, _>());
        let server = mistakes.take(layers.section::<RawServer, _>());
        let cognito = mistakes.take(layers.section::<RawCognito, _>());
        let ses = mistakes.take(layers.raw().and_then(ses_from_address));
        let aws = mistakes.take(layers.section::<RawAws, _>());
        let recovery = mistakes.take(layers.section::<RawRecovery, _>());
        let hashing = mistakes.take(
            layers
                .raw::<RawHashing>()
                .and_then(|raw| HashingSettings::try_from((app_env, raw))),
        );
        let worker = mistakes.take(layers.section::<RawWorker, _>());
        let audit = mistakes.take(
            layers
                .raw::<RawAudit>()
                .and_then(|raw| AuditSettings::try_from((app_env, raw))),
        );
        mistakes.check()?;
        let settings = Self {
            app_env,
            database: database.expect("checked"),
            server: server.expect("checked"),
            cognito: cognito.expect("checked"),
            ses_from_address: ses.expect("checked"),
            aws: aws.expect("checked"),
            recovery: recovery.expect("checked"),
            hashing: hashing.expect("checked"),
            worker: worker.expect("checked"),
            audit: audit.expect("checked"),
        };
        // The development pepper is public: only a service nobody else can reach may use it.
        if settings.hashing.pepper.expose_secret() == LOCAL_DEV_PEPPER
            && !is_loopback(&settings.server.bind_addr)
        {
            return Err(invalid(
                "CODE_PEPPER",
                format!(
                    "is required unless the service listens on loopback only (BIND_ADDR is {}): the development pepper is public",
                    settings.server.bind_addr
                ),
            ));
        }
        if settings.recovery.require_password && settings.cognito.client_id.is_none() {
            return Err(invalid(
                "COGNITO_CLIENT_ID",
                "is required while RECOVERY_REQUIRE_PASSWORD is on (the password is checked with it)",
            ));
        }
        Ok(settings)
    }
}

/// `config/default.toml`, then `config/$APP_ENV.toml`, then the environment.
struct Layers {
    config: config::Config,
    /// `config/default.toml` alone: what a wrongly typed value is replaced with while looking
    /// for further mistakes.
    defaults: config::Config,
}

impl Layers {
    fn read(vars: HashMap<String, String>) -> Result<(AppEnv, Self), SettingsError> {
        let app_env = match vars.get("APP_ENV") {
            Some(value) => AppEnv::parse(value)?,
            None => AppEnv::Local,
        };
        let dir = vars
            .get("APP_CONFIG_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config"));
        let dir = if dir.exists() {
            dir
        } else {
            PathBuf::from("config")
        };
        // Empty variables count as unset, as most deployment tools write them for "no value".
        let vars: config::Map<String, String> =
            vars.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        let defaults = config::File::from(dir.join("default.toml")).required(true);
        let config = config::Config::builder()
            .add_source(defaults.clone())
            .add_source(
                config::File::from(dir.join(format!("{}.toml", app_env.as_str()))).required(false),
            )
            .add_source(config::Environment::default().source(Some(vars)))
            .build()?;
        let defaults = config::Config::builder().add_source(defaults).build()?;
        Ok((app_env, Self { config, defaults }))
    }

    /// One section's keys, as written. A value of the wrong type (`RECOVERY_MAX_ATTEMPTS=five`)
    /// is reported by its variable's name; then the section is read again with that key at its
    /// default, to report every such mistake at once.
    fn raw<R: DeserializeOwned>(&self) -> Result<R, SettingsError> {
        let (raw, mistakes) = self.raw_and_mistakes()?;
        mistakes.check()?;
        Ok(raw)
    }

    /// The section with every wrongly typed key at its default, and those keys' mistakes.
    fn raw_and_mistakes<R: DeserializeOwned>(&self) -> Result<(R, Mistakes), SettingsError> {
        let mut config = self.config.clone();
        let mut mistakes = Mistakes::default();
        loop {
            match config.clone().try_deserialize::<R>() {
                Ok(raw) => return Ok((raw, mistakes)),
                Err(config::ConfigError::Type {
                    key: Some(key),
                    unexpected,
                    expected,
                    ..
                }) if mistakes.0.len() < 100 => {
                    // `string "five"` is shown as `five`, as it was written.
                    let unexpected = unexpected.to_string();
                    let shown = match unexpected.strip_prefix("string \"") {
                        Some(value) => format!("`{}`", value.trim_end_matches('"')),
                        None => unexpected,
                    };
                    mistakes.0.push(invalid(
                        &key.to_ascii_uppercase(),
                        format!("must be {expected}, not {shown}"),
                    ));
                    let default = self
                        .defaults
                        .get::<config::Value>(&key)
                        .unwrap_or_else(|_| config::Value::new(None, config::ValueKind::Nil));
                    config = config::Config::builder()
                        .add_source(config)
                        .set_override(key, default)?
                        .build()?;
                }
                Err(err) => {
                    mistakes.0.push(err.into());
                    return Err(mistakes.check().expect_err("a mistake"));
                }
            }
        }
    }

    /// One section, checked: the values' mistakes are reported with the types' (the wrongly
    /// typed keys checked at their defaults).
    fn section<R: DeserializeOwned, S: TryFrom<R, Error = SettingsError>>(
        &self,
    ) -> Result<S, SettingsError> {
        let (raw, mut mistakes) = self.raw_and_mistakes()?;
        let section = mistakes.take(S::try_from(raw));
        mistakes.check()?;
        Ok(section.expect("checked"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const BASE: [(&str, &str); 4] = [
        ("DATABASE_URL", "postgres://localhost/x"),
        ("COGNITO_USER_POOL_ID", "us-east-1_abc"),
        ("COGNITO_CLIENT_ID", "client"),
        ("SES_FROM_ADDRESS", "no-reply@example.com"),
    ];

    #[test]
    fn contract_defaults_apply_when_nothing_overrides_them() {
        let s = Settings::load_from(vars(&BASE)).unwrap();
        assert_eq!(s.server.bind_addr, "127.0.0.1:8080");
        assert_eq!(s.recovery.code_ttl, Duration::from_secs(600));
        assert_eq!(s.recovery.max_attempts, 5);
        assert!(s.recovery.require_password);
        assert_eq!(s.recovery.requests_per_user_per_hour, 3);
        assert_eq!(s.recovery.requests_per_ip_per_hour, 30);
        assert_eq!(s.app_env, AppEnv::Local);
    }

    #[test]
    fn environment_variables_override_the_files() {
        let mut v = vars(&BASE);
        v.insert("RECOVERY_CODE_TTL_SECONDS".into(), "42".into());
        v.insert("RECOVERY_REQUIRE_PASSWORD".into(), "false".into());
        let s = Settings::load_from(v).unwrap();
        assert_eq!(s.recovery.code_ttl, Duration::from_secs(42));
        assert!(!s.recovery.require_password);
    }

    #[test]
    fn production_refuses_to_start_without_a_pepper_and_names_it() {
        let mut v = vars(&BASE);
        v.insert("APP_ENV".into(), "production".into());
        let err = Settings::load_from(v.clone()).unwrap_err().to_string();
        assert!(err.contains("CODE_PEPPER"), "{err}");
        v.insert("CODE_PEPPER".into(), "too-short".into());
        let err = Settings::load_from(v.clone()).unwrap_err().to_string();
        assert!(err.contains("CODE_PEPPER") && err.contains("32"), "{err}");
        v.insert("CODE_PEPPER".into(), "x".repeat(32));
        v.insert("AUDIT_SIGNING_KEY".into(), SEED_B64.into());
        assert!(Settings::load_from(v).is_ok());
    }

    /// base64 of 32 bytes of 0x07.
    const SEED_B64: &str = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";

    #[test]
    fn the_audit_signing_key_is_a_32_byte_seed_required_in_production_and_never_shown() {
        let mut v = vars(&BASE);
        v.insert("APP_ENV".into(), "production".into());
        v.insert("CODE_PEPPER".into(), "p".repeat(40));
        let err = Settings::load_from(v.clone()).unwrap_err().to_string();
        assert!(err.contains("AUDIT_SIGNING_KEY"), "{err}");
        for wrong in ["not base64!", "c2hvcnQ=", &"A".repeat(64)] {
            v.insert("AUDIT_SIGNING_KEY".into(), wrong.to_owned());
            let err = Settings::load_from(v.clone()).unwrap_err().to_string();
            assert!(
                err.contains("AUDIT_SIGNING_KEY") && err.contains("32-byte"),
                "{wrong}: {err}"
            );
            assert!(!err.contains(wrong), "the value is not repeated: {err}");
        }
        use base64::Engine;
        let dev = base64::engine::general_purpose::STANDARD.encode(LOCAL_DEV_AUDIT_SEED);
        v.insert("AUDIT_SIGNING_KEY".into(), dev);
        let err = Settings::load_from(v.clone()).unwrap_err().to_string();
        assert!(err.contains("development value"), "{err}");
        v.insert("AUDIT_SIGNING_KEY".into(), SEED_B64.into());
        let s = Settings::load_from(v.clone()).unwrap();
        assert_eq!(s.audit.signing_key.to_bytes(), [7u8; 32]);
        assert!(!format!("{s:?}").contains("BwcH"));
        // The administrative commands read only it.
        assert!(AuditSettings::load_from(vars(&[("AUDIT_SIGNING_KEY", SEED_B64)])).is_ok());
    }

    #[test]
    fn each_required_setting_is_named_when_missing() {
        for missing in ["DATABASE_URL", "COGNITO_USER_POOL_ID", "SES_FROM_ADDRESS"] {
            let mut v = vars(&BASE);
            v.remove(missing);
            v.insert("APP_ENV".into(), "production".into());
            v.insert("CODE_PEPPER".into(), "p".repeat(40));
            let err = Settings::load_from(v).unwrap_err().to_string();
            assert!(err.contains(missing), "{missing}: {err}");
        }
    }

    #[test]
    fn administrative_commands_need_only_the_database() {
        let v = vars(&[("DATABASE_URL", "postgres://localhost/x")]);
        assert!(DatabaseSettings::load_from(v).is_ok());
        let err = DatabaseSettings::load_from(vars(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("DATABASE_URL"), "{err}");
    }

    #[test]
    fn the_pepper_never_appears_in_debug_output() {
        let mut v = vars(&BASE);
        v.insert(
            "CODE_PEPPER".into(),
            "pepper-value-that-must-stay-hidden-42".into(),
        );
        let s = Settings::load_from(v).unwrap();
        assert!(!format!("{s:?}").contains("pepper-value-that-must-stay-hidden"));
    }

    #[test]
    fn every_wrong_setting_is_reported_at_once_by_its_variable_with_what_is_allowed() {
        let mut v = vars(&BASE);
        for (name, value) in [
            ("BIND_ADDR", "localhost"),
            ("LOG_FORMAT", "text"),
            ("RECOVERY_MAX_ATTEMPTS", "five"),
            ("RECOVERY_CODE_TTL_SECONDS", "ten minutes"),
            ("DATABASE_URL", "notaurl"),
            ("RECOVERY_FACTORS", "sms"),
            ("NOTIFY_SMS", "maybe"),
        ] {
            v.insert(name.into(), value.into());
        }
        let err = Settings::load_from(v).unwrap_err().to_string();
        assert!(err.starts_with("7 settings are wrong:\n"), "{err}");
        for line in [
            "setting BIND_ADDR is invalid: must be an address and a port, such as 127.0.0.1:8080, 0.0.0.0:8080 or [::]:8080, not `localhost`",
            "setting LOG_FORMAT is invalid: must be `pretty` or `json`, not `text`",
            "setting RECOVERY_MAX_ATTEMPTS is invalid: must be an integer, not `five`",
            "setting RECOVERY_CODE_TTL_SECONDS is invalid: must be an integer, not `ten minutes`",
            "setting DATABASE_URL is invalid: must be a PostgreSQL URL, such as postgres://user:password@host:5432/database",
            "setting RECOVERY_FACTORS is invalid: must be `totp` or `totp,sms` (a recovery always replaces the authenticator app), not `sms`",
            "setting NOTIFY_SMS is invalid: must be a boolean, not `maybe`",
        ] {
            assert!(err.contains(line), "missing {line:?} in:\n{err}");
        }
        assert!(!err.contains("recovery_max_attempts"), "no TOML key: {err}");
    }

    #[test]
    fn a_database_url_that_does_not_parse_is_not_repeated() {
        let mut v = vars(&BASE);
        v.insert("DATABASE_URL".into(), "postgres//admin:hunter2@db".into());
        let err = Settings::load_from(v).unwrap_err().to_string();
        assert!(err.contains("DATABASE_URL"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn out_of_range_values_are_refused_by_name_instead_of_changed() {
        for (name, value, minimum) in [
            ("DATABASE_MAX_CONNECTIONS", "1", "2"),
            ("AWS_MAX_ATTEMPTS", "0", "1"),
            ("WORKER_POLL_INTERVAL_MS", "5", "10"),
            ("JOB_MAX_ATTEMPTS", "0", "1"),
            ("RETENTION_INTERVAL_SECONDS", "0", "1"),
            ("RECOVERY_MAX_ATTEMPTS", "0", "1"),
            ("RECOVERY_CODE_TTL_SECONDS", "0", "1"),
            ("RECOVERY_EMAILS_PER_HOUR", "1", "2"),
            ("RECOVERY_FAILED_CONFIRMS_PER_ACCOUNT_PER_DAY", "101", "100"),
            ("RECOVERY_EMAILS_PER_USER_PER_DAY", "0", "1"),
            ("ARGON2_MEMORY_KIB", "1024", "19456"),
        ] {
            let mut v = vars(&BASE);
            v.insert(name.into(), value.into());
            let err = Settings::load_from(v).unwrap_err().to_string();
            assert!(
                err.contains(name) && err.contains(value) && err.contains(minimum),
                "{name}={value}: {err}"
            );
        }
    }

    #[test]
    fn a_value_at_its_minimum_is_taken_as_it_is() {
        let mut v = vars(&BASE);
        v.insert("DATABASE_MAX_CONNECTIONS".into(), "2".into());
        v.insert("WORKER_POLL_INTERVAL_MS".into(), "10".into());
        let s = Settings::load_from(v).unwrap();
        assert_eq!(s.database.max_connections, 2);
        assert_eq!(s.worker.poll_interval, Duration::from_millis(10));
    }

    #[test]
    fn cors_origins_are_origins_only() {
        assert_eq!(
            origins(" https://a.example.com, http://localhost:3000 ,").unwrap(),
            ["https://a.example.com", "http://localhost:3000"]
        );
        for bad in [
            "*",
            "a.example.com",
            "https://a.example.com/path",
            "https://",
        ] {
            let err = origins(bad).unwrap_err().to_string();
            assert!(err.contains("CORS_ALLOWED_ORIGINS"), "{bad}: {err}");
        }
    }

    #[test]
    fn placeholder_peppers_are_refused() {
        let mut v = vars(&BASE);
        v.insert(
            "CODE_PEPPER".into(),
            "CHANGE_ME_TO_48_RANDOM_BYTES_BASE64_ENCODED_XXXXXXXXXXXXXXXX".into(),
        );
        let err = Settings::load_from(v).unwrap_err().to_string();
        assert!(
            err.contains("CODE_PEPPER") && err.contains("placeholder"),
            "{err}"
        );
    }

    #[test]
    fn the_development_pepper_is_refused_off_loopback() {
        let mut v = vars(&BASE);
        v.insert("BIND_ADDR".into(), "0.0.0.0:8080".into());
        let err = Settings::load_from(v.clone()).unwrap_err().to_string();
        assert!(
            err.contains("CODE_PEPPER") && err.contains("0.0.0.0:8080"),
            "{err}"
        );
        for loopback in ["127.0.0.1:8080", "[::1]:8080", "localhost:8080"] {
            v.insert("BIND_ADDR".into(), loopback.into());
            assert!(Settings::load_from(v.clone()).is_ok(), "{loopback}");
        }
        v.insert("BIND_ADDR".into(), "0.0.0.0:8080".into());
        v.insert("CODE_PEPPER".into(), "p".repeat(40));
        assert!(
            Settings::load_from(v).is_ok(),
            "a real pepper may listen anywhere"
        );
    }
}
