//! The audit stream for SIEMs: a receiver (a real HTTP server here) gets every chained event as
//! OCSF JSON, signed in the Standard Webhooks format, in chain order, and everything after being
//! down for a while; the JSON-lines file gets the same.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Request, Response};
use sha2::Sha256;
use tokio::net::TcpListener;

use crate::helpers::{eventually, AppOptions, TestApp};

/// 32 bytes, as Standard Webhooks secrets are written.
const SECRET: &str = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// One request as the receiver got it.
#[derive(Clone, Debug)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: Bytes,
}

/// A webhook receiver on loopback: records what it accepts; while `down`, answers 503.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
    down: Arc<AtomicBool>,
}

impl Receiver {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://127.0.0.1:{}/hook",
            listener.local_addr().unwrap().port()
        );
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let down = Arc::new(AtomicBool::new(false));
        let (g, d) = (Arc::clone(&got), Arc::clone(&down));
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (g, d) = (Arc::clone(&g), Arc::clone(&d));
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(
                        move |request: Request<hyper::body::Incoming>| {
                            let (g, d) = (Arc::clone(&g), Arc::clone(&d));
                            async move {
                                let header = |name: &str| {
                                    request
                                        .headers()
                                        .get(name)
                                        .and_then(|v| v.to_str().ok())
                                        .unwrap_or("")
                                        .to_owned()
                                };
                                let (id, timestamp, signature) = (
                                    header("webhook-id"),
                                    header("webhook-timestamp"),
                                    header("webhook-signature"),
                                );
                                let body = request.into_body().collect().await.unwrap().to_bytes();
                                let status = if d.load(Ordering::SeqCst) {
                                    503
                                } else {
                                    g.lock().unwrap().push(Received {
                                        id,
                                        timestamp,
                                        signature,
                                        body,
                                    });
                                    204
                                };
                                Ok::<_, std::convert::Infallible>(
                                    Response::builder()
                                        .status(status)
                                        .body(Full::new(Bytes::new()))
                                        .unwrap(),
                                )
                            }
                        },
                    );
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { url, got, down }
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

/// Checks a delivery's signature as a receiver would, with the secret's bytes.
fn signed_right(r: &Received) -> bool {
    let key = base64::engine::general_purpose::STANDARD
        .decode(SECRET.trim_start_matches("whsec_"))
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.", r.id, r.timestamp).as_bytes());
    mac.update(&r.body);
    let expected = format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    );
    r.signature == expected
}

fn seqs(received: &[Received]) -> Vec<i64> {
    received
        .iter()
        .map(|r| {
            let event: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            event["metadata"]["sequence"].as_i64().unwrap()
        })
        .collect()
}

