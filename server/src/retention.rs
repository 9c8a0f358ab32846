//! Background retention: keeps at most `--retention-events` events and nothing older than
//! `--retention-age`, deleting in small chunks so that ingest is never blocked for long.

use crate::state::AppState;
use crate::time::now_ns;
use std::time::Duration;

const CHUNK: i64 = 20_000;
const PERIOD: Duration = Duration::from_secs(30);

pub async fn run(state: AppState) {
    let mut tick = tokio::time::interval(PERIOD);
    loop {
        tick.tick().await;
        if let Err(e) = enforce(&state).await {
            tracing::error!(error = %e, "retention failed");
        }
    }
}

/// One retention pass; returns how many events were deleted.
pub async fn enforce(state: &AppState) -> Result<u64, sqlx::Error> {
    let cutoff = now_ns() - state.config.retention_age.as_nanos().min(i64::MAX as u128) as i64;
    let max_id: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM events")
        .fetch_one(&state.db)
        .await?;
    let Some(max_id) = max_id else { return Ok(0) };
    let keep_from = max_id - state.config.retention_events.min(i64::MAX as u64) as i64;
    let mut deleted = 0;
    loop {
        // Under the write lock, so that the cache forgets exactly the rows deleted, and none
        // that ingest is about to add.
        let _writing = state.cache.write().await;
        let mut ids: Vec<i64> = sqlx::query_scalar(
            "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE id <= ? OR time < ? ORDER BY id LIMIT ?) RETURNING id",
        )
        .bind(keep_from)
        .bind(cutoff)
        .bind(CHUNK)
        .fetch_all(&state.db)
        .await?;
        ids.sort_unstable();
        state.cache.remove(&ids);
        let n = ids.len() as u64;
        deleted += n;
        if n < CHUNK as u64 {
            break;
        }
    }
    if deleted > 0 {
        sqlx::query("DELETE FROM labels WHERE event_id NOT IN (SELECT id FROM events)")
            .execute(&state.db)
            .await?;
        sqlx::query("DELETE FROM alerts WHERE time < ?")
            .bind(cutoff)
            .execute(&state.db)
            .await?;
        tracing::info!(deleted, "retention removed old events");
    }
    Ok(deleted)
}
