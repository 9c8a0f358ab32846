//! Background retention of the database: no alert older than `--retention-age`, and no
//! expired session. (Events live in the event store, whose own retention drops whole sealed
//! segments: `crate::event_store`.)
//!
//! Every delete goes by an index (`alerts_time`, `sessions_expires_at`) and takes at most
//! [`BATCH`] rows per statement, so that a pass costs nothing when there is nothing to delete,
//! and ingest (which waits for SQLite's one writer) never waits for more than one small batch.

use crate::state::AppState;
use crate::time::now_ns;
use sqlx::SqlitePool;
use std::time::Duration;

/// Rows per DELETE statement.
pub const BATCH: i64 = 2_000;

const ALERTS_OVER_AGE: &str =
    "DELETE FROM alerts WHERE id IN (SELECT id FROM alerts WHERE time < ? ORDER BY time LIMIT ?)";
const SESSIONS_EXPIRED: &str = "DELETE FROM sessions WHERE id_hash IN (SELECT id_hash FROM sessions WHERE expires_at < ? ORDER BY expires_at LIMIT ?)";
/// Every statement of a pass (each takes a bound and [`BATCH`]), for checking their plans.
pub const STATEMENTS: [&str; 2] = [ALERTS_OVER_AGE, SESSIONS_EXPIRED];
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
