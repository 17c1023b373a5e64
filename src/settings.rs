//! Typed settings, layered: `config/default.toml` → `config/$APP_ENV.toml` → environment.
//!
//! Every key is the lower-case form of its environment variable (`RECOVERY_CODE_TTL_SECONDS`
//! is `recovery_code_ttl_seconds` in the TOML files), so one table documents both.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::domain::TrustedProxies;

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
            other => Err(SettingsError::Invalid {
                name: "APP_ENV",
                reason: format!("must be `local` or `production`, not `{other}`"),
            }),
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
    Invalid { name: &'static str, reason: String },
    #[error("could not read the settings: {0}")]
    Load(#[from] config::ConfigError),
}

/// What the files and the environment may say; `Settings` is what the service runs with.
#[derive(Deserialize)]
struct Raw {
    database_url: Option<SecretString>,
    bind_addr: String,
    cognito_user_pool_id: Option<String>,
    cognito_client_id: Option<String>,
    cognito_client_secret: Option<SecretString>,
    ses_from_address: Option<String>,
    code_pepper: Option<SecretString>,
    recovery_code_ttl_seconds: u64,
    recovery_max_attempts: u32,
    recovery_require_password: bool,
    recovery_requests_per_user_per_hour: u32,
    recovery_requests_per_ip_per_hour: u32,
    recovery_failed_confirms_per_account_per_day: u32,
    recovery_failed_confirm_delay_seconds: u64,
    recovery_emails_per_hour: u32,
    recovery_reset_delay_seconds: u64,
    public_base_url: Option<String>,
    trusted_proxies: Option<String>,
    argon2_memory_kib: u32,
    argon2_iterations: u32,
    argon2_parallelism: u32,
    hash_concurrency: usize,
    worker_poll_interval_ms: u64,
    job_max_attempts: u32,
    job_retry_base_seconds: u64,
    retention_interval_seconds: u64,
    aws_region: Option<String>,
    aws_endpoint_url: Option<String>,
    aws_connect_timeout_ms: u64,
    aws_attempt_timeout_ms: u64,
    aws_operation_timeout_ms: u64,
    aws_max_attempts: u32,
    database_max_connections: u32,
    log_format: LogFormat,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub app_env: AppEnv,
    pub database: DatabaseSettings,
    pub bind_addr: String,
    pub log_format: LogFormat,
    pub cognito: CognitoSettings,
    pub ses_from_address: String,
    pub aws: AwsSettings,
    pub recovery: RecoverySettings,
    pub hashing: HashingSettings,
    pub worker: WorkerSettings,
}

/// All that the administrative commands (`migrate`, `staff`, `audit`) need.
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

impl DatabaseSettings {
    /// Reads the same layers as `Settings::load`, but requires only `DATABASE_URL`.
    pub fn load() -> Result<Self, SettingsError> {
        Self::load_from(std::env::vars().collect())
    }

    pub fn load_from(vars: HashMap<String, String>) -> Result<Self, SettingsError> {
        let (_, config) = layered(vars)?;
        let raw: RawDatabase = config.try_deserialize()?;
        Self::from_raw(raw.database_url, raw.database_max_connections)
    }

    fn from_raw(url: Option<SecretString>, max_connections: u32) -> Result<Self, SettingsError> {
        Ok(Self {
            url: url.ok_or(SettingsError::Missing("DATABASE_URL"))?,
            max_connections: max_connections.max(2),
        })
    }
}

#[derive(Debug, Clone)]
pub struct CognitoSettings {
    pub user_pool_id: String,
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
}

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
}

