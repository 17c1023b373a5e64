use anyhow::Context;
use clap::{Parser, Subcommand};

use mfa_recovery::settings::Settings;
use mfa_recovery::startup::Application;
use mfa_recovery::{store, telemetry};

/// Self-service recovery for AWS Cognito users who lost their TOTP authenticator.
#[derive(Parser)]
#[command(name = "mfa-recovery", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations, then serve HTTP and run the job loops (the default).
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::load().context("invalid settings")?;
    telemetry::init(settings.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(settings).await?;
            app.run_until_stopped().await?;
        }
        Command::Migrate => {
            let db = store::connect(&settings)
                .await
                .context("connecting to the database")?;
            store::migrate(&db).await.context("applying migrations")?;
            tracing::info!("migrations applied");
        }
    }
    Ok(())
}
