//! Scan throughput of a three-column rule over sealed segments:
//! `evt.type in (open, openat, openat2) and fd.name startswith /etc/ and proc.name in (bash,
//! sh, cat)`, with its event types and columns pushed down, judged by the engine row by row
//! through `FieldSource`. Rate = stored events / elapsed (the measure).
//! `cargo bench -p rulestudio-store --bench scan` (`EVENTS=n` to change the count).

mod workload;

use rulestudio_engine::compile::compile;
use rulestudio_engine::event::Event;
use rulestudio_engine::fields;
use rulestudio_store::{Config, ScanRequest, Store};
use std::ops::ControlFlow;
use std::time::Instant;

fn main() {
    let n: u64 = std::env::var("EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000_000);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (store, _) = Store::open(dir.path(), "bench", Config::default()).expect("a store");
    let mut w = workload::Workload::default();
    let mut batch: Vec<Event> = (0..1000).map(|_| Event::new()).collect();
    let mut done = 0;
    while done < n {
        for ev in &mut batch {
            w.fill(ev);
        }
        store.append(&batch, 0).expect("append");
        done += batch.len() as u64;
    }
    store.seal().expect("seal");
    let condition = "evt.type in (open, openat, openat2) and fd.name startswith /etc/ and proc.name in (bash, sh, cat)";
    let filter = compile(
        &rulestudio_engine::syntax::parse(condition)
            .ok()
            .expect("parses"),
    )
    .filter
    .expect("compiles");
    let req = ScanRequest {
        event_types: Some(vec!["open".into(), "openat".into(), "openat2".into()]),
        columns: Some(
            ["evt.type", "fd.name", "proc.name"]
                .iter()
                .map(|f| fields::get(f).expect("a field"))
                .collect(),
        ),
        ..ScanRequest::default()
    };
    let mut best = f64::MAX;
    let mut matched = 0u64;
    let mut judged = 0u64;
    for _ in 0..3 {
        matched = 0;
        let t = Instant::now();
        judged = store
            .visit(&req, |row| {
                matched += filter.matches(row) as u64;
                ControlFlow::Continue(())
            })
            .expect("scan");
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!("workload: {n} stored events (see benches/workload/mod.rs); condition: {condition}");
    println!("scan_events_per_s: {:.0}", n as f64 / best);
    println!("scan_rows_judged: {judged}");
    println!("scan_matches: {matched}");
}
