//! Preview latency: `POST /api/v1/preview` of a typical rule over the newest N stored events.
//! `cargo bench -p rulestudio-server --bench preview [-- EVENTS]` (default 1M). Goal: ≤ 300 ms
//! median at 1M events.

mod common;

use axum::body::Body;
use axum::http::{Request, header};
use http_body_util::BodyExt;
use std::time::Instant;
use tower::ServiceExt;

/// A typical draft: an exec rule with a macro-like condition, over all stored events.
const RULE: &str = r#"
- rule: Shell spawned in a container
  desc: A shell started inside a container.
  condition: evt.type = execve and container.id != host and proc.name in (bash, sh, zsh) and proc.tty != 0
  output: "Shell in container (user=%user.name container=%container.id image=%container.image.repository cmd=%proc.cmdline)"
  priority: WARNING
"#;

const FILE_RULE: &str = r#"
- rule: Read sensitive file untrusted
  desc: A sensitive file opened for reading by a non-trusted program.
  condition: evt.type in (open, openat, openat2) and fd.name in (/etc/shadow, /etc/sudoers) and not proc.name in (sshd, sudo)
  output: "Sensitive file opened (file=%fd.name proc=%proc.name)"
  priority: WARNING
"#;

const RUNS: usize = 9;

fn main() {
    let total = common::count_arg(1_000_000);
    let rt = common::runtime();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let (state, app) = common::server(dir.path()).await;
        let loading = Instant::now();
        let mut json_bytes = 0usize;
        let mut events = common::Events::new(1_700_000_000_000_000_000, 11).take(total).peekable();
        while events.peek().is_some() {
            let batch: Vec<String> = events.by_ref().take(10_000).collect();
            json_bytes += batch.iter().map(|l| l.len() + 1).sum::<usize>();
            common::ingest(&app, batch.join("\n")).await;
        }
        let cached = state.cache.bytes();
        println!(
            "preview: loaded {total} events in {:.1} s; preview cache {:.0} MB ({:.0} bytes/event)",
            loading.elapsed().as_secs_f64(),
            cached as f64 / 1e6,
            cached as f64 / total as f64
        );
        state.store.seal().unwrap();
        let disk = state.store.disk_use();
        println!(
            "store_bytes_per_event {:.1} (sealed segments {} bytes, log {} bytes; the same events as JSON lines: {:.0} bytes/event)",
            disk.sealed as f64 / total as f64,
            disk.sealed,
            disk.log,
            json_bytes as f64 / total as f64
        );
        row_store_bytes(dir.path(), total).await;
        for (name, rule) in [("exec rule", RULE), ("file rule", FILE_RULE)] {
            measure(&app, "cache", name, rule, total).await;
        }
        drop((state, app));
        // The same store without a cache: every event read from the segments.
        let (_state, app) = common::server_with(dir.path(), |a| a.preview_cache_mb = 0).await;
        for (name, rule) in [("exec rule", RULE), ("file rule", FILE_RULE)] {
            measure(&app, "store", name, rule, total).await;
        }
    });
}

async fn measure(app: &axum::Router, from: &str, name: &str, rule: &str, total: usize) {
    let mut times = Vec::new();
    let mut matched = 0;
    for _ in 0..RUNS {
        let body = serde_json::json!({"rules": rule, "window": {"last_events": total}});
        let req = Request::post("/api/v1/preview")
            .header(header::AUTHORIZATION, format!("Bearer {}", common::TOKEN))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let started = Instant::now();
        let resp = app.clone().oneshot(req).await.unwrap();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        times.push(started.elapsed().as_secs_f64() * 1e3);
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        matched = v["rules"][0]["matched"].as_u64().expect("a preview result");
    }
    times.sort_by(f64::total_cmp);
    println!(
        "preview from the {from} ({name}, {total} events, {matched} matches): median {:.0} ms, min {:.0} ms, max {:.0} ms over {RUNS} runs",
        common::percentile(&times, 0.5),
        times[0],
        times[RUNS - 1]
    );
}

/// The old row store for comparison: the same events as rows of the former `events` table
/// (JSON text and hot columns, with its two indexes) in a SQLite file of its own.
async fn row_store_bytes(dir: &std::path::Path, total: usize) {
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
    let path = dir.join("rows.db");
    let opts = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .page_size(16384);
    let db = sqlx::SqlitePool::connect_with(opts).await.unwrap();
    sqlx::query(
        "CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, node TEXT,
         evt_type TEXT, proc_name TEXT, fd_name TEXT, container_id TEXT, fields TEXT NOT NULL)",
    )
    .execute(&db)
    .await
    .unwrap();
    for index in [
        "CREATE INDEX events_time ON events (time)",
        "CREATE INDEX events_type_time ON events (evt_type, time)",
    ] {
        sqlx::query(index).execute(&db).await.unwrap();
    }
    let mut events = common::Events::new(1_700_000_000_000_000_000, 11)
        .take(total)
        .peekable();
    while events.peek().is_some() {
        let mut tx = db.begin().await.unwrap();
        for line in events.by_ref().take(10_000) {
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            let text = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
            sqlx::query("INSERT INTO events (time, node, evt_type, proc_name, fd_name, container_id, fields) VALUES (?, ?, ?, ?, ?, ?, ?)")
                .bind(v["evt.time"].as_i64().unwrap_or(0))
                .bind(text("evt.hostname"))
                .bind(text("evt.type"))
                .bind(text("proc.name"))
                .bind(text("fd.name"))
                .bind(text("container.id"))
                .bind(&line)
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
    }
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&db)
        .await
        .unwrap();
    db.close().await;
    let bytes = std::fs::metadata(&path).unwrap().len();
    println!(
        "row_store_bytes_per_event {:.1} (the former events table, {bytes} bytes)",
        bytes as f64 / total as f64
    );
}
