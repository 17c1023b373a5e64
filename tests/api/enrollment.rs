//! The new authenticator, enrolled before the user leaves: the confirmation's answer carries
//! the secret Cognito issued, and a code from it finishes the enrollment. The emulator issues a
//! random secret per association and checks codes against it, so these tests prove that the
//! secret handed out is the one Cognito will ask for.

use crate::helpers::{assert_problem, other_totp, totp_now, AppOptions, SignIn, TestApp, TestUser};

/// Confirms with the right code and password; the `enrollment` of the 200 answer.
async fn confirm_for_enrollment(app: &TestApp, user: &TestUser) -> serde_json::Value {
    let code = app.code_for(user).await;
    let response = app.confirm(&user.username, &code, &user.password).await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "mfa_reset");
    body["enrollment"].clone()
}

async fn verify(app: &TestApp, token: &str, code: &str) -> reqwest::Response {
    app.post_json(
        "/v1/recovery/enrollment/verify",
        serde_json::json!({"token": token, "code": code}),
    )
    .await
}

fn secret_of(enrollment: &serde_json::Value) -> String {
    enrollment["secret_code"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn in_a_required_pool_the_new_authenticator_is_what_the_next_sign_in_asks_for() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    let enrollment = confirm_for_enrollment(&app, &user).await;
    let secret = secret_of(&enrollment);
    assert!(
        secret.len() >= 16
            && secret
                .chars()
                .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c)),
        "a base32 secret without padding: {secret}"
    );
    assert_ne!(Some(&secret), user.totp_secret.as_ref(), "a new secret");
    let uri = enrollment["otpauth_uri"].as_str().unwrap();
    assert_eq!(
        uri,
        format!(
            "otpauth://totp/mfa-recovery:{}?secret={secret}&issuer=mfa-recovery",
            user.username
        )
    );
    let expires_at =
        chrono::DateTime::parse_from_rfc3339(enrollment["expires_at"].as_str().unwrap()).unwrap();
    let left = expires_at
        .signed_duration_since(chrono::Utc::now())
        .num_seconds();
    assert!((150..=180).contains(&left), "the default 180 s: {left}");
    // Until the new authenticator is verified, a required pool asks to set one up.
    assert_eq!(
        app.sign_in(&user).await,
        SignIn::Challenge("MFA_SETUP".into())
    );

    let response = verify(
        &app,
        enrollment["token"].as_str().unwrap(),
        &totp_now(&secret),
    )
    .await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({"status": "enrolled", "passkeys": []})
    );

    assert_eq!(app.mfa_settings(&user).await, ["SOFTWARE_TOKEN_MFA"]);
    assert!(
        app.sign_in_with_totp(&user, &secret).await,
        "the new app's code lets the user in"
    );
    let lost = user.totp_secret.as_deref().unwrap();
    assert!(
        !app.sign_in_with_totp(&user, lost).await,
        "the lost phone's code does not"
    );
    let actions = app.actions(&user.username).await;
    for action in ["mfa.reset", "mfa.enrollment_started", "mfa.enrolled"] {
        assert!(
            actions.contains(&action.to_owned()),
            "{action}: {actions:?}"
        );
    }
}

