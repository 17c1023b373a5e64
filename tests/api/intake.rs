//! Public requests arriving together are written in batches (one transaction for many): each is
//! recorded exactly once, with its job and its audit event, and the per-address limit stays
//! exact; a request whose write fails does not take the others in its batch with it.

use std::time::Duration;

use futures::future::join_all;

use mfa_recovery::clock::Clock;

use crate::helpers::{eventually, within, AppOptions, TestApp};

/// Holds every intake write (a lock on the counters) while `requests` are sent, until both of
/// the intake's writers wait for it, so that the requests behind them queue up and go in
/// batches once it is released (or, when the first writer's batch took every request and the
/// second has nothing to write, for at most 2 s); their statuses, in order.
async fn sent_while_intake_is_held(app: &TestApp, requests: &[(String, String)]) -> Vec<u16> {
    let mut lock = app.db.begin().await.unwrap();
    sqlx::query("LOCK TABLE rate_limits IN EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .unwrap();
    let sent = join_all(
        requests
            .iter()
            .map(|(name, ip)| app.request_recovery_from(name, ip)),
    );
    // How many of the intake's writers wait for the lock.
    let waiting = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(&app.db)
        .await
        .unwrap()
    };
    let release = async {
        let one = || async { (waiting().await >= 1).then_some(()) };
        eventually(
            "an intake writer waits for the lock",
            Duration::from_secs(10),
            one,
        )
        .await;
        let both = || async { (waiting().await >= 2).then_some(()) };
        let _ = within(Duration::from_secs(2), both).await;
        lock.commit().await.unwrap();
    };
    let (responses, ()) = tokio::join!(sent, release);
    responses.iter().map(|r| r.status().as_u16()).collect()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.db).await.unwrap()
}

/// `n` requests recorded, each once: its recovery, the job that issues its code, and its
/// (chained) audit event.
async fn assert_recorded(app: &TestApp, n: i64) {
    assert_eq!(count(app, "SELECT count(*) FROM recoveries").await, n);
    let jobs = "SELECT count(*) FROM jobs WHERE kind = 'look_up'";
    assert_eq!(count(app, jobs).await, n);
    app.chained().await;
    let events = "SELECT count(*) FROM audit_events WHERE action = 'recovery.requested'";
    assert_eq!(count(app, events).await, n);
}

#[tokio::test]
async fn requests_arriving_together_are_recorded_once_each_in_batches_and_limits_stay_exact() {
    let app = TestApp::spawn_with(
        AppOptions::default()
            .behind_proxy()
            .set("RECOVERY_REQUESTS_PER_IP_PER_HOUR", 5),
    )
    .await;
    // 40 people at 40 addresses, and 20 requests from one address whose limit is 5.
    let mut requests: Vec<(String, String)> = (0..40)
        .map(|i| (format!("person-{i}"), format!("198.51.100.{i}")))
        .collect();
    requests.extend((0..20).map(|i| (format!("flood-{i}"), "203.0.113.9".to_owned())));
    let statuses = sent_while_intake_is_held(&app, &requests).await;

    assert!(statuses[..40].iter().all(|s| *s == 202), "{statuses:?}");
    let flood = &statuses[40..];
    assert_eq!(flood.iter().filter(|s| **s == 202).count(), 5, "{flood:?}");
    assert_eq!(flood.iter().filter(|s| **s == 429).count(), 15, "{flood:?}");

    assert_recorded(&app, 45).await;
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM audit_events WHERE action = 'recovery.rate_limited'"
        )
        .await,
        1,
        "one event per address and window"
    );
    // Each request's event names its own recovery.
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM recoveries r JOIN audit_events e
               ON e.recovery_id = r.id AND e.action = 'recovery.requested' AND e.username = r.username"
        )
        .await,
        45
    );
    // Written in batches: a batch's rows share its time.
    let transactions = count(&app, "SELECT count(DISTINCT created_at) FROM recoveries").await;
    assert!(
        transactions < 45,
        "{transactions} transactions for 45 requests"
    );
}

#[tokio::test]
async fn a_request_whose_write_fails_fails_alone_and_its_batch_is_recorded() {
    let app = TestApp::spawn_with(AppOptions::default().behind_proxy()).await;
    // A fault in one request's write (here: a trigger refusing its name).
    sqlx::raw_sql(
        "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF NEW.typed_name = 'poison' THEN RAISE EXCEPTION 'refused'; END IF;
           RETURN NEW;
         END $$;
         CREATE TRIGGER refuse_poison BEFORE INSERT ON recoveries
           FOR EACH ROW EXECUTE FUNCTION refuse_poison();",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let mut requests: Vec<(String, String)> = (0..10)
        .map(|i| (format!("person-{i}"), format!("198.51.100.{i}")))
        .collect();
    requests.insert(5, ("poison".to_owned(), "198.51.100.200".to_owned()));
    let statuses = sent_while_intake_is_held(&app, &requests).await;

    assert_eq!(statuses[5], 500, "{statuses:?}");
    statuses
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 5)
        .for_each(|(_, s)| assert_eq!(*s, 202, "{statuses:?}"));
    assert_recorded(&app, 10).await;
    // Counted once each: the failed batch counted nothing.
    assert_eq!(
        count(
            &app,
            "SELECT coalesce(sum(hits), 0)::bigint FROM rate_limits"
        )
        .await,
        10
    );
}

/// Two batches that hold the same client-address keys in different orders count them in one
/// order (the keys sorted), so that neither waits for a row the other holds while holding one it
/// needs: PostgreSQL never has to abort one as a deadlock (it did, in arrival order: a flood from a
/// few shared addresses made an unrelated bystander wait `deadlock_timeout`, 1 s).
#[tokio::test]
async fn batches_holding_the_same_keys_in_opposite_orders_never_deadlock() {
    let app = TestApp::spawn().await;
    let keys: Vec<String> = (0..300)
        .map(|i| format!("ip:request:test-{i:03}"))
        .collect();
    let reversed: Vec<String> = keys.iter().rev().cloned().collect();
    let now = app.clock.now();
    let count = |keys: Vec<String>| {
        let db = app.db.clone();
        async move {
            let mut tx = db.begin().await?;
            mfa_recovery::store::limits::hit_each(&mut tx, now, keys, 3600).await?;
            tx.commit().await
        }
    };
    for round in 0..20 {
        let (a, b) = tokio::join!(count(keys.clone()), count(reversed.clone()));
        for result in [a, b] {
            if let Err(err) = result {
                panic!("round {round}: {err}");
            }
        }
    }
    let counted: i64 = sqlx::query_scalar(
        "SELECT sum(hits)::bigint FROM rate_limits WHERE key LIKE 'ip:request:test-%'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(counted, 300 * 2 * 20, "every hit counted once");
}
