//! Crash safety. Codes go out in the order commit, send, mark sent: every emailed code works the
//! moment it arrives, and a service killed between the send and the mark sends one fresh, working
//! code. And a reset, once Cognito may have removed the token, always completes, unasked, even
//! when the service is killed in the middle of it.

use std::time::Duration;

use sqlx::PgPool;

use crate::helpers::{
    assert_problem, create_database, eventually, find_code, wait_until_every_job_finished,
    wait_until_jobs_done, within_every, Fault, Rule, RunningBinary, SignIn, TestApp, TestUser,
};

/// Polls the inbox (without running jobs in this process) until it holds `n` emails.
async fn inbox(app: &TestApp, email: &str, n: usize) -> Vec<String> {
    let what = format!("{email} receives {n} email(s)");
    eventually(&what, Duration::from_secs(15), || async {
        let emails = app.emails_to(email).await;
        (emails.len() >= n).then(|| {
            emails
                .iter()
                .map(|e| find_code(e.body.as_deref().unwrap()).expect("a code"))
                .collect()
        })
    })
    .await
}

/// While the code email is at SES's door (the call held), the code is already committed and
/// so is its `recovery.code_sent` event: the code works the moment it arrives, and an auditor
/// who looks then sees it.
#[tokio::test]
async fn an_emailed_code_and_its_audit_event_are_committed_before_it_leaves() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    app.proxy.inject(Rule::new("SendEmail", Fault::HoldCall));
    assert_eq!(app.request_recovery(&user.username).await.status(), 202);
    app.proxy.wait_until_held("SendEmail").await;
    let (status, has_hash): (String, bool) =
        sqlx::query_as("SELECT status, code_hash IS NOT NULL FROM recoveries")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!((status.as_str(), has_hash), ("code_sent", true));
    let sent = app
        .audit_details(&user.username, "recovery.code_sent")
        .await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent[0]
            .1
            .contains("committed before its email is handed to SES"),
        "{sent:?}"
    );
    app.proxy.clear();
    let code = inbox(&app, &user.email, 1).await.remove(0);
    app.confirm_ok(&user.username, &code, &user.password).await;
    assert_eq!(
        app.audit_details(&user.username, "recovery.code_sent")
            .await
            .len(),
        1
    );
}

/// The real binary on a database of its own, killed (SIGKILL) and restarted by the test; its
/// jobs run in it, not in the test.
struct Crashable {
    db_url: String,
    db: PgPool,
    binary: Option<RunningBinary>,
}

impl Crashable {
    async fn start(app: &TestApp) -> Self {
        Self::start_on(app, &app.env.admin_db_url).await
    }

    /// On a fresh database of the PostgreSQL server that `admin_url` reaches.
    async fn start_on(app: &TestApp, admin_url: &str) -> Self {
        let db_url = create_database(admin_url).await;
        let binary = app.start_binary_on(&db_url).await;
        let db = PgPool::connect(&db_url).await.unwrap();
        Self {
            db_url,
            db,
            binary: Some(binary),
        }
    }

    fn post(
        &self,
        app: &TestApp,
        path: &str,
        body: serde_json::Value,
    ) -> impl std::future::Future<Output = reqwest::Result<reqwest::Response>> + 'static {
        let address = &self.binary.as_ref().expect("running").address;
        app.http.post(format!("{address}{path}")).json(&body).send()
    }

    async fn request(&self, app: &TestApp, user: &TestUser) -> u16 {
        let body = serde_json::json!({"username": user.username});
        let response = self.post(app, "/v1/recovery", body).await.unwrap();
        response.status().as_u16()
    }

    fn confirm(
        &self,
        app: &TestApp,
        user: &TestUser,
        code: &str,
    ) -> impl std::future::Future<Output = reqwest::Result<reqwest::Response>> + 'static {
        let body =
            serde_json::json!({"username": user.username, "code": code, "password": user.password});
        self.post(app, "/v1/recovery/confirm", body)
    }

    fn kill(&mut self) {
        self.binary.take().expect("running").stop();
    }

    async fn restart(&mut self, app: &TestApp) {
        self.binary = Some(app.start_binary_on(&self.db_url).await);
    }

    async fn count(&self, action: &str) -> i64 {
        mfa_recovery::audit::chain_all_pending(&self.db)
            .await
            .unwrap();
        sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = $1")
            .bind(action)
            .fetch_one(&self.db)
            .await
            .unwrap()
    }
}

