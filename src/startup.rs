//! Builds the running service from settings: database (migrated), AWS clients, the HTTP server
//! on its listener, and the job loops.

use std::net::TcpListener;

use anyhow::Context;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing_actix_web::TracingLogger;

use crate::clock::{Clock, SystemClock};
use crate::domain::NameKeys;
use crate::idp::{Cognito, IdentityProvider, IdpError, MfaMode};
use crate::mail::templates::PoolKind;
use crate::mail::SesMailer;
use crate::recovery::{self, CodeHasher, RecoveryService};
use crate::settings::{AppEnv, AwsSettings, Settings};
use crate::sms::{SnsTexter, Texter};
use crate::worker::{self, Liveness, Worker};
use crate::{audit, doctor, routes, store, telemetry};

/// Job loops per instance; each holds one job (and one database connection) at a time.
const JOB_LOOPS: usize = 2;

pub struct Application {
    port: u16,
    admin_port: u16,
    server: Server,
    /// The internal listener: probes and metrics.
    admin: Server,
    /// The staff routes' own listener (`STAFF_BIND_ADDR`), when they have one.
    staff: Option<(u16, Server)>,
    workers: Vec<JoinHandle<()>>,
    worker: Arc<Worker<RecoveryService>>,
    shutdown: watch::Sender<bool>,
}

pub async fn aws_sdk_config(aws: &AwsSettings) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(aws.connect_timeout)
                .operation_attempt_timeout(aws.attempt_timeout)
                .operation_timeout(aws.operation_timeout)
                .build(),
        )
        // Adaptive: a throttling answer slows this client's own calls down too.
        .retry_config(RetryConfig::adaptive().with_max_attempts(aws.max_attempts));
    if let Some(region) = &aws.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &aws.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// How long resolving the AWS credentials at start may take (instance metadata included).
const CREDENTIALS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// Nothing works without AWS credentials: they are resolved once at start through the standard
/// chain (environment, profile, web identity, container, instance metadata), and when none is
/// found the service stops with one line saying so, instead of starting and failing every call.
async fn check_credentials(sdk: &aws_config::SdkConfig) -> anyhow::Result<()> {
    use aws_sdk_cognitoidentityprovider::config::ProvideCredentials;
    let hint = "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run with an IAM role (web identity, ECS task role or EC2 instance profile)";
    let Some(provider) = sdk.credentials_provider() else {
        anyhow::bail!("no AWS credentials: {hint}");
    };
    match tokio::time::timeout(CREDENTIALS_TIMEOUT, provider.provide_credentials()).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(err)) => anyhow::bail!("no AWS credentials were found ({err}): {hint}"),
        Err(_) => anyhow::bail!(
            "no AWS credentials within {} s: {hint}",
            CREDENTIALS_TIMEOUT.as_secs()
        ),
    }
}

/// Asks Cognito for something the service cannot start without, again and again (backoff
/// doubling from 1 s, at most 10 s apart) while Cognito is unreachable or throttles, for up to
/// `wait`. A refusal is returned at once: asking again would not change it.
async fn at_start<T, F, Fut>(
    operation: &'static str,
    wait: Duration,
    mut ask: F,
) -> Result<T, IdpError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, IdpError>>,
{
    let deadline = tokio::time::Instant::now() + wait;
    let mut pause = Duration::from_secs(1);
    loop {
        match ask().await {
            Err(err @ IdpError::Unavailable { .. }) => {
                let now = tokio::time::Instant::now();
                if now >= deadline {
                    return Err(err);
                }
                tracing::warn!(%operation, error = %err, retry_in_seconds = pause.as_secs(), "Cognito did not answer at start; asking again");
                tokio::time::sleep(pause.min(deadline - now)).await;
                pause = (pause * 2).min(Duration::from_secs(10));
            }
            other => return other,
        }
    }
}

/// Each finding of the preflight as a log line at its level.
fn log_findings(findings: &[doctor::Finding]) {
    for f in findings {
        let fix = f.fix.as_deref().unwrap_or("");
        match f.level {
            doctor::Level::Ok => tracing::info!(check = f.check, "preflight: {}", f.detail),
            doctor::Level::Warn => tracing::warn!(check = f.check, fix, "preflight: {}", f.detail),
            doctor::Level::Fatal => {
                tracing::error!(check = f.check, fix, "preflight: {}", f.detail)
            }
        }
    }
}

