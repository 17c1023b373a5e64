//! The staff console: people sign in as themselves through the company's OpenID Connect
//! provider (a real one: oidc-provider), with a second factor, into a server-side session.

use std::time::Duration;

use crate::helpers::{AppOptions, StaffBrowser, TestApp};

const SUPPORT: &str = "mfa-recovery-support";
const AUDITORS: &str = "mfa-recovery-auditors";

async fn console() -> TestApp {
    TestApp::spawn_with(AppOptions::default().staff_console()).await
}

/// The details of the chained events of `action` caused by `actor` (`staff:<name>`).
async fn details_by(app: &TestApp, actor: &str, action: &str) -> Vec<String> {
    app.chained().await;
    sqlx::query_scalar(
        "SELECT coalesce(detail, '') FROM audit_events WHERE action = $1 AND actor = $2 ORDER BY seq",
    )
    .bind(action)
    .bind(actor)
    .fetch_all(&app.db)
    .await
    .unwrap()
}

async fn open_sessions(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM staff_sessions WHERE ended_at IS NULL")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_support_agent_signs_in_with_a_second_factor_and_signing_out_ends_the_session() {
    let app = console().await;
    let agent = app
        .staff_account(&[SUPPORT, "everyone"], &["pwd", "otp"])
        .await;
    let browser = app.staff_browser();

    let page = browser.sign_in(&agent).await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.url().path(), "/staff");
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!(r#"data-testid="staff-name">{}<"#, agent.email)),
        "{html}"
    );
    assert!(html.contains("Support desk"), "{html}");
    assert!(
        !html.contains("Auditor:"),
        "no role it was not given: {html}"
    );
    assert_eq!(open_sessions(&app).await, 1);
    let actor = format!("staff:{}", agent.email);
    let details = details_by(&app, &actor, "staff.signed_in").await;
    assert_eq!(details.len(), 1, "{details:?}");
    assert!(
        details[0].contains(&agent.sub) && details[0].contains("amr pwd otp"),
        "{details:?}"
    );

    // The session is the server's: opening the console again needs no sign-in.
    let again = browser.open().await;
    assert_eq!(again.url().path(), "/staff");
    let csrf = StaffBrowser::csrf(&again.text().await.unwrap());

    // A forged sign-out (no CSRF token) ends nothing.
    assert_eq!(browser.sign_out("forged").await.status(), 403);
    assert_eq!(open_sessions(&app).await, 1);
    let out = browser.sign_out(&csrf).await;
    assert_eq!(out.status(), 200);
    assert_eq!(open_sessions(&app).await, 0);
    assert_eq!(details_by(&app, &actor, "staff.signed_out").await.len(), 1);
    // Signed out: /staff starts a new sign-in at the provider.
    let response = browser.get("/staff").await;
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with(&app.env.oidc_issuer),
        "to the provider: {location}"
    );
    for needed in [
        "code_challenge_method=S256",
        "state=",
        "nonce=",
        "code_challenge=",
    ] {
        assert!(location.contains(needed), "{needed} in {location}");
    }
}

