//! Postgres access: recoveries, the job queue and the audit log. SQL lives here and only here.

pub mod absent_names;
pub mod attempts;
pub mod audit;
pub mod call_budget;
pub mod deliveries;
pub mod enrollments;
pub mod jobs;
pub mod limits;
pub mod recoveries;
pub mod role;
pub mod staff;
pub mod staff_sessions;
mod writes;

pub use writes::Writes;

use secrecy::ExposeSecret;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::str::FromStr;
use std::time::Duration;

use crate::settings::DatabaseSettings;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Where `DATABASE_URL` points, for messages: `host:port/database`, never the password.
pub fn describe(settings: &DatabaseSettings) -> String {
    match PgConnectOptions::from_str(settings.url.expose_secret()) {
        Ok(options) => format!(
            "{}:{}/{}",
            options.get_host(),
            options.get_port(),
            options.get_database().unwrap_or("(default database)")
        ),
        Err(_) => "(an unreadable DATABASE_URL)".to_owned(),
    }
}

pub async fn connect(settings: &DatabaseSettings) -> Result<PgPool, sqlx::Error> {
    let options = PgConnectOptions::from_str(settings.url.expose_secret())?;
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
}

/// Whether `err` means the database cannot be reached right now (down, restarting, its
/// connections cut, no connection free in time) rather than a fault in a query: a request
/// meeting it is answered 503 with `Retry-After`, and the pool reconnects by itself once the
/// database is back.
pub fn unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // 08: connection exception; 57P: operator intervention (shutting down, crash
        // recovery, cannot connect now); 53300: too many connections.
        sqlx::Error::Database(e) => e
            .code()
            .is_some_and(|c| c.starts_with("08") || c.starts_with("57P") || c == "53300"),
        _ => false,
    }
}

/// Runs `write` again while the database cannot be reached, for up to `within` (pauses from
/// 250 ms, doubling, at most 2 s): for a write that must follow something already done outside
/// the database (a reset Cognito applied), so that a database restart delays it instead of
/// leaving it to a lease running out. Any other error, or the last one, is returned.
pub async fn retry_while_unavailable<T, F, Fut>(
    within: Duration,
    mut write: F,
) -> Result<T, sqlx::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, sqlx::Error>>,
{
    let deadline = tokio::time::Instant::now() + within;
    let mut pause = Duration::from_millis(250);
    loop {
        match write().await {
            Err(err) if unavailable(&err) && tokio::time::Instant::now() + pause < deadline => {
                tracing::warn!(error = %err, "the database cannot be reached; writing again shortly");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
            }
            other => return other,
        }
    }
}

/// The versions of this binary's migrations that the database has not applied (all of them
/// when it holds no schema at all).
pub async fn pending_migrations(pool: &PgPool) -> Result<Vec<i64>, sqlx::Error> {
    let applied: Vec<(i64, Vec<u8>)> =
        match sqlx::query_as("SELECT version, checksum FROM _sqlx_migrations WHERE success")
            .fetch_all(pool)
            .await
        {
            Ok(applied) => applied,
            // No migration table: nothing applied.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P01") => Vec::new(),
            Err(e) => return Err(e),
        };
    Ok(MIGRATOR
        .iter()
        .filter(|m| {
            !applied
                .iter()
                .any(|(version, checksum)| *version == m.version && *checksum == *m.checksum)
        })
        .map(|m| m.version)
        .collect())
}

/// Applies pending migrations. When every migration is already applied (with the checksum this
/// binary has), nothing is run: a service role without DDL rights can then start, while the
/// owner role applies migrations (`mfa-recovery migrate`) at upgrade time.
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    if pending_migrations(pool).await.is_ok_and(|p| p.is_empty()) {
        return Ok(());
    }
    MIGRATOR.run(pool).await
}
