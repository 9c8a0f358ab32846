//! `rulestudio-collector-bench`: drives a syscall storm in child processes (the collector ignores
//! its own pid) and prints what the collector made of it: events/s captured, kernel-side losses,
//! the collector's CPU, and the storm's slowdown with the collector on versus off.
//!
//!     rulestudio-collector-bench [--procs 2] [--seconds 5] [--rate SYSCALLS_PER_S]
//!                                [--workload 'SHELL COMMAND'] [--runs 3]
//!
//! `--rate` paces the storm (e.g. 500000, the collector's design point); without it the storm
//! runs flat out. Every figure is the median over `--runs` runs of the storm without and with a
//! freshly loaded collector; `bytes/event` counts the kernel records' bytes through the ring
//! buffer, `userspace` the reader thread's CPU time per event, `thread contexts` how often the
//! kernel sent a thread's context (first sight or a change: decision 0017). `--workload` is timed with the collector off and on (default: compiling the
//! collector's own eBPF program with clang ten times, a small real build).
//!
//! `--rules FILE` (repeatable, e.g. Falco's `falco_rules.yaml`) also judges every event as a node
//! does (`rulestudio_node::Evaluator`, the chunk the reader drained at once) and prints the
//! alerts and the event → verdict latency: for each chunk, from the kernel time of its first
//! event to the end of its judging. `--json` also writes every event as JSON, the cost of a node
//! that sends its events to the studio over REST.
//!
//! Needs root (loads the eBPF program). Figures are printed, never asserted.

// Unsafe code only in the modules listed in ARCHITECTURE.md ("Unsafe code"), each block with
// a `// SAFETY:` comment; `xtask/tests/unsafe_policy.rs` keeps the list true.
#![deny(unsafe_code)]
#![warn(clippy::undocumented_unsafe_blocks)]

use clap::Parser;
use rulestudio_api::live::{LiveSet, RuleMatching, RulesFile};
use rulestudio_collector::capture::{Capture, DRAIN_BATCH};
use rulestudio_collector::kernel::KernelConfig;
use rulestudio_collector::stats::Counters;
use rulestudio_engine::event::{FieldSource, LayeredEvent, Value};
use rulestudio_node::{AlertIds, Evaluator, Live, RateLimit};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[derive(Parser)]
struct Args {
    /// Storm processes, each opening and closing /dev/null in a loop.
    #[arg(long, default_value_t = 2)]
    procs: usize,
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Total syscalls/s the storm aims at (0 = as fast as possible).
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// Shell command whose wall time is compared with the collector off and on.
    #[arg(long)]
    workload: Option<String>,
    /// Runs of the storm (each figure printed is the median over runs) and of the workload in
    /// each mode (the best is kept).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Also judge every event against these rules files, as a node does.
    #[arg(long, value_name = "FILE")]
    rules: Vec<std::path::PathBuf>,
    /// Also write every event as interchange JSON, as a node sending to the studio over REST
    /// does (counted in `userspace`; prints `json:`).
    #[arg(long)]
    json: bool,
    /// Internal: run as one storm process for this many seconds and print its syscall count.
    #[arg(long, hide = true)]
    storm: Option<f64>,
    /// Internal: this storm process's share of --rate.
    #[arg(long, hide = true, default_value_t = 0)]
    storm_rate: u64,
}

fn default_workload() -> String {
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/../ebpf");
    format!(
        "for i in 1 2 3 4 5 6 7 8 9 10; do clang -O2 -g -target bpf -D__TARGET_ARCH_x86 \
         -I/usr/include/x86_64-linux-gnu -I{src} -c {src}/collector.bpf.c -o /tmp/rs-bench-$$.o || exit 1; done; rm -f /tmp/rs-bench-$$.o"
    )
}