#[tokio::test]
async fn a_sign_in_without_a_second_factor_or_a_console_group_opens_nothing() {
    let app = console().await;
    let password_only = app.staff_account(&[SUPPORT], &["pwd"]).await;
    let page = app.staff_browser().sign_in(&password_only).await;
    assert_eq!(page.status(), 403);
    assert!(page.text().await.unwrap().contains("second factor"));

    let outsider = app.staff_account(&["sales"], &["pwd", "hwk"]).await;
    let page = app.staff_browser().sign_in(&outsider).await;
    assert_eq!(page.status(), 403);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("not in any of the groups"));

    assert_eq!(open_sessions(&app).await, 0);
    app.chained().await;
    let refused: Vec<String> = sqlx::query_scalar(
        "SELECT detail FROM audit_events WHERE action = 'staff.sign_in_refused' ORDER BY seq",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(
        refused[0].contains("no second factor (amr: pwd)"),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_callback_this_browser_did_not_start_is_refused() {
    let app = console().await;
    let agent = app.staff_account(&[AUDITORS], &["mfa"]).await;
    // Someone else's browser started a sign-in; its callback lands in a browser that started
    // none (login CSRF): refused before any code is exchanged.
    let theirs = app.staff_browser();
    let started = theirs.get("/staff").await;
    let authorize = started.headers()["location"].to_str().unwrap().to_owned();
    let state = authorize
        .split("state=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let mine = app.staff_browser();
    let page = mine
        .get(&format!("/staff/callback?code=x&state={state}"))
        .await;
    assert_eq!(page.status(), 400);
    assert!(page.text().await.unwrap().contains("Start again"));

    // In the browser that started it, a wrong state is refused too, and the sign-in it started
    // cannot be finished after that (its state works once).
    let page = theirs.get("/staff/callback?code=x&state=wrong").await;
    assert_eq!(page.status(), 400);
    assert_eq!(open_sessions(&app).await, 0);
    // A fresh sign-in in the same browser works.
    let page = theirs.sign_in(&agent).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Auditor"));
}

#[tokio::test]
async fn a_session_ends_after_fifteen_idle_minutes() {
    let app = console().await;
    let agent = app.staff_account(&[SUPPORT], &["pwd", "swk"]).await;
    let browser = app.staff_browser();
    assert_eq!(browser.sign_in(&agent).await.status(), 200);
    app.advance(Duration::from_secs(14 * 60));
    assert_eq!(browser.open().await.url().path(), "/staff", "still in");
    app.advance(Duration::from_secs(15 * 60 + 1));
    let response = browser.get("/staff").await;
    assert_eq!(response.status(), 303, "idle for 15 minutes: sign in again");
}

#[tokio::test]
async fn a_person_who_loses_a_role_at_the_provider_loses_it_at_their_next_request() {
    let app = console().await;
    let person = app
        .staff_account(&[SUPPORT, AUDITORS], &["pwd", "otp"])
        .await;
    let browser = app.staff_browser();
    assert_eq!(browser.sign_in(&person).await.status(), 200);
    // Each request renews the sign-in (the provider rotates its refresh token every time).
    for _ in 0..3 {
        assert_eq!(browser.get("/staff/audit").await.status(), 200);
    }

    app.set_staff_groups(&person, &[SUPPORT]).await;
    assert_eq!(
        browser.get("/staff/audit").await.status(),
        403,
        "no longer an auditor"
    );
    let page = browser.open().await;
    assert_eq!(
        page.url().path(),
        "/staff",
        "still support: still signed in"
    );
    let csrf = StaffBrowser::csrf(&page.text().await.unwrap());
    assert_eq!(browser.find(&csrf, "nobody-here").await.status(), 404);
    let actor = format!("staff:{}", person.email);
    let changed = details_by(&app, &actor, "staff.roles_changed").await;
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert!(
        changed[0].contains("support auditor → support"),
        "{changed:?}"
    );

    // Out of every console group: signed out, and a form asks to sign in again.
    app.set_staff_groups(&person, &["sales"]).await;
    assert_eq!(browser.find(&csrf, "nobody-here").await.status(), 401);
    assert_eq!(open_sessions(&app).await, 0);
    let ended = details_by(&app, &actor, "staff.session_ended").await;
    assert_eq!(ended.len(), 1, "{ended:?}");
    assert!(
        ended[0].contains("no longer in any of the console's groups"),
        "{ended:?}"
    );
    assert_eq!(
        browser.get("/staff").await.status(),
        303,
        "to sign in again"
    );
}

#[tokio::test]
async fn a_person_removed_from_the_provider_is_signed_out_at_their_next_request() {
    let app = console().await;
    let person = app.staff_account(&[SUPPORT], &["pwd", "otp"]).await;
    let browser = app.staff_browser();
    let page = browser.sign_in(&person).await;
    let csrf = StaffBrowser::csrf(&page.text().await.unwrap());

    app.remove_staff_account(&person).await;
    assert_eq!(browser.find(&csrf, "nobody-here").await.status(), 401);
    assert_eq!(open_sessions(&app).await, 0);
    let ended = details_by(
        &app,
        &format!("staff:{}", person.email),
        "staff.session_ended",
    )
    .await;
    assert_eq!(ended.len(), 1, "{ended:?}");
    assert!(
        ended[0].contains("no longer renews the sign-in"),
        "{ended:?}"
    );
}

#[tokio::test]
async fn without_a_refresh_token_the_roles_of_the_sign_in_hold_until_its_id_token_expires() {
    // The test provider's ID tokens last 600 s.
    let app = TestApp::spawn_with(AppOptions::default().staff_console_without_refresh()).await;
    let person = app.staff_account(&[SUPPORT], &["pwd", "otp"]).await;
    let browser = app.staff_browser();
    assert_eq!(browser.sign_in(&person).await.status(), 200);
    let actor = format!("staff:{}", person.email);
    let signed_in = details_by(&app, &actor, "staff.signed_in").await;
    assert!(
        signed_in[0].contains("no refresh token: roles held until the ID token expires"),
        "{signed_in:?}"
    );

    app.advance(Duration::from_secs(9 * 60));
    assert_eq!(browser.get("/staff").await.status(), 200);
    app.advance(Duration::from_secs(61));
    assert_eq!(
        browser.get("/staff").await.status(),
        303,
        "the ID token expired: sign in again"
    );
    let ended = details_by(&app, &actor, "staff.session_ended").await;
    assert_eq!(ended.len(), 1, "{ended:?}");
    assert!(ended[0].contains("gave no refresh token"), "{ended:?}");
}

#[tokio::test]
async fn a_session_survives_a_killed_and_restarted_service() {
    let app = TestApp::spawn().await;
    let staff = app.staff_console_settings().await;
    let base = staff
        .iter()
        .find(|(name, _)| name == "STAFF_BASE_URL")
        .map(|(_, value)| value.clone())
        .unwrap();
    let db_url = crate::helpers::create_database(&app.env.admin_db_url).await;
    let service = app.start_binary_with(&db_url, &staff).await;
    let agent = app.staff_account(&[SUPPORT], &["pwd", "otp"]).await;
    let browser = StaffBrowser::at(&base);
    let page = browser.sign_in(&agent).await;
    assert_eq!(page.status(), 200);

    // SIGKILL: nothing is flushed, nothing said goodbye.
    service.stop();
    let _service = app.start_binary_with(&db_url, &staff).await;
    let page = browser.open().await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.url().path(), "/staff", "no new sign-in");
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!(r#"data-testid="staff-name">{}<"#, agent.email)),
        "{html}"
    );
}