/// `mfa-recovery doctor`: the preflight `serve` runs at start (the database role's privileges
/// included), plus whether the database is reachable and holds the current schema (the doctor
/// changes nothing).
pub async fn doctor(settings: &Settings) -> anyhow::Result<Vec<doctor::Finding>> {
    let mut findings = Vec::new();
    let where_ = store::describe(&settings.database);
    let database = match store::connect(&settings.database).await {
        Ok(db) => match store::pending_migrations(&db).await {
            Ok(pending) if pending.is_empty() => {
                findings.push(role_finding(&db).await);
                doctor::Finding {
                    level: doctor::Level::Ok,
                    check: "database",
                    detail: format!("{where_} holds the current schema"),
                    fix: None,
                }
            }
            Ok(pending) => doctor::Finding {
                level: doctor::Level::Warn,
                check: "database",
                detail: format!("{where_} lacks {} migration(s) of this version", pending.len()),
                fix: Some("run `mfa-recovery migrate` with the owner role (serve applies them when its role may)".to_owned()),
            },
            Err(err) => doctor::Finding {
                level: doctor::Level::Fatal,
                check: "database",
                detail: format!("{where_} cannot be read: {err}"),
                fix: Some("grant the service's role its rights (deploy/ lists them)".to_owned()),
            },
        },
        Err(err) => doctor::Finding {
            level: doctor::Level::Fatal,
            check: "database",
            detail: format!("cannot connect to {where_} (DATABASE_URL): {err}"),
            fix: Some("check DATABASE_URL, the network path and the role's password".to_owned()),
        },
    };
    findings.insert(0, database);
    let sdk = aws_sdk_config(&settings.aws).await;
    check_credentials(&sdk).await?;
    let cognito = Cognito::new(
        aws_sdk_cognitoidentityprovider::Client::new(&sdk),
        settings.cognito.clone(),
    );
    let mailer = SesMailer::new(
        aws_sdk_sesv2::Client::new(&sdk),
        settings.ses_from_address.clone(),
    );
    let texter = texter(settings, &sdk);
    findings.extend(doctor::assess(
        &doctor::gather(&cognito, &mailer, texter.as_deref()).await,
        settings,
    ));
    let staff = match &settings.staff.oidc {
        Some(oidc) => Some(
            match crate::oidc::OidcProvider::new(oidc.clone(), Arc::new(crate::clock::SystemClock))
            {
                Ok(provider) => provider.describe().await,
                Err(err) => Err(err),
            },
        ),
        None => None,
    };
    // A Cognito staff pool: its own MFA setting, since its tokens carry no `amr`.
    let staff_pool = match settings.staff.oidc.as_ref().and_then(|o| o.cognito_pool()) {
        Some((region, pool_id)) => {
            let config = aws_sdk_cognitoidentityprovider::config::Builder::from(&sdk)
                .region(aws_config::Region::new(region))
                .build();
            let pool = Cognito::new(
                aws_sdk_cognitoidentityprovider::Client::from_conf(config),
                crate::settings::CognitoSettings {
                    user_pool_id: pool_id,
                    client_id: None,
                    client_secret: None,
                    calls_per_second: settings.cognito.calls_per_second,
                },
            );
            Some(pool.mfa_config().await)
        }
        None => None,
    };
    findings.extend(doctor::staff_console(settings, staff, staff_pool));
    Ok(findings)
}

/// The database role's privileges against those the service needs.
async fn role_finding(db: &sqlx::PgPool) -> doctor::Finding {
    match store::role::privileges(db).await {
        Ok(privileges) => doctor::database_role(&privileges),
        Err(err) => doctor::Finding {
            level: doctor::Level::Warn,
            check: "database role",
            detail: format!("could not read the role's privileges: {err}"),
            fix: Some("try again".to_owned()),
        },
    }
}

/// Where notices also go as texts: SNS, with `NOTIFY_SMS`.
fn texter(settings: &Settings, sdk: &aws_config::SdkConfig) -> Option<Arc<dyn Texter>> {
    settings
        .recovery
        .notify_sms
        .then(|| Arc::new(SnsTexter::new(aws_sdk_sns::Client::new(sdk))) as Arc<dyn Texter>)
}

