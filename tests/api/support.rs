use crate::helpers::{assert_problem, AppOptions, TestApp, UserOptions};

#[tokio::test]
async fn a_support_triggered_recovery_completes_through_the_users_own_confirmation() {
    let app = TestApp::spawn().await;
    let key = app.staff_key("sam", "support").await;
    let user = app.create_user().await;

    let response = app
        .post_with_key(
            "/v1/support/recoveries",
            &key,
            serde_json::json!({"username": user.username, "reason": "ticket T-1234"}),
        )
        .await;
    assert_eq!(response.status(), 202);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "queued");
    let hint = body["email_hint"].as_str().unwrap();
    assert_eq!(hint, format!("{}***@example.com", &user.email[..1]));
    assert!(uuid::Uuid::parse_str(body["recovery_id"].as_str().unwrap()).is_ok());
    assert!(
        !body.to_string().contains(&user.email),
        "only a hint of the address"
    );

    // The code goes to the address on file; the agent never sees it.
    let code = app.wait_for_email(&user.email, 1).await.code();
    assert!(!body.to_string().contains(&code));
    assert_eq!(
        app.confirm(&user.username, &code, &user.password)
            .await
            .status(),
        200
    );
    let notice = app.wait_for_email(&user.email, 2).await.body.unwrap();
    assert!(notice.contains("support desk (agent sam)"), "{notice}");

    // The agent's name and reason are on the events they caused.
    app.chained().await;
    let (actor, detail): (String, String) = sqlx::query_as(
        "SELECT actor, detail FROM audit_events WHERE action = 'recovery.requested' AND username = $1",
    )
    .bind(&user.username)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(actor, "staff:sam");
    assert!(detail.contains("T-1234"));
    app.chained().await;
    let code_sent_actor: String = sqlx::query_scalar(
        "SELECT actor FROM audit_events WHERE action = 'recovery.code_sent' AND username = $1",
    )
    .bind(&user.username)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(code_sent_actor, "staff:sam");
}

#[tokio::test]
async fn support_is_told_why_a_user_cannot_be_recovered() {
    let app = TestApp::spawn().await;
    let key = app.staff_key("sam", "support").await;
    let unverified = app
        .create_user_with(UserOptions {
            email_verified: false,
            ..Default::default()
        })
        .await;
    let without_totp = app
        .create_user_with(UserOptions {
            totp: false,
            ..Default::default()
        })
        .await;
    let start = |username: &str, reason: &str| {
        app.post_with_key(
            "/v1/support/recoveries",
            &key,
            serde_json::json!({"username": username, "reason": reason}),
        )
    };
    assert_problem(start("no-such-user", "T-1").await, 404, "user_not_found").await;
    assert_problem(
        start(&unverified.username, "T-2").await,
        422,
        "no_verified_email",
    )
    .await;
    assert_problem(
        start(&without_totp.username, "T-3").await,
        422,
        "no_totp_authenticator",
    )
    .await;
    assert_problem(
        start(&unverified.username, "  ").await,
        400,
        "invalid_request",
    )
    .await;
    let response = app
        .post_with_key(
            "/v1/support/recoveries",
            &key,
            serde_json::json!({"username": unverified.username}),
        )
        .await;
    assert_problem(response, 400, "invalid_request").await;
    app.run_pending_jobs().await;
    assert!(app.emails_to(&unverified.email).await.is_empty());
}

/// The public path and the support desk decide eligibility by one rule: a disabled user gets no
/// code either way, and support is told so instead of a `queued` that is then silently dropped.
#[tokio::test]
async fn support_is_told_a_disabled_user_cannot_be_recovered_and_nothing_is_queued() {
    let app = TestApp::spawn().await;
    let key = app.staff_key("sam", "support").await;
    let user = app.create_user().await;
    app.disable_user(&user).await;
    let response = app
        .post_with_key(
            "/v1/support/recoveries",
            &key,
            serde_json::json!({"username": user.username, "reason": "T-9"}),
        )
        .await;
    assert_problem(response, 422, "user_disabled").await;
    let recoveries: i64 = sqlx::query_scalar("SELECT count(*) FROM recoveries")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(recoveries, 0, "nothing was queued");
    assert_eq!(
        app.audit_trail(&user.username).await,
        [("recovery.not_eligible".to_owned(), "no_email".to_owned())]
    );

    // The public request for the same user is accepted, and no code goes out either.
    assert_eq!(app.request_recovery(&user.username).await.status(), 202);
    app.run_pending_jobs().await;
    assert!(app.emails_to(&user.email).await.is_empty());
    assert!(app
        .actions(&user.username)
        .await
        .contains(&"recovery.not_eligible".to_owned()));
}

