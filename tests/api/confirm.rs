use std::time::Duration;

use crate::helpers::{
    assert_problem, eventually, other_code, AppOptions, Fault, Rule, SignIn, TestApp, TestUser,
    UserOptions,
};

#[tokio::test]
async fn a_user_who_lost_their_phone_gets_back_in_and_enrols_a_new_authenticator() {
    let app = TestApp::spawn().await; // a pool that requires MFA
    let user = app.create_user().await;
    app.assert_totp_still_asked(&user).await;
    assert!(app
        .mfa_settings(&user)
        .await
        .contains(&"SOFTWARE_TOKEN_MFA".to_owned()));

    let code = app.code_for(&user).await;
    let response = app.confirm(&user.username, &code, &user.password).await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "mfa_reset");
    let offered: Vec<&String> = body["enrollment"].as_object().unwrap().keys().collect();
    assert_eq!(
        offered,
        ["expires_at", "otpauth_uri", "secret_code", "token"]
    );

    // The authenticator is gone in Cognito, and the next sign-in enrols a new one.
    assert!(!app
        .mfa_settings(&user)
        .await
        .contains(&"SOFTWARE_TOKEN_MFA".to_owned()));
    assert_eq!(
        app.sign_in(&user).await,
        SignIn::Challenge("MFA_SETUP".into())
    );

    // A notice follows the code email, and it carries no code.
    let notice = app.wait_for_email(&user.email, 2).await;
    let body = notice.body.unwrap();
    assert!(notice.subject.unwrap().contains("authenticator"));
    assert!(body.contains("127.0.0.1"), "{body}");
    assert!(crate::helpers::find_code(&body).is_none(), "{body}");

    app.run_pending_jobs().await;
    let mut actions = app.actions(&user.username).await;
    // The notice (a job) and the enrollment's start (in the confirmation) run side by side.
    let last_two: std::collections::BTreeSet<String> = actions.split_off(5).into_iter().collect();
    assert_eq!(
        actions,
        [
            "recovery.requested",
            "recovery.code_sent",
            "mfa.reset",
            "devices.forgotten",
            "sessions.revoked",
        ]
    );
    assert_eq!(
        last_two,
        ["mfa.enrollment_started", "notification.sent"]
            .map(String::from)
            .into()
    );
}

#[tokio::test]
async fn in_an_optional_mfa_pool_the_next_sign_in_succeeds_without_totp() {
    let app = TestApp::spawn_with(AppOptions::default().optional_mfa()).await;
    let user = app.create_user().await;
    let code = app.code_for(&user).await;
    app.confirm_ok(&user.username, &code, &user.password).await;
    assert_eq!(app.sign_in(&user).await, SignIn::Tokens);
    assert!(app.mfa_settings(&user).await.is_empty());
}

#[tokio::test]
async fn the_code_is_accepted_with_a_space_or_a_hyphen_between_its_halves() {
    let app = TestApp::spawn().await;
    for separator in [" ", "-"] {
        let user = app.create_user().await;
        let code = app.code_for(&user).await;
        let written = format!("{}{separator}{}", &code[..4], &code[4..]);
        app.confirm_ok(&user.username, &written, &user.password)
            .await;
    }
}

#[tokio::test]
async fn a_wrong_code_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    let code = app.code_for(&user).await;
    assert_problem(
        app.confirm(&user.username, &other_code(&code), &user.password)
            .await,
        400,
        "invalid_recovery",
    )
    .await;
    app.assert_totp_still_asked(&user).await;
    // The right code still works afterwards.
    app.confirm_ok(&user.username, &code, &user.password).await;
}

#[tokio::test]
async fn the_right_code_with_a_wrong_password_is_refused_the_same_way() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    let code = app.code_for(&user).await;
    let wrong_password = assert_problem(
        app.confirm(&user.username, &code, "not-the-password").await,
        400,
        "invalid_recovery",
    )
    .await;
    let wrong_code = assert_problem(
        app.confirm(&user.username, &other_code(&code), &user.password)
            .await,
        400,
        "invalid_recovery",
    )
    .await;
    assert_eq!(
        wrong_password, wrong_code,
        "the caller cannot tell which was wrong"
    );
    app.assert_totp_still_asked(&user).await;
    app.confirm_ok(&user.username, &code, &user.password).await;
}

