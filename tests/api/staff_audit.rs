//! The auditors in the staff console: the events an agent caused, with the person and their
//! grounds, the chain's state, one recovery's timeline and downloads; every read recorded.

use crate::audit::tamper;
use crate::helpers::{AppOptions, StaffBrowser, TestApp};

const SUPPORT: &str = "mfa-recovery-support";
const AUDITORS: &str = "mfa-recovery-auditors";

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
    assert_eq!(desk.get("/staff/audit").await.status(), 403);

    let (auditor, _, auditor_email) = app.signed_in_staff(&[AUDITORS]).await;
    let home = auditor.open().await.text().await.unwrap();
    assert!(home.contains(r#"href="/staff/audit""#), "{home}");
    let page = auditor
        .get(&format!("/staff/audit?username={}", user.username))
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
    let html = auditor
        .get(&format!("/staff/audit?recovery_id={recovery_id}"))
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
    let csv = auditor
        .get(&format!(
            "/staff/audit/events.csv?recovery_id={recovery_id}"
        ))
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
    let jsonl = auditor
        .get(&format!(
            "/staff/audit/events.jsonl?recovery_id={recovery_id}"
        ))
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
    let refused = auditor.get("/staff/audit?since=yesterday").await;
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

/// A console with an auditor signed in, and one user's recovery (its code emailed) in the log.
async fn auditor_with_a_recovery() -> (TestApp, StaffBrowser) {
    let app = TestApp::spawn_with(AppOptions::default().staff_console()).await;
    let (auditor, _, _) = app.signed_in_staff(&[AUDITORS]).await;
    let user = app.create_user().await;
    app.request_recovery(&user.username).await;
    app.wait_for_email(&user.email, 1).await;
    app.chained().await;
    (app, auditor)
}

#[tokio::test]
async fn the_auditors_page_names_the_first_event_that_was_changed() {
    let (app, auditor) = auditor_with_a_recovery().await;
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
    let html = auditor.get("/staff/audit").await.text().await.unwrap();
    let chain = html.split(r#"data-testid="chain-state""#).nth(1).unwrap();
    assert!(chain.starts_with(r#" data-intact="false""#), "{chain}");
    assert!(
        chain.contains(&format!("The chain is broken at event {target}:")),
        "{chain}"
    );
}

/// The page verifies what was added since the newest published checkpoint (it published one at
/// the head when it was last shown); an event changed before that checkpoint is found by the
/// whole walk the page links to.
#[tokio::test]
async fn the_auditors_page_verifies_since_the_newest_checkpoint_and_offers_the_whole_walk() {
    let (app, auditor) = auditor_with_a_recovery().await;
    let html = auditor.get("/staff/audit").await.text().await.unwrap();
    assert!(html.contains(r#"data-testid="verify-full""#), "{html}");
    let checkpoint: i64 =
        sqlx::query_scalar("SELECT seq FROM audit_checkpoints ORDER BY id DESC LIMIT 1")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let target: i64 =
        sqlx::query_scalar("SELECT min(seq) FROM audit_events WHERE action = 'recovery.requested'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(target <= checkpoint);
    tamper(
        &app,
        &[format!(
            "UPDATE audit_events SET detail = 'nothing happened' WHERE seq = {target}"
        )],
    )
    .await;
    app.chained().await;
    let html = auditor.get("/staff/audit").await.text().await.unwrap();
    let chain = html.split(r#"data-testid="chain-state""#).nth(1).unwrap();
    assert!(chain.starts_with(r#" data-intact="true""#), "{chain}");
    assert!(
        chain.contains(&format!(
            "intact after the checkpoint at event {checkpoint}"
        )),
        "{chain}"
    );
    let html = auditor
        .get("/staff/audit?verify=full")
        .await
        .text()
        .await
        .unwrap();
    let chain = html.split(r#"data-testid="chain-state""#).nth(1).unwrap();
    assert!(chain.starts_with(r#" data-intact="false""#), "{chain}");
    assert!(
        chain.contains(&format!("The chain is broken at event {target}:")),
        "{chain}"
    );
    assert!(!chain.contains(r#"data-testid="verify-full""#), "{chain}");
}

/// The key `staff add` printed (its last line), failing with its stderr otherwise.
fn printed_key(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_owned()
}

/// The page's entry (`data-testid="service-account"`) of the service account `name`.
fn entry<'a>(html: &'a str, name: &str) -> &'a str {
    html.split(r#"data-testid="service-account""#)
        .find(|e| e.contains(&format!("<h2>{name}</h2>")))
        .unwrap_or_else(|| panic!("{name} listed: {html}"))
}

#[tokio::test]
async fn an_auditor_sees_every_service_account_with_who_created_it_and_the_log_names_its_key() {
    let app = TestApp::spawn_with(AppOptions::default().staff_console()).await;
    let siem = printed_key(
        app.cli(&[
            "staff",
            "add",
            "--name",
            "siem-export",
            "--role",
            "auditor",
            "--expires-in",
            "90d",
            "--by",
            "ops-lead@corp.example",
            "--purpose",
            "SIEM export",
        ])
        .await,
    );
    printed_key(
        app.cli_as(
            Some("sam"),
            &["staff", "add", "--name", "old-desk", "--role", "support"],
        )
        .await,
    );
    assert!(app
        .cli(&["staff", "revoke", "--name", "old-desk"])
        .await
        .status
        .success());
    // The staff APIs answer on the staff listener, beside the console.
    let verify = reqwest::Client::new()
        .get(format!(
            "{}/v1/audit/verify",
            app.staff_address.as_ref().unwrap()
        ))
        .bearer_auth(&siem)
        .send()
        .await
        .unwrap();
    assert_eq!(verify.status(), 200);

    let (auditor, _, auditor_email) = app.signed_in_staff(&[AUDITORS]).await;
    let home = auditor.get("/staff").await.text().await.unwrap();
    assert!(home.contains(r#"href="/staff/service-accounts""#), "{home}");
    let page = auditor.get("/staff/service-accounts").await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.unwrap();
    assert_eq!(
        html.matches(r#"data-testid="service-account""#).count(),
        2,
        "{html}"
    );
    let siem_entry = entry(&html, "siem-export");
    assert!(
        siem_entry.contains(r#"data-testid="created-by">ops-lead@corp.example<"#)
            && siem_entry.contains("SIEM export")
            && siem_entry.contains("Active until")
            && siem_entry.contains("auditor"),
        "{siem_entry}"
    );
    let old_entry = entry(&html, "old-desk");
    assert!(
        old_entry.contains(r#"data-testid="created-by">sam (operating-system account)<"#)
            && old_entry.contains("Revoked at"),
        "{old_entry}"
    );
    assert!(!html.contains(&siem[4..]), "never the key");

    // The audit log names the key by the id the page shows.
    let key_id = siem_entry
        .split("<code>")
        .nth(1)
        .and_then(|rest| rest.split("</code>").next())
        .unwrap()
        .to_owned();
    assert_eq!(key_id.len(), 8, "{siem_entry}");
    app.chained().await;
    let read_with_key: String = sqlx::query_scalar(
        "SELECT detail FROM audit_events WHERE action = 'audit.read' AND actor = 'staff:siem-export'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(
        read_with_key.ends_with(&format!("through service account key {key_id}")),
        "{read_with_key}"
    );
    let added: Vec<String> = sqlx::query_scalar(
        "SELECT detail FROM audit_events WHERE action = 'staff.added' ORDER BY seq",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert!(
        added[0].contains(&format!("key {key_id} created by ops-lead@corp.example"))
            && added[0].contains("for: SIEM export"),
        "{added:?}"
    );
    // Looking is recorded, with the person.
    let listed: Vec<String> = sqlx::query_scalar(
        "SELECT detail FROM audit_events WHERE action = 'audit.read' AND actor = $1",
    )
    .bind(format!("staff:{auditor_email}"))
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert!(
        listed
            .iter()
            .any(|d| d.starts_with("service accounts: 2 key(s) listed")),
        "{listed:?}"
    );

    // Only auditors see them.
    let (desk, _, _) = app.signed_in_staff(&[SUPPORT]).await;
    assert_eq!(desk.get("/staff/service-accounts").await.status(), 403);
}