/// Best wall time of `runs` runs of `cmd`.
fn time_workload(cmd: &str, runs: usize) -> Duration {
    (0..runs.max(1))
        .map(|_| {
            let start = Instant::now();
            let ok = Command::new("sh")
                .arg("-c")
                .arg(cmd)
                .status()
                .expect("running the workload")
                .success();
            assert!(ok, "workload failed: {cmd}");
            start.elapsed()
        })
        .min()
        .unwrap()
}

/// One storm process: open+close of /dev/null (two captured syscalls) until the time is up.
#[allow(unsafe_code)]
fn storm(seconds: f64, rate: u64) {
    let path = c"/dev/null";
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(seconds);
    let mut n: u64 = 0;
    while !n.is_multiple_of(1024) || Instant::now() < end {
        if rate > 0 && n.is_multiple_of(1024) {
            let due = Duration::from_secs_f64(n as f64 / rate as f64);
            if let Some(ahead) = due.checked_sub(start.elapsed()) {
                std::thread::sleep(ahead);
            }
        }
        // SAFETY: a valid C string; the fd is closed right away.
        unsafe {
            let fd = libc::open(path.as_ptr(), libc::O_RDONLY);
            libc::close(fd);
        }
        n += 2;
    }
    println!("{n}");
}

/// Runs `procs` storm processes for `seconds`; returns the syscalls they made and the wall time.
fn run_storm(procs: usize, seconds: u64, rate: u64) -> (u64, Duration) {
    let exe = std::env::current_exe().expect("own executable");
    let start = Instant::now();
    let children: Vec<_> = (0..procs)
        .map(|_| {
            Command::new(&exe)
                .arg("--storm")
                .arg(seconds.to_string())
                .arg("--storm-rate")
                .arg((rate / procs as u64).to_string())
                .stdout(Stdio::piped())
                .spawn()
                .expect("spawning a storm process")
        })
        .collect();
    let total = children
        .into_iter()
        .map(|c| {
            String::from_utf8_lossy(&c.wait_with_output().unwrap().stdout)
                .trim()
                .parse::<u64>()
                .unwrap_or(0)
        })
        .sum();
    (total, start.elapsed())
}