/// Kills the service while the call `rule` holds is at the emulator's door (or its answer on
/// the way back), during the issuing of a code; after a restart the inbox holds `emails` code
/// emails in all, the last one works and every earlier one does not, and `issued` codes were
/// audited (each with its code, before its email could leave).
async fn killed_while_issuing_a_code(rule: Rule, emails: usize, issued: i64) {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    let mut service = Crashable::start(&app).await;
    let operation = rule.operation().to_owned();
    app.proxy.inject(rule);
    assert_eq!(service.request(&app, &user).await, 202);
    app.proxy.wait_until_held(&operation).await;
    service.kill();
    app.proxy.clear();

    service.restart(&app).await;
    let codes = inbox(&app, &user.email, emails).await;
    // Every job finished, those due later included: nothing more can be sent or recorded.
    wait_until_every_job_finished(&service.db).await;
    assert_eq!(app.emails_to(&user.email).await.len(), emails);
    assert_eq!(
        service.count("recovery.code_sent").await,
        issued,
        "every code that could have been emailed is audited"
    );
    let (last, earlier) = codes.split_last().unwrap();
    for code in earlier {
        let response = service.confirm(&app, &user, code).await.unwrap();
        assert_eq!(response.status(), 400, "an unmarked code died");
    }
    let response = service.confirm(&app, &user, last).await.unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    service.kill();
}

#[tokio::test]
async fn a_service_killed_during_the_lookup_before_a_code_is_issued_sends_one_working_code() {
    killed_while_issuing_a_code(Rule::new("AdminGetUser", Fault::HoldAnswer), 1, 1).await;
}

#[tokio::test]
async fn a_service_killed_before_the_send_sends_one_working_code() {
    // The first code was committed (and audited) but its email never left: a fresh one is.
    killed_while_issuing_a_code(Rule::new("SendEmail", Fault::HoldCall), 1, 2).await;
}

#[tokio::test]
async fn a_service_killed_after_the_send_but_before_the_mark_sends_one_fresh_working_code() {
    // SES got the email, the service never learnt: that code dies, a fresh one follows.
    killed_while_issuing_a_code(Rule::new("SendEmail", Fault::HoldAnswer), 2, 2).await;
}

/// Kills the service at one Cognito step of a confirmed reset (the call `rule` holds); after a
/// restart the reset completes unasked, exactly once: one `mfa.reset`, one `devices.forgotten`,
/// one `sessions.revoked`, one notice, the lost phone's authenticator and both remembered
/// devices gone, and the person who did everything right gets 200 when they retry with the
/// same code.
async fn killed_during_a_reset(rule: Rule) {
    // The default lease (RECOVERY_RESET_LEASE_SECONDS, 10 s), renewed while the reset is held.
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    // The lost phone and a laptop, both remembered: each would skip MFA.
    assert_eq!(app.remember_devices(&user, 2).await.len(), 2);
    let mut service = Crashable::start(&app).await;
    assert_eq!(service.request(&app, &user).await, 202);
    let code = inbox(&app, &user.email, 1).await.remove(0);

    let operation = rule.operation().to_owned();
    app.proxy.inject(rule);
    let confirming = tokio::spawn(service.confirm(&app, &user, &code));
    app.proxy.wait_until_held(&operation).await;
    service.kill();
    let _ = confirming.await;
    app.proxy.clear();
    // One job finishes the reset, due when the dead holder's lease ends: at most a lease (the
    // default) after the kill, whatever the holder renewed before.
    let (jobs, due_in, lease_left): (i64, f64, f64) = sqlx::query_as(
        "SELECT count(*), max(extract(epoch FROM j.run_at - now()))::float8,
                max(extract(epoch FROM r.claimed_until - now()))::float8
         FROM jobs j JOIN recoveries r ON r.id = j.recovery_id
         WHERE j.kind = 'finish_reset'",
    )
    .fetch_one(&service.db)
    .await
    .unwrap();
    assert_eq!(jobs, 1, "one finish_reset job");
    assert!(
        due_in <= 10.0 && lease_left <= 10.0,
        "due in {due_in} s, the lease ends in {lease_left} s"
    );

    service.restart(&app).await;
    let notice = app.wait_for_email(&user.email, 2).await;
    assert!(
        notice.subject.as_deref().unwrap().contains("was removed"),
        "{:?}",
        notice.subject
    );
    // Every job finished, those due later included: nothing more can be sent or recorded.
    wait_until_every_job_finished(&service.db).await;
    assert_eq!(service.count("mfa.reset").await, 1);
    assert_eq!(service.count("devices.forgotten").await, 1);
    assert_eq!(app.devices(&user).await, Vec::<String>::new());
    assert_eq!(service.count("sessions.revoked").await, 1);
    assert_eq!(app.emails_to(&user.email).await.len(), 2, "one notice");
    assert_eq!(
        app.sign_in(&user).await,
        SignIn::Challenge("MFA_SETUP".into())
    );
    let response = service.confirm(&app, &user, &code).await.unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let response = service.confirm(&app, &user, &code).await.unwrap();
    assert_eq!(response.status(), 400, "then the code is used");
    service.kill();
}

