//! The budget of one expensive request (preview, suggest-exception, proposal evidence, event
//! search): a deadline, `--request-timeout`, and whether its client is still there.
//!
//! Dropping a request's future (the client left, or [`Deadline::within`] gave up) does not stop
//! work already running on a blocking thread or inside `block_in_place`, so that work asks
//! [`Deadline::check`] every so many items, and the engine's loader asks between items.

use crate::error::{AppError, Result};
use crate::metrics::Metrics;
use crate::state::AppState;
use rulestudio_engine::loader::{self, LoadOptions, Loaded, SourceFile};
use rulestudio_engine::stop::StopCheck;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant};

pub use rulestudio_node::scan::CHECK_EVERY;

#[derive(Clone)]
pub struct Deadline(Arc<Inner>);

struct Inner {
    at: Instant,
    timeout: Duration,
    gone: AtomicBool,
    metrics: Arc<Metrics>,
}

/// Held by the request's future: dropped with it before [`Leave::answered`] (the client left),
/// it counts the request as abandoned; dropped at all, it tells work still running on other
/// threads to stop.
pub struct Leave {
    inner: Arc<Inner>,
    answered: bool,
}

impl Leave {
    /// The answer is ready: the client did not leave.
    pub fn answered(mut self) {
        self.answered = true;
    }
}

impl Drop for Leave {
    fn drop(&mut self) {
        self.inner.gone.store(true, Relaxed);
        if !self.answered {
            self.inner.metrics.requests_abandoned.fetch_add(1, Relaxed);
        }
    }
}

impl Deadline {
    /// The budget of a request starting now; keep the [`Leave`] in the request's future.
    fn start(state: &AppState) -> (Deadline, Leave) {
        let timeout = state.config.request_timeout;
        let inner = Arc::new(Inner {
            at: Instant::now() + timeout,
            timeout,
            gone: AtomicBool::new(false),
            metrics: state.metrics.clone(),
        });
        let leave = Leave {
            inner: inner.clone(),
            answered: false,
        };
        (Deadline(inner), leave)
    }

    /// A deadline that never comes, for unit tests of the work it bounds.
    #[cfg(test)]
    pub fn unlimited() -> Deadline {
        Deadline(Arc::new(Inner {
            at: Instant::now() + Duration::from_secs(3600),
            timeout: Duration::from_secs(3600),
            gone: AtomicBool::new(false),
            metrics: Arc::default(),
        }))
    }

    fn expired(&self) -> bool {
        self.0.gone.load(Relaxed) || Instant::now() >= self.0.at
    }

    fn exceeded(&self) -> AppError {
        AppError::BudgetExceeded(format!(
            "the request needs more than the server's --request-timeout ({}): narrow the window or the rules",
            humantime::format_duration(self.0.timeout)
        ))
    }

    /// `Err` once the deadline has passed or the request is over (its client left).
    pub fn check(&self) -> Result<()> {
        if self.0.gone.load(Relaxed) {
            return Err(AppError::BudgetExceeded(
                "the client left before the answer was ready".into(),
            ));
        }
        if Instant::now() >= self.0.at {
            return Err(self.exceeded());
        }
        Ok(())
    }

    /// The time left before the deadline.
    pub fn remaining(&self) -> Duration {
        self.0.at.saturating_duration_since(Instant::now())
    }

    /// Runs `work` until the deadline; past it, `work` is dropped at its next `.await`.
    pub async fn within<T>(&self, work: impl Future<Output = Result<T>>) -> Result<T> {
        tokio::time::timeout_at(self.0.at.into(), work)
            .await
            .unwrap_or_else(|_| Err(self.exceeded()))
    }

    /// Runs the request `work` within `state`'s budget: [`Deadline::within`] a new deadline,
    /// with the [`Leave`] held for as long as the request's future lives.
    pub async fn run<T, F>(state: &AppState, work: impl FnOnce(Deadline) -> F) -> Result<T>
    where
        F: Future<Output = Result<T>>,
    {
        let (deadline, leave) = Deadline::start(state);
        let answer = deadline.within(work(deadline.clone())).await;
        leave.answered();
        answer
    }

    /// The engine's loader on `files`, asking this deadline between items.
    pub fn load(&self, files: &[SourceFile]) -> Result<Loaded> {
        let stop = || self.expired();
        loader::load_or_stop(files, &LoadOptions::default(), StopCheck::new(&stop))
            .map_err(|_| self.check().err().unwrap_or_else(|| self.exceeded()))
    }
}
