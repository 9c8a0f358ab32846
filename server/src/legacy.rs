//! Events of a database from before the event store (one JSON row each in the `events` table)
//! move into the store in the background at start, oldest first, a batch at a time, while the
//! studio serves. Each batch is appended like an ingest batch (under the cache's write lock,
//! into the cache too), its labels are carried over to the new ids with a copy of the event,
//! and then its rows are deleted. A crash between the append and the delete appends that one
//! batch again at the next start (nothing is lost; at most one batch is doubled). Migrated
//! events get new ids and, being appended now, sort as the newest by arrival; their times are
//! their own. Alerts stored before keep their old event number (`api/alerts.rs`).
//!
//! Progress is logged per batch and shown in `/metrics` (`rulestudio_legacy_events_remaining`).

use crate::cache::chunk::Builder;
use crate::state::AppState;
use rulestudio_engine::event::Event;
use std::sync::atomic::Ordering::Relaxed;

/// Old rows per batch.
const BATCH: i64 = 2_000;

/// Moves every row of the old table into the store; returns the events migrated.
pub async fn migrate(state: &AppState) -> anyhow::Result<u64> {
    let remaining: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events")
        .fetch_one(&state.db)
        .await?;
    if remaining == 0 {
        return Ok(0);
    }
    tracing::info!(
        events = remaining,
        "moving the events of the old events table into the event store"
    );
    state
        .metrics
        .legacy_events_remaining
        .store(remaining as u64, Relaxed);
    let mut moved = 0u64;
    loop {
        let rows: Vec<(i64, i64, String)> =
            sqlx::query_as("SELECT id, time, fields FROM events ORDER BY id LIMIT ?")
                .bind(BATCH)
                .fetch_all(&state.db)
                .await?;
        let Some(&(last, _, _)) = rows.last() else {
            break;
        };
        let mut old_ids = Vec::with_capacity(rows.len());
        let mut events = Vec::with_capacity(rows.len());
        let mut builder = Builder::new();
        for (id, time, fields) in &rows {
            // Rows were valid when stored; one that no longer decodes cannot be kept.
            match Event::from_json_str(fields) {
                Ok(ev) => {
                    builder.push_event(&ev, *time);
                    old_ids.push(*id);
                    events.push(ev);
                }
                Err(e) => tracing::warn!(id, error = %e, "an old event no longer decodes; dropped"),
            }
        }
        let writing = state.cache.write().await;
        let store = state.store.clone();
        let now = crate::time::now_ns();
        let seqs = tokio::task::spawn_blocking(move || store.append(&events, now)).await??;
        let new_ids: Vec<i64> = seqs.map(|s| s as i64).collect();
        if !new_ids.is_empty() {
            state
                .cache
                .append(vec![builder.finish_unplaced()], &new_ids);
        }
        drop(writing);
        let mut tx = state.db.begin().await?;
        for (old, new) in old_ids.iter().zip(&new_ids) {
            let id = state.store.id(*new as u64).to_string();
            let labelled = sqlx::query(
                "INSERT INTO event_labels (event_id, rule, label, note, author, created_at)
                 SELECT ?, rule, label, note, author, created_at FROM labels WHERE event_id = ?
                 ON CONFLICT DO NOTHING",
            )
            .bind(&id)
            .bind(old)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if labelled > 0 {
                sqlx::query(
                    "INSERT INTO labelled_events (event_id, time, fields)
                     SELECT ?, time, fields FROM events WHERE id = ? ON CONFLICT DO NOTHING",
                )
                .bind(&id)
                .bind(old)
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM labels WHERE event_id = ?")
                    .bind(old)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        sqlx::query("DELETE FROM events WHERE id <= ?")
            .bind(last)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        moved += new_ids.len() as u64;
        let left = state
            .metrics
            .legacy_events_remaining
            .load(Relaxed)
            .saturating_sub(rows.len() as u64);
        state.metrics.legacy_events_remaining.store(left, Relaxed);
        tracing::info!(moved, left, "old events moved into the event store");
    }
    state.metrics.legacy_events_remaining.store(0, Relaxed);
    tracing::info!(
        moved,
        "the old events table is empty: every event is in the store"
    );
    Ok(moved)
}