#[tokio::test]
async fn a_service_killed_before_the_token_deletion_finishes_the_reset_on_restart() {
    killed_during_a_reset(Rule::new("AdminDeleteSoftwareToken", Fault::HoldCall)).await;
}

#[tokio::test]
async fn a_service_killed_right_after_the_token_deletion_finishes_the_reset_on_restart() {
    killed_during_a_reset(Rule::new("AdminDeleteSoftwareToken", Fault::HoldAnswer)).await;
}

#[tokio::test]
async fn a_service_killed_after_the_preference_change_finishes_the_reset_on_restart() {
    killed_during_a_reset(Rule::new("AdminSetUserMFAPreference", Fault::HoldAnswer)).await;
}

#[tokio::test]
async fn a_service_killed_during_the_read_back_finishes_the_reset_on_restart() {
    // A confirmation's one AdminGetUser reads the reset back.
    killed_during_a_reset(Rule::new("AdminGetUser", Fault::HoldAnswer)).await;
}

#[tokio::test]
async fn a_service_killed_while_listing_remembered_devices_finishes_the_reset_on_restart() {
    killed_during_a_reset(Rule::new("AdminListDevices", Fault::HoldAnswer)).await;
}

#[tokio::test]
async fn a_service_killed_before_a_device_is_forgotten_finishes_the_reset_on_restart() {
    killed_during_a_reset(Rule::new("AdminForgetDevice", Fault::HoldCall)).await;
}

#[tokio::test]
async fn a_service_killed_after_one_of_two_devices_is_forgotten_finishes_the_reset_on_restart() {
    // The first AdminForgetDevice reached Cognito, its answer did not reach the service.
    killed_during_a_reset(Rule::new("AdminForgetDevice", Fault::HoldAnswer)).await;
}

#[tokio::test]
async fn a_service_killed_before_the_sign_out_finishes_the_reset_on_restart() {
    killed_during_a_reset(Rule::new("AdminUserGlobalSignOut", Fault::HoldCall)).await;
}

#[tokio::test]
async fn a_service_killed_after_the_sign_out_finishes_the_reset_on_restart() {
    killed_during_a_reset(Rule::new("AdminUserGlobalSignOut", Fault::HoldAnswer)).await;
}