#[tokio::test]
async fn after_the_attempt_limit_even_the_right_code_is_refused() {
    let app = TestApp::spawn().await; // RECOVERY_MAX_ATTEMPTS defaults to 5
    let user = app.create_user().await;
    let code = app.code_for(&user).await;
    for _ in 0..5 {
        assert_problem(
            app.confirm(&user.username, &other_code(&code), &user.password)
                .await,
            400,
            "invalid_recovery",
        )
        .await;
    }
    assert_problem(
        app.confirm(&user.username, &code, &user.password).await,
        429,
        "too_many_attempts",
    )
    .await;
    app.assert_totp_still_asked(&user).await;
    assert!(app
        .actions(&user.username)
        .await
        .contains(&"recovery.locked".to_owned()));
}

#[tokio::test]
async fn a_requested_unknown_username_locks_exactly_like_a_real_one() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    let ghost = "ghost-who-does-not-exist";
    let code = app.code_for(&user).await;
    assert_eq!(app.request_recovery(ghost).await.status(), 202);
    app.run_pending_jobs().await;

    let mut real = Vec::new();
    let mut phantom = Vec::new();
    for _ in 0..6 {
        let r = app
            .confirm(&user.username, &other_code(&code), &user.password)
            .await;
        real.push((r.status().as_u16(), r.text().await.unwrap()));
        let p = app
            .confirm(ghost, &other_code(&code), "whatever-password")
            .await;
        phantom.push((p.status().as_u16(), p.text().await.unwrap()));
    }
    assert_eq!(real, phantom);
    assert_eq!(
        real.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        [400, 400, 400, 400, 400, 429]
    );
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    let code = app.code_for(&user).await;
    app.expire_codes().await;
    assert_problem(
        app.confirm(&user.username, &code, &user.password).await,
        400,
        "invalid_recovery",
    )
    .await;
    app.assert_totp_still_asked(&user).await;
}

#[tokio::test]
async fn a_used_code_cannot_reset_twice() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    let code = app.code_for(&user).await;
    app.confirm_ok(&user.username, &code, &user.password).await;
    assert_problem(
        app.confirm(&user.username, &code, &user.password).await,
        400,
        "invalid_recovery",
    )
    .await;
}

#[tokio::test]
async fn ten_concurrent_confirmations_of_one_code_reset_exactly_once() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    let code = app.code_for(&user).await;
    let attempts = (0..10).map(|_| app.confirm(&user.username, &code, &user.password));
    let statuses: Vec<u16> = futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    // The others are told the reset is in progress (503 with Retry-After), that the code was
    // used, or to wait while so many attempts are in flight; never a server error.
    assert!(
        statuses.iter().all(|s| *s < 500 || *s == 503),
        "{statuses:?}"
    );
    app.run_pending_jobs().await;
    let resets = app
        .actions(&user.username)
        .await
        .into_iter()
        .filter(|a| a == "mfa.reset")
        .count();
    assert_eq!(resets, 1);
}

#[tokio::test]
async fn surrounding_white_space_in_the_username_is_ignored() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    let code = app.code_for(&user).await;
    let response = app
        .confirm(&format!("  {}  ", user.username), &code, &user.password)
        .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn in_a_pool_that_signs_in_with_email_the_user_recovers_with_their_email() {
    let app = TestApp::spawn_with(AppOptions::default().email_as_username()).await;
    let user = app.create_user().await;
    assert!(user.username.contains('@'));
    let code = app.code_for(&user).await; // requested with the email
    app.confirm_ok(&user.username, &code, &user.password).await;
    assert_eq!(
        app.sign_in(&user).await,
        SignIn::Challenge("MFA_SETUP".into())
    );
}

#[tokio::test]
async fn with_an_app_client_secret_the_password_is_checked_with_a_secret_hash() {
    let app = TestApp::spawn_with(AppOptions::default().client_secret()).await;
    let user = app.create_user().await;
    let code = app.code_for(&user).await;
    assert_problem(
        app.confirm(&user.username, &code, "Wrong-Password-1").await,
        400,
        "invalid_recovery",
    )
    .await;
    app.assert_totp_still_asked(&user).await;
    // The emulator refuses a missing or wrong SECRET_HASH: the right password gets through only
    // because the service computes it correctly.
    app.confirm_ok(&user.username, &code, &user.password).await;
}