#[derive(Debug, Clone)]
pub struct RecoverySettings {
    pub code_ttl: Duration,
    pub max_attempts: u32,
    pub require_password: bool,
    pub requests_per_user_per_hour: u32,
    pub requests_per_ip_per_hour: u32,
    /// Wrong confirmations one account may make per day, across its recoveries.
    pub failed_confirms_per_account_per_day: u32,
    /// Past one recovery's worth of wrong confirmations, each further one waits this long,
    /// doubled each time.
    pub failed_confirm_delay: Duration,
    /// Emails of every kind sent per hour by all instances together (protects the SES quota).
    pub emails_per_hour: u32,
    /// A confirmed reset waits this long, cancellable from the notice; zero applies it at once.
    pub reset_delay: Duration,
    /// Where cancel links point (the service's public address); required with a reset delay.
    pub public_base_url: Option<String>,
    pub trusted_proxies: TrustedProxies,
}

#[derive(Clone)]
pub struct HashingSettings {
    pub pepper: SecretString,
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    /// Hashes computed at once (a semaphore): one per core keeps the HTTP workers responsive.
    pub concurrency: usize,
}

impl std::fmt::Debug for HashingSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HashingSettings")
            .field("pepper", &"[redacted]")
            .field("memory_kib", &self.memory_kib)
            .field("iterations", &self.iterations)
            .field("parallelism", &self.parallelism)
            .field("concurrency", &self.concurrency)
            .finish()
    }
}

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    pub poll_interval: Duration,
    pub job_max_attempts: u32,
    pub retry_base: Duration,
    /// How often expired code hashes are purged.
    pub retention_interval: Duration,
}

impl Settings {
    /// Reads `config/` (or `$APP_CONFIG_DIR`) and the process environment.
    pub fn load() -> Result<Self, SettingsError> {
        Self::load_from(std::env::vars().collect())
    }

    /// As `load`, with `vars` standing for the environment (tests pass their own).
    pub fn load_from(vars: HashMap<String, String>) -> Result<Self, SettingsError> {
        let (app_env, config) = layered(vars)?;
        Self::from_raw(app_env, config.try_deserialize()?)
    }

