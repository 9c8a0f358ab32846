//! Ingest throughput: batches of NDJSON through the router into a real SQLite file, each
//! event evaluated against the official Falco rules (the seeded live set).
//! `cargo bench -p rulestudio-server --bench ingest [-- EVENTS]`. Goal: ≥ 300k events/s on 2 cores.
//!
//! Three rounds of events, each later in time than the one before, go to one server, so later
//! rounds write to a grown database and a filled cache, as a server that has been running does;
//! the median round is the figure.

mod common;

use std::time::Instant;

const BATCH: usize = 5_000;
const CLIENTS: usize = 2;
const ROUNDS: usize = 3;

fn main() {
    let total = common::count_arg(400_000);
    let rt = common::runtime();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let (_state, app) = common::server(dir.path()).await;
        let mut rates = Vec::new();
        for round in 1..=ROUNDS {
            // Events are 1 ms apart: each round starts after the last one's events.
            let start = 1_700_000_000_000_000_000 + (round * total) as i64 * 1_000_000;
            let lines = common::events(total, start, 7);
            let batches: Vec<String> = lines.chunks(BATCH).map(|c| c.join("\n")).collect();
            drop(lines);
            let bytes: usize = batches.iter().map(String::len).sum();
            let cpu = common::cpu_seconds();
            let started = Instant::now();
            let mut tasks = Vec::new();
            for client in 0..CLIENTS {
                let mine: Vec<String> = batches.iter().skip(client).step_by(CLIENTS).cloned().collect();
                let app = app.clone();
                tasks.push(tokio::spawn(async move {
                    for b in mine {
                        common::ingest(&app, b).await;
                    }
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
            let secs = started.elapsed().as_secs_f64();
            let cpu = common::cpu_seconds() - cpu;
            rates.push(total as f64 / secs);
            println!(
                "ingest round {round}: {total} events ({:.0} MB NDJSON) in batches of {BATCH} from {CLIENTS} clients: {secs:.2} s = {:.0} events/s; CPU {cpu:.2} s = {:.1} µs/event ({:.0} events/s per core)",
                bytes as f64 / 1e6,
                total as f64 / secs,
                cpu * 1e6 / total as f64,
                total as f64 / cpu
            );
        }
        rates.sort_by(f64::total_cmp);
        println!(
            "ingest: median of {ROUNDS} rounds {:.0} events/s ({} events stored in all)",
            rates[ROUNDS / 2],
            total * ROUNDS
        );
    });
}
