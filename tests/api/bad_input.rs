use crate::helpers::{assert_problem, TestApp};

async fn post_raw(
    app: &TestApp,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> reqwest::Response {
    let mut request = app.http.post(format!("{}{path}", app.address)).body(body);
    if let Some(ct) = content_type {
        request = request.header("content-type", ct);
    }
    request.send().await.unwrap()
}

/// Path, content type, body, expected status and problem code.
type Case<'a> = (&'a str, Option<&'a str>, Vec<u8>, u16, &'a str);

#[tokio::test]
async fn malformed_bodies_are_4xx_problems_never_server_errors() {
    let app = TestApp::spawn().await;
    let json = Some("application/json");
    let cases: Vec<Case> = vec![
        (
            "/v1/recovery",
            json,
            b"{not json".to_vec(),
            400,
            "invalid_request",
        ),
        ("/v1/recovery", json, b"".to_vec(), 400, "invalid_request"),
        (
            "/v1/recovery",
            json,
            br#"{"username": 12}"#.to_vec(),
            400,
            "invalid_request",
        ),
        (
            "/v1/recovery",
            json,
            br#"{"username": null}"#.to_vec(),
            400,
            "invalid_request",
        ),
        (
            "/v1/recovery",
            json,
            br#"{}"#.to_vec(),
            400,
            "invalid_request",
        ),
        (
            "/v1/recovery",
            json,
            br#"[]"#.to_vec(),
            400,
            "invalid_request",
        ),
        (
            "/v1/recovery",
            json,
            br#"{"username": ""}"#.to_vec(),
            400,
            "invalid_request",
        ),
        (
            "/v1/recovery",
            json,
            br#"{"username": "a\nb"}"#.to_vec(),
            400,
            "invalid_request",
        ),
        (
            "/v1/recovery",
            json,
            br#"{"username": "a\u0000b"}"#.to_vec(),
            400,
            "invalid_request",
        ),
        (
            "/v1/recovery",
            json,
            format!(r#"{{"username": "{}"}}"#, "a".repeat(129)).into_bytes(),
            400,
            "invalid_request",
        ),
        (
            "/v1/recovery",
            json,
            vec![b'x'; 2 * 1024 * 1024],
            413,
            "payload_too_large",
        ),
        (
            "/v1/recovery",
            None,
            br#"{"username": "alice"}"#.to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            "/v1/recovery",
            Some("text/plain"),
            br#"{"username": "alice"}"#.to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            "/v1/recovery/confirm",
            json,
            br#"{"username": "alice", "code": 12345678, "password": "p"}"#.to_vec(),
            400,
            "invalid_request",
        ),
        (
            "/v1/recovery/confirm",
            json,
            br#"{"username": "alice", "code": "1234567", "password": "p"}"#.to_vec(),
            400,
            "invalid_request",
        ),
        (
            "/v1/recovery/confirm",
            json,
            br#"{"username": "alice", "code": "12345678"}"#.to_vec(),
            400,
            "invalid_request",
        ),
        (
            "/v1/recovery/confirm",
            json,
            br#"{"username": "al\rice", "code": "12345678", "password": "p"}"#.to_vec(),
            400,
            "invalid_request",
        ),
        (
            "/v1/recovery/confirm",
            json,
            vec![b'{'; 2 * 1024 * 1024],
            413,
            "payload_too_large",
        ),
    ];
    for (path, content_type, body, status, code) in cases {
        let shown = String::from_utf8_lossy(&body[..body.len().min(60)]).into_owned();
        let response = post_raw(&app, path, content_type, body).await;
        assert_eq!(
            response.status().as_u16(),
            status,
            "{path} {content_type:?} {shown}"
        );
        let problem = assert_problem(response, status, code).await;
        // Every detail is a sentence a person can read out.
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.starts_with(char::is_uppercase) && detail.ends_with('.'),
            "{path} {shown}: {detail:?}"
        );
    }
    let detail = |response: reqwest::Response| async {
        assert_problem(response, 400, "invalid_request").await["detail"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let missing_password = post_raw(
        &app,
        "/v1/recovery/confirm",
        json,
        br#"{"username": "alice", "code": "12345678"}"#.to_vec(),
    )
    .await;
    assert_eq!(detail(missing_password).await, "The password is required.");
    let empty_name = post_raw(&app, "/v1/recovery", json, br#"{"username": " "}"#.to_vec()).await;
    assert_eq!(detail(empty_name).await, "Username must not be empty.");
}

#[tokio::test]
async fn a_mistyped_password_member_is_not_echoed_back() {
    let app = TestApp::spawn().await;
    let response = post_raw(
        &app,
        "/v1/recovery/confirm",
        Some("application/json"),
        br#"{"username": "alice", "code": "12345678", "password": 987654321987}"#.to_vec(),
    )
    .await;
    let body = assert_problem(response, 400, "invalid_request").await;
    assert!(!body.to_string().contains("987654321987"), "{body}");
}

#[tokio::test]
async fn unknown_paths_and_methods_are_problems_too() {
    let app = TestApp::spawn().await;
    let response = app
        .http
        .get(format!("{}/v1/nothing-here", app.address))
        .send()
        .await
        .unwrap();
    assert_problem(response, 404, "not_found").await;
    let response = app
        .http
        .get(format!("{}/v1/recovery", app.address))
        .send()
        .await
        .unwrap();
    assert_problem(response, 405, "method_not_allowed").await;
}