/// CPU time (user + system) of the whole process (`RUSAGE_SELF`) or of the calling thread
/// (`RUSAGE_THREAD`).
#[allow(unsafe_code)]
fn cpu_time(who: libc::c_int) -> Duration {
    // SAFETY: `rusage` is plain integers, for which all-zero bytes are a valid value.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage fills the struct we pass.
    unsafe { libc::getrusage(who, &mut ru) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// What one run measured: the storm alone, then the storm with the collector capturing.
struct Run {
    base_rate: f64,
    rate: f64,
    captured: u64,
    events_per_s: f64,
    /// Kernel records' bytes through the ring buffer, per event.
    bytes_per_event: f64,
    lost: u64,
    cores: f64,
    /// The reader thread's CPU time (reading, decoding, tables, JSON) per event.
    userspace_ns: f64,
    /// Thread contexts the kernel sent, per 100 events (first sight or a change).
    contexts_pct: f64,
    /// Events whose thread the table lacked, read from /proc.
    proc_reads: u64,
    /// With `--rules`: alerts raised, and per chunk its oldest event → verdict, sorted.
    alerts: u64,
    /// With `--json`: bytes of JSON written per event.
    json_bytes_per_event: f64,
    verdict_latency: Vec<Duration>,
}

/// A node's evaluator on the `--rules` files, as the live set's version 1.
fn evaluator(files: &[std::path::PathBuf]) -> Option<Evaluator> {
    if files.is_empty() {
        return None;
    }
    let files = files
        .iter()
        .map(|f| RulesFile {
            name: f.display().to_string(),
            content: std::fs::read_to_string(f).unwrap_or_else(|e| panic!("{}: {e}", f.display())),
        })
        .collect();
    let set = LiveSet {
        version: 1,
        files,
        rule_matching: RuleMatching::First,
        promoted_at: 0,
        promoted_by: String::new(),
        proposal: None,
        engine_changes: Vec::new(),
    };
    let live = Arc::new(Live::default());
    live.install(rulestudio_node::live::compile(set).unwrap_or_else(|e| panic!("--rules: {e}")));
    let ids = AlertIds::open("bench", None).expect("alert ids in memory");
    Some(Evaluator::new(live, "bench", ids, RateLimit::default()))
}

/// The kernel time (`evt.time`, ns since the epoch) of an interchange line.
fn event_time(ev: &LayeredEvent) -> Option<i64> {
    let time = rulestudio_engine::fields::get("evt.time")?;
    match ev.stored(time, None).flatten() {
        Some(Value::Int(t)) => Some(*t),
        _ => None,
    }
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

/// The storm without, then with, a freshly loaded collector; the reader converts every record
/// to its JSON line (the text is discarded) on its own thread, whose CPU time is measured.
fn one_run(args: &Args) -> (Run, Capture) {
    let (base_calls, base_wall) = run_storm(args.procs, args.seconds, args.rate);
    let counters = Arc::new(Counters::default());
    let mut capture = Capture::start(&KernelConfig::default(), counters.clone())
        .expect("loading the eBPF program (run as root)");
    let stop = Arc::new(AtomicBool::new(false));
    let mut judge = evaluator(&args.rules);
    let json = args.json;
    let reader = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let cpu0 = cpu_time(libc::RUSAGE_THREAD);
            let (mut events, mut alerts, mut latency) = (0u64, 0u64, Vec::new());
            let mut json_bytes = 0u64;
            let mut chunk = Vec::new();
            loop {
                let stopping = stop.load(Ordering::Relaxed);
                let n = match &mut judge {
                    None if json => capture.drain(&mut |ev| {
                        events += 1;
                        json_bytes += ev.to_json().len() as u64;
                    }),
                    None => capture.drain(&mut |_| events += 1),
                    Some(judge) => {
                        let n = capture.drain(&mut |ev| chunk.push(ev));
                        events += chunk.len() as u64;
                        if !chunk.is_empty() {
                            alerts += judge
                                .judge_events(None, &chunk)
                                .expect("judging")
                                .alerts
                                .len() as u64;
                            if json {
                                json_bytes +=
                                    chunk.iter().map(|e| e.to_json().len() as u64).sum::<u64>();
                            }
                            // The first record read is about the oldest (the ring keeps order per
                            // CPU).
                            if let Some(t) = chunk.first().and_then(event_time) {
                                latency.push(Duration::from_nanos((now_ns() - t).max(0) as u64));
                            }
                            chunk.clear();
                        }
                        n
                    }
                };
                if n == DRAIN_BATCH {
                    continue;
                }
                if stopping {
                    latency.sort();
                    let cpu = cpu_time(libc::RUSAGE_THREAD) - cpu0;
                    return (capture, events, cpu, alerts, latency, json_bytes);
                }
                capture.wait();
            }
        })
    };
    let cpu0 = cpu_time(libc::RUSAGE_SELF);
    let (calls, wall) = run_storm(args.procs, args.seconds, args.rate);
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    let (capture, captured, reader_cpu, alerts, verdict_latency, json_bytes) =
        reader.join().unwrap();
    let cpu = cpu_time(libc::RUSAGE_SELF) - cpu0;
    let per_event = |x: f64| x / captured.max(1) as f64;
    let run = Run {
        base_rate: base_calls as f64 / base_wall.as_secs_f64(),
        rate: calls as f64 / wall.as_secs_f64(),
        captured,
        events_per_s: captured as f64 / wall.as_secs_f64(),
        bytes_per_event: per_event(capture.ring_bytes() as f64),
        lost: counters.snapshot("bench").lost_kernel,
        cores: cpu.as_secs_f64() / wall.as_secs_f64(),
        userspace_ns: per_event(reader_cpu.as_nanos() as f64),
        contexts_pct: per_event(capture.thread_stats().received as f64) * 100.0,
        proc_reads: capture.thread_stats().proc_reads,
        alerts,
        json_bytes_per_event: per_event(json_bytes as f64),
        verdict_latency,
    };
    (run, capture)
}

