//! Events per second through the full `data/falco_rules.yaml` rule set (loaded with
//! `loader::load`), single core, events decoded beforehand: 1024 distinct events of the
//! realistic mix of `support/mix.rs`, cycled. `cargo bench -p rulestudio-engine --bench eval` prints
//! the figure: the median of several runs, per second of CPU time of the measuring thread
//! (the machine may be shared, so wall time says little).

#[path = "support/mix.rs"]
mod mix;

use rulestudio_engine::event::Event;
use rulestudio_engine::loader::{self, LoadOptions, SourceFile};
use rulestudio_engine::rule::Matching;
use std::hint::black_box;

const DISTINCT: usize = 1024;
const RUNS: usize = 7;

/// Passes over the events per run; `EVAL_BENCH_ROUNDS` lowers it (e.g. to count instructions
/// under `valgrind --tool=callgrind`, where the figure is deterministic).
fn rounds() -> usize {
    std::env::var("EVAL_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(2_000)
}

fn events() -> Vec<Event> {
    let mut mix = mix::Mix::new(0x5eed);
    let mut line = String::new();
    (0..DISTINCT)
        .map(|_| {
            line.clear();
            mix.write_next(&mut line);
            Event::from_json_str(&line).unwrap_or_else(|e| panic!("bench event {line}: {e}"))
        })
        .collect()
}

fn main() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/falco_rules.yaml"
    ))
    .expect("falco_rules.yaml");
    let loaded = loader::load(
        &[SourceFile {
            name: "falco_rules.yaml".into(),
            text,
        }],
        &LoadOptions::default(),
    );
    assert!(
        loaded.ok(),
        "falco_rules.yaml must load: {:?}",
        loaded
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .collect::<Vec<_>>()
    );
    let set = loaded.ruleset;
    let events = events();
    let mut out = Vec::new();
    let rounds = rounds();
    for matching in [Matching::All, Matching::First] {
        let mut matches = 0usize;
        let mut run = || {
            for ev in &events {
                set.eval(black_box(ev), matching, &mut out);
                matches += out.len();
                out.clear();
            }
        };
        // Warm-up, then the measured runs.
        for _ in 0..rounds.div_ceil(10) {
            run();
        }
        let mut rates: Vec<f64> = (0..RUNS)
            .map(|_| {
                let start = cpu_seconds();
                for _ in 0..rounds {
                    run();
                }
                (rounds * events.len()) as f64 / (cpu_seconds() - start) / 1e6
            })
            .collect();
        rates.sort_by(f64::total_cmp);
        println!(
            "eval ({matching:?}): {} rules of falco_rules.yaml, {RUNS} runs of {} events: median {:.2} M events per CPU-second (min {:.2}, max {:.2}); {:.1}% of events match",
            set.rules().len(),
            rounds * events.len(),
            rates[RUNS / 2],
            rates[0],
            rates[RUNS - 1],
            100.0 * matches as f64 / ((rounds.div_ceil(10) + RUNS * rounds) * events.len()) as f64,
        );
    }
}

/// CPU time of this thread, from `/proc/thread-self/schedstat` (nanoseconds on the CPU).
fn cpu_seconds() -> f64 {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat")
        .expect("/proc/thread-self/schedstat");
    s.split_whitespace()
        .next()
        .and_then(|t| t.parse::<f64>().ok())
        .expect("schedstat run time")
        / 1e9
}
