//! scripts/verify_audit.py, the verifier that needs neither the service nor its code, run on real
//! exports and checkpoints: it accepts an untouched export and names a tampered event, a missing
//! one, a cut tail, an altered checkpoint and a gap in the published checkpoints.

use std::path::{Path, PathBuf};
use std::process::Command;

use mfa_recovery::audit::checkpoint::public_key_text;

use crate::helpers::{eventually, AppOptions, TestApp};

/// Runs the verifier with the project's Python (`.venv`, where `cryptography` is installed).
pub(crate) fn verify(export: &Path, checkpoint: &Path, key: &str, extra: &[&str]) -> (i32, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(root.join(".venv/bin/python"))
        .arg(root.join("scripts/verify_audit.py"))
        .arg(export)
        .arg("--checkpoint")
        .arg(checkpoint)
        .args(["--public-key", key])
        .args(extra)
        .output()
        .expect("python runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

fn write_lines(path: &Path, lines: &[&str]) {
    std::fs::write(
        path,
        lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();
}

#[tokio::test]
async fn the_standalone_verifier_accepts_an_export_and_names_tampering_gaps_and_a_cut_tail() {
    let dir: PathBuf = std::env::temp_dir().join(format!("verifier-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let published = dir.join("published.jsonl");
    let app = TestApp::spawn_with(
        AppOptions::default()
            .set("AUDIT_CHECKPOINT_EVENTS", 3)
            .set("AUDIT_CHECKPOINT_FILE", published.display()),
    )
    .await;
    let key = public_key_text(&app.audit_public_key());
    // Real events, and text a JSON encoder could write another way.
    for name in ["ghost-1", "zoë+desk@example.com"] {
        app.request_recovery(name).await;
    }
    for text in [
        "quote \" backslash \\ slash / </script>",
        "newline\n tab\t return\r backspace\u{8} feed\u{c} unit\u{1} us\u{1f} del\u{7f}",
        "日本語 😀 \u{2028}\u{2029}",
    ] {
        sqlx::query(
            "INSERT INTO audit_pending (action, actor, username, ip, user_agent, outcome, detail)
             VALUES ('recovery.requested', 'user', $1, $1, $1, 'accepted', $1)",
        )
        .bind(text)
        .execute(&app.db)
        .await
        .unwrap();
    }
    app.run_pending_jobs().await;
    app.chained().await;
    let auditor = app.staff_key("ada", "auditor").await;
    app.chained().await;
    let response = app.get_with_key("/v1/audit/checkpoint", &auditor).await;
    assert_eq!(response.status(), 200);
    let checkpoint: serde_json::Value = response.json().await.unwrap();
    let seq = checkpoint["seq"].as_i64().unwrap();
    let checkpoint_file = dir.join("checkpoint.json");
    std::fs::write(&checkpoint_file, checkpoint.to_string()).unwrap();
    // More events after the checkpoint: the export holds them too.
    app.request_recovery("someone-later").await;
    app.chained().await;

    let out = app.cli(&["audit", "export", "--format", "jsonl"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines.len() as i64 > seq,
        "{} lines, checkpoint at {seq}",
        lines.len()
    );
    let export = dir.join("export.jsonl");
    write_lines(&export, &lines);
    let (code, out) = verify(&export, &checkpoint_file, &key, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&format!("checkpoint at seq {seq}")), "{out}");

    // One event's detail changed.
    let target = 4;
    let mut event: serde_json::Value = serde_json::from_str(lines[target - 1]).unwrap();
    event["detail"] = serde_json::json!("nothing happened");
    let changed = event.to_string();
    let mut tampered = lines.clone();
    tampered[target - 1] = &changed;
    let tampered_file = dir.join("tampered.jsonl");
    write_lines(&tampered_file, &tampered);
    let (code, out) = verify(&tampered_file, &checkpoint_file, &key, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("event {target} does not follow")),
        "{out}"
    );

    // One event left out.
    let mut gapped = lines.clone();
    gapped.remove(target - 1);
    write_lines(&tampered_file, &gapped);
    let (code, out) = verify(&tampered_file, &checkpoint_file, &key, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("event {target} is missing")), "{out}");

    // Cut back before the checkpoint's event.
    let cut = &lines[..(seq as usize - 2)];
    write_lines(&tampered_file, cut);
    let (code, out) = verify(&tampered_file, &checkpoint_file, &key, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("its tail was cut"), "{out}");

    // The checkpoint altered, or checked with another key.
    let mut altered = checkpoint.clone();
    altered["seq"] = serde_json::json!(seq - 1);
    let altered_file = dir.join("altered.json");
    std::fs::write(&altered_file, altered.to_string()).unwrap();
    let (code, out) = verify(&export, &altered_file, &key, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("signature does not match"), "{out}");
    let other = public_key_text(&ed25519_dalek::SigningKey::from_bytes(&[9; 32]).verifying_key());
    let (code, out) = verify(&export, &checkpoint_file, &other, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not by this public key"), "{out}");

    // The published series: chained; with one left out, the gap is named.
    let series = eventually(
        "published checkpoints",
        std::time::Duration::from_secs(10),
        || {
            let text = std::fs::read_to_string(&published).unwrap_or_default();
            async move { (text.lines().count() >= 3).then_some(text) }
        },
    )
    .await;
    let series_arg = published.display().to_string();
    let (code, out) = verify(
        &export,
        &checkpoint_file,
        &key,
        &["--checkpoints", &series_arg],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("published checkpoints chained"), "{out}");
    let mut gap: Vec<&str> = series.lines().collect();
    gap.remove(1);
    let gap_file = dir.join("gap.jsonl");
    write_lines(&gap_file, &gap);
    let gap_arg = gap_file.display().to_string();
    let (code, out) = verify(
        &export,
        &checkpoint_file,
        &key,
        &["--checkpoints", &gap_arg],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("line 2 does not name the one before"), "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
}
