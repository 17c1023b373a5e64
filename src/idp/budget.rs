//! The Cognito call budget (`COGNITO_CALLS_PER_SECOND`), shared by every instance through the
//! database: each call to Cognito takes a token first. The bucket holds a quarter of the budget
//! and refills at the rest, so that no second ever sees more calls than the budget. The calls of
//! people waiting for an answer (a confirmation's password check and reset, the support desk,
//! notices) may empty it; self-service lookups, run in `background`, leave 30 % of it to them.
//! Cognito's throttling halves the rate for every instance (`throttled`), and each call granted
//! raises it again by 1 %, as the SDK's adaptive retry mode does for one client.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;

use crate::clock::Clock;
use crate::store::call_budget::{self, Take};

/// The budget's row.
const NAME: &str = "cognito";
/// The share of the bucket that background calls leave to the others.
const RESERVE: f64 = 0.3;
/// The longest a caller sleeps before asking the budget again.
const MAX_PAUSE: Duration = Duration::from_secs(1);

tokio::task_local! {
    static BACKGROUND: ();
}

/// Runs `work` as background work: its Cognito calls come after everyone else's.
pub async fn background<F: Future>(work: F) -> F::Output {
    BACKGROUND.scope((), work).await
}

fn in_background() -> bool {
    BACKGROUND.try_with(|()| ()).is_ok()
}

pub struct CallBudget {
    db: PgPool,
    /// Tokens per second, of every instance together.
    rate: f64,
    /// The most tokens the bucket holds: with `rate`, no more than the budget in any second.
    burst: f64,
    clock: Arc<dyn Clock>,
}

impl CallBudget {
    pub fn new(db: PgPool, calls_per_second: u32, clock: Arc<dyn Clock>) -> Self {
        let budget = f64::from(calls_per_second);
        let burst = (budget / 4.0).floor().max(1.0);
        Self {
            db,
            rate: (budget - burst).max(1.0),
            burst,
            clock,
        }
    }

    /// Waits until the budget grants one call. A database that cannot be asked does not stop
    /// the call (logged): without the database nothing else works either, and a call that is
    /// needed is not refused for a courtesy to the quota.
    pub async fn take(&self, operation: &'static str) {
        let class = if in_background() {
            "background"
        } else {
            "interactive"
        };
        let floor = if class == "background" {
            (self.burst * RESERVE).min(self.burst - 1.0)
        } else {
            0.0
        };
        let started = std::time::Instant::now();
        let mut waited = false;
        loop {
            let taken = async {
                let mut conn = self.db.acquire().await?;
                call_budget::take(
                    &mut conn,
                    NAME,
                    self.clock.now(),
                    self.rate,
                    self.burst,
                    floor,
                )
                .await
            }
            .await;
            match taken {
                Ok(Take::Taken) => break,
                Ok(Take::Wait(seconds)) => {
                    waited = true;
                    let pause = Duration::from_secs_f64(seconds.clamp(0.001, 1.0)).min(MAX_PAUSE);
                    tokio::time::sleep(pause).await;
                }
                Err(err) => {
                    crate::telemetry::log_unexpected("taking a Cognito call from the budget", &err);
                    break;
                }
            }
        }
        if waited {
            metrics::counter!("cognito_budget_waits_total", "class" => class, "operation" => operation)
                .increment(1);
            metrics::histogram!("cognito_budget_wait_seconds", "class" => class)
                .record(started.elapsed().as_secs_f64());
        }
        metrics::counter!("cognito_budget_calls_total", "class" => class).increment(1);
    }

    /// Cognito throttled a call: every instance slows down.
    pub async fn throttled(&self, operation: &'static str) {
        let slowed = async {
            let mut conn = self.db.acquire().await?;
            call_budget::throttled(&mut conn, NAME).await
        }
        .await;
        match slowed {
            Ok(factor) => {
                metrics::gauge!("cognito_budget_calls_per_second")
                    .set((self.rate + self.burst) * factor);
                tracing::warn!(%operation, calls_per_second = self.rate * factor, "Cognito throttled a call: the call budget slows down");
            }
            Err(err) => crate::telemetry::log_unexpected("slowing the Cognito call budget", &err),
        }
    }
}
