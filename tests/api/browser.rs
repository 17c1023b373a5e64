//! The journey of a person who lost their phone, in a real browser: headless Chromium driven
//! over WebDriver by chromedriver (Debian's `chromium` and `chromium-driver`, installed by
//! scripts/install-deps.sh; nothing is downloaded), at a phone-sized window. Each page the tests
//! visit is checked by axe-core (WCAG 2.2 A and AA) at a phone's and a desktop's size, and its
//! screenshots are written under target/screenshots/ for a person to look at.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};

use crate::helpers::{eventually, totp_now, AppOptions, TestApp};

/// WebDriver's key codes.
const TAB: &str = "\u{e004}";
const ENTER: &str = "\u{e007}";

/// The window's size: a phone's (a 6.1-inch screen, in CSS pixels).
const PHONE: (u32, u32) = (390, 844);

/// axe-core's script, from the npm registry (pinned by tests/browser/package-lock.json;
/// scripts/install-deps.sh installs it).
fn axe_source() -> &'static str {
    static AXE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    AXE.get_or_init(|| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/browser/node_modules/axe-core/axe.min.js");
        std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (scripts/install-deps.sh installs axe-core)",
                path.display()
            )
        })
    })
}

struct Browser {
    client: Client,
    driver: Child,
    _profile: tempdir::Dir,
}

mod tempdir {
    /// A directory removed when dropped.
    pub struct Dir(pub std::path::PathBuf);

    impl Dir {
        pub fn new() -> Self {
            let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
                .join(format!("chromium-{}", uuid::Uuid::new_v4().simple()));
            std::fs::create_dir_all(&path).unwrap();
            Self(path)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl Browser {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(
            std::env::var("TEST_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".to_owned()),
        )
        .args([
            format!("--port={port}"),
            "--allowed-ips=127.0.0.1".to_owned(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver runs (scripts/install-deps.sh installs it)");
        eventually("chromedriver listens", Duration::from_secs(10), || async {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .ok()
                .map(drop)
        })
        .await;
        let profile = tempdir::Dir::new();
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            serde_json::json!({
                "binary": std::env::var("TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned()),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    // A phone-sized window.
                    format!("--window-size={},{}", PHONE.0, PHONE.1),
                    // This machine has no network: no background connections to try.
                    "--no-first-run", "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--disable-quic",
                    format!("--user-data-dir={}", profile.0.display()),
                ],
            }),
        );
        // Both of rustls's crypto back ends are compiled in (the AWS SDK brings one, reqwest the
        // other): name one for the WebDriver client.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = ClientBuilder::rustls()
            .expect("TLS roots")
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a Chromium session");
        Self {
            client,
            driver,
            _profile: profile,
        }
    }

    async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("a screenshot");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// The page as people see it: screenshots at a phone's size and a desktop's
    /// (`target/screenshots/<name>.png`, `<name>-desktop.png`), and axe-core's WCAG 2.2 A and
    /// AA rules at both, failing on any violation.
    async fn look(&self, name: &str) {
        self.screenshot(name).await;
        self.accessible(&format!("{name} (phone)")).await;
        self.client.set_window_size(1280, 900).await.unwrap();
        self.screenshot(&format!("{name}-desktop")).await;
        self.accessible(&format!("{name} (desktop)")).await;
        self.client.set_window_size(PHONE.0, PHONE.1).await.unwrap();
    }

    /// Runs axe-core in the page (injected over WebDriver: nothing is served for it, and the
    /// page's CSP stays as it is) with the WCAG 2.0, 2.1 and 2.2 A and AA rules; fails naming
    /// each violation and where it is.
    async fn accessible(&self, page: &str) {
        self.client
            .execute(axe_source(), vec![])
            .await
            .expect("axe-core loads into the page");
        let found = self
            .client
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
                axe.run(document, {
                    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
                    resultTypes: ['violations'],
                }).then(
                    r => done(r.violations.map(v => `${v.id} (${v.impact}): ${v.help}, at ${v.nodes.map(n => n.target.join(' ')).join('; ')}`)),
                    e => done([`axe-core failed: ${e}`]),
                );"#,
                vec![],
            )
            .await
            .expect("axe-core runs");
        let violations: Vec<String> = serde_json::from_value(found).unwrap();
        assert!(
            violations.is_empty(),
            "{page}: WCAG 2.2 A/AA violations:\n{}",
            violations.join("\n")
        );
    }

    async fn fill(&self, field: &str, value: &str) {
        self.client
            .find(Locator::Css(&format!("input[name=\"{field}\"]")))
            .await
            .unwrap_or_else(|_| panic!("a field named {field}"))
            .send_keys(value)
            .await
            .unwrap();
    }

    /// Submits the page's (first) form and waits until the next page has replaced it.
    async fn submit(&self) {
        self.click_through("button[type=\"submit\"]").await;
    }

    /// Clicks the first element `css` selects and waits until the next page has replaced this.
    async fn click_through(&self, css: &str) {
        let page = self.client.find(Locator::Css("html")).await.unwrap();
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|_| panic!("an element {css}"))
            .click()
            .await
            .unwrap();
        // The old page's element goes stale once the new page is there.
        eventually(
            "the next page replaces this one",
            Duration::from_secs(10),
            || async { page.tag_name().await.is_err().then_some(()) },
        )
        .await;
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("main h1"))
            .await
            .expect("the next page");
    }

