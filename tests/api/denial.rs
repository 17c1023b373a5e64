//! Denial of recovery: someone who knows a username but not its mailbox cannot, from one client
//! address, stop the owner from recovering from another address.

use std::time::Duration;

use crate::helpers::{assert_problem, other_code, AppOptions, SignIn, TestApp};

const ATTACKER: &str = "203.0.113.7";
const OWNER: &str = "198.51.100.9";
const OWNER_PHONE: &str = "2001:db8:5:6::1";

fn retry_after(response: &reqwest::Response) -> Option<u64> {
    response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap())
}

#[tokio::test]
async fn requests_and_wrong_codes_from_one_address_leave_the_owner_their_recovery() {
    // The review's reproduction: 4 requests and 12 wrong codes from one address, then the
    // owner's own request from another.
    let app = TestApp::spawn_with(AppOptions::default().behind_proxy()).await;
    let user = app.create_user().await;
    for _ in 0..4 {
        assert_eq!(
            app.request_recovery_from(&user.username, ATTACKER)
                .await
                .status(),
            202
        );
        app.run_pending_jobs().await;
    }
    let seen = app.emails_to(&user.email).await.len();
    assert_eq!(
        seen, 2,
        "one address gets one fewer than the account's 3 an hour"
    );
    let mut refused = 0;
    for _ in 0..12 {
        let status = app
            .confirm_from(&user.username, "12345678", "guess", ATTACKER)
            .await
            .status();
        assert!(status == 400 || status == 429, "{status}");
        refused += usize::from(status == 429);
    }
    assert_eq!(refused, 7, "5 judged, then locked");
    app.run_pending_jobs().await;

    let code = app.code_from(&user, OWNER).await;
    app.confirm_ok(&user.username, &code, &user.password).await;
    assert_eq!(
        app.sign_in(&user).await,
        SignIn::Challenge("MFA_SETUP".into()),
        "the reset happened"
    );
}

#[tokio::test]
async fn a_request_from_elsewhere_does_not_kill_the_owners_live_code() {
    let app = TestApp::spawn_with(AppOptions::default().behind_proxy()).await;
    let user = app.create_user().await;
    let owners = app.code_from(&user, OWNER).await;
    let attackers = app.code_from(&user, ATTACKER).await;
    assert_ne!(owners, attackers);
    // The owner asked on the laptop and confirms on the phone, on another network.
    let response = app
        .confirm_from(&user.username, &owners, &user.password, OWNER_PHONE)
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    // Once the reset is done, every other code of the account is dead.
    assert_problem(
        app.confirm_from(&user.username, &attackers, &user.password, ATTACKER)
            .await,
        400,
        "invalid_recovery",
    )
    .await;
}

#[tokio::test]
async fn concurrent_guesses_cannot_skip_the_growing_delay() {
    let app = TestApp::spawn_with(
        AppOptions::default()
            .behind_proxy()
            .set("RECOVERY_MAX_ATTEMPTS", 2),
    )
    .await;
    // RECOVERY_FAILED_CONFIRM_DELAY_SECONDS' default.
    let delay = 30;
    let user = app.create_user().await;
    let code = app.code_from(&user, ATTACKER).await;
    let wrong = other_code(&code);
    for _ in 0..2 {
        assert_eq!(
            app.confirm_from(&user.username, &wrong, "pw", ATTACKER)
                .await
                .status(),
            400
        );
    }
    // A new code, and the delay has passed: one more guess may be judged, and only one.
    app.code_from(&user, ATTACKER).await;
    app.advance(Duration::from_secs(delay + 1));
    let guesses = (0..6).map(|_| app.confirm_from(&user.username, &wrong, "pw", ATTACKER));
    let responses = futures::future::join_all(guesses).await;
    let mut statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [400, 429, 429, 429, 429, 429]);
    for response in responses.iter().filter(|r| r.status() == 429) {
        let wait = retry_after(response).expect("Retry-After");
        assert!(
            (delay + 1..=2 * delay).contains(&wait),
            "the delay doubled to {} s: {wait}",
            2 * delay
        );
    }
}

