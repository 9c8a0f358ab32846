//! Heartbeats over NATS: each node publishes on its own subject; the node's identity is the
//! subject's, never the payload's `node`, and the heartbeat is recorded as a REST one is.

use crate::state::AppState;
use futures::StreamExt;
use rulestudio_api::collector::Heartbeat;
use rulestudio_api::fleet;
use std::time::Duration;

/// Takes heartbeats until the task is aborted, subscribing again after a failure.
pub async fn take(state: AppState, client: async_nats::Client) {
    loop {
        match client.subscribe(fleet::HEARTBEATS).await {
            Ok(mut beats) => {
                while let Some(message) = beats.next().await {
                    record(&state, &message.subject, &message.payload).await;
                }
            }
            Err(e) => tracing::warn!("subscribing to {}: {e}", fleet::HEARTBEATS),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn record(state: &AppState, subject: &str, payload: &[u8]) {
    let Some(node) = fleet::node_of_heartbeat(subject) else {
        tracing::warn!(
            subject,
            "a heartbeat on a subject that names no node: ignored"
        );
        return;
    };
    let mut beat: Heartbeat = match serde_json::from_slice(payload) {
        Ok(beat) => beat,
        Err(e) => {
            tracing::warn!(node, "a heartbeat that is not one: {e}");
            return;
        }
    };
    beat.node = node;
    if let Err(e) = crate::api::collectors::record(state, &beat).await {
        tracing::warn!(node = beat.node, "heartbeat not recorded: {e}");
    }
}
