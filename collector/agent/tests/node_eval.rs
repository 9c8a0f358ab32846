//! Evaluation on the node, end to end: the real eBPF program captures real execs, the node
//! runtime judges them against the live set it follows from a real server over real HTTP, and
//! the alerts are stored once under the node's ids, also when the studio was away and the node
//! restarted in between.

mod common;

use common::server::{Running, start_server, stop_server};
use rulestudio_collector::syscalls::SyscallSet;
use rulestudio_collector::{Config, KernelConfig, Summary};
use rulestudio_server::AppState;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

const TOKEN: &str = "rs_node_eval_admin_token";
const NODE: &str = "node-eval-test-node";

/// A rule that matches the exec of `true <marker>...` (the tests run side by side and each
/// node captures every exec of the machine: no marker starts another).
fn rule(name: &str, marker: &str) -> String {
    format!(
        "- rule: {name}\n  desc: d\n  condition: evt.type = execve and evt.dir = < and proc.cmdline startswith \"true {marker}\"\n  output: ran %proc.cmdline\n  priority: WARNING\n"
    )
}

/// Makes `rules` the whole live set; returns its version.
async fn promote(state: &AppState, rules: &str) -> i64 {
    common::server::promote(state, "node_rules.yaml", rules).await
}

fn run_true(marker: &str) {
    std::process::Command::new("true")
        .arg(marker)
        .status()
        .unwrap();
}