fn unreachable_at_start(pool_id: &str, wait: Duration, err: &IdpError) -> String {
    format!(
        "COGNITO_USER_POOL_ID {pool_id}: Cognito did not answer within AWS_STARTUP_WAIT_SECONDS ({} s) at start ({err}); check the network path to Cognito (AWS_REGION, AWS_ENDPOINT_URL, VPC endpoints) and try again",
        wait.as_secs()
    )
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// `build`, with the rules and the job queue reading the time from `clock` (tests move it
    /// instead of sleeping).
    pub async fn build_with_clock(
        settings: Settings,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        // First, so that a port in use is reported before the database and Cognito are.
        let listen = |addr: &str, setting: &str| {
            TcpListener::bind(addr).with_context(|| format!("listening on {addr} ({setting})"))
        };
        let listener = listen(&settings.server.bind_addr, "BIND_ADDR")?;
        let port = listener.local_addr()?.port();
        let admin_listener = listen(&settings.server.admin_bind_addr, "ADMIN_BIND_ADDR")?;
        let admin_port = admin_listener.local_addr()?.port();
        let staff_listener = match &settings.server.staff_bind_addr {
            Some(addr) => Some(listen(addr, "STAFF_BIND_ADDR")?),
            None => None,
        };
        if settings.app_env == AppEnv::Production && settings.recovery.trusted_proxies.is_empty() {
            tracing::warn!("APP_ENV=production without TRUSTED_PROXIES: every client address is the socket peer's, which behind a load balancer is the balancer's own, so every client shares one address's limits (`mfa-recovery doctor` says so too)");
        }
        // A logo that cannot be shown is the operator's to fix, said before anything is touched.
        let brand = Arc::new(crate::brand::Brand::load(&settings.brand)?);

        let db = store::connect(&settings.database).await.with_context(|| {
            format!(
                "connecting to the database at {} (DATABASE_URL)",
                store::describe(&settings.database)
            )
        })?;
        store::migrate(&db).await?;

        let sdk = aws_sdk_config(&settings.aws).await;
        check_credentials(&sdk).await?;
        let cognito = Cognito::new(
            aws_sdk_cognitoidentityprovider::Client::new(&sdk),
            settings.cognito.clone(),
        )
        .with_budget(Arc::new(crate::idp::budget::CallBudget::new(
            db.clone(),
            settings.cognito.calls_per_second,
            Arc::clone(&clock),
        )));
        let wait = settings.aws.startup_wait;
        let pool_id = &settings.cognito.user_pool_id;
        let mfa = match at_start("GetUserPoolMfaConfig", wait, || cognito.mfa_config()).await {
            Ok(mfa) => mfa,
            // No such pool, or no permission: nothing would work; say so and stop.
            Err(IdpError::Refused { code, .. }) => anyhow::bail!(
                "COGNITO_USER_POOL_ID {pool_id}: Cognito refused to let the service read the user pool ({code}); check the pool id, AWS_REGION and the IAM policy"
            ),
            Err(err) => anyhow::bail!(unreachable_at_start(pool_id, wait, &err)),
        };
        let mode = mfa.mode;
        tracing::info!(user_pool = %pool_id, mfa_configuration = %mode, "user pool MFA configuration");
        if mode == MfaMode::Required {
            tracing::info!("MFA is required in this pool: a reset deletes the software token (AdminDeleteSoftwareToken) and the next sign-in enrols a new one");
        }
        let pool = PoolKind {
            mfa_required: mode == MfaMode::Required,
            mfa_optional: mode != MfaMode::Required,
        };
        // Whether `Alice` and `alice` are one user decides how every name is keyed: the service
        // does not start without knowing it.
        let described = match at_start("DescribeUserPool", wait, || cognito.pool_description()).await {
            Ok(described) => described,
            Err(IdpError::Refused { code, .. }) => anyhow::bail!(
                "COGNITO_USER_POOL_ID {pool_id}: Cognito refused DescribeUserPool ({code}); check the pool id and that the IAM policy allows cognito-idp:DescribeUserPool"
            ),
            Err(err) => anyhow::bail!(unreachable_at_start(pool_id, wait, &err)),
        };
        let case_sensitive = described.case_sensitive;
        tracing::info!(case_sensitive, "user pool usernames");
        let names = NameKeys::new(&settings.hashing.pepper, case_sensitive);
        let mailer = SesMailer::new(
            aws_sdk_sesv2::Client::new(&sdk),
            settings.ses_from_address.clone(),
        );
        // The preflight (`mfa-recovery doctor`): logged, and fatal findings stop the start.
        let texter = texter(&settings, &sdk);
        let facts = doctor::gather_with(
            &cognito,
            &mailer,
            texter.as_deref(),
            Ok(mfa.clone()),
            Ok(described),
        )
        .await;
        let mut findings = vec![role_finding(&db).await];
        findings.extend(doctor::assess(&facts, &settings));
        log_findings(&findings);
        if doctor::fatal(&findings) {
            let fatal: Vec<_> = findings
                .into_iter()
                .filter(|f| f.level == doctor::Level::Fatal)
                .collect();
            anyhow::bail!(
                "the preflight found what keeps recoveries from working (`mfa-recovery doctor` checks again):\n{}",
                doctor::report(&fatal)
            );
        }
        let hasher = CodeHasher::new(&settings.hashing)?;
        let mut service = RecoveryService::new(
            db.clone(),
            Arc::new(cognito) as Arc<dyn IdentityProvider>,
            Arc::new(mailer),
            hasher,
            settings.recovery.clone(),
            pool,
            names.clone(),
        );
        service = service.with_clock(Arc::clone(&clock)).with_signature(
            crate::mail::templates::Signature {
                name: brand.name.clone(),
                support_contact: brand.support_contact.clone(),
            },
        );
        let page_clock = Arc::clone(&clock);
        // The staff console, when STAFF_OIDC_ISSUER is set.
        let console = match &settings.staff.oidc {
            Some(oidc) => {
                let provider = crate::oidc::OidcProvider::new(oidc.clone(), Arc::clone(&clock))
                    .context("setting up the staff console's sign-in")?;
                Some(web::Data::new(crate::staff::console::Console::new(
                    db.clone(),
                    &settings.staff,
                    oidc.clone(),
                    Arc::new(provider),
                    Arc::clone(&clock),
                )))
            }
            None => None,
        };
        if let Some(texter) = texter {
            service = service.with_texts(texter);
        }
        let service = web::Data::new(service);
        let worker = Arc::new(
            Worker::new(
                db.clone(),
                service.clone().into_inner(),
                recovery::jobs::registry(),
                settings.worker.clone(),
                service.wakeup(),
            )
            .with_clock(Arc::clone(&clock))
            // A loop is always left for notices, the support desk and resets, while lookups
            // wait for the Cognito call budget.
            .limit(store::jobs::LOOKUP_KIND, JOB_LOOPS - 1),
        );

        // Installed before any metric is recorded, so none is lost.
        telemetry::metrics();
        let (shutdown, stop) = watch::channel(false);
        // Every background loop is watched: readiness says not ready once one has stopped.
        let liveness = Arc::new(Liveness::default());
        let mut workers: Vec<JoinHandle<()>> = (0..JOB_LOOPS)
            .map(|_| tokio::spawn(liveness.watch(Arc::clone(&worker).run(stop.clone()))))
            .collect();
        let retention = service.clone();
        let (job_retention, recovery_retention) = (
            settings.worker.job_retention,
            settings.worker.recovery_retention,
        );
        workers.push(tokio::spawn(liveness.watch(worker::every(
            "expired secrets and rows past their use purged",
            settings.worker.retention_interval,
            stop.clone(),
            move || {
                let service = retention.clone();
                async move {
                    let secrets = service.purge_expired_codes().await?;
                    let rows = service
                        .purge_old_rows(job_retention, recovery_retention)
                        .await?;
                    Ok(secrets + rows)
                }
            },
        ))));

        workers.push(tokio::spawn(liveness.watch(audit::run_sequencer(
            db.clone(),
            settings.worker.audit_chain_interval,
            stop.clone(),
        ))));
        let publisher = Arc::new(audit::Publisher::new(
            db.clone(),
            settings.audit.signing_key.clone(),
            settings.audit.checkpoint_every,
            settings.audit.checkpoint_events,
            settings.audit.checkpoint_file.clone(),
            Arc::clone(&clock),
        ));
        workers.push(tokio::spawn(
            liveness.watch(Arc::clone(&publisher).run(stop.clone())),
        ));
        let publisher = web::Data::from(publisher);
        let stream = Arc::new(audit::stream::Stream::new(
            db.clone(),
            audit_sinks(&settings.audit)?,
            Arc::clone(&clock),
        ));
        if !stream.is_empty() {
            workers.push(tokio::spawn(liveness.watch(stream.run(stop.clone()))));
        }
        let liveness = web::Data::from(liveness);
        let chain_watch = web::Data::new(audit::ChainWatch {
            max_wait: settings.worker.audit_pending_max,
        });

        let db = web::Data::new(db);
        let rules = web::Data::new(settings.recovery.clone());
        let names = web::Data::new(names);
        let https_only = settings.app_env != AppEnv::Local;
        let pages = web::Data::new(routes::pages::PagesConfig {
            cookies: routes::pages::CookieConfig::new(&settings.hashing.pepper, https_only)
                .with_clock(page_clock),
            require_password: settings.recovery.require_password,
            sign_in_url: settings.recovery.app_sign_in_url.clone(),
            brand: Arc::clone(&brand),
        });
        // The logo is an image from this service: the pages may show images from here then.
        let images = brand.logo.is_some();
        let cors_origins = settings.recovery.cors_allowed_origins.clone();
        let (admin_service, admin_db, admin_liveness, admin_chain_watch) = (
            service.clone(),
            db.clone(),
            liveness.clone(),
            chain_watch.clone(),
        );
        let staff_here = staff_listener.is_none();
        // What every listener that serves routes shares (the public one and the staff one).
        let shared = move |cfg: &mut web::ServiceConfig| {
            cfg.app_data(service.clone())
                .app_data(db.clone())
                .app_data(rules.clone())
                .app_data(names.clone())
                .app_data(publisher.clone())
                .app_data(pages.clone());
            if let Some(console) = &console {
                cfg.app_data(console.clone());
            }
        };
        let staff_shared = shared.clone();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(actix_web::middleware::from_fn(telemetry::observe_request))
                .wrap(routes::security_headers(https_only, images))
                .wrap(TracingLogger::<telemetry::RequestSpan>::new())
                .configure(shared.clone())
                .app_data(liveness.clone())
                .app_data(chain_watch.clone())
                .configure(|cfg| routes::configure(cfg, &cors_origins))
                .configure(|cfg| {
                    if staff_here {
                        routes::configure_staff(cfg);
                    }
                })
                .default_service(web::to(routes::not_found))
        })
        .listen(listener)?
        .run();

        let staff = match staff_listener {
            Some(staff_listener) => {
                let staff_port = staff_listener.local_addr()?.port();
                let server = HttpServer::new(move || {
                    App::new()
                        .wrap(actix_web::middleware::from_fn(telemetry::observe_request))
                        .wrap(routes::security_headers(https_only, images))
                        .wrap(TracingLogger::<telemetry::RequestSpan>::new())
                        .configure(staff_shared.clone())
                        .configure(routes::configure_staff)
                        .configure(routes::configure_assets)
                        .default_service(web::to(routes::not_found))
                })
                .listen(staff_listener)?
                .run();
                Some((staff_port, server))
            }
            None => None,
        };

        let admin = HttpServer::new(move || {
            App::new()
                .wrap(routes::security_headers(https_only, false))
                .app_data(admin_service.clone())
                .app_data(admin_db.clone())
                .app_data(admin_liveness.clone())
                .app_data(admin_chain_watch.clone())
                .configure(routes::configure_admin)
                .default_service(web::to(routes::not_found))
        })
        .workers(1)
        .listen(admin_listener)?
        .run();
        let staff_port = staff.as_ref().map(|(port, _)| *port);
        tracing::info!(port, admin_port, ?staff_port, "listening");
        Ok(Self {
            port,
            admin_port,
            server,
            admin,
            staff,
            workers,
            worker,
            shutdown,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn admin_port(&self) -> u16 {
        self.admin_port
    }

    /// The job queue of this instance (tests run pending jobs through it).
    pub fn worker(&self) -> Arc<Worker<RecoveryService>> {
        Arc::clone(&self.worker)
    }

    /// Serves until the servers stop (SIGTERM/SIGINT), then stops the job loops.
    /// The staff routes' own port (`STAFF_BIND_ADDR`), when they have one.
    pub fn staff_port(&self) -> Option<u16> {
        self.staff.as_ref().map(|(port, _)| *port)
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let staff = async {
            match self.staff {
                Some((_, server)) => server.await,
                None => Ok(()),
            }
        };
        let (result, admin, staff) = tokio::join!(self.server, self.admin, staff);
        let result = result.and(admin).and(staff);
        let _ = self.shutdown.send(true);
        for worker in self.workers {
            let _ = worker.await;
        }
        result
    }
}

/// The audit stream's destinations that are configured.
fn audit_sinks(
    settings: &crate::settings::AuditSettings,
) -> anyhow::Result<Vec<Arc<dyn audit::stream::EventSink>>> {
    let mut sinks: Vec<Arc<dyn audit::stream::EventSink>> = Vec::new();
    if let Some((url, secret)) = &settings.webhook {
        let sink = crate::siem::WebhookSink::new(url.clone(), secret.clone())
            .context("setting up the audit webhook's HTTP client")?;
        sinks.push(Arc::new(sink));
    }
    if let Some(path) = &settings.stream_file {
        sinks.push(Arc::new(crate::siem::FileSink::new(path.clone())));
    }
    Ok(sinks)
}
