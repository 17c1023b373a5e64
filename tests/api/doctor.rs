//! `mfa-recovery doctor`, and the same preflight in `serve`, against the emulated pool.

use std::collections::HashMap;

use aws_sdk_cognitoidentityprovider::types::ExplicitAuthFlowsType;

use crate::helpers::{refused_start, TestApp};

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

#[tokio::test]
async fn doctor_passes_a_well_configured_pool() {
    let app = TestApp::spawn().await;
    let mut vars = app.settings_env.clone();
    vars.insert("NOTIFY_SMS".into(), "true".into());
    let (code, out) = doctor(vars).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.trim_end().ends_with("ready"), "{out}");
    for check in [
        "database",
        "pool MFA",
        "authenticator apps",
        "token deletion",
        "feature plan",
        "remembered devices",
        "app client",
        "SES sender",
        "SMS notices",
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
    let client = app
        .cognito
        .create_user_pool_client()
        .user_pool_id(&app.pool_id)
        .client_name("srp-only")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserSrpAuth)
        .send()
        .await
        .unwrap();
    let mut vars = app.settings_env.clone();
    vars.insert(
        "COGNITO_CLIENT_ID".into(),
        client
            .user_pool_client()
            .unwrap()
            .client_id()
            .unwrap()
            .into(),
    );
    vars.remove("COGNITO_CLIENT_SECRET");
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
