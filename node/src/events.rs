//! A node's own event store over time: maintenance every second and sealing at a stop. A fleet
//! node (`rulestudio-collector --nats`) and the studio's all-in-one store run the same.

use rulestudio_store::Store;
use std::sync::Arc;
use std::time::Duration;

/// How often [`Store::maintain`] runs (idle seal, log sync, retention, compaction).
const MAINTAIN_EVERY: Duration = Duration::from_secs(1);

/// Runs [`Store::maintain`] every second on a blocking thread, until the task is dropped.
pub async fn maintain(store: Arc<Store>) {
    let mut tick = tokio::time::interval(MAINTAIN_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let store = store.clone();
        match tokio::task::spawn_blocking(move || store.maintain()).await {
            Ok(Ok(done)) => {
                if done.retention.segments > 0 {
                    tracing::info!(
                        segments = done.retention.segments,
                        events = done.retention.rows,
                        bytes = done.retention.bytes,
                        "event store retention dropped old segments"
                    );
                }
            }
            Ok(Err(e)) => tracing::error!(error = %e, "event store maintenance failed"),
            Err(e) => tracing::error!(error = %e, "event store maintenance panicked"),
        }
    }
}

/// Seals the open segment at a graceful stop (what is not sealed is replayed from the log at
/// the next start anyway; sealing makes the start quick and the segment readable by others).
pub async fn seal(store: Arc<Store>) {
    match tokio::task::spawn_blocking(move || store.seal()).await {
        Ok(Ok(())) => tracing::info!("event store sealed"),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "sealing the event store failed; its log is replayed at the next start")
        }
        Err(e) => tracing::error!(error = %e, "sealing the event store panicked"),
    }
}