/// A run's event → verdict latency at quantile `q`, ms.
fn latency_ms(r: &Run, q: f64) -> f64 {
    let l = &r.verdict_latency;
    l.get(((l.len() as f64 * q) as usize).min(l.len().saturating_sub(1)))
        .map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

/// The median of the runs' values of one figure (the upper one of an even count).
fn median(runs: &[Run], figure: impl Fn(&Run) -> f64) -> f64 {
    let mut v: Vec<f64> = runs.iter().map(figure).collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args = Args::parse();
    if let Some(seconds) = args.storm {
        storm(seconds, args.storm_rate);
        return;
    }

    let workload = args.workload.clone().unwrap_or_else(default_workload);
    let work_off = time_workload(&workload, args.runs);
    let mut runs = Vec::new();
    let mut capture = None;
    for _ in 0..args.runs.max(1) {
        let (run, cap) = one_run(&args);
        runs.push(run);
        capture = Some(cap);
    }
    let med = |figure: fn(&Run) -> f64| median(&runs, figure);
    let of = if runs.len() > 1 {
        format!(" (median of {} runs)", runs.len())
    } else {
        String::new()
    };
    println!(
        "storm without collector: {:.0} syscalls/s ({} procs){of}",
        med(|r| r.base_rate),
        args.procs
    );
    println!("storm with collector:    {:.0} syscalls/s", med(|r| r.rate));
    println!(
        "captured:                {:.0} events, {:.0} events/s, {:.0} bytes/event",
        med(|r| r.captured as f64),
        med(|r| r.events_per_s),
        med(|r| r.bytes_per_event)
    );
    println!(
        "kernel losses:           {:.0} (ring-buffer reservation failures)",
        med(|r| r.lost as f64)
    );
    println!(
        "collector CPU:           {:.2} cores over {}s",
        med(|r| r.cores),
        args.seconds
    );
    println!(
        "userspace:               {:.0} ns/event",
        med(|r| r.userspace_ns)
    );
    if args.json {
        println!(
            "json:                    {:.0} bytes/event written",
            med(|r| r.json_bytes_per_event)
        );
    }
    println!(
        "thread contexts:         {:.2} per 100 events sent by the kernel, {:.0} read from /proc",
        med(|r| r.contexts_pct),
        med(|r| r.proc_reads as f64)
    );
    println!(
        "storm slowdown:          {:.1}%",
        med(|r| (1.0 - r.rate / r.base_rate) * 100.0)
    );
    if !args.rules.is_empty() {
        println!(
            "evaluation:              {:.0} alerts; event -> verdict p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            med(|r| r.alerts as f64),
            med(|r| latency_ms(r, 0.5)),
            med(|r| latency_ms(r, 0.99)),
            med(|r| latency_ms(r, 1.0)),
        );
    }

    // The workload with the collector on, drained the same way.
    let mut capture = capture.expect("at least one run");
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if capture.drain(&mut |_| {}) < DRAIN_BATCH {
                    capture.wait();
                }
            }
        })
    };
    let work_on = time_workload(&workload, args.runs);
    stop.store(true, Ordering::Relaxed);
    reader.join().unwrap();
    println!(
        "workload overhead:       {:.1}% ({:.2?} off, {:.2?} on, best of {}): {}",
        (work_on.as_secs_f64() / work_off.as_secs_f64() - 1.0) * 100.0,
        work_off,
        work_on,
        args.runs,
        if args.workload.is_some() {
            "given command"
        } else {
            "10 clang builds of the eBPF program"
        }
    );
}