/// A wrong COGNITO_CLIENT_SECRET makes Cognito refuse the SECRET_HASH with the same error code as
/// a wrong password. The service does not start with one (the preflight compares it); should the
/// app client's secret change under a running service, it is the operator's error: 503, the code
/// still works, the attempt is not counted, and nothing says "wrong password".
#[tokio::test]
async fn a_wrong_client_secret_is_the_operators_error_never_a_wrong_password() {
    let app = TestApp::spawn_with(AppOptions::default().client_secret()).await;
    let user = app.create_user().await;
    let code = app.code_for(&user).await;
    app.emulator(
        reqwest::Method::POST,
        &format!(
            "cognito/{}/clients/{}/rotate-secret",
            app.pool_id, app.client_id
        ),
    )
    .await;
    for _ in 0..3 {
        assert_problem(
            app.confirm(&user.username, &code, &user.password).await,
            503,
            "identity_provider_unavailable",
        )
        .await;
    }
    let details = app
        .audit_details(&user.username, "recovery.confirm_failed")
        .await;
    assert_eq!(details.len(), 3, "{details:?}");
    for (outcome, detail) in &details {
        assert_eq!(outcome, "retryable", "{detail}");
        assert!(detail.contains("SecretHashRefused"), "{detail}");
    }
    // (The test's own sign-in would need the new secret: the user's factors are read instead.)
    assert_eq!(app.mfa_settings(&user).await, ["SOFTWARE_TOKEN_MFA"]);
}