    fn from_raw(app_env: AppEnv, raw: Raw) -> Result<Self, SettingsError> {
        let database = DatabaseSettings::from_raw(raw.database_url, raw.database_max_connections)?;
        let user_pool_id = required(raw.cognito_user_pool_id, "COGNITO_USER_POOL_ID")?;
        let ses_from_address = required(raw.ses_from_address, "SES_FROM_ADDRESS")?;
        if !ses_from_address.contains('@') {
            return Err(invalid("SES_FROM_ADDRESS", "must be an email address"));
        }
        let pepper = match (raw.code_pepper, app_env) {
            (Some(pepper), _) => pepper,
            (None, AppEnv::Local) => SecretString::from(LOCAL_DEV_PEPPER),
            (None, AppEnv::Production) => return Err(SettingsError::Missing("CODE_PEPPER")),
        };
        if pepper.expose_secret().len() < MIN_PEPPER_BYTES {
            return Err(invalid(
                "CODE_PEPPER",
                &format!("must be at least {MIN_PEPPER_BYTES} bytes"),
            ));
        }
        if app_env == AppEnv::Production && pepper.expose_secret() == LOCAL_DEV_PEPPER {
            return Err(invalid("CODE_PEPPER", "is the public development value"));
        }
        if raw.recovery_require_password && raw.cognito_client_id.is_none() {
            return Err(invalid(
                "COGNITO_CLIENT_ID",
                "is required while RECOVERY_REQUIRE_PASSWORD is on (the password is checked with it)",
            ));
        }
        if raw.recovery_code_ttl_seconds == 0 {
            return Err(invalid("RECOVERY_CODE_TTL_SECONDS", "must be at least 1"));
        }
        if raw.recovery_max_attempts == 0 {
            return Err(invalid("RECOVERY_MAX_ATTEMPTS", "must be at least 1"));
        }
        // OWASP Password Storage Cheat Sheet: argon2id with at least m=19 MiB, t=2, p=1.
        if raw.argon2_memory_kib < 19456 || raw.argon2_iterations < 2 || raw.argon2_parallelism < 1
        {
            return Err(invalid(
                "ARGON2_MEMORY_KIB/ARGON2_ITERATIONS/ARGON2_PARALLELISM",
                "must be at least OWASP's m=19456, t=2, p=1",
            ));
        }
        let trusted_proxies = TrustedProxies::parse(raw.trusted_proxies.as_deref().unwrap_or(""))
            .map_err(|reason| SettingsError::Invalid {
            name: "TRUSTED_PROXIES",
            reason,
        })?;
        let public_base_url = raw
            .public_base_url
            .map(|u| u.trim_end_matches('/').to_owned());
        if let Some(url) = &public_base_url {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(invalid("PUBLIC_BASE_URL", "must be an http(s) URL"));
            }
        }
        if raw.recovery_reset_delay_seconds > 0 && public_base_url.is_none() {
            return Err(invalid(
                "PUBLIC_BASE_URL",
                "is required while RECOVERY_RESET_DELAY_SECONDS is set (cancel links point to it)",
            ));
        }
        let concurrency = match raw.hash_concurrency {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        Ok(Self {
            app_env,
            database,
            bind_addr: raw.bind_addr,
            log_format: raw.log_format,
            cognito: CognitoSettings {
                user_pool_id,
                client_id: raw.cognito_client_id,
                client_secret: raw.cognito_client_secret,
            },
            ses_from_address,
            aws: AwsSettings {
                region: raw.aws_region,
                endpoint_url: raw.aws_endpoint_url,
                connect_timeout: Duration::from_millis(raw.aws_connect_timeout_ms),
                attempt_timeout: Duration::from_millis(raw.aws_attempt_timeout_ms),
                operation_timeout: Duration::from_millis(raw.aws_operation_timeout_ms),
                max_attempts: raw.aws_max_attempts.max(1),
            },
            recovery: RecoverySettings {
                code_ttl: Duration::from_secs(raw.recovery_code_ttl_seconds),
                max_attempts: raw.recovery_max_attempts,
                require_password: raw.recovery_require_password,
                requests_per_user_per_hour: raw.recovery_requests_per_user_per_hour,
                requests_per_ip_per_hour: raw.recovery_requests_per_ip_per_hour,
                failed_confirms_per_account_per_day: raw
                    .recovery_failed_confirms_per_account_per_day,
                failed_confirm_delay: Duration::from_secs(
                    raw.recovery_failed_confirm_delay_seconds,
                ),
                emails_per_hour: raw.recovery_emails_per_hour,
                reset_delay: Duration::from_secs(raw.recovery_reset_delay_seconds),
                public_base_url,
                trusted_proxies,
            },
            hashing: HashingSettings {
                pepper,
                memory_kib: raw.argon2_memory_kib,
                iterations: raw.argon2_iterations,
                parallelism: raw.argon2_parallelism,
                concurrency,
            },
            worker: WorkerSettings {
                poll_interval: Duration::from_millis(raw.worker_poll_interval_ms.max(10)),
                job_max_attempts: raw.job_max_attempts.max(1),
                retry_base: Duration::from_secs(raw.job_retry_base_seconds),
                retention_interval: Duration::from_secs(raw.retention_interval_seconds.max(1)),
            },
        })
    }
}

/// `config/default.toml`, then `config/$APP_ENV.toml`, then `vars` (the environment).
fn layered(vars: HashMap<String, String>) -> Result<(AppEnv, config::Config), SettingsError> {
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
    let config = config::Config::builder()
        .add_source(config::File::from(dir.join("default.toml")).required(true))
        .add_source(
            config::File::from(dir.join(format!("{}.toml", app_env.as_str()))).required(false),
        )
        .add_source(config::Environment::default().source(Some(vars)))
        .build()?;
    Ok((app_env, config))
}

fn required(value: Option<String>, name: &'static str) -> Result<String, SettingsError> {
    value
        .filter(|v| !v.trim().is_empty())
        .ok_or(SettingsError::Missing(name))
}

fn invalid(name: &'static str, reason: &str) -> SettingsError {
    SettingsError::Invalid {
        name,
        reason: reason.to_owned(),
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
        assert_eq!(s.bind_addr, "127.0.0.1:8080");
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
        assert!(Settings::load_from(v).is_ok());
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
}
