//! Settings of the listeners and of the database.

use super::*;

// ---------------------------------------------------------------------------------------------
// Server

#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub bind_addr: String,
    /// The internal listener: `/metrics`, `/healthz`, `/readyz`; never exposed publicly.
    pub admin_bind_addr: String,
    /// A listener of its own for the staff routes (`/v1/support/*`, `/v1/audit/*`), which then
    /// do not answer on the public one; `None`: they are served on `bind_addr`.
    pub staff_bind_addr: Option<String>,
    pub log_format: LogFormat,
}

#[derive(Deserialize)]
pub(super) struct RawServer {
    bind_addr: String,
    admin_bind_addr: String,
    #[serde(default)]
    staff_bind_addr: Option<String>,
    log_format: String,
}

/// A listen address: `IP:port` (or `localhost:port`).
pub(super) fn listen_addr(name: &str, value: String) -> Result<String, SettingsError> {
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
        let staff_bind_addr = match raw.staff_bind_addr.filter(|a| !a.trim().is_empty()) {
            Some(addr) => mistakes
                .take(listen_addr("STAFF_BIND_ADDR", addr))
                .map(Some),
            None => Some(None),
        };
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
            staff_bind_addr: staff_bind_addr.expect("checked"),
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
pub(super) struct RawDatabase {
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
