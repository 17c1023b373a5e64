use crate::helpers::{assert_problem, refused_start, within_blocking, AppOptions, SignIn, TestApp};

#[tokio::test]
async fn when_cognito_is_unreachable_confirm_answers_503_and_the_code_still_works_afterwards() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    let code = app.code_for(&user).await;

    app.proxy.take_down();
    let response = app.confirm(&user.username, &code, &user.password).await;
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_problem(response, 503, "identity_provider_unavailable").await;
    assert!(
        retry_after.is_some_and(|s| s.parse::<u64>().is_ok()),
        "Retry-After in seconds"
    );
    // Several outages in a row do not use up the attempts.
    for _ in 0..5 {
        assert_problem(
            app.confirm(&user.username, &code, &user.password).await,
            503,
            "identity_provider_unavailable",
        )
        .await;
    }

    app.proxy.bring_back();
    app.assert_totp_still_asked(&user).await;
    assert_eq!(
        app.confirm(&user.username, &code, &user.password)
            .await
            .status(),
        200
    );
    assert_eq!(
        app.sign_in(&user).await,
        SignIn::Challenge("MFA_SETUP".into())
    );
}

#[tokio::test]
async fn a_code_email_that_cannot_be_sent_yet_is_retried_until_it_goes_out() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    app.proxy.take_down();
    assert_eq!(app.request_recovery(&user.username).await.status(), 202);
    // The job fails against the unreachable emulator and is rescheduled, with the failure recorded.
    app.run_pending_jobs().await;
    assert!(app.emails_to(&user.email).await.is_empty());
    assert!(app
        .actions(&user.username)
        .await
        .contains(&"recovery.code_send_failed".to_owned()));
    app.proxy.bring_back();
    let email = app.wait_for_email(&user.email, 1).await;
    assert_eq!(
        app.confirm(&user.username, &email.code(), &user.password)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn without_admin_delete_software_token_a_required_pool_reports_the_reset_failed_and_keeps_totp(
) {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    app.without_delete_software_token().await;
    let code = app.code_for(&user).await;
    let body = assert_problem(
        app.confirm(&user.username, &code, &user.password).await,
        502,
        "mfa_reset_failed",
    )
    .await;
    assert!(!body.to_string().contains(&code));
    // Cognito answered AdminSetUserMFAPreference with 200, but the read-back shows TOTP is still there.
    app.assert_totp_still_asked(&user).await;
    let trail = app.audit_trail(&user.username).await;
    assert!(
        trail.contains(&("mfa.reset_failed".to_owned(), "failed".to_owned())),
        "{trail:?}"
    );
    assert!(!trail.iter().any(|(a, _)| a == "mfa.reset"), "{trail:?}");
}

#[tokio::test]
async fn without_admin_delete_software_token_an_optional_pool_still_resets_through_the_preference()
{
    let app = TestApp::spawn_with(AppOptions::default().optional_mfa()).await;
    let user = app.create_user().await;
    app.without_delete_software_token().await;
    let code = app.code_for(&user).await;
    assert_eq!(
        app.confirm(&user.username, &code, &user.password)
            .await
            .status(),
        200
    );
    assert_eq!(app.sign_in(&user).await, SignIn::Tokens);
}

/// A wrong pool id or a missing IAM permission looks to Cognito like a refusal, not like an
/// unknown user: it must never be taken for one.
#[tokio::test]
async fn a_pool_the_service_cannot_read_is_loud_and_never_taken_for_an_unknown_user() {
    let app = TestApp::spawn().await;
    let key = app.staff_key("sam", "support").await;
    let user = app.create_user().await;
    app.cognito
        .delete_user_pool()
        .user_pool_id(&app.pool_id)
        .send()
        .await
        .expect("delete_user_pool");

    assert_eq!(app.request_recovery(&user.username).await.status(), 202);
    app.run_pending_jobs().await;
    let actions = app.actions(&user.username).await;
    assert!(
        actions.contains(&"recovery.code_send_failed".to_owned())
            && !actions.contains(&"recovery.not_eligible".to_owned()),
        "retried, not recorded as an unknown user: {actions:?}"
    );
    let status: String = sqlx::query_scalar("SELECT status FROM recoveries")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(status, "requested", "still waiting for a retry");

    let support = app
        .post_with_key(
            "/v1/support/recoveries",
            &key,
            serde_json::json!({"username": user.username, "reason": "T-1"}),
        )
        .await;
    let body = assert_problem(support, 503, "identity_provider_unavailable").await;
    assert!(
        body["detail"].as_str().unwrap().contains("operator"),
        "{body}"
    );

    let ready = app
        .http
        .get(format!("{}/readyz", app.admin_address))
        .send()
        .await
        .unwrap();
    let body = assert_problem(ready, 503, "not_ready").await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("COGNITO_USER_POOL_ID"),
        "{body}"
    );
}

