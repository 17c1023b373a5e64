use reqwest::Method;

use crate::helpers::{assert_problem, AppOptions, TestApp};

/// Every staff endpoint, with the role it needs and a request that role may make.
fn staff_endpoints() -> Vec<(Method, String, Option<serde_json::Value>, &'static str)> {
    let some_id = "00000000-0000-4000-8000-000000000000";
    vec![
        (
            Method::POST,
            "/v1/support/recoveries".into(),
            Some(serde_json::json!({"username": "nobody", "reason": "T-1"})),
            "support",
        ),
        (
            Method::GET,
            "/v1/support/recoveries?username=nobody".into(),
            None,
            "support",
        ),
        (
            Method::POST,
            format!("/v1/support/recoveries/{some_id}/cancel"),
            None,
            "support",
        ),
        (Method::GET, "/v1/audit/events".into(), None, "auditor"),
        (Method::GET, "/v1/audit/verify".into(), None, "auditor"),
    ]
}

async fn call(
    app: &TestApp,
    method: &Method,
    path: &str,
    body: &Option<serde_json::Value>,
    key: Option<&str>,
) -> reqwest::Response {
    let mut request = app
        .http
        .request(method.clone(), format!("{}{path}", app.address));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn every_staff_endpoint_checks_the_key_and_its_role() {
    let app = TestApp::spawn().await;
    let support = app.staff_key("sam", "support").await;
    let auditor = app.staff_key("ada", "auditor").await;
    let revoked = app.staff_key("rex", "support").await;
    let revoked_auditor = app.staff_key("rita", "auditor").await;
    let out = app.cli(&["staff", "revoke", "--name", "rex"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(app
        .cli(&["staff", "revoke", "--name", "rita"])
        .await
        .status
        .success());

    for (method, path, body, role) in staff_endpoints() {
        let (right, wrong, revoked) = match role {
            "support" => (&support, &auditor, &revoked),
            _ => (&auditor, &support, &revoked_auditor),
        };
        let what = format!("{method} {path}");
        let response = call(&app, &method, &path, &body, None).await;
        assert_eq!(
            response
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap()),
            Some("Bearer"),
            "{what}"
        );
        assert_problem(response, 401, "unauthorized").await;
        assert_problem(
            call(&app, &method, &path, &body, Some("mfr_not-a-real-key")).await,
            401,
            "unauthorized",
        )
        .await;
        assert_problem(
            call(&app, &method, &path, &body, Some(revoked)).await,
            401,
            "unauthorized",
        )
        .await;
        assert_problem(
            call(&app, &method, &path, &body, Some(wrong)).await,
            403,
            "forbidden",
        )
        .await;
        let status = call(&app, &method, &path, &body, Some(right))
            .await
            .status()
            .as_u16();
        // The right role gets past authorisation: the endpoint's own answer (here 200, or 404 for
        // an unknown user or recovery), never 401 or 403.
        assert!(matches!(status, 200 | 202 | 404), "{what}: {status}");
    }
}

#[tokio::test]
async fn staff_add_prints_the_key_alone_on_the_last_line_and_stores_only_its_hash() {
    let app = TestApp::spawn().await;
    let out = app
        .cli(&["staff", "add", "--name", "jane", "--role", "auditor"])
        .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let key = stdout.lines().last().unwrap().trim().to_owned();
    assert!(key.starts_with("mfr_") && key.len() >= 40, "{stdout}");
    assert_eq!(
        app.get_with_key("/v1/audit/verify", &key).await.status(),
        200
    );

    let stored: Vec<String> = sqlx::query_scalar("SELECT key_hash FROM staff_keys")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].contains(&key[4..]));

    assert!(app
        .cli(&["staff", "revoke", "--name", "jane"])
        .await
        .status
        .success());
    assert_problem(
        app.get_with_key("/v1/audit/verify", &key).await,
        401,
        "unauthorized",
    )
    .await;
    assert!(
        !app.cli(&["staff", "revoke", "--name", "jane"])
            .await
            .status
            .success(),
        "nothing left to revoke"
    );
    assert!(!app
        .cli(&["staff", "add", "--name", "x", "--role", "admin"])
        .await
        .status
        .success());
}

#[tokio::test]
async fn failed_staff_authentications_are_audited_and_limited_per_address() {
    let app = TestApp::spawn().await;
    let support = app.staff_key("sam", "support").await;
    let list = "/v1/support/recoveries?username=someone";
    let budget = mfa_recovery::staff::AUTH_FAILURES_PER_IP_PER_HOUR;
    for _ in 0..budget {
        assert_problem(
            app.get_with_key(list, "mfr_guess").await,
            401,
            "unauthorized",
        )
        .await;
    }
    // The address has spent its budget: another guess from there waits for the next hour...
    let limited = app.get_with_key(list, "mfr_guess").await;
    assert!(limited.headers().contains_key("retry-after"));
    assert_problem(limited, 429, "rate_limited").await;
    // ...but a valid key from the same address (a shared office, or every staff member
    // without TRUSTED_PROXIES) is never locked out by others' failures.
    assert_eq!(app.get_with_key(list, &support).await.status(), 200);
    app.chained().await;
    let audited: Vec<(String, String)> = sqlx::query_as(
        "SELECT outcome, ip FROM audit_events WHERE action = 'staff.auth_failed' ORDER BY seq",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        audited,
        [
            ("rejected".to_owned(), "127.0.0.1".to_owned()),
            ("limited".to_owned(), "127.0.0.1".to_owned())
        ],
        "the first failure and the one that spent the budget, not one event per failure"
    );
}

