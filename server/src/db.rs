//! The SQLite database: opened in WAL mode, migrated at start, seeded on first start.

use anyhow::Context;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::Path;
use std::time::Duration;
use tokio::sync::Notify;

const WRITER_CHECKPOINT_PAGES: u32 = 4096;

pub async fn open(path: &Path) -> anyhow::Result<SqlitePool> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let opts = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // WAL + NORMAL is durable against application crashes; an OS crash may lose the last
        // commits, which collectors re-send (their spool keeps unacknowledged batches).
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
        // Bigger pages make fewer, shallower B-tree updates per inserted event (new databases
        // only: an existing file keeps its page size).
        .page_size(16384)
        // The checkpointer (below) copies the log into the database from its own connection;
        // this is the bound at which a committing writer does it itself, should it fall behind.
        .pragma("wal_autocheckpoint", WRITER_CHECKPOINT_PAGES.to_string())
        .pragma("cache_size", "-65536")
        // Reading through a mapping instead of copying each page out of the OS cache: preview
        // scans of the database read hundreds of megabytes.
        .pragma("mmap_size", (1u64 << 30).to_string())
        .pragma("temp_store", "memory");
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(opts)
        .await
        .with_context(|| format!("opening database {}", path.display()))?;
    sqlx::migrate!("../migrations")
        .run(&pool)
        .await
        .context("migrating the database")?;
    Ok(pool)
}

/// Checkpoints the write-ahead log from a connection of its own whenever ingest has committed,
/// so that copying the log into the database happens beside the writer instead of inside
/// its commits (the writer is the one thread ingest cannot spread).
pub async fn checkpoint_after_commits(db: SqlitePool, commits: std::sync::Arc<Notify>) {
    loop {
        commits.notified().await;
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&db)
            .await
        {
            tracing::warn!(error = %e, "checkpoint failed; the writer checkpoints instead");
        }
    }
}
