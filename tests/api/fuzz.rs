//! Schema fuzzing: schemathesis (from PyPI, installed by scripts/install-deps.sh) generates
//! requests from the running service's own /openapi.json and checks every answer.

use crate::helpers::TestApp;

/// Runs schemathesis with one staff key; its output when it fails.
async fn schemathesis(app: &TestApp, key: &str) -> Result<(), String> {
    let program = std::env::var("TEST_SCHEMATHESIS")
        .expect("TEST_SCHEMATHESIS is not set: run scripts/test.sh");
    let args = vec![
        "run".to_owned(),
        format!("{}/openapi.json", app.address),
        // No 5xx, and every status, header and body as the document says.
        "--checks".to_owned(),
        "not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance".to_owned(),
        "--header".to_owned(),
        format!("Authorization: Bearer {key}"),
        "--max-examples".to_owned(),
        "15".to_owned(),
        // A fixed seed keeps CI repeatable; run it by hand with other seeds to search wider.
        "--seed".to_owned(),
        "20261122".to_owned(),
        "--request-timeout".to_owned(),
        "30".to_owned(),
    ];
    let output = tokio::task::spawn_blocking(move || {
        // schemathesis keeps a cache in its working directory: not in the source tree.
        std::process::Command::new(program)
            .args(args)
            .current_dir(env!("CARGO_TARGET_TMPDIR"))
            .output()
    })
    .await
    .unwrap()
    .expect("schemathesis runs");
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

#[tokio::test]
async fn schemathesis_finds_no_server_error_and_no_answer_outside_the_document() {
    let app = TestApp::spawn().await;
    // Real data for the fuzzer to meet: a user with a live recovery.
    let user = app.create_user().await;
    app.code_for(&user).await;
    for (name, role) in [("fuzz-support", "support"), ("fuzz-auditor", "auditor")] {
        let key = app.staff_key(name, role).await;
        if let Err(report) = schemathesis(&app, &key).await {
            panic!("schemathesis with a {role} key:\n{report}");
        }
    }
}