async fn head(app: &TestApp) -> i64 {
    app.chained().await;
    sqlx::query_scalar("SELECT coalesce(max(seq), 0) FROM audit_events")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_siem_gets_every_event_signed_in_order_and_all_it_missed_while_down() {
    let receiver = Receiver::start().await;
    let dir = std::env::temp_dir().join(format!("stream-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("audit.ocsf.jsonl");
    let app = TestApp::spawn_with(
        AppOptions::default()
            .set("AUDIT_WEBHOOK_URL", &receiver.url)
            .set("AUDIT_WEBHOOK_SECRET", SECRET)
            .set("AUDIT_STREAM_FILE", file.display()),
    )
    .await;

    // A whole recovery: its reset is an OCSF "MFA Factor Disable".
    let user = app.create_user().await;
    let code = app.code_for(&user).await;
    app.confirm_ok(&user.username, &code, &user.password).await;
    let upto = head(&app).await;
    let got = eventually("every event delivered", Duration::from_secs(20), || {
        let got = receiver.received();
        async move { (seqs(&got).last() >= Some(&upto)).then_some(got) }
    })
    .await;
    let delivered = seqs(&got);
    assert_eq!(
        delivered,
        (1..=delivered.len() as i64).collect::<Vec<_>>(),
        "in chain order, none missing"
    );
    assert!(
        got.iter().all(signed_right),
        "every delivery signed with the secret"
    );
    let reset: serde_json::Value = got
        .iter()
        .map(|r| serde_json::from_slice::<serde_json::Value>(&r.body).unwrap())
        .find(|e| e["unmapped"]["action"] == "mfa.reset")
        .expect("the reset was delivered");
    assert_eq!(reset["class_uid"], 3001);
    assert_eq!(reset["activity_id"], 11);
    assert_eq!(reset["user"]["name"], user.username.as_str());
    let hash: String = sqlx::query_scalar("SELECT hash FROM audit_events WHERE seq = $1")
        .bind(reset["metadata"]["sequence"].as_i64().unwrap())
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(reset["unmapped"]["hash"], hash.as_str());

    // The receiver goes down: events wait, the stream backs off; nothing is skipped.
    receiver.down.store(true, Ordering::SeqCst);
    let before = receiver.received().len();
    for name in ["ghost-1", "ghost-2", "ghost-3"] {
        app.request_recovery(name).await;
    }
    app.run_pending_jobs().await;
    let upto = head(&app).await;
    eventually(
        "a failed delivery recorded",
        Duration::from_secs(20),
        || async {
            let attempts: i32 = sqlx::query_scalar(
                "SELECT attempts FROM audit_deliveries WHERE destination LIKE 'webhook:%'",
            )
            .fetch_one(&app.db)
            .await
            .unwrap();
            (attempts > 0).then_some(())
        },
    )
    .await;
    assert_eq!(receiver.received().len(), before);
    // Back up, and time moves past the longest backoff: it gets everything it missed, in order.
    receiver.down.store(false, Ordering::SeqCst);
    app.advance(Duration::from_secs(16 * 60));
    let got = eventually(
        "everything after the outage",
        Duration::from_secs(30),
        || {
            let got = receiver.received();
            async move { (seqs(&got).last() >= Some(&upto)).then_some(got) }
        },
    )
    .await;
    let delivered = seqs(&got);
    let mut unique = delivered.clone();
    unique.dedup();
    assert_eq!(
        unique,
        (1..=unique.len() as i64).collect::<Vec<_>>(),
        "{delivered:?}"
    );
    assert!(got.iter().all(signed_right));
    // The same event keeps its id when it is sent again: receivers drop duplicates by it.
    let ids: std::collections::HashSet<&str> = got.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), unique.len());

    // The file got the same events, in the same order.
    let lines = eventually("the file caught up", Duration::from_secs(20), || {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        async move {
            let seqs: Vec<i64> = text
                .lines()
                .map(|l| {
                    serde_json::from_str::<serde_json::Value>(l).unwrap()["metadata"]["sequence"]
                        .as_i64()
                        .unwrap()
                })
                .collect();
            (seqs.last() >= Some(&upto)).then_some(seqs)
        }
    })
    .await;
    assert_eq!(lines, (1..=lines.len() as i64).collect::<Vec<_>>());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn the_webhook_must_be_https_and_signed() {
    for (url, secret, complaint) in [
        (
            "http://siem.example.com/hook",
            Some(SECRET),
            "AUDIT_WEBHOOK_URL",
        ),
        (
            "https://siem.example.com/hook",
            None,
            "AUDIT_WEBHOOK_SECRET",
        ),
        (
            "https://siem.example.com/hook",
            Some("whsec_c2hvcnQ="),
            "AUDIT_WEBHOOK_SECRET",
        ),
    ] {
        let mut vars: std::collections::HashMap<String, String> = [
            ("AUDIT_WEBHOOK_URL".to_owned(), url.to_owned()),
            ("COGNITO_USER_POOL_ID".to_owned(), "us-east-1_x".to_owned()),
            ("COGNITO_CLIENT_ID".to_owned(), "x".to_owned()),
            ("SES_FROM_ADDRESS".to_owned(), "a@example.com".to_owned()),
            (
                "DATABASE_URL".to_owned(),
                "postgres://x@127.0.0.1/x".to_owned(),
            ),
        ]
        .into();
        if let Some(secret) = secret {
            vars.insert("AUDIT_WEBHOOK_SECRET".into(), secret.into());
        }
        let err = mfa_recovery::settings::Settings::load_from(vars)
            .expect_err(url)
            .to_string();
        assert!(err.contains(complaint), "{url}: {err}");
        assert!(
            !err.contains("MDEyMzQ1"),
            "the secret is never shown: {err}"
        );
    }
}
