//! Settings that hold secrets: the code pepper and hashing cost, and the audit signing key.

use super::*;

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
pub(super) struct RawHashing {
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
pub(super) const LOCAL_DEV_AUDIT_SEED: [u8; 32] = *b"local-dev-audit-key-not-secret!!";

/// The key that signs audit checkpoints (`AUDIT_SIGNING_KEY`: base64 of a 32-byte Ed25519
/// seed). Its `Debug` shows only the public half.
#[derive(Clone)]
pub struct AuditSettings {
    pub signing_key: ed25519_dalek::SigningKey,
    /// A checkpoint is published at least this often (`AUDIT_CHECKPOINT_SECONDS`), new events
    /// or not: a missing one is news too.
    pub checkpoint_every: Duration,
    /// ... and as soon as this many events were chained since the last (`AUDIT_CHECKPOINT_EVENTS`).
    pub checkpoint_events: i64,
    /// Each published checkpoint is appended to this file as a JSON line, besides the log line
    /// (`AUDIT_CHECKPOINT_FILE`; unset: the log line only).
    pub checkpoint_file: Option<std::path::PathBuf>,
    /// Where the audit stream is sent as OCSF JSON, signed in the Standard Webhooks format
    /// (`AUDIT_WEBHOOK_URL`, `AUDIT_WEBHOOK_SECRET`): HTTPS, or HTTP to this machine.
    pub webhook: Option<(String, WebhookSecret)>,
    /// The audit stream as JSON lines appended to this file (`AUDIT_STREAM_FILE`).
    pub stream_file: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for AuditSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditSettings")
            .field("signing_key", &"[redacted]")
            .field("checkpoint_every", &self.checkpoint_every)
            .field("checkpoint_events", &self.checkpoint_events)
            .field("checkpoint_file", &self.checkpoint_file)
            .field("webhook", &self.webhook.as_ref().map(|_| "[set]"))
            .field("stream_file", &self.stream_file)
            .finish()
    }
}

#[derive(Deserialize)]
pub(super) struct RawAudit {
    audit_signing_key: Option<SecretString>,
    audit_checkpoint_seconds: u64,
    audit_checkpoint_events: i64,
    audit_checkpoint_file: Option<String>,
    audit_webhook_url: Option<String>,
    audit_webhook_secret: Option<SecretString>,
    audit_stream_file: Option<String>,
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
            checkpoint_every: Duration::from_secs(at_least(
                "AUDIT_CHECKPOINT_SECONDS",
                raw.audit_checkpoint_seconds,
                1,
            )?),
            checkpoint_events: at_least("AUDIT_CHECKPOINT_EVENTS", raw.audit_checkpoint_events, 1)?,
            checkpoint_file: raw
                .audit_checkpoint_file
                .filter(|f| !f.trim().is_empty())
                .map(std::path::PathBuf::from),
            webhook: webhook(raw.audit_webhook_url, raw.audit_webhook_secret)?,
            stream_file: raw
                .audit_stream_file
                .filter(|f| !f.trim().is_empty())
                .map(std::path::PathBuf::from),
        })
    }
}

/// The audit webhook's signing secret, as Standard Webhooks writes it: `whsec_` and the base64 of its bytes
/// (at least 24). Its `Debug` shows nothing.
pub struct WebhookSecret(secrecy::SecretBox<Vec<u8>>);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret([redacted])")
    }
}

impl Clone for WebhookSecret {
    fn clone(&self) -> Self {
        Self(secrecy::SecretBox::new(Box::new(
            self.0.expose_secret().clone(),
        )))
    }
}

impl WebhookSecret {
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let encoded = text.trim().strip_prefix("whsec_").unwrap_or(text.trim());
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| {
                "must be `whsec_` followed by base64 (as Standard Webhooks secrets are)"
            })?;
        if bytes.len() < 24 {
            return Err(
                "must hold at least 24 random bytes (`echo whsec_$(openssl rand -base64 32)`)",
            );
        }
        Ok(Self(secrecy::SecretBox::new(Box::new(bytes))))
    }

    /// The key's bytes, for signing.
    pub fn bytes(&self) -> &[u8] {
        self.0.expose_secret()
    }
}

/// The webhook's address and secret: both or neither; HTTPS, or HTTP to this machine only (the
/// events name users and addresses).
fn webhook(
    url: Option<String>,
    secret: Option<SecretString>,
) -> Result<Option<(String, WebhookSecret)>, SettingsError> {
    let url = url.filter(|u| !u.trim().is_empty());
    let secret = secret.filter(|s| !s.expose_secret().trim().is_empty());
    let Some(url) = url else {
        return match secret {
            Some(_) => Err(invalid(
                "AUDIT_WEBHOOK_SECRET",
                "is set without AUDIT_WEBHOOK_URL",
            )),
            None => Ok(None),
        };
    };
    let parsed = reqwest::Url::parse(url.trim())
        .map_err(|_| invalid("AUDIT_WEBHOOK_URL", "must be an https:// address"))?;
    let local = is_loopback(&format!("{}:0", parsed.host_str().unwrap_or("")));
    if parsed.scheme() != "https" && !(parsed.scheme() == "http" && local) {
        return Err(invalid(
            "AUDIT_WEBHOOK_URL",
            "must be an https:// address (http:// only to this machine)",
        ));
    }
    let secret = secret.ok_or(SettingsError::Missing("AUDIT_WEBHOOK_SECRET"))?;
    let secret = WebhookSecret::parse(secret.expose_secret())
        .map_err(|why| invalid("AUDIT_WEBHOOK_SECRET", why))?;
    Ok(Some((url.trim().to_owned(), secret)))
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
