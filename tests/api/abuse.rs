use mfa_recovery::settings::Settings;
use mfa_recovery::startup::Application;

use crate::helpers::{assert_problem, other_code, AppOptions, SignIn, TestApp};

fn retry_after(response: &reqwest::Response) -> u64 {
    response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn request_from(
    app: &TestApp,
    username: &str,
    forwarded_for: Option<&str>,
) -> reqwest::Response {
    let mut request = app
        .http
        .post(format!("{}/v1/recovery", app.address))
        .json(&serde_json::json!({"username": username}));
    if let Some(xff) = forwarded_for {
        request = request.header("x-forwarded-for", xff);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn a_client_address_over_its_hourly_limit_gets_429_with_retry_after_on_both_endpoints() {
    let app =
        TestApp::spawn_with(AppOptions::default().set("RECOVERY_REQUESTS_PER_IP_PER_HOUR", 3))
            .await;
    for i in 0..3 {
        assert_eq!(
            app.request_recovery(&format!("someone-{i}")).await.status(),
            202
        );
    }
    let response = app.request_recovery("someone-else").await;
    let wait = retry_after(&response);
    assert!((1..=3600).contains(&wait), "{wait}");
    assert_problem(response, 429, "rate_limited").await;
    // The refused request is counted, and records nothing else: no recovery, no job.
    let (recoveries, jobs): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM recoveries), (SELECT count(*) FROM jobs WHERE kind = 'look_up')",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!((recoveries, jobs), (3, 3));

    // The confirmation endpoint has its own budget per address.
    for _ in 0..3 {
        assert_eq!(
            app.confirm("someone-0", "12345678", "pw").await.status(),
            400
        );
    }
    let response = app.confirm("someone-0", "12345678", "pw").await;
    assert!(retry_after(&response) >= 1);
    assert_problem(response, 429, "rate_limited").await;
    app.chained().await;
    let events: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE action = 'recovery.rate_limited'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(events, 2, "one event per address, endpoint and window");
}

#[tokio::test]
async fn x_forwarded_for_is_ignored_from_untrusted_peers() {
    let app =
        TestApp::spawn_with(AppOptions::default().set("RECOVERY_REQUESTS_PER_IP_PER_HOUR", 2))
            .await;
    let statuses = [
        request_from(&app, "a", Some("198.51.100.1")).await.status(),
        request_from(&app, "b", Some("198.51.100.2")).await.status(),
        request_from(&app, "c", Some("198.51.100.3")).await.status(),
    ];
    assert_eq!(statuses.map(|s| s.as_u16()), [202, 202, 429]);
    app.chained().await;
    let ips: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT ip FROM audit_events WHERE ip IS NOT NULL")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(ips, ["127.0.0.1"]);
}

#[tokio::test]
async fn x_forwarded_for_is_honoured_from_a_trusted_proxy() {
    let app = TestApp::spawn_with(
        AppOptions::default()
            .set("RECOVERY_REQUESTS_PER_IP_PER_HOUR", 2)
            .set("TRUSTED_PROXIES", "127.0.0.1/32"),
    )
    .await;
    for i in 0..3 {
        // Each client sits behind the proxy; the left-most value is theirs to forge and ignored.
        let xff = format!("6.6.6.6, 198.51.100.{i}");
        assert_eq!(
            request_from(&app, &format!("user-{i}"), Some(&xff))
                .await
                .status(),
            202
        );
    }
    assert_eq!(
        request_from(&app, "x", Some("6.6.6.6, 198.51.100.0"))
            .await
            .status(),
        202
    );
    assert_eq!(
        request_from(&app, "y", Some("6.6.6.6, 198.51.100.0"))
            .await
            .status(),
        429
    );
    app.chained().await;
    let ip: String = sqlx::query_scalar("SELECT ip FROM audit_events WHERE username = $1")
        .bind(app.redacted("user-1"))
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(ip, "198.51.100.1");
}

#[tokio::test]
async fn limits_hold_across_two_instances_on_one_database() {
    let app =
        TestApp::spawn_with(AppOptions::default().set("RECOVERY_REQUESTS_PER_IP_PER_HOUR", 4))
            .await;
    let second = Application::build(Settings::load_from(app.settings_env.clone()).unwrap())
        .await
        .unwrap();
    let second_address = format!("http://127.0.0.1:{}", second.port());
    tokio::spawn(second.run_until_stopped());
    let mut statuses = Vec::new();
    for i in 0..6 {
        let base = if i % 2 == 0 {
            &app.address
        } else {
            &second_address
        };
        let response = app
            .http
            .post(format!("{base}/v1/recovery"))
            .json(&serde_json::json!({"username": "n"}))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [202, 202, 202, 202, 429, 429]);
}

/// The same characters in their full-width forms (ｕｓｅｒ…), which NFKC folds back.
fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| {
            if ('!'..='~').contains(&c) {
                char::from_u32(c as u32 + 0xFEE0).unwrap()
            } else {
                c
            }
        })
        .collect()
}