/// Failures from many addresses (here: 120 IPv6 /64s of one /48, each failing once) do not
/// grow the audit log without bound: at most AUTH_FAILURE_EVENTS_PER_HOUR events an hour, the
/// last of which says that further failures are only counted.
#[tokio::test]
async fn failed_staff_authentications_from_many_addresses_write_a_bounded_number_of_events() {
    let app = TestApp::spawn_with(AppOptions::default().behind_proxy()).await;
    let list = "/v1/support/recoveries?username=someone";
    let cap = mfa_recovery::staff::AUTH_FAILURE_EVENTS_PER_HOUR;
    for n in 0..cap + 20 {
        let response = app
            .http
            .get(format!("{}{list}", app.address))
            .header("authorization", "Bearer mfr_guess")
            .header("x-forwarded-for", format!("2001:db8:0:{n:x}::1"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
    }
    app.chained().await;
    let details: Vec<String> = sqlx::query_scalar(
        "SELECT detail FROM audit_events WHERE action = 'staff.auth_failed' ORDER BY seq",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        details.len() as i64,
        cap,
        "one event per address, up to the hour's cap"
    );
    assert!(
        details.last().unwrap().contains("not audited"),
        "{details:?}"
    );
}

#[tokio::test]
async fn an_expired_staff_key_is_refused_and_the_cli_sets_expiry() {
    let app = TestApp::spawn().await;
    let name = mfa_recovery::domain::StaffName::parse("temp").unwrap();
    let expired = mfa_recovery::staff::add(
        &app.db,
        &name,
        mfa_recovery::domain::StaffRole::Support,
        Some(std::time::Duration::ZERO),
        &mfa_recovery::domain::Provenance::parse("ops", None).unwrap(),
    )
    .await
    .unwrap();
    use secrecy::ExposeSecret;
    assert_problem(
        app.get_with_key("/v1/support/recoveries?username=x", expired.expose_secret())
            .await,
        401,
        "unauthorized",
    )
    .await;

    let out = app
        .cli(&[
            "staff",
            "add",
            "--name",
            "kim",
            "--role",
            "support",
            "--expires-in",
            "90d",
        ])
        .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_owned();
    let ok = app
        .get_with_key("/v1/support/recoveries?username=x", &key)
        .await;
    assert_eq!(ok.status(), 200);
    let days: f64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM expires_at - now())::float8 / 86400 FROM staff_keys WHERE name = 'kim'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!((89.9..=90.0).contains(&days), "{days}");
    let bad = app
        .cli(&[
            "staff",
            "add",
            "--name",
            "lee",
            "--role",
            "support",
            "--expires-in",
            "soon",
        ])
        .await;
    assert!(!bad.status.success());
}

#[tokio::test]
async fn revoking_a_name_without_an_active_key_fails_and_is_audited_as_failed() {
    let app = TestApp::spawn().await;
    let out = app.cli(&["staff", "revoke", "--name", "nobody"]).await;
    assert!(!out.status.success());
    app.chained().await;
    let outcome: String =
        sqlx::query_scalar("SELECT outcome FROM audit_events WHERE action = 'staff.revoked'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(outcome, "failed");
}

/// With STAFF_BIND_ADDR the staff routes answer on their own listener (one only staff reach)
/// and not on the public one, which keeps the end users' routes.
#[tokio::test]
async fn with_a_staff_listener_the_staff_routes_answer_only_there() {
    let app =
        TestApp::spawn_with(AppOptions::default().set("STAFF_BIND_ADDR", "127.0.0.1:0")).await;
    let staff = app.staff_address.clone().expect("a staff listener");
    let support = app.staff_key("sam", "support").await;
    let auditor = app.staff_key("ada", "auditor").await;
    let get = |base: &str, path: &str, key: &str| {
        app.http
            .get(format!("{base}{path}"))
            .bearer_auth(key)
            .send()
    };
    let list = "/v1/support/recoveries?username=someone";
    assert_eq!(
        get(&app.address, list, &support).await.unwrap().status(),
        404
    );
    assert_eq!(get(&staff, list, &support).await.unwrap().status(), 200);
    let verify = "/v1/audit/verify";
    assert_eq!(
        get(&app.address, verify, &auditor).await.unwrap().status(),
        404
    );
    assert_eq!(get(&staff, verify, &auditor).await.unwrap().status(), 200);
    // The end users' routes stay public, and are not on the staff listener.
    let user = app.create_user().await;
    assert_eq!(app.request_recovery(&user.username).await.status(), 202);
    let on_staff = app
        .http
        .post(format!("{staff}/v1/recovery"))
        .json(&serde_json::json!({"username": user.username}))
        .send()
        .await
        .unwrap();
    assert_eq!(on_staff.status(), 404);
}