/// Waits (at most 30 s, then fails) until `check` holds.
async fn until<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The stored alerts of rules named `rule`: (node alert id, live version, event id, cmdline
/// of the alert's own copy of its event).
async fn stored(state: &AppState, rule: &str) -> Vec<(Option<String>, i64, String, String)> {
    let bodies: Vec<(String,)> =
        sqlx::query_as("SELECT body FROM alerts WHERE rule = ? ORDER BY id")
            .bind(rule)
            .fetch_all(&state.db)
            .await
            .unwrap();
    bodies
        .into_iter()
        .map(|(b,)| {
            let a: rulestudio_api::alerts::Alert = serde_json::from_str(&b).unwrap();
            let cmdline = a
                .event
                .as_ref()
                .and_then(|e| e.get("proc.cmdline"))
                .and_then(|c| c.as_str())
                .unwrap_or_default()
                .to_string();
            (a.node_alert_id, a.live_version, a.event_id, cmdline)
        })
        .collect()
}

struct Node {
    stop: oneshot::Sender<()>,
    run: tokio::task::JoinHandle<Result<Summary, rulestudio_collector::Error>>,
}

/// Starts a collector on `addr` with its spool and state in `dir`, and waits until it captures.
async fn start_node(dir: &Path, addr: SocketAddr, ready: &str) -> Node {
    let record = dir.join(format!("captured-{ready}.jsonl"));
    let mut config = Config::new(Some(format!("http://{addr}")), TOKEN.into(), NODE.into());
    config.spool = Some(dir.join("spool"));
    config.state_dir = Some(dir.join("state"));
    config.record = Some(record.clone());
    config.kernel = KernelConfig {
        syscalls: SyscallSet::parse("execve").unwrap(),
        ..KernelConfig::default()
    };
    config.batch_events = 50;
    config.batch_delay = Duration::from_millis(100);
    config.heartbeat = Duration::from_millis(300);
    config.shutdown_grace = Duration::from_secs(2);
    let (stop, stopped) = oneshot::channel::<()>();
    let run = tokio::spawn(rulestudio_collector::run(config, async {
        let _ = stopped.await;
    }));
    until("capture started", async || {
        run_true(ready);
        std::fs::read_to_string(&record)
            .unwrap_or_default()
            .contains(ready)
            .then_some(())
    })
    .await;
    Node { stop, run }
}

async fn stop_node(node: Node) -> Summary {
    node.stop.send(()).unwrap();
    node.run.await.unwrap().expect("collector run")
}

async fn reported_version(state: &AppState) -> Option<(Option<i64>, Option<String>)> {
    sqlx::query_as("SELECT live_version, compile_error FROM collectors WHERE node = ?")
        .bind(NODE)
        .fetch_optional(&state.db)
        .await
        .unwrap()
}

fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promotion_changes_what_the_node_alerts_on_and_a_bad_version_leaves_it_on_the_last() {
    let dir = tempfile::tempdir().unwrap();
    let addr = free_addr();
    let server = start_server(&dir.path().join("rulestudio.db"), addr, TOKEN).await;
    let state = server.state.clone();
    let v1 = promote(&state, &rule("Rule A", "rs-nodeeval-first")).await;
    let node = start_node(dir.path(), addr, "rs-nodeeval-ready-1").await;

    let a = until("an alert of rule A", async || {
        run_true("rs-nodeeval-first");
        stored(&state, "Rule A").await.into_iter().next()
    })
    .await;
    assert!(
        a.0.as_deref().is_some_and(|id| id.starts_with(NODE)),
        "{a:?}"
    );
    assert_eq!((a.1, a.3.as_str()), (v1, "true rs-nodeeval-first"));

    // A promotion reaches the node and changes what it alerts on.
    let v2 = promote(&state, &rule("Rule B", "rs-nodeeval-second")).await;
    until("the node reports version 2", async || {
        (reported_version(&state).await?.0 == Some(v2)).then_some(())
    })
    .await;
    run_true("rs-nodeeval-first-after");
    let b = until("an alert of rule B", async || {
        run_true("rs-nodeeval-second");
        stored(&state, "Rule B").await.into_iter().next()
    })
    .await;
    assert_eq!(b.1, v2);
    // Alerts are sent in the order of their batches: B's came after the exec of A's marker.
    for a in stored(&state, "Rule A").await {
        assert_eq!(a.1, v1, "{a:?}");
        assert_ne!(
            a.3, "true rs-nodeeval-first-after",
            "rule A left the live set"
        );
    }

    // A version this node cannot compile: it stays on version 2, says why, and still alerts.
    let v3 = promote(
        &state,
        "- rule: From the future\n  desc: d\n  condition: evt.type = execve and proc.future_field = x\n  output: o\n  priority: WARNING\n",
    )
    .await;
    let (running, why) = until("the node reports the compile error", async || {
        let (v, e) = reported_version(&state).await?;
        e.map(|e| (v, e))
    })
    .await;
    assert_eq!(running, Some(v2));
    assert!(why.contains(&format!("version {v3}")), "{why}");
    let b_before = stored(&state, "Rule B").await.len();
    until("another alert of rule B", async || {
        run_true("rs-nodeeval-second");
        (stored(&state, "Rule B").await.len() > b_before).then_some(())
    })
    .await;

    stop_node(node).await;
    // Every alert came from the node (the studio evaluated none of its events), each linked to
    // its stored event.
    let all: Vec<(Option<String>, String)> =
        sqlx::query_as("SELECT node_alert_id, json_extract(body, '$.event_id') FROM alerts")
            .fetch_all(&state.db)
            .await
            .unwrap();
    assert!(!all.is_empty());
    for (id, event_id) in &all {
        assert!(id.is_some(), "an alert the studio raised itself");
        assert!(!event_id.is_empty(), "alert {id:?} not linked to its event");
    }
    stop_server(server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_made_while_the_studio_is_away_are_stored_once_across_a_node_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rulestudio.db");
    let addr = free_addr();
    let server: Running = start_server(&db, addr, TOKEN).await;
    let version = promote(&server.state, &rule("Away", "rs-nodeeval-third")).await;
    let node = start_node(dir.path(), addr, "rs-nodeeval-ready-2").await;
    until("the node runs the version", async || {
        (reported_version(&server.state).await?.0 == Some(version)).then_some(())
    })
    .await;
    stop_server(server).await;

    // The studio is away: alerts wait in the node's alert spool.
    let alert_spool = dir.path().join("spool").join("alerts");
    run_true("rs-nodeeval-third");
    until("an alert spooled", async || {
        let files = std::fs::read_dir(&alert_spool).ok()?.count();
        (files > 0).then_some(())
    })
    .await;
    let first = stop_node(node).await;
    assert!(first.counters.alerts_spooled >= 1, "{:?}", first.counters);

    // A node restarted while the studio is still away evaluates its saved version.
    let node = start_node(dir.path(), addr, "rs-nodeeval-ready-3").await;
    let spooled_before = std::fs::read_dir(&alert_spool).unwrap().count();
    run_true("rs-nodeeval-third");
    until("a second alert spooled by the restarted node", async || {
        let files = std::fs::read_dir(&alert_spool).ok()?.count();
        (files > spooled_before).then_some(())
    })
    .await;

    // The studio returns: both alerts are stored once, each with its event.
    let server = start_server(&db, addr, TOKEN).await;
    let state = server.state.clone();
    let alerts = until("both alerts stored", async || {
        let a = stored(&state, "Away").await;
        (a.len() >= 2).then_some(a)
    })
    .await;
    let summary = stop_node(node).await;
    let alerts_after = stored(&state, "Away").await;
    assert_eq!(alerts_after.len(), 2, "stored once each: {alerts_after:?}");
    let ids: std::collections::HashSet<_> = alerts.iter().map(|a| a.0.clone()).collect();
    assert_eq!(ids.len(), 2, "two ids: {alerts:?}");
    for a in &alerts_after {
        assert_eq!((a.1, a.3.as_str()), (version, "true rs-nodeeval-third"));
    }
    let c = &summary.counters;
    assert_eq!(
        (c.alerts_spooled, c.alerts_dropped, c.spooled, c.dropped),
        (0, 0, 0, 0),
        "{c:?}"
    );
    // Their events' batches came after them: linked on arrival.
    for a in stored(&state, "Away").await {
        assert!(!a.2.is_empty(), "not linked to its event: {a:?}");
    }
    stop_server(server).await;
}
