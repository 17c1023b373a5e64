//! The service's time, injected. Everything that decides by the time (a code's expiry, a limit's
//! window, a delay after wrong confirmations, a reset's lease, a waiting period, when a job is
//! due) asks the clock, and the store binds its answer as `$now` instead of calling PostgreSQL's
//! `now()`; so tests move time forward instead of sleeping. Times that only record when
//! something happened (`created_at`, `finished_at`) stay the database's.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// Where the service reads the time.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The system's clock: what the service runs on.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The system's clock moved forward by what was `advance`d: for tests, which make time pass
/// without waiting for it.
#[derive(Debug, Default)]
pub struct ShiftedClock {
    ahead_ms: AtomicI64,
}

impl ShiftedClock {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Moves time forward by `by`, for everything that reads this clock.
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.ahead_ms.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::milliseconds(self.ahead_ms.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shifted_clock_runs_ahead_by_what_was_advanced() {
        let clock = ShiftedClock::new();
        let before = clock.now();
        clock.advance(Duration::from_secs(3600));
        let ahead = clock.now() - before;
        assert!(ahead >= chrono::Duration::seconds(3600), "{ahead}");
        assert!(ahead < chrono::Duration::seconds(3660), "{ahead}");
    }
}
