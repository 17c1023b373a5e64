//! Which background loops of this instance still run. A loop that ends before shutdown (it
//! panicked outside a job, or returned) leaves the instance unable to do its part, so readiness
//! says so instead of staying green.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[derive(Debug, Default)]
pub struct Liveness {
    started: AtomicUsize,
    running: AtomicUsize,
}

impl Liveness {
    /// `task`, counted as running from now until it ends, whether it returns or panics.
    pub fn watch<F: Future>(self: &Arc<Self>, task: F) -> impl Future<Output = F::Output> {
        self.started.fetch_add(1, Ordering::SeqCst);
        self.running.fetch_add(1, Ordering::SeqCst);
        let running = Running(Arc::clone(self));
        async move {
            let _running = running;
            task.await
        }
    }

    /// Whether every loop watched is still running.
    pub fn all_running(&self) -> bool {
        self.running.load(Ordering::SeqCst) == self.started.load(Ordering::SeqCst)
    }
}

/// Held by a watched loop; dropped when it ends (on a panic too, as the task unwinds).
struct Running(Arc<Liveness>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_loop_that_panics_or_returns_is_no_longer_running() {
        let liveness = Arc::new(Liveness::default());
        let (release, wait) = tokio::sync::oneshot::channel::<()>();
        let steady = tokio::spawn(liveness.watch(async move {
            let _ = wait.await;
        }));
        assert!(liveness.all_running());
        let panicking = tokio::spawn(liveness.watch(async { panic!("a loop's own bug") }));
        assert!(panicking.await.is_err(), "the task panicked");
        assert!(!liveness.all_running());

        let fresh = Arc::new(Liveness::default());
        let returning = tokio::spawn(fresh.watch(async {}));
        returning.await.unwrap();
        assert!(!fresh.all_running());

        release.send(()).unwrap();
        steady.await.unwrap();
    }
}
