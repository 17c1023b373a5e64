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

pub const FROM_ADDRESS: &str = "no-reply@recovery.test";

/// How often `eventually` looks again.
const POLL: Duration = Duration::from_millis(20);

/// Looks (every 20 ms, up to `limit`) until `check` gives a value, and returns it; `None` if it
/// never did. With `within_blocking`, the one place the tests wait: always for something another
/// task or process does (a job loop, the binary, the browser), never for time to pass (tests
/// `advance` the service's clock for that).
pub async fn within<T, F, Fut>(limit: Duration, check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    within_every(limit, POLL, check).await
}

/// `within`, looking every `every`: a person trying again, who does not retry every 20 ms.
pub async fn within_every<T, F, Fut>(limit: Duration, every: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(every).await;
    }
}

/// `within`, for code that cannot await (a child process's exit).
pub fn within_blocking<T>(limit: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(value) = check() {
            return Some(value);
        }
        if std::time::Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(POLL);
    }
}

/// `within`, and a failure naming `what` if `check` never gave a value.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    within(limit, check)
        .await
        .unwrap_or_else(|| panic!("{what}: not within {limit:?}"))
}
pub const PEPPER: &str = "integration-test-pepper-0123456789abcdef";

pub struct TestEnv {
    pub admin_db_url: String,
    pub aws_endpoint: String,
    pub pg_bin: String,
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
}

