use std::time::Duration;

use crate::helpers::{wait_until_jobs_done, TestApp};

/// In a process of its own: the metrics recorder is process-wide, so in the test process another
/// test's counters could stand in for this one's.
#[tokio::test]
async fn metrics_count_requests_by_route_and_status_and_recovery_outcomes() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    let (binary, db) = app.start_binary().await;
    let post = |path: &str, body: serde_json::Value| {
        app.http
            .post(format!("{}{path}", binary.address))
            .json(&body)
            .send()
    };
    let requested = post(
        "/v1/recovery",
        serde_json::json!({"username": user.username}),
    )
    .await
    .unwrap();
    assert_eq!(requested.status(), 202);
    let code = app.wait_for_email(&user.email, 1).await.code();
    wait_until_jobs_done(&db).await;
    let confirm =
        serde_json::json!({"username": user.username, "code": code, "password": user.password});
    assert_eq!(
        post("/v1/recovery/confirm", confirm)
            .await
            .unwrap()
            .status(),
        200
    );
    let malformed = post("/v1/recovery", serde_json::json!({"username": ""}))
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);

    // Never on the public listener: there it would tell eligible names from unknown ones.
    let public = app
        .http
        .get(format!("{}/metrics", binary.address))
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), 404);
    let response = app
        .http
        .get(format!("{}/metrics", binary.admin_address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = response.text().await.unwrap();
    for needle in [
        r#"http_requests_total{route="/v1/recovery",method="POST",status="202"} 1"#,
        r#"http_requests_total{route="/v1/recovery",method="POST",status="400"} 1"#,
        r#"http_request_duration_seconds_bucket{route="/v1/recovery/confirm",method="POST",le="#,
        r#"recovery_confirms_total{outcome="reset"} 1"#,
        r#"mfa_resets_total{outcome="applied"} 1"#,
        r#"recovery_codes_total{outcome="sent"} 1"#,
        r#"aws_calls_total{service="cognito",operation="AdminDeleteSoftwareToken",outcome="ok"} 1"#,
        r#"aws_calls_total{service="ses",operation="SendEmail",outcome="ok"}"#,
        r#"argon2_duration_seconds_bucket{operation="verify","#,
        // The one public request was written alone.
        r#"intake_batch_size_bucket{le="1"} 1"#,
        "intake_batch_size_count 1",
        "jobs_queue_depth",
        "jobs_oldest_age_seconds",
        "lookups_waiting",
        r#"cognito_budget_calls_total{class="background"}"#,
        r#"cognito_budget_calls_total{class="interactive"}"#,
        "email_budget_used_this_hour",
    ] {
        assert!(
            text.contains(needle),
            "{needle} missing from /metrics:\n{text}"
        );
    }
    // Bounded labels only: no username, email or code ever becomes a label.
    assert!(!text.contains(&user.username) && !text.contains(&user.email) && !text.contains(&code));
    binary.stop();
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = TestApp::spawn().await;
    let a = app.request_recovery("someone").await;
    let b = app
        .http
        .get(format!("{}/nowhere", app.address))
        .send()
        .await
        .unwrap();
    let id = |r: &reqwest::Response| {
        r.headers()
            .get("x-request-id")
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let (a, b) = (id(&a).expect("x-request-id"), id(&b).expect("x-request-id"));
    assert_ne!(a, b);
    assert!(uuid::Uuid::parse_str(&a).is_ok(), "{a}");
}

#[tokio::test]
async fn on_sigterm_in_flight_requests_finish_and_the_process_exits_zero() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    let (mut binary, db) = app.start_binary().await;
    let response = app
        .http
        .post(format!("{}/v1/recovery", binary.address))
        .json(&serde_json::json!({"username": user.username}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let code = app.wait_for_email(&user.email, 1).await.code();
    wait_until_jobs_done(&db).await;

    // Cognito answers slowly: the confirmation is still in flight when SIGTERM arrives.
    app.proxy.slow_down(Duration::from_millis(700));
    let http = app.http.clone();
    let url = format!("{}/v1/recovery/confirm", binary.address);
    let body =
        serde_json::json!({"username": user.username, "code": code, "password": user.password});
    let seen = app.proxy.connections();
    let in_flight = tokio::spawn(async move {
        http.post(url)
            .json(&body)
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    // The confirmation has reached Cognito (the proxy holds it back): it is in flight.
    app.proxy.wait_for_connection_after(seen).await;
    let status = tokio::task::spawn_blocking(move || {
        let status = binary.terminate(Duration::from_secs(30));
        (status, binary.output())
    });
    assert_eq!(
        in_flight.await.unwrap().expect("answered, not cut off"),
        200
    );
    let (status, output) = status.await.unwrap();
    let status = status.unwrap_or_else(|| panic!("did not exit within 30 s: {output}"));
    assert!(status.success(), "exit status {status:?}: {output}");
}

#[tokio::test]
async fn json_logs_carry_the_request_id_on_every_line_of_a_request() {
    let app = TestApp::spawn().await;
    let (binary, _db) = app.start_binary().await;
    let response = app
        .http
        .post(format!("{}/v1/recovery/confirm", binary.address))
        .json(&serde_json::json!({"username": "nobody", "code": "12345678", "password": "x"}))
        .send()
        .await
        .unwrap();
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    // The access log line is the request's last.
    binary.wait_for_output("request handled").await;
    let logs = binary.stop();
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(!lines.is_empty(), "JSON lines: {logs}");
    // Every line written inside the request's span (the only request made) names it.
    let of_request: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| {
            l["spans"]
                .as_array()
                .is_some_and(|spans| spans.iter().any(|s| s["name"] == "http_request"))
        })
        .collect();
    assert!(
        of_request.iter().any(|l| l["message"] == "request handled"),
        "the access log line is among the request's lines: {logs}"
    );
    for line in &of_request {
        let span = line["spans"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "http_request")
            .unwrap();
        assert_eq!(span["request_id"], request_id.as_str(), "{line}");
    }
}