#[tokio::test]
async fn serve_refuses_to_start_with_a_pool_it_cannot_read_and_names_the_setting() {
    let app = TestApp::spawn().await;
    let mut vars = app.settings_env.clone();
    vars.insert(
        "COGNITO_USER_POOL_ID".into(),
        "us-east-1_doesnotexist".into(),
    );
    let err = refused_start(vars).await;
    assert!(
        err.contains("COGNITO_USER_POOL_ID") && err.contains("us-east-1_doesnotexist"),
        "{err}"
    );
}

#[tokio::test]
async fn serve_refuses_to_start_without_aws_credentials_and_says_so_in_one_line() {
    let app = TestApp::spawn().await;
    let mut vars = app.settings_env.clone();
    // No credentials anywhere in the chain (and no instance metadata to ask, as off EC2).
    vars.insert("AWS_EC2_METADATA_DISABLED".into(), "true".into());
    vars.insert("LOG_FORMAT".into(), "json".into());
    let output = tokio::task::spawn_blocking(move || {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mfa-recovery"))
            .arg("serve")
            .env_clear()
            .envs(&vars)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the binary runs");
        let exited = within_blocking(std::time::Duration::from_secs(60), || {
            child.try_wait().unwrap()
        });
        if exited.is_none() {
            let _ = child.kill();
            panic!("the service started without AWS credentials");
        }
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains("AWS credentials"))
        .unwrap_or_else(|| panic!("no line names the missing credentials: {stderr}"));
    assert!(line.contains("AWS_ACCESS_KEY_ID"), "{line}");
    let warnings = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| l.contains("\"WARN\""))
        .count();
    assert!(warnings <= 2, "{}", String::from_utf8_lossy(&output.stdout));
}

#[tokio::test]
async fn serve_names_the_database_it_cannot_reach_without_its_password() {
    let app = TestApp::spawn().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut vars = app.settings_env.clone();
    vars.insert(
        "DATABASE_URL".into(),
        format!("postgres://svc:secret-pw@127.0.0.1:{port}/recovery"),
    );
    let err = refused_start(vars).await;
    assert!(
        err.contains(&format!("127.0.0.1:{port}/recovery")) && err.contains("DATABASE_URL"),
        "{err}"
    );
    assert!(!err.contains("secret-pw"), "{err}");
}

#[tokio::test]
async fn a_port_in_use_is_reported_by_its_setting_before_the_database_is_tried() {
    let app = TestApp::spawn().await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let mut vars = app.settings_env.clone();
    vars.insert("BIND_ADDR".into(), addr.clone());
    // Nothing listens here: had the database been tried first, its error would be the one.
    vars.insert(
        "DATABASE_URL".into(),
        "postgres://svc@127.0.0.1:1/recovery".into(),
    );
    let err = refused_start(vars).await;
    assert!(
        err.starts_with(&format!("listening on {addr} (BIND_ADDR)")),
        "{err}"
    );
    assert!(!err.contains("database"), "{err}");
}
