//! Passkeys after the new authenticator: no admin API removes one, but the user's own sign-in
//! (held by the enrollment) lists and deletes them. The user removes the lost phone's passkey,
//! keeps the laptop's, and is then signed out everywhere; the notice names what remains. The
//! emulator models ListWebAuthnCredentials and DeleteWebAuthnCredential as AWS documents them
//! (the caller's own access token; a revoked one is refused).

use std::time::Duration;

use crate::helpers::{assert_problem, totp_now, AppOptions, TestApp, TestUser};

/// Confirms with code and password, then verifies the new authenticator: the 200 answer.
async fn enrol(app: &TestApp, user: &TestUser) -> (String, serde_json::Value) {
    let code = app.code_for(user).await;
    let response = app.confirm(&user.username, &code, &user.password).await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    let enrollment = &body["enrollment"];
    let token = enrollment["token"].as_str().unwrap().to_owned();
    let secret = enrollment["secret_code"].as_str().unwrap();
    let response = app
        .post_json(
            "/v1/recovery/enrollment/verify",
            serde_json::json!({"token": token, "code": totp_now(secret)}),
        )
        .await;
    assert_eq!(response.status(), 200);
    (token, response.json().await.unwrap())
}

async fn list(app: &TestApp, token: &str) -> reqwest::Response {
    app.get_with_key("/v1/recovery/enrollment/passkeys", token)
        .await
}