#[tokio::test]
async fn look_alike_usernames_share_one_accounts_limit() {
    // Three an hour for the account, so two for this one client address.
    let app =
        TestApp::spawn_with(AppOptions::default().set("RECOVERY_REQUESTS_PER_USER_PER_HOUR", 3))
            .await;
    let user = app.create_user().await;
    let spellings = [
        user.username.clone(),
        full_width(&user.username),
        format!("\u{3000}{}", user.username),
        full_width(&user.username),
    ];
    assert_ne!(spellings[1], user.username);
    for name in &spellings {
        assert_eq!(app.request_recovery(name).await.status(), 202);
        app.run_pending_jobs().await;
    }
    // Cognito is asked about each spelling as typed and knows only the plain one; the limits
    // count all four as one name all the same: one code, one look-alike, then the share is spent.
    assert_eq!(app.emails_to(&user.email).await.len(), 1);
    let limited = app
        .audit_trail(&user.username)
        .await
        .into_iter()
        .filter(|(a, _)| a == "recovery.rate_limited")
        .count();
    assert_eq!(limited, 2);
}

#[tokio::test]
async fn wrong_confirmations_across_recoveries_slow_the_account_down() {
    let app = TestApp::spawn_with(
        AppOptions::default()
            .set("RECOVERY_MAX_ATTEMPTS", 2)
            .set("RECOVERY_FAILED_CONFIRM_DELAY_SECONDS", 60),
    )
    .await;
    let user = app.create_user().await;
    let first = app.code_for(&user).await;
    let wrong = &other_code(&first);
    for _ in 0..2 {
        assert_problem(
            app.confirm(&user.username, wrong, &user.password).await,
            400,
            "invalid_recovery",
        )
        .await;
    }
    // A fresh code does not buy fresh guesses at once: the account waits first.
    let second = app.code_for(&user).await;
    let response = app.confirm(&user.username, &second, &user.password).await;
    let wait = retry_after(&response);
    assert!((50..=60).contains(&wait), "{wait}");
    assert_problem(response, 429, "too_many_attempts").await;
    app.assert_totp_still_asked(&user).await;
}

#[tokio::test]
async fn the_daily_ceiling_of_wrong_confirmations_spans_recoveries_and_addresses() {
    let app = TestApp::spawn_with(
        AppOptions::default()
            .behind_proxy()
            .set("RECOVERY_FAILED_CONFIRMS_PER_ACCOUNT_PER_DAY", 3)
            .set("RECOVERY_FAILED_CONFIRM_DELAY_SECONDS", 0),
    )
    .await;
    let user = app.create_user().await;
    let code = app.code_for(&user).await;
    let wrong = &other_code(&code);
    // A ceiling of 3 gives each address that asked for no code one wrong guess (a tenth, at
    // least one).
    for ip in ["203.0.113.1", "203.0.113.2", "203.0.113.3"] {
        assert_eq!(
            app.confirm_from(&user.username, wrong, &user.password, ip)
                .await
                .status(),
            400
        );
    }
    // The ceiling is reached: an address that asked for no code is refused, even with the
    // right code...
    let response = app
        .confirm_from(&user.username, &code, &user.password, "203.0.113.4")
        .await;
    let wait = retry_after(&response);
    assert!((86_000..=86_400).contains(&wait), "{wait}");
    assert_problem(response, 429, "too_many_attempts").await;
    app.assert_totp_still_asked(&user).await;
    // ... the owner, from the address they asked from, is not.
    app.confirm_ok(&user.username, &code, &user.password).await;
}

