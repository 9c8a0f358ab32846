//! Background retention: keeps at most `--retention-events` events, no event or alert older
//! than `--retention-age`, and no expired session.
//!
//! Every delete goes by an index (the id, `events_time`, `alerts_time`,
//! `sessions_expires_at`) and takes at most [`BATCH`] rows per statement, so that a pass costs
//! nothing when there is nothing to delete, and ingest (which waits for SQLite's one writer and,
//! for events, for the cache's lock) never waits for more than one small batch.

use crate::state::AppState;
use crate::time::now_ns;
use sqlx::SqlitePool;
use std::time::Duration;

/// Rows per DELETE statement.
pub const BATCH: i64 = 2_000;

const EVENTS_OVER_COUNT: &str = "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE id <= ? ORDER BY id LIMIT ?) RETURNING id";
const EVENTS_OVER_AGE: &str = "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE time < ? ORDER BY time LIMIT ?) RETURNING id";
const ALERTS_OVER_AGE: &str =
    "DELETE FROM alerts WHERE id IN (SELECT id FROM alerts WHERE time < ? ORDER BY time LIMIT ?)";
const SESSIONS_EXPIRED: &str = "DELETE FROM sessions WHERE id_hash IN (SELECT id_hash FROM sessions WHERE expires_at < ? ORDER BY expires_at LIMIT ?)";
/// Every statement of a pass (each takes a bound and [`BATCH`]), for checking their plans.
pub const STATEMENTS: [&str; 4] = [
    EVENTS_OVER_COUNT,
    EVENTS_OVER_AGE,
    ALERTS_OVER_AGE,
    SESSIONS_EXPIRED,
];
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

/// What one retention pass removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Removed {
    pub events: u64,
    pub alerts: u64,
    pub sessions: u64,
    /// DELETE statements that removed rows (each at most [`BATCH`] rows).
    pub batches: u64,
}

/// One retention pass.
pub async fn enforce(state: &AppState) -> Result<Removed, sqlx::Error> {
    let now = now_ns();
    let cutoff = now - state.config.retention_age.as_nanos().min(i64::MAX as u128) as i64;
    let mut removed = Removed::default();
    let max_id: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM events")
        .fetch_one(&state.db)
        .await?;
    if let Some(max_id) = max_id {
        let keep_from = max_id - state.config.retention_events.min(i64::MAX as u64) as i64;
        // Over the count (oldest ids first, by the primary key), then over the age (by the
        // time index: ids and times need not be in the same order).
        for (sql, bound) in [(EVENTS_OVER_COUNT, keep_from), (EVENTS_OVER_AGE, cutoff)] {
            loop {
                // Under the cache's write lock, so that the cache forgets exactly the rows
                // deleted, and none that ingest is about to add.
                let _writing = state.cache.write().await;
                let mut ids: Vec<i64> = sqlx::query_scalar(sql)
                    .bind(bound)
                    .bind(BATCH)
                    .fetch_all(&state.db)
                    .await?;
                ids.sort_unstable();
                state.cache.remove(&ids);
                if !count(&mut removed.events, &mut removed.batches, ids.len() as u64) {
                    break;
                }
            }
        }
        if removed.events > 0 {
            sqlx::query("DELETE FROM labels WHERE event_id NOT IN (SELECT id FROM events)")
                .execute(&state.db)
                .await?;
        }
    }
    removed.alerts = batched(&state.db, ALERTS_OVER_AGE, cutoff, &mut removed.batches).await?;
    removed.sessions = batched(&state.db, SESSIONS_EXPIRED, now, &mut removed.batches).await?;
    if removed != Removed::default() {
        tracing::info!(?removed, "retention removed old rows");
    }
    Ok(removed)
}

/// Runs `sql` (bound `bound` and [`BATCH`]) until it deletes less than a batch; the rows.
async fn batched(
    db: &SqlitePool,
    sql: &'static str,
    bound: i64,
    batches: &mut u64,
) -> Result<u64, sqlx::Error> {
    let mut rows = 0;
    loop {
        let n = sqlx::query(sql)
            .bind(bound)
            .bind(BATCH)
            .execute(db)
            .await?
            .rows_affected();
        if !count(&mut rows, batches, n) {
            return Ok(rows);
        }
    }
}

/// Adds a statement's `n` rows; whether another batch may follow (this one was full).
fn count(rows: &mut u64, batches: &mut u64, n: u64) -> bool {
    *rows += n;
    *batches += (n > 0) as u64;
    n == BATCH as u64
}
