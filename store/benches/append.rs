//! Append throughput on one thread from decoded events, sealing and compression included
//! (the clock runs over `append` and the final `close`, not over generating the events).
//! `cargo bench -p rulestudio-store --bench append` (`EVENTS=n` to change the count).

mod workload;

use rulestudio_engine::event::Event;
use rulestudio_store::{Config, Store};
use std::time::{Duration, Instant};

fn main() {
    let n: u64 = std::env::var("EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000_000);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (store, _) = Store::open(dir.path(), "bench", Config::default()).expect("a store");
    let mut w = workload::Workload::default();
    let mut batch: Vec<Event> = (0..1000).map(|_| Event::new()).collect();
    let mut spent = Duration::ZERO;
    let mut done = 0;
    while done < n {
        for ev in &mut batch {
            w.fill(ev);
        }
        let t = Instant::now();
        store.append(&batch, 0).expect("append");
        spent += t.elapsed();
        done += batch.len() as u64;
    }
    let t = Instant::now();
    store.close().expect("close");
    spent += t.elapsed();
    println!("workload: {n} events in batches of 1000 (see benches/workload/mod.rs)");
    println!("append_events_per_s: {:.0}", n as f64 / spent.as_secs_f64());
    println!("append_seconds: {:.3}", spent.as_secs_f64());
}
