//! Spawns the real service on a random port with a fresh database and a fresh Cognito pool in
//! the emulator, and offers the steps a user (or a test) takes.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use aws_sdk_cognitoidentityprovider::config::Credentials;
use aws_sdk_cognitoidentityprovider::types::{
    AttributeType, AuthFlowType, ExplicitAuthFlowsType, MessageActionType,
    SoftwareTokenMfaConfigType, SoftwareTokenMfaSettingsType, UserPoolMfaType,
    UsernameAttributeType, UsernameConfigurationType,
};
use mfa_recovery::clock::{Clock, ShiftedClock};
use mfa_recovery::recovery::RecoveryService;
use mfa_recovery::settings::Settings;
use mfa_recovery::startup::Application;
use mfa_recovery::worker::Worker;
use serde::Deserialize;
use sqlx::{Connection, PgConnection, PgPool};
use uuid::Uuid;

pub use crate::proxy::{Fault, FaultProxy, Rule};

mod audit;
mod binary;
mod codes;
mod cognito;
mod journey;
mod staff_console;
mod time;

pub use audit::hold_chain_lock;
pub use binary::RunningBinary;
pub use codes::{find_code, other_code, other_totp, totp_now, SentEmail};
pub use staff_console::{StaffAccount, StaffBrowser};
pub use time::{
    eventually, wait_until_every_job_finished, wait_until_jobs_done, within, within_blocking,
    within_every,
};

pub const FROM_ADDRESS: &str = "no-reply@recovery.test";

pub const PEPPER: &str = "integration-test-pepper-0123456789abcdef";

pub struct TestEnv {
    pub admin_db_url: String,
    pub aws_endpoint: String,
    pub pg_bin: String,
    /// The OpenID Connect provider staff sign in to the console with (oidc-provider).
    pub oidc_issuer: String,
}

