//! Alerts: built in Falco's JSON output shape, stored with the events that raised them, then
//! published to the SSE stream, the metrics and `--forward-url`.

use crate::error::Result;
use crate::ingest::Incoming;
use crate::live::Snapshot;
use crate::state::AppState;
use crate::time;
use rulestudio_api::alerts::Alert;
use rulestudio_engine::eval::CompiledRule;
use serde_json::{Map, Value};
use sqlx::{Sqlite, Transaction};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use tokio::sync::mpsc;

pub struct NewAlert<'a> {
    pub event_id: i64,
    pub event: &'a Incoming,
    pub rule: &'a CompiledRule,
}

/// Builds and inserts the alerts; returns them with their ids.
pub async fn insert(
    tx: &mut Transaction<'_, Sqlite>,
    live: &Snapshot,
    new: &[NewAlert<'_>],
) -> Result<Vec<Alert>> {
    let mut out = Vec::with_capacity(new.len());
    for a in new {
        let mut alert = build(a, live.version);
        let body = serde_json::to_string(&alert).map_err(anyhow::Error::from)?;
        alert.id = sqlx::query(
            "INSERT INTO alerts (event_id, time, rule, priority, live_version, body) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(a.event_id)
        .bind(a.event.time)
        .bind(&alert.rule)
        .bind(&alert.priority)
        .bind(live.version)
        .bind(body)
        .execute(&mut **tx)
        .await?
        .last_insert_rowid();
        out.push(alert);
    }
    Ok(out)
}

fn build(a: &NewAlert<'_>, live_version: i64) -> Alert {
    let ev = &a.event.event;
    let priority = a.rule.priority.as_str();
    let output_fields: Map<String, Value> = a
        .rule
        .output
        .fields(ev)
        .into_iter()
        .map(|(k, v)| (k, v.map_or(Value::Null, Value::String)))
        .collect();
    Alert {
        // The stored body carries id 0; listings overwrite it with the row id.
        id: 0,
        event_id: a.event_id,
        time: time::rfc3339(a.event.time),
        rule: a.rule.name.clone(),
        priority: priority.to_string(),
        output: format!(
            "{}: {priority} {}",
            time::clock(a.event.time),
            a.rule.output.render(ev)
        ),
        output_fields,
        source: a.rule.source.clone(),
        tags: a.rule.tags.clone(),
        hostname: a
            .event
            .fields
            .get("evt.hostname")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        live_version,
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

/// POSTs each alert as Falco JSON to `url` (plain HTTP, like falcosidekick's default listener).
pub async fn forward(
    url: String,
    mut rx: mpsc::Receiver<Arc<Alert>>,
    metrics: Arc<crate::metrics::Metrics>,
) {
    let poster = crate::webhook::Poster::new();
    while let Some(alert) = rx.recv().await {
        if !poster.post_json(&url, &*alert).await {
            metrics.alerts_forward_failed.fetch_add(1, Relaxed);
            tracing::warn!(rule = %alert.rule, %url, "could not forward alert");
        }
    }
}