async fn remove(app: &TestApp, token: &str, id: &str) -> reqwest::Response {
    app.http
        .delete(format!(
            "{}/v1/recovery/enrollment/passkeys/{id}",
            app.address
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn finish(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_json(
        "/v1/recovery/enrollment/finish",
        serde_json::json!({"token": token}),
    )
    .await
}

/// The detail of the enrollment's sign-out (the reset signed out once before).
async fn ended_by(app: &TestApp, user: &TestUser) -> String {
    let events = app.audit_details(&user.username, "sessions.revoked").await;
    assert_eq!(
        events.len(),
        2,
        "the reset's and the enrollment's: {events:?}"
    );
    events[1].1.clone()
}

fn names(passkeys: &serde_json::Value) -> Vec<&str> {
    passkeys
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect()
}

/// The journey in both kinds of pool (the sign-in the passkeys are listed with comes from
/// completing MFA_SETUP in a required pool, from the password in an optional one).
async fn the_lost_phones_passkey_is_removed_and_the_laptops_kept(app: TestApp) {
    let user = app.create_user().await;
    let lost = app.register_passkey_named(&user, "Lost phone").await;
    app.register_passkey_named(&user, "Laptop").await;

    let (token, enrolled) = enrol(&app, &user).await;
    assert_eq!(enrolled["status"], "enrolled");
    assert_eq!(names(&enrolled["passkeys"]), ["Lost phone", "Laptop"]);
    let phone = &enrolled["passkeys"][0];
    assert_eq!(phone["id"], lost.as_str());
    assert_eq!(phone["attachment"], "platform");
    chrono::DateTime::parse_from_rfc3339(phone["created_at"].as_str().unwrap()).unwrap();
    let until = enrolled["passkeys_until"].as_str().expect("an end");
    chrono::DateTime::parse_from_rfc3339(until).unwrap();
    assert!(
        app.live_tokens(&user).await > 0,
        "the user's sign-in is kept for the passkeys"
    );

    let response = list(&app, &token).await;
    assert_eq!(response.status(), 200);
    let listed: serde_json::Value = response.json().await.unwrap();
    assert_eq!(names(&listed["passkeys"]), ["Lost phone", "Laptop"]);
    assert_eq!(listed["expires_at"], until);

    let response = remove(&app, &token, &lost).await;
    assert_eq!(response.status(), 200);
    let left: serde_json::Value = response.json().await.unwrap();
    assert_eq!(names(&left["passkeys"]), ["Laptop"]);
    let in_cognito: Vec<String> = app
        .passkeys(&user)
        .await
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    assert_eq!(in_cognito, ["Laptop"], "removed in Cognito, not just here");
    let removed = app.audit_detail(&user.username, "passkeys.removed").await;
    assert!(
        removed.contains("\"Lost phone\"") && removed.contains("1 removed, 1 left"),
        "{removed}"
    );
    assert_problem(remove(&app, &token, &lost).await, 404, "passkey_not_found").await;

    let response = finish(&app, &token).await;
    assert_eq!(response.status(), 200);
    let finished: serde_json::Value = response.json().await.unwrap();
    assert_eq!(finished["status"], "finished");
    assert_eq!(names(&finished["passkeys"]), ["Laptop"]);
    assert_eq!(app.live_tokens(&user).await, 0, "signed out everywhere");
    let revoked = ended_by(&app, &user).await;
    assert!(
        revoked.contains("the user finished with their passkeys")
            && revoked.contains("removed: 1, left: 1"),
        "{revoked}"
    );
    // The token is spent: the passkeys are the user's own business again.
    assert_problem(list(&app, &token).await, 400, "invalid_enrollment").await;
    assert_problem(finish(&app, &token).await, 400, "invalid_enrollment").await;

    // The notice says which remain, and which went.
    let notice = app.wait_for_email(&user.email, 3).await;
    assert!(
        notice.subject.as_deref() == Some("Your passkeys after the account recovery"),
        "{:?}",
        notice.subject
    );
    let body = notice.body.unwrap();
    let (removed_part, left_part) = body.split_once("can still sign in").expect(&body);
    assert!(removed_part.contains("Lost phone"), "{body}");
    assert!(
        left_part.contains("Laptop") && !left_part.contains("Lost phone"),
        "{body}"
    );
}

#[tokio::test]
async fn in_a_required_pool_the_lost_phones_passkey_is_removed_and_the_laptops_kept() {
    the_lost_phones_passkey_is_removed_and_the_laptops_kept(TestApp::spawn().await).await;
}

#[tokio::test]
async fn in_an_optional_pool_the_lost_phones_passkey_is_removed_and_the_laptops_kept() {
    let app = TestApp::spawn_with(AppOptions::default().optional_mfa()).await;
    the_lost_phones_passkey_is_removed_and_the_laptops_kept(app).await;
}

#[tokio::test]
async fn a_passkey_step_left_open_signs_the_user_out_when_its_time_runs_out() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    app.register_passkey_named(&user, "Lost phone").await;
    let (token, enrolled) = enrol(&app, &user).await;
    assert_eq!(names(&enrolled["passkeys"]), ["Lost phone"]);

    // Before the end, the job leaves the user's choice open.
    app.advance(Duration::from_secs(170));
    app.run_pending_jobs().await;
    assert!(app.live_tokens(&user).await > 0);
    assert_eq!(list(&app, &token).await.status(), 200);

    // The default enrollment time (180 s) after the verification, it ends.
    app.advance(Duration::from_secs(11));
    app.run_pending_jobs().await;
    assert_eq!(app.live_tokens(&user).await, 0, "signed out everywhere");
    let revoked = ended_by(&app, &user).await;
    assert!(
        revoked.contains("ran out") && revoked.contains("removed: 0, left: 1"),
        "{revoked}"
    );
    assert_problem(list(&app, &token).await, 400, "invalid_enrollment").await;
    let notice = app.wait_for_email(&user.email, 3).await;
    let body = notice.body.unwrap();
    assert!(
        body.contains("This passkey can still sign in") && body.contains("Lost phone"),
        "{body}"
    );
    assert_eq!(
        app.passkeys(&user).await.len(),
        1,
        "nothing removed unasked"
    );
}

#[tokio::test]
async fn without_passkeys_the_user_is_signed_out_at_once_and_no_passkey_notice_goes() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    let (token, enrolled) = enrol(&app, &user).await;
    assert_eq!(
        enrolled,
        serde_json::json!({"status": "enrolled", "passkeys": []})
    );
    assert_eq!(app.live_tokens(&user).await, 0, "signed out everywhere");
    assert_problem(list(&app, &token).await, 400, "invalid_enrollment").await;
    app.run_jobs_scheduled_for_later().await;
    let subjects: Vec<_> = app
        .emails_to(&user.email)
        .await
        .into_iter()
        .filter_map(|e| e.subject)
        .collect();
    assert_eq!(
        subjects.len(),
        2,
        "the code and the reset notice: {subjects:?}"
    );
}

#[tokio::test]
async fn the_passkeys_need_the_verified_enrollments_token() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    let lost = app.register_passkey_named(&user, "Lost phone").await;
    let code = app.code_for(&user).await;
    let response = app.confirm(&user.username, &code, &user.password).await;
    let body: serde_json::Value = response.json().await.unwrap();
    let token = body["enrollment"]["token"].as_str().unwrap().to_owned();

    // Not before the new authenticator is verified, not without the token, not with another.
    assert_problem(list(&app, &token).await, 400, "invalid_enrollment").await;
    assert_problem(remove(&app, &token, &lost).await, 400, "invalid_enrollment").await;
    let no_token = app
        .http
        .get(format!("{}/v1/recovery/enrollment/passkeys", app.address))
        .send()
        .await
        .unwrap();
    assert_problem(no_token, 400, "invalid_enrollment").await;
    let forged = "A".repeat(43);
    assert_problem(list(&app, &forged).await, 400, "invalid_enrollment").await;
    assert_problem(
        remove(&app, &forged, &lost).await,
        400,
        "invalid_enrollment",
    )
    .await;
    assert_eq!(app.passkeys(&user).await.len(), 1, "nothing removed");
    assert!(!app
        .actions(&user.username)
        .await
        .contains(&"passkeys.removed".to_owned()));
}
