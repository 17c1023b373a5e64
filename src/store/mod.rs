//! Postgres access: recoveries, the job queue and the audit log. SQL lives here and only here.

pub mod attempts;
pub mod audit;
pub mod enrollments;
pub mod jobs;
pub mod limits;
pub mod recoveries;
pub mod staff;

use secrecy::ExposeSecret;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::str::FromStr;
use std::time::Duration;

use crate::settings::DatabaseSettings;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub async fn connect(settings: &DatabaseSettings) -> Result<PgPool, sqlx::Error> {
    let options = PgConnectOptions::from_str(settings.url.expose_secret())?;
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
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
