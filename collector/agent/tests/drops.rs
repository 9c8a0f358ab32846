//! Kernel-side loss, end to end: a ring buffer far too small for a burst of syscalls makes the
//! kernel program fail reservations. Every loss must be counted (`lost_kernel`), carried by the
//! heartbeat to the real server, and shown on its collectors page and `/metrics`; and every
//! syscall of the burst is either stored by the server or covered by that count.

mod common;

use common::server::{start_server, stop_server};
use rulestudio_collector::syscalls::SyscallSet;
use rulestudio_collector::{Config, KernelConfig};
use serde_json::Value;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

const TOKEN: &str = "rs_drops_admin_token";
const NODE: &str = "drops-test-node";
/// The smallest ring that still holds the largest record (an exec with three full strings):
/// a burst of opens fills it long before the reader's next drain.
const TINY_RING: u32 = 64 << 10;
/// Opens of `/dev/null` per burst: one `cat` process with this many arguments.
const BURST: usize = 20_000;

/// The node's row on the collectors page, over HTTP.
async fn collector_row(client: &reqwest::Client, base: &str) -> Option<Value> {
    let list: Value = client
        .get(format!("{base}/api/v1/collectors"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    list["collectors"]
        .as_array()?
        .iter()
        .find(|c| c["node"] == NODE)
        .cloned()
}

/// Runs one `cat` opening `/dev/null` BURST times; returns its pid.
fn burst() -> u32 {
    let mut child = std::process::Command::new("cat")
        .args(std::iter::repeat_n("/dev/null", BURST))
        .spawn()
        .expect("running cat");
    let pid = child.id();
    assert!(child.wait().unwrap().success(), "cat failed");
    pid
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kernel_losses_are_counted_and_reach_the_server_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rulestudio.db");
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let base = format!("http://{addr}");
    let server = start_server(&db, addr, TOKEN).await;
    let client = reqwest::Client::new();

    let record = dir.path().join("captured.jsonl");
    let ready = dir.path().join("rs-drops-ready");
    std::fs::write(&ready, "").unwrap();
    let mut config = Config::new(Some(base.clone()), TOKEN.into(), NODE.into());
    config.spool = Some(dir.path().join("spool"));
    config.record = Some(record.clone());
    config.kernel = KernelConfig {
        syscalls: SyscallSet::parse("openat").unwrap(),
        ring_bytes: TINY_RING,
        ..KernelConfig::default()
    };
    config.batch_events = 1000;
    config.batch_delay = Duration::from_millis(100);
    config.heartbeat = Duration::from_millis(200);
    config.shutdown_grace = Duration::from_secs(30);
    let (stop_collector, stopped) = oneshot::channel::<()>();
    let collector = tokio::spawn(rulestudio_collector::run(config, async {
        let _ = stopped.await;
    }));

    // Capture is live once a child's open of the marker shows up (the ring may drop some).
    let deadline = Instant::now() + Duration::from_secs(30);
    let marker = ready.to_str().unwrap().to_string();
    while !std::fs::read_to_string(&record)
        .unwrap_or_default()
        .contains(&marker)
    {
        assert!(Instant::now() < deadline, "capture never started");
        std::process::Command::new("cat")
            .arg(&ready)
            .status()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The test process is the collector's own: its opens are filtered, and counted as such.
    for _ in 0..10 {
        std::fs::File::open("/dev/null").unwrap();
    }

    // Bursts until the server has heard of a loss; one burst is normally plenty.
    let mut pids = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        pids.push(tokio::task::spawn_blocking(burst).await.unwrap());
        let heard = Instant::now() + Duration::from_secs(3);
        let mut lost = 0;
        while lost == 0 && Instant::now() < heard {
            tokio::time::sleep(Duration::from_millis(200)).await;
            lost = collector_row(&client, &base)
                .await
                .and_then(|c| c["lost_kernel"].as_u64())
                .unwrap_or(0);
        }
        if lost > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} bursts of {BURST} opens and no kernel loss reported",
            pids.len()
        );
    }

    stop_collector.send(()).unwrap();
    let c = collector.await.unwrap().expect("collector run").counters;
    assert!(c.lost_kernel > 0, "{c:?}");
    assert!(c.filtered >= 10, "the test's own opens are filtered: {c:?}");
    assert_eq!((c.dropped, c.spooled), (0, 0), "{c:?}");

    // The last heartbeat goes out after the final flush: the server shows the final counters.
    let row = collector_row(&client, &base)
        .await
        .expect("the node's row on the collectors page");
    let shown = |k: &str| row[k].as_u64().unwrap_or_else(|| panic!("no {k} in {row}"));
    assert_eq!(
        [
            shown("lost_kernel"),
            shown("filtered"),
            shown("captured"),
            shown("sent")
        ],
        [c.lost_kernel, c.filtered, c.captured, c.sent],
        "collectors page vs the agent's counters"
    );
    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = format!(
        "rulestudio_collector_dropped_total{{node=\"{NODE}\",reason=\"kernel\"}} {}",
        c.lost_kernel
    );
    assert!(
        metrics.lines().any(|l| l == line),
        "no `{line}` in /metrics:\n{metrics}"
    );

    // Nothing vanished uncounted: each burst open is stored, or among the kernel's losses.
    let rows = common::server::stored_from(&server.state, NODE);
    assert_eq!(rows.len() as u64, c.sent, "stored vs sent");
    let stored_opens = rows
        .iter()
        .map(|r| serde_json::from_str::<Value>(r).unwrap())
        .filter(|e| e["fd.name"] == "/dev/null" && pids.iter().any(|p| e["proc.pid"] == *p))
        .count() as u64;
    let opened = (pids.len() * BURST) as u64;
    assert!(
        stored_opens + c.lost_kernel >= opened,
        "{opened} opens, {stored_opens} stored, only {} counted lost",
        c.lost_kernel
    );
    stop_server(server).await;
}
