//! Shared by the benchmarks: a server on a temporary database and a generator of realistic
//! interchange events (the mix a busy node sends: mostly file opens, some execs and connects).
#![allow(dead_code)] // each bench uses part of it

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use http_body_util::BodyExt;
use rulestudio_server::{AppState, ServeArgs, app};
use serde_json::json;
use tower::ServiceExt;

pub const TOKEN: &str = "rs_bench_admin";

/// The benches' runtime: two workers, as on the 2-core target machine.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The first numeric command-line argument (the event count), or `default`.
pub fn count_arg(default: usize) -> usize {
    std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(default)
}

pub async fn server(dir: &std::path::Path) -> (AppState, Router) {
    server_with(dir, |_| {}).await
}

/// [`server`] with other flags.
pub async fn server_with(
    dir: &std::path::Path,
    configure: impl FnOnce(&mut ServeArgs),
) -> (AppState, Router) {
    let mut args = ServeArgs::with_db(dir.join("bench.db"));
    args.admin_token = Some(TOKEN.into());
    args.static_dir = dir.join("no-ui");
    configure(&mut args);
    let state = AppState::new(args).await.expect("server state");
    // As `serve` does.
    tokio::spawn(rulestudio_server::db::checkpoint_after_commits(
        state.db.clone(),
        state.commits.clone(),
    ));
    (state.clone(), app(state))
}

const PROCS: &[(&str, &str, &str)] = &[
    ("nginx", "/usr/sbin/nginx", "systemd"),
    (
        "postgres",
        "/usr/lib/postgresql/16/bin/postgres",
        "postgres",
    ),
    ("python3", "/usr/bin/python3.12", "bash"),
    ("node", "/usr/local/bin/node", "npm"),
    ("bash", "/usr/bin/bash", "sshd"),
    ("curl", "/usr/bin/curl", "bash"),
    ("java", "/usr/lib/jvm/bin/java", "containerd-shim"),
    ("sshd", "/usr/sbin/sshd", "systemd"),
];
const FILES: &[&str] = &[
    "/etc/ld.so.cache",
    "/usr/lib/x86_64-linux-gnu/libc.so.6",
    "/var/log/nginx/access.log",
    "/proc/self/status",
    "/etc/passwd",
    "/tmp/upload-123",
    "/var/lib/postgresql/16/main/base/1/1259",
    "/etc/shadow",
    "/dev/null",
    "/home/app/.cache/pip/http/a/b",
    "/etc/ssl/certs/ca-certificates.crt",
    "/sys/fs/cgroup/memory.max",
];
const IMAGES: &[&str] = &[
    "docker.io/library/nginx",
    "docker.io/library/postgres",
    "ghcr.io/acme/api",
    "host",
];

/// A tiny deterministic generator: benchmarks must not depend on a random-number crate's stream.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
}

/// `n` events as NDJSON lines, one millisecond apart from `start_ns`.
pub fn events(n: usize, start_ns: i64, seed: u64) -> Vec<String> {
    Events::new(start_ns, seed).take(n).collect()
}

/// The events of [`events`] one at a time, for loads too big to hold as text.
pub struct Events {
    r: Lcg,
    i: usize,
    start_ns: i64,
}

impl Events {
    pub fn new(start_ns: i64, seed: u64) -> Events {
        Events {
            r: Lcg(seed),
            i: 0,
            start_ns,
        }
    }
}

impl Iterator for Events {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        let (r, i, start_ns) = (&mut self.r, self.i, self.start_ns);
        self.i += 1;
        let (name, exe, pname) = PROCS[r.next() % PROCS.len()];
        let image = IMAGES[r.next() % IMAGES.len()];
        let container = if image == "host" {
            "host".to_string()
        } else {
            format!("{:012x}", r.next() % 50)
        };
        let kind = r.next() % 100;
        let mut ev = json!({
            "evt.time": start_ns + i as i64 * 1_000_000,
            "evt.hostname": "node-1",
            "proc.name": name,
            "proc.exepath": exe,
            "proc.pname": pname,
            "proc.cmdline": format!("{name} --worker {}", r.next() % 8),
            "proc.pid": 1000 + (r.next() % 30000) as i64,
            "proc.ppid": 1 + (r.next() % 1000) as i64,
            "user.name": if r.next() % 4 == 0 { "root" } else { "app" },
            "user.uid": if r.next() % 4 == 0 { 0 } else { 1000 },
            "container.id": container,
            "container.image.repository": image,
        });
        let m = ev.as_object_mut().unwrap();
        if kind < 70 {
            m.insert("evt.type".into(), json!("openat"));
            m.insert("fd.name".into(), json!(FILES[r.next() % FILES.len()]));
            m.insert(
                "evt.arg.flags".into(),
                json!(if r.next() % 5 == 0 {
                    "O_RDWR|O_CREAT"
                } else {
                    "O_RDONLY"
                }),
            );
            m.insert("fd.typechar".into(), json!("f"));
        } else if kind < 85 {
            m.insert("evt.type".into(), json!("connect"));
            m.insert(
                "fd.name".into(),
                json!(format!(
                    "10.0.0.{}:{}->10.0.1.{}:443",
                    r.next() % 255,
                    30000 + r.next() % 30000,
                    r.next() % 255
                )),
            );
            m.insert("fd.typechar".into(), json!("4"));
        } else if kind < 95 {
            m.insert("evt.type".into(), json!("execve"));
            m.insert(
                "proc.tty".into(),
                json!(if r.next() % 10 == 0 { 34816 } else { 0 }),
            );
        } else {
            m.insert("evt.type".into(), json!("close"));
        }
        Some(ev.to_string())
    }
}

/// Sends one NDJSON batch through the router; panics unless it is accepted.
pub async fn ingest(app: &Router, body: String) {
    let req = Request::post("/api/v1/events")
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .body(Body::from(body))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    assert!(
        status.is_success(),
        "ingest failed: {status} {}",
        String::from_utf8_lossy(&bytes)
    );
}

/// CPU time this process has used (user + system), in seconds: with the wall time it shows
/// what a run would take on an idle machine, whatever else shares the cores.
pub fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name; clock ticks
    // are 100 per second on Linux.
    (ticks(11) + ticks(12)) / 100.0
}

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}
