//! The live tail under load: events posted at 10,000 a second (batches of 1,000 every 100 ms)
//! while one browser-like reader tails `GET /api/v1/events/stream`, unfiltered. Prints the
//! rate posted, the messages and bytes the reader got per second, and what the messages stand
//! for (all of it, when nothing lagged). `cargo bench -p rulestudio-server --bench tail
//! [-- SECONDS]` (default 5). Goal (issue #19): a tab stays responsive at 10k events/s, so
//! the messages a second stay near the sampling bound whatever the rate posted.

mod common;

use axum::body::Body;
use axum::http::{Request, header};
use http_body_util::BodyExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};
use tower::ServiceExt;

const RATE: usize = 10_000;
const BATCH: usize = 1_000;

fn main() {
    let seconds = common::count_arg(5);
    let rt = common::runtime();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let (_state, app) = common::server(dir.path()).await;
        let req = Request::get("/api/v1/events/stream")
            .header(header::AUTHORIZATION, format!("Bearer {}", common::TOKEN))
            .body(Body::empty())
            .unwrap();
        let mut body = app.clone().oneshot(req).await.unwrap().into_body();
        let counts = Arc::new(Counts::default());
        let reader = tokio::spawn({
            let counts = counts.clone();
            async move {
                let mut text = String::new();
                while let Some(Ok(frame)) = body.frame().await {
                    let Ok(data) = frame.into_data() else { continue };
                    counts.bytes.fetch_add(data.len() as u64, Relaxed);
                    text.push_str(&String::from_utf8_lossy(&data));
                    while let Some(end) = text.find("\n\n") {
                        let block: String = text.drain(..end + 2).collect();
                        counts.take(&block);
                    }
                }
            }
        });
        let started = Instant::now();
        let mut events = common::Events::new(1_700_000_000_000_000_000, 11);
        let mut tick = tokio::time::interval(Duration::from_millis((1000 * BATCH / RATE) as u64));
        let mut posted = 0u64;
        while started.elapsed() < Duration::from_secs(seconds as u64) {
            tick.tick().await;
            let batch: Vec<String> = events.by_ref().take(BATCH).collect();
            common::ingest(&app, batch.join("\n")).await;
            posted += BATCH as u64;
        }
        let elapsed = started.elapsed().as_secs_f64();
        // The last held sample goes out within 1/25 s of its token.
        tokio::time::sleep(Duration::from_millis(500)).await;
        reader.abort();
        let (messages, bytes) = (counts.messages.load(Relaxed), counts.bytes.load(Relaxed));
        let (stood_for, lagged) = (counts.stood_for.load(Relaxed), counts.lagged.load(Relaxed));
        println!(
            "tail_posted_events_per_s {:.0} ({posted} events in {elapsed:.1} s)",
            posted as f64 / elapsed
        );
        println!(
            "tail_messages_per_s {:.1} ({messages} messages, {:.0} KB/s to the reader)",
            messages as f64 / elapsed,
            bytes as f64 / elapsed / 1e3
        );
        println!(
            "tail_events_per_message {:.0} (the messages stand for {stood_for} events; {lagged} lagged; posted {posted})",
            stood_for as f64 / messages.max(1) as f64
        );
    });
}

/// What the reader got.
#[derive(Default)]
struct Counts {
    messages: AtomicU64,
    bytes: AtomicU64,
    stood_for: AtomicU64,
    lagged: AtomicU64,
}

impl Counts {
    /// Counts one SSE message (a block up to its blank line).
    fn take(&self, block: &str) {
        let data = block.lines().find_map(|l| l.strip_prefix("data: "));
        if block.lines().any(|l| l == "event: lagged") {
            let n = data.and_then(|d| d.parse().ok()).unwrap_or(0);
            self.lagged.fetch_add(n, Relaxed);
        } else if let Some(d) = data {
            let ev: rulestudio_api::events::TailedEvent = serde_json::from_str(d).unwrap();
            self.messages.fetch_add(1, Relaxed);
            self.stood_for.fetch_add(ev.stands_for, Relaxed);
        }
    }
}
