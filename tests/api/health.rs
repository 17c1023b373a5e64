use std::time::Duration;

use crate::helpers::{eventually, hold_chain_lock, TestApp};

#[tokio::test]
async fn healthz_answers_while_the_process_lives() {
    let app = TestApp::spawn().await;
    let response = app
        .http
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn readyz_is_503_when_the_database_stops_answering_and_200_when_it_is_back() {
    let app = TestApp::spawn().await;
    let ready = || async {
        app.http
            .get(format!("{}/readyz", app.address))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(ready().await, 200);

    // Take the service's database away: refuse new connections and end the open ones.
    let name = app.db_url.rsplit('/').next().unwrap().to_owned();
    let admin = sqlx::PgPool::connect(&app.env.admin_db_url).await.unwrap();
    sqlx::query(&format!(
        r#"ALTER DATABASE "{name}" ALLOW_CONNECTIONS false"#
    ))
    .execute(&admin)
    .await
    .unwrap();
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
        .bind(&name)
        .execute(&admin)
        .await
        .unwrap();
    assert_eq!(ready().await, 503);

    sqlx::query(&format!(
        r#"ALTER DATABASE "{name}" ALLOW_CONNECTIONS true"#
    ))
    .execute(&admin)
    .await
    .unwrap();
    assert_eq!(ready().await, 200);
}

#[tokio::test]
async fn metrics_are_served_on_the_internal_listener_only() {
    let app = TestApp::spawn().await;
    let get = |url: String| {
        let http = app.http.clone();
        async move { http.get(url).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(get(format!("{}/metrics", app.address)).await, 404);
    assert_eq!(get(format!("{}/metrics", app.admin_address)).await, 200);
    assert_eq!(get(format!("{}/healthz", app.admin_address)).await, 200);
    assert_eq!(get(format!("{}/readyz", app.admin_address)).await, 200);
    // Nothing but probes and metrics there.
    assert_eq!(get(format!("{}/recover", app.admin_address)).await, 404);
}

/// An audit event kept out of the chain (a session holding the chain's lock, as an attacker or a
/// stuck sequencer would) shows in `audit_pending_oldest_seconds`, the metric the shipped alert
/// rule reads, and past `AUDIT_PENDING_MAX_SECONDS` (default 60) turns `/readyz` not ready;
/// once the lock is let go, the event is chained and the service is ready again.
#[tokio::test]
async fn readyz_says_not_ready_while_audit_events_wait_too_long_to_be_chained() {
    let app = TestApp::spawn().await;
    let http = reqwest::Client::new();
    let get = |path: &'static str| {
        let http = http.clone();
        let url = format!("{}{path}", app.admin_address);
        async move { http.get(url).send().await.unwrap() }
    };
    let alerts = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/prometheus/alerts.yaml"
    ))
    .unwrap();
    assert!(
        alerts.contains("expr: max(audit_pending_oldest_seconds) > 60"),
        "the alert reads the metric: {alerts}"
    );

    let holder = hold_chain_lock(&app.db).await;
    let user = app.create_user().await;
    assert_eq!(app.request_recovery(&user.username).await.status(), 202);
    eventually(
        "the request's event is recorded",
        Duration::from_secs(10),
        || async {
            let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_pending")
                .fetch_one(&app.db)
                .await
                .unwrap();
            (pending > 0).then_some(())
        },
    )
    .await;
    app.advance(Duration::from_secs(59));
    assert_eq!(get("/readyz").await.status(), 200, "within the minute");
    let metrics = get("/metrics").await.text().await.unwrap();
    let waited: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("audit_pending_oldest_seconds "))
        .unwrap_or_else(|| panic!("the gauge: {metrics}"))
        .parse()
        .unwrap();
    assert!((59.0..61.0).contains(&waited), "{waited}");

    app.advance(Duration::from_secs(2));
    let stalled = get("/readyz").await;
    assert_eq!(stalled.status(), 503);
    let problem: serde_json::Value = stalled.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("has waited 61 s to be chained"),
        "{problem}"
    );

    holder.rollback().await.unwrap();
    // The request's job may record its own event late; the service's clock is a minute ahead of
    // the database's, so an event recorded just now would look a minute old: wait for the jobs,
    // then everything is chained and the service is ready again.
    crate::helpers::wait_until_jobs_done(&app.db).await;
    eventually(
        "ready again once chained",
        Duration::from_secs(20),
        || async {
            app.chained().await;
            (get("/readyz").await.status() == 200).then_some(())
        },
    )
    .await;
}
