//! `mfa-recovery doctor`, and the same preflight in `serve`, against the emulated pool.

use std::collections::HashMap;

use aws_sdk_cognitoidentityprovider::operation::create_user_pool_client::builders::CreateUserPoolClientFluentBuilder;
use aws_sdk_cognitoidentityprovider::types::ExplicitAuthFlowsType;

use crate::helpers::{refused_start, AppOptions, TestApp};

/// Runs `mfa-recovery doctor` with `vars`; its exit code and stdout.
async fn doctor(vars: HashMap<String, String>) -> (i32, String) {
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_mfa-recovery"))
            .arg("doctor")
            .env_remove("COGNITO_CLIENT_SECRET")
            .envs(&vars)
            .env("RUST_LOG", "error")
            .output()
            .expect("the binary runs")
    })
    .await
    .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// The service's settings pointed at a new app client of the test's pool, made by `configure`
/// (and without a client secret setting).
async fn settings_with_a_new_client(
    app: &TestApp,
    configure: impl FnOnce(CreateUserPoolClientFluentBuilder) -> CreateUserPoolClientFluentBuilder,
) -> HashMap<String, String> {
    let created = configure(
        app.cognito
            .create_user_pool_client()
            .user_pool_id(&app.pool_id),
    )
    .send()
    .await
    .unwrap();
    let client_id = created.user_pool_client().unwrap().client_id().unwrap();
    let mut vars = app.settings_env.clone();
    vars.insert("COGNITO_CLIENT_ID".into(), client_id.into());
    vars.remove("COGNITO_CLIENT_SECRET");
    vars
}

#[tokio::test]
async fn doctor_passes_a_well_configured_pool() {
    let app = TestApp::spawn().await;
    let mut vars = app.settings_env.clone();
    vars.insert("NOTIFY_SMS".into(), "true".into());
    vars.insert("RECOVERY_FACTORS".into(), "totp,sms".into());
    let (code, out) = doctor(vars).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.trim_end().ends_with("ready"), "{out}");
    assert!(
        out.contains("(factors: authenticator apps (TOTP), SMS)"),
        "{out}"
    );
    for check in [
        "database",
        "pool MFA",
        "authenticator apps",
        "token deletion",
        "feature plan",
        "remembered devices",
        "app client",
        "SES sender",
        "SES account",
        "SMS notices",
        "SMS recovery",
    ] {
        assert!(
            out.lines()
                .any(|l| l.starts_with("ok") && l.contains(check)),
            "{check}: {out}"
        );
    }
}

#[tokio::test]
async fn doctor_names_an_app_client_without_the_admin_password_flow_and_serve_refuses_it() {
    let app = TestApp::spawn().await;
    let vars = settings_with_a_new_client(&app, |client| {
        client
            .client_name("srp-only")
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserSrpAuth)
    })
    .await;
    let (code, out) = doctor(vars.clone()).await;
    assert_eq!(code, 1, "{out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("FAIL") && l.contains("app client"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains("ALLOW_ADMIN_USER_PASSWORD_AUTH"), "{line}");
    assert!(
        out.contains("fix: add ALLOW_ADMIN_USER_PASSWORD_AUTH"),
        "{out}"
    );

    let err = refused_start(vars).await;
    assert!(err.contains("ALLOW_ADMIN_USER_PASSWORD_AUTH"), "{err}");
}

#[tokio::test]
async fn doctor_names_a_sender_ses_does_not_know_and_serve_refuses_it() {
    let app = TestApp::spawn().await;
    let mut vars = app.settings_env.clone();
    vars.insert("SES_FROM_ADDRESS".into(), "no-reply@unverified.test".into());
    let (code, out) = doctor(vars.clone()).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("FAIL")
                && l.contains("SES_FROM_ADDRESS (no-reply@unverified.test)")),
        "{out}"
    );
    let err = refused_start(vars).await;
    assert!(err.contains("SES_FROM_ADDRESS"), "{err}");
}

#[tokio::test]
async fn doctor_names_a_pool_without_authenticator_apps() {
    let app = TestApp::spawn().await;
    app.cognito
        .set_user_pool_mfa_config()
        .user_pool_id(&app.pool_id)
        .mfa_configuration(aws_sdk_cognitoidentityprovider::types::UserPoolMfaType::Off)
        .software_token_mfa_configuration(
            aws_sdk_cognitoidentityprovider::types::SoftwareTokenMfaConfigType::builder()
                .enabled(false)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let (code, out) = doctor(app.settings_env.clone()).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.lines().any(
            |l| l.starts_with("FAIL") && l.contains("TOTP (software token MFA) is not enabled")
        ),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("warn") && l.contains("MFA is OFF")),
        "{out}"
    );
}

