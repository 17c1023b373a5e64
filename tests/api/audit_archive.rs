//! `mfa-recovery audit archive --before DATE`: the old events leave the database only once they
//! are in a file with the checkpoint at the cut; the stand-alone verifier checks the file, and
//! verification of what stays goes on from the cut.

use std::path::Path;
use std::time::Duration;

use mfa_recovery::audit::checkpoint::public_key_text;

use crate::audit_verifier::verify;
use crate::helpers::{eventually, hold_chain_lock, TestApp};

async fn run(app: &TestApp, args: &[&str]) -> (i32, String) {
    let out = app.cli(args).await;
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

async fn first_and_last(app: &TestApp) -> (i64, i64) {
    app.chained().await;
    first_and_last_unchained(app).await
}

/// The first and last chained events, without chaining what is pending first.
async fn first_and_last_unchained(app: &TestApp) -> (i64, i64) {
    sqlx::query_as("SELECT min(seq), max(seq) FROM audit_events")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn checkpoint(app: &TestApp, key: &str, file: &Path) -> serde_json::Value {
    app.chained().await;
    let response = app.get_with_key("/v1/audit/checkpoint", key).await;
    assert_eq!(response.status(), 200);
    let value: serde_json::Value = response.json().await.unwrap();
    std::fs::write(file, value.to_string()).unwrap();
    value
}

#[tokio::test]
async fn archiving_keeps_the_proof_and_verification_goes_on_from_the_cut() {
    let dir = std::env::temp_dir().join(format!("archive-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let app = TestApp::spawn().await;
    let key = public_key_text(&app.audit_public_key());
    let auditor = app.staff_key("ada", "auditor").await;
    for name in ["ghost-1", "ghost-2"] {
        app.request_recovery(name).await;
    }
    app.run_pending_jobs().await;
    let early = checkpoint(&app, &auditor, &dir.join("early.json")).await;
    app.request_recovery("ghost-3").await;
    app.run_pending_jobs().await;
    let cut = checkpoint(&app, &auditor, &dir.join("cut.json")).await;
    let cut_seq = cut["seq"].as_i64().unwrap();
    // Events after the cut's checkpoint stay.
    app.request_recovery("later-1").await;
    app.run_pending_jobs().await;
    let before = chrono::Utc::now().to_rfc3339();

    let archive = dir.join("first.jsonl");
    let out_arg = archive.display().to_string();
    let (code, out) = run(
        &app,
        &[
            "audit",
            "archive",
            "--before",
            &before,
            "--out",
            &out_arg,
            "--by",
            "ops@corp.example",
        ],
    )
    .await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&format!("events 1 to {cut_seq}")), "{out}");
    let lines = std::fs::read_to_string(&archive).unwrap();
    assert_eq!(lines.lines().count() as i64, cut_seq);
    let cut_file = dir.join("first.jsonl.checkpoint.json");
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cut_file).unwrap()).unwrap();
    assert_eq!(written, cut);

    // The archive holds, checked with the public key alone.
    let (code, out) = verify(&archive, &cut_file, &key, &[]);
    assert_eq!(code, 0, "{out}");

    // The log goes on after the cut, the archive recorded in it, and verification still holds.
    let (first, _) = first_and_last(&app).await;
    assert_eq!(first, cut_seq + 1);
    let (actor, detail): (String, String) =
        sqlx::query_as("SELECT actor, detail FROM audit_events WHERE action = 'audit.archived'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(actor, "operator:ops@corp.example");
    assert!(
        detail.contains(&format!("events 1 to {cut_seq} archived ({cut_seq})")),
        "{detail}"
    );
    let (code, out) = run(&app, &["audit", "verify"]).await;
    assert_eq!(code, 0, "{out}");
    let response = app.get_with_key("/v1/audit/verify", &auditor).await;
    let whole: serde_json::Value = response.json().await.unwrap();
    assert_eq!(whole["intact"], true, "{whole}");
    assert_eq!(whole["from_seq"], cut_seq, "{whole}");
    let cut_arg = cut_file.display().to_string();
    for extra in [&[][..], &["--full"][..]] {
        let mut args = vec!["audit", "verify", "--checkpoint", &cut_arg];
        args.extend_from_slice(extra);
        let (code, out) = run(&app, &args).await;
        assert_eq!(code, 0, "{extra:?}: {out}");
    }
    // A checkpoint from before the cut: its events are in the archive, not here.
    let early_arg = dir.join("early.json").display().to_string();
    let (code, out) = run(&app, &["audit", "verify", "--checkpoint", &early_arg]).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("was archived"), "{out}");
    let path = format!(
        "/v1/audit/verify?seq={}&head={}",
        early["seq"],
        early["head"].as_str().unwrap()
    );
    let result: serde_json::Value = app
        .get_with_key(&path, &auditor)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(result["intact"], false, "{result}");

    // A second archive starts after the first cut; the verifier chains them.
    app.request_recovery("later-2").await;
    app.run_pending_jobs().await;
    let second_cut = checkpoint(&app, &auditor, &dir.join("second-cut.json")).await;
    app.request_recovery("later-3").await;
    app.run_pending_jobs().await;
    app.chained().await;
    let before = chrono::Utc::now().to_rfc3339();
    let second = dir.join("second.jsonl");
    let second_arg = second.display().to_string();
    let (code, out) = run(
        &app,
        &[
            "audit",
            "archive",
            "--before",
            &before,
            "--out",
            &second_arg,
        ],
    )
    .await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!("events {} to {}", cut_seq + 1, second_cut["seq"])),
        "{out}"
    );
    let second_cut_file = dir.join("second.jsonl.checkpoint.json");
    let (code, out) = verify(
        &second,
        &second_cut_file,
        &key,
        &["--start-checkpoint", &cut_arg],
    );
    assert_eq!(code, 0, "{out}");
    let (code, out) = verify(&second, &second_cut_file, &key, &[]);
    assert_eq!(code, 1, "without the first cut it cannot start: {out}");
    let (code, out) = run(&app, &["audit", "verify"]).await;
    assert_eq!(code, 0, "{out}");

    // An existing file is never overwritten; nothing is removed then.
    checkpoint(&app, &auditor, &dir.join("third-cut.json")).await;
    app.request_recovery("later-4").await;
    let (first, _) = first_and_last(&app).await;
    let now = chrono::Utc::now().to_rfc3339();
    let (code, out) = run(
        &app,
        &["audit", "archive", "--before", &now, "--out", &second_arg],
    )
    .await;
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("exists"), "{out}");
    assert_eq!(first_and_last(&app).await.0, first);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// An archive started while a sequencer is chaining waits for it (the chain's lock), then cuts:
/// nothing is removed under a chaining in progress, and the command does not fail for it.
#[tokio::test]
async fn an_archive_waits_for_a_chaining_in_progress_then_cuts() {
    let dir = std::env::temp_dir().join(format!("archive-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let app = TestApp::spawn().await;
    let auditor = app.staff_key("ada", "auditor").await;
    app.request_recovery("ghost-1").await;
    app.run_pending_jobs().await;
    let cut = checkpoint(&app, &auditor, &dir.join("cut.json")).await;
    let before = chrono::Utc::now().to_rfc3339();
    let out = dir.join("events.jsonl").display().to_string();

    let chaining = hold_chain_lock(&app.db).await;
    let args = ["audit", "archive", "--before", &before, "--out", &out];
    let archiving = run(&app, &args);
    tokio::pin!(archiving);
    let waiting = async {
        eventually(
            "the archive waits for the chain's lock",
            Duration::from_secs(30),
            || async {
                let waiting: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
                )
                .fetch_one(&app.db)
                .await
                .unwrap();
                (waiting == 1).then_some(())
            },
        )
        .await
    };
    tokio::select! {
        (code, out) = &mut archiving => panic!("archived under the chain's lock: {code} {out}"),
        () = waiting => {}
    }
    assert_eq!(
        first_and_last_unchained(&app).await.0,
        1,
        "nothing removed yet"
    );
    chaining.rollback().await.unwrap();
    let (code, out) = archiving.await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!("events 1 to {}", cut["seq"])),
        "{out}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Everything archived, up to the last event: the next event is chained after the cut's hash,
/// and the log verifies from the cut.
#[tokio::test]
async fn the_chain_goes_on_after_a_cut_that_took_every_event() {
    let app = TestApp::spawn().await;
    app.request_recovery("ghost-1").await;
    app.run_pending_jobs().await;
    let (_, last) = first_and_last(&app).await;
    let head: String = sqlx::query_scalar("SELECT hash FROM audit_events WHERE seq = $1")
        .bind(last)
        .fetch_one(&app.db)
        .await
        .unwrap();
    let removed: i64 = sqlx::query_scalar("SELECT audit_archive($1, $2, '{}', 'operator:test')")
        .bind(last)
        .bind(&head)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(removed, last);
    app.request_recovery("ghost-2").await;
    let (first, _) = first_and_last(&app).await;
    assert_eq!(first, last + 1);
    let (code, out) = run(&app, &["audit", "verify"]).await;
    assert_eq!(code, 0, "{out}");
    // A wrong head archives nothing.
    let err = sqlx::query("SELECT audit_archive($1, 'not-the-hash', '{}', 'operator:test')")
        .bind(first)
        .execute(&app.db)
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("nothing archived"), "{err}");
}

/// Recoveries and jobs past their use are purged by the retention loop (defaults: jobs 7 days
/// after they finished, recoveries 30 days after they were over), so junk names do not grow the
/// database for ever; a recent recovery stays, and the audit log keeps every step. The test runs
/// the loop's round itself after moving time.
#[tokio::test]
async fn jobs_and_recoveries_past_their_use_are_purged_and_the_log_keeps_their_story() {
    use std::time::Duration;
    let app = TestApp::spawn().await;
    for name in ["ghost-1", "ghost-2", "ghost-3"] {
        app.request_recovery(name).await;
    }
    let old_user = app.create_user().await;
    app.code_for(&old_user).await;
    app.run_pending_jobs().await;
    let count = |sql: &'static str| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&db)
                .await
                .unwrap()
        }
    };
    assert_eq!(count("SELECT count(*) FROM recoveries").await, 4);
    let finished = count("SELECT count(*) FROM jobs WHERE finished_at IS NOT NULL").await;
    assert!(finished >= 4);
    let (_, events_before) = first_and_last(&app).await;
    assert_eq!(app.purge_old_rows().await, 0, "nothing is old yet");

    app.advance(Duration::from_secs(8 * 24 * 3600));
    assert_eq!(app.purge_old_rows().await, finished as u64);
    assert_eq!(count("SELECT count(*) FROM jobs").await, 0);
    assert_eq!(
        count("SELECT count(*) FROM recoveries").await,
        4,
        "recoveries stay 30 days"
    );

    let new_user = app.create_user().await;
    app.code_for(&new_user).await;
    app.run_pending_jobs().await;
    app.advance(Duration::from_secs(23 * 24 * 3600));
    app.purge_old_rows().await;
    let left: Vec<String> = sqlx::query_scalar("SELECT username FROM recoveries")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(
        left,
        vec![new_user.username.clone()],
        "the recent recovery stays"
    );
    let (first, last) = first_and_last(&app).await;
    assert_eq!(first, 1);
    assert!(last >= events_before);
    let (code, out) = run(&app, &["audit", "verify"]).await;
    assert_eq!(code, 0, "{out}");
}