#[tokio::test]
async fn a_lock_notice_tells_the_owner_when_and_from_where_without_any_code() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    let code = app.code_for(&user).await;
    let wrong = &other_code(&code);
    for _ in 0..5 {
        app.confirm(&user.username, wrong, &user.password).await;
    }
    let notice = app.wait_for_email(&user.email, 2).await;
    assert!(notice.subject.as_deref().unwrap().contains("locked"));
    let body = notice.body.unwrap();
    assert!(
        body.contains("127.0.0.1") && body.contains("UTC") && body.contains("code 5 times"),
        "{body}"
    );
    assert!(
        crate::helpers::find_code(&body).is_none() && !body.contains(&code),
        "{body}"
    );
    assert!(!body.contains("<img"), "no remote images");
}

#[tokio::test]
async fn a_ghost_lock_sends_nothing_and_answers_like_a_real_one() {
    let app = TestApp::spawn().await;
    app.request_recovery("ghost-lock").await;
    app.run_pending_jobs().await;
    for _ in 0..5 {
        assert_eq!(
            app.confirm("ghost-lock", "00000000", "pw").await.status(),
            400
        );
    }
    assert_problem(
        app.confirm("ghost-lock", "00000000", "pw").await,
        429,
        "too_many_attempts",
    )
    .await;
    app.run_pending_jobs().await;
    app.chained().await;
    let sent: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = 'notification.sent'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(sent, 0);
}

#[tokio::test]
async fn a_recovery_counts_and_locks_from_the_moment_it_is_requested_for_every_name() {
    let app = TestApp::spawn_with(AppOptions::default().behind_proxy()).await;
    let user = app.create_user().await;
    // Cognito answers slowly, so the guesses land while both names are still being looked up
    // (5 s: five confirmations on a loaded 2-core machine took longer than 1.5 s once).
    app.proxy.slow_down(std::time::Duration::from_secs(5));
    let names = [
        (user.username.clone(), "203.0.113.10"),
        ("nobody-at-all".to_owned(), "203.0.113.11"),
    ];
    // Until its recovery is issued, the address holds none: it gets a stranger's share (2 a
    // day), counted, the same for both names.
    for (name, ip) in &names {
        assert_eq!(app.request_recovery_from(name, ip).await.status(), 202);
        let mut statuses = Vec::new();
        for _ in 0..5 {
            let response = app.confirm_from(name, "12345678", "pw", ip).await;
            statuses.push((
                response.status().as_u16(),
                response.headers().contains_key("retry-after"),
            ));
        }
        let throttled = (429, true);
        assert_eq!(
            statuses,
            [(400, false), (400, false), throttled, throttled, throttled],
            "{name}"
        );
    }
    app.proxy.slow_down(std::time::Duration::ZERO);
    crate::helpers::wait_until_jobs_done(&app.db).await;
    // Issued: the two counted failures are the address's first 2 of 5 before its codes lock.
    for (name, ip) in &names {
        for _ in 0..3 {
            let response = app.confirm_from(name, "12345678", "pw", ip).await;
            assert_eq!(response.status(), 400, "{name}");
        }
    }
    crate::helpers::wait_until_jobs_done(&app.db).await;
    let mut answers = Vec::new();
    for (name, ip) in &names {
        let response = app.confirm_from(name, "12345678", "pw", ip).await;
        answers.push((
            response.status().as_u16(),
            response.headers().get("retry-after").is_some(),
            response.text().await.unwrap(),
        ));
    }
    assert_eq!(
        answers[0], answers[1],
        "a real and an unknown name answer alike"
    );
    assert_eq!((answers[0].0, answers[0].1), (429, false), "locked");
    // The code locked: the owner is told, and that code does not work.
    let emails = app.emails_to(&user.email).await;
    assert!(emails
        .iter()
        .any(|e| e.subject.as_deref().unwrap().contains("locked")));
    let codes: Vec<String> = emails
        .iter()
        .filter_map(|e| crate::helpers::find_code(e.body.as_deref().unwrap()))
        .collect();
    for code in codes {
        let response = app
            .confirm_from(&user.username, &code, &user.password, names[0].1)
            .await;
        assert_problem(response, 429, "too_many_attempts").await;
    }
}

fn waiting_period(seconds: u64) -> AppOptions {
    AppOptions::default()
        .set("RECOVERY_RESET_DELAY_SECONDS", seconds)
        .set("PUBLIC_BASE_URL", "https://recovery.example.com/")
}

/// The token of the cancel link in a scheduled-reset notice.
fn cancel_token(body: &str) -> String {
    let start = body
        .find("https://recovery.example.com/v1/recovery/cancel?token=")
        .expect("a cancel link on the configured base URL");
    let token: String = body[start..]
        .split("token=")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    assert_eq!(token.len(), 43);
    token
}