/// A region without AdminDeleteSoftwareToken (such as a secondary replica region): in a pool
/// that requires MFA no reset can work there.
#[tokio::test]
async fn doctor_names_a_region_without_admin_delete_software_token_and_serve_refuses_it() {
    let app = TestApp::spawn().await;
    app.without_delete_software_token().await;
    let (code, out) = doctor(app.settings_env.clone()).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.lines().any(|l| l.starts_with("FAIL")
            && l.contains("AdminDeleteSoftwareToken is not available here")),
        "{out}"
    );
    assert!(
        out.contains("fix: point AWS_REGION at the pool's primary region"),
        "{out}"
    );
    let err = refused_start(app.settings_env.clone()).await;
    assert!(err.contains("AdminDeleteSoftwareToken"), "{err}");
}

/// The service's settings, signing with a fresh access key that the emulator's harness path
/// (`{key}` in it) gave an account state of its own.
async fn signing_with_a_key_that(app: &TestApp, path: &str) -> HashMap<String, String> {
    let key = format!("doctor{}", uuid::Uuid::new_v4().simple());
    app.emulator(reqwest::Method::POST, &path.replace("{key}", &key))
        .await;
    let mut vars = app.settings_env.clone();
    vars.insert("AWS_ACCESS_KEY_ID".into(), key);
    vars
}

/// An account in the SNS SMS sandbox, with NOTIFY_SMS on: texts would reach only its verified
/// numbers (a warning).
#[tokio::test]
async fn doctor_names_sms_notices_from_an_account_in_the_sms_sandbox() {
    let app = TestApp::spawn().await;
    let mut vars = signing_with_a_key_that(&app, "sns/sandbox/{key}").await;
    vars.insert("NOTIFY_SMS".into(), "true".into());
    let (code, out) = doctor(vars).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.lines().any(|l| l.starts_with("warn")
            && l.contains("SMS notices")
            && l.contains("SNS SMS sandbox")),
        "{out}"
    );
}

/// An app client with a secret the service was not given (fatal: Cognito refuses every sign-in
/// without SECRET_HASH) and sign-in sessions shorter than an enrollment (a warning in a pool
/// that requires MFA).
#[tokio::test]
async fn doctor_names_a_client_secret_the_service_lacks_and_sessions_shorter_than_enrollment() {
    let app = TestApp::spawn().await;
    let mut vars = settings_with_a_new_client(&app, |client| {
        client
            .client_name("with-secret")
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowAdminUserPasswordAuth)
            .generate_secret(true)
            .auth_session_validity(3)
    })
    .await;
    vars.insert("ENROLLMENT_TTL_SECONDS".into(), "600".into());
    let (code, out) = doctor(vars).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.lines().any(|l| l.starts_with("FAIL")
            && l.contains("app client secret")
            && l.contains("COGNITO_CLIENT_SECRET is not set")),
        "{out}"
    );
    assert!(
        out.lines().any(|l| l.starts_with("warn")
            && l.contains("enrollment time")
            && l.contains("AuthSessionValidity is 180 s")),
        "{out}"
    );
}

/// The configured secret is compared with the app client's: a wrong one is fatal (Cognito would
/// refuse every sign-in, and users would burn attempts on "wrong passwords"); the right one is
/// said to match only because it was compared.
#[tokio::test]
async fn doctor_compares_the_client_secret_with_the_app_clients() {
    let app = TestApp::spawn_with(AppOptions::default().client_secret()).await;
    let right = app
        .client_secret
        .clone()
        .expect("the test client has a secret");
    for (secret, exit, says) in [
        (
            "not-the-secret".to_owned(),
            1,
            (
                "FAIL",
                "COGNITO_CLIENT_SECRET is not the app client's secret",
            ),
        ),
        (
            right,
            0,
            (
                "ok",
                "COGNITO_CLIENT_SECRET is the app client's secret (compared with it)",
            ),
        ),
    ] {
        let mut vars = app.settings_env.clone();
        vars.insert("COGNITO_CLIENT_SECRET".into(), secret);
        let (code, out) = doctor(vars).await;
        assert_eq!(code, exit, "{out}");
        let (level, words) = says;
        assert!(
            out.lines().any(|l| l.starts_with(level)
                && l.contains("app client secret")
                && l.contains(words)),
            "{out}"
        );
    }
}

/// An SES account in the sandbox (mail only to verified addresses) is named as a warning; one
/// whose sending AWS paused is fatal. The emulator keeps the account's state per access key.
#[tokio::test]
async fn doctor_names_an_ses_account_in_the_sandbox_and_one_that_may_not_send() {
    let app = TestApp::spawn().await;
    for (state, exit, level, says) in [
        ("sandbox=true", 0, "warn", "is in the sandbox"),
        ("sending=false", 1, "FAIL", "SES has paused sending"),
    ] {
        let vars = signing_with_a_key_that(&app, &format!("ses/account/{{key}}?{state}")).await;
        let (code, out) = doctor(vars).await;
        assert_eq!(code, exit, "{state}: {out}");
        assert!(
            out.lines()
                .any(|l| l.starts_with(level) && l.contains("SES account") && l.contains(says)),
            "{state}: {out}"
        );
    }
}

