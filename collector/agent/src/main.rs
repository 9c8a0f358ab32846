//! `rulestudio-collector`: captures syscalls with eBPF and streams them as interchange events.

// Unsafe code only in the modules listed in ARCHITECTURE.md ("Unsafe code"), each block with
// a `// SAFETY:` comment; `xtask/tests/unsafe_policy.rs` keeps the list true.
#![deny(unsafe_code)]
#![warn(clippy::undocumented_unsafe_blocks)]

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser};
use rulestudio_collector::enforce::EnforceArgs;
use rulestudio_collector::fleet::FleetConfig;
use rulestudio_collector::redact::RedactArgs;
use rulestudio_collector::{Config, KernelConfig, kernel, syscalls::SyscallSet};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Rulestudio server base URL, e.g. http://127.0.0.1:8080 or https://studio.example:8443
    #[arg(long, env = "RULESTUDIO_SERVER")]
    server: Option<String>,
    /// Verify an https:// server against only the CAs in this PEM file (default: the system's
    /// roots).
    #[arg(long, env = "RULESTUDIO_CA_CERT")]
    ca_cert: Option<PathBuf>,
    /// Bearer token for the server. Prefer `--token-file` or the environment: a command line is
    /// readable by every process on the host.
    #[arg(
        long,
        env = "RULESTUDIO_TOKEN",
        default_value = "",
        hide_env_values = true,
        hide_default_value = true
    )]
    token: String,
    /// A file holding the bearer token (e.g. a mounted Kubernetes secret).
    #[arg(long, env = "RULESTUDIO_TOKEN_FILE", conflicts_with = "token")]
    token_file: Option<PathBuf>,
    /// Node name sent with every batch (default: the host name).
    #[arg(long, env = "RULESTUDIO_NODE")]
    node: Option<String>,
    /// Directory for batches the server has not acknowledged yet.
    #[arg(long)]
    spool: Option<PathBuf>,
    /// Bound of the spool in bytes; the oldest events are dropped (and counted) beyond it.
    #[arg(long, default_value_t = 256 << 20)]
    spool_max: u64,
    /// Directory for the node's state: the last live-set version it verified, which it
    /// evaluates after a restart while the server is away, and the alert id counter
    /// (default: kept in memory only; each run then has its own alert id incarnation).
    #[arg(long, env = "RULESTUDIO_STATE_DIR")]
    state_dir: Option<PathBuf>,
    /// Bound of the alert spool in bytes (in `--spool`/alerts, else `--state-dir`/alerts); the
    /// oldest alerts are dropped (and counted) beyond it.
    #[arg(long, default_value_t = rulestudio_collector::deliver::ALERT_SPOOL_MAX)]
    alert_spool_max: u64,
    /// Alerts per rule this node sends at most per second (after a burst of
    /// `--alert-burst`); the rest are counted as suppressed.
    #[arg(long, default_value_t = rulestudio_node::RateLimit::default().per_second)]
    alert_rate: f64,
    #[arg(long, default_value_t = rulestudio_node::RateLimit::default().burst)]
    alert_burst: u32,
    /// Fleet mode: keep events in this node's own store (`--store`) and take the live set from
    /// the studio through this NATS server with JetStream (`nats://host:4222`, `tls://…`,
    /// verified with `--ca-cert`), instead of sending events to `--server`.
    #[arg(long, env = "RULESTUDIO_NATS", conflicts_with_all = ["server", "stdout", "record", "spool"])]
    nats: Option<String>,
    /// The node's NATS credentials file (a user JWT and its NKey seed) for `--nats`. Without
    /// it the node connects without authentication, and says so in a warning.
    #[arg(long, env = "RULESTUDIO_NATS_CREDS_FILE", requires = "nats")]
    nats_creds_file: Option<PathBuf>,
    /// The node's event store in fleet mode (default: `events/` under `--state-dir`).
    #[arg(long, env = "RULESTUDIO_STORE", requires = "nats")]
    store: Option<PathBuf>,
    /// In fleet mode, drop the store's sealed segments whose newest event is older than this
    /// (`7d`, `12h`, …; by event time, so a replayed old capture needs a longer one); the store
    /// also keeps within 8 GiB.
    #[arg(long, env = "RULESTUDIO_RETENTION_AGE", default_value = "7d", value_parser = humantime::parse_duration, requires = "nats")]
    retention_age: Duration,
    /// Print interchange events as JSON lines on stdout.
    #[arg(long)]
    stdout: bool,
    /// Also append events to this JSONL file.
    #[arg(long)]
    record: Option<PathBuf>,
    /// Deliver the events of a recorded JSONL file instead of capturing.
    #[arg(long, conflicts_with = "syscalls")]
    replay: Option<PathBuf>,
    /// Comma-separated syscalls to capture (default: all supported).
    #[arg(long)]
    syscalls: Option<String>,
    /// The container runtime's CRI socket (default: the first of containerd's and CRI-O's usual
    /// sockets that exists); container and pod metadata come from it.
    #[arg(long)]
    cri_socket: Option<PathBuf>,
    /// Drop writes to the same (process, fd) closer together than this, e.g. 100ms, 1s.
    #[arg(long, value_parser = parse_duration)]
    dedup_window: Option<Duration>,
    /// Size of the kernel ring buffer, a power of two from 64K to 1G (default 16M). Events the
    /// kernel cannot fit while the agent is behind are counted as `lost_kernel`, not queued.
    #[arg(long, value_name = "BYTES", value_parser = kernel::parse_ring_bytes)]
    ring_buffer: Option<u32>,
    #[command(flatten)]
    enforce: EnforceArgs,
    #[command(flatten)]
    redact: RedactArgs,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map_or((s, "s"), |i| s.split_at(i));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}`: expected a number with unit ns, us, ms or s"))?;
    match unit {
        "ns" => Ok(Duration::from_nanos(n)),
        "us" => Ok(Duration::from_micros(n)),
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        _ => Err(format!(
            "`{s}`: unknown unit `{unit}` (use ns, us, ms or s)"
        )),
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("installing the SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let matches = Args::command().get_matches();
    let args = match Args::from_arg_matches(&matches) {
        Ok(args) => args,
        Err(e) => e.exit(),
    };
    if matches.value_source("token") == Some(ValueSource::CommandLine) {
        tracing::warn!(
            "--token on the command line is readable by every process on this host; \
             use --token-file or RULESTUDIO_TOKEN"
        );
    }
    let token = match &args.token_file {
        Some(path) => match rulestudio_api::auth::read_secret_file(path) {
            Ok(token) => token,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
        None => args.token,
    };
    let syscalls = match args.syscalls.as_deref().map(SyscallSet::parse).transpose() {
        Ok(s) => s.unwrap_or_else(SyscallSet::all),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let redact = match args.redact.redaction() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let fleet = match &args.nats {
        Some(url) => match args
            .store
            .clone()
            .or_else(|| args.state_dir.as_ref().map(|d| d.join("events")))
        {
            Some(store) => Some(FleetConfig {
                url: url.clone(),
                creds_file: args.nats_creds_file.clone(),
                store,
                retention_age: args.retention_age,
            }),
            None => {
                eprintln!(
                    "error: --nats keeps events on this node: give --store DIR or --state-dir DIR"
                );
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    let mut config = Config::new(args.server, token, args.node.unwrap_or_else(hostname));
    config.ca_cert = args.ca_cert;
    config.spool = args.spool;
    config.spool_max = args.spool_max;
    config.state_dir = args.state_dir;
    config.alert_spool_max = args.alert_spool_max;
    config.rate_limit = rulestudio_node::RateLimit {
        burst: args.alert_burst,
        per_second: args.alert_rate,
    };
    config.stdout = args.stdout;
    config.record = args.record;
    config.replay = args.replay;
    config.cri_socket = args.cri_socket.or_else(|| {
        rulestudio_collector::cri::DEFAULT_SOCKETS
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
    });
    let ring_bytes = args
        .ring_buffer
        .unwrap_or(KernelConfig::default().ring_bytes);
    config.kernel = KernelConfig {
        syscalls,
        dedup_window: args.dedup_window,
        ring_bytes,
        redact,
        ..KernelConfig::default()
    };
    config.enforce = args.enforce.config(config.state_dir.as_deref());
    let ran = match fleet {
        Some(fleet) => rulestudio_collector::fleet::run(config, fleet, shutdown_signal())
            .await
            .map_err(|e| e.to_string()),
        None => rulestudio_collector::run(config, shutdown_signal())
            .await
            .map_err(|e| e.to_string()),
    };
    match ran {
        Ok(summary) => {
            let c = summary.counters;
            tracing::info!(
                captured = c.captured,
                filtered = c.filtered,
                lost_kernel = c.lost_kernel,
                sent = c.sent,
                spooled = c.spooled,
                dropped = c.dropped,
                "collector stopped"
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
