use crate::helpers::{AppOptions, TestApp, UserOptions};

/// Status, headers and body of a response, minus what always differs (the date).
async fn observable(response: reqwest::Response) -> (u16, Vec<(String, String)>, String) {
    let status = response.status().as_u16();
    let mut headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "date" | "x-request-id"))
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
        .collect();
    headers.sort();
    (status, headers, response.text().await.unwrap())
}

#[tokio::test]
async fn unknown_and_known_usernames_get_identical_responses() {
    let app = TestApp::spawn().await;
    let with_totp = app.create_user().await;
    let without_totp = app
        .create_user_with(UserOptions {
            totp: false,
            ..Default::default()
        })
        .await;
    let unverified = app
        .create_user_with(UserOptions {
            email_verified: false,
            ..Default::default()
        })
        .await;

    let reference = observable(app.request_recovery(&with_totp.username).await).await;
    assert_eq!(reference.0, 202);
    assert_eq!(reference.2, r#"{"status":"accepted"}"#);
    for name in [
        without_totp.username.as_str(),
        unverified.username.as_str(),
        "nobody-by-this-name",
        "ghost@example.com",
    ] {
        assert_eq!(
            observable(app.request_recovery(name).await).await,
            reference,
            "{name}"
        );
    }
}

#[tokio::test]
async fn an_eligible_user_receives_an_email_with_an_eight_digit_code_and_its_lifetime() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    assert_eq!(app.request_recovery(&user.username).await.status(), 202);
    let email = app.wait_for_email(&user.email, 1).await;
    let code = email.code();
    assert_eq!(code.len(), 8);
    assert_eq!(email.source, crate::helpers::FROM_ADDRESS);
    let body = email.body.unwrap();
    assert!(body.contains("10 minutes"), "{body}");
    assert!(body.contains("did not ask"), "{body}");
    app.run_pending_jobs().await;
    let actions = app.actions(&user.username).await;
    assert_eq!(actions, ["recovery.requested", "recovery.code_sent"]);

    // Only a peppered argon2id hash of the code is stored.
    let hash: String = sqlx::query_scalar("SELECT code_hash FROM recoveries WHERE username = $1")
        .bind(&user.username)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(!hash.contains(&code));
}

#[tokio::test]
async fn users_without_totp_or_without_a_verified_email_and_unknown_names_get_no_email() {
    let app = TestApp::spawn().await;
    let without_totp = app
        .create_user_with(UserOptions {
            totp: false,
            ..Default::default()
        })
        .await;
    let unverified = app
        .create_user_with(UserOptions {
            email_verified: false,
            ..Default::default()
        })
        .await;
    for name in [
        &without_totp.username,
        &unverified.username,
        &"nobody-here".to_owned(),
    ] {
        assert_eq!(app.request_recovery(name).await.status(), 202);
    }
    app.run_pending_jobs().await;
    assert!(app.emails_to(&without_totp.email).await.is_empty());
    assert!(app.emails_to(&unverified.email).await.is_empty());
    for name in [
        &without_totp.username,
        &unverified.username,
        &"nobody-here".to_owned(),
    ] {
        assert_eq!(
            app.actions(name).await,
            ["recovery.requested", "recovery.not_eligible"],
            "{name}"
        );
    }
}

#[tokio::test]
async fn an_account_gets_at_most_the_hourly_number_of_emails_and_every_request_still_gets_202() {
    let app = TestApp::spawn_with(
        AppOptions::default()
            .behind_proxy()
            .set("RECOVERY_REQUESTS_PER_USER_PER_HOUR", 3),
    )
    .await;
    let user = app.create_user().await;
    // One address gets one fewer than the account's three; the ceiling holds for all of them.
    for (ip, requests, emails) in [("203.0.113.7", 8, 2), ("198.51.100.9", 2, 3)] {
        for _ in 0..requests {
            let response = app.request_recovery_from(&user.username, ip).await;
            assert_eq!(response.status(), 202);
            app.run_pending_jobs().await;
        }
        assert_eq!(app.emails_to(&user.email).await.len(), emails, "after {ip}");
    }
    let limited = app
        .audit_trail(&user.username)
        .await
        .into_iter()
        .filter(|(a, _)| a == "recovery.rate_limited")
        .count();
    assert_eq!(limited, 7);
}

#[tokio::test]
async fn a_second_request_supersedes_the_first_code() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    let first = app.code_for(&user).await;
    let second = app.code_for(&user).await;
    let response = app.confirm(&user.username, &first, &user.password).await;
    crate::helpers::assert_problem(response, 400, "invalid_recovery").await;
    let response = app.confirm(&user.username, &second, &user.password).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn only_the_configured_origins_may_call_the_end_user_endpoints_from_a_browser() {
    let app = TestApp::spawn_with(
        crate::helpers::AppOptions::default()
            .set("CORS_ALLOWED_ORIGINS", "https://app.example.com"),
    )
    .await;
    let preflight = |path: &'static str, origin: &'static str| {
        app.http
            .request(reqwest::Method::OPTIONS, format!("{}{path}", app.address))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let allowed = |r: &reqwest::Response| {
        r.headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap().to_owned())
    };
    for path in [
        "/v1/recovery",
        "/v1/recovery/confirm",
        "/v1/recovery/enrollment/verify",
    ] {
        let ok = preflight(path, "https://app.example.com").await.unwrap();
        assert_eq!(
            allowed(&ok).as_deref(),
            Some("https://app.example.com"),
            "{path}"
        );
        let other = preflight(path, "https://evil.example").await.unwrap();
        assert_eq!(allowed(&other), None, "{path}");
    }
    let staff = preflight("/v1/support/recoveries", "https://app.example.com")
        .await
        .unwrap();
    assert_eq!(
        allowed(&staff),
        None,
        "no staff endpoint answers across origins"
    );

    let response = app
        .http
        .post(format!("{}/v1/recovery", app.address))
        .header("origin", "https://app.example.com")
        .json(&serde_json::json!({"username": "someone"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    assert_eq!(
        allowed(&response).as_deref(),
        Some("https://app.example.com")
    );
    assert!(response
        .headers()
        .get("access-control-allow-credentials")
        .is_none());
}
