//! The Cognito call budget (COGNITO_CALLS_PER_SECOND) is one bucket in the database that every
//! instance takes from: together they never get more than the burst plus the rate; background
//! lookups leave 30 % to the calls people wait for; Cognito's throttling halves the rate for
//! everyone. Rules checked at given instants, not timed.

use chrono::{DateTime, Duration, Utc};
use mfa_recovery::store::call_budget::{take, throttled, Take};

use crate::helpers::TestApp;
use crate::proxy::{Fault, Rule};

const RATE: f64 = 20.0;
const RESERVE: f64 = 6.0;
/// A budget of its own: the service under test keeps using its `cognito` one meanwhile.
const NAME: &str = "two-instances";

/// Takes tokens at `now` until the budget says wait, alternating between the two instances'
/// own connections; how many each got.
async fn drain(app: &TestApp, now: DateTime<Utc>, floor: f64) -> (u32, u32) {
    let mut first = app.db.acquire().await.unwrap();
    let mut second = app.db.acquire().await.unwrap();
    let mut got = (0, 0);
    loop {
        let a = take(&mut first, NAME, now, RATE, RATE, floor)
            .await
            .unwrap();
        if a == Take::Taken {
            got.0 += 1;
        }
        let b = take(&mut second, NAME, now, RATE, RATE, floor)
            .await
            .unwrap();
        if b == Take::Taken {
            got.1 += 1;
        }
        if a != Take::Taken && b != Take::Taken {
            return got;
        }
    }
}

#[tokio::test]
async fn two_instances_together_get_the_burst_and_then_the_rate_and_lookups_leave_a_reserve() {
    let app = TestApp::spawn().await;
    let start = Utc::now() + Duration::days(1);

    // Background lookups stop where the reserve starts; the calls people wait for take the rest.
    let (a, b) = drain(&app, start, RESERVE).await;
    assert_eq!(a + b, 14, "{a} + {b}");
    assert!(a > 0 && b > 0, "both instances were served");
    let (a, b) = drain(&app, start, 0.0).await;
    assert_eq!(a + b, 6);

    // Half a second later, half a second's worth, for both together.
    let (a, b) = drain(&app, start + Duration::milliseconds(500), 0.0).await;
    assert_eq!(a + b, 10);
    // However long they waited, at most a second's worth at once.
    let (a, b) = drain(&app, start + Duration::seconds(60), 0.0).await;
    assert_eq!(a + b, 20);

    // Throttled: what is left goes, and the rate halves for everyone.
    let mut conn = app.db.acquire().await.unwrap();
    assert_eq!(throttled(&mut conn, NAME).await.unwrap(), 0.5);
    let (a, b) = drain(&app, start + Duration::seconds(61), 0.0).await;
    assert_eq!(a + b, 10, "a second at half the rate");
    match take(
        &mut conn,
        NAME,
        start + Duration::seconds(61),
        RATE,
        RATE,
        0.0,
    )
    .await
    .unwrap()
    {
        Take::Wait(seconds) => assert!(
            (0.09..=0.11).contains(&seconds),
            "one token at 10 a second: {seconds}"
        ),
        Take::Taken => panic!("the bucket is empty"),
    }
}

#[tokio::test]
async fn the_service_takes_its_calls_from_the_budget_and_slows_down_when_cognito_throttles() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    app.code_for(&user).await;
    let (tokens, factor): (f64, f64) =
        sqlx::query_as("SELECT tokens, factor FROM call_budgets WHERE name = 'cognito'")
            .fetch_one(&app.db)
            .await
            .expect("the service keeps its budget in the database");
    assert!(tokens < 20.0, "the lookup took a token: {tokens}");
    assert_eq!(factor, 1.0);

    // Every attempt of the SDK throttled: the call fails, and every instance slows down.
    app.proxy.inject(Rule::new("AdminGetUser", Fault::Throttle));
    assert_eq!(app.request_recovery(&user.username).await.status(), 202);
    app.run_pending_jobs().await;
    app.proxy.clear();
    let factor: f64 = sqlx::query_scalar("SELECT factor FROM call_budgets WHERE name = 'cognito'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(factor, 0.5);
}
