//! Delivery to the real Rulestudio server (branch `server`'s ingest endpoint, on a temporary
//! SQLite file): the server is stopped mid-stream and restarted on the same database, and every
//! event the collector captured is stored exactly once.

mod common;

use common::server::{start_server, stop_server, stored_from};
use rulestudio_collector::syscalls::SyscallSet;
use rulestudio_collector::{Config, KernelConfig};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::oneshot;

const TOKEN: &str = "rs_delivery_admin_token";
const NODE: &str = "delivery-test-node";

/// Spawns short processes until told to stop: each exec is one event.
fn workload(stop: std::sync::Arc<std::sync::atomic::AtomicBool>) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        let mut n = 0;
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            std::process::Command::new("true")
                .arg(format!("rs-delivery-{n}"))
                .status()
                .unwrap();
            n += 1;
            std::thread::sleep(Duration::from_millis(5));
        }
        n
    })
}

/// Events as canonical JSON (sorted keys), sorted: equal lists mean exactly-once delivery.
fn canonical(lines: impl Iterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = lines
        .map(|l| serde_json::from_str::<Value>(&l).unwrap().to_string())
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_restart_mid_stream_stores_every_event_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rulestudio.db");
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let server = start_server(&db, addr, TOKEN).await;

    let record = dir.path().join("captured.jsonl");
    let mut config = Config::new(Some(format!("http://{addr}")), TOKEN.into(), NODE.into());
    config.spool = Some(dir.path().join("spool"));
    config.record = Some(record.clone());
    config.kernel = KernelConfig {
        syscalls: SyscallSet::parse("execve").unwrap(),
        ..KernelConfig::default()
    };
    config.batch_events = 20;
    config.batch_delay = Duration::from_millis(100);
    config.heartbeat = Duration::from_millis(300);
    config.shutdown_grace = Duration::from_secs(20);
    let (stop_collector, stopped) = oneshot::channel::<()>();
    let collector = tokio::spawn(rulestudio_collector::run(config, async {
        let _ = stopped.await;
    }));

    // The program loads inside `run`: wait until capture is live before the workload counts.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !std::fs::read_to_string(&record)
        .unwrap_or_default()
        .contains("rs-delivery-ready")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "capture never started"
        );
        std::process::Command::new("true")
            .arg("rs-delivery-ready")
            .status()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let stop_work = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let work = workload(stop_work.clone());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let state = stop_server(server).await;
    drop(state);
    // Down long enough for several batches to be refused and spooled.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let spooled_while_down = common::spooled_batches(&dir.path().join("spool"));
    let server = start_server(&db, addr, TOKEN).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop_work.store(true, std::sync::atomic::Ordering::Relaxed);
    let spawned = tokio::task::spawn_blocking(move || work.join().unwrap())
        .await
        .unwrap();
    stop_collector.send(()).unwrap();
    let summary = collector.await.unwrap().expect("collector run");
    let c = &summary.counters;

    assert!(
        spooled_while_down > 0,
        "batches were spooled while the server was down"
    );
    assert_eq!((c.dropped, c.lost_kernel, c.spooled), (0, 0, 0), "{c:?}");
    assert!(spawned > 100, "workload ran: {spawned} processes");
    let captured = canonical(
        std::fs::read_to_string(&record)
            .unwrap()
            .lines()
            .map(str::to_string),
    );
    assert_eq!(c.sent as usize, captured.len(), "{c:?}");
    let cmdlines: std::collections::HashSet<String> = captured
        .iter()
        .filter_map(|e| {
            serde_json::from_str::<Value>(e)
                .ok()?
                .get("proc.cmdline")?
                .as_str()
                .map(str::to_string)
        })
        .collect();
    let ours = (0..spawned)
        .filter(|n| cmdlines.contains(&format!("true rs-delivery-{n}")))
        .count();
    assert_eq!(ours, spawned, "every workload exec captured");

    let rows = stored_from(&server.state, NODE);
    let stored = canonical(rows.into_iter());
    assert_eq!(stored.len(), captured.len(), "stored vs captured");
    let differ = stored.iter().zip(&captured).find(|(s, c)| s != c);
    assert!(
        differ.is_none(),
        "the stored events are exactly the captured ones; first difference:\nstored   {}\ncaptured {}",
        differ.map_or("", |d| d.0.as_str()),
        differ.map_or("", |d| d.1.as_str()),
    );
    // The last heartbeat goes out after the final flush, so it carries the final counters.
    let (sent, captured_hb): (i64, i64) =
        sqlx::query_as("SELECT sent, captured FROM collectors WHERE node = ?")
            .bind(NODE)
            .fetch_one(&server.state.db)
            .await
            .expect("a heartbeat row for the node");
    assert_eq!((sent as u64, captured_hb as u64), (c.sent, c.captured));
    stop_server(server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_of_a_recorded_file_is_delivered_in_full() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rulestudio.db");
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let server = start_server(&db, addr, TOKEN).await;
    let file = dir.path().join("recorded.jsonl");
    let lines: Vec<String> = (0..250)
        .map(|i| serde_json::json!({"evt.type": "openat", "evt.time": 1_700_000_000_000_000_000i64 + i, "proc.name": "replayed", "fd.name": format!("/tmp/f{i}")}).to_string())
        .collect();
    // A malformed line is skipped, not fatal.
    std::fs::write(
        &file,
        format!(
            "{}\nnot json\n{}\n",
            lines[..100].join("\n"),
            lines[100..].join("\n")
        ),
    )
    .unwrap();
    let mut config = Config::new(
        Some(format!("http://{addr}")),
        TOKEN.into(),
        "replay-node".into(),
    );
    config.replay = Some(file);
    config.batch_events = 40;
    let summary = rulestudio_collector::run(config, std::future::pending())
        .await
        .unwrap();
    assert_eq!(
        (summary.counters.captured, summary.counters.sent),
        (250, 250)
    );
    let rows = stored_from(&server.state, "replay-node");
    assert_eq!(canonical(rows.into_iter()), canonical(lines.into_iter()));
    stop_server(server).await;
}

