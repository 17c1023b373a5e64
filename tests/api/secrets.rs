//! Codes, passwords and the pepper never reach the logs or the database in clear; typed names
//! and email addresses never reach the logs.

use std::process::Command;

use crate::helpers::{create_database, TestApp, PEPPER};

fn pg_dump(app: &TestApp, db_url: &str) -> String {
    let output = Command::new(format!("{}/pg_dump", app.env.pg_bin))
        .arg(format!("--dbname={db_url}"))
        .output()
        .expect("pg_dump runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test]
async fn codes_passwords_and_the_pepper_are_absent_from_logs_and_from_a_database_dump() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    // The binary gets a database of its own, so that only it handles this recovery.
    let db_url = create_database(&app.env.admin_db_url).await;
    // Every crate at debug: the AWS SDK's events carry the fields of the spans they run in.
    let binary = app.start_binary_logging(&db_url, "debug").await;
    let post = |path: &str, body: serde_json::Value| {
        app.http
            .post(format!("{}{path}", binary.address))
            .json(&body)
            .send()
    };

    let response = post(
        "/v1/recovery",
        serde_json::json!({"username": user.username}),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 202);
    let code = app.wait_for_email(&user.email, 1).await.code();
    let grouped = format!("{} {}", &code[..4], &code[4..]);

    // While the code is live, the database holds its argon2id hash and nothing else of it.
    let live_dump = pg_dump(&app, &db_url);
    assert!(live_dump.contains("$argon2id$"), "the hash is stored");
    let wrong = serde_json::json!({"username": user.username, "code": code, "password": "Wrong-Password-123"});
    assert_eq!(
        post("/v1/recovery/confirm", wrong).await.unwrap().status(),
        400
    );
    let right =
        serde_json::json!({"username": user.username, "code": grouped, "password": user.password});
    assert_eq!(
        post("/v1/recovery/confirm", right).await.unwrap().status(),
        200
    );
    app.wait_for_email(&user.email, 2).await;
    let final_dump = pg_dump(&app, &db_url);
    let logs = binary.stop();

    assert!(
        logs.contains("recovery code sent") && logs.contains("TOTP authenticator removed"),
        "logs were captured: {logs}"
    );
    // Nor the typed name or the account's email, at any level (the binary logs at debug): a
    // name may be a password typed in the wrong field.
    for (what, name) in [("username", &user.username), ("email", &user.email)] {
        assert!(
            !logs.contains(name.as_str()),
            "the {what} appears in the logs"
        );
    }
    for (what, text) in [
        ("logs", &logs),
        ("live dump", &live_dump),
        ("final dump", &final_dump),
    ] {
        for (secret_name, secret) in [
            ("code", code.as_str()),
            ("grouped code", grouped.as_str()),
            ("password", user.password.as_str()),
            ("wrong password", "Wrong-Password-123"),
            ("pepper", PEPPER),
        ] {
            assert!(
                !text.contains(secret),
                "the {secret_name} appears in the {what}"
            );
        }
    }
}
