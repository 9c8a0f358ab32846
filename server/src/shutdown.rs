//! Stopping on SIGTERM or SIGINT without dropping work: the listener closes, requests in flight
//! run to their end (an ingest batch is stored and acknowledged, or was never acknowledged),
//! the database is closed cleanly, all within [`GRACE`].

use std::time::Duration;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::watch;

/// How long requests in flight may take to finish once a stop is asked for; then the process
/// exits anyway (an event stream, which never ends by itself, ends here).
pub const GRACE: Duration = Duration::from_secs(10);

/// Resolves on the first SIGTERM or SIGINT.
pub async fn signal_received() {
    received(listen()).await
}

/// Handlers for SIGTERM and SIGINT, installed now: from here on they no longer end the process.
fn listen() -> Option<(Signal, Signal)> {
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(term), Ok(int)) => Some((term, int)),
        _ => {
            // Without handlers the signals keep their default action: the process ends at once.
            tracing::error!("cannot handle SIGTERM/SIGINT: a stop will not drain requests");
            None
        }
    }
}

async fn received(handlers: Option<(Signal, Signal)>) {
    let Some((mut term, mut int)) = handlers else {
        return std::future::pending().await;
    };
    let name = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    };
    tracing::info!(
        "{name}: finishing the requests in flight (at most {} s), then exiting",
        GRACE.as_secs()
    );
}

/// A stop, asked for once and awaited by several.
#[derive(Clone)]
pub struct Stop(watch::Receiver<bool>);

impl Stop {
    /// A stop asked for by the first SIGTERM or SIGINT from now on.
    pub fn on_signal() -> Stop {
        let (tx, rx) = watch::channel(false);
        let handlers = listen();
        tokio::spawn(async move {
            received(handlers).await;
            let _ = tx.send(true);
        });
        Stop(rx)
    }

    /// Resolves once the stop is asked for.
    pub async fn asked(mut self) {
        // An error means the sender is gone, which only happens after it sent.
        let _ = self.0.wait_for(|stop| *stop).await;
    }

    /// Resolves [`GRACE`] after the stop is asked for.
    pub async fn grace_over(self) {
        self.asked().await;
        tokio::time::sleep(GRACE).await;
    }
}
