use mfa_recovery::audit::{append, Action, AuditEvent, Outcome};
use mfa_recovery::domain::Actor;
use mfa_recovery::settings::Settings;
use mfa_recovery::startup::Application;

use std::time::Duration;

use crate::helpers::{assert_problem, eventually, hold_chain_lock, AppOptions, TestApp};

/// Produces a few dozen chained events.
async fn some_history(app: &TestApp) {
    let user = app.create_user().await;
    let code = app.code_for(&user).await;
    assert_eq!(
        app.confirm(&user.username, &code, &user.password)
            .await
            .status(),
        200
    );
    for name in ["ghost-1", "ghost-2", "ghost-3"] {
        app.request_recovery(name).await;
    }
    app.run_pending_jobs().await;
    app.chained().await;
}

async fn api_verify(app: &TestApp, key: &str) -> serde_json::Value {
    app.chained().await;
    let response = app.get_with_key("/v1/audit/verify", key).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn cli_verify(app: &TestApp) -> (bool, String) {
    let out = app.cli(&["audit", "verify"]).await;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Runs SQL as a superuser who switched off the append-only triggers, as an attacker with
/// database access would.
pub(crate) async fn tamper(app: &TestApp, statements: &[String]) {
    let mut conn = sqlx::PgConnection::connect(&app.db_url).await.unwrap();
    sqlx::query("SET session_replication_role = replica")
        .execute(&mut conn)
        .await
        .unwrap();
    for sql in statements {
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    }
}

use sqlx::Connection;

async fn seqs(app: &TestApp) -> Vec<i64> {
    app.chained().await;
    sqlx::query_scalar("SELECT seq FROM audit_events ORDER BY seq")
        .fetch_all(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_untouched_log_verifies_through_the_api_and_the_cli() {
    let app = TestApp::spawn().await;
    let key = app.staff_key("ada", "auditor").await;
    some_history(&app).await;
    let result = api_verify(&app, &key).await;
    assert_eq!(result["intact"], true, "{result}");
    assert!(result["events"].as_u64().unwrap() >= 8);
    assert_eq!(result["head"].as_str().unwrap().len(), 64);
    let (ok, text) = cli_verify(&app).await;
    assert!(ok, "{text}");
}

#[tokio::test]
async fn the_database_itself_refuses_to_change_or_delete_events() {
    let app = TestApp::spawn().await;
    some_history(&app).await;
    for sql in [
        "UPDATE audit_events SET outcome = 'x'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
    ] {
        let err = sqlx::query(sql)
            .execute(&app.db)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
}

#[tokio::test]
async fn an_edited_event_is_reported_by_both_verify_paths_with_its_seq() {
    let app = TestApp::spawn().await;
    let key = app.staff_key("ada", "auditor").await;
    some_history(&app).await;
    let target = seqs(&app).await[4];
    tamper(
        &app,
        &[format!(
            "UPDATE audit_events SET username = 'someone-else' WHERE seq = {target}"
        )],
    )
    .await;
    let result = api_verify(&app, &key).await;
    assert_eq!(result["intact"], false);
    assert_eq!(result["first_bad_seq"], target);
    let (ok, text) = cli_verify(&app).await;
    assert!(!ok);
    assert!(text.contains(&format!("seq {target}")), "{text}");
}

#[tokio::test]
async fn a_deleted_event_is_reported_at_the_event_after_it() {
    let app = TestApp::spawn().await;
    let key = app.staff_key("ada", "auditor").await;
    some_history(&app).await;
    let all = seqs(&app).await;
    tamper(
        &app,
        &[format!("DELETE FROM audit_events WHERE seq = {}", all[3])],
    )
    .await;
    let result = api_verify(&app, &key).await;
    assert_eq!(result["first_bad_seq"], all[4]);
    let (ok, text) = cli_verify(&app).await;
    assert!(!ok && text.contains(&format!("seq {}", all[4])), "{text}");
}

#[tokio::test]
async fn reordered_events_are_reported() {
    let app = TestApp::spawn().await;
    let key = app.staff_key("ada", "auditor").await;
    some_history(&app).await;
    let all = seqs(&app).await;
    let (a, b) = (all[2], all[5]);
    tamper(
        &app,
        &[
            format!("UPDATE audit_events SET seq = -1 WHERE seq = {a}"),
            format!("UPDATE audit_events SET seq = {a} WHERE seq = {b}"),
            format!("UPDATE audit_events SET seq = {b} WHERE seq = -1"),
        ],
    )
    .await;
    let result = api_verify(&app, &key).await;
    assert_eq!(result["first_bad_seq"], a);
    let (ok, text) = cli_verify(&app).await;
    assert!(!ok && text.contains(&format!("seq {a}")), "{text}");
}

#[tokio::test]
async fn two_hundred_events_appended_concurrently_by_two_instances_keep_the_chain_intact() {
    let app = TestApp::spawn().await;
    let key = app.staff_key("ada", "auditor").await;
    // A second instance of the service on the same database.
    let second = Application::build(Settings::load_from(app.settings_env.clone()).unwrap())
        .await
        .unwrap();
    let second_address = format!("http://127.0.0.1:{}", second.port());
    tokio::spawn(second.run_until_stopped());

    let requests = (0..200).map(|i| {
        let base = if i % 2 == 0 {
            app.address.clone()
        } else {
            second_address.clone()
        };
        let http = app.http.clone();
        async move {
            http.post(format!("{base}/v1/recovery"))
                .json(&serde_json::json!({"username": format!("concurrent-{i}")}))
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    let statuses = futures::future::join_all(requests).await;
    assert!(statuses.iter().all(|s| s.as_u16() == 202));
    app.run_pending_jobs().await;

    let result = api_verify(&app, &key).await;
    assert_eq!(result["intact"], true, "{result}");
    // Each request leaves recovery.requested and recovery.not_eligible.
    assert!(result["events"].as_u64().unwrap() >= 400, "{result}");
}

#[tokio::test]
async fn auditors_filter_and_page_through_events_and_each_query_is_itself_audited() {
    let app = TestApp::spawn().await;
    let key = app.staff_key("ada", "auditor").await;
    some_history(&app).await;

    let page = |query: String| {
        let app = &app;
        let key = key.clone();
        async move {
            // The previous query's own `audit.read` event too.
            app.chained().await;
            let response = app
                .get_with_key(&format!("/v1/audit/events{query}"), &key)
                .await;
            assert_eq!(response.status(), 200);
            response.json::<serde_json::Value>().await.unwrap()
        }
    };
    let first = page("?action=recovery.requested&limit=2".into()).await;
    let events = first["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    for member in [
        "seq",
        "at",
        "action",
        "actor",
        "username",
        "recovery_id",
        "ip",
        "user_agent",
        "outcome",
        "detail",
        "hash",
    ] {
        assert!(events[0].get(member).is_some(), "{member} in {}", events[0]);
    }
    assert!(events.iter().all(|e| e["action"] == "recovery.requested"));
    assert!(events[0]["at"].as_str().unwrap().ends_with('Z'));
    let next = first["next"].as_str().unwrap().to_owned();
    let second = page(format!("?action=recovery.requested&limit=2&after={next}")).await;
    let later = second["events"].as_array().unwrap();
    assert_eq!(later.len(), 2);
    assert!(later[0]["seq"].as_i64().unwrap() > events[1]["seq"].as_i64().unwrap());
    let rest = page(format!(
        "?action=recovery.requested&limit=100&after={}",
        later[1]["seq"]
    ))
    .await;
    assert!(rest["next"].is_null());

    let ghost = page("?username=ghost-2".into()).await;
    assert!(ghost["events"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["username"] == app.redacted("ghost-2").as_str()));
    let none = page("?since=2099-01-01T00:00:00Z".into()).await;
    assert!(none["events"].as_array().unwrap().is_empty());

    let reads = page("?action=audit.read".into()).await;
    let reads = reads["events"].as_array().unwrap();
    assert!(reads.len() >= 5, "every query is recorded");
    assert!(reads.iter().all(|e| e["actor"] == "staff:ada"));

    for bad in [
        "?limit=0",
        "?limit=5000",
        "?limit=x",
        "?since=yesterday",
        "?after=-4",
        // PostgreSQL's text holds no NUL: once a 500 (found by schemathesis).
        "?username=a%00b",
        "?action=mfa%00reset",
    ] {
        assert_problem(
            app.get_with_key(&format!("/v1/audit/events{bad}"), &key)
                .await,
            400,
            "invalid_request",
        )
        .await;
    }
}

#[tokio::test]
async fn csv_exports_quote_hostile_values_and_neutralise_formulas() {
    let app = TestApp::spawn().await;
    let key = app.staff_key("ada", "auditor").await;
    let hostile = [
        ("a,b", "a,b"),
        ("say \"hi\"", "say \"hi\""),
        ("line1\nline2", "line1\nline2"),
        ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
    ];
    // Straight through the store: whatever got into the log, the export must survive it.
    let mut conn = app.db.acquire().await.unwrap();
    for (name, _) in hostile {
        append(
            &mut conn,
            AuditEvent::new(Action::RecoveryRequested, &Actor::User, Outcome::Accepted)
                .username(name),
        )
        .await
        .unwrap();
    }
    drop(conn);
    app.chained().await;

    let response = app
        .http
        .get(format!(
            "{}/v1/audit/events?action=recovery.requested",
            app.address
        ))
        .bearer_auth(&key)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(
        response.headers().get("x-next-cursor").is_none(),
        "one page: no cursor"
    );
    let body = response.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[4], "username");
    let usernames: Vec<String> = reader.records().map(|r| r.unwrap()[4].to_owned()).collect();
    let expected: Vec<&str> = hostile.iter().map(|(_, e)| *e).collect();
    assert_eq!(usernames, expected);

    // CSV pages carry their cursor in X-Next-Cursor: two events a page, then the next two.
    let page = |after: Option<String>| {
        let mut url = format!(
            "{}/v1/audit/events?action=recovery.requested&limit=2",
            app.address
        );
        if let Some(after) = after {
            url.push_str(&format!("&after={after}"));
        }
        app.http
            .get(url)
            .bearer_auth(&key)
            .header("accept", "text/csv")
            .send()
    };
    let first = page(None).await.unwrap();
    let cursor = first.headers()["x-next-cursor"]
        .to_str()
        .unwrap()
        .to_owned();
    let second = page(Some(cursor)).await.unwrap().text().await.unwrap();
    let names: Vec<String> = csv::Reader::from_reader(second.as_bytes())
        .records()
        .map(|r| r.unwrap()[4].to_owned())
        .collect();
    assert_eq!(names, expected[2..4]);

    // The CLI export says the same.
    let out = app.cli(&["audit", "export", "--format", "csv"]).await;
    assert!(out.status.success());
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let cli_names: Vec<String> = reader.records().map(|r| r.unwrap()[4].to_owned()).collect();
    assert!(expected.iter().all(|e| cli_names.iter().any(|n| n == e)));
    // JSON lines keep the raw values.
    let out = app
        .cli(&[
            "audit",
            "export",
            "--format",
            "jsonl",
            "--since",
            "2000-01-01T00:00:00Z",
        ])
        .await;
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines
        .iter()
        .any(|e| e["username"] == "=HYPERLINK(\"http://x\")"));
    let out = app
        .cli(&[
            "audit",
            "export",
            "--format",
            "jsonl",
            "--until",
            "2000-01-01T00:00:00Z",
        ])
        .await;
    assert!(out.stdout.is_empty());
}

#[tokio::test]
async fn hashes_of_codes_that_expired_unused_are_purged_and_audit_events_kept() {
    let app = TestApp::spawn_with(AppOptions::default().set("RETENTION_INTERVAL_SECONDS", 1)).await;
    let user = app.create_user().await;
    app.code_for(&user).await;
    let stored = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM recoveries WHERE code_hash IS NOT NULL")
            .fetch_one(&app.db)
            .await
            .unwrap()
    };
    assert_eq!(stored().await, 1, "a live code keeps its hash");
    let events_before = seqs(&app).await;
    // The code's lifetime (RECOVERY_CODE_TTL_SECONDS' default) passes; the retention loop's
    // next round purges its hash.
    app.advance(std::time::Duration::from_secs(601));
    eventually(
        "the expired code's hash is purged",
        Duration::from_secs(10),
        || async { (stored().await == 0).then_some(()) },
    )
    .await;
    // No audit event went with the hashes.
    assert!(seqs(&app).await.starts_with(&events_before));
}

#[tokio::test]
async fn the_service_runs_with_only_the_documented_grants_and_that_role_cannot_rewrite_the_log() {
    let app = TestApp::spawn().await; // migrated by the owner
    let role_url = app.documented_role().await;
    let mut env = app.settings_env.clone();
    env.insert("DATABASE_URL".into(), role_url.clone());
    let service = Application::build(Settings::load_from(env).unwrap())
        .await
        .expect("starts without DDL rights");
    let address = format!("http://127.0.0.1:{}", service.port());
    tokio::spawn(service.run_until_stopped());

    let user = app.create_user().await;
    let before = app.emails_to(&user.email).await.len();
    let response = app
        .http
        .post(format!("{address}/v1/recovery"))
        .json(&serde_json::json!({"username": user.username}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let code = app.wait_for_email(&user.email, before + 1).await.code();
    let response = app
        .http
        .post(format!("{address}/v1/recovery/confirm"))
        .json(&serde_json::json!({"username": user.username, "code": code, "password": user.password}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let limited = sqlx::PgPool::connect(&role_url).await.unwrap();
    for sql in [
        "UPDATE audit_events SET outcome = 'x'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
        "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only",
        // Staff keys are written by the CLI as the owner: the service can neither mint nor
        // un-revoke one.
        "INSERT INTO staff_keys (id, name, role, key_hash) VALUES (gen_random_uuid(), 'eve', 'auditor', 'x')",
        "UPDATE staff_keys SET revoked_at = NULL",
    ] {
        assert!(sqlx::query(sql).execute(&limited).await.is_err(), "{sql}");
    }
    limited.close().await;
}

/// The review's reproduction, with exactly the serving role's grants: hold the chain's lock so
/// that a real reset's events stay pending, delete them, slip a backdated event into the chain,
/// record one backdated. Each step is refused or stamped with the database's time, and the
/// reset's events reach the chain, intact.
#[tokio::test]
async fn the_serving_role_can_neither_erase_pending_events_nor_forge_chained_ones() {
    let app = TestApp::spawn().await;
    let role_url = app.documented_role().await;
    let attacker = sqlx::PgPool::connect(&role_url).await.unwrap();
    let started: chrono::DateTime<chrono::Utc> = sqlx::query_scalar("SELECT now()")
        .fetch_one(&app.db)
        .await
        .unwrap();

    // The attacker holds the chain's lock: nothing is chained while they work.
    let lock = hold_chain_lock(&attacker).await;
    let user = app.create_user().await;
    let code = app.code_for(&user).await;
    app.confirm_ok(&user.username, &code, &user.password).await;
    let pending = |db: sqlx::PgPool, username: String| async move {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM audit_pending WHERE username = $1 AND action = 'mfa.reset'",
        )
        .bind(username)
        .fetch_one(&db)
        .await
        .unwrap()
    };
    assert_eq!(pending(app.db.clone(), user.username.clone()).await, 1);

    let mut other = attacker.acquire().await.unwrap();
    for forgery in [
        format!(
            "DELETE FROM audit_pending WHERE username = '{}'",
            user.username
        ),
        "INSERT INTO audit_events (seq, at, action, actor, outcome, hash)
         VALUES (999999, '2026-01-01T00:00:00Z', 'mfa.reset', 'staff:alice', 'success', 'x')"
            .to_owned(),
        "SELECT nextval('audit_events_seq_seq')".to_owned(),
        "CREATE OR REPLACE FUNCTION audit_chain_pending(max_events integer) RETURNS integer
         LANGUAGE sql AS 'SELECT 0'"
            .to_owned(),
    ] {
        let refused = sqlx::query(&forgery).execute(&mut *other).await;
        assert!(refused.is_err(), "the serving role may not: {forgery}");
    }
    // An event it records is stamped with the database's time, not the one it claims.
    sqlx::query(
        "INSERT INTO audit_pending (at, action, actor, outcome)
         VALUES ('2026-01-01T00:00:00Z', 'support.approved', 'staff:alice', 'success')",
    )
    .execute(&mut *other)
    .await
    .unwrap();
    let at: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT at FROM audit_pending WHERE actor = 'staff:alice'")
            .fetch_one(&mut *other)
            .await
            .unwrap();
    assert!(at >= started, "backdated to {at}");
    drop(other);
    lock.rollback().await.unwrap();

    // The sequencer, as the serving role, chains everything: the reset is in the chain. (The
    // service's own sequencer may get there first once the lock is gone: the call then chains
    // nothing, and succeeds all the same.)
    let _: i32 = sqlx::query_scalar("SELECT audit_chain_pending(1000)")
        .fetch_one(&attacker)
        .await
        .expect("the serving role may run the sequencer");
    app.chained().await;
    assert_eq!(pending(app.db.clone(), user.username.clone()).await, 0);
    assert!(app
        .audit_trail(&user.username)
        .await
        .contains(&("mfa.reset".to_owned(), "success".to_owned())));
    let verified: serde_json::Value = app
        .get_with_key(
            "/v1/audit/verify",
            &app.staff_key("auditor", "auditor").await,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(verified["intact"], true, "{verified}");
    attacker.close().await;
}

/// The database computes each event's hash (as the schema's owner); the service and auditors
/// verify it with `chain_hash`. Both must agree on every byte, awkward strings included.
#[tokio::test]
async fn the_database_hashes_an_event_exactly_as_the_verifier_does() {
    let app = TestApp::spawn().await;
    let at = chrono::DateTime::parse_from_rfc3339("2026-12-03T10:00:00.123456Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let awkward = [
        None,
        Some(""),
        Some("plain"),
        Some("quote \" backslash \\ slash /"),
        Some("newline\n tab\t return\r backspace\u{8} feed\u{c} unit\u{1} us\u{1f} del\u{7f}"),
        Some("zoë+desk@example.com 日本語 😀 \u{2028}\u{2029} </script>"),
    ];
    for (i, text) in awkward.iter().enumerate() {
        let recovery_id = (i % 2 == 0).then(uuid::Uuid::new_v4);
        let unsealed = mfa_recovery::audit::Unsealed {
            seq: 1 + i as i64,
            at,
            action: "recovery.requested",
            actor: text.unwrap_or("user"),
            username: *text,
            recovery_id,
            ip: *text,
            user_agent: *text,
            outcome: "accepted",
            detail: *text,
        };
        let previous = if i == 0 { "" } else { "ab".repeat(32).leak() };
        let ours = mfa_recovery::audit::chain_hash(previous, &unsealed);
        let database: String = sqlx::query_scalar(
            "SELECT audit_event_hash($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(previous)
        .bind(unsealed.seq)
        .bind(at)
        .bind(unsealed.action)
        .bind(unsealed.actor)
        .bind(unsealed.username)
        .bind(recovery_id)
        .bind(unsealed.ip)
        .bind(unsealed.user_agent)
        .bind(unsealed.outcome)
        .bind(unsealed.detail)
        .fetch_one(&app.db)
        .await
        .unwrap();
        assert_eq!(database, ours, "{text:?}");
    }
}

#[tokio::test]
async fn admin_commands_refuse_a_database_without_the_schema_and_leave_it_untouched() {
    let app = TestApp::spawn().await;
    let empty = crate::helpers::create_database(&app.env.admin_db_url).await;
    for args in [
        &["audit", "verify"][..],
        &["audit", "export", "--format", "jsonl"],
        &["staff", "add", "--name", "sam", "--role", "support"],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_mfa-recovery"))
            .args(args)
            .env("DATABASE_URL", &empty)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "{args:?} succeeded on an empty database"
        );
        assert!(
            stderr.contains("DATABASE_URL") && stderr.contains("mfa-recovery migrate"),
            "{args:?}: {stderr}"
        );
    }
    let db = sqlx::PgPool::connect(&empty).await.unwrap();
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(tables, 0, "no schema was created");
}

#[tokio::test]
async fn the_cli_explains_a_bad_instant_as_the_api_does() {
    let app = TestApp::spawn().await;
    let out = app
        .cli(&[
            "audit",
            "export",
            "--format",
            "jsonl",
            "--since",
            "yesterday",
        ])
        .await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--since")
            && stderr.contains("RFC 3339")
            && stderr.contains("2026-01-31T00:00:00Z"),
        "{stderr}"
    );
    let key = app.staff_key("ada", "auditor").await;
    let body = assert_problem(
        app.get_with_key("/v1/audit/events?since=yesterday", &key)
            .await,
        400,
        "invalid_request",
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap().contains("RFC 3339"),
        "{body}"
    );
}

/// The chain's lock (src/store/audit.rs): only the sequencer takes it.
const CHAIN_LOCK: i64 = 0x6d66_615f_6175_6469;

#[tokio::test]
async fn a_request_records_its_event_without_waiting_for_the_chain() {
    let app = TestApp::spawn().await;
    let key = app.staff_key("ada", "auditor").await;
    // Whoever chains is stuck: requests are still answered, their events recorded.
    let mut holder = app.db.begin().await.unwrap();
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(CHAIN_LOCK)
        .execute(&mut *holder)
        .await
        .unwrap();
    for name in ["someone-1", "someone-2", "someone-3"] {
        let response = app
            .http
            .post(format!("{}/v1/recovery", app.address))
            .timeout(std::time::Duration::from_secs(5))
            .json(&serde_json::json!({"username": name}))
            .send()
            .await
            .expect("answered while the chain is locked");
        assert_eq!(response.status(), 202);
    }
    let response = app.get_with_key("/v1/audit/verify", &key).await;
    let before: serde_json::Value = response.json().await.unwrap();
    assert!(before["pending"].as_u64().unwrap() >= 3, "{before}");
    holder.rollback().await.unwrap();

    // Chained once the lock is free: in order, intact, nothing left pending (once the jobs
    // those requests queued, which record events of their own, are done).
    app.run_pending_jobs().await;
    let after = api_verify(&app, &key).await;
    assert_eq!(after["intact"], true, "{after}");
    assert_eq!(after["pending"], 0, "{after}");
    assert!(
        after["events"].as_u64().unwrap() >= before["events"].as_u64().unwrap() + 3,
        "{after}"
    );
}

#[tokio::test]
async fn the_sequencer_chains_recorded_events_within_its_interval() {
    let app = TestApp::spawn_with(AppOptions::default().set("AUDIT_CHAIN_INTERVAL_MS", 100)).await;
    app.request_recovery("someone").await;
    eventually("the event is chained", Duration::from_secs(5), || async {
        let chained: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM audit_events WHERE action = 'recovery.requested'",
        )
        .fetch_one(&app.db)
        .await
        .unwrap();
        (chained == 1).then_some(())
    })
    .await;
}

#[tokio::test]
async fn nothing_can_be_slipped_into_the_chain_out_of_order() {
    let app = TestApp::spawn().await;
    some_history(&app).await;
    let all = seqs(&app).await;
    let err = sqlx::query(
        "INSERT INTO audit_events (seq, at, action, actor, outcome, hash)
         VALUES ($1, now(), 'recovery.requested', 'user', 'accepted', 'x')",
    )
    .bind(all[1])
    .execute(&app.db)
    .await
    .expect_err("an event before the end of the chain");
    assert!(err.to_string().contains("only grows at its end"), "{err}");
}

/// Runs `mfa-recovery audit …` with the test database and `AUDIT_SIGNING_KEY`: exit code,
/// stdout, stderr.
/// `audit verify --checkpoint file --public-key key`: the auditor's check with no secret.
async fn verify_checkpoint(app: &TestApp, file: &str, key: &str) -> (i32, String, String) {
    audit_cli(
        app,
        &["verify", "--checkpoint", file, "--public-key", key],
        "",
    )
    .await
}

async fn audit_cli(app: &TestApp, args: &[&str], signing_key: &str) -> (i32, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_mfa-recovery"))
        .arg("audit")
        .args(args)
        .env("DATABASE_URL", &app.db_url)
        .env("AUDIT_SIGNING_KEY", signing_key)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// As the audit log's owner: runs `sql` on `audit_events` with its append-only trigger off.
async fn as_owner_rewrite(app: &TestApp, sql: &str) {
    for statement in [
        "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only",
        sql,
        "ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only",
    ] {
        sqlx::query(statement).execute(&app.db).await.unwrap();
    }
}

/// A signed checkpoint proves, with the public key alone, that the log still holds its head and
/// is intact to its end; a changed checkpoint, another key, a rewritten event or a cut tail are
/// each named, with a non-zero exit. Verification reads from the checkpoint on; `--full` also
/// reads what came before it.
#[tokio::test]
async fn a_signed_checkpoint_proves_the_log_was_neither_rewritten_nor_cut() {
    // base64 of 32 bytes of 0x2a, and of 0x2b.
    let seed = "KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio=";
    let other_seed = "KysrKysrKysrKysrKysrKysrKysrKysrKysrKysrKys=";
    let app = TestApp::spawn_with(AppOptions::default().set("AUDIT_SIGNING_KEY", seed)).await;
    some_history(&app).await;
    let support = app.staff_key("sam", "support").await;
    assert_problem(
        app.get_with_key("/v1/audit/checkpoint", &support).await,
        403,
        "forbidden",
    )
    .await;
    let auditor = app.staff_key("ada", "auditor").await;
    // Every event so far is chained (the keys' `staff.added` were pending): the checkpoint is
    // taken at the head they make. Events the request itself records come after it.
    app.chained().await;
    let (seq, head): (i64, String) =
        sqlx::query_as("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let response = app.get_with_key("/v1/audit/checkpoint", &auditor).await;
    assert_eq!(response.status(), 200);
    let checkpoint: serde_json::Value = response.json().await.unwrap();
    assert_eq!(checkpoint["seq"], seq, "{checkpoint}");
    assert_eq!(checkpoint["head"], head, "{checkpoint}");

    let (code, public_key, key_id) = audit_cli(&app, &["public-key"], seed).await;
    assert_eq!(code, 0);
    let public_key = public_key.trim().to_owned();
    assert!(
        key_id.contains(checkpoint["key_id"].as_str().unwrap()),
        "{key_id}"
    );
    let (_, other_key, _) = audit_cli(&app, &["public-key"], other_seed).await;

    let dir = std::env::temp_dir().join(format!("checkpoint-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let saved = dir.join("checkpoint.json");
    let save = |value: &serde_json::Value| std::fs::write(&saved, value.to_string()).unwrap();
    save(&checkpoint);
    let file = saved.to_str().unwrap().to_owned();
    // Only the public key is given: the auditor needs no secret.

    // The log grows after the checkpoint: it still holds.
    app.request_recovery("someone-later").await;
    app.chained().await;
    let (code, out, err) = verify_checkpoint(&app, &file, &public_key).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!("checkpoint seq {seq} holds")),
        "{out}"
    );

    let (code, _, err) = verify_checkpoint(&app, &file, other_key.trim()).await;
    assert_eq!(code, 1);
    assert!(err.contains("not by this public key"), "{err}");

    let mut changed = checkpoint.clone();
    changed["seq"] = serde_json::json!(seq - 1);
    save(&changed);
    let (code, _, err) = verify_checkpoint(&app, &file, &public_key).await;
    assert_eq!(code, 1);
    assert!(err.contains("signature does not match"), "{err}");
    save(&checkpoint);

    // An event after the checkpoint rewritten: found reading from the checkpoint.
    let after = seq + 1;
    as_owner_rewrite(
        &app,
        &format!("UPDATE audit_events SET outcome = outcome || 'x' WHERE seq = {after}"),
    )
    .await;
    let (code, _, err) = verify_checkpoint(&app, &file, &public_key).await;
    assert_eq!(code, 1);
    assert!(err.contains(&format!("broken at event {after}")), "{err}");
    as_owner_rewrite(
        &app,
        &format!("UPDATE audit_events SET outcome = left(outcome, -1) WHERE seq = {after}"),
    )
    .await;

    // An event before it rewritten: the checkpoint vouches for what it covers (its head still
    // matches), so only the full walk reads event 2 again and finds it.
    as_owner_rewrite(
        &app,
        "UPDATE audit_events SET detail = 'nothing happened' WHERE seq = 2",
    )
    .await;
    let (code, out, err) = verify_checkpoint(&app, &file, &public_key).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("read after it"), "{out}");
    let (code, _, err) = audit_cli(
        &app,
        &[
            "verify",
            "--checkpoint",
            &file,
            "--public-key",
            &public_key,
            "--full",
        ],
        "",
    )
    .await;
    assert_eq!(code, 1);
    assert!(err.contains("broken at event 2"), "{err}");

    as_owner_rewrite(
        &app,
        &format!("DELETE FROM audit_events WHERE seq >= {seq}"),
    )
    .await;
    let (code, _, err) = verify_checkpoint(&app, &file, &public_key).await;
    assert_eq!(code, 1);
    assert!(err.contains(&format!("no event {seq} any more")), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The published checkpoints in `file`, one JSON line each.
fn published(file: &std::path::Path) -> Vec<mfa_recovery::audit::Checkpoint> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).expect("a checkpoint per line"))
        .collect()
}

/// Checkpoints are published without anyone asking: at start, as soon as
/// AUDIT_CHECKPOINT_EVENTS events were chained since the last, and every
/// AUDIT_CHECKPOINT_SECONDS (default 600) with or without new events. Each is signed, stored,
/// appended to AUDIT_CHECKPOINT_FILE and names the one before: the series has no gap or fork.
#[tokio::test]
async fn checkpoints_are_published_on_a_timer_and_after_enough_events_each_naming_the_one_before() {
    use mfa_recovery::audit::checkpoint::check_signature;
    let dir = std::env::temp_dir().join(format!("published-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("checkpoints.jsonl");
    let app = TestApp::spawn_with(
        AppOptions::default()
            .set("AUDIT_CHECKPOINT_EVENTS", 5)
            .set("AUDIT_CHECKPOINT_FILE", file.display()),
    )
    .await;
    let public = app.audit_public_key();
    let first = eventually(
        "the first checkpoint, at start",
        Duration::from_secs(10),
        || {
            let found = published(&file);
            async move { found.first().cloned() }
        },
    )
    .await;

    // A dozen events: a checkpoint follows within 5 of them, without waiting for the timer.
    some_history(&app).await;
    let head: i64 = sqlx::query_scalar("SELECT max(seq) FROM audit_events")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(head >= 10, "{head} events");
    eventually(
        "a checkpoint after 5 events",
        Duration::from_secs(10),
        || {
            let last = published(&file).last().cloned();
            async move { last.filter(|c| c.seq > head - 5) }
        },
    )
    .await;

    // Quiet: the timer publishes one once AUDIT_CHECKPOINT_SECONDS have passed.
    let count = published(&file).len();
    let moved = chrono::Utc::now() + chrono::Duration::seconds(600);
    app.advance(Duration::from_secs(600));
    let timed = eventually("a checkpoint on the timer", Duration::from_secs(10), || {
        let all = published(&file);
        async move { (all.len() > count).then(|| all.last().cloned()).flatten() }
    })
    .await;
    let signed_at = chrono::DateTime::parse_from_rfc3339(&timed.at).unwrap();
    assert!(
        signed_at >= moved,
        "{} is the service's moved time",
        timed.at
    );

    // The series: signed, each following the one before, the same as stored.
    let all = published(&file);
    assert_eq!(all[0], first);
    assert_eq!(first.previous.as_deref(), Some(""));
    for pair in all.windows(2) {
        assert!(
            pair[1].follows(&pair[0]),
            "{:?} after {:?}",
            pair[1],
            pair[0]
        );
        assert!(pair[1].seq >= pair[0].seq);
    }
    for checkpoint in &all {
        assert_eq!(check_signature(checkpoint, &public), Ok(()));
    }
    let stored: Vec<(i64, String)> =
        sqlx::query_as("SELECT seq, signature FROM audit_checkpoints ORDER BY id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    let in_file: Vec<(i64, String)> = all.iter().map(|c| (c.seq, c.signature.clone())).collect();
    assert_eq!(stored, in_file);
    // Stored checkpoints are never changed.
    let err = sqlx::query("UPDATE audit_checkpoints SET seq = seq + 1")
        .execute(&app.db)
        .await
        .expect_err("append-only");
    assert!(
        err.to_string().contains("audit_checkpoints is append-only"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `GET /v1/audit/checkpoint?seq=` gives back an older published checkpoint, byte for byte; and
/// `GET /v1/audit/verify?seq=&head=` verifies from a trusted checkpoint, reading only the
/// events after it, naming a rewritten later event, or a checkpoint the log no longer holds.
#[tokio::test]
async fn auditors_fetch_older_checkpoints_and_verify_from_a_trusted_one() {
    let app = TestApp::spawn().await;
    let auditor = app.staff_key("ada", "auditor").await;
    some_history(&app).await;
    let get = |path: String| {
        let app = &app;
        let auditor = auditor.clone();
        async move {
            let response = app.get_with_key(&path, &auditor).await;
            let status = response.status().as_u16();
            (status, response.json::<serde_json::Value>().await.unwrap())
        }
    };
    let (status, kept) = get("/v1/audit/checkpoint".into()).await;
    assert_eq!(status, 200);
    let seq = kept["seq"].as_i64().unwrap();
    let head = kept["head"].as_str().unwrap().to_owned();
    assert_eq!(kept["previous"].as_str().unwrap().len(), 64, "{kept}");

    some_history(&app).await;
    let (_, newer) = get("/v1/audit/checkpoint".into()).await;
    assert!(newer["seq"].as_i64().unwrap() > seq);
    let (status, older) = get(format!("/v1/audit/checkpoint?seq={seq}")).await;
    assert_eq!(status, 200);
    assert_eq!(older, kept);
    // Between two checkpoints: the one before.
    let between = newer["seq"].as_i64().unwrap() - 1;
    let (_, found) = get(format!("/v1/audit/checkpoint?seq={between}")).await;
    assert_eq!(found, kept);
    for bad in ["abc", "-1", "1.5"] {
        assert_problem(
            app.get_with_key(&format!("/v1/audit/checkpoint?seq={bad}"), &auditor)
                .await,
            400,
            "invalid_request",
        )
        .await;
    }

    // From the kept checkpoint: only what came after it is read.
    app.chained().await;
    let (status, result) = get(format!("/v1/audit/verify?seq={seq}&head={head}")).await;
    assert_eq!(status, 200);
    assert_eq!(result["intact"], true, "{result}");
    assert_eq!(result["from_seq"], seq);
    let last: i64 = sqlx::query_scalar("SELECT max(seq) FROM audit_events")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(result["events"], last - seq, "{result}");
    let (_, full) = get("/v1/audit/verify".into()).await;
    assert_eq!(full["from_seq"], serde_json::Value::Null);
    assert!(full["events"].as_i64().unwrap() > last - seq);

    // A later event rewritten: named.
    as_owner_rewrite(
        &app,
        &format!(
            "UPDATE audit_events SET actor = 'staff:alice' WHERE seq = {}",
            seq + 2
        ),
    )
    .await;
    let (_, result) = get(format!("/v1/audit/verify?seq={seq}&head={head}")).await;
    assert_eq!(result["intact"], false, "{result}");
    assert_eq!(result["first_bad_seq"], seq + 2, "{result}");

    // A checkpoint the log does not hold (another head at its seq): named at its seq.
    let other = "0".repeat(64);
    let (_, result) = get(format!("/v1/audit/verify?seq={seq}&head={other}")).await;
    assert_eq!(result["intact"], false, "{result}");
    assert_eq!(result["first_bad_seq"], seq, "{result}");
    assert!(
        result["problem"].as_str().unwrap().contains("another hash"),
        "{result}"
    );
    for bad in [
        format!("seq={seq}"),
        format!("head={head}"),
        format!("seq=x&head={head}"),
        format!("seq={seq}&head=ABC"),
    ] {
        assert_problem(
            app.get_with_key(&format!("/v1/audit/verify?{bad}"), &auditor)
                .await,
            400,
            "invalid_request",
        )
        .await;
    }
}

/// Every filter, and every pair of them, answers exactly the events a plain reading of the log
/// picks, in `seq` order and paged by the cursor: the query built per filter (time as a range
/// of `seq`, a name in both its recorded forms merged) changes speed, not answers. Time
/// boundaries are exact: `since` at an event's instant takes it, `until` at it leaves it out.
#[tokio::test]
async fn each_filter_and_pair_of_filters_answers_exactly_the_matching_events() {
    use mfa_recovery::audit::AuditRecord;
    let app = TestApp::spawn().await;
    let key = app.staff_key("ada", "auditor").await;
    let user = app.create_user().await;
    some_history(&app).await;
    // The same name under both forms: redacted while unknown, then as the user's.
    app.request_recovery("ghost-1").await;
    some_history(&app).await;
    app.chained().await;
    let all: Vec<AuditRecord> =
        mfa_recovery::audit::export::export_jsonl(&app.db, None, None, Vec::new())
            .await
            .map(|bytes| {
                String::from_utf8(bytes)
                    .unwrap()
                    .lines()
                    .map(|l| {
                        let v: serde_json::Value = serde_json::from_str(l).unwrap();
                        serde_json::from_value::<ExportedEvent>(v).unwrap().into()
                    })
                    .collect()
            })
            .unwrap();
    assert!(all.len() > 30, "{} events", all.len());
    for pair in all.windows(2) {
        assert!(
            pair[0].at <= pair[1].at,
            "time never goes back along the chain"
        );
    }
    let middle = &all[all.len() / 3];
    let late = &all[2 * all.len() / 3];
    let stamp = |e: &AuditRecord| e.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let recovery = all.iter().find_map(|e| e.recovery_id).unwrap();
    let ghost = app.redacted("ghost-1");
    let filters: Vec<(String, Picks)> = vec![
        (
            format!("username={}", user.username),
            Box::new(|e: &AuditRecord| e.username.as_deref() == Some(user.username.as_str())),
        ),
        (
            "username=ghost-1".into(),
            Box::new(move |e: &AuditRecord| {
                e.username.as_deref() == Some(ghost.as_str())
                    || e.username.as_deref() == Some("ghost-1")
            }),
        ),
        (
            "action=recovery.requested".into(),
            Box::new(|e: &AuditRecord| e.action == "recovery.requested"),
        ),
        (
            format!("recovery_id={recovery}"),
            Box::new(move |e: &AuditRecord| e.recovery_id == Some(recovery)),
        ),
        (
            format!("since={}", urlencoding(&stamp(middle))),
            Box::new(|e: &AuditRecord| e.at >= middle.at),
        ),
        (
            format!("until={}", urlencoding(&stamp(late))),
            Box::new(|e: &AuditRecord| e.at < late.at),
        ),
        (
            format!("after={}", middle.seq),
            Box::new(|e: &AuditRecord| e.seq > middle.seq),
        ),
    ];
    let n = filters.len();
    for i in 0..n {
        for j in i..n {
            let name = |k: usize| filters[k].0.split('=').next().unwrap().to_owned();
            if i != j && name(i) == name(j) {
                continue;
            }
            let query = if i == j {
                filters[i].0.clone()
            } else {
                format!("{}&{}", filters[i].0, filters[j].0)
            };
            let expected: Vec<i64> = all
                .iter()
                .filter(|e| filters[i].1(e) && filters[j].1(e))
                .map(|e| e.seq)
                .collect();
            // Paged 3 at a time, through the cursor (which takes the place of an `after` filter).
            let mut got: Vec<i64> = Vec::new();
            let mut after = String::new();
            let query = match query.split('&').find(|p| p.starts_with("after=")) {
                Some(given) => {
                    after = format!("&{given}");
                    query
                        .split('&')
                        .filter(|p| !p.starts_with("after="))
                        .collect::<Vec<_>>()
                        .join("&")
                }
                None => query,
            };
            loop {
                let response = app
                    .get_with_key(&format!("/v1/audit/events?{query}&limit=3{after}"), &key)
                    .await;
                assert_eq!(response.status(), 200, "{query}");
                let page: serde_json::Value = response.json().await.unwrap();
                got.extend(
                    page["events"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|e| e["seq"].as_i64().unwrap())
                        .filter(|seq| *seq <= all.last().unwrap().seq),
                );
                match page["next"].as_str() {
                    Some(next) => after = format!("&after={next}"),
                    None => break,
                }
            }
            // Later pages may hold the queries' own audit.read events: compared up to the export.
            assert_eq!(got, expected, "{query}");
        }
    }
}

/// Which events a filter picks, read off the export.
type Picks<'a> = Box<dyn Fn(&mfa_recovery::audit::AuditRecord) -> bool + 'a>;

fn urlencoding(text: &str) -> String {
    text.replace(':', "%3A").replace('+', "%2B")
}

/// An exported line, read back.
#[derive(serde::Deserialize)]
struct ExportedEvent {
    seq: i64,
    at: chrono::DateTime<chrono::Utc>,
    action: String,
    actor: String,
    username: Option<String>,
    recovery_id: Option<uuid::Uuid>,
    ip: Option<String>,
    user_agent: Option<String>,
    outcome: String,
    detail: Option<String>,
    hash: String,
}

impl From<ExportedEvent> for mfa_recovery::audit::AuditRecord {
    fn from(e: ExportedEvent) -> Self {
        Self {
            seq: e.seq,
            at: e.at,
            action: e.action,
            actor: e.actor,
            username: e.username,
            recovery_id: e.recovery_id,
            ip: e.ip,
            user_agent: e.user_agent,
            outcome: e.outcome,
            detail: e.detail,
            hash: e.hash,
        }
    }
}

/// Two writers' clock readings can cross: the sequencer never lets `at` go back along the chain
/// (it takes the predecessor's), and the hash covers the time it recorded.
#[tokio::test]
async fn time_never_goes_back_along_the_chain_even_when_writers_clocks_cross() {
    let app = TestApp::spawn().await;
    app.chained().await;
    // As the owner, with the stamping trigger off: pending events whose times go backwards.
    for statement in [
        "ALTER TABLE audit_pending DISABLE TRIGGER audit_pending_stamped",
        "INSERT INTO audit_pending (at, action, actor, outcome)
         SELECT clock_timestamp() - i * interval '1 second', 'recovery.requested', 'user', 'accepted'
           FROM generate_series(1, 5) AS i",
        "ALTER TABLE audit_pending ENABLE TRIGGER audit_pending_stamped",
    ] {
        sqlx::query(statement).execute(&app.db).await.unwrap();
    }
    app.chained().await;
    let times: Vec<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT at FROM audit_events ORDER BY seq")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    let (ok, out) = cli_verify(&app).await;
    assert!(ok, "{out}");
}
