//! End to end: `rulestudio eval --rules falco_rules.yaml --events FILE` over 1M events of
//! JSONL (the realistic mix of `engine/benches/support/mix.rs`, values varied), the real
//! binary, output to a file. `cargo bench -p rulestudio --bench eval_jsonl` prints events per
//! second of wall time (what the user waits for; the command uses every core) and per second
//! of CPU time (the machine may be shared), the median of several runs.

#[path = "../../engine/benches/support/mix.rs"]
mod mix;

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Instant;

const EVENTS: usize = 1_000_000;
const RUNS: usize = 5;

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let events = dir.path().join("events.jsonl");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&events).expect("events file"));
    let mut mix = mix::Mix::new(0x1e55);
    let mut line = String::new();
    for _ in 0..EVENTS {
        line.clear();
        mix.write_next(&mut line);
        line.push('\n');
        file.write_all(line.as_bytes()).expect("write events");
    }
    file.flush().expect("write events");
    drop(file);
    let size = std::fs::metadata(&events).map(|m| m.len()).unwrap_or(0);
    let rules = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../engine/data/falco_rules.yaml"
    );
    let output = dir.path().join("matches.jsonl");

    let mut wall = Vec::new();
    let mut cpu = Vec::new();
    let mut matches = 0;
    for _ in 0..RUNS {
        let out = std::fs::File::create(&output).expect("output file");
        let cpu_before = children_cpu_seconds();
        let start = Instant::now();
        let status = Command::new(env!("CARGO_BIN_EXE_rulestudio"))
            .args(["eval", "--rules", rules, "--events"])
            .arg(&events)
            .stdout(Stdio::from(out))
            .status()
            .expect("run rulestudio");
        let secs = start.elapsed().as_secs_f64();
        assert!(status.success(), "rulestudio eval failed: {status}");
        wall.push(EVENTS as f64 / secs / 1e6);
        cpu.push(EVENTS as f64 / (children_cpu_seconds() - cpu_before) / 1e6);
        matches = std::fs::read(&output)
            .map(|o| o.iter().filter(|&&b| b == b'\n').count())
            .unwrap_or(0);
    }
    wall.sort_by(f64::total_cmp);
    cpu.sort_by(f64::total_cmp);
    println!(
        "rulestudio eval: {EVENTS} events ({:.0} MB of JSONL) through falco_rules.yaml, {matches} matches; {RUNS} runs: median {:.2} M events/s wall (min {:.2}, max {:.2}), {:.2} M events per CPU-second",
        size as f64 / 1e6,
        wall[RUNS / 2],
        wall[0],
        wall[RUNS - 1],
        cpu[RUNS / 2],
    );
}

/// User + system time of the waited-for children so far.
fn children_cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut u);
        u
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}
