//! The support desk in the staff console: a person signed in through the company's provider
//! finds a user, starts a recovery with a reason, a ticket and how the caller was verified,
//! follows and cancels it, and clears a lock; never on their own account, never without the
//! support group or the session's CSRF token.

use crate::helpers::{AppOptions, TestApp, UserOptions};

const SUPPORT: &str = "mfa-recovery-support";
const AUDITORS: &str = "mfa-recovery-auditors";

async fn console() -> TestApp {
    TestApp::spawn_with(AppOptions::default().staff_console()).await
}

async fn recoveries_of(app: &TestApp, username: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM recoveries WHERE username = $1")
        .bind(username)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn events(app: &TestApp, action: &str, username: &str) -> Vec<(String, String)> {
    app.chained().await;
    sqlx::query_as(
        "SELECT actor, coalesce(detail, '') FROM audit_events WHERE action = $1 AND username = $2 ORDER BY seq",
    )
    .bind(action)
    .bind(username)
    .fetch_all(&app.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn an_agent_finds_a_user_by_email_and_starts_a_recovery_with_their_grounds() {
    let app = console().await;
    let (browser, csrf, agent_email) = app.signed_in_staff(&[SUPPORT]).await;
    let user = app.create_user().await;

    // Found by the email on the account: masked contacts and factors, never the address.
    let page = browser.find(&csrf, &user.email).await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.unwrap();
    let hint = format!("{}***@example.com", &user.email[..1]);
    assert!(
        html.contains(&format!(r#"data-testid="user-email-hint">{hint}<"#)),
        "{html}"
    );
    assert!(html.contains(&format!(
        r#"data-testid="user-username">{}<"#,
        user.username
    )));
    let factors = html.split(r#"data-testid="user-factors""#).nth(1).unwrap();
    assert!(factors.contains("Authenticator app (TOTP)"), "{html}");
    assert!(!html.contains(&user.email), "only a hint of the address");
    let lookups = events(&app, "support.lookup", &user.username).await;
    assert_eq!(lookups.len(), 1, "looking is audited: {lookups:?}");
    assert_eq!(lookups[0].0, format!("staff:{agent_email}"));

    // Without a reason, nothing starts; what was typed stays.
    let start = |reason: &'static str| {
        let (browser, csrf, username) = (&browser, csrf.clone(), user.username.clone());
        async move {
            browser
                .post(
                    "/staff/recoveries",
                    &[
                        ("csrf", &csrf),
                        ("username", &username),
                        ("reason", reason),
                        ("ticket", "INC-4242"),
                        ("verification", "call_back"),
                    ],
                )
                .await
        }
    };
    let refused = start("  ").await;
    assert_eq!(refused.status(), 400);
    let html = refused.text().await.unwrap();
    assert!(html.contains("A reason is required"), "{html}");
    assert!(html.contains(r#"value="INC-4242""#), "{html}");
    assert!(html.contains(r#"value="call_back" selected"#), "{html}");
    assert_eq!(recoveries_of(&app, &user.username).await, 0);

    let started = start("lost phone, called from a café").await;
    assert_eq!(started.status(), 303);
    let location = started.headers()["location"].to_str().unwrap().to_owned();
    let recovery_id = location
        .strip_prefix("/staff/recoveries/")
        .unwrap()
        .to_owned();
    uuid::Uuid::parse_str(&recovery_id).unwrap();

    // The user gets the code; the agent's pages never show it.
    let code = app.wait_for_email(&user.email, 1).await.code();
    // The timeline shows the chained events (the sequencer chains them as they come).
    app.chained().await;
    let page = browser.follow(started).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(!html.contains(&code));
    assert!(
        html.contains(r#"data-testid="recovery-status">code_sent<"#),
        "{html}"
    );
    assert!(
        html.contains(r#"data-testid="recovery-ticket">INC-4242<"#),
        "{html}"
    );
    assert!(html.contains("recovery.code_sent"), "the timeline: {html}");

    // The person, their session and their grounds are on the recovery and its events.
    let (ticket, verification): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT ticket, verification FROM recoveries WHERE id = $1::uuid")
            .bind(&recovery_id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(ticket.as_deref(), Some("INC-4242"));
    assert_eq!(verification.as_deref(), Some("call_back"));
    let requested = events(&app, "recovery.requested", &user.username).await;
    assert_eq!(requested.len(), 1, "{requested:?}");
    let (actor, detail) = &requested[0];
    assert_eq!(actor, &format!("staff:{agent_email}"));
    for needed in [
        "reason: lost phone, called from a café",
        "ticket: INC-4242",
        "caller verified: call-back to the number on file",
        "through console session ",
    ] {
        assert!(detail.contains(needed), "{needed} in {detail}");
    }

    // Cancelled from its page: the code stops working.
    let cancelled = browser
        .post(&format!("{location}/cancel"), &[("csrf", &csrf)])
        .await;
    assert_eq!(cancelled.status(), 303);
    let html = browser.follow(cancelled).await.text().await.unwrap();
    assert!(
        html.contains(r#"data-testid="recovery-status">cancelled<"#),
        "{html}"
    );
    assert!(
        !html.contains("Cancel this recovery"),
        "nothing left to cancel"
    );
    let confirm = app.confirm(&user.username, &code, &user.password).await;
    assert_eq!(confirm.status(), 400);
}

#[tokio::test]
async fn an_agent_cannot_start_a_recovery_or_clear_a_lock_on_their_own_account() {
    let app = console().await;
    let (browser, csrf, agent_email) = app.signed_in_staff(&[SUPPORT]).await;
    // The agent is also a user of the pool, under a username of their own.
    let own = app
        .create_user_with(UserOptions {
            email: Some(agent_email.clone()),
            ..UserOptions::default()
        })
        .await;

    let page = browser.find(&csrf, &own.username).await;
    assert_eq!(page.status(), 200, "they may look");
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"data-testid="own-account""#), "{html}");
    assert!(
        !html.contains(r#"action="/staff/recoveries""#),
        "no start form: {html}"
    );

    // A crafted form is refused as well, and the attempt is audited.
    for path in ["/staff/recoveries", "/staff/users/unlock"] {
        let refused = browser
            .post(
                path,
                &[
                    ("csrf", &csrf),
                    ("username", &own.username),
                    ("reason", "please"),
                    ("verification", "manager"),
                ],
            )
            .await;
        assert_eq!(refused.status(), 403, "{path}");
        let html = refused.text().await.unwrap();
        assert!(html.contains("your own account"), "{html}");
    }
    assert_eq!(recoveries_of(&app, &own.username).await, 0);

    // A colleague starts one for them; they may not cancel it either (matched by the email
    // Cognito holds, not only the username).
    let (colleague, colleague_csrf, _) = app.signed_in_staff(&[SUPPORT]).await;
    let started = colleague
        .post(
            "/staff/recoveries",
            &[
                ("csrf", &colleague_csrf),
                ("username", &own.username),
                ("reason", "locked out"),
            ],
        )
        .await;
    assert_eq!(started.status(), 303);
    let location = started.headers()["location"].to_str().unwrap().to_owned();
    let refused = browser
        .post(&format!("{location}/cancel"), &[("csrf", &csrf)])
        .await;
    assert_eq!(refused.status(), 403);

    let refusals = events(&app, "support.refused", &own.username).await;
    assert_eq!(refusals.len(), 3, "{refusals:?}");
    assert_eq!(refusals[0].0, format!("staff:{agent_email}"));
    assert!(refusals[0].1.contains("the agent's own"), "{refusals:?}");
}

#[tokio::test]
async fn the_desk_needs_a_session_in_the_support_group_and_its_csrf_token() {
    let app = console().await;
    let user = app.create_user().await;

    // An auditor is not the support desk.
    let (auditor, csrf, _) = app.signed_in_staff(&[AUDITORS]).await;
    let home = auditor.open().await.text().await.unwrap();
    assert!(
        !home.contains(r#"action="/staff/users""#),
        "no search form: {home}"
    );
    let refused = auditor.find(&csrf, &user.username).await;
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap().contains("do not include"));
    let path = format!("/staff/recoveries/{}", uuid::Uuid::new_v4());
    let refused = auditor.get(&path).await;
    assert_eq!(refused.status(), 403);

    // An agent's form without the session's token does nothing.
    let (agent, csrf, _) = app.signed_in_staff(&[SUPPORT]).await;
    let forged = agent.find("forged", &user.username).await;
    assert_eq!(forged.status(), 403);
    let forged = agent
        .post(
            "/staff/recoveries",
            &[
                ("csrf", "forged"),
                ("username", &user.username),
                ("reason", "r"),
                ("verification", "manager"),
            ],
        )
        .await;
    assert_eq!(forged.status(), 403);
    assert_eq!(recoveries_of(&app, &user.username).await, 0);
    assert!(events(&app, "support.lookup", &user.username)
        .await
        .is_empty());

    // No session: a form asks to sign in again; a page sends there.
    let stranger = app.staff_browser();
    let refused = stranger.find(&csrf, &user.username).await;
    assert_eq!(refused.status(), 401);
    let sent = stranger.get(&path).await;
    assert_eq!(sent.status(), 303);
    assert_eq!(sent.headers()["location"], "/staff");

    // A user the pool does not have, and an email several users share.
    let missing = agent.find(&csrf, "nobody-at-all").await;
    assert_eq!(missing.status(), 404);
    let shared = "shared-inbox@example.com";
    for _ in 0..2 {
        app.create_user_with(UserOptions {
            email: Some(shared.to_owned()),
            ..UserOptions::default()
        })
        .await;
    }
    let several = agent.find(&csrf, shared).await;
    assert_eq!(several.status(), 409);
    assert!(several
        .text()
        .await
        .unwrap()
        .contains("2 users have this email"));
}

#[tokio::test]
async fn an_agent_clears_a_lock_with_their_grounds() {
    let app = console().await;
    let (browser, csrf, agent_email) = app.signed_in_staff(&[SUPPORT]).await;
    let user = app.create_user().await;
    for _ in 0..2 {
        let wrong = app
            .confirm(&user.username, "00000000", &user.password)
            .await;
        assert_eq!(wrong.status(), 400);
    }
    let page = browser
        .post(
            "/staff/users/unlock",
            &[
                ("csrf", &csrf),
                ("username", &user.username),
                ("reason", "locked out after typos"),
                ("verification", "other"),
                (
                    "verification_detail",
                    "video call, face matched the HR photo",
                ),
            ],
        )
        .await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Lock cleared: 2 wrong confirmations forgotten."),
        "{html}"
    );
    let cleared = events(&app, "support.lock_cleared", &user.username).await;
    assert_eq!(cleared.len(), 1, "{cleared:?}");
    assert_eq!(cleared[0].0, format!("staff:{agent_email}"));
    assert!(
        cleared[0]
            .1
            .contains("caller verified: other: video call, face matched the HR photo"),
        "{cleared:?}"
    );
}