    async fn text_of(&self, testid: &str) -> String {
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(&format!("[data-testid=\"{testid}\"]")))
            .await
            .unwrap_or_else(|_| panic!("an element data-testid={testid}"))
            .text()
            .await
            .unwrap()
    }

    async fn h1(&self) -> String {
        self.client
            .find(Locator::Css("h1"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// The journey's first steps in `lang`: asks for a code, types the emailed code and the
    /// password, and confirms.
    async fn confirm_with_emailed_code(
        &self,
        app: &TestApp,
        user: &crate::helpers::TestUser,
        lang: &str,
    ) {
        self.client
            .goto(&format!("{}/recover?lang={lang}", app.address))
            .await
            .unwrap();
        self.fill("username", &user.username).await;
        self.submit().await;
        let code = app.wait_for_email(&user.email, 1).await.code();
        self.fill("code", &code).await;
        self.fill("password", &user.password).await;
        self.submit().await;
    }

    /// Types `keys` into whatever has the focus (WebDriver key codes for Tab, Enter).
    async fn keys(&self, keys: &str) {
        self.client
            .active_element()
            .await
            .expect("something has the focus")
            .send_keys(keys)
            .await
            .unwrap();
    }

    /// Presses Tab until the field named `name` has the focus, as someone without a mouse
    /// would; fails when it is not reached within a page's worth of stops.
    async fn tab_to(&self, name: &str) {
        for _ in 0..20 {
            self.keys(TAB).await;
            let focused = self.client.active_element().await.unwrap();
            if focused.attr("name").await.unwrap().as_deref() == Some(name) {
                return;
            }
        }
        panic!("Tab never reaches the field {name}");
    }

    /// Presses Enter in the focused field and waits until the next page has replaced this one.
    async fn enter(&self) {
        let page = self.client.find(Locator::Css("html")).await.unwrap();
        self.keys(ENTER).await;
        eventually(
            "the next page replaces this one",
            Duration::from_secs(10),
            || async { page.tag_name().await.is_err().then_some(()) },
        )
        .await;
    }

    /// The language the page says it is in (`<html lang>`).
    async fn lang(&self) -> String {
        self.client
            .find(Locator::Css("html"))
            .await
            .unwrap()
            .attr("lang")
            .await
            .unwrap()
            .unwrap_or_default()
    }

    async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

#[tokio::test]
async fn a_person_recovers_and_enrols_a_new_authenticator_with_nothing_but_a_browser_and_their_mailbox(
) {
    let app = TestApp::spawn_with(
        AppOptions::default().set("APP_SIGN_IN_URL", "https://app.example.com/sign-in"),
    )
    .await;
    let user = app.create_user().await;
    let browser = Browser::start().await;
    let c = &browser.client;

    c.goto(&format!("{}/recover", app.address)).await.unwrap();
    browser.look("1-recover").await;
    browser.fill("username", &user.username).await;
    browser.submit().await;
    assert_eq!(browser.h1().await, "Check your email");
    browser.look("2-check-email").await;

    let code = app.wait_for_email(&user.email, 1).await.code();
    browser
        .fill("code", &format!("{} {}", &code[..4], &code[4..]))
        .await;
    browser.fill("password", &user.password).await;
    browser.submit().await;

    let secret: String = browser
        .text_of("totp-secret")
        .await
        .split_whitespace()
        .collect();
    assert!(
        c.find(Locator::Css("[data-testid=\"totp-qr\"] svg"))
            .await
            .is_ok(),
        "a QR code"
    );
    let link = c
        .find(Locator::Css("a[href^=\"otpauth://totp/\"]"))
        .await
        .expect("an otpauth link")
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    assert!(link.contains(&format!("secret={secret}")), "{link}");
    let totp = c
        .find(Locator::Css("input[name=\"totp_code\"]"))
        .await
        .unwrap();
    assert_eq!(
        totp.attr("autocomplete").await.unwrap().as_deref(),
        Some("one-time-code")
    );
    assert_eq!(
        totp.attr("inputmode").await.unwrap().as_deref(),
        Some("numeric")
    );
    assert!(
        !c.current_url().await.unwrap().as_str().contains(&secret),
        "no secret in the URL"
    );
    browser.look("3-enrol").await;

    // The confirmation was answered with a redirect: a refresh shows the same new
    // authenticator and posts nothing again (no attempt spent, nothing audited as wrong).
    let captured = c.get_named_cookie("mfa_recovery").await.unwrap();
    c.refresh().await.unwrap();
    let again: String = browser
        .text_of("totp-secret")
        .await
        .split_whitespace()
        .collect();
    assert_eq!(again, secret, "the same key after a refresh");
    assert_eq!(
        app.audit_details(&user.username, "recovery.confirm_failed")
            .await,
        [],
        "a refresh is no wrong confirmation"
    );

    // A wrong code is refused on the page, in words.
    let wrong = crate::helpers::other_totp(&totp_now(&secret));
    browser.fill("totp_code", &wrong).await;
    browser.submit().await;
    let alert = c
        .find(Locator::Css("[role=\"alert\"]"))
        .await
        .expect("an error");
    assert!(alert.text().await.unwrap().contains("does not match"));
    browser.look("4-enrol-wrong-code").await;

    browser.fill("totp_code", &totp_now(&secret)).await;
    browser.submit().await;
    browser.text_of("enrolled").await;
    let sign_in = c
        .find(Locator::Css("a[href=\"https://app.example.com/sign-in\"]"))
        .await;
    assert!(sign_in.is_ok(), "a link to the app's sign-in");
    browser.look("5-enrolled").await;

    // A page cookie captured during the enrollment shows no secret once it is over.
    c.delete_all_cookies().await.unwrap();
    c.add_cookie(captured).await.unwrap();
    c.goto(&format!("{}/recover/enrollment", app.address))
        .await
        .unwrap();
    assert!(
        c.find(Locator::Css("[data-testid=\"totp-secret\"]"))
            .await
            .is_err(),
        "a replayed cookie shows the key again"
    );
    assert!(!c.source().await.unwrap().contains(&secret[..16]));
    browser.close().await;

    // Cognito now asks for a code from the new authenticator, and accepts it.
    assert!(app.sign_in_with_totp(&user, &secret).await);
}

#[tokio::test]
async fn the_page_after_an_unknown_name_is_the_page_after_a_known_one_in_every_language() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    let browser = Browser::start().await;
    for lang in ["en", "de", "es"] {
        let mut pages = Vec::new();
        for name in [user.username.as_str(), "nobody-by-this-name"] {
            browser
                .client
                .goto(&format!("{}/recover?lang={lang}", app.address))
                .await
                .unwrap();
            browser.fill("username", name).await;
            browser.submit().await;
            let html = browser.client.source().await.unwrap();
            // Everything but the name typed and the form's CSRF token.
            let csrf = browser
                .client
                .find(Locator::Css("input[name=\"csrf\"]"))
                .await
                .unwrap()
                .attr("value")
                .await
                .unwrap()
                .unwrap();
            pages.push(html.replace(name, "NAME").replace(&csrf, "CSRF"));
        }
        assert!(
            pages[0].contains(&format!("lang=\"{lang}\"")),
            "{}",
            pages[0]
        );
        assert_eq!(pages[0], pages[1], "{lang}");
        browser.look(&format!("unknown-name-{lang}")).await;
    }
    browser.close().await;
}

/// A page session lives 30 minutes (on the service's clock): a form posted later is refused as
/// expired, and nothing is done with it.
#[tokio::test]
async fn a_page_session_ends_after_thirty_minutes() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&format!("{}/recover", app.address)).await.unwrap();
    app.advance(Duration::from_secs(30 * 60));
    browser.fill("username", &user.username).await;
    browser.submit().await;
    let alert = c
        .find(Locator::Css("[role=\"alert\"]"))
        .await
        .expect("an error");
    assert!(alert
        .text()
        .await
        .unwrap()
        .contains("This form has expired"));
    let recoveries: i64 = sqlx::query_scalar("SELECT count(*) FROM recoveries")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(recoveries, 0, "nothing was asked for");
    browser.close().await;
}

#[tokio::test]
async fn a_form_posted_without_its_csrf_token_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    let response = app
        .http
        .post(format!("{}/recover", app.address))
        .form(&[("username", user.username.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let recoveries: i64 = sqlx::query_scalar("SELECT count(*) FROM recoveries")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(recoveries, 0);

    // A page of words, not a problem body, for a path that does not exist.
    let missing = app
        .http
        .get(format!("{}/recover/nowhere", app.address))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert!(missing
        .text()
        .await
        .unwrap()
        .contains("There is no such page"));
}

#[tokio::test]
async fn the_code_emails_link_lets_someone_who_has_a_code_confirm_in_another_browser() {
    let app = TestApp::spawn_with(
        AppOptions::default().set("PUBLIC_BASE_URL", "https://recovery.example.com"),
    )
    .await;
    let user = app.create_user().await;
    assert_eq!(app.request_recovery(&user.username).await.status(), 202);
    let email = app.wait_for_email(&user.email, 1).await;
    let body = email.body.clone().unwrap();
    assert!(
        body.contains("https://recovery.example.com/recover/code"),
        "the email links to where the code is typed: {body}"
    );

    // The link's path, on this test's service.
    let browser = Browser::start().await;
    browser
        .client
        .goto(&format!("{}/recover/code", app.address))
        .await
        .unwrap();
    assert_eq!(browser.h1().await, "Enter your recovery code");
    browser.fill("username", &user.username).await;
    browser.fill("code", &email.code()).await;
    browser.fill("password", &user.password).await;
    browser.submit().await;
    let secret: String = browser
        .text_of("totp-secret")
        .await
        .split_whitespace()
        .collect();
    browser.look("code-from-the-email-link").await;
    browser.close().await;
    assert_eq!(secret.len(), 32);
    // Typing the name there did not ask for a new code: the one emailed still was the only one.
    assert_eq!(
        app.emails_to(&user.email).await.len(),
        1 + 1,
        "the code email and the notice"
    );
}

impl Browser {
    /// Signs `account` in to the staff console at `base`, through the test provider's page,
    /// after forgetting whoever was signed in (the provider's cookies and the console's).
    async fn staff_sign_in(&self, base: &str, account: &crate::helpers::StaffAccount) {
        let c = &self.client;
        c.goto(&format!("{base}/staff")).await.unwrap();
        c.delete_all_cookies().await.unwrap();
        c.goto(&format!("{base}/staff")).await.unwrap();
        self.fill("login", &account.sub).await;
        self.submit().await;
        assert_eq!(self.text_of("staff-name").await, account.email);
    }
}

#[tokio::test]
async fn the_support_desk_an_approver_and_an_auditor_do_their_jobs_in_the_browser() {
    const SUPPORT: &str = "mfa-recovery-support";
    let app = TestApp::spawn_with(
        AppOptions::default()
            .staff_console()
            .set("SUPPORT_REQUIRE_APPROVAL", true),
    )
    .await;
    let user = app.create_user().await;
    let agent = app.staff_account(&[SUPPORT], &["pwd", "otp"]).await;
    let approver = app
        .staff_account(&["mfa-recovery-approvers"], &["pwd", "hwk"])
        .await;
    let auditor = app
        .staff_account(&["mfa-recovery-auditors"], &["mfa"])
        .await;
    let base = app.staff_address.clone().unwrap();
    let browser = Browser::start().await;
    let c = &browser.client;

    // The agent finds the user by email and starts a recovery with their grounds.
    browser.staff_sign_in(&base, &agent).await;
    browser.look("staff-1-console").await;
    // The console's listener serves the pages' stylesheet too (a page without it is unusable
    // on a phone).
    let width = c
        .execute(
            "return getComputedStyle(document.querySelector('main')).maxWidth",
            vec![],
        )
        .await
        .unwrap();
    assert_ne!(width, serde_json::json!("none"), "styled");
    browser.fill("username", &user.email).await;
    browser.submit().await;
    let hint = browser.text_of("user-email-hint").await;
    assert_eq!(hint, format!("{}***@example.com", &user.email[..1]));
    assert!(browser
        .text_of("user-factors")
        .await
        .contains("Authenticator app (TOTP)"));
    browser.look("staff-2-user").await;
    browser.fill("reason", "lost phone on a train").await;
    browser.fill("ticket", "INC-31337").await;
    c.find(Locator::Css(
        "select[name=\"verification\"] option[value=\"call_back\"]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    browser.submit().await;
    assert_eq!(
        browser.text_of("recovery-status").await,
        "awaiting_approval"
    );
    browser.look("staff-3-recovery").await;
    app.run_pending_jobs().await;
    assert!(
        app.emails_to(&user.email).await.is_empty(),
        "not before approval"
    );

    // A second person approves it; only then does the code go out.
    browser.staff_sign_in(&base, &approver).await;
    c.goto(&format!("{base}/staff/approvals")).await.unwrap();
    browser.look("staff-4-approvals").await;
    browser.click_through("[data-testid=\"approve\"]").await;
    let code = app.wait_for_email(&user.email, 1).await.code();
    assert_eq!(
        app.confirm(&user.username, &code, &user.password)
            .await
            .status(),
        200
    );

    // The auditor sees the agent's name and reason in the log, and an intact chain.
    app.chained().await;
    browser.staff_sign_in(&base, &auditor).await;
    c.goto(&format!("{base}/staff")).await.unwrap();
    browser.click_through("a[href=\"/staff/audit\"]").await;
    browser.fill("username", &user.username).await;
    browser.submit().await;
    browser.look("staff-5-audit").await;
    let rows = c
        .find_all(Locator::Css("[data-testid=\"audit-event\"]"))
        .await
        .unwrap();
    let mut texts = Vec::new();
    for row in rows {
        texts.push(row.text().await.unwrap());
    }
    let requested = texts
        .iter()
        .find(|t| t.starts_with("recovery.requested"))
        .unwrap_or_else(|| panic!("the request in {texts:?}"));
    assert!(requested.contains(&agent.email), "{requested}");
    assert!(
        requested.contains("reason: lost phone on a train"),
        "{requested}"
    );
    let approved = texts
        .iter()
        .find(|t| t.starts_with("support.approved"))
        .unwrap_or_else(|| panic!("the approval in {texts:?}"));
    assert!(approved.contains(&approver.email), "{approved}");
    assert!(browser
        .text_of("chain-state")
        .await
        .contains("The chain is intact"));

    // The service accounts integrations use, with who created them.
    app.staff_key("siem-export", "auditor").await;
    c.goto(&format!("{base}/staff")).await.unwrap();
    browser
        .click_through("a[href=\"/staff/service-accounts\"]")
        .await;
    assert_eq!(browser.text_of("created-by").await, "the test's setup");
    browser.look("staff-6-service-accounts").await;
    // A page of another role says so, with the way back.
    c.goto(&format!("{base}/staff/approvals")).await.unwrap();
    browser.look("staff-7-not-in-group").await;
    c.goto(&format!("{base}/staff")).await.unwrap();
    browser
        .click_through("form[action=\"/staff/sign-out\"] button")
        .await;
    browser.look("staff-8-signed-out").await;
    browser.close().await;
}

/// A German, a Spanish and an English speaker each recover from their code email's link on the
/// operator's branded pages, in their language from the email to the last page; every page of
/// the journey and every page that shows a problem (a bad link, an unknown page, the cancel
/// page and its refusal) is checked by axe at both sizes and photographed per language.
#[tokio::test]
async fn every_speaker_recovers_from_the_emails_link_on_branded_accessible_pages() {
    let dir = std::env::temp_dir().join(format!("brand-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let logo = dir.join("logo.svg");
    std::fs::write(
        &logo,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="64" height="32"><rect width="64" height="32" rx="6" fill="#ffffff"/><circle cx="16" cy="16" r="10" fill="#8a1538"/></svg>"##,
    )
    .unwrap();
    let app = TestApp::spawn_with(
        AppOptions::default()
            .set("PUBLIC_BASE_URL", "https://recovery.example.com")
            .set("BRAND_NAME", "Example Corp")
            .set("BRAND_ACCENT_COLOR", "#8a1538")
            .set("BRAND_LOGO_FILE", logo.display())
            .set("SUPPORT_CONTACT", "help@corp.example, +1 555 0100"),
    )
    .await;
    let browser = Browser::start().await;
    let c = &browser.client;
    for (lang, check_email, enrolled) in [
        ("de", "Sehen Sie in Ihr E-Mail-Postfach", "Alles erledigt"),
        ("es", "Revise su correo electrónico", "Todo listo"),
        ("en", "Check your email", "You are all set"),
    ] {
        let user = app.create_user().await;
        // The browser asks for English: the language picked on the page wins.
        c.goto(&format!("{}/recover?lang={lang}", app.address))
            .await
            .unwrap();
        assert_eq!(browser.lang().await, lang);
        browser.look(&format!("{lang}-1-start")).await;
        browser.submit().await;
        browser.look(&format!("{lang}-2-start-no-name")).await;
        browser.fill("username", &user.username).await;
        browser.submit().await;
        assert_eq!(browser.h1().await, check_email);
        browser.look(&format!("{lang}-3-check-email")).await;

        // The email's link opens the page in the email's language.
        let path = app
            .wait_for_email(&user.email, 1)
            .await
            .link("/recover/link");
        assert!(path.ends_with(&format!("lang={lang}")), "{path}");
        c.delete_all_cookies().await.unwrap();
        c.goto(&format!("{}{path}", app.address)).await.unwrap();
        assert_eq!(browser.lang().await, lang);
        browser.look(&format!("{lang}-4-link")).await;
        browser.fill("password", &user.password).await;
        browser.submit().await;
        assert_eq!(
            browser.lang().await,
            lang,
            "the redirect keeps the language"
        );
        let secret: String = browser
            .text_of("totp-secret")
            .await
            .split_whitespace()
            .collect();
        browser.look(&format!("{lang}-5-enrol")).await;
        let wrong = crate::helpers::other_totp(&totp_now(&secret));
        browser.fill("totp_code", &wrong).await;
        browser.submit().await;
        browser.look(&format!("{lang}-6-enrol-wrong-code")).await;
        browser.fill("totp_code", &totp_now(&secret)).await;
        browser.submit().await;
        browser.text_of("enrolled").await;
        assert_eq!(browser.h1().await, enrolled);
        browser.look(&format!("{lang}-7-enrolled")).await;

        // The other ways in, and pages that show a problem, with how to reach support.
        let fake = "A".repeat(43);
        for (name, path) in [
            ("8-bad-link", "/recover/link?token=nope".to_owned()),
            ("9-not-found", "/recover/nowhere".to_owned()),
            ("9-have-code", "/recover/code".to_owned()),
            ("9-resume", format!("/recover/enrol?token={fake}")),
            ("10-cancel", format!("/v1/recovery/cancel?token={fake}")),
        ] {
            let separator = if path.contains('?') { '&' } else { '?' };
            c.goto(&format!("{}{path}{separator}lang={lang}", app.address))
                .await
                .unwrap();
            assert_eq!(browser.lang().await, lang, "{name}");
            browser.look(&format!("{lang}-{name}")).await;
        }
        browser.submit().await;
        let help = browser.text_of("support-contact").await;
        assert!(help.contains("help@corp.example"), "{help}");
        browser.look(&format!("{lang}-11-cancel-refused")).await;
        assert!(app.sign_in_with_totp(&user, &secret).await);
    }
    browser.close().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The whole journey with the keyboard alone: Tab reaches every field in order, Enter sends
/// each form, and the new authenticator is set up.
#[tokio::test]
async fn the_journey_works_with_the_keyboard_alone() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&format!("{}/recover", app.address)).await.unwrap();
    // The username field has the focus when the page opens.
    browser.keys(&user.username).await;
    browser.enter().await;
    assert_eq!(browser.h1().await, "Check your email");
    let code = app.wait_for_email(&user.email, 1).await.code();
    // The code field has the focus; Tab goes on to the password.
    browser.keys(&code).await;
    browser.tab_to("password").await;
    browser.keys(&user.password).await;
    browser.enter().await;
    let secret: String = browser
        .text_of("totp-secret")
        .await
        .split_whitespace()
        .collect();
    // Past the key and the app link, Tab reaches the code from the new authenticator.
    browser.tab_to("totp_code").await;
    browser.keys(&totp_now(&secret)).await;
    browser.enter().await;
    browser.text_of("enrolled").await;
    assert!(app.sign_in_with_totp(&user, &secret).await);
    browser.close().await;
}

/// A reset that waits, in every language: the page says it is scheduled, the notice's link opens
/// the cancel page in the request's language, and the page after cancelling says it stopped;
/// each checked by axe at both sizes.
#[tokio::test]
async fn a_scheduled_reset_is_announced_and_stopped_in_every_language() {
    let app = TestApp::spawn_with(
        AppOptions::default()
            .set("PUBLIC_BASE_URL", "https://recovery.example.com")
            .set("RECOVERY_RESET_DELAY_SECONDS", 3600),
    )
    .await;
    let browser = Browser::start().await;
    let c = &browser.client;
    for (lang, stopped) in [("de", "Gestoppt"), ("es", "Detenido"), ("en", "Stopped")] {
        let user = app.create_user().await;
        browser.confirm_with_emailed_code(&app, &user, lang).await;
        assert_eq!(browser.lang().await, lang);
        browser.look(&format!("{lang}-scheduled")).await;

        let path = app
            .wait_for_email(&user.email, 2)
            .await
            .link("/v1/recovery/cancel");
        assert!(path.ends_with(&format!("lang={lang}")), "{path}");
        c.goto(&format!("{}{path}", app.address)).await.unwrap();
        assert_eq!(browser.lang().await, lang);
        browser.submit().await;
        assert_eq!(browser.h1().await, stopped);
        browser.look(&format!("{lang}-cancelled")).await;
    }
    browser.close().await;
}

/// A user who also has email MFA: after the reset, the page asks for the code the sign-in just
/// emailed (saying where it went), refuses a wrong one in words, then shows the new
/// authenticator; each page checked by axe.
#[tokio::test]
async fn a_user_with_email_mfa_types_the_emailed_code_on_the_page_then_enrols() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    app.enable_email_mfa(&user).await;
    let browser = Browser::start().await;
    let c = &browser.client;
    browser.confirm_with_emailed_code(&app, &user, "de").await;
    assert_eq!(
        browser.h1().await,
        "Geben Sie den Code ein, den wir gerade gesendet haben"
    );
    let page = c.source().await.unwrap();
    assert!(
        page.contains(&format!("{}***@e***", &user.email[..1])),
        "{page}"
    );
    browser.look("de-sign-in-code").await;
    let (_, sent) = app.mfa_code_sent(&user).await.expect("a code was emailed");
    browser.fill("sign_in_code", "00000000").await;
    browser.submit().await;
    let alert = c.find(Locator::Css("[role=\"alert\"]")).await.unwrap();
    assert!(alert.text().await.unwrap().contains("nicht der Code"));
    browser.look("de-sign-in-code-wrong").await;
    browser.fill("sign_in_code", &sent).await;
    browser.submit().await;
    let secret: String = browser
        .text_of("totp-secret")
        .await
        .split_whitespace()
        .collect();
    browser.fill("totp_code", &totp_now(&secret)).await;
    browser.submit().await;
    browser.text_of("enrolled").await;
    assert!(app.sign_in_with_totp(&user, &secret).await);
    browser.close().await;
}

#[tokio::test]
async fn a_user_with_a_passkey_ends_with_no_passkey_they_chose_to_remove() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    app.register_passkey_named(&user, "Lost phone").await;
    app.register_passkey_named(&user, "Laptop").await;
    let browser = Browser::start().await;
    let c = &browser.client;
    browser.confirm_with_emailed_code(&app, &user, "es").await;
    let secret: String = browser
        .text_of("totp-secret")
        .await
        .split_whitespace()
        .collect();
    browser.fill("totp_code", &totp_now(&secret)).await;
    browser.submit().await;
    browser.text_of("enrolled").await;
    let listed = browser.text_of("passkeys").await;
    assert!(
        listed.contains("Lost phone") && listed.contains("Laptop"),
        "{listed}"
    );
    browser.look("es-passkeys").await;

    // One button per passkey, named after it for a screen reader.
    browser
        .click_through("button[aria-label=\"Eliminar Lost phone\"]")
        .await;
    assert_eq!(
        browser.text_of("passkeys-status").await,
        "Llave de acceso eliminada."
    );
    let listed = browser.text_of("passkeys").await;
    assert!(
        !listed.contains("Lost phone") && listed.contains("Laptop"),
        "{listed}"
    );
    let left: Vec<String> = app
        .passkeys(&user)
        .await
        .into_iter()
        .map(|(_, name)| name)
        .collect();
    assert_eq!(left, ["Laptop"]);
    browser.look("es-passkey-removed").await;

    browser
        .click_through("[data-testid=\"passkeys-done\"]")
        .await;
    let status = browser.text_of("passkeys-status").await;
    assert!(
        status.starts_with("Se cerró su sesión en todas partes"),
        "{status}"
    );
    assert!(c
        .find(Locator::Css("[data-testid=\"passkeys\"]"))
        .await
        .is_err());
    browser.text_of("enrolled").await;
    browser.look("es-passkeys-finished").await;
    assert_eq!(app.live_tokens(&user).await, 0, "signed out everywhere");
    assert!(app.sign_in_with_totp(&user, &secret).await);
    browser.close().await;
}
