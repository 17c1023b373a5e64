//! How names are keyed and kept: every spelling of a name counts as one, whether or not the pool
//! has such a user; Cognito is asked about the name as typed; and a name that is no one's (a
//! typo, a password typed in the wrong field) is never recorded in full.

use crate::helpers::{AppOptions, TestApp, UserOptions};

/// The audit actions about `name`, with "issued" for either way a recovery gets its turn
/// (superseding left out: it follows issuing).
async fn issued_or_limited(app: &TestApp, name: &str) -> Vec<String> {
    app.actions(name)
        .await
        .into_iter()
        .filter(|a| a != "recovery.superseded")
        .map(|a| match a.as_str() {
            "recovery.code_sent" | "recovery.not_eligible" => "issued".to_owned(),
            _ => a,
        })
        .collect()
}

#[tokio::test]
async fn spellings_of_a_name_share_its_limits_whether_or_not_it_is_a_user() {
    // Three emails an hour per name, so two for one client address; the pool ignores case.
    let app = TestApp::spawn_with(
        AppOptions::default()
            .case_insensitive()
            .set("RECOVERY_REQUESTS_PER_USER_PER_HOUR", 3),
    )
    .await;
    let user = app.create_user().await;
    let real = [
        user.username.to_uppercase(),
        format!("ＵＳＥＲ{}", &user.username[4..]),
        user.username.clone(),
    ];
    let unknown = ["Nobody-Here", "NOBODY-HERE", "ｎｏｂｏｄｙ-here"];
    for name in real.iter().map(String::as_str).chain(unknown) {
        assert_eq!(app.request_recovery(name).await.status(), 202);
        app.run_pending_jobs().await;
    }
    let expected = [
        "recovery.requested",
        "issued",
        "recovery.requested",
        "issued",
        "recovery.requested",
        "recovery.rate_limited",
    ];
    assert_eq!(issued_or_limited(&app, "nobody-here").await, expected);
    assert_eq!(issued_or_limited(&app, &user.username).await, expected);
    // The case-folded spelling found the user in Cognito: codes went out.
    assert!(!app.emails_to(&user.email).await.is_empty());
}

#[tokio::test]
async fn cognito_is_asked_about_the_name_as_typed() {
    let app = TestApp::spawn().await;
    let id = &uuid::Uuid::new_v4().simple().to_string()[..10];
    // Two users whose names NFKC would make one: "ﬁle-…" (a ligature) and "file-…".
    let ligature = app
        .create_user_with(UserOptions {
            username: Some(format!("\u{fb01}le-{id}")),
            ..UserOptions::default()
        })
        .await;
    let plain = app
        .create_user_with(UserOptions {
            username: Some(format!("file-{id}")),
            ..UserOptions::default()
        })
        .await;
    let code = app.code_for(&ligature).await;
    assert!(
        app.emails_to(&plain.email).await.is_empty(),
        "not the other user"
    );
    app.confirm_ok(&ligature.username, &code, &ligature.password)
        .await;
}

#[tokio::test]
async fn a_name_that_is_no_ones_is_never_recorded_in_full() {
    let app = TestApp::spawn().await;
    let typed = "hunter2-My-Secret-Pass";
    assert_eq!(app.request_recovery(typed).await.status(), 202);
    app.run_pending_jobs().await;
    assert_eq!(app.confirm(typed, "12345678", "pw").await.status(), 400);

    app.chained().await;
    let in_audit: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events
         WHERE strpos(lower(coalesce(username, '') || coalesce(detail, '')), 'hunter2') > 0",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(in_audit, 0);
    let in_recoveries: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM recoveries
         WHERE strpos(lower(username || coalesce(typed_name, '') || coalesce(account_key, '')), 'hunter2') > 0",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        in_recoveries, 0,
        "the typed name goes once it was looked up"
    );
    app.chained().await;
    let recorded: Vec<String> = sqlx::query_scalar("SELECT DISTINCT username FROM audit_events")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(recorded, [app.redacted(typed)]);
    assert!(recorded[0].starts_with("hu…#"), "{recorded:?}");

    // An auditor still finds its events by the name.
    let key = app.staff_key("ann", "auditor").await;
    let page: serde_json::Value = app
        .get_with_key(&format!("/v1/audit/events?username={typed}"), &key)
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "recovery.requested",
            "recovery.not_eligible",
            "recovery.confirm_failed"
        ]
    );
}

#[tokio::test]
async fn a_users_name_is_recorded_in_full_once_cognito_showed_it_is_theirs() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    app.code_for(&user).await;
    app.chained().await;
    let under_name: Vec<String> =
        sqlx::query_scalar("SELECT action FROM audit_events WHERE username = $1 ORDER BY seq")
            .bind(&user.username)
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(under_name, ["recovery.code_sent"]);
    let stored: String = sqlx::query_scalar("SELECT username FROM recoveries")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, user.username);
}
