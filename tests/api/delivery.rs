//! Crash safety. Codes go out in the order commit, send, mark sent: every emailed code works the
//! moment it arrives, and a service killed between the send and the mark sends one fresh, working
//! code. And a reset, once Cognito may have removed the token, always completes, unasked, even
//! when the service is killed in the middle of it.

use std::time::Duration;

use crate::helpers::{
    create_database, find_code, wait_until_jobs_done, AppOptions, SignIn, TestApp,
};

/// The audit chain's lock (src/store/audit.rs): holding it stalls every audit append.
const CHAIN_LOCK: i64 = 0x6d66_615f_6175_6469;

/// Polls the inbox (without running jobs in this process) until it holds `n` emails.
async fn inbox(app: &TestApp, email: &str, n: usize) -> Vec<String> {
    for _ in 0..300 {
        let emails = app.emails_to(email).await;
        if emails.len() >= n {
            return emails
                .iter()
                .map(|e| find_code(e.body.as_deref().unwrap()).expect("a code"))
                .collect();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{email} did not receive {n} email(s)");
}

#[tokio::test]
async fn an_emailed_code_is_committed_before_it_leaves() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    assert_eq!(app.request_recovery(&user.username).await.status(), 202);
    // Every audit append now waits: the job cannot record its "code sent" until we let go.
    let mut holder = app.db.begin().await.unwrap();
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(CHAIN_LOCK)
        .execute(&mut *holder)
        .await
        .unwrap();
    let code = inbox(&app, &user.email, 1).await.remove(0);
    let (status, has_hash): (String, bool) =
        sqlx::query_as("SELECT status, code_hash IS NOT NULL FROM recoveries")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!((status.as_str(), has_hash), ("code_sent", true));
    holder.rollback().await.unwrap();
    app.confirm_ok(&user.username, &code, &user.password).await;
}

#[tokio::test]
async fn a_service_killed_after_the_send_but_before_the_mark_sends_one_fresh_working_code() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    let db_url = create_database(&app.env.admin_db_url).await;
    let binary = app.start_binary_on(&db_url).await;
    let db = sqlx::PgPool::connect(&db_url).await.unwrap();

    // Every new connection to AWS waits 2 s: the lookup, then SendEmail.
    app.proxy.slow_down(Duration::from_secs(2));
    let seen = app.proxy.connections();
    let response = app
        .http
        .post(format!("{}/v1/recovery", binary.address))
        .json(&serde_json::json!({"username": user.username}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    app.proxy.wait_for_connection_after(seen + 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // SIGKILL while SendEmail is on its way: SES still gets it, the service never learns.
    binary.stop();
    let first = inbox(&app, &user.email, 1).await.remove(0);
    app.proxy.slow_down(Duration::ZERO);

    let restarted = app.start_binary_on(&db_url).await;

    let codes = inbox(&app, &user.email, 2).await;
    wait_until_jobs_done(&db).await;
    assert_eq!(codes.len(), 2, "one fresh code after the restart");
    let confirm = |code: &str| {
        app.http
            .post(format!("{}/v1/recovery/confirm", restarted.address))
            .json(&serde_json::json!({"username": user.username, "code": code, "password": user.password}))
            .send()
    };
    assert_eq!(
        confirm(&first).await.unwrap().status(),
        400,
        "the unmarked code died"
    );
    let response = confirm(&codes[1]).await.unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let sent: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = 'recovery.code_sent'")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(sent, 1, "the email that was marked");
    restarted.stop();
}

#[tokio::test]
async fn a_service_killed_right_after_the_token_deletion_finishes_the_reset_on_restart() {
    let app =
        TestApp::spawn_with(AppOptions::default().set("RECOVERY_RESET_LEASE_SECONDS", 2)).await;
    let user = app.create_user().await;
    let db_url = create_database(&app.env.admin_db_url).await;
    let binary = app.start_binary_on(&db_url).await;
    let db = sqlx::PgPool::connect(&db_url).await.unwrap();
    let response = app
        .http
        .post(format!("{}/v1/recovery", binary.address))
        .json(&serde_json::json!({"username": user.username}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let code = inbox(&app, &user.email, 1).await.remove(0);

    // Confirm; the moment Cognito has deleted the token, Cognito stops answering the service
    // and the service is killed (SIGKILL): sessions still alive, no notice, nothing recorded.
    let confirm = app
        .http
        .post(format!("{}/v1/recovery/confirm", binary.address))
        .json(&serde_json::json!({"username": user.username, "code": code, "password": user.password}))
        .send();
    let confirming = tokio::spawn(confirm);
    for _ in 0..400 {
        if !app
            .mfa_settings(&user)
            .await
            .contains(&"SOFTWARE_TOKEN_MFA".to_owned())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    app.proxy.slow_down(Duration::from_secs(30));
    binary.stop();
    let _ = confirming.await;
    app.proxy.slow_down(Duration::ZERO);
    assert!(!app
        .mfa_settings(&user)
        .await
        .contains(&"SOFTWARE_TOKEN_MFA".to_owned()));

    // Restarted, the service finishes the reset without being asked.
    let restarted = app.start_binary_on(&db_url).await;
    let notice = app.wait_for_email(&user.email, 2).await;
    assert!(
        notice.subject.as_deref().unwrap().contains("was removed"),
        "{:?}",
        notice.subject
    );
    wait_until_jobs_done(&db).await;
    let count = |action: &'static str| {
        let db = db.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM audit_events WHERE action = $1")
                .bind(action)
                .fetch_one(&db)
                .await
                .unwrap()
        }
    };
    assert_eq!(count("mfa.reset").await, 1);
    assert_eq!(count("sessions.revoked").await, 1);
    assert_eq!(
        app.sign_in(&user).await,
        SignIn::Challenge("MFA_SETUP".into())
    );
    // The person who did everything right retries with the same code: 200, once.
    let retry = || {
        app.http
            .post(format!("{}/v1/recovery/confirm", restarted.address))
            .json(&serde_json::json!({"username": user.username, "code": code, "password": user.password}))
            .send()
    };
    let response = retry().await.unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    assert_eq!(
        retry().await.unwrap().status(),
        400,
        "then the code is used"
    );
    restarted.stop();
}

#[tokio::test]
async fn a_holder_whose_lease_ran_out_cannot_complete_fail_or_release_a_reset_taken_over() {
    use mfa_recovery::store::recoveries;
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    app.code_for(&user).await;
    let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM recoveries")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let mut conn = app.db.acquire().await.unwrap();
    let stale = recoveries::claim_for_reset(&mut conn, id, 1)
        .await
        .unwrap()
        .expect("claimed");
    assert!(recoveries::claim_for_reset(&mut conn, id, 1)
        .await
        .unwrap()
        .is_none());
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let fresh = recoveries::take_over_reset(&mut conn, id, 60)
        .await
        .unwrap()
        .expect("taken over once the lease ran out");
    // The stale holder's writes are all refused: its claim id is no longer the recovery's.
    assert!(!recoveries::fail_reset(&mut conn, id, stale)
        .await
        .unwrap()
        .applied());
    assert!(!recoveries::complete(&mut conn, id, stale, None)
        .await
        .unwrap()
        .applied());
    recoveries::hand_over_reset(&mut conn, id, stale)
        .await
        .unwrap();
    assert!(
        recoveries::take_over_reset(&mut conn, id, 60)
            .await
            .unwrap()
            .is_none(),
        "the new holder's lease is intact"
    );
    assert!(recoveries::complete(&mut conn, id, fresh, None)
        .await
        .unwrap()
        .applied());
}
