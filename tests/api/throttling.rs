//! Throttling and dropped calls, through the fault proxy, for every AWS operation the service
//! uses: each ends as an honest `503` with `Retry-After` on a request, or as a retried job, and
//! once AWS answers again the recovery finishes. Nothing is lost, nothing is done twice, and
//! nobody is told a user does not exist.

use std::time::Duration;

use crate::helpers::{
    assert_problem, refused_start, totp_now, within_every, AppOptions, Fault, Rule, SignIn,
    TestApp, TestUser,
};

/// Cognito or SES throttles the call (`TooManyRequestsException`); the call never reaches AWS
/// (connection closed); AWS does it but its answer is lost.
const FAULTS: [Fault; 3] = [Fault::Throttle, Fault::DropCall, Fault::DropAnswer];
// (`FAULTS[..2]`: the two whose call never reached AWS.)

fn retry_after(response: &reqwest::Response) -> Option<u64> {
    response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

async fn count(app: &TestApp, action: &str) -> i64 {
    app.chained().await;
    sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = $1")
        .bind(action)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn issuing_a_code_is_retried_through_throttling_and_dropped_calls_and_the_last_code_works() {
    for operation in ["AdminGetUser", "SendEmail"] {
        for fault in FAULTS {
            let case = format!("{operation} {fault:?}");
            let app = TestApp::spawn().await;
            let user = app.create_user().await;
            app.proxy.inject(Rule::new(operation, fault));
            assert_eq!(app.request_recovery(&user.username).await.status(), 202);
            app.run_pending_jobs().await;
            let actions = app.actions(&user.username).await;
            assert!(
                actions.contains(&"recovery.code_send_failed".to_owned())
                    && !actions.contains(&"recovery.not_eligible".to_owned()),
                "{case}: retried, never taken for an unknown user: {actions:?}"
            );
            // A lost answer from SES: the email went out, but its code is not the one the
            // service marked sent; the retry sends a fresh one.
            let before = app.emails_to(&user.email).await.len();
            assert_eq!(
                before > 0,
                (operation, fault) == ("SendEmail", Fault::DropAnswer),
                "{case}"
            );
            app.proxy.clear();
            let email = app.wait_for_email(&user.email, before + 1).await;
            let response = app
                .confirm(&user.username, &email.code(), &user.password)
                .await;
            assert_eq!(response.status(), 200, "{case}");
        }
    }
}

/// Confirms while Cognito throttles or drops `operation`: an honest 503; once Cognito answers
/// again the reset completes exactly once (finished by its job when it had begun), and the
/// person who did everything right gets 200 with the same code.
async fn confirm_through(operation: &str, fault: Fault) {
    let case = format!("{operation} {fault:?}");
    // One failed run would be the last of a job that gives up: the reset's does not.
    let app = TestApp::spawn_with(AppOptions::default().set("JOB_MAX_ATTEMPTS", 1)).await;
    let user = app.create_user().await;
    // Remembered devices, so that every step of the reset has work to do, more than once (a
    // forget whose answer was lost still forgot its device).
    app.remember_devices(&user, 2).await;
    let code = app.code_for(&user).await;
    app.proxy.inject(Rule::new(operation, fault));
    let response = app.confirm(&user.username, &code, &user.password).await;
    assert!(retry_after(&response).is_some(), "{case}: Retry-After");
    assert_problem(response, 503, "identity_provider_unavailable").await;
    // The job that finishes the reset fails while the fault lasts, and is not given up.
    app.run_pending_jobs().await;
    assert_eq!(count(&app, "mfa.reset").await, 0, "{case}");
    app.proxy.clear();

    // Unasked, the job finishes a reset that had begun (the token deletion may have been
    // sent); a confirmation stopped at the password check changed nothing.
    let begun = operation != "AdminInitiateAuth";
    for _ in 0..3 {
        app.run_jobs_scheduled_for_later().await;
    }
    assert_eq!(count(&app, "mfa.reset").await, i64::from(begun), "{case}");
    if begun {
        let notice = app.wait_for_email(&user.email, 2).await;
        assert!(
            notice.subject.as_deref().unwrap().contains("was removed"),
            "{case}"
        );
    }
    let answered = within_every(
        Duration::from_secs(20),
        Duration::from_millis(200),
        || async {
            let status = app
                .confirm(&user.username, &code, &user.password)
                .await
                .status();
            (status != 503).then_some(status.as_u16())
        },
    )
    .await;
    assert_eq!(answered, Some(200), "{case}");
    app.run_pending_jobs().await;
    assert_eq!(count(&app, "mfa.reset").await, 1, "{case}");
    assert_eq!(count(&app, "sessions.revoked").await, 1, "{case}");
    assert_eq!(count(&app, "devices.forgotten").await, 1, "{case}");
    assert!(app.devices(&user).await.is_empty(), "{case}");
    assert_eq!(
        app.sign_in(&user).await,
        SignIn::Challenge("MFA_SETUP".into()),
        "{case}"
    );
}

#[tokio::test]
async fn a_confirmation_meeting_a_throttled_or_dropped_password_check_answers_503() {
    for fault in FAULTS {
        confirm_through("AdminInitiateAuth", fault).await;
    }
}

#[tokio::test]
async fn a_reset_meeting_a_throttled_or_dropped_token_deletion_completes_once_cognito_answers() {
    for fault in FAULTS {
        confirm_through("AdminDeleteSoftwareToken", fault).await;
    }
}

#[tokio::test]
async fn a_reset_meeting_a_throttled_or_dropped_preference_change_completes_once_cognito_answers() {
    for fault in FAULTS {
        confirm_through("AdminSetUserMFAPreference", fault).await;
    }
}

#[tokio::test]
async fn a_reset_meeting_a_throttled_or_dropped_read_back_completes_once_cognito_answers() {
    for fault in FAULTS {
        confirm_through("AdminGetUser", fault).await;
    }
}

#[tokio::test]
async fn a_reset_meeting_a_throttled_or_dropped_factor_read_back_completes_once_cognito_answers() {
    for fault in FAULTS {
        confirm_through("AdminGetUserAuthFactors", fault).await;
    }
}

#[tokio::test]
async fn a_reset_meeting_throttled_or_dropped_device_calls_completes_once_cognito_answers() {
    for fault in FAULTS {
        confirm_through("AdminListDevices", fault).await;
    }
    // A forget whose answer is lost still forgot its device, so the reset gets further with
    // each try even while answers are lost: only the faults that stop the call are "lasting".
    for fault in [Fault::Throttle, Fault::DropCall] {
        confirm_through("AdminForgetDevice", fault).await;
    }
}

#[tokio::test]
async fn a_reset_meeting_a_throttled_or_dropped_sign_out_completes_once_cognito_answers() {
    for fault in FAULTS {
        confirm_through("AdminUserGlobalSignOut", fault).await;
    }
}

#[tokio::test]
async fn the_reset_notice_is_retried_through_throttling_and_dropped_calls() {
    for fault in FAULTS {
        let app = TestApp::spawn().await;
        let user = app.create_user().await;
        let code = app.code_for(&user).await;
        app.proxy.inject(Rule::new("SendEmail", fault));
        app.confirm_ok(&user.username, &code, &user.password).await;
        app.run_pending_jobs().await;
        let trail = app.audit_trail(&user.username).await;
        assert!(
            trail.contains(&("notification.failed".to_owned(), "retrying".to_owned())),
            "{fault:?}: {trail:?}"
        );
        app.proxy.clear();
        let notice = app.wait_for_email(&user.email, 2).await;
        assert!(
            notice.subject.as_deref().unwrap().contains("was removed"),
            "{fault:?}"
        );
    }
}

#[tokio::test]
async fn support_is_told_to_retry_when_cognito_throttles_or_drops_the_lookup() {
    for fault in FAULTS {
        let app = TestApp::spawn().await;
        let key = app.staff_key("sam", "support").await;
        let user = app.create_user().await;
        let ask = || {
            app.post_with_key(
                "/v1/support/recoveries",
                &key,
                serde_json::json!({"username": user.username, "reason": "T-7"}),
            )
        };
        app.proxy.inject(Rule::new("AdminGetUser", fault));
        let response = ask().await;
        assert!(retry_after(&response).is_some(), "{fault:?}: Retry-After");
        assert_problem(response, 503, "identity_provider_unavailable").await;
        app.proxy.clear();
        assert_eq!(ask().await.status(), 202, "{fault:?}");
    }
}

/// Confirms for an enrollment; its token and secret.
async fn enrollment_for(app: &TestApp, user: &TestUser) -> (String, String) {
    let code = app.code_for(user).await;
    let response = app.confirm(&user.username, &code, &user.password).await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    let enrollment = &body["enrollment"];
    (
        enrollment["token"].as_str().unwrap().to_owned(),
        enrollment["secret_code"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn enrolling_the_new_authenticator_answers_503_while_cognito_throttles_and_stays_open() {
    // The calls that use Cognito's session are not retried after a lost answer here (see
    // docs/RELIABILITY.md): only faults whose call never reached Cognito.
    let operations = [
        ("VerifySoftwareToken", &FAULTS[..2]),
        ("AdminRespondToAuthChallenge", &FAULTS[..2]),
        ("AdminSetUserMFAPreference", &FAULTS[..]),
        ("AdminGetUser", &FAULTS[..]),
    ];
    for (operation, faults) in operations {
        for &fault in faults {
            let case = format!("{operation} {fault:?}");
            let app = TestApp::spawn().await;
            let user = app.create_user().await;
            let (token, secret) = enrollment_for(&app, &user).await;
            let verify = || {
                app.post_json(
                    "/v1/recovery/enrollment/verify",
                    serde_json::json!({"token": token, "code": totp_now(&secret)}),
                )
            };
            app.proxy.inject(Rule::new(operation, fault));
            let response = verify().await;
            assert!(retry_after(&response).is_some(), "{case}: Retry-After");
            assert_problem(response, 503, "identity_provider_unavailable").await;
            app.proxy.clear();
            let response = verify().await;
            assert_eq!(
                response.status(),
                200,
                "{case}: {}",
                response.text().await.unwrap()
            );
            assert!(app.sign_in_with_totp(&user, &secret).await, "{case}");
        }
    }
}

/// The sign-out after the enrollment comes once the new authenticator is the user's and read
/// back: a throttled AdminUserGlobalSignOut does not undo or refuse that; the enrollment's job
/// signs the user out once Cognito answers again.
#[tokio::test]
async fn a_throttled_sign_out_after_enrolling_is_left_to_the_enrollments_job() {
    for fault in FAULTS {
        let app = TestApp::spawn().await;
        let user = app.create_user().await;
        let (token, secret) = enrollment_for(&app, &user).await;
        app.proxy.inject(Rule::new("AdminUserGlobalSignOut", fault));
        let response = app
            .post_json(
                "/v1/recovery/enrollment/verify",
                serde_json::json!({"token": token, "code": totp_now(&secret)}),
            )
            .await;
        assert_eq!(response.status(), 200, "{fault:?}");
        if FAULTS[..2].contains(&fault) {
            assert!(app.live_tokens(&user).await > 0, "{fault:?}: not yet");
        }
        app.proxy.clear();
        app.run_jobs_scheduled_for_later().await;
        assert_eq!(app.live_tokens(&user).await, 0, "{fault:?}: signed out");
        assert!(app.sign_in_with_totp(&user, &secret).await, "{fault:?}");
    }
}

#[tokio::test]
async fn a_throttled_association_still_resets_and_says_no_enrollment_was_started() {
    for fault in FAULTS {
        let app = TestApp::spawn().await;
        let user = app.create_user().await;
        let code = app.code_for(&user).await;
        app.proxy.inject(Rule::new("AssociateSoftwareToken", fault));
        let response = app.confirm(&user.username, &code, &user.password).await;
        assert_eq!(response.status(), 200, "{fault:?}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["status"], "mfa_reset", "{fault:?}");
        assert!(body["enrollment"].is_null(), "{fault:?}: {body}");
        let trail = app.audit_trail(&user.username).await;
        assert!(
            trail.contains(&("mfa.enrollment_started".to_owned(), "failed".to_owned())),
            "{fault:?}: {trail:?}"
        );
    }
}

#[tokio::test]
async fn serve_waits_out_a_throttling_cognito_at_start_and_reads_the_pool_right() {
    let app = TestApp::spawn_with(AppOptions::default().case_insensitive()).await;
    app.proxy
        .inject(Rule::new("GetUserPoolMfaConfig", Fault::Throttle).times(2));
    app.proxy
        .inject(Rule::new("DescribeUserPool", Fault::DropCall).times(2));
    let settings = mfa_recovery::settings::Settings::load_from(app.settings_env.clone()).unwrap();
    let started = mfa_recovery::startup::Application::build(settings)
        .await
        .expect("started once Cognito answered");
    assert!(app.proxy.calls("DescribeUserPool") >= 3);
    // It read the pool's case-insensitivity: two spellings of one name are one name.
    let address = format!("http://127.0.0.1:{}", started.port());
    tokio::spawn(started.run_until_stopped());
    let user = app.create_user().await;
    for name in [user.username.to_uppercase(), user.username.clone()] {
        let response = app
            .http
            .post(format!("{address}/v1/recovery"))
            .json(&serde_json::json!({"username": name}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202);
    }
    let keys: i64 = sqlx::query_scalar("SELECT count(DISTINCT name_key) FROM recoveries")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(keys, 1);
}

#[tokio::test]
async fn serve_gives_up_on_a_cognito_that_never_answers_and_names_the_setting() {
    let app = TestApp::spawn().await;
    app.proxy
        .inject(Rule::new("GetUserPoolMfaConfig", Fault::Throttle));
    let mut vars = app.settings_env.clone();
    vars.insert("AWS_STARTUP_WAIT_SECONDS".into(), "2".into());
    let err = refused_start(vars).await;
    assert!(
        err.contains("AWS_STARTUP_WAIT_SECONDS") && err.contains("did not answer"),
        "{err}"
    );
}

/// A reset that turned SMS MFA off and then met an outage (here: the remembered devices cannot
/// be listed) is finished by its job, which finds SMS already off: the notice still asks for a
/// new number, and the audit says an earlier attempt removed SMS MFA.
#[tokio::test]
async fn a_reset_finished_after_an_outage_still_says_sms_mfa_was_removed() {
    let app = TestApp::spawn_with(
        AppOptions::default()
            .optional_mfa()
            .set("RECOVERY_FACTORS", "totp,sms")
            .set("JOB_MAX_ATTEMPTS", 1),
    )
    .await;
    let user = app.create_user().await;
    app.enable_sms_mfa(&user).await;
    let code = app.code_for(&user).await;
    app.proxy
        .inject(Rule::new("AdminListDevices", Fault::Throttle));
    let response = app.confirm(&user.username, &code, &user.password).await;
    assert_problem(response, 503, "identity_provider_unavailable").await;
    assert_eq!(app.mfa_settings(&user).await, Vec::<String>::new());
    app.proxy.clear();

    for _ in 0..3 {
        app.run_jobs_scheduled_for_later().await;
    }
    assert_eq!(count(&app, "mfa.reset").await, 1);
    let detail = app.audit_detail(&user.username, "mfa.reset").await;
    assert!(
        detail.contains("SMS MFA removed by an earlier attempt of this reset"),
        "{detail}"
    );
    let notice = app.wait_for_email(&user.email, 2).await.body.unwrap();
    assert!(notice.contains("Set your new phone number"), "{notice}");
}