#[tokio::test]
async fn a_service_killed_during_the_password_check_changes_nothing_and_the_code_still_works() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    let mut service = Crashable::start(&app).await;
    assert_eq!(service.request(&app, &user).await, 202);
    let code = inbox(&app, &user.email, 1).await.remove(0);
    app.proxy
        .inject(Rule::new("AdminInitiateAuth", Fault::HoldAnswer));
    let confirming = tokio::spawn(service.confirm(&app, &user, &code));
    app.proxy.wait_until_held("AdminInitiateAuth").await;
    service.kill();
    let _ = confirming.await;
    app.proxy.clear();

    service.restart(&app).await;
    wait_until_jobs_done(&service.db).await;
    app.assert_totp_still_asked(&user).await;
    assert_eq!(service.count("mfa.reset").await, 0);
    let response = service.confirm(&app, &user, &code).await.unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    service.kill();
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
    // The default lease (RECOVERY_RESET_LEASE_SECONDS), and time passed as the store is told it.
    let lease = 10;
    let now = chrono::Utc::now();
    let stale = recoveries::claim_for_reset(
        &mut conn,
        now,
        id,
        mfa_recovery::domain::Transition::ClaimForReset,
        lease,
    )
    .await
    .unwrap()
    .expect("claimed");
    let during = now + chrono::Duration::seconds(lease - 1);
    assert!(recoveries::claim_for_reset(
        &mut conn,
        during,
        id,
        mfa_recovery::domain::Transition::ClaimForReset,
        lease
    )
    .await
    .unwrap()
    .is_none());
    assert!(recoveries::take_over_reset(&mut conn, during, id, lease)
        .await
        .unwrap()
        .is_none());
    let later = now + chrono::Duration::seconds(lease + 1);
    let fresh = recoveries::take_over_reset(&mut conn, later, id, lease)
        .await
        .unwrap()
        .expect("taken over once the lease ran out");
    // The stale holder's writes are all refused: its claim id is no longer the recovery's.
    assert!(!recoveries::fail_reset(&mut conn, later, id, stale)
        .await
        .unwrap()
        .applied());
    assert!(
        !recoveries::complete(&mut conn, later, id, stale, None, false)
            .await
            .unwrap()
            .applied()
    );
    recoveries::hand_over_reset(&mut conn, later, id, stale)
        .await
        .unwrap();
    assert!(
        recoveries::take_over_reset(&mut conn, later, id, lease)
            .await
            .unwrap()
            .is_none(),
        "the new holder's lease is intact"
    );
    assert!(
        recoveries::complete(&mut conn, later, id, fresh, None, false)
            .await
            .unwrap()
            .applied()
    );
}

/// A PostgreSQL server of the test's own (`scripts/services.sh start-postgres`), which it may
/// crash and start again without disturbing the other tests' server.
struct OwnPostgres {
    dir: std::path::PathBuf,
    admin_url: String,
}

fn services(dir: &std::path::Path, command: &str) {
    let status =
        std::process::Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/services.sh"))
            .arg(command)
            .env("SERVICES_DIR", dir)
            .status()
            .expect("scripts/services.sh runs");
    assert!(status.success(), "services.sh {command}");
}

impl OwnPostgres {
    /// Runs `scripts/services.sh command` for this server, off the test's runtime.
    async fn services(&self, command: &'static str) {
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || services(&dir, command))
            .await
            .unwrap();
    }

    async fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("mfa-pg-{}", uuid::Uuid::new_v4().simple()));
        tokio::task::spawn_blocking(move || {
            let mut pg = Self {
                dir,
                admin_url: String::new(),
            };
            services(&pg.dir, "start-postgres");
            let env = std::fs::read_to_string(pg.dir.join("env")).unwrap();
            pg.admin_url = env
                .lines()
                .find_map(|l| l.strip_prefix("export TEST_DATABASE_URL="))
                .expect("the server's address")
                .to_owned();
            pg
        })
        .await
        .unwrap()
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        services(&self.dir, "stop");
    }
}

/// What the service's probe says: its status code.
async fn readyz(app: &TestApp, service: &Crashable) -> u16 {
    let address = &service.binary.as_ref().unwrap().admin_address;
    match app.http.get(format!("{address}/readyz")).send().await {
        Ok(response) => response.status().as_u16(),
        Err(_) => 0,
    }
}