#[tokio::test]
async fn a_reset_whose_notice_never_went_out_is_not_applied() {
    // Without the password check, scheduling needs no Cognito call: the outage hits the notice.
    let app = TestApp::spawn_with(waiting_period(1).set("RECOVERY_REQUIRE_PASSWORD", false)).await;
    let user = app.create_user().await;
    let code = app.code_for(&user).await;
    app.proxy.take_down(); // SES (and Cognito) unreachable: the notice cannot go out
    let response = app.confirm(&user.username, &code, &user.password).await;
    assert_eq!(response.status(), 202);
    app.advance(std::time::Duration::from_secs(2)); // the waiting period passes
    app.run_jobs_scheduled_for_later().await;
    app.proxy.bring_back();
    app.assert_totp_still_asked(&user).await;
    app.chained().await;
    let retried: Vec<String> = sqlx::query_scalar(
        "SELECT detail FROM audit_events WHERE action = 'mfa.reset_failed' AND outcome = 'retrying'",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert!(
        retried
            .iter()
            .any(|d| d.contains("notice with the cancel link has not been sent")),
        "{retried:?}"
    );
    // Once the notice is out, the waiting period runs from there and the reset is applied.
    let notice = app.wait_for_email(&user.email, 2).await;
    assert!(
        notice.subject.as_deref().unwrap().contains("scheduled")
            || notice.body.as_deref().unwrap().contains("cancel")
    );
    app.advance(std::time::Duration::from_secs(2)); // the waiting period passes
    app.run_jobs_scheduled_for_later().await;
    assert_eq!(
        app.sign_in(&user).await,
        SignIn::Challenge("MFA_SETUP".into())
    );
}

#[tokio::test]
async fn the_support_desk_can_cancel_a_scheduled_reset() {
    let app = TestApp::spawn_with(waiting_period(60)).await;
    let user = app.create_user().await;
    let code = app.code_for(&user).await;
    assert_eq!(
        app.confirm(&user.username, &code, &user.password)
            .await
            .status(),
        202
    );
    let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM recoveries WHERE status = 'scheduled'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let key = app.staff_key("sam", "support").await;
    let response = app
        .post_with_key(
            &format!("/v1/support/recoveries/{id}/cancel"),
            &key,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "cancelled");
    app.run_jobs_scheduled_for_later().await;
    app.assert_totp_still_asked(&user).await;
}

#[tokio::test]
async fn with_a_waiting_period_the_reset_is_applied_after_the_deadline() {
    let app = TestApp::spawn_with(waiting_period(3)).await;
    let user = app.create_user().await;
    let code = app.code_for(&user).await;
    let response = app.confirm(&user.username, &code, &user.password).await;
    assert_eq!(response.status(), 202);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "reset_scheduled");
    let reset_at =
        chrono::DateTime::parse_from_rfc3339(body["reset_at"].as_str().unwrap()).unwrap();
    assert!(reset_at > chrono::Utc::now());
    app.assert_totp_still_asked(&user).await;

    let notice = app.wait_for_email(&user.email, 2).await.body.unwrap();
    cancel_token(&notice);
    assert!(crate::helpers::find_code(&notice).is_none());

    let applied = app.wait_for_email(&user.email, 3).await;
    assert!(chrono::Utc::now() >= reset_at);
    assert!(applied.subject.unwrap().contains("was removed"));
    assert_eq!(
        app.sign_in(&user).await,
        SignIn::Challenge("MFA_SETUP".into())
    );
    assert!(app
        .actions(&user.username)
        .await
        .contains(&"mfa.reset_scheduled".to_owned()));
}

