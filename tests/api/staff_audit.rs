//! The auditors in the staff console: the events an agent caused, with the person and their
//! grounds, the chain's state, one recovery's timeline and downloads; every read recorded.

use crate::audit::tamper;
use crate::helpers::{AppOptions, StaffBrowser, TestApp};

const SUPPORT: &str = "mfa-recovery-support";
const AUDITORS: &str = "mfa-recovery-auditors";

async fn get(browser: &StaffBrowser, path: &str) -> reqwest::Response {
    browser
        .http
        .get(format!("{}{path}", browser.base))
        .send()
        .await
        .unwrap()
}

fn rows(html: &str) -> usize {
    html.matches(r#"data-testid="audit-event""#).count()
}

#[tokio::test]
async fn an_auditor_sees_who_started_a_recovery_and_why_and_that_the_chain_is_intact() {
    let app = TestApp::spawn_with(AppOptions::default().staff_console()).await;
    let user = app.create_user().await;
    let (desk, csrf, agent_email) = app.signed_in_staff(&[SUPPORT]).await;
    let started = desk
        .post(
            "/staff/recoveries",
            &[
                ("csrf", &csrf),
                ("username", &user.username),
                ("reason", "phone fell in the Rhine"),
                ("ticket", "INC-9"),
                ("verification", "in_person"),
            ],
        )
        .await;
    assert_eq!(started.status(), 303);
    let recovery_id = started.headers()["location"]
        .to_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    app.wait_for_email(&user.email, 1).await;
    app.chained().await;

    // The support desk does not read the log.
    assert_eq!(get(&desk, "/staff/audit").await.status(), 403);

    let (auditor, _, auditor_email) = app.signed_in_staff(&[AUDITORS]).await;
    let home = auditor.open().await.text().await.unwrap();
    assert!(home.contains(r#"href="/staff/audit""#), "{home}");
    let page = get(
        &auditor,
        &format!("/staff/audit?username={}", user.username),
    )
    .await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.unwrap();
    assert!(rows(&html) >= 2, "requested and code_sent: {html}");
    let requested = html
        .split(r#"data-testid="audit-event""#)
        .skip(1)
        .find(|row| row.contains("recovery.requested"))
        .expect("the request's event");
    assert!(
        requested.contains(&format!("staff:{agent_email}")),
        "{requested}"
    );
    assert!(
        requested
            .contains("reason: phone fell in the Rhine; ticket: INC-9; caller verified: in person"),
        "{requested}"
    );
    let chain = html.split(r#"data-testid="chain-state""#).nth(1).unwrap();
    assert!(chain.starts_with(r#" data-intact="true""#), "{chain}");
    assert!(chain.contains("The chain is intact"), "{chain}");

    // One recovery's timeline: its events only.
    let html = get(&auditor, &format!("/staff/audit?recovery_id={recovery_id}"))
        .await
        .text()
        .await
        .unwrap();
    let timeline = rows(&html);
    assert!(timeline >= 2, "{html}");
    assert_eq!(
        html.matches(&format!(">Recovery {recovery_id}<")).count(),
        timeline
    );

    // Downloads of the same filter.
    let csv = get(
        &auditor,
        &format!("/staff/audit/events.csv?recovery_id={recovery_id}"),
    )
    .await;
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let csv = csv.text().await.unwrap();
    assert_eq!(
        csv.lines().count(),
        timeline + 1,
        "a header and each event: {csv}"
    );
    assert!(csv.contains("phone fell in the Rhine"));
    let jsonl = get(
        &auditor,
        &format!("/staff/audit/events.jsonl?recovery_id={recovery_id}"),
    )
    .await
    .text()
    .await
    .unwrap();
    let events: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(events.len(), timeline);
    assert!(events
        .iter()
        .all(|e| e["recovery_id"] == recovery_id.as_str()));

    // A filter that is not valid says why.
    let refused = get(&auditor, "/staff/audit?since=yesterday").await;
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("RFC 3339"));

    // Every read is itself in the log, with the person and their session.
    app.chained().await;
    let reads: Vec<String> = sqlx::query_scalar(
        "SELECT detail FROM audit_events WHERE action = 'audit.read' AND actor = $1 ORDER BY seq",
    )
    .bind(format!("staff:{auditor_email}"))
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(reads.len(), 4, "two views and two downloads: {reads:?}");
    assert!(
        reads.iter().all(|r| r.contains("through console session ")),
        "{reads:?}"
    );
}

#[tokio::test]
async fn the_auditors_page_names_the_first_event_that_was_changed() {
    let app = TestApp::spawn_with(AppOptions::default().staff_console()).await;
    let (auditor, _, _) = app.signed_in_staff(&[AUDITORS]).await;
    let user = app.create_user().await;
    app.request_recovery(&user.username).await;
    app.wait_for_email(&user.email, 1).await;
    app.chained().await;
    let target: i64 =
        sqlx::query_scalar("SELECT min(seq) FROM audit_events WHERE action = 'recovery.requested'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    tamper(
        &app,
        &[format!(
            "UPDATE audit_events SET detail = 'nothing happened' WHERE seq = {target}"
        )],
    )
    .await;
    let html = get(&auditor, "/staff/audit").await.text().await.unwrap();
    let chain = html.split(r#"data-testid="chain-state""#).nth(1).unwrap();
    assert!(chain.starts_with(r#" data-intact="false""#), "{chain}");
    assert!(
        chain.contains(&format!("The chain is broken at event {target}:")),
        "{chain}"
    );
}