#[tokio::test]
async fn cognito_is_told_the_real_client_address_and_user_agent_at_the_password_check() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    let code = app.code_for(&user).await;
    let response = app
        .http
        .post(format!("{}/v1/recovery/confirm", app.address))
        .header("user-agent", "RecoveryTest/1.0")
        .json(&serde_json::json!({"username": user.username, "code": code, "password": user.password}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let path = format!("cognito/{}/context-data/{}", app.pool_id, user.username);
    let context: serde_json::Value = app
        .emulator(reqwest::Method::GET, &path)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(context["IpAddress"], "127.0.0.1", "{context}");
    assert_eq!(
        context["HttpHeaders"][0]["headerName"], "User-Agent",
        "{context}"
    );
    assert_eq!(
        context["HttpHeaders"][0]["headerValue"], "RecoveryTest/1.0",
        "{context}"
    );
}

/// A remembered device skips MFA, and the lost phone may be one: a reset forgets every one of
/// them (through AdminListDevices' pages) and reads back that none is left.
#[tokio::test]
async fn a_reset_forgets_every_remembered_device_and_reads_back_that_none_is_left() {
    let app = TestApp::spawn().await;
    let two = app.create_user().await;
    assert_eq!(app.remember_devices(&two, 2).await.len(), 2);
    // More than one page of AdminListDevices (60 a page).
    let many = app.create_user().await;
    assert_eq!(app.remember_devices(&many, 61).await.len(), 61);
    let untouched = app.create_user().await;
    app.remember_devices(&untouched, 1).await;

    for (user, count) in [(&two, 2), (&many, 61)] {
        let code = app.code_for(user).await;
        let response = app.confirm(&user.username, &code, &user.password).await;
        assert_eq!(response.status(), 200);
        assert_eq!(app.devices(user).await, Vec::<String>::new());
        let events = app.audit_details(&user.username, "devices.forgotten").await;
        assert_eq!(events.len(), 1, "{events:?}");
        let (outcome, detail) = &events[0];
        assert_eq!(outcome, "success");
        assert!(
            detail.starts_with(&format!("{count} remembered device(s) forgotten")),
            "{detail}"
        );
    }
    assert_eq!(
        app.devices(&untouched).await.len(),
        1,
        "only the recovered users' devices"
    );
}

/// No admin API removes a passkey: the reset reads every factor back, says in the audit what is
/// left, and the notice asks the owner to remove a passkey that lived on the lost phone.
#[tokio::test]
async fn a_passkey_that_remains_is_said_in_the_audit_and_the_notice_and_not_pretended_away() {
    let app = TestApp::spawn().await;
    let with = app.create_user().await;
    app.register_passkey(&with).await;
    let without = app.create_user().await;
    for user in [&with, &without] {
        let code = app.code_for(user).await;
        let response = app.confirm(&user.username, &code, &user.password).await;
        assert_eq!(response.status(), 200);
    }
    let kept = app.audit_detail(&with.username, "mfa.reset").await;
    assert!(
        kept.contains("factors left: PASSWORD, WEB_AUTHN; MFA left: none (a passkey stays"),
        "{kept}"
    );
    let plain = app.audit_detail(&without.username, "mfa.reset").await;
    assert!(
        plain.contains("factors left: PASSWORD; MFA left: none"),
        "{plain}"
    );
    assert!(!plain.contains("passkey"), "{plain}");

    let passkey_line = "A passkey is still registered on your account";
    let notice = app.wait_for_email(&with.email, 2).await.body.unwrap();
    assert!(notice.contains(passkey_line), "{notice}");
    let notice = app.wait_for_email(&without.email, 2).await.body.unwrap();
    assert!(!notice.contains(passkey_line), "{notice}");
}

/// `RECOVERY_FACTORS=totp,sms`: SMS MFA went with the phone too. The reset turns it off and
/// reads it back; in a pool that requires MFA (where Cognito keeps SMS MFA on whatever the
/// preference says) the phone number goes as well. The notice asks for a new number.
#[tokio::test]
async fn with_sms_recovered_a_user_with_totp_and_sms_has_neither_after_the_reset() {
    for optional in [false, true] {
        let options = AppOptions::default().set("RECOVERY_FACTORS", "totp,sms");
        let app = TestApp::spawn_with(if optional {
            options.optional_mfa()
        } else {
            options
        })
        .await;
        let user = app.create_user().await;
        let phone = app.enable_sms_mfa(&user).await;
        let mut settings = app.mfa_settings(&user).await;
        settings.sort();
        assert_eq!(settings, ["SMS_MFA", "SOFTWARE_TOKEN_MFA"]);

        let code = app.code_for(&user).await;
        let response = app.confirm(&user.username, &code, &user.password).await;
        assert_eq!(response.status(), 200, "optional pool: {optional}");
        assert_eq!(
            app.mfa_settings(&user).await,
            Vec::<String>::new(),
            "optional pool: {optional}"
        );
        // Only a pool that requires MFA needs the number gone.
        let kept = app.attribute(&user, "phone_number").await;
        assert_eq!(
            kept,
            optional.then(|| phone.clone()),
            "optional pool: {optional}"
        );

        let detail = app.audit_detail(&user.username, "mfa.reset").await;
        let said = if optional {
            "; SMS MFA turned off;"
        } else {
            "phone number removed, SMS MFA no longer listed"
        };
        assert!(detail.contains(said), "{detail}");
        assert!(detail.contains("MFA left: none"), "{detail}");
        let notice = app.wait_for_email(&user.email, 2).await.body.unwrap();
        assert!(notice.contains("Set your new phone number"), "{notice}");
    }
}

/// Eligibility follows `RECOVERY_FACTORS`: a user whose only MFA is SMS gets a code only when
/// the service recovers SMS; with the default (`totp`) such a user is not eligible, and a user
/// with both keeps SMS MFA through a reset.
#[tokio::test]
async fn sms_mfa_is_recovered_only_when_the_operator_opts_in() {
    let default = TestApp::spawn().await;
    let sms_only = default
        .create_user_with(UserOptions {
            totp: false,
            ..Default::default()
        })
        .await;
    default.enable_sms_mfa(&sms_only).await;
    assert_eq!(
        default.request_recovery(&sms_only.username).await.status(),
        202
    );
    default.run_pending_jobs().await;
    assert!(default.emails_to(&sms_only.email).await.is_empty());
    let detail = default
        .audit_detail(&sms_only.username, "recovery.not_eligible")
        .await;
    assert!(detail.contains("no TOTP authenticator"), "{detail}");

    let both = default.create_user().await;
    default.enable_sms_mfa(&both).await;
    let code = default.code_for(&both).await;
    default
        .confirm_ok(&both.username, &code, &both.password)
        .await;
    assert_eq!(default.mfa_settings(&both).await, ["SMS_MFA"]);
    let notice = default.wait_for_email(&both.email, 2).await.body.unwrap();
    assert!(!notice.contains("phone number"), "{notice}");

    let opted_in =
        TestApp::spawn_with(AppOptions::default().set("RECOVERY_FACTORS", "totp,sms")).await;
    let sms_only = opted_in
        .create_user_with(UserOptions {
            totp: false,
            ..Default::default()
        })
        .await;
    opted_in.enable_sms_mfa(&sms_only).await;
    let code = opted_in.code_for(&sms_only).await;
    opted_in
        .confirm_ok(&sms_only.username, &code, &sms_only.password)
        .await;
    assert_eq!(opted_in.mfa_settings(&sms_only).await, Vec::<String>::new());
}

/// `NOTIFY_SMS=true`: the reset and lock notices also go as a short text to a verified phone
/// number, naming no code and no link; without a number the audit says why none went.
#[tokio::test]
async fn notices_also_go_as_texts_to_a_verified_phone_without_code_or_link() {
    let app = TestApp::spawn_with(
        AppOptions::default()
            .optional_mfa()
            .set("NOTIFY_SMS", "true")
            .set("RECOVERY_FACTORS", "totp,sms"),
    )
    .await;
    let texted = |text: &str| {
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        assert!(digits.len() < 8, "no code: {text}");
        assert!(
            !text.contains("http") && !text.contains("www."),
            "no link: {text}"
        );
        assert!(text.chars().count() <= 160, "one SMS: {text}");
    };

    // TOTP and SMS on the lost phone: both removed, and both notices.
    let user = app.create_user().await;
    let phone = app.enable_sms_mfa(&user).await;
    let code = app.code_for(&user).await;
    app.confirm_ok(&user.username, &code, &user.password).await;
    assert_eq!(app.mfa_settings(&user).await, Vec::<String>::new());
    let notice = app.wait_for_email(&user.email, 2).await.body.unwrap();
    assert!(notice.contains("Set your new phone number"), "{notice}");
    app.run_pending_jobs().await;
    let texts = app.texts_to(&phone).await;
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(
        texts[0].contains("authenticator app was removed"),
        "{}",
        texts[0]
    );
    texted(&texts[0]);

    // A recovery locked after wrong codes: the lock notice goes on both channels too.
    let locked = app.create_user().await;
    let locked_phone = app.enable_sms_mfa(&locked).await;
    let code = app.code_for(&locked).await;
    for _ in 0..5 {
        app.confirm(&locked.username, &other_code(&code), &locked.password)
            .await;
    }
    app.wait_for_email(&locked.email, 2).await;
    app.run_pending_jobs().await;
    let texts = app.texts_to(&locked_phone).await;
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(texts[0].contains("locked"), "{}", texts[0]);
    texted(&texts[0]);

    // No verified number: no text, and the audit says why.
    let no_phone = app.create_user().await;
    let code = app.code_for(&no_phone).await;
    app.confirm_ok(&no_phone.username, &code, &no_phone.password)
        .await;
    app.wait_for_email(&no_phone.email, 2).await;
    app.run_pending_jobs().await;
    let skipped: Vec<String> = app
        .audit_details(&no_phone.username, "notification.sent")
        .await
        .into_iter()
        .filter(|(outcome, _)| outcome == "skipped")
        .map(|(_, detail)| detail)
        .collect();
    assert_eq!(
        skipped,
        ["reset notice text: no verified phone number on file"]
    );
}

/// Without `NOTIFY_SMS` no text goes, whatever numbers the users have.
#[tokio::test]
async fn without_notify_sms_no_text_goes() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    let phone = app.enable_sms_mfa(&user).await;
    let code = app.code_for(&user).await;
    app.confirm_ok(&user.username, &code, &user.password).await;
    app.wait_for_email(&user.email, 2).await;
    app.run_pending_jobs().await;
    assert_eq!(app.texts_to(&phone).await, Vec::<String>::new());
}

