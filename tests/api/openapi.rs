use crate::helpers::TestApp;

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots/openapi.json");

async fn document(app: &TestApp) -> serde_json::Value {
    let response = app
        .http
        .get(format!("{}/openapi.json", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn the_openapi_document_covers_every_endpoint_of_the_contract() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for (method, path) in [
        ("post", "/v1/recovery"),
        ("post", "/v1/recovery/confirm"),
        ("post", "/v1/recovery/enrollment/verify"),
        ("post", "/v1/recovery/enrollment/code"),
        ("get", "/v1/recovery/enrollment/passkeys"),
        ("delete", "/v1/recovery/enrollment/passkeys/{passkey_id}"),
        ("post", "/v1/recovery/enrollment/finish"),
        ("get", "/v1/recovery/cancel"),
        ("post", "/v1/recovery/cancel"),
        ("post", "/v1/support/recoveries"),
        ("get", "/v1/support/recoveries"),
        ("post", "/v1/support/recoveries/{recovery_id}/cancel"),
        ("get", "/v1/audit/events"),
        ("get", "/v1/audit/verify"),
        ("get", "/healthz"),
        ("get", "/readyz"),
        ("get", "/openapi.json"),
    ] {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} is documented");
        // A parameter is in the path exactly when the path names it; the others are queries,
        // but for the request headers a client sets anyway (its languages).
        for param in op["parameters"].as_array().into_iter().flatten() {
            let name = param["name"].as_str().unwrap();
            let expected = if path.contains(&format!("{{{name}}}")) {
                "path"
            } else if name == "Accept-Language" {
                "header"
            } else {
                "query"
            };
            assert_eq!(param["in"], expected, "{method} {path} {name}");
        }
        // Every error answer of a JSON endpoint is a documented problem.
        for (status, response) in op["responses"].as_object().unwrap() {
            let problem =
                response["content"]["application/problem+json"]["schema"]["$ref"].as_str();
            if status.starts_with('4') || status.starts_with('5') {
                let html = response["content"]["text/html"].is_object();
                assert!(
                    problem == Some("#/components/schemas/Problem") || html,
                    "{method} {path} {status}: {response}"
                );
            }
        }
        if path.starts_with("/v1/support") || path.starts_with("/v1/audit") {
            assert_eq!(
                op["security"][0]["staff_key"],
                serde_json::json!([]),
                "{method} {path}"
            );
            assert!(
                op["responses"]["401"].is_object() && op["responses"]["403"].is_object(),
                "{method} {path}"
            );
        }
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["staff_key"]["scheme"],
        "bearer"
    );
    for schema in [
        "Problem",
        "RequestBody",
        "ConfirmBody",
        "Confirmed",
        "EnrollmentOffer",
        "Enrolled",
        "Queued",
        "RecoverySummary",
        "AuditRecord",
        "Verification",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
    assert_eq!(
        doc["components"]["schemas"]["ConfirmBody"]["properties"]["password"]["format"],
        "password"
    );
}

/// The document changes only on purpose: after a deliberate change, run the tests with
/// UPDATE_SNAPSHOTS=1 and commit tests/snapshots/openapi.json.
#[tokio::test]
async fn the_openapi_document_matches_its_committed_snapshot() {
    let app = TestApp::spawn().await;
    let actual = serde_json::to_string_pretty(&document(&app).await).unwrap() + "\n";
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(SNAPSHOT, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(SNAPSHOT)
        .expect("tests/snapshots/openapi.json exists (UPDATE_SNAPSHOTS=1 writes it)");
    assert!(actual == expected, "the OpenAPI document changed; if on purpose, rerun with UPDATE_SNAPSHOTS=1 and commit the snapshot");
}

#[tokio::test]
async fn the_docs_page_renders_offline_without_scripts() {
    let app = TestApp::spawn().await;
    let response = app
        .http
        .get(format!("{}/docs", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));
    let html = response.text().await.unwrap();
    assert!(
        html.contains("POST /v1/recovery/confirm") && html.contains("(staff key)"),
        "{html}"
    );
    assert!(
        !html.contains("<script") && !html.contains("src=\"http"),
        "no scripts, no remote assets"
    );
    // Markdown is rendered, not shown raw.
    assert!(!html.contains('`'), "raw backticks left in the page");
    assert!(html.contains("<code>X-Next-Cursor</code>"), "{html}");
    // The members of a JSON body and the query parameters, each with its meaning.
    let confirm = html
        .split("<section>")
        .find(|s| s.contains("POST /v1/recovery/confirm"))
        .unwrap();
    for row in [
        "<td><code>username</code></td><td>body</td><td>string</td><td>yes</td>",
        "<td><code>code</code></td><td>body</td><td>string</td><td>yes</td><td>The 8-digit code from the email: <code>12345678</code>",
        "<td><code>password</code></td><td>body</td><td>string</td><td>no</td>",
    ] {
        assert!(confirm.contains(row), "{row} in {confirm}");
    }
    let events = html
        .split("<section>")
        .find(|s| s.contains("GET /v1/audit/events"))
        .unwrap();
    assert!(
        events.contains("<td><code>since</code></td><td>query</td><td>string</td><td>no</td>"),
        "{events}"
    );
}
