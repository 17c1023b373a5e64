//! The job queue's promises for any kind of job: a job carries a typed payload, and a job that
//! panics is a failed run, retried later, that stops neither its loop nor the jobs after it.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use mfa_recovery::settings::Settings;
use mfa_recovery::worker::{self, Job, JobError, Liveness, Queued, Registry, Worker};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use tokio::sync::{watch, Notify};

use crate::helpers::{within, TestApp};

/// A kind whose every run panics, saying what its payload says.
struct Panics;

#[async_trait]
impl Job for Panics {
    const KIND: &'static str = "test_panics";
    type Context = ();
    type Payload = String;

    async fn run(_: &(), _: &mut PgConnection, job: &Queued<String>) -> Result<(), JobError> {
        panic!("{}", job.payload)
    }
}

#[derive(Serialize, Deserialize)]
struct Note {
    text: String,
    count: u32,
}

/// A kind that writes down its payload.
struct WritesDown;

#[async_trait]
impl Job for WritesDown {
    const KIND: &'static str = "test_writes_down";
    type Context = ();
    type Payload = Note;

    async fn run(_: &(), conn: &mut PgConnection, job: &Queued<Note>) -> Result<(), JobError> {
        sqlx::query("INSERT INTO test_notes (text, count, about) VALUES ($1, $2, $3)")
            .bind(&job.payload.text)
            .bind(i64::from(job.payload.count))
            .bind(job.recovery_id)
            .execute(conn)
            .await?;
        Ok(())
    }
}

#[tokio::test]
async fn a_job_that_panics_is_a_failed_run_and_the_loop_runs_the_next_job() {
    let app = TestApp::spawn().await;
    sqlx::query("CREATE TABLE test_notes (text text, count bigint, about uuid)")
        .execute(&app.db)
        .await
        .unwrap();
    let settings = Settings::load_from(app.settings_env.clone()).unwrap();
    let wakeup = Arc::new(Notify::new());
    let worker = Arc::new(Worker::new(
        app.db.clone(),
        Arc::new(()),
        Registry::new()
            .register::<Panics>()
            .register::<WritesDown>(),
        settings.worker,
        Arc::clone(&wakeup),
    ));
    let liveness = Arc::new(Liveness::default());
    let (stop, stopped) = watch::channel(false);
    let running = tokio::spawn(liveness.watch(Arc::clone(&worker).run(stopped)));

    // The panicking job is due first, the other right after it, about no recovery.
    let mut conn = app.db.acquire().await.unwrap();
    let now = Utc::now();
    worker::enqueue_payload::<Panics>(&mut conn, None, &"a bug in a job".to_owned(), now)
        .await
        .unwrap();
    let note = Note {
        text: "after the panic".into(),
        count: 2,
    };
    worker::enqueue_payload::<WritesDown>(&mut conn, None, &note, now)
        .await
        .unwrap();
    wakeup.notify_one();

    // The loop gets past the panic and runs the next job, with its payload as it was queued.
    let written = within(Duration::from_secs(10), || async {
        sqlx::query_as::<_, (String, i64, Option<uuid::Uuid>)>(
            "SELECT text, count, about FROM test_notes",
        )
        .fetch_optional(&app.db)
        .await
        .unwrap()
    })
    .await;
    assert_eq!(written, Some(("after the panic".into(), 2, None)));
    assert!(liveness.all_running(), "the loop still runs");

    // The panic was a failed run: rolled back, counted, its message kept, retried later.
    let (attempts, last_error, finished): (i32, String, bool) = sqlx::query_as(
        "SELECT attempts, last_error, finished_at IS NOT NULL FROM jobs WHERE kind = 'test_panics'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(attempts, 1);
    assert!(
        last_error.contains("the job panicked: a bug in a job"),
        "{last_error}"
    );
    assert!(!finished, "it is retried later");

    stop.send(true).unwrap();
    running.await.unwrap();
    assert!(!liveness.all_running(), "a loop that ended is not running");
}
