//! `--notify-url`: every proposal event is POSTed as a small JSON object
//! ([`ProposalEvent`]), so that a team can wire review to its chat. Delivery is off the request
//! path: a bounded queue feeds one task; a full queue or a failed POST is logged and counted
//! (`rulestudio_notify_failed_total`), never an error of the request that caused the event.

use crate::metrics::Metrics;
use crate::webhook::Poster;
use rulestudio_api::proposals::ProposalEvent;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use tokio::sync::mpsc;

const QUEUE: usize = 1000;

/// Where proposal events go; without a URL, nowhere.
#[derive(Clone, Default)]
pub struct Notifier {
    queue: Option<(mpsc::Sender<ProposalEvent>, Arc<Metrics>)>,
}

impl Notifier {
    /// Starts the delivery task; it ends when the last `Notifier` clone is dropped.
    pub fn start(url: String, poster: Poster, metrics: Arc<Metrics>) -> Notifier {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(deliver(url, poster, rx, metrics.clone()));
        Notifier {
            queue: Some((tx, metrics)),
        }
    }

    pub fn send(&self, event: ProposalEvent) {
        let Some((tx, metrics)) = &self.queue else {
            return;
        };
        if let Err(e) = tx.try_send(event) {
            metrics.notify_failed.fetch_add(1, Relaxed);
            tracing::warn!(error = %e, "proposal notification dropped: the queue is full");
        }
    }
}

async fn deliver(
    url: String,
    poster: Poster,
    mut rx: mpsc::Receiver<ProposalEvent>,
    metrics: Arc<Metrics>,
) {
    while let Some(event) = rx.recv().await {
        if poster.post_json(&url, &event).await {
            metrics.notify_sent.fetch_add(1, Relaxed);
        } else {
            metrics.notify_failed.fetch_add(1, Relaxed);
            tracing::warn!(event = %event.event, proposal = event.proposal.id, %url, "could not deliver proposal notification");
        }
    }
}