impl Default for UserOptions {
    fn default() -> Self {
        Self {
            totp: true,
            email_verified: true,
            username: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct SentEmail {
    pub source: String,
    pub to: Vec<String>,
    pub subject: Option<String>,
    pub body: Option<String>,
}

impl SentEmail {
    /// The 8-digit code as a person reads it from the email (`1234 5678`), without the space.
    pub fn code(&self) -> String {
        find_code(self.body.as_deref().unwrap_or_default()).expect("the email holds a code")
    }
}

/// The current 6-digit code of an authenticator holding `secret` (base32, as Cognito's
/// AssociateSoftwareToken returns it), computed with an RFC 6238 implementation.
pub fn totp_now(secret: &str) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .expect("a base32 secret");
    totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes)
        .generate_current()
        .unwrap()
}

/// Any 6-digit TOTP code other than `code`.
pub fn other_totp(code: &str) -> String {
    let n: u32 = code.parse().unwrap();
    format!("{:06}", (n + 500_000) % 1_000_000)
}

/// Any 8-digit code other than `code`.
pub fn other_code(code: &str) -> String {
    let n: u32 = code.parse().unwrap();
    format!("{:08}", (n + 1) % 100_000_000)
}

/// The first `dddd dddd` group in `text`, as 8 digits.
pub fn find_code(text: &str) -> Option<String> {
    let b = text.as_bytes();
    (0..b.len().saturating_sub(8)).find_map(|i| {
        let w = &b[i..i + 9];
        let boundary_before = i == 0 || !b[i - 1].is_ascii_digit();
        let boundary_after = b.get(i + 9).is_none_or(|c| !c.is_ascii_digit());
        let shape = w[..4].iter().all(u8::is_ascii_digit)
            && w[4] == b' '
            && w[5..].iter().all(u8::is_ascii_digit);
        (boundary_before && boundary_after && shape)
            .then(|| format!("{}{}", &text[i..i + 4], &text[i + 5..i + 9]))
    })
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
    clock: Arc<ShiftedClock>,
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
        let worker = app.worker();
        tokio::spawn(app.run_until_stopped());

        TestApp {
            address,
            admin_address,
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

    pub async fn create_user(&self) -> TestUser {
        self.create_user_with(UserOptions::default()).await
    }

    pub async fn create_user_with(&self, options: UserOptions) -> TestUser {
        let id = Uuid::new_v4().simple().to_string();
        let email = format!("{}@example.com", &id[..16]);
        let mut user = TestUser {
            // In a pool that signs in with email, the email is what the user types.
            username: if let Some(name) = &options.username {
                name.clone()
            } else if self.email_as_username {
                email.clone()
            } else {
                format!("user-{}", &id[..12])
            },
            email,
            password: format!("Pw-{}!A1", &id[..20]),
            totp_secret: None,
        };
        self.cognito
            .admin_create_user()
            .user_pool_id(&self.pool_id)
            .username(&user.username)
            .user_attributes(
                AttributeType::builder()
                    .name("email")
                    .value(&user.email)
                    .build()
                    .unwrap(),
            )
            .user_attributes(
                AttributeType::builder()
                    .name("email_verified")
                    .value(if options.email_verified {
                        "true"
                    } else {
                        "false"
                    })
                    .build()
                    .unwrap(),
            )
            .message_action(MessageActionType::Suppress)
            .send()
            .await
            .expect("admin_create_user");
        self.cognito
            .admin_set_user_password()
            .user_pool_id(&self.pool_id)
            .username(&user.username)
            .password(&user.password)
            .permanent(true)
            .send()
            .await
            .expect("admin_set_user_password");
        if options.totp {
            user.totp_secret = Some(self.enrol_totp(&user).await);
        }
        user
    }

    /// Registers a TOTP authenticator the way an app does: sign in, associate a software token,
    /// verify it, and make it the preferred MFA. Returns the authenticator's secret.
    pub async fn enrol_totp(&self, user: &TestUser) -> String {
        let auth = self.admin_auth(user).await.expect("sign in to enrol");
        let (session, access_token) = match auth.authentication_result() {
            Some(tokens) => (None, tokens.access_token().map(str::to_owned)),
            None => (auth.session().map(str::to_owned), None),
        };
        let associated = self
            .cognito
            .associate_software_token()
            .set_session(session)
            .set_access_token(access_token.clone())
            .send()
            .await
            .expect("associate_software_token");
        let secret = associated
            .secret_code()
            .expect("a secret for the authenticator")
            .to_owned();
        self.cognito
            .verify_software_token()
            .set_session(associated.session().map(str::to_owned))
            .set_access_token(access_token)
            .user_code(totp_now(&secret))
            .friendly_device_name("phone")
            .send()
            .await
            .expect("verify_software_token");
        self.cognito
            .admin_set_user_mfa_preference()
            .user_pool_id(&self.pool_id)
            .username(&user.username)
            .software_token_mfa_settings(
                SoftwareTokenMfaSettingsType::builder()
                    .enabled(true)
                    .preferred_mfa(true)
                    .build(),
            )
            .send()
            .await
            .expect("admin_set_user_mfa_preference");
        self.assert_totp_still_asked(user).await;
        secret
    }

    async fn admin_auth(
        &self,
        user: &TestUser,
    ) -> Result<
        aws_sdk_cognitoidentityprovider::operation::admin_initiate_auth::AdminInitiateAuthOutput,
        String,
    > {
        let mut request = self
            .cognito
            .admin_initiate_auth()
            .user_pool_id(&self.pool_id)
            .client_id(&self.client_id)
            .auth_flow(AuthFlowType::AdminUserPasswordAuth)
            .auth_parameters("USERNAME", &user.username)
            .auth_parameters("PASSWORD", &user.password);
        if let Some(secret) = &self.client_secret {
            request = request.auth_parameters(
                "SECRET_HASH",
                secret_hash(secret, &self.client_id, &user.username),
            );
        }
        request.send().await.map_err(|e| format!("{e:?}"))
    }

    /// A call to the emulator's test harness for this app's pool
    /// (`/_harness/cognito/{pool_id}/{path}`); panics unless it succeeds.
    async fn harness(&self, method: reqwest::Method, path: &str) -> reqwest::Response {
        self.emulator(method, &format!("cognito/{}/{path}", self.pool_id))
            .await
    }

    /// The emulator's harness at `/_harness/{path}` (what it adds for tests: mail and texts
    /// sent, account states, faults).
    pub async fn emulator(&self, method: reqwest::Method, path: &str) -> reqwest::Response {
        self.http
            .request(method, format!("{}/_harness/{path}", self.env.aws_endpoint))
            .send()
            .await
            .expect("emulator answers")
            .error_for_status()
            .expect("the emulator's harness accepts it")
    }

    /// A new database role holding exactly the documented grants (config/service-role-grants.sql)
    /// on this test's database, as an operator would create it; its DATABASE_URL.
    pub async fn documented_role(&self) -> String {
        let role = format!("svc_{}", uuid::Uuid::new_v4().simple());
        let grants = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/config/service-role-grants.sql"
        ))
        .unwrap();
        sqlx::query(&format!("CREATE ROLE {role} LOGIN"))
            .execute(&self.db)
            .await
            .unwrap();
        sqlx::raw_sql(&grants.replace("mfa_recovery", &role))
            .execute(&self.db)
            .await
            .unwrap();
        self.db_url.replacen("postgres@", &format!("{role}@"), 1)
    }

