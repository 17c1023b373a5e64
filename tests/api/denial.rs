//! Denial of recovery: someone who knows a username but not its mailbox cannot, from one client
//! address, stop the owner from recovering from another address.

use std::time::Duration;

use crate::helpers::{assert_problem, other_code, AppOptions, SentEmail, SignIn, TestApp};

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

/// Whether `email` is the notice that someone is guessing codes from elsewhere.
fn is_guessing_notice(email: &SentEmail) -> bool {
    email.subject.as_deref() == Some("Someone is trying recovery codes for your account")
}

#[tokio::test]
async fn guesses_from_addresses_that_asked_for_nothing_never_shut_out_the_owner_who_asked() {
    // The review's reproduction, and more: the owner asks from their address; addresses that
    // never asked for a code send wrong confirmations for the name until the account's 20 a
    // day are spent; then the owner confirms.
    let app = TestApp::spawn_with(AppOptions::default().behind_proxy()).await;
    let user = app.create_user().await;
    let code = app.code_from(&user, OWNER).await;
    let wrong = other_code(&code);
    let mut judged = 0;
    for n in 0..10 {
        let ip = format!("192.0.2.{}", 10 + n);
        for _ in 0..5 {
            let response = app.confirm_from(&user.username, &wrong, "guess", &ip).await;
            match response.status().as_u16() {
                400 => judged += 1,
                429 => assert!(retry_after(&response).is_some()),
                status => panic!("{status}"),
            }
        }
    }
    assert_eq!(
        judged, 20,
        "two from each address that asked for nothing, up to the account's 20 a day"
    );
    assert_problem(
        app.confirm_from(&user.username, &wrong, "guess", "192.0.2.99")
            .await,
        429,
        "too_many_attempts",
    )
    .await;
    app.run_pending_jobs().await;
    let told: Vec<_> = app
        .emails_to(&user.email)
        .await
        .into_iter()
        .filter(is_guessing_notice)
        .collect();
    assert_eq!(told.len(), 1, "the owner is told, once");
    let body = told[0].body.as_deref().unwrap();
    assert!(body.contains("20 times"), "{body}");
    assert!(!body.contains(&code), "a notice never carries a code");

    let response = app
        .confirm_from(&user.username, &code, &user.password, OWNER)
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

#[tokio::test]
async fn the_owner_is_told_of_guessing_at_most_once_a_day() {
    let app = TestApp::spawn_with(
        AppOptions::default()
            .behind_proxy()
            .set("RECOVERY_FAILED_CONFIRMS_PER_ACCOUNT_PER_DAY", 2),
    )
    .await;
    let user = app.create_user().await;
    let code = app.code_from(&user, OWNER).await;
    let wrong = other_code(&code);
    let guess = |ip: &'static str| app.confirm_from(&user.username, &wrong, "guess", ip);
    let told = || async {
        app.run_pending_jobs().await;
        let emails = app.emails_to(&user.email).await;
        emails.iter().filter(|e| is_guessing_notice(e)).count()
    };
    assert_eq!(guess("192.0.2.1").await.status(), 400);
    assert_eq!(told().await, 0, "one wrong guess is not the ceiling");
    assert_eq!(guess("192.0.2.2").await.status(), 400);
    assert_eq!(told().await, 1);
    // The day's failures leave the window and come back: no second notice the same day.
    sqlx::query("UPDATE confirm_attempts SET at = at - interval '25 hours'")
        .execute(&app.db)
        .await
        .unwrap();
    for ip in ["192.0.2.3", "192.0.2.4"] {
        assert_eq!(guess(ip).await.status(), 400);
    }
    assert_eq!(told().await, 1, "told once a day");
    app.advance(Duration::from_secs(24 * 3600));
    sqlx::query("UPDATE confirm_attempts SET at = at - interval '25 hours'")
        .execute(&app.db)
        .await
        .unwrap();
    // The owner asks again (the first code expired a day ago) and guessing goes on.
    app.code_from(&user, OWNER).await;
    for ip in ["192.0.2.5", "192.0.2.6"] {
        assert_eq!(guess(ip).await.status(), 400);
    }
    assert_eq!(told().await, 2, "and again the next day");
}

#[tokio::test]
async fn codes_asked_for_elsewhere_never_push_the_owners_own_out_of_what_is_compared() {
    let app = TestApp::spawn_with(
        AppOptions::default()
            .behind_proxy()
            .set("RECOVERY_REQUESTS_PER_USER_PER_HOUR", 20),
    )
    .await;
    let user = app.create_user().await;
    let owners = app.code_from(&user, OWNER).await;
    // Eight newer codes, each asked for from an address of its own.
    for n in 0..8 {
        app.code_from(&user, &format!("192.0.2.{}", 30 + n)).await;
    }
    let response = app
        .confirm_from(&user.username, &owners, &user.password, OWNER)
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

#[tokio::test]
async fn every_confirmation_compares_the_same_number_of_hashes_whatever_is_live() {
    let app = TestApp::spawn_with(AppOptions::default().behind_proxy()).await;
    let user = app.create_user().await;
    // Live for the name: a support desk's code and two self-service codes from two addresses.
    let key = app.staff_key("sam", "support").await;
    let started = app
        .post_with_key(
            "/v1/support/recoveries",
            &key,
            serde_json::json!({"username": user.username, "reason": "ticket T-7"}),
        )
        .await;
    assert_eq!(started.status(), 202);
    app.wait_for_email(&user.email, 1).await;
    let code = app.code_from(&user, OWNER).await;
    app.code_from(&user, ATTACKER).await;
    let wrong = other_code(&code);

    // A process of its own on the same database, so that its counters are this test's only.
    let binary = app.start_binary_on(&app.db_url).await;
    let verified = || async {
        let text = app
            .http
            .get(format!("{}/metrics", binary.admin_address))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(r#"argon2_duration_seconds_count{operation="verify"} "#))
            .map_or(0, |n| n.parse::<u64>().unwrap())
    };
    let unknown = format!("nobody-{}", uuid::Uuid::new_v4().simple());
    for (name, ip) in [
        (user.username.as_str(), OWNER), // three live, one of them this address's
        (user.username.as_str(), "192.0.2.50"), // three live, none this address's
        (unknown.as_str(), "192.0.2.51"), // nothing live: a name nobody asked for
    ] {
        let before = verified().await;
        let response = app
            .http
            .post(format!("{}/v1/recovery/confirm", binary.address))
            .header("x-forwarded-for", ip)
            .json(&serde_json::json!({"username": name, "code": wrong, "password": "pw"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
        assert_eq!(
            verified().await - before,
            4,
            "argon2 verifications for {name} from {ip}"
        );
    }
}

/// The token of the code email's one-time link (`/recover/link?token=`).
fn confirm_link_token(email: &SentEmail) -> String {
    let body = email.body.as_deref().unwrap();
    body.split("/recover/link?token=")
        .nth(1)
        .expect("the code email carries the link")
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

fn with_links() -> AppOptions {
    AppOptions::default()
        .behind_proxy()
        .set("PUBLIC_BASE_URL", "https://recovery.example.com")
}

#[tokio::test]
async fn the_code_emails_link_gets_the_owner_through_when_guessing_shut_their_own_address() {
    let app = TestApp::spawn_with(with_links()).await;
    let user = app.create_user().await;
    // The owner asks from a shared address (an office, a carrier's NAT) where someone else
    // guesses until the code locks.
    let code = app.code_from(&user, OWNER).await;
    let email = app.wait_for_email(&user.email, 1).await;
    let token = confirm_link_token(&email);
    assert_eq!(token.len(), 43);
    let wrong = other_code(&code);
    for _ in 0..5 {
        let response = app
            .confirm_from(&user.username, &wrong, "guess", OWNER)
            .await;
        assert_eq!(response.status(), 400);
    }
    assert_problem(
        app.confirm_from(&user.username, &code, &user.password, OWNER)
            .await,
        429,
        "too_many_attempts",
    )
    .await;

    let link = |password: &str| {
        app.post_json(
            "/v1/recovery/confirm/link",
            serde_json::json!({"token": token, "password": password}),
        )
    };
    assert_problem(link("not-the-password").await, 400, "invalid_recovery").await;
    let response = link(&user.password).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "mfa_reset");
    assert!(body["enrollment"]["secret_code"].is_string(), "{body}");
    assert_eq!(
        app.sign_in(&user).await,
        SignIn::Challenge("MFA_SETUP".into()),
        "the reset happened"
    );
    // Used once.
    assert_problem(link(&user.password).await, 400, "invalid_recovery").await;
    let details = app
        .audit_details(&user.username, "recovery.confirm_failed")
        .await;
    assert!(
        details
            .iter()
            .any(|(_, d)| d.contains("wrong password through the emailed link (try 1 of 5)")),
        "{details:?}"
    );
}

#[tokio::test]
async fn the_link_takes_a_few_wrong_passwords_then_stops_but_the_code_still_works() {
    let app = TestApp::spawn_with(with_links()).await;
    let user = app.create_user().await;
    let code = app.code_from(&user, OWNER).await;
    let token = confirm_link_token(&app.wait_for_email(&user.email, 1).await);
    let link = |password: &str| {
        app.post_json(
            "/v1/recovery/confirm/link",
            serde_json::json!({"token": token, "password": password}),
        )
    };
    for _ in 0..5 {
        assert_problem(link("guess").await, 400, "invalid_recovery").await;
    }
    assert_problem(link(&user.password).await, 429, "too_many_attempts").await;
    assert_problem(link(&user.password).await, 400, "invalid_recovery").await;
    // A malformed token is told apart from nothing (nothing is looked up for it).
    let malformed = app
        .post_json(
            "/v1/recovery/confirm/link",
            serde_json::json!({"token": "short", "password": user.password}),
        )
        .await;
    assert_problem(malformed, 400, "invalid_recovery").await;
    // The link's wrong passwords are its own: the code was never guessed at.
    app.confirm_ok(&user.username, &code, &user.password).await;
}

#[tokio::test]
async fn the_links_page_confirms_with_the_password_and_opening_it_changes_nothing() {
    let app = TestApp::spawn_with(with_links()).await;
    let user = app.create_user().await;
    app.code_from(&user, OWNER).await;
    let token = confirm_link_token(&app.wait_for_email(&user.email, 1).await);
    // A mail scanner opens the link: nothing happens.
    let opened = app
        .http
        .get(format!("{}/recover/link?token={token}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(opened.status(), 200);
    let cookie = opened.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let html = opened.text().await.unwrap();
    assert!(html.contains(r#"name="password""#), "{html}");
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    assert_eq!(
        app.sign_in(&user).await,
        SignIn::Challenge("SOFTWARE_TOKEN_MFA".into())
    );

    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let confirmed = no_redirects
        .post(format!("{}/recover/link", app.address))
        .header("cookie", cookie)
        .header("x-forwarded-for", OWNER)
        .form(&[
            ("csrf", csrf.as_str()),
            ("token", token.as_str()),
            ("password", user.password.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        confirmed.status(),
        303,
        "{}",
        confirmed.text().await.unwrap()
    );
    // The page keeps its language (the default: nothing asked for another).
    assert_eq!(
        confirmed.headers()["location"],
        "/recover/enrollment?lang=en"
    );
    assert_eq!(
        app.sign_in(&user).await,
        SignIn::Challenge("MFA_SETUP".into())
    );
}