#[tokio::test]
async fn a_cancelled_waiting_period_never_applies() {
    let app = TestApp::spawn_with(waiting_period(3)).await;
    let user = app.create_user().await;
    let code = app.code_for(&user).await;
    assert_eq!(
        app.confirm(&user.username, &code, &user.password)
            .await
            .status(),
        202
    );
    let token = cancel_token(&app.wait_for_email(&user.email, 2).await.body.unwrap());

    // Following the link only shows a page; it takes the button to cancel.
    let page = app
        .http
        .get(format!("{}/v1/recovery/cancel?token={token}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(html.contains("<form method=\"post\"") && html.contains(&token));
    // A mangled link is an invalid link, shown as a page.
    let mangled = app
        .http
        .get(format!(
            "{}/v1/recovery/cancel?token=a&token=b",
            app.address
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(mangled.status(), 400);
    assert!(mangled.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));

    let response = app
        .http
        .post(format!("{}/v1/recovery/cancel", app.address))
        .form(&[("token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("will not be removed"));

    // The waiting period passes: the reset job comes due and finds nothing to apply.
    app.run_jobs_scheduled_for_later().await;
    app.assert_totp_still_asked(&user).await;
    assert_eq!(
        app.emails_to(&user.email).await.len(),
        2,
        "no removal notice"
    );
    let again = app
        .post_json("/v1/recovery/cancel", serde_json::json!({"token": token}))
        .await;
    assert_problem(again, 400, "invalid_cancel_token").await;
    assert!(app
        .actions(&user.username)
        .await
        .contains(&"recovery.cancelled".to_owned()));
}

#[tokio::test]
async fn a_waiting_period_needs_a_public_base_url_for_its_links() {
    let mut vars = std::collections::HashMap::new();
    for (k, v) in [
        ("DATABASE_URL", "postgres://x/y"),
        ("COGNITO_USER_POOL_ID", "p"),
        ("COGNITO_CLIENT_ID", "c"),
        ("SES_FROM_ADDRESS", "a@example.com"),
        ("RECOVERY_RESET_DELAY_SECONDS", "60"),
    ] {
        vars.insert(k.to_owned(), v.to_owned());
    }
    let err = Settings::load_from(vars).unwrap_err().to_string();
    assert!(err.contains("PUBLIC_BASE_URL"), "{err}");
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    let responses = [
        app.request_recovery("anyone").await,
        app.post_json("/v1/recovery", serde_json::json!({"username": ""}))
            .await,
        app.http
            .get(format!("{}/healthz", app.address))
            .send()
            .await
            .unwrap(),
        app.http
            .get(format!("{}/nowhere", app.address))
            .send()
            .await
            .unwrap(),
    ];
    for response in responses {
        let h = response.headers();
        assert_eq!(h["cache-control"], "no-store", "{}", response.url());
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert!(h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'"));
    }
}

#[tokio::test]
async fn a_body_over_16_kib_is_refused_with_413() {
    let app = TestApp::spawn().await;
    let body = serde_json::json!({"username": "a", "padding": "x".repeat(17 * 1024)});
    assert_problem(
        app.post_json("/v1/recovery", body).await,
        413,
        "payload_too_large",
    )
    .await;
}

#[tokio::test]
async fn when_the_limit_store_fails_requests_are_refused_not_waved_through() {
    let app = TestApp::spawn().await;
    sqlx::query("ALTER TABLE rate_limits RENAME TO rate_limits_gone")
        .execute(&app.db)
        .await
        .unwrap();
    let response = app.request_recovery("anyone").await;
    assert_problem(response, 503, "service_unavailable").await;
    let recorded: i64 = sqlx::query_scalar("SELECT count(*) FROM recoveries")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(recorded, 0);
}

/// Sets this hour's count of emails sent by the service.
async fn emails_used_this_hour(db: &sqlx::PgPool, used: i32) {
    sqlx::query(
        "INSERT INTO rate_limits (key, window_start, hits)
         VALUES ('emails:global', date_trunc('hour', now()), $1)
         ON CONFLICT (key, window_start) DO UPDATE SET hits = $1",
    )
    .bind(used)
    .execute(db)
    .await
    .unwrap();
}

#[tokio::test]
async fn a_spent_email_budget_treats_every_name_alike_and_keeps_a_reserve_for_notices() {
    // Ten an hour: codes stop at nine, the last one is kept for notices.
    let app = TestApp::spawn_with(AppOptions::default().set("RECOVERY_EMAILS_PER_HOUR", 10)).await;
    let owner = app.create_user().await;
    let other = app.create_user().await;
    let code = app.code_for(&owner).await;
    emails_used_this_hour(&app.db, 9).await;

    for name in [other.username.as_str(), "nobody-at-all"] {
        assert_eq!(app.request_recovery(name).await.status(), 202);
    }
    app.run_pending_jobs().await;
    assert_eq!(
        app.actions(&other.username).await,
        app.actions("nobody-at-all").await,
        "a real and an unknown name are recorded alike"
    );
    assert_eq!(
        app.actions("nobody-at-all").await,
        ["recovery.requested", "recovery.rate_limited"]
    );
    assert!(app.emails_to(&other.email).await.is_empty());

    // The support desk is told now, not handed a recovery that will get no code.
    let key = app.staff_key("sam", "support").await;
    let response = app
        .post_with_key(
            "/v1/support/recoveries",
            &key,
            serde_json::json!({"username": other.username, "reason": "ticket T-5"}),
        )
        .await;
    assert!(response.headers().contains_key("retry-after"));
    assert_problem(response, 503, "email_budget_spent").await;

    // The owner's reset still gets its notice, from the reserve.
    app.confirm_ok(&owner.username, &code, &owner.password)
        .await;
    let notice = app.wait_for_email(&owner.email, 2).await;
    assert!(
        notice.subject.as_deref().unwrap().contains("authenticator"),
        "{:?}",
        notice.subject
    );
}

#[tokio::test]
async fn the_service_warns_well_before_the_email_budget_runs_out() {
    let app = TestApp::spawn_with(AppOptions::default().set("RECOVERY_EMAILS_PER_HOUR", 10)).await;
    let user = app.create_user().await;
    let (binary, db) = app.start_binary().await;
    emails_used_this_hour(&db, 7).await;
    let response = app
        .http
        .post(format!("{}/v1/recovery", binary.address))
        .json(&serde_json::json!({"username": user.username}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    app.wait_for_email(&user.email, 1).await;
    binary.wait_for_output("80 % used").await;
    let metrics = app
        .http
        .get(format!("{}/metrics", binary.admin_address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("email_budget_warnings_total 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_flood_from_one_address_stops_reaching_the_database_once_refused() {
    let app =
        TestApp::spawn_with(AppOptions::default().set("RECOVERY_REQUESTS_PER_IP_PER_HOUR", 2))
            .await;
    let statuses = [202, 202, 429];
    for (i, expected) in statuses.iter().enumerate() {
        let response = app.request_recovery(&format!("flood-{i}")).await;
        assert_eq!(response.status(), *expected);
    }
    for i in 0..20 {
        let response = app.request_recovery(&format!("more-{i}")).await;
        assert!(retry_after(&response) > 0);
        assert_problem(response, 429, "rate_limited").await;
    }
    let hits: i32 =
        sqlx::query_scalar("SELECT hits FROM rate_limits WHERE key LIKE 'ip:request:%'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(hits, 3, "the 20 later requests were turned away in memory");
}

#[tokio::test]
async fn rotating_through_the_64s_of_one_ipv6_network_is_limited_too() {
    let app = TestApp::spawn_with(
        AppOptions::default()
            .behind_proxy()
            .set("RECOVERY_REQUESTS_PER_IP_PER_HOUR", 1),
    )
    .await;
    // One request an hour per /64; a /56 gets four /64s' worth.
    for i in 0..4 {
        let ip = format!("2001:db8:7:{i}::1");
        assert_eq!(
            app.request_recovery_from("someone", &ip).await.status(),
            202,
            "{ip}"
        );
    }
    let response = app
        .request_recovery_from("someone", "2001:db8:7:4::1")
        .await;
    assert_problem(response, 429, "rate_limited").await;
    assert_eq!(
        app.request_recovery_from("someone", "2001:db8:8:0::1")
            .await
            .status(),
        202,
        "another /48"
    );
}

#[tokio::test]
async fn confirmations_that_find_every_hashing_slot_busy_get_503_and_their_attempt_back() {
    let app = TestApp::spawn_with(
        AppOptions::default()
            .set("HASH_CONCURRENCY", 1)
            .set("HASH_QUEUE_TIMEOUT_MS", 1),
    )
    .await;
    // Asked for from this address (its guesses are not capped at a stranger's share).
    app.request_recovery("busy-name").await;
    app.run_pending_jobs().await;
    let guesses = (0..5).map(|_| app.confirm("busy-name", "12345678", "pw"));
    let responses = futures::future::join_all(guesses).await;
    let judged = responses.iter().filter(|r| r.status() == 400).count();
    let busy: Vec<&reqwest::Response> = responses.iter().filter(|r| r.status() == 503).collect();
    assert!(judged >= 1 && !busy.is_empty(), "{judged} judged");
    assert_eq!(judged + busy.len(), 5);
    assert!(busy.iter().all(|r| retry_after(r) > 0));
    let counted: i64 = sqlx::query_scalar("SELECT count(*) FROM confirm_attempts WHERE failed")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(counted as usize, judged, "busy attempts were given back");
}
