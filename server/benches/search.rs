//! Event search: the first page of `GET /api/v1/events` for a filter that only the oldest 1% of
//! the stored events match, so the search reads 99% of the store newest first before its
//! first match. `cargo bench -p rulestudio-server --bench search [-- EVENTS]` (default 1M).
//! Goal (issue #13): ≤ 1 s at 10M events.

mod common;

use axum::body::Body;
use axum::http::{Request, header};
use http_body_util::BodyExt;
use std::time::Instant;
use tower::ServiceExt;

const RUNS: usize = 5;

fn main() {
    let total = common::count_arg(1_000_000);
    let oldest = (total / 100).max(1);
    let rt = common::runtime();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let (state, app) = common::server_with(dir.path(), |a| a.preview_cache_mb = 0).await;
        let mut events = common::Events::new(1_700_000_000_000_000_000, 7)
            .take(total)
            .enumerate()
            .peekable();
        while events.peek().is_some() {
            let batch: Vec<String> = events
                .by_ref()
                .take(10_000)
                .map(|(i, line)| match i < oldest {
                    // A value only the oldest 1% have.
                    true => line.replacen('{', r#"{"k8s.ns.name":"ancient","#, 1),
                    false => line,
                })
                .collect();
            common::ingest(&app, batch.join("\n")).await;
        }
        state.store.seal().unwrap();
        println!(
            "search: {total} events in {} sealed segments; the oldest {oldest} match",
            state.store.snapshot().segments.len()
        );
        let mut times = Vec::new();
        let mut found = 0;
        for _ in 0..RUNS {
            let req = Request::get("/api/v1/events?limit=100&filter=k8s.ns.name%20%3D%20ancient")
                .header(header::AUTHORIZATION, format!("Bearer {}", common::TOKEN))
                .body(Body::empty())
                .unwrap();
            let started = Instant::now();
            let resp = app.clone().oneshot(req).await.unwrap();
            let bytes = resp.into_body().collect().await.unwrap().to_bytes();
            times.push(started.elapsed().as_secs_f64() * 1e3);
            let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            found = v["events"].as_array().map_or(0, Vec::len);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "search_first_page_oldest_1pct_ms {:.0} (median of {RUNS}; min {:.0}, max {:.0}; {found} events on the page, {total} stored)",
            common::percentile(&times, 0.5),
            times[0],
            times[RUNS - 1]
        );
    });
}