/// The database role is checked against the documented grants: a role with exactly those is
/// ready, one lacking a grant is named with what it lacks (and `serve` refuses it), and the
/// tests' owner role, which could rewrite the audit log, is a warning.
#[tokio::test]
async fn doctor_names_a_database_role_without_a_documented_grant_and_serve_refuses_it() {
    let app = TestApp::spawn().await;
    let (code, out) = doctor(app.settings_env.clone()).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.lines().any(|l| l.starts_with("warn")
            && l.contains("database role")
            && l.contains("could rewrite the audit log")),
        "the tests run as a superuser: {out}"
    );

    let role_url = app.documented_role().await;
    let mut vars = app.settings_env.clone();
    vars.insert("DATABASE_URL".into(), role_url.clone());
    let (code, out) = doctor(vars.clone()).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.lines().any(|l| l.starts_with("ok")
            && l.contains("database role")
            && l.contains("cannot rewrite the audit log")),
        "{out}"
    );

    let role = role_url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split('@').next())
        .unwrap();
    // A grant beyond the list is named; one on the audit log's tables could erase events.
    let grant = |sql: String| {
        let db = app.db.clone();
        async move { sqlx::query(&sql).execute(&db).await.unwrap() }
    };
    grant(format!("GRANT DELETE ON staff_keys TO {role}")).await;
    let (code, out) = doctor(vars.clone()).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.lines().any(|l| l.starts_with("warn")
            && l.contains("database role")
            && l.contains("holds more than it needs: DELETE on staff_keys")),
        "{out}"
    );
    grant(format!("REVOKE DELETE ON staff_keys FROM {role}")).await;
    grant(format!("GRANT DELETE ON audit_pending TO {role}")).await;
    let (code, out) = doctor(vars.clone()).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.lines().any(|l| l.starts_with("warn")
            && l.contains("database role")
            && l.contains("could erase pending events")),
        "{out}"
    );
    grant(format!("REVOKE DELETE ON audit_pending FROM {role}")).await;
    sqlx::query(&format!("REVOKE UPDATE ON jobs FROM {role}"))
        .execute(&app.db)
        .await
        .unwrap();
    let (code, out) = doctor(vars.clone()).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.lines().any(|l| l.starts_with("FAIL")
            && l.contains("database role")
            && l.contains("lacks UPDATE on jobs")),
        "{out}"
    );
    assert!(
        out.contains("fix: apply config/service-role-grants.sql"),
        "{out}"
    );
    let err = refused_start(vars).await;
    assert!(err.contains("lacks UPDATE on jobs"), "{err}");
}

#[tokio::test]
async fn doctor_checks_the_staff_consoles_provider() {
    let app = TestApp::spawn_with(AppOptions::default().staff_console()).await;
    let (code, out) = doctor(app.settings_env.clone()).await;
    assert_eq!(code, 0, "{out}");
    let issuer = &app.env.oidc_issuer;
    assert!(
        out.lines().any(|l| l.contains("staff console")
            && l.contains(&format!("{issuer} answers: authorization code flow"))),
        "{out}"
    );
    // A provider that does not answer: a warning (recoveries work without the console).
    let mut vars = app.settings_env.clone();
    vars.insert("STAFF_OIDC_ISSUER".into(), "http://127.0.0.1:9".into());
    let (code, out) = doctor(vars).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.lines()
            .any(|l| l.contains("staff console") && l.contains("does not answer")),
        "{out}"
    );
}

#[tokio::test]
async fn doctor_reads_a_cognito_staff_pools_own_mfa_setting() {
    // The staff pool is a pool of the emulator: one that requires MFA, then one where it is
    // optional (staff could sign in with a password alone).
    for (options, level, words) in [
        (AppOptions::default(), "ok", "requires MFA"),
        (
            AppOptions::default().optional_mfa(),
            "warn",
            "staff could sign in to the console with a password alone",
        ),
    ] {
        let staff = TestApp::spawn_with(options).await;
        let app = TestApp::spawn().await;
        let mut vars = app.settings_env.clone();
        vars.insert(
            "STAFF_OIDC_ISSUER".into(),
            format!(
                "https://cognito-idp.us-east-1.amazonaws.com/{}",
                staff.pool_id
            ),
        );
        vars.insert("STAFF_OIDC_CLIENT_ID".into(), "console".into());
        vars.insert("STAFF_OIDC_REQUIRE_MFA".into(), "false".into());
        vars.insert(
            "STAFF_BASE_URL".into(),
            "https://recovery.example.com".into(),
        );
        let (code, out) = doctor(vars).await;
        assert_eq!(code, 0, "{out}");
        assert!(
            out.lines().any(|l| l.starts_with(level)
                && l.contains("staff pool MFA")
                && l.contains(&staff.pool_id)
                && l.contains(words)),
            "{out}"
        );
    }
}