/// One user's whole recovery against `service`, as a person does it: ask (again while the
/// service says 503), wait for the email, confirm with the newest code (again while it says
/// 503, or with a newer code when one came). Returns the confirm's final status.
async fn recover(app: &TestApp, address: String, user: TestUser) -> u16 {
    let post = |path: &'static str, body: serde_json::Value| {
        app.http
            .post(format!("{address}{path}"))
            .timeout(Duration::from_secs(15))
            .json(&body)
            .send()
    };
    let status =
        |r: reqwest::Result<reqwest::Response>| r.map(|r| r.status().as_u16()).unwrap_or(0);
    // As a person would: again a moment later while the service cannot answer.
    let again = Duration::from_millis(200);
    let requested = within_every(Duration::from_secs(20), again, || async {
        match status(
            post(
                "/v1/recovery",
                serde_json::json!({"username": user.username}),
            )
            .await,
        ) {
            202 => Some(()),
            503 | 0 => None,
            other => panic!("request answered {other}"),
        }
    })
    .await;
    assert!(requested.is_some(), "the request was never accepted");
    let last = std::cell::Cell::new(0);
    let confirmed = within_every(Duration::from_secs(30), again, || async {
        let emails = app.emails_to(&user.email).await;
        let newest = emails.last()?;
        let body = serde_json::json!({"username": user.username, "code": newest.code(), "password": user.password});
        last.set(status(post("/v1/recovery/confirm", body).await));
        match last.get() {
            // Unavailable, or a newer code superseded this one (a request whose answer the
            // crash cut was recorded after all): as a person would, try again.
            503 | 0 | 400 => None,
            other => Some(other),
        }
    })
    .await;
    confirmed.unwrap_or(last.get())
}

#[tokio::test]
async fn the_service_rides_out_a_postgresql_crash_without_a_restart_and_loses_nothing() {
    let app = TestApp::spawn().await;
    let pg = OwnPostgres::start().await;
    let service = Crashable::start_on(&app, &pg.admin_url).await;
    let mut users = Vec::new();
    for _ in 0..6 {
        users.push(app.create_user().await);
    }
    let address = service.binary.as_ref().unwrap().address.clone();
    let flows: Vec<_> = users
        .iter()
        .map(|user| recover(&app, address.clone(), user.clone()))
        .collect();
    let crash = async {
        // Once the recoveries are under way (a first code went out), PostgreSQL crashes.
        eventually(
            "a first code is emailed",
            Duration::from_secs(20),
            || async {
                for user in &users {
                    if !app.emails_to(&user.email).await.is_empty() {
                        return Some(());
                    }
                }
                None
            },
        )
        .await;
        pg.services("crash-postgres").await;
        // The probe tells the truth; a request is answered 503, never 500, never left hanging.
        assert_eq!(readyz(&app, &service).await, 503);
        let response = app
            .http
            .post(format!("{address}/v1/recovery"))
            .json(&serde_json::json!({"username": users[0].username}))
            .send()
            .await
            .unwrap();
        assert!(response.headers().contains_key("retry-after"));
        assert_problem(response, 503, "service_unavailable").await;
        pg.services("resume-postgres").await;
        // Ready again without a restart of its own.
        eventually(
            "ready again after PostgreSQL came back",
            Duration::from_secs(20),
            || async { (readyz(&app, &service).await == 200).then_some(()) },
        )
        .await;
    };
    let (statuses, ()) = tokio::join!(futures::future::join_all(flows), crash);
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");

    wait_until_jobs_done(&service.db).await;
    assert_eq!(service.count("mfa.reset").await, 6, "each reset once");
    assert_eq!(service.count("sessions.revoked").await, 6);
    let half_done: i64 =
        sqlx::query_scalar("SELECT count(*) FROM recoveries WHERE status = 'resetting'")
            .fetch_one(&service.db)
            .await
            .unwrap();
    assert_eq!(half_done, 0);
    for user in &users {
        assert_eq!(
            app.sign_in(user).await,
            SignIn::Challenge("MFA_SETUP".into())
        );
    }
    let verify = std::process::Command::new(env!("CARGO_BIN_EXE_mfa-recovery"))
        .args(["audit", "verify"])
        .env("DATABASE_URL", &service.db_url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}
