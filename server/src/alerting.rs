//! Alerts: built in Falco's JSON output shape, stored with the events that raised them, then
//! published to the SSE stream, the metrics and `--forward-url`.

use crate::state::AppState;
use crate::time;
use rulestudio_api::alerts::Alert;
use rulestudio_engine::eval::CompiledRule;
use rulestudio_engine::event::Event;
use serde_json::{Map, Value};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use tokio::sync::mpsc;

/// The alert `rule` raises on `ev` (stored with `time`), with ids 0 until it is stored.
pub fn build(
    rule: &CompiledRule,
    ev: &Event,
    time: i64,
    hostname: &str,
    live_version: i64,
) -> Alert {
    let priority = rule.priority.as_str();
    let output_fields: Map<String, Value> = rule
        .output
        .fields(ev)
        .into_iter()
        .map(|(k, v)| (k, v.map_or(Value::Null, Value::String)))
        .collect();
    Alert {
        id: 0,
        event_id: String::new(),
        time: time::rfc3339(time),
        rule: rule.name.clone(),
        priority: priority.to_string(),
        output: format!(
            "{}: {priority} {}",
            time::clock(time),
            rule.output.render(ev)
        ),
        output_fields,
        source: rule.source.clone(),
        tags: rule.tags.clone(),
        hostname: hostname.to_string(),
        live_version,
        triage: Default::default(),
        // The server judges for alerting only; actions are taken, and reported, by nodes.
        action: Default::default(),
    }
}

/// After the transaction committed: stream, count, forward.
pub fn publish(state: &AppState, alerts: Vec<Alert>) {
    for alert in alerts {
        let priority = rulestudio_engine::rule::Priority::parse(&alert.priority)
            .map_or("unknown", |p| p.as_str());
        state.metrics.alert(&alert.rule, priority);
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