    /// Makes AdminDeleteSoftwareToken unknown in this test's pool, as in a region without it.
    pub async fn without_delete_software_token(&self) {
        self.harness(reqwest::Method::POST, "without-delete-software-token")
            .await;
    }

    /// Gives the user `count` remembered devices in the emulator (as `count` phones and laptops
    /// that skip MFA would); returns the keys of all the user's devices.
    pub async fn remember_devices(&self, user: &TestUser, count: usize) -> Vec<String> {
        let path = format!("devices/{}?count={count}", user.username);
        self.harness(reqwest::Method::POST, &path)
            .await
            .json()
            .await
            .unwrap()
    }

    /// Gives the user a verified phone number and SMS MFA (as a user who set up text-message
    /// codes on the phone they lost); returns the number.
    pub async fn enable_sms_mfa(&self, user: &TestUser) -> String {
        let phone = format!("+1555{:07}", rand::random::<u32>() % 10_000_000);
        self.cognito
            .admin_update_user_attributes()
            .user_pool_id(&self.pool_id)
            .username(&user.username)
            .user_attributes(
                AttributeType::builder()
                    .name("phone_number")
                    .value(&phone)
                    .build()
                    .unwrap(),
            )
            .user_attributes(
                AttributeType::builder()
                    .name("phone_number_verified")
                    .value("true")
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .expect("admin_update_user_attributes");
        self.cognito
            .admin_set_user_mfa_preference()
            .user_pool_id(&self.pool_id)
            .username(&user.username)
            .sms_mfa_settings(
                aws_sdk_cognitoidentityprovider::types::SmsMfaSettingsType::builder()
                    .enabled(true)
                    .build(),
            )
            .send()
            .await
            .expect("admin_set_user_mfa_preference (SMS)");
        phone
    }

    /// AdminGetUser's answer for the user.
    async fn cognito_user(
        &self,
        user: &TestUser,
    ) -> aws_sdk_cognitoidentityprovider::operation::admin_get_user::AdminGetUserOutput {
        self.cognito
            .admin_get_user()
            .user_pool_id(&self.pool_id)
            .username(&user.username)
            .send()
            .await
            .expect("admin_get_user")
    }

    /// The user's attribute `name` in Cognito, if set.
    pub async fn attribute(&self, user: &TestUser, name: &str) -> Option<String> {
        self.cognito_user(user)
            .await
            .user_attributes()
            .iter()
            .find(|a| a.name() == name)
            .and_then(|a| a.value().map(str::to_owned))
    }

    /// Registers a passkey (WEB_AUTHN) for the user in the emulator.
    pub async fn register_passkey(&self, user: &TestUser) {
        let path = format!("passkeys/{}", user.username);
        self.harness(reqwest::Method::POST, &path).await;
    }

    /// The keys of the user's remembered devices in the emulator.
    pub async fn devices(&self, user: &TestUser) -> Vec<String> {
        let path = format!("devices/{}", user.username);
        self.harness(reqwest::Method::GET, &path)
            .await
            .json()
            .await
            .unwrap()
    }

    /// What the user meets when signing in with their password.
    pub async fn sign_in(&self, user: &TestUser) -> SignIn {
        let auth = self.admin_auth(user).await.expect("sign in");
        match auth.challenge_name() {
            Some(challenge) => SignIn::Challenge(challenge.as_str().to_owned()),
            None => SignIn::Tokens,
        }
    }

    /// Signs in with the password and answers the SOFTWARE_TOKEN_MFA challenge with the current
    /// code of an authenticator holding `secret`: whether Cognito let the user in.
    pub async fn sign_in_with_totp(&self, user: &TestUser, secret: &str) -> bool {
        let auth = self.admin_auth(user).await.expect("sign in");
        assert_eq!(
            auth.challenge_name().map(|c| c.as_str()),
            Some("SOFTWARE_TOKEN_MFA"),
            "the sign-in asks for a TOTP code"
        );
        let mut answer = self
            .cognito
            .admin_respond_to_auth_challenge()
            .user_pool_id(&self.pool_id)
            .client_id(&self.client_id)
            .challenge_name(
                aws_sdk_cognitoidentityprovider::types::ChallengeNameType::SoftwareTokenMfa,
            )
            .set_session(auth.session().map(str::to_owned))
            .challenge_responses("USERNAME", &user.username)
            .challenge_responses("SOFTWARE_TOKEN_MFA_CODE", totp_now(secret));
        if let Some(client_secret) = &self.client_secret {
            answer = answer.challenge_responses(
                "SECRET_HASH",
                secret_hash(client_secret, &self.client_id, &user.username),
            );
        }
        match answer.send().await {
            Ok(out) => out.authentication_result().is_some(),
            Err(_) => false,
        }
    }

    /// Sign-in still asks for the user's TOTP code: nothing was reset.
    pub async fn assert_totp_still_asked(&self, user: &TestUser) {
        assert_eq!(
            self.sign_in(user).await,
            SignIn::Challenge("SOFTWARE_TOKEN_MFA".into())
        );
    }

    /// What AdminGetUser lists as the user's MFA settings.
    pub async fn mfa_settings(&self, user: &TestUser) -> Vec<String> {
        self.cognito_user(user)
            .await
            .user_mfa_setting_list()
            .to_vec()
    }

    pub async fn post_json(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.address))
            .json(&body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn request_recovery(&self, username: &str) -> reqwest::Response {
        self.post_json("/v1/recovery", serde_json::json!({ "username": username }))
            .await
    }

    pub async fn confirm(&self, username: &str, code: &str, password: &str) -> reqwest::Response {
        self.post_json(
            "/v1/recovery/confirm",
            serde_json::json!({ "username": username, "code": code, "password": password }),
        )
        .await
    }

    /// A request from the client address `ip` (needs `AppOptions::behind_proxy`).
    pub async fn request_recovery_from(&self, username: &str, ip: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/v1/recovery", self.address))
            .header("x-forwarded-for", ip)
            .json(&serde_json::json!({ "username": username }))
            .send()
            .await
            .expect("request sent")
    }

    /// A confirmation from the client address `ip` (needs `AppOptions::behind_proxy`).
    pub async fn confirm_from(
        &self,
        username: &str,
        code: &str,
        password: &str,
        ip: &str,
    ) -> reqwest::Response {
        self.http
            .post(format!("{}/v1/recovery/confirm", self.address))
            .header("x-forwarded-for", ip)
            .json(&serde_json::json!({ "username": username, "code": code, "password": password }))
            .send()
            .await
            .expect("request sent")
    }

    /// Confirms with the right code and password and asserts the reset, showing the problem
    /// body when it did not happen.
    pub async fn confirm_ok(&self, username: &str, code: &str, password: &str) {
        let response = self.confirm(username, code, password).await;
        let status = response.status().as_u16();
        let body = response.text().await.unwrap();
        assert_eq!(status, 200, "confirm answered {status}: {body}");
    }

    /// Every email SES accepted for `address`, oldest first.
    pub async fn emails_to(&self, address: &str) -> Vec<SentEmail> {
        let all: Vec<SentEmail> = self
            .emulator(reqwest::Method::GET, "ses/messages")
            .await
            .json()
            .await
            .expect("message list");
        all.into_iter()
            .filter(|m| m.to.iter().any(|t| t == address))
            .collect()
    }

    /// Every text SNS accepted for `phone`, oldest first.
    pub async fn texts_to(&self, phone: &str) -> Vec<String> {
        let all: Vec<serde_json::Value> = self
            .emulator(reqwest::Method::GET, "sns/texts")
            .await
            .json()
            .await
            .expect("text list");
        all.into_iter()
            .filter(|t| t["phone"] == phone)
            .map(|t| t["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Runs due jobs until `address` has received `n` emails (up to 20 s, for jobs retried
    /// later); returns the n-th. Every job due by then has finished, so the code in the email
    /// is usable.
    pub async fn wait_for_email(&self, address: &str, n: usize) -> SentEmail {
        let what = format!("{address} receives {n} email(s)");
        eventually(&what, Duration::from_secs(20), || async {
            self.run_pending_jobs().await;
            let mut emails = self.emails_to(address).await;
            (emails.len() >= n).then(|| emails.swap_remove(n - 1))
        })
        .await
    }

    /// Requests a recovery and returns the code from the email it produces.
    /// The code emailed for a request from the client address `ip` (needs `behind_proxy`).
    pub async fn code_from(&self, user: &TestUser, ip: &str) -> String {
        self.run_pending_jobs().await;
        let before = self.emails_to(&user.email).await.len();
        let response = self.request_recovery_from(&user.username, ip).await;
        assert_eq!(response.status(), 202);
        self.wait_for_email(&user.email, before + 1).await.code()
    }

    pub async fn code_for(&self, user: &TestUser) -> String {
        // Notices still queued would otherwise be taken for the code's email.
        self.run_pending_jobs().await;
        let before = self.emails_to(&user.email).await.len();
        assert_eq!(self.request_recovery(&user.username).await.status(), 202);
        self.wait_for_email(&user.email, before + 1).await.code()
    }

    /// Time passes for the service (its rules and its job queue) without the test waiting.
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// Runs every job due by now, here (as Zero To Production's `dispatch_all_pending_emails`);
    /// a job that a background loop of the service holds is waited for. A job scheduled for
    /// later (a retry, a reset after its waiting period) is not due and not run.
    pub async fn run_pending_jobs(&self) {
        // A job held by one of the service's own loops finishes soon: wait for it.
        eventually("the due jobs finish", Duration::from_secs(20), || async {
            self.worker.run_pending_jobs().await.expect("jobs run");
            (due_jobs(&self.db, self.clock.now()).await == 0).then_some(())
        })
        .await;
    }

    /// Moves every queued job's due time to now (a reset after its waiting period, a retry
    /// after its backoff) and runs them: time passes without the test sleeping.
    /// Time passes: every job is due, and every waiting period is over.
    pub async fn run_jobs_scheduled_for_later(&self) {
        sqlx::query("UPDATE jobs SET run_at = now() WHERE finished_at IS NULL")
            .execute(&self.db)
            .await
            .unwrap();
        sqlx::query("UPDATE recoveries SET reset_at = now() WHERE reset_at > now()")
            .execute(&self.db)
            .await
            .unwrap();
        self.run_pending_jobs().await;
    }

    /// Lets every issued code expire now, as if its lifetime had passed.
    pub async fn expire_codes(&self) {
        sqlx::query("UPDATE recoveries SET expires_at = now() - interval '1 second'")
            .execute(&self.db)
            .await
            .unwrap();
    }

    /// The real binary, with this app's pool and settings but a database of its own (so that
    /// only its own job loops run its jobs, and its metrics are its own); and that database.
    pub async fn start_binary(&self) -> (RunningBinary, PgPool) {
        let db_url = create_database(&self.env.admin_db_url).await;
        let binary = self.start_binary_on(&db_url).await;
        let db = PgPool::connect(&db_url)
            .await
            .expect("the binary's database");
        (binary, db)
    }

    /// The real binary, with this app's settings, on the database at `db_url` (to restart one).
    /// Started off the test's runtime, which meanwhile keeps serving the fault proxy the binary
    /// reaches AWS through (waiting for it on the runtime's one thread would stall its calls).
    pub async fn start_binary_on(&self, db_url: &str) -> RunningBinary {
        let mut vars = self.settings_env.clone();
        vars.insert("DATABASE_URL".into(), db_url.to_owned());
        tokio::task::spawn_blocking(move || RunningBinary::start(&vars))
            .await
            .expect("the binary starts")
    }

    /// Disables the user in Cognito (AdminDisableUser).
    pub async fn disable_user(&self, user: &TestUser) {
        self.cognito
            .admin_disable_user()
            .user_pool_id(&self.pool_id)
            .username(&user.username)
            .send()
            .await
            .expect("admin_disable_user");
    }

    /// (action, outcome) of every audit event about `username`, in order.
    /// The events about a name: under it, or under its redacted form (how the service records
    /// a name until it proves to be a user's).
    /// Chains every recorded audit event now (the service's sequencer does it within
    /// `AUDIT_CHAIN_INTERVAL_MS`): for tests that read `audit_events` right after an action.
    pub async fn chained(&self) {
        mfa_recovery::audit::chain_all_pending(&self.db)
            .await
            .expect("audit events chained");
    }

    pub async fn audit_trail(&self, username: &str) -> Vec<(String, String)> {
        self.chained().await;
        sqlx::query_as(
            "SELECT action, outcome FROM audit_events WHERE username = $1 OR username = $2
             ORDER BY seq",
        )
        .bind(username)
        .bind(self.redacted(username))
        .fetch_all(&self.db)
        .await
        .unwrap()
    }

    /// The `(outcome, detail)` of each chained event of `action` about `username`, oldest first.
    pub async fn audit_details(&self, username: &str, action: &str) -> Vec<(String, String)> {
        self.chained().await;
        sqlx::query_as(
            "SELECT outcome, coalesce(detail, '') FROM audit_events
             WHERE action = $1 AND username = $2 ORDER BY seq",
        )
        .bind(action)
        .bind(username)
        .fetch_all(&self.db)
        .await
        .unwrap()
    }

    /// The detail of the one event of `action` about `username`.
    pub async fn audit_detail(&self, username: &str, action: &str) -> String {
        let events = self.audit_details(username, action).await;
        assert_eq!(events.len(), 1, "one {action} event: {events:?}");
        events.into_iter().next().unwrap().1
    }

    /// How the service records `name` while it is not known to be a user's.
    pub fn redacted(&self, name: &str) -> String {
        mfa_recovery::domain::NameKeys::new(&PEPPER.to_owned().into(), !self.case_insensitive)
            .redacted(&mfa_recovery::domain::Username::parse(name).unwrap())
    }

    /// A fresh staff key with `role`, made the way `mfa-recovery staff add` makes one.
    pub async fn staff_key(&self, name: &str, role: &str) -> String {
        use secrecy::ExposeSecret;
        let name = mfa_recovery::domain::StaffName::parse(name).unwrap();
        let key = mfa_recovery::staff::add(&self.db, &name, role.parse().unwrap(), None)
            .await
            .unwrap();
        key.expose_secret().to_owned()
    }

    /// Runs the real binary's command line against this app's database.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_mfa-recovery"))
            .args(args)
            .env("DATABASE_URL", &self.db_url)
            .env("RUST_LOG", "warn")
            .output()
            .expect("the binary runs")
    }

    pub async fn get_with_key(&self, path: &str, key: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.address))
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_with_key(
        &self,
        path: &str,
        key: &str,
        body: serde_json::Value,
    ) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.address))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn actions(&self, username: &str) -> Vec<String> {
        self.audit_trail(username)
            .await
            .into_iter()
            .map(|(a, _)| a)
            .collect()
    }
}