#[tokio::test]
async fn wrong_confirmations_count_in_a_rolling_day_not_until_midnight() {
    let app = TestApp::spawn_with(
        AppOptions::default()
            .behind_proxy()
            .set("RECOVERY_FAILED_CONFIRMS_PER_ACCOUNT_PER_DAY", 4)
            .set("RECOVERY_FAILED_CONFIRM_DELAY_SECONDS", 0),
    )
    .await;
    let user = app.create_user().await;
    let code = app.code_from(&user, ATTACKER).await;
    let wrong = other_code(&code);
    for _ in 0..2 {
        let response = app
            .confirm_from(&user.username, &wrong, "pw", ATTACKER)
            .await;
        assert_eq!(response.status(), 400);
    }
    let backdate = |hours: i32| {
        sqlx::query("UPDATE confirm_attempts SET at = now() - make_interval(hours => $1)")
            .bind(hours)
            .execute(&app.db)
    };
    // This address's share (half of 4) is spent; 23 hours later it still is.
    backdate(23).await.unwrap();
    let response = app
        .confirm_from(&user.username, &wrong, "pw", ATTACKER)
        .await;
    let wait = retry_after(&response).unwrap();
    assert!((3_500..=3_600).contains(&wait), "{wait}");
    assert_problem(response, 429, "too_many_attempts").await;
    backdate(25).await.unwrap();
    assert_problem(
        app.confirm_from(&user.username, &wrong, "pw", ATTACKER)
            .await,
        400,
        "invalid_recovery",
    )
    .await;
}

#[tokio::test]
async fn the_support_desk_has_its_own_quota_and_is_told_when_it_is_spent() {
    let app = TestApp::spawn_with(
        AppOptions::default()
            .behind_proxy()
            .set("SUPPORT_RECOVERIES_PER_USER_PER_DAY", 1),
    )
    .await;
    let user = app.create_user().await;
    let key = app.staff_key("sam", "support").await;
    // Self-service requests use up the account's hour from two addresses.
    for ip in [ATTACKER, ATTACKER, OWNER] {
        app.request_recovery_from(&user.username, ip).await;
        app.run_pending_jobs().await;
    }
    let before = app.emails_to(&user.email).await.len();
    assert_eq!(before, 3);
    let body = serde_json::json!({"username": user.username, "reason": "ticket T-1"});
    let response = app
        .post_with_key("/v1/support/recoveries", &key, body.clone())
        .await;
    assert_eq!(response.status(), 202);
    let code = app.wait_for_email(&user.email, before + 1).await.code();
    let response = app
        .post_with_key("/v1/support/recoveries", &key, body)
        .await;
    assert!(retry_after(&response).is_some());
    assert_problem(response, 429, "rate_limited").await;
    app.confirm_ok(&user.username, &code, &user.password).await;
}

#[tokio::test]
async fn support_can_clear_a_lock_so_the_new_code_works_at_once() {
    let app = TestApp::spawn_with(AppOptions::default().behind_proxy()).await;
    let user = app.create_user().await;
    let code = app.code_from(&user, OWNER).await;
    let wrong = other_code(&code);
    for _ in 0..5 {
        app.confirm_from(&user.username, &wrong, &user.password, OWNER)
            .await;
    }
    assert_problem(
        app.confirm_from(&user.username, &code, &user.password, OWNER)
            .await,
        429,
        "too_many_attempts",
    )
    .await;
    // Without support, a new code from the same place waits first.
    let second = app.code_from(&user, OWNER).await;
    assert_eq!(
        app.confirm_from(&user.username, &second, &user.password, OWNER)
            .await
            .status(),
        429
    );

    let key = app.staff_key("sam", "support").await;
    let response = app
        .post_with_key(
            "/v1/support/unlock",
            &key,
            serde_json::json!({"username": user.username, "reason": "ticket T-9"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["failures_cleared"], 5, "{body}");
    // The new code was only waiting, not locked: it works now.
    app.confirm_ok(&user.username, &second, &user.password)
        .await;
    assert!(app
        .actions(&user.username)
        .await
        .contains(&"support.lock_cleared".to_owned()));
}