/// A confirmation with the right code and password, sent in the background and held at the
/// token deletion (the reset is claimed, its lease running): its answer once the test lets go.
async fn confirming_while_the_token_deletion_is_held(
    app: &TestApp,
    user: &TestUser,
    code: &str,
) -> tokio::task::JoinHandle<reqwest::Result<reqwest::Response>> {
    app.proxy
        .inject(Rule::new("AdminDeleteSoftwareToken", Fault::HoldCall));
    let (http, address) = (app.http.clone(), app.address.clone());
    let body =
        serde_json::json!({"username": user.username, "code": code, "password": user.password});
    let confirming = tokio::spawn(async move {
        http.post(format!("{address}/v1/recovery/confirm"))
            .json(&body)
            .send()
            .await
    });
    app.proxy.wait_until_held("AdminDeleteSoftwareToken").await;
    confirming
}

/// The job that finishes a reset, when it finds the confirmation still holding its lease, is due
/// again the moment the lease ends: no failed attempt is counted and nothing backs off (it used to
/// retry at 3, 8, 18, 27, 48 s, whatever the lease said).
#[tokio::test]
async fn the_job_finishing_a_reset_comes_back_when_the_holders_lease_ends() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    let code = app.code_for(&user).await;
    let held = confirming_while_the_token_deletion_is_held(&app, &user, &code).await;
    // The finishing job runs while the confirmation still holds the reset.
    sqlx::query("UPDATE jobs SET run_at = now() - interval '1 second' WHERE kind = 'finish_reset'")
        .execute(&app.db)
        .await
        .unwrap();
    app.run_pending_jobs().await;
    let (attempts, due, lease_ends): (i32, chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) =
        sqlx::query_as(
            "SELECT j.attempts, j.run_at, r.claimed_until FROM jobs j JOIN recoveries r ON r.id = j.recovery_id
             WHERE j.kind = 'finish_reset' AND j.finished_at IS NULL",
        )
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(attempts, 0, "no failed attempt");
    assert_eq!(due, lease_ends, "due when the lease ends");
    app.proxy.clear();
    assert_eq!(held.await.unwrap().unwrap().status(), 200);
}