#[tokio::test]
async fn in_an_optional_pool_the_account_is_password_only_until_the_new_authenticator_is_verified()
{
    let app = TestApp::spawn_with(AppOptions::default().optional_mfa()).await;
    let user = app.create_user().await;
    let enrollment = confirm_for_enrollment(&app, &user).await;
    assert_eq!(
        app.sign_in(&user).await,
        SignIn::Tokens,
        "password-only meanwhile"
    );
    let secret = secret_of(&enrollment);
    let response = verify(
        &app,
        enrollment["token"].as_str().unwrap(),
        &totp_now(&secret),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(app.mfa_settings(&user).await, ["SOFTWARE_TOKEN_MFA"]);
    assert!(app.sign_in_with_totp(&user, &secret).await);
}

#[tokio::test]
async fn an_app_client_with_a_secret_completes_the_enrollment() {
    let app = TestApp::spawn_with(AppOptions::default().client_secret()).await;
    let user = app.create_user().await;
    let enrollment = confirm_for_enrollment(&app, &user).await;
    let secret = secret_of(&enrollment);
    let response = verify(
        &app,
        enrollment["token"].as_str().unwrap(),
        &totp_now(&secret),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert!(app.sign_in_with_totp(&user, &secret).await);
}

#[tokio::test]
async fn wrong_codes_are_refused_and_the_fifth_ends_the_enrollment() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    let enrollment = confirm_for_enrollment(&app, &user).await;
    let token = enrollment["token"].as_str().unwrap();
    let secret = secret_of(&enrollment);
    for _ in 0..5 {
        let wrong = other_totp(&totp_now(&secret));
        assert_problem(verify(&app, token, &wrong).await, 400, "invalid_totp").await;
    }
    // Even the right code cannot finish it now.
    assert_problem(
        verify(&app, token, &totp_now(&secret)).await,
        400,
        "invalid_enrollment",
    )
    .await;
    assert!(app.mfa_settings(&user).await.is_empty());
    assert_eq!(
        app.sign_in(&user).await,
        SignIn::Challenge("MFA_SETUP".into())
    );
}

#[tokio::test]
async fn unknown_used_and_malformed_enrollments_are_refused() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    let enrollment = confirm_for_enrollment(&app, &user).await;
    let token = enrollment["token"].as_str().unwrap();
    let code = totp_now(&secret_of(&enrollment));
    let unknown = "A".repeat(43);
    assert_problem(
        verify(&app, &unknown, &code).await,
        400,
        "invalid_enrollment",
    )
    .await;
    assert_problem(verify(&app, token, "12345").await, 400, "invalid_request").await;
    assert_eq!(verify(&app, token, &code).await.status(), 200);
    assert_problem(verify(&app, token, &code).await, 400, "invalid_enrollment").await;
}

#[tokio::test]
async fn an_expired_enrollment_is_refused_and_a_required_pool_still_asks_to_set_up() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    let enrollment = confirm_for_enrollment(&app, &user).await;
    sqlx::query("UPDATE enrollments SET expires_at = now() - interval '1 second'")
        .execute(&app.db)
        .await
        .unwrap();
    let code = totp_now(&secret_of(&enrollment));
    assert_problem(
        verify(&app, enrollment["token"].as_str().unwrap(), &code).await,
        400,
        "invalid_enrollment",
    )
    .await;
    assert_eq!(
        app.sign_in(&user).await,
        SignIn::Challenge("MFA_SETUP".into())
    );
}

#[tokio::test]
async fn the_enrollment_token_secret_and_cognito_session_are_never_stored_in_clear() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    let enrollment = confirm_for_enrollment(&app, &user).await;
    let token = enrollment["token"].as_str().unwrap().to_owned();
    let secret = secret_of(&enrollment);
    // Every text and byte column of every table, as one dump.
    app.chained().await;
    let dump: String = sqlx::query_scalar(
        "SELECT string_agg(t::text, ' ') FROM (
             SELECT r::text AS t FROM recoveries r UNION ALL
             SELECT e::text FROM enrollments e UNION ALL
             SELECT encode(sealed, 'escape') FROM enrollments WHERE sealed IS NOT NULL UNION ALL
             SELECT a::text FROM audit_events a UNION ALL
             SELECT j::text FROM jobs j) all_rows",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(
        dump.contains("mfa.enrollment_started"),
        "the dump covers the audit log"
    );
    for (what, value) in [("token", token.as_str()), ("secret", secret.as_str())] {
        assert!(!dump.contains(value), "the {what} is stored in clear");
    }
    let response = verify(&app, &token, &totp_now(&secret)).await;
    assert_eq!(response.status(), 200);
    let sealed_left: i64 =
        sqlx::query_scalar("SELECT count(*) FROM enrollments WHERE sealed IS NOT NULL")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(
        sealed_left, 0,
        "the sealed credential goes when the enrollment ends"
    );
}

#[tokio::test]
async fn without_the_password_requirement_no_enrollment_is_offered() {
    let app =
        TestApp::spawn_with(AppOptions::default().set("RECOVERY_REQUIRE_PASSWORD", false)).await;
    let user = app.create_user().await;
    let code = app.code_for(&user).await;
    let response = app
        .post_json(
            "/v1/recovery/confirm",
            serde_json::json!({"username": user.username, "code": code}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"status": "mfa_reset"}));
}

