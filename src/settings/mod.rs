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

mod aws;
mod brand;
mod recovery;
mod secrets;
mod server;
mod staff;
mod worker;

pub use aws::{AwsSettings, CognitoSettings};
pub use brand::{contrast_with_white, BrandSettings, DEFAULT_ACCENT};
pub use recovery::RecoverySettings;
pub use secrets::{AuditSettings, HashingSettings, WebhookSecret};
pub use server::{DatabaseSettings, ServerSettings};
pub use staff::{OidcSettings, StaffSettings};
pub use worker::WorkerSettings;
// Each section's keys (`Raw*`) and checks, for `load_from`.
use self::{aws::*, brand::*, recovery::*, secrets::*, server::*, staff::*, worker::*};

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
    pub staff: StaffSettings,
    pub brand: BrandSettings,
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
        let staff = mistakes.take(layers.section::<RawStaff, _>());
        let brand = mistakes.take(layers.section::<RawBrand, _>());
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
            staff: staff.expect("checked"),
            brand: brand.expect("checked"),
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
    fn a_cognito_issuer_names_its_region_and_pool() {
        let with = |issuer: &str| {
            let mut all = BASE.to_vec();
            all.extend([
                ("STAFF_OIDC_ISSUER", issuer),
                ("STAFF_OIDC_CLIENT_ID", "console"),
                ("STAFF_BASE_URL", "https://recovery.example.com"),
            ]);
            Settings::load_from(vars(&all)).unwrap().staff.oidc.unwrap()
        };
        assert_eq!(
            with("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Ab12").cognito_pool(),
            Some(("eu-west-1".to_owned(), "eu-west-1_Ab12".to_owned()))
        );
        assert_eq!(
            with("https://corp.okta.com/oauth2/default").cognito_pool(),
            None
        );
    }

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
    fn the_default_language_is_a_shipped_one() {
        let mut v = vars(&BASE);
        assert_eq!(
            Settings::load_from(v.clone())
                .unwrap()
                .recovery
                .default_language
                .lang(),
            "en"
        );
        v.insert("DEFAULT_LOCALE".into(), "es-MX".into());
        let s = Settings::load_from(v.clone()).unwrap();
        assert_eq!(s.recovery.default_language.lang(), "es");
        v.insert("DEFAULT_LOCALE".into(), "fr".into());
        let err = Settings::load_from(v).unwrap_err().to_string();
        assert!(
            err.contains("setting DEFAULT_LOCALE is invalid: `fr` is not a shipped language: choose one of en, de, es"),
            "{err}"
        );
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