/// A server that accepts connections and never answers must not hold up anything: batches go
/// to the spool, shutdown leaves them there, and the next run delivers them under their
/// original batch numbers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hung_server_then_restart_delivers_the_spool() {
    let dir = tempfile::tempdir().unwrap();
    let hung = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hung_addr = hung.local_addr().unwrap();
    let accepted = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((conn, _)) = hung.accept().await {
            open.push(conn);
        }
    });
    let file = dir.path().join("recorded.jsonl");
    let lines: Vec<String> = (0..120)
        .map(|i| {
            serde_json::json!({"evt.type": "write", "evt.time": i, "fd.name": format!("/tmp/h{i}")})
                .to_string()
        })
        .collect();
    std::fs::write(&file, lines.join("\n")).unwrap();
    let spool = dir.path().join("spool");
    let config = |server: SocketAddr| {
        let mut c = Config::new(
            Some(format!("http://{server}")),
            TOKEN.into(),
            "hung-node".into(),
        );
        c.spool = Some(spool.clone());
        c.batch_events = 30;
        c.shutdown_grace = Duration::from_millis(500);
        c
    };
    let mut first = config(hung_addr);
    first.replay = Some(file);
    let started = std::time::Instant::now();
    let summary = rulestudio_collector::run(first, std::future::pending())
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a hung server held the run for {:?}",
        started.elapsed()
    );
    assert_eq!(
        (
            summary.counters.sent,
            summary.counters.spooled,
            summary.counters.dropped
        ),
        (0, 120, 0)
    );
    assert_eq!(
        common::spooled_batches(&spool),
        4,
        "four batches of 30 on disk"
    );
    accepted.abort();

    let db = dir.path().join("rulestudio.db");
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let server = start_server(&db, addr, TOKEN).await;
    let mut second = config(addr);
    second.replay = Some(dir.path().join("empty.jsonl"));
    std::fs::write(dir.path().join("empty.jsonl"), "").unwrap();
    second.shutdown_grace = Duration::from_secs(10);
    let summary = rulestudio_collector::run(second, std::future::pending())
        .await
        .unwrap();
    assert_eq!((summary.counters.sent, summary.counters.spooled), (120, 0));
    let rows = stored_from(&server.state, "hung-node");
    assert_eq!(canonical(rows.into_iter()), canonical(lines.into_iter()));
    stop_server(server).await;
}