/// Jobs due by `now` that have not finished (running ones included).
async fn due_jobs(db: &PgPool, now: chrono::DateTime<chrono::Utc>) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM jobs WHERE finished_at IS NULL AND run_at <= $1")
        .bind(now)
        .fetch_one(db)
        .await
        .unwrap()
}

/// Waits (up to 20 s) until the jobs due in `db` are done: for a database whose jobs another
/// process (a `RunningBinary`, on the system's clock) runs.
pub async fn wait_until_jobs_done(db: &PgPool) {
    eventually(
        "the binary's due jobs finish",
        Duration::from_secs(20),
        || async { (due_jobs(db, chrono::Utc::now()).await == 0).then_some(()) },
    )
    .await;
}

/// Waits (up to 20 s) until every job in `db` has finished, those due later included: once it
/// has, nothing more can happen on its own (every email and every step is a job).
pub async fn wait_until_every_job_finished(db: &PgPool) {
    eventually("every job finishes", Duration::from_secs(20), || async {
        let open: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs WHERE finished_at IS NULL")
            .fetch_one(db)
            .await
            .unwrap();
        (open == 0).then_some(())
    })
    .await;
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

/// The real binary, logging JSON at the most verbose level of its own code.
pub struct RunningBinary {
    pub child: Child,
    output: Arc<Mutex<Vec<String>>>,
    /// The threads reading its stdout and stderr into `output`.
    readers: Vec<std::thread::JoinHandle<()>>,
    pub address: String,
    pub admin_address: String,
}

/// A binary a test did not stop (or a test that failed half-way) is killed with it, so that no
/// service outlives its test.
impl Drop for RunningBinary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl RunningBinary {
    pub fn start(vars: &std::collections::HashMap<String, String>) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mfa-recovery"))
            .arg("serve")
            .envs(vars)
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info,mfa_recovery=trace")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let output = Arc::new(Mutex::new(Vec::new()));
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        let mut readers = Vec::new();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let output = Arc::clone(&output);
            let port_tx = port_tx.clone();
            readers.push(std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if let Ok(event) = serde_json::from_str::<serde_json::Value>(&line) {
                        if event["message"] == "listening" {
                            let _ = port_tx.send((
                                event["port"].as_u64().unwrap(),
                                event["admin_port"].as_u64().unwrap(),
                            ));
                        }
                    }
                    output.lock().unwrap().push(line);
                }
            }));
        }
        let (port, admin_port) = port_rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| {
                panic!(
                    "the binary did not log its port: {:?}",
                    output.lock().unwrap()
                )
            });
        Self {
            child,
            output,
            readers,
            address: format!("http://127.0.0.1:{port}"),
            admin_address: format!("http://127.0.0.1:{admin_port}"),
        }
    }

    pub fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Its output ends with it: every line is read once the readers are done.
        for reader in std::mem::take(&mut self.readers) {
            let _ = reader.join();
        }
        let lines = self.output.lock().unwrap().join("\n");
        lines
    }
    /// Sends SIGTERM and waits (up to `limit`) for the process to exit; its exit status.
    pub fn terminate(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        within_blocking(limit, || self.child.try_wait().unwrap())
    }

    pub fn output(&self) -> String {
        self.output.lock().unwrap().join("\n")
    }

    /// Waits (up to 20 s) until a line of output contains `needle`.
    pub async fn wait_for_output(&self, needle: &str) {
        let what = format!("a line of the binary's output contains {needle}");
        let output = &self.output;
        eventually(&what, Duration::from_secs(20), || async move {
            output
                .lock()
                .unwrap()
                .iter()
                .any(|l| l.contains(needle))
                .then_some(())
        })
        .await;
    }
}