/// How many `mfa.reset` events the user's recoveries have.
async fn resets(app: &TestApp, user: &TestUser) -> usize {
    let actions = app.actions(&user.username).await;
    actions.iter().filter(|a| *a == "mfa.reset").count()
}

/// The holder of a reset renews its lease while it works (a heartbeat): however long Cognito
/// takes, the job that finishes resets does not take over from a live holder. A test about the
/// lease, so it is short here (3 s, renewed every second).
#[tokio::test]
async fn a_live_holder_renews_its_lease_so_the_job_does_not_take_the_reset_from_it() {
    let app =
        TestApp::spawn_with(AppOptions::default().set("RECOVERY_RESET_LEASE_SECONDS", 3)).await;
    let user = app.create_user().await;
    let code = app.code_for(&user).await;
    let held = confirming_while_the_token_deletion_is_held(&app, &user, &code).await;
    let lease_end = || async {
        sqlx::query_scalar::<_, chrono::DateTime<chrono::Utc>>(
            "SELECT claimed_until FROM recoveries WHERE status = 'resetting'",
        )
        .fetch_one(&app.db)
        .await
        .unwrap()
    };
    // Cognito holds the call past the lease it was claimed with: the holder renewed it.
    let first = lease_end().await;
    let past = first + chrono::Duration::seconds(1);
    eventually(
        "the holder renews its lease",
        Duration::from_secs(15),
        || async { (lease_end().await > past).then_some(()) },
    )
    .await;
    sqlx::query("UPDATE jobs SET run_at = now() - interval '1 second' WHERE kind = 'finish_reset'")
        .execute(&app.db)
        .await
        .unwrap();
    app.run_pending_jobs().await;
    assert_eq!(
        resets(&app, &user).await,
        0,
        "the job left the reset to its live holder"
    );
    app.proxy.clear();
    assert_eq!(held.await.unwrap().unwrap().status(), 200);
    assert_eq!(resets(&app, &user).await, 1);
}

