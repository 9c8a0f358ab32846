//! On-disk bytes per event after sealing, every file of the store counted (segments, manifest,
//! the emptied log), beside the same events as JSON lines; and the open segment's log at its
//! largest, printed separately. `cargo bench -p rulestudio-store --bench bytes_per_event`
//! (`EVENTS=n` to change the count).

mod workload;

use rulestudio_engine::event::Event;
use rulestudio_store::{Config, Store};

fn main() {
    let n: u64 = std::env::var("EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (store, _) = Store::open(dir.path(), "bench", Config::default()).expect("a store");
    let mut w = workload::Workload::default();
    let mut batch: Vec<Event> = (0..1000).map(|_| Event::new()).collect();
    let mut json_bytes = 0u64;
    let mut log_peak = 0u64;
    let mut done = 0;
    while done < n {
        for ev in &mut batch {
            w.fill(ev);
            json_bytes += json_len(ev) + 1;
        }
        store.append(&batch, 0).expect("append");
        done += batch.len() as u64;
        log_peak = log_peak.max(store.disk_use().log);
    }
    store.close().expect("close");
    let total = dir_bytes(dir.path());
    println!("workload: {n} events (see benches/workload/mod.rs)");
    println!("bytes_per_event_sealed: {:.2}", total as f64 / n as f64);
    println!("bytes_total_sealed: {total}");
    println!(
        "bytes_per_event_json_lines: {:.1}",
        json_bytes as f64 / n as f64
    );
    println!("open_log_peak_bytes: {log_peak}");
}

/// The event's length as an interchange JSON line.
fn json_len(ev: &Event) -> u64 {
    use rulestudio_engine::event::Value;
    let mut len = 2u64;
    for (field, arg, value) in ev.values() {
        len += field.name().len() as u64 + arg.map_or(0, |a| a.len() as u64 + 2) + 4;
        len += match value {
            Value::Str(s) => s.len() as u64 + 2,
            Value::Ip(ip) => ip.to_string().len() as u64 + 2,
            Value::Int(i) => i.to_string().len() as u64,
            Value::Uint(u) => u.to_string().len() as u64,
            other => format!("{other:?}").len() as u64,
        };
    }
    len
}

/// Bytes of every file under `dir` (the sealed store: segments, manifest, the emptied log).
pub fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .expect("the store directory")
        .flatten()
        .map(|e| {
            let m = e.metadata().expect("metadata");
            if m.is_dir() {
                dir_bytes(&e.path())
            } else {
                m.len()
            }
        })
        .sum()
}
