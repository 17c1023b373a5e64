//! Fair and fresh work under overload: security notices and the support desk's recoveries go
//! before public lookups; among these a request that just arrived goes before those that
//! waited; a request that waited longer than a code lives is dropped (audited) instead of
//! looked up; and a name Cognito just said it has no user for is not asked about again for a
//! minute. None of it changes what a client sees. Ordering rules, not timings.

use std::time::Duration;

use mfa_recovery::store::jobs::take_due;

use crate::helpers::{AppOptions, TestApp};
use crate::proxy::{Fault, Rule};

/// Queues a job of `kind` created `age` ago, due `due` from now (real time: the service's own
/// job loops, on its clock, leave jobs due tomorrow alone); its id.
async fn queue(app: &TestApp, kind: &str, age: chrono::Duration, due: chrono::Duration) -> i64 {
    let now = chrono::Utc::now();
    sqlx::query_scalar(
        "INSERT INTO jobs (kind, payload, run_at, created_at) VALUES ($1, 'null', $2, $3)
         RETURNING id",
    )
    .bind(kind)
    .bind(now + due)
    .bind(now - age)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn notices_and_the_support_desk_go_first_then_a_fresh_request_before_a_thousand_old_ones() {
    let app = TestApp::spawn().await;
    let day = chrono::Duration::days(1);
    let minutes = chrono::Duration::minutes;
    // A thousand requests waiting for two minutes, queued before everything else.
    sqlx::query(
        "INSERT INTO jobs (kind, payload, run_at, created_at)
         SELECT 'look_up', 'null', now() + interval '1 day', now() - interval '2 minutes'
                 - n * interval '1 millisecond'
         FROM generate_series(1, 1000) AS n",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let support = queue(&app, "issue_code", minutes(3), day + minutes(1)).await;
    let notice = queue(&app, "reset_notice", minutes(1), day + minutes(2)).await;
    let fresh = queue(&app, "look_up", minutes(0), day).await;
    let newest_old: i64 = sqlx::query_scalar(
        "SELECT id FROM jobs WHERE kind = 'look_up' AND id <> $1 ORDER BY created_at DESC LIMIT 1",
    )
    .bind(fresh)
    .fetch_one(&app.db)
    .await
    .unwrap();

    let kinds = ["look_up", "issue_code", "reset_notice"];
    let later = chrono::Utc::now() + day + minutes(10);
    let mut taken = Vec::new();
    let mut tx = app.db.begin().await.unwrap();
    for _ in 0..4 {
        let job = take_due(&mut tx, later, &kinds)
            .await
            .unwrap()
            .expect("a job");
        sqlx::query("UPDATE jobs SET finished_at = now() WHERE id = $1")
            .bind(job.id)
            .execute(&mut *tx)
            .await
            .unwrap();
        taken.push(job.id);
    }
    tx.rollback().await.unwrap();
    assert_eq!(taken, [support, notice, fresh, newest_old]);

    // A worker that does not run lookups (an older replica) never takes one.
    let mut tx = app.db.begin().await.unwrap();
    let job = take_due(&mut tx, later, &["issue_code"]).await.unwrap();
    assert_eq!(job.map(|j| j.id), Some(support));
}

#[tokio::test]
async fn a_request_that_waited_longer_than_a_code_lives_is_dropped_and_audited_not_looked_up() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    // Cognito throttles user reads: the lookup waits in the queue, retried.
    app.proxy.inject(Rule::new("AdminGetUser", Fault::Throttle));
    assert_eq!(app.request_recovery(&user.username).await.status(), 202);
    app.run_pending_jobs().await;
    let tried = app.proxy.calls("AdminGetUser");
    assert!(tried >= 1);
    app.proxy.clear();

    // The default code lifetime (600 s) later, a code could no longer reach its owner in time.
    app.advance(Duration::from_secs(601));
    app.run_jobs_scheduled_for_later().await;
    assert_eq!(
        app.proxy.calls("AdminGetUser"),
        tried,
        "not looked up again"
    );
    let trail = app.audit_trail(&user.username).await;
    assert!(
        trail.contains(&("recovery.dropped".to_owned(), "skipped".to_owned())),
        "{trail:?}"
    );
    let detail = app
        .audit_detail(&app.redacted(&user.username), "recovery.dropped")
        .await;
    assert!(
        detail.contains("longer than a code lives (600 s)"),
        "{detail}"
    );
    assert!(app.emails_to(&user.email).await.is_empty());

    // The owner asking again now gets a code at once.
    let code = app.code_for(&user).await;
    assert_eq!(code.len(), 8);
}

#[tokio::test]
async fn a_name_cognito_has_no_user_for_is_not_asked_about_again_for_a_minute() {
    let app = TestApp::spawn_with(AppOptions::default().behind_proxy()).await;
    let reads = || app.proxy.calls("AdminGetUser");
    let before = reads();
    for ip in ["203.0.113.7", "198.51.100.9", "192.0.2.44"] {
        let response = app.request_recovery_from("nobody-at-all", ip).await;
        assert_eq!(response.status(), 202);
        app.run_pending_jobs().await;
    }
    assert_eq!(reads() - before, 1, "one lookup for three requests");
    let trail = app.audit_trail("nobody-at-all").await;
    let not_eligible = trail
        .iter()
        .filter(|(action, _)| action == "recovery.not_eligible")
        .count();
    assert_eq!(not_eligible, 3, "each request is recorded alike: {trail:?}");

    app.advance(Duration::from_secs(61));
    app.request_recovery_from("nobody-at-all", "203.0.113.8")
        .await;
    app.run_pending_jobs().await;
    assert_eq!(reads() - before, 2, "asked again after the minute");

    // A real user is always looked up, however often asked.
    let user = app.create_user().await;
    app.code_for(&user).await;
    assert_eq!(reads() - before, 3);
}

#[tokio::test]
async fn the_support_desks_recoveries_are_queued_ahead_of_self_service_lookups() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    let key = app.staff_key("desk", "support").await;
    let response = app
        .post_with_key(
            "/v1/support/recoveries",
            &key,
            serde_json::json!({"username": user.username, "reason": "ticket 42"}),
        )
        .await;
    assert_eq!(response.status(), 202);
    let body: serde_json::Value = response.json().await.unwrap();
    let support = body["recovery_id"]
        .as_str()
        .unwrap()
        .parse::<uuid::Uuid>()
        .unwrap();
    assert_eq!(app.request_recovery(&user.username).await.status(), 202);
    let kinds: Vec<(Option<uuid::Uuid>, String)> = sqlx::query_as(
        "SELECT recovery_id, kind FROM jobs WHERE kind IN ('issue_code', 'look_up') ORDER BY id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(kinds.len(), 2, "{kinds:?}");
    assert_eq!(kinds[0], (Some(support), "issue_code".to_owned()));
    assert_eq!(kinds[1].1, "look_up");
}
