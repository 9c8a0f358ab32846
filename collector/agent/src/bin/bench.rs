//! `rulestudio-collector-bench`: drives a syscall storm in child processes (the collector ignores
//! its own pid) and prints what the collector made of it: events/s captured, kernel-side losses,
//! the collector's CPU, and the storm's slowdown with the collector on versus off.
//!
//!     rulestudio-collector-bench [--procs 2] [--seconds 5] [--dedup-window-ms N]
//!
//! Needs root (loads the eBPF program). Figures are printed, never asserted.

use clap::Parser;
use rulestudio_collector::capture::Capture;
use rulestudio_collector::kernel::KernelConfig;
use rulestudio_collector::stats::Counters;
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
    /// Internal: run as one storm process for this many seconds and print its syscall count.
    #[arg(long, hide = true)]
    storm: Option<f64>,
}

/// One storm process: open+close of /dev/null (two captured syscalls) until the time is up.
fn storm(seconds: f64) {
    let path = c"/dev/null";
    let end = Instant::now() + Duration::from_secs_f64(seconds);
    let mut n: u64 = 0;
    while n % 1024 != 0 || Instant::now() < end {
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
fn run_storm(procs: usize, seconds: u64) -> (u64, Duration) {
    let exe = std::env::current_exe().expect("own executable");
    let start = Instant::now();
    let children: Vec<_> = (0..procs)
        .map(|_| Command::new(&exe).arg("--storm").arg(seconds.to_string()).stdout(Stdio::piped()).spawn().expect("spawning a storm process"))
        .collect();
    let total = children
        .into_iter()
        .map(|c| String::from_utf8_lossy(&c.wait_with_output().unwrap().stdout).trim().parse::<u64>().unwrap_or(0))
        .sum();
    (total, start.elapsed())
}

fn cpu_time() -> Duration {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage fills the struct we pass.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn main() {
    let args = Args::parse();
    if let Some(seconds) = args.storm {
        storm(seconds);
        return;
    }

    let (base_calls, base_wall) = run_storm(args.procs, args.seconds);
    let base_rate = base_calls as f64 / base_wall.as_secs_f64();
    println!("storm without collector: {:.0} syscalls/s ({} procs)", base_rate, args.procs);

    let counters = Arc::new(Counters::default());
    let mut capture = Capture::start(&KernelConfig::default(), counters.clone()).expect("loading the eBPF program (run as root)");
    let stop = Arc::new(AtomicBool::new(false));
    let events = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let reader = {
        let (stop, events) = (stop.clone(), events.clone());
        std::thread::spawn(move || {
            let mut bytes = 0usize;
            loop {
                let stopping = stop.load(Ordering::Relaxed);
                // Conversion to JSON is part of the measured work; the text is then discarded.
                capture.drain(&mut |e| {
                    bytes += e.len();
                    events.fetch_add(1, Ordering::Relaxed);
                });
                if stopping {
                    return (capture, bytes);
                }
                capture.wait();
            }
        })
    };
    let cpu0 = cpu_time();
    let (calls, wall) = run_storm(args.procs, args.seconds);
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    let (_capture, bytes) = reader.join().unwrap();
    let cpu = cpu_time() - cpu0;
    let hb = counters.snapshot("bench");
    let rate = calls as f64 / wall.as_secs_f64();
    let captured = events.load(Ordering::Relaxed);
    println!("storm with collector:    {rate:.0} syscalls/s");
    println!("captured:                {captured} events, {:.0} events/s, {:.0} bytes/event", captured as f64 / wall.as_secs_f64(), bytes as f64 / captured.max(1) as f64);
    println!("kernel losses:           {} (ring-buffer reservation failures)", hb.lost_kernel);
    println!("collector CPU:           {:.2} cores ({:.2?} over {:.2?})", cpu.as_secs_f64() / wall.as_secs_f64(), cpu, wall);
    println!("storm slowdown:          {:.1}%", (1.0 - rate / base_rate) * 100.0);
}