/// The link's token in a reset-applied notice.
fn enrol_link_token(body: &str) -> String {
    let start = body
        .find("https://recovery.example.com/recover/enrol?token=")
        .expect("an enrollment link on the configured base URL");
    body[start..]
        .split("token=")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

#[tokio::test]
async fn after_a_waiting_period_the_notices_link_resumes_the_enrollment_with_the_password() {
    let app = TestApp::spawn_with(
        AppOptions::default()
            .set("RECOVERY_RESET_DELAY_SECONDS", 60)
            .set("PUBLIC_BASE_URL", "https://recovery.example.com"),
    )
    .await;
    let user = app.create_user().await;
    let code = app.code_for(&user).await;
    let confirmed = app.confirm(&user.username, &code, &user.password).await;
    assert_eq!(confirmed.status(), 202, "scheduled: no enrollment yet");
    app.wait_for_email(&user.email, 2).await; // the scheduled-reset notice
    app.run_jobs_scheduled_for_later().await; // the waiting period passes
    let applied = app.wait_for_email(&user.email, 3).await;
    assert!(applied.subject.as_deref().unwrap().contains("was removed"));
    let token = enrol_link_token(&applied.body.unwrap());
    assert_eq!(token.len(), 43);

    let resume = |password: String| {
        app.post_json(
            "/v1/recovery/enrollment",
            serde_json::json!({"token": token, "password": password}),
        )
    };
    assert_problem(
        resume("not-the-password".into()).await,
        400,
        "invalid_enrollment",
    )
    .await;
    let response = resume(user.password.clone()).await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    let enrollment = &body["enrollment"];
    let secret = secret_of(enrollment);
    let verified = verify(
        &app,
        enrollment["token"].as_str().unwrap(),
        &totp_now(&secret),
    )
    .await;
    assert_eq!(verified.status(), 200);
    assert!(app.sign_in_with_totp(&user, &secret).await);

    // Used once: the link cannot replace the new authenticator.
    assert_problem(
        resume(user.password.clone()).await,
        400,
        "invalid_enrollment",
    )
    .await;
}

/// A user who also has email or SMS MFA is asked for it when the enrollment signs in: the
/// answer says where the code went (masked) instead of offering a secret; with the code they
/// received, the same token gets the new authenticator, which then becomes what sign-in asks
/// for. In a pool that requires MFA and in an optional one alike; wrong codes are refused.
#[tokio::test]
async fn a_user_with_another_factor_types_its_code_then_enrols() {
    for (options, factor) in [
        (AppOptions::default(), "email"),
        (AppOptions::default().optional_mfa(), "email"),
        (AppOptions::default(), "sms"),
    ] {
        let app = TestApp::spawn_with(options).await;
        let user = app.create_user().await;
        let phone = if factor == "email" {
            app.enable_email_mfa(&user).await;
            None
        } else {
            Some(app.enable_sms_mfa(&user).await)
        };
        let enrollment = confirm_for_enrollment(&app, &user).await;
        assert!(enrollment.get("secret_code").is_none(), "{enrollment}");
        let sent = &enrollment["sign_in_code"];
        assert_eq!(sent["factor"], factor, "{enrollment}");
        let destination = sent["destination"].as_str().unwrap();
        match &phone {
            None => assert_eq!(destination, format!("{}***@e***", &user.email[..1])),
            Some(phone) => assert_eq!(
                destination,
                format!("+*******{}", &phone[phone.len() - 4..])
            ),
        }
        let token = enrollment["token"].as_str().unwrap();
        let (challenge, code) = app.mfa_code_sent(&user).await.expect("a code was sent");
        assert_eq!(
            challenge,
            if factor == "email" {
                "EMAIL_OTP"
            } else {
                "SMS_MFA"
            }
        );

        // Verifying a new authenticator before the sign-in's code: there is none yet.
        assert_problem(
            verify(&app, token, "123456").await,
            400,
            "invalid_enrollment",
        )
        .await;
        let answer = |code: String| {
            app.post_json(
                "/v1/recovery/enrollment/code",
                serde_json::json!({"token": token, "code": code}),
            )
        };
        let wrong = if code.starts_with('1') {
            code.replace('1', "2")
        } else {
            format!("1{}", &code[1..])
        };
        assert_problem(answer(wrong).await, 400, "invalid_sign_in_code").await;
        let response = answer(code).await;
        assert_eq!(response.status(), 200);
        let body: serde_json::Value = response.json().await.unwrap();
        let secret = secret_of(&body["enrollment"]);
        assert_eq!(body["enrollment"]["token"], token, "the same token goes on");
        assert_eq!(verify(&app, token, &totp_now(&secret)).await.status(), 200);
        assert!(app.sign_in_with_totp(&user, &secret).await, "{factor}");
        let audit = app
            .audit_details(&user.username, "mfa.enrollment_started")
            .await;
        assert!(
            audit
                .iter()
                .any(|(_, d)| d.contains("asked for") && d.contains(destination)),
            "{audit:?}"
        );
    }
}
