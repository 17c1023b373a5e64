//! Every lost-phone user in their language: the request's language (the page's pick, else the
//! browser's `Accept-Language` by weight) is stored on the recovery, its emails are written in it
//! and their links carry it, so that the page an email opens speaks the email's language; a
//! support-started recovery writes in the user's own Cognito `locale`; `DEFAULT_LOCALE` is what
//! is left.

use crate::helpers::{AppOptions, TestApp, UserOptions};

const BASE: &str = "https://recovery.example.com";

async fn page(app: &TestApp, path: &str, accept_language: Option<&str>) -> (u16, String) {
    let mut request = app
        .http
        .get(format!("{}{path}", app.address))
        .header("accept", "text/html");
    if let Some(value) = accept_language {
        request = request.header("accept-language", value);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn a_request_in_german_is_emailed_in_german_and_its_links_open_german_pages() {
    let app = TestApp::spawn_with(AppOptions::default().set("PUBLIC_BASE_URL", BASE)).await;
    let user = app.create_user().await;
    let response = app
        .http
        .post(format!("{}/v1/recovery", app.address))
        .header("accept-language", "fr-CH, de-CH;q=0.9, en;q=0.8")
        .json(&serde_json::json!({ "username": user.username }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let email = app.wait_for_email(&user.email, 1).await;
    assert_eq!(
        email.subject.as_deref(),
        Some("Ihr Code zur Kontowiederherstellung")
    );
    let body = email.body.clone().unwrap();
    assert!(body.contains("Der Code gilt einmal und läuft in"), "{body}");
    assert_eq!(email.link("/recover/code"), "/recover/code?lang=de");
    assert!(
        body.contains(&format!("{BASE}/recover/code?lang=de")),
        "{body}"
    );
    let confirm_link = email.link("/recover/link");
    assert!(confirm_link.ends_with("&lang=de"), "{confirm_link}");

    // The page the email opens speaks German, whatever the browser prefers.
    for path in [confirm_link.as_str(), "/recover/code?lang=de"] {
        let (status, html) = page(&app, path, Some("en-US,en;q=0.9")).await;
        assert_eq!(status, 200);
        assert!(html.contains("<html lang=\"de\">"), "{path}: {html}");
        assert!(html.contains("Wiederherstellung"), "{path}: {html}");
        // Its forms keep the language, and it offers the others.
        assert!(html.contains("?lang=de\""), "{html}");
        assert!(html.contains("hreflang=\"es\""), "{html}");
    }

    // The notice after the reset is German too.
    app.confirm_ok(&user.username, &email.code(), &user.password)
        .await;
    let notice = app.wait_for_email(&user.email, 2).await;
    assert_eq!(
        notice.subject.as_deref(),
        Some("Ihre Authenticator-App wurde aus Ihrem Konto entfernt")
    );
    let stored: Option<String> =
        sqlx::query_scalar("SELECT language FROM recoveries WHERE account_key = $1")
            .bind(&user.username)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(stored.as_deref(), Some("de"));
}

#[tokio::test]
async fn support_writes_in_the_users_own_locale_and_the_default_is_the_operators() {
    let app = TestApp::spawn_with(
        AppOptions::default()
            .set("PUBLIC_BASE_URL", BASE)
            .set("DEFAULT_LOCALE", "es"),
    )
    .await;
    let key = app.staff_key("sam", "support").await;
    let german = app
        .create_user_with(UserOptions {
            locale: Some("de_AT".into()),
            ..UserOptions::default()
        })
        .await;
    let plain = app.create_user().await;
    for user in [&german, &plain] {
        // The agent's browser says nothing of the user's language.
        let response = app
            .http
            .post(format!("{}/v1/support/recoveries", app.address))
            .bearer_auth(&key)
            .header("accept-language", "en")
            .json(&serde_json::json!({"username": user.username, "reason": "ticket T-1"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202);
    }
    let to_german = app.wait_for_email(&german.email, 1).await;
    assert_eq!(
        to_german.subject.as_deref(),
        Some("Ihr Code zur Kontowiederherstellung")
    );
    assert!(to_german.body.unwrap().contains("lang=de"));
    let to_plain = app.wait_for_email(&plain.email, 1).await;
    assert_eq!(
        to_plain.subject.as_deref(),
        Some("Su código de recuperación de la cuenta"),
        "DEFAULT_LOCALE"
    );

    // Pages: the default without a preference, the browser's, and the person's pick.
    for (path, accept, lang, words) in [
        ("/recover", None, "es", "¿Perdió el teléfono"),
        (
            "/recover",
            Some("de;q=0.5, en;q=0.9"),
            "en",
            "Lost the phone",
        ),
        (
            "/recover?lang=de",
            Some("en"),
            "de",
            "Handy mit der Authenticator-App",
        ),
        ("/recover?lang=xx", Some("fr"), "es", "¿Perdió el teléfono"),
        (
            "/recover/nowhere",
            Some("de"),
            "de",
            "Diese Seite gibt es nicht",
        ),
    ] {
        let (_, html) = page(&app, path, accept).await;
        assert!(
            html.contains(&format!("<html lang=\"{lang}\">")),
            "{path} {accept:?}: {html}"
        );
        assert!(html.contains(words), "{path} {accept:?}: {html}");
    }
}
