//! The operator's brand: its name, logo, accent colour and support contact on the pages and in
//! the emails, served by the service itself; a brand that cannot be shown stops the start.

use crate::helpers::{refused_start, AppOptions, TestApp};

const CONTACT: &str = "help@corp.example, +1 555 0100";

fn logo_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("brand-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.http
        .get(format!("{}{path}", app.address))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_brand_is_on_every_page_and_in_every_email_and_nothing_comes_from_elsewhere() {
    let svg = r##"<svg xmlns="http://www.w3.org/2000/svg" width="64" height="32" onload="alert(1)"><script>alert(2)</script><rect width="64" height="32" fill="#8a1538"/><image href="https://tracker.example/p.png" width="1" height="1"/></svg>"##;
    let logo = logo_file("logo.svg", svg.as_bytes());
    let app = TestApp::spawn_with(
        AppOptions::default()
            .set("BRAND_NAME", "Example Corp")
            .set("BRAND_ACCENT_COLOR", "#8A1538")
            .set("BRAND_LOGO_FILE", logo.display())
            .set("SUPPORT_CONTACT", CONTACT),
    )
    .await;

    let start = get(&app, "/recover?lang=es").await;
    let csp = start.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        csp,
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        "images from here only, for the logo"
    );
    let html = start.text().await.unwrap();
    assert!(
        html.contains("<span class=\"brand-name\">Example Corp</span> · Recuperación de la cuenta"),
        "{html}"
    );
    assert!(
        html.contains("<img class=\"logo\" src=\"/assets/logo\""),
        "{html}"
    );
    assert!(!html.contains(CONTACT), "no problem, no contact: {html}");

    let css = get(&app, "/assets/pages.css").await.text().await.unwrap();
    assert!(css.contains("#8a1538") && !css.contains("#0b57d0"), "{css}");
    let served = get(&app, "/assets/logo").await;
    assert_eq!(served.headers()["content-type"], "image/svg+xml");
    let served = served.text().await.unwrap();
    assert!(served.contains("#8a1538"), "{served}");
    for gone in ["script", "alert", "onload", "tracker"] {
        assert!(!served.contains(gone), "{gone}: {served}");
    }

    // Where something went wrong, how to reach support.
    for path in [
        "/recover/link?token=not-a-token",
        "/v1/recovery/cancel?token=not-a-token",
    ] {
        let html = get(&app, path).await.text().await.unwrap();
        assert!(
            html.contains(&format!("Need help? {CONTACT}")),
            "{path}: {html}"
        );
        assert!(html.contains("Example Corp"), "{path}: {html}");
    }

    // Every email is signed, in both parts.
    let user = app.create_user().await;
    assert_eq!(app.request_recovery(&user.username).await.status(), 202);
    let email = app.wait_for_email(&user.email, 1).await;
    let body = email.body.unwrap();
    assert!(body.contains("Example Corp"), "{body}");
    assert!(body.contains(&format!("Need help? {CONTACT}")), "{body}");
}

#[tokio::test]
async fn without_a_brand_the_pages_are_as_they_ship_and_show_no_image() {
    let app = TestApp::spawn().await;
    let start = get(&app, "/recover").await;
    let csp = start.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(!csp.contains("img-src"), "{csp}");
    let html = start.text().await.unwrap();
    assert!(!html.contains("<img"), "{html}");
    assert_eq!(get(&app, "/assets/logo").await.status(), 404);
    let css = get(&app, "/assets/pages.css").await.text().await.unwrap();
    assert!(css.contains("#0b57d0"), "{css}");
}

#[tokio::test]
async fn a_logo_that_cannot_be_shown_stops_the_start_by_its_setting() {
    let app = TestApp::spawn().await;
    let gif = logo_file("logo.gif", b"GIF89a\x01\x00\x01\x00");
    let huge = logo_file(
        "huge.png",
        &[b"\x89PNG\r\n\x1a\n".as_slice(), &vec![0u8; 300 * 1024]].concat(),
    );
    for (file, why) in [
        (gif, "neither a PNG nor an SVG"),
        (huge, "at most 262144 are taken"),
        (
            std::path::PathBuf::from("/nonexistent/logo.svg"),
            "No such file",
        ),
    ] {
        let mut vars = app.settings_env.clone();
        vars.insert("BRAND_LOGO_FILE".into(), file.display().to_string());
        let err = refused_start(vars).await;
        assert!(err.contains("BRAND_LOGO_FILE"), "{err}");
        assert!(err.contains(why), "{err}");
    }
    // A colour below WCAG AA against white is refused with its contrast.
    let mut vars = app.settings_env.clone();
    vars.insert("BRAND_ACCENT_COLOR".into(), "#ffcc00".into());
    let err = mfa_recovery::settings::Settings::load_from(vars)
        .unwrap_err()
        .to_string();
    assert!(err.contains("BRAND_ACCENT_COLOR"), "{err}");
    assert!(err.contains("1.51:1") && err.contains("4.5:1"), "{err}");
}