/// A confirmation that takes over a reset whose holder's lease ran out moves the job that
/// finishes it instead of queuing a second one.
#[tokio::test]
async fn a_confirmation_taking_over_a_reset_moves_its_job_instead_of_adding_one() {
    // A long lease, so that the first holder's heartbeat (every 20 s) cannot renew it before
    // the second confirmation takes it.
    let app =
        TestApp::spawn_with(AppOptions::default().set("RECOVERY_RESET_LEASE_SECONDS", 60)).await;
    let user = app.create_user().await;
    let code = app.code_for(&user).await;
    let first = confirming_while_the_token_deletion_is_held(&app, &user, &code).await;
    // The first holder's lease runs out, before its job is due.
    sqlx::query("UPDATE jobs SET run_at = now() + interval '1 day' WHERE kind = 'finish_reset'")
        .execute(&app.db)
        .await
        .unwrap();
    app.advance(Duration::from_secs(120));
    let (http, address) = (app.http.clone(), app.address.clone());
    let body =
        serde_json::json!({"username": user.username, "code": code, "password": user.password});
    let second = tokio::spawn(async move {
        http.post(format!("{address}/v1/recovery/confirm"))
            .json(&body)
            .send()
            .await
    });
    eventually(
        "the second confirmation holds the reset",
        Duration::from_secs(10),
        || async {
            let held: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM recoveries WHERE status = 'resetting' AND claimed_until > $1",
            )
            .bind(chrono::Utc::now() + chrono::Duration::seconds(100))
            .fetch_one(&app.db)
            .await
            .unwrap();
            (held == 1).then_some(())
        },
    )
    .await;
    let jobs: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM jobs WHERE kind = 'finish_reset' AND finished_at IS NULL",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(jobs, 1, "one job finishes the reset");
    let moved: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM jobs j JOIN recoveries r ON r.id = j.recovery_id
         WHERE j.kind = 'finish_reset' AND j.run_at <= r.claimed_until",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(moved, 1, "due by the end of the new holder's lease");
    app.proxy.clear();
    let statuses = [
        first.await.unwrap().unwrap().status().as_u16(),
        second.await.unwrap().unwrap().status().as_u16(),
    ];
    assert!(statuses.contains(&200), "{statuses:?}");
    app.run_pending_jobs().await;
    assert_eq!(resets(&app, &user).await, 1);
}

/// While one confirmation is removing the authenticator, a second one with the same right code
/// hears "in progress, try again in a few seconds" (503 with `Retry-After`), from the API and
/// from the page alike.
#[tokio::test]
async fn a_confirmation_during_a_reset_in_progress_is_503_with_retry_after_on_the_page_and_the_api()
{
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    let code = app.code_for(&user).await;
    let first = confirming_while_the_token_deletion_is_held(&app, &user, &code).await;

    let api = app.confirm(&user.username, &code, &user.password).await;
    assert_eq!(api.headers()["retry-after"], "5");
    let problem = assert_problem(api, 503, "reset_in_progress").await;
    let words = problem["detail"].as_str().unwrap().to_owned();

    // The page for someone who has a code: its cookie and CSRF token, then the form.
    let form = app
        .http
        .get(format!("{}/recover/code", app.address))
        .send()
        .await
        .unwrap();
    let cookie = form.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let html = form.text().await.unwrap();
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let page = app
        .http
        .post(format!("{}/recover/confirm", app.address))
        .header("cookie", cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", user.username.as_str()),
            ("ask_username", "true"),
            ("code", code.as_str()),
            ("password", user.password.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 503);
    assert_eq!(page.headers()["retry-after"], "5");
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = page.text().await.unwrap();
    assert!(words.contains("being removed"), "{words}");
    assert!(html.contains(&words.replace('\'', "&#x27;")), "{html}");

    // Neither answer disturbed the reset under way: once Cognito answers (the SDK sends the
    // dropped call again), the first confirmation finishes it.
    app.proxy.clear();
    let first = first.await.unwrap().unwrap();
    assert_eq!(first.status(), 200, "{}", first.text().await.unwrap());
    app.run_pending_jobs().await;
    assert_eq!(
        app.sign_in(&user).await,
        SignIn::Challenge("MFA_SETUP".into())
    );
}
