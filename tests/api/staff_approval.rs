//! A second approver (`SUPPORT_REQUIRE_APPROVAL`): a recovery the support desk starts emails its
//! code only after a different person in the approver group approves it in the console.

use std::time::Duration;

use crate::helpers::{AppOptions, StaffBrowser, TestApp};

const SUPPORT: &str = "mfa-recovery-support";
const APPROVERS: &str = "mfa-recovery-approvers";

async fn with_approval() -> TestApp {
    TestApp::spawn_with(
        AppOptions::default()
            .staff_console()
            .set("SUPPORT_REQUIRE_APPROVAL", true),
    )
    .await
}

/// The agent starts a recovery for `username`; its id.
async fn start(browser: &StaffBrowser, csrf: &str, username: &str) -> String {
    let started = browser
        .post(
            "/staff/recoveries",
            &[
                ("csrf", csrf),
                ("username", username),
                ("reason", "lost phone"),
                ("verification", "call_back"),
            ],
        )
        .await;
    assert_eq!(started.status(), 303);
    let location = started.headers()["location"].to_str().unwrap().to_owned();
    let page = browser.follow(started).await.text().await.unwrap();
    assert!(
        page.contains(r#"data-testid="recovery-status">awaiting_approval<"#),
        "{page}"
    );
    location.rsplit('/').next().unwrap().to_owned()
}

async fn approvals(browser: &StaffBrowser) -> String {
    let page = browser.get("/staff/approvals").await;
    assert_eq!(page.status(), 200);
    page.text().await.unwrap()
}

#[tokio::test]
async fn the_code_goes_out_only_once_a_second_person_approves() {
    let app = with_approval().await;
    let user = app.create_user().await;
    // The agent is an approver too: still not for their own request.
    let (agent, agent_csrf, agent_email) = app.signed_in_staff(&[SUPPORT, APPROVERS]).await;
    let id = start(&agent, &agent_csrf, &user.username).await;

    app.run_pending_jobs().await;
    assert!(
        app.emails_to(&user.email).await.is_empty(),
        "no code before approval"
    );

    let mine = approvals(&agent).await;
    assert!(
        mine.contains(&format!(r#"data-recovery-id="{id}""#)),
        "{mine}"
    );
    assert!(!mine.contains(r#"data-testid="approve""#), "{mine}");
    let refused = agent
        .post(&format!("/staff/approvals/{id}"), &[("csrf", &agent_csrf)])
        .await;
    assert_eq!(refused.status(), 403);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("You started this recovery"));
    app.run_pending_jobs().await;
    assert!(app.emails_to(&user.email).await.is_empty());

    // Only approvers see the list.
    let (desk_only, _, _) = app.signed_in_staff(&[SUPPORT]).await;
    let page = desk_only.get("/staff/approvals").await;
    assert_eq!(page.status(), 403);

    let (approver, csrf, approver_email) = app.signed_in_staff(&[APPROVERS]).await;
    let list = approvals(&approver).await;
    assert!(list.contains(r#"data-testid="approve""#), "{list}");
    assert!(list.contains(&agent_email), "who started it: {list}");
    let approved = approver
        .post(&format!("/staff/approvals/{id}"), &[("csrf", &csrf)])
        .await;
    assert_eq!(approved.status(), 303);
    let code = app.wait_for_email(&user.email, 1).await.code();
    let confirmed = app.confirm(&user.username, &code, &user.password).await;
    assert_eq!(confirmed.status(), 200);

    // Approved once; both people are in the log.
    let again = approver
        .post(&format!("/staff/approvals/{id}"), &[("csrf", &csrf)])
        .await;
    assert_eq!(again.status(), 409);
    app.chained().await;
    let events: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT action, actor, detail FROM audit_events
         WHERE action IN ('recovery.requested', 'support.approved', 'support.refused')
           AND recovery_id IS NOT DISTINCT FROM $1::uuid OR (action = 'support.refused' AND username = $2)
         ORDER BY seq",
    )
    .bind(&id)
    .bind(&user.username)
    .fetch_all(&app.db)
    .await
    .unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        actions,
        ["recovery.requested", "support.refused", "support.approved"],
        "{events:?}"
    );
    assert!(events[0].2.ends_with("awaiting approval"), "{events:?}");
    assert_eq!(events[1].1, format!("staff:{agent_email}"));
    assert_eq!(events[2].1, format!("staff:{approver_email}"));
    assert!(
        events[2]
            .2
            .starts_with(&format!("started by {agent_email};")),
        "{events:?}"
    );
}

#[tokio::test]
async fn an_unapproved_recovery_lapses_and_sends_nothing() {
    let app = with_approval().await;
    let user = app.create_user().await;
    let (agent, csrf, _) = app.signed_in_staff(&[SUPPORT]).await;
    let id = start(&agent, &csrf, &user.username).await;
    // The default wait is an hour.
    app.advance(Duration::from_secs(61 * 60));
    let (approver, csrf, _) = app.signed_in_staff(&[APPROVERS]).await;
    let list = approvals(&approver).await;
    assert!(!list.contains(&id), "lapsed: {list}");
    let refused = approver
        .post(&format!("/staff/approvals/{id}"), &[("csrf", &csrf)])
        .await;
    assert_eq!(refused.status(), 409);
    assert!(refused.text().await.unwrap().contains("expired"));
    app.run_pending_jobs().await;
    assert!(app.emails_to(&user.email).await.is_empty());
}
