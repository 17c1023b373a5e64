use std::io::Write;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::builder::PossibleValuesParser;
use clap::{Parser, Subcommand, ValueEnum};
use secrecy::ExposeSecret;

use mfa_recovery::audit::{self, checkpoint, export};
use mfa_recovery::domain::{parse_instant, Provenance, StaffName, StaffRole};
use mfa_recovery::settings::{AuditSettings, DatabaseSettings, LogFormat, Settings};
use mfa_recovery::staff;
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
    /// Manage staff API keys.
    #[command(subcommand)]
    Staff(StaffCommand),
    /// Check and export the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Check the user pool, its app client, the SES sender and the database against what the
    /// service needs; prints each finding with its fix. Exit 0 when ready, 1 otherwise.
    Doctor,
}

#[derive(Subcommand)]
enum StaffCommand {
    /// Create an API key; the key alone is the last line on stdout (shown once, stored hashed).
    Add {
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = PossibleValuesParser::new(StaffRole::ALL.iter().map(|r| r.as_str())))]
        role: String,
        /// The key stops working after this long, such as `90d` or `12h` (default: until revoked).
        #[arg(long, value_parser = humantime::parse_duration)]
        expires_in: Option<std::time::Duration>,
        /// Who creates it, as auditors will see it beside the key, such as your email (default:
        /// the operating-system account running this command).
        #[arg(long)]
        by: Option<String>,
        /// What the key is for, such as `SIEM export` (at most 200 characters).
        #[arg(long)]
        purpose: Option<String>,
    },
    /// Revoke every key of a staff member, at once.
    Revoke {
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the hash chain; exit 0 when intact, 1 naming the first bad event otherwise. With
    /// `--checkpoint`, exit 0 only when the checkpoint's signature is valid and the chain still
    /// holds its event with its hash and is intact from it to its end (only the events after it
    /// are read; `--full` walks from the first event).
    Verify {
        /// A checkpoint saved from `GET /v1/audit/checkpoint`, or a line of the published
        /// checkpoints (its JSON).
        #[arg(long)]
        checkpoint: Option<std::path::PathBuf>,
        /// The public key to check the checkpoint with, as `audit public-key` printed it
        /// (default: the public half of AUDIT_SIGNING_KEY).
        #[arg(long, requires = "checkpoint")]
        public_key: Option<String>,
        /// With `--checkpoint`: also verify every event before it, from the first.
        #[arg(long, requires = "checkpoint")]
        full: bool,
    },
    /// Print the public key that checks audit checkpoints (base64), and its key id.
    PublicKey,
    /// Write the events up to the newest published checkpoint recorded before DATE to FILE (JSON
    /// lines; the checkpoint beside it as FILE.checkpoint.json), then remove them from the log.
    /// Run it as the schema's owner. Verification goes on from the cut.
    Archive {
        /// Archive events recorded before this instant (RFC 3339).
        #[arg(long, value_parser = parse_instant)]
        before: DateTime<Utc>,
        /// The archive's file; it must not exist.
        #[arg(long)]
        out: std::path::PathBuf,
        /// Who archives, as the log records it (default: the operating-system account).
        #[arg(long)]
        by: Option<String>,
    },
    /// Write events to stdout.
    Export {
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// Events at or after this instant (RFC 3339).
        #[arg(long, value_parser = parse_instant)]
        since: Option<DateTime<Utc>>,
        /// Events before this instant (RFC 3339).
        #[arg(long, value_parser = parse_instant)]
        until: Option<DateTime<Utc>>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ExportFormat {
    Jsonl,
    Csv,
}

async fn connect() -> anyhow::Result<sqlx::PgPool> {
    let settings = DatabaseSettings::load().context("invalid settings")?;
    store::connect(&settings).await.with_context(|| {
        format!(
            "connecting to the database at {} (DATABASE_URL)",
            store::describe(&settings)
        )
    })
}

/// The database of the administrative commands: it must already hold the current schema. Only
/// `migrate` (and `serve`) create or change it, so that a command pointed at the wrong database
/// says so instead of creating an empty log there and calling it intact.
async fn database() -> anyhow::Result<sqlx::PgPool> {
    let db = connect().await?;
    let pending = store::pending_migrations(&db)
        .await
        .context("reading the applied migrations")?;
    if !pending.is_empty() {
        anyhow::bail!(
            "the database in DATABASE_URL does not hold the current mfa-recovery schema ({} migration(s) not applied): point DATABASE_URL at the service's database, or run `mfa-recovery migrate` first",
            pending.len()
        );
    }
    Ok(db)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let settings = Settings::load().context("invalid settings")?;
            telemetry::init(settings.server.log_format);
            Application::build(settings)
                .await?
                .run_until_stopped()
                .await?;
        }
        Command::Doctor => {
            let settings = Settings::load().context("invalid settings")?;
            telemetry::init(LogFormat::Pretty);
            let findings = mfa_recovery::startup::doctor(&settings).await?;
            print!("{}", mfa_recovery::doctor::report(&findings));
            if mfa_recovery::doctor::fatal(&findings) {
                println!("not ready: fix the FAIL lines above");
                std::process::exit(1);
            }
            println!("ready");
        }
        Command::Migrate => {
            telemetry::init(LogFormat::Pretty);
            store::migrate(&connect().await?)
                .await
                .context("applying migrations")?;
            tracing::info!("migrations applied");
        }
        Command::Staff(StaffCommand::Add {
            name,
            role,
            expires_in,
            by,
            purpose,
        }) => {
            let name = StaffName::parse(&name).map_err(anyhow::Error::msg)?;
            let role: StaffRole = role.parse().map_err(anyhow::Error::msg)?;
            let by = by.unwrap_or_else(operating_system_account);
            let provenance =
                Provenance::parse(&by, purpose.as_deref()).map_err(anyhow::Error::msg)?;
            let key = staff::add(&database().await?, &name, role, expires_in, &provenance).await?;
            println!("Staff key for {name} ({role}). It is shown once; store it now:");
            println!("{}", key.expose_secret());
        }
        Command::Staff(StaffCommand::Revoke { name }) => {
            let name = StaffName::parse(&name).map_err(anyhow::Error::msg)?;
            match staff::revoke(&database().await?, &name).await? {
                0 => anyhow::bail!("{} has no active key", name.as_str()),
                n => println!("revoked {n} key(s) of {}", name.as_str()),
            }
        }
        Command::Audit(AuditCommand::PublicKey) => {
            let key = AuditSettings::load()
                .context("invalid settings")?
                .signing_key
                .verifying_key();
            println!("{}", checkpoint::public_key_text(&key));
            eprintln!("key id {}", checkpoint::key_id(&key));
        }
        Command::Audit(AuditCommand::Verify {
            checkpoint: Some(path),
            public_key,
            full,
        }) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            let signed: audit::Checkpoint = serde_json::from_str(&text).with_context(|| {
                format!(
                    "{} is not a checkpoint (the JSON of GET /v1/audit/checkpoint)",
                    path.display()
                )
            })?;
            let key = match public_key {
                Some(text) => checkpoint::parse_public_key(&text)
                    .map_err(|e| anyhow::anyhow!("--public-key: {e}"))?,
                None => AuditSettings::load()
                    .context("invalid settings")?
                    .signing_key
                    .verifying_key(),
            };
            let walk = if full {
                audit::Walk::Full
            } else {
                audit::Walk::FromCheckpoint
            };
            match audit::verify_checkpoint(&database().await?, &signed, &key, walk).await? {
                Ok(result) => println!(
                    "audit verify: checkpoint seq {} holds; intact, {} events {}, head {}",
                    signed.seq,
                    result.events,
                    match walk {
                        audit::Walk::Full => "read from the first",
                        audit::Walk::FromCheckpoint => "read after it",
                    },
                    result.head
                ),
                Err(problem) => {
                    eprintln!("audit checkpoint does not hold: {problem}");
                    std::process::exit(1);
                }
            }
        }
        Command::Audit(AuditCommand::Verify {
            checkpoint: None, ..
        }) => {
            let result = audit::verify_chain(&database().await?).await?;
            match result.first_bad_seq {
                None => println!(
                    "audit verify: intact, {} events, head {}{}",
                    result.events,
                    result.head,
                    match result.pending {
                        0 => String::new(),
                        n => format!(
                            " ({n} recorded events not chained yet: a running service chains them)"
                        ),
                    }
                ),
                Some(seq) => {
                    eprintln!(
                        "audit chain broken: first bad event seq {seq} ({} events read)",
                        result.events
                    );
                    std::process::exit(1);
                }
            }
        }
        Command::Audit(AuditCommand::Archive { before, out, by }) => {
            let by = by.unwrap_or_else(operating_system_account);
            let actor = format!("operator:{}", by.trim());
            match audit::archive::archive(&database().await?, before, &out, &actor).await? {
                None => {
                    eprintln!(
                        "audit archive: nothing archived: no published checkpoint is older than {} (one is published every AUDIT_CHECKPOINT_SECONDS)",
                        before.to_rfc3339()
                    );
                    std::process::exit(1);
                }
                Some(done) => {
                    println!(
                        "audit archive: events {} to {} ({}) written to {} and removed; the checkpoint at the cut is in {}",
                        done.first,
                        done.cut.seq,
                        done.events,
                        done.events_file.display(),
                        done.checkpoint_file.display()
                    );
                    println!(
                        "verify it: scripts/verify_audit.py {} --checkpoint {} --public-key \"$(mfa-recovery audit public-key)\"{}",
                        done.events_file.display(),
                        done.checkpoint_file.display(),
                        match done.after_cut {
                            Some(seq) => format!(" --start-checkpoint <the archive that ends at event {seq}>.checkpoint.json"),
                            None => String::new(),
                        }
                    );
                }
            }
        }
        Command::Audit(AuditCommand::Export {
            format,
            since,
            until,
        }) => {
            let db = database().await?;
            let out = std::io::BufWriter::new(std::io::stdout().lock());
            let out = match format {
                ExportFormat::Jsonl => export::export_jsonl(&db, since, until, out).await?,
                ExportFormat::Csv => export::export_csv(&db, since, until, out).await?,
            };
            out.into_inner().map_err(|e| e.into_error())?.flush()?;
        }
    }
    Ok(())
}

/// Who runs this command, as the operating system says (`sudo` keeps the person's own name).
fn operating_system_account() -> String {
    ["SUDO_USER", "USER", "LOGNAME"]
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.trim().is_empty()))
        .map_or_else(
            || "not stated (no operating-system account name)".to_owned(),
            |user| format!("{} (operating-system account)", user.trim()),
        )
}