#[tokio::test]
async fn support_lists_a_users_recoveries_without_codes_and_can_cancel_an_open_one() {
    let app = TestApp::spawn().await;
    let key = app.staff_key("sam", "support").await;
    let user = app.create_user().await;
    let code = app.code_for(&user).await;

    let response = app
        .get_with_key(
            &format!("/v1/support/recoveries?username={}", user.username),
            &key,
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    let recoveries = body["recoveries"].as_array().unwrap();
    assert_eq!(recoveries.len(), 1);
    let recovery = &recoveries[0];
    for member in [
        "recovery_id",
        "username",
        "status",
        "initiated_by",
        "created_at",
        "expires_at",
        "attempts",
    ] {
        assert!(!recovery[member].is_null(), "{member} in {recovery}");
    }
    assert_eq!(recovery["status"], "code_sent");
    assert_eq!(recovery["initiated_by"], "user");
    assert!(
        !body.to_string().contains(&code) && !body.to_string().contains("argon2"),
        "{body}"
    );

    let id = recovery["recovery_id"].as_str().unwrap();
    let path = format!("/v1/support/recoveries/{id}/cancel");
    let response = app.post_with_key(&path, &key, serde_json::json!({})).await;
    assert_eq!(response.status(), 200);
    let cancelled: serde_json::Value = response.json().await.unwrap();
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["recovery_id"], id);

    assert_problem(
        app.confirm(&user.username, &code, &user.password).await,
        400,
        "invalid_recovery",
    )
    .await;
    assert_problem(
        app.post_with_key(&path, &key, serde_json::json!({})).await,
        409,
        "recovery_not_cancellable",
    )
    .await;
    // A malformed id is a bad request, and says what is expected; an unknown one is not found.
    let body = assert_problem(
        app.post_with_key(
            "/v1/support/recoveries/not-a-uuid/cancel",
            &key,
            serde_json::json!({}),
        )
        .await,
        400,
        "invalid_request",
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("UUID"), "{body}");
    assert_problem(
        app.post_with_key(
            &format!("/v1/support/recoveries/{}/cancel", uuid::Uuid::new_v4()),
            &key,
            serde_json::json!({}),
        )
        .await,
        404,
        "recovery_not_found",
    )
    .await;
    app.chained().await;
    let actor: String =
        sqlx::query_scalar("SELECT actor FROM audit_events WHERE action = 'recovery.cancelled'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(actor, "staff:sam");
}

/// The user's own hourly email limit is spent silently at the public door (its answer is the
/// same for everyone); the support desk's request is counted against its own quota, so its
/// `queued` is true: the code goes out, and the list says so.
#[tokio::test]
async fn support_is_not_told_queued_for_a_code_that_never_goes_out() {
    let app =
        TestApp::spawn_with(AppOptions::default().set("RECOVERY_REQUESTS_PER_USER_PER_HOUR", 3))
            .await;
    let key = app.staff_key("sam", "support").await;
    let user = app.create_user().await;
    // Three an hour for the account, two of them from one address block: the third is limited.
    for _ in 0..3 {
        assert_eq!(app.request_recovery(&user.username).await.status(), 202);
        app.run_pending_jobs().await;
    }
    assert_eq!(app.emails_to(&user.email).await.len(), 2);

    let response = app
        .post_with_key(
            "/v1/support/recoveries",
            &key,
            serde_json::json!({"username": user.username, "reason": "ticket T-9"}),
        )
        .await;
    assert_eq!(response.status(), 202);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "queued");
    let id = body["recovery_id"].as_str().unwrap().to_owned();
    app.run_pending_jobs().await;
    assert_eq!(
        app.emails_to(&user.email).await.len(),
        3,
        "the code went out"
    );
    let listed: serde_json::Value = app
        .get_with_key(
            &format!("/v1/support/recoveries?username={}", user.username),
            &key,
        )
        .await
        .json()
        .await
        .unwrap();
    let statuses: Vec<&str> = listed["recoveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    let ours = listed["recoveries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["recovery_id"] == id.as_str())
        .unwrap();
    assert_eq!(ours["status"], "code_sent", "{statuses:?}");
    assert!(statuses.contains(&"rate_limited"), "{statuses:?}");
}

#[tokio::test]
async fn support_records_the_ticket_and_how_the_caller_was_verified() {
    let app = TestApp::spawn().await;
    let key = app.staff_key("sam", "support").await;
    let user = app.create_user().await;
    let other = app.create_user().await;

    let response = app
        .post_with_key(
            "/v1/support/recoveries",
            &key,
            serde_json::json!({
                "username": user.username, "reason": "lost phone",
                "ticket": "INC-77", "verification": "manager",
            }),
        )
        .await;
    assert_eq!(response.status(), 202);
    // Left out, the log says it was not stated; "other" needs its words.
    let response = app
        .post_with_key(
            "/v1/support/recoveries",
            &key,
            serde_json::json!({"username": other.username, "reason": "lost phone"}),
        )
        .await;
    assert_eq!(response.status(), 202);
    let refused = app
        .post_with_key(
            "/v1/support/recoveries",
            &key,
            serde_json::json!({"username": other.username, "reason": "r", "verification": "other"}),
        )
        .await;
    assert_problem(refused, 400, "invalid_request").await;

    let listed: serde_json::Value = app
        .get_with_key(
            &format!("/v1/support/recoveries?username={}", user.username),
            &key,
        )
        .await
        .json()
        .await
        .unwrap();
    let recovery = &listed["recoveries"][0];
    assert_eq!(recovery["ticket"], "INC-77");
    assert_eq!(recovery["verification"], "manager");

    app.chained().await;
    let detail = |username: String| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, String>(
                "SELECT detail FROM audit_events WHERE action = 'recovery.requested' AND username = $1",
            )
            .bind(username)
            .fetch_one(&db)
            .await
            .unwrap()
        }
    };
    // The key that acted, by the first eight characters of its id.
    let key_id: String = sqlx::query_scalar(
        "SELECT left(replace(id::text, '-', ''), 8) FROM staff_keys WHERE key_hash = encode(sha256($1::bytea), 'hex')",
    )
    .bind(key.as_bytes())
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        detail(user.username.clone()).await,
        format!("reason: lost phone; ticket: INC-77; caller verified: confirmed by their manager; through service account key {key_id}")
    );
    assert_eq!(
        detail(other.username.clone()).await,
        format!(
            "reason: lost phone; caller verified: not stated; through service account key {key_id}"
        )
    );
}
