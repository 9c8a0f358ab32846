//! Alerts after they are stored: published to the SSE stream, the metrics and `--forward-url`.
//! (They are built in Falco's JSON output shape by `rulestudio_api::alerts::build`, on the
//! studio for events posted to it and on the nodes for the events they capture.)

use crate::state::AppState;
use rulestudio_api::action::Action;
use rulestudio_api::alerts::Alert;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use tokio::sync::mpsc;

/// After the transaction committed: count, then stream and forward, except the alerts of
/// `rulestudio.audit` rules, which are stored and counted only.
pub fn publish(state: &AppState, alerts: Vec<Alert>) {
    for alert in alerts {
        state.metrics.alert(&alert.rule, alert.priority.as_str());
        if Action::of_tags(&alert.tags) == Action::Audit {
            continue;
        }
        let alert = Arc::new(alert);
        // No subscriber is not an error: the alert is stored either way.
        let _ = state.alerts.send(alert.clone());
        if let Some(fwd) = &state.forward
            && fwd.try_send(alert).is_err()
        {
            state.metrics.alerts_forward_failed.fetch_add(1, Relaxed);
        }
    }
}

/// Bounded queue to the forwarder: a slow receiver costs forwarded alerts (counted), never
/// memory or ingest latency.
pub const FORWARD_QUEUE: usize = 10_000;

/// POSTs each alert as Falco JSON to `url` (HTTP, like falcosidekick's default listener, or
/// HTTPS).
pub async fn forward(
    url: String,
    poster: crate::webhook::Poster,
    mut rx: mpsc::Receiver<Arc<Alert>>,
    metrics: Arc<crate::metrics::Metrics>,
) {
    while let Some(alert) = rx.recv().await {
        if !poster.post_json(&url, &*alert).await {
            metrics.alerts_forward_failed.fetch_add(1, Relaxed);
            tracing::warn!(rule = %alert.rule, %url, "could not forward alert");
        }
    }
}