pub fn test_env() -> TestEnv {
    let var = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| {
            panic!("{name} is not set: integration tests need PostgreSQL and the AWS emulator; run scripts/test.sh")
        })
    };
    TestEnv {
        admin_db_url: var("TEST_DATABASE_URL"),
        aws_endpoint: var("TEST_AWS_ENDPOINT"),
        pg_bin: var("TEST_PG_BIN"),
        oidc_issuer: var("TEST_OIDC_ISSUER"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolMfa {
    Required,
    Optional,
}

/// How a test wants its service and pool set up.
pub struct AppOptions {
    pub mfa: PoolMfa,
    /// The pool signs users in with their email address (UsernameAttributes = email).
    pub email_as_username: bool,
    /// The app client has a secret, so every AdminInitiateAuth needs a SECRET_HASH.
    pub client_secret: bool,
    /// The pool ignores the case of usernames (`UsernameConfiguration.CaseSensitive` false).
    pub case_insensitive: bool,
    /// The staff console on a listener of its own, signing in through the test OpenID provider.
    pub staff_console: bool,
    /// The console's client at the provider may not use refresh tokens (as at Google without
    /// offline access).
    pub staff_without_refresh: bool,
    /// Setting overrides, by environment-variable name.
    pub env: Vec<(&'static str, String)>,
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            mfa: PoolMfa::Required,
            email_as_username: false,
            client_secret: false,
            case_insensitive: false,
            staff_console: false,
            staff_without_refresh: false,
            env: Vec::new(),
        }
    }
}

impl AppOptions {
    pub fn optional_mfa(mut self) -> Self {
        self.mfa = PoolMfa::Optional;
        self
    }

    pub fn email_as_username(mut self) -> Self {
        self.email_as_username = true;
        self
    }

    pub fn client_secret(mut self) -> Self {
        self.client_secret = true;
        self
    }

    pub fn case_insensitive(mut self) -> Self {
        self.case_insensitive = true;
        self
    }

    pub fn set(mut self, name: &'static str, value: impl ToString) -> Self {
        self.env.push((name, value.to_string()));
        self
    }

    /// The staff console on a listener of its own (`app.staff_address`), with a client of its
    /// own registered at the test OpenID provider.
    pub fn staff_console(mut self) -> Self {
        self.staff_console = true;
        self
    }

    /// The staff console, whose client the provider gives no refresh token.
    pub fn staff_console_without_refresh(mut self) -> Self {
        self.staff_console = true;
        self.staff_without_refresh = true;
        self
    }

    /// The test client is a trusted proxy: `*_from` calls pose as other client addresses.
    pub fn behind_proxy(self) -> Self {
        self.set("TRUSTED_PROXIES", "127.0.0.1/32")
    }
}

#[derive(Clone)]
pub struct TestUser {
    pub username: String,
    pub email: String,
    pub password: String,
    /// The secret of the authenticator on the (lost) phone, when the user has one.
    pub totp_secret: Option<String>,
}

pub struct UserOptions {
    pub totp: bool,
    pub email_verified: bool,
    /// The Cognito username, instead of a generated `user-…`.
    pub username: Option<String>,
    /// The email address, instead of a generated one.
    pub email: Option<String>,
    /// The user's `locale` attribute (`es`, `de-AT`), unset by default.
    pub locale: Option<String>,
}

impl Default for UserOptions {
    fn default() -> Self {
        Self {
            totp: true,
            email_verified: true,
            username: None,
            email: None,
            locale: None,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum SignIn {
    /// Cognito asks for something before issuing tokens (SOFTWARE_TOKEN_MFA, MFA_SETUP, ...).
    Challenge(String),
    Tokens,
}

pub struct TestApp {
    pub address: String,
    /// The internal listener (`ADMIN_BIND_ADDR`): probes and metrics.
    pub admin_address: String,
    /// The staff routes' own listener, with `STAFF_BIND_ADDR`.
    pub staff_address: Option<String>,
    pub db: PgPool,
    pub db_url: String,
    pub pool_id: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub email_as_username: bool,
    pub case_insensitive: bool,
    pub cognito: aws_sdk_cognitoidentityprovider::Client,
    pub http: reqwest::Client,
    pub proxy: FaultProxy,
    pub env: TestEnv,
    pub settings_env: HashMap<String, String>,
    /// The service's job queue: tests run due jobs through it instead of waiting for the loops.
    worker: Arc<Worker<RecoveryService>>,
    /// The service's clock: tests move it (`advance`) instead of sleeping.
    pub clock: Arc<ShiftedClock>,
}

fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(
            aws_sdk_cognitoidentityprovider::config::SharedCredentialsProvider::new(
                Credentials::new("testing", "testing", None, None, "tests"),
            ),
        )
        .build()
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(AppOptions::default()).await
    }

    pub async fn spawn_with(options: AppOptions) -> TestApp {
        let env = test_env();
        let sdk = sdk_config(&env.aws_endpoint);
        let cognito = aws_sdk_cognitoidentityprovider::Client::new(&sdk);
        let (pool_id, client_id, client_secret) = create_pool(&cognito, &options).await;
        let ses = aws_sdk_sesv2::Client::new(&sdk);
        // SES sends only from verified identities, as in AWS.
        let _ = ses
            .create_email_identity()
            .email_identity(FROM_ADDRESS)
            .send()
            .await;

        let db_url = create_database(&env.admin_db_url).await;
        let proxy = FaultProxy::start(&env.aws_endpoint).await;

        let mut vars: HashMap<String, String> = [
            ("DATABASE_URL", db_url.clone()),
            ("BIND_ADDR", "127.0.0.1:0".to_owned()),
            ("ADMIN_BIND_ADDR", "127.0.0.1:0".to_owned()),
            ("COGNITO_USER_POOL_ID", pool_id.clone()),
            ("COGNITO_CLIENT_ID", client_id.clone()),
            ("SES_FROM_ADDRESS", FROM_ADDRESS.to_owned()),
            ("CODE_PEPPER", PEPPER.to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_ENDPOINT_URL", proxy.url()),
            ("AWS_MAX_ATTEMPTS", "2".to_owned()),
            // Generous under load (CI has 2 cores for the suite, moto and PostgreSQL); a downed
            // emulator still fails at once, since the fault proxy closes connections.
            ("AWS_CONNECT_TIMEOUT_MS", "3000".to_owned()),
            ("AWS_ATTEMPT_TIMEOUT_MS", "10000".to_owned()),
            ("AWS_OPERATION_TIMEOUT_MS", "25000".to_owned()),
            ("WORKER_POLL_INTERVAL_MS", "100".to_owned()),
            ("JOB_RETRY_BASE_SECONDS", "1".to_owned()),
            ("DATABASE_MAX_CONNECTIONS", "10".to_owned()),
            // Every test client is 127.0.0.1; tests of the per-address limit set it low.
            ("RECOVERY_REQUESTS_PER_IP_PER_HOUR", "100000".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        if let Some(secret) = &client_secret {
            vars.insert("COGNITO_CLIENT_SECRET".to_owned(), secret.clone());
        }
        if options.staff_console {
            vars.extend(
                staff_console::settings(&env.oidc_issuer, !options.staff_without_refresh).await,
            );
        }
        for (k, v) in options.env {
            vars.insert(k.to_owned(), v);
        }
        let settings = Settings::load_from(vars.clone()).expect("test settings are valid");
        let clock = ShiftedClock::new();
        let app = Application::build_with_clock(settings, clock.clone())
            .await
            .expect("the service starts");
        let address = format!("http://127.0.0.1:{}", app.port());
        let admin_address = format!("http://127.0.0.1:{}", app.admin_port());
        let staff_address = app
            .staff_port()
            .map(|port| format!("http://127.0.0.1:{port}"));
        let worker = app.worker();
        tokio::spawn(app.run_until_stopped());

        TestApp {
            address,
            admin_address,
            staff_address,
            db: PgPool::connect(&db_url).await.expect("test database"),
            db_url,
            pool_id,
            client_id,
            client_secret,
            email_as_username: options.email_as_username,
            case_insensitive: options.case_insensitive,
            cognito,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            proxy,
            env,
            settings_env: vars,
            worker,
            clock,
        }
    }
}

/// Base64(HMAC-SHA256(client secret, username + client id)), computed here independently of the
/// service's own implementation.
fn secret_hash(secret: &str, client_id: &str, username: &str) -> String {
    use base64::Engine;
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{username}{client_id}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

async fn create_pool(
    cognito: &aws_sdk_cognitoidentityprovider::Client,
    options: &AppOptions,
) -> (String, String, Option<String>) {
    let mode = match options.mfa {
        PoolMfa::Required => UserPoolMfaType::On,
        PoolMfa::Optional => UserPoolMfaType::Optional,
    };
    let mut pool = cognito
        .create_user_pool()
        .pool_name(format!("test-{}", Uuid::new_v4()))
        .mfa_configuration(mode.clone());
    if options.email_as_username {
        pool = pool.username_attributes(UsernameAttributeType::Email);
    }
    if options.case_insensitive {
        pool = pool.username_configuration(
            UsernameConfigurationType::builder()
                .case_sensitive(false)
                .build()
                .unwrap(),
        );
    }
    let pool = pool.send().await.expect("create_user_pool");
    let pool_id = pool.user_pool().and_then(|p| p.id()).unwrap().to_owned();
    cognito
        .set_user_pool_mfa_config()
        .user_pool_id(&pool_id)
        .software_token_mfa_configuration(
            SoftwareTokenMfaConfigType::builder().enabled(true).build(),
        )
        // Codes by text message too, as a pool whose users may have SMS MFA offers them.
        .sms_mfa_configuration(
            aws_sdk_cognitoidentityprovider::types::SmsMfaConfigType::builder()
                .sms_configuration(
                    aws_sdk_cognitoidentityprovider::types::SmsConfigurationType::builder()
                        .sns_caller_arn("arn:aws:iam::123456789012:role/cognito-sms")
                        .build(),
                )
                .build(),
        )
        .mfa_configuration(mode)
        .send()
        .await
        .expect("set_user_pool_mfa_config");
    let client = cognito
        .create_user_pool_client()
        .user_pool_id(&pool_id)
        .client_name("mfa-recovery")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowAdminUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .generate_secret(options.client_secret)
        .send()
        .await
        .expect("create_user_pool_client");
    let client = client.user_pool_client().unwrap();
    let client_id = client.client_id().unwrap().to_owned();
    (
        pool_id,
        client_id,
        client.client_secret().map(str::to_owned),
    )
}

pub async fn create_database(admin_url: &str) -> String {
    let name = format!("mfa_test_{}", Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(admin_url)
        .await
        .expect("admin connection");
    sqlx::query(&format!(r#"CREATE DATABASE "{name}""#))
        .execute(&mut admin)
        .await
        .expect("create database");
    let base = admin_url.rsplit_once('/').expect("url has a database").0;
    format!("{base}/{name}")
}

/// Builds the service with `vars` as its settings, expecting it to refuse to start; the error
/// it stops with, with its context.
pub async fn refused_start(vars: HashMap<String, String>) -> String {
    let settings = Settings::load_from(vars).expect("valid settings");
    match Application::build(settings).await {
        Ok(_) => panic!("the service started"),
        Err(err) => format!("{err:#}"),
    }
}

/// Asserts a problem+json error with the given status and code.
pub async fn assert_problem(
    response: reqwest::Response,
    status: u16,
    code: &str,
) -> serde_json::Value {
    let actual = response.status().as_u16();
    if actual != status {
        let body = response.text().await.unwrap_or_default();
        panic!("expected status {status} ({code}), got {actual}: {body}");
    }
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/problem+json"),
        "content type {content_type}"
    );
    let body: serde_json::Value = response.json().await.expect("problem body");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status, "{body}");
    for member in ["type", "title", "detail"] {
        assert!(body[member].is_string(), "{member} missing: {body}");
    }
    body
}
