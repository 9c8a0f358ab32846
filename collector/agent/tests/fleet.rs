//! Fleet mode with real parts (issue #16): a real `nats-server -js`, a real studio (the server's
//! state on a real SQLite file, with its fleet tasks) and real `rulestudio-collector --nats`
//! processes with different node names, each replaying its own capture. A promotion reaches
//! every node, a live set above NATS's `max_payload` too, and one made while NATS restarts;
//! the studio names a node by the subject its heartbeat came on; each node keeps its events in
//! its own store.

#[path = "../../../server/tests/common/ca.rs"]
mod ca;
mod common;
#[path = "../../../server/tests/common/nats.rs"]
mod nats;

use common::server::{Running, start_server};
use rulestudio_api::collector::{CollectorList, Heartbeat};
use rulestudio_server::AppState;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "rs_fleet_admin_token";
const EVENTS: &str = include_str!("../../../server/tests/data/events.jsonl");
const DRAFT: &str = include_str!("../../../server/tests/data/draft.yaml");
const NODES: [&str; 3] = ["node-a", "ip-10-0-0-2.ec2.internal", "node-c"];

/// A collector process, stopped (SIGTERM, then waited for) when dropped.
struct Node {
    name: String,
    child: Child,
    state_dir: PathBuf,
    replay: PathBuf,
}

impl Node {
    fn start(nats: &str, name: &str, dir: &Path, lines: &[&str]) -> Node {
        Self::start_with(nats, name, dir, lines, &[])
    }

    fn start_with(nats: &str, name: &str, dir: &Path, lines: &[&str], extra: &[&str]) -> Node {
        let state_dir = dir.join(name).join("state");
        let replay = dir.join(name).join("capture.jsonl");
        std::fs::create_dir_all(&state_dir).unwrap();
        std::fs::write(&replay, lines.join("\n")).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_rulestudio-collector"))
            .args(["--nats", nats, "--node", name, "--replay"])
            .arg(&replay)
            .arg("--state-dir")
            .arg(&state_dir)
            // The capture was recorded in 2023: a week's retention would drop it.
            .args(["--retention-age", "36500d"])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        Node {
            name: name.into(),
            child,
            state_dir,
            replay,
        }
    }

    /// SIGTERM, and the exit status once it has sealed its store (bounded: a node that does
    /// not stop fails the test).
    fn stop(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "{} did not stop", self.name);
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A studio on a free loopback port, its database in `dir`, with its fleet tasks on `nats`.
async fn fleet_studio(
    nats: &str,
    dir: &Path,
) -> (
    Running,
    std::net::SocketAddr,
    rulestudio_server::fleet::Fleet,
) {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let studio = start_server(&dir.join("rulestudio.db"), addr, TOKEN).await;
    let fleet = rulestudio_server::fleet::start(&studio.state, nats)
        .await
        .unwrap();
    (studio, addr, fleet)
}

/// `GET` of the studio's `path` (under its API base), as the admin.
async fn get<T: serde::de::DeserializeOwned>(addr: std::net::SocketAddr, path: &str) -> T {
    reqwest::Client::new()
        .get(format!("http://{addr}/api/v1{path}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn collectors(addr: std::net::SocketAddr) -> Vec<Heartbeat> {
    let list: CollectorList = get(addr, "/collectors").await;
    list.collectors.into_iter().map(|c| c.heartbeat).collect()
}

/// Waits (bounded) until every node in `nodes` reports live `version`.
async fn until_every_node_runs(addr: std::net::SocketAddr, nodes: &[&str], version: i64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let beats = collectors(addr).await;
        let behind: Vec<&str> = nodes
            .iter()
            .copied()
            .filter(|n| {
                !beats
                    .iter()
                    .any(|b| b.node == *n && b.live_version == Some(version))
            })
            .collect();
        if behind.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "nodes {behind:?} do not run live version {version}: {beats:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What the NATS server has taken in and sent out so far, in bytes (its `/varz`).
async fn wire_bytes(monitor: u16) -> (u64, u64) {
    let varz: serde_json::Value = reqwest::get(format!("http://127.0.0.1:{monitor}/varz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        varz["in_bytes"].as_u64().unwrap(),
        varz["out_bytes"].as_u64().unwrap(),
    )
}

async fn promote(state: &AppState, content: String) -> i64 {
    common::server::promote(state, "fleet.yaml", &content).await
}

/// The live set `node` saved once it has saved `version` (it reports a version as soon as it
/// runs it, and saves it right after).
async fn saved(node: &Node, version: i64) -> rulestudio_api::live::LiveSet {
    let path = node.state_dir.join(rulestudio_node::saved::STATE_FILE);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(text) = std::fs::read_to_string(&path) {
            let set: rulestudio_api::live::LiveSet = serde_json::from_str(&text).unwrap();
            if set.version == version {
                return set;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{} did not save version {version}",
            node.name
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promotion_reaches_every_node_and_events_stay_on_their_node() {
    // With its monitoring port, for the bytes a promotion puts through it.
    let monitor = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut nats = nats::NatsServer::with_args(&["-m", &monitor.to_string()]);
    let dir = tempfile::tempdir().unwrap();
    let (studio, addr, _fleet) = fleet_studio(&nats.url(), dir.path()).await;

    // Each node replays every third event of the shared capture.
    let lines: Vec<&str> = EVENTS.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut nodes: Vec<Node> = NODES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mine: Vec<&str> = lines.iter().copied().skip(i).step_by(3).collect();
            Node::start(&nats.url(), name, dir.path(), &mine)
        })
        .collect();

    // The version current at the studio's start reaches every node.
    let first = studio.state.live.current().version;
    until_every_node_runs(addr, &NODES, first).await;

    // A promotion reaches every node, and each saves it.
    let before = wire_bytes(monitor).await;
    let promoted = Instant::now();
    let second = promote(&studio.state, DRAFT.to_string()).await;
    until_every_node_runs(addr, &NODES, second).await;
    let after = wire_bytes(monitor).await;
    println!(
        "figure: a promotion ran on all {} nodes {:?} after it was made (heartbeats polled every 20 ms); \
         NATS took in {} bytes and sent {} for it (a {} byte rules file; heartbeats included)",
        NODES.len(),
        promoted.elapsed(),
        after.0 - before.0,
        after.1 - before.1,
        DRAFT.len()
    );
    for node in &nodes {
        saved(node, second).await;
    }

    // A live set far above NATS's 1 MB max_payload reaches them whole.
    let padding = format!("# {}\n", "x".repeat(118)).repeat(12_000);
    let big = format!("{DRAFT}{padding}");
    assert!(big.len() > 1 << 20);
    let promoted = Instant::now();
    let third = promote(&studio.state, big.clone()).await;
    until_every_node_runs(addr, &NODES, third).await;
    println!(
        "figure: a {} byte live set ran on all {} nodes {:?} after it was promoted",
        big.len(),
        NODES.len(),
        promoted.elapsed()
    );
    for node in &nodes {
        let set = saved(node, third).await;
        assert_eq!(set.files[0].content, big, "{}", node.name);
    }

    // Across a restart of NATS, a promotion made while it was away reaches every node.
    nats.restart();
    let fourth = promote(&studio.state, DRAFT.to_string()).await;
    until_every_node_runs(addr, &NODES, fourth).await;

    // The studio names a node by its heartbeat's subject, whatever the payload says.
    let client = async_nats::connect(nats.url()).await.unwrap();
    let forged = Heartbeat {
        node: "node-a".into(),
        captured: 999_999,
        ..Heartbeat::default()
    };
    client
        .publish(
            rulestudio_api::fleet::heartbeat_subject("intruder"),
            serde_json::to_vec(&forged).unwrap().into(),
        )
        .await
        .unwrap();
    client.flush().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let beats = loop {
        let beats = collectors(addr).await;
        if beats.iter().any(|b| b.node == "intruder") {
            break beats;
        }
        assert!(Instant::now() < deadline, "no heartbeat of 'intruder'");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let a = beats.iter().find(|b| b.node == "node-a").unwrap();
    assert_ne!(a.captured, 999_999, "node-a's row took a forged payload");

    // Every node keeps exactly its own capture, in its own store; the studio stores none. The
    // nodes stop cleanly with NATS gone.
    drop(nats);
    for node in &mut nodes {
        assert!(node.stop().success(), "{} did not stop cleanly", node.name);
        let replayed = std::fs::read_to_string(&node.replay).unwrap();
        let (store, _) = rulestudio_store::Store::open(
            &node.state_dir.join("events"),
            &node.name,
            rulestudio_store::Config::default(),
        )
        .unwrap();
        let page = store
            .scan(&rulestudio_store::ScanRequest::default(), |_| true)
            .unwrap();
        let mut stored: Vec<i64> = page.events.iter().map(|f| f.time).collect();
        let mut expected: Vec<i64> = replayed
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["evt.time"]
                    .as_i64()
                    .unwrap()
            })
            .collect();
        stored.sort();
        expected.sort();
        assert_eq!(stored, expected, "{}", node.name);
    }
    let studio_events = studio
        .state
        .store
        .scan(&rulestudio_store::ScanRequest::default(), |_| true)
        .unwrap();
    assert!(studio_events.events.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_tls_the_studio_and_nodes_verify_nats_against_the_ca_cert() {
    let dir = tempfile::tempdir().unwrap();
    let authority = ca::Ca::new("fleet test CA");
    let ca_pem = authority.write(dir.path(), "ca");
    let (cert, key) = authority.issue_into(dir.path());
    let nats = nats::NatsServer::with_args(&[
        "--tls",
        "--tlscert",
        cert.to_str().unwrap(),
        "--tlskey",
        key.to_str().unwrap(),
    ]);
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let db = dir.path().join("rulestudio.db");
    let mut studio = start_server(&db, addr, TOKEN).await;
    let mut config = (*studio.state.config).clone();
    config.ca_cert = Some(ca_pem.clone());
    studio.state.config = std::sync::Arc::new(config);
    let _fleet = rulestudio_server::fleet::start(&studio.state, &nats.url())
        .await
        .unwrap();
    let line = EVENTS.lines().next().unwrap();
    let _node = Node::start_with(
        &nats.url(),
        "tls-node",
        dir.path(),
        &[line],
        &["--ca-cert", ca_pem.to_str().unwrap()],
    );
    let version = studio.state.live.current().version;
    until_every_node_runs(addr, &["tls-node"], version).await;
}

#[test]
fn fleet_flags_that_cannot_work_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_rulestudio-collector"))
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, err) = run(&["--nats", "nats://127.0.0.1:9", "--node", "n"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--store DIR or --state-dir DIR"), "{err}");

    let missing = dir.path().join("missing.creds");
    let store = dir.path().join("events");
    let (code, err) = run(&[
        "--nats",
        "nats://127.0.0.1:9",
        "--node",
        "n",
        "--store",
        store.to_str().unwrap(),
        "--nats-creds-file",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("--nats-creds-file") && err.contains("missing.creds"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_started_before_the_studio_gets_the_live_set_when_it_comes() {
    let nats = nats::NatsServer::start();
    let dir = tempfile::tempdir().unwrap();
    let line = EVENTS.lines().next().unwrap();
    // No bucket yet: the node keeps watching for one.
    let _node = Node::start(&nats.url(), "early-node", dir.path(), &[line]);
    let (studio, addr, _fleet) = fleet_studio(&nats.url(), dir.path()).await;
    let version = studio.state.live.current().version;
    until_every_node_runs(addr, &["early-node"], version).await;
}

/// Waits (bounded) until every node reports `stored` events stored in its own store.
async fn until_stored(addr: std::net::SocketAddr, stored: &[(&str, u64)]) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let beats = collectors(addr).await;
        if stored
            .iter()
            .all(|(n, s)| beats.iter().any(|b| b.node == *n && b.sent == *s))
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "nodes did not store {stored:?}: {beats:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Matches per rule of `rules` over `lines`, as `rulestudio eval` counts them (every enabled
/// rule that matches an event, `--first-match` off).
fn eval_counts(rules: &str, lines: &[&str]) -> std::collections::BTreeMap<String, u64> {
    use rulestudio_engine::loader::{LoadOptions, SourceFile, load};
    let loaded = load(
        &[SourceFile {
            name: "draft.yaml".into(),
            text: rules.into(),
        }],
        &LoadOptions::default(),
    );
    let all = loaded.ruleset.rules();
    let mut counts: std::collections::BTreeMap<String, u64> =
        all.iter().map(|r| (r.name.clone(), 0)).collect();
    let mut out = Vec::new();
    for line in lines {
        let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(line).unwrap();
        let ev = rulestudio_engine::event::Event::from_map(&map).unwrap();
        out.clear();
        loaded
            .ruleset
            .eval(&ev, rulestudio_engine::rule::Matching::All, &mut out);
        for &i in &out {
            *counts.get_mut(&all[i].name).unwrap() += 1;
        }
    }
    counts
}

async fn fleet_preview(addr: std::net::SocketAddr) -> rulestudio_api::preview::PreviewResponse {
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/api/v1/preview"))
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({
            "rules": DRAFT,
            "base": "none",
            "window": {"since": "2000-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z"},
            "samples": 5,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_preview_is_the_union_of_the_captures_and_names_missing_and_offline_nodes() {
    let monitor = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let nats = nats::NatsServer::with_args(&["-m", &monitor.to_string()]);
    let dir = tempfile::tempdir().unwrap();
    let (_studio, addr, _fleet) = fleet_studio(&nats.url(), dir.path()).await;
    let lines: Vec<&str> = EVENTS.lines().filter(|l| !l.trim().is_empty()).collect();
    let captures: Vec<Vec<&str>> = (0..NODES.len())
        .map(|i| lines.iter().copied().skip(i).step_by(3).collect())
        .collect();
    let mut nodes: Vec<Node> = NODES
        .iter()
        .zip(&captures)
        .map(|(name, mine)| Node::start(&nats.url(), name, dir.path(), mine))
        .collect();
    let stored: Vec<(&str, u64)> = NODES
        .iter()
        .copied()
        .zip(captures.iter().map(|c| c.len() as u64))
        .collect();
    until_stored(addr, &stored).await;

    // Every node answers; the merged counts are those of the whole capture.
    let before = wire_bytes(monitor).await;
    let asked = Instant::now();
    let preview = fleet_preview(addr).await;
    let took = asked.elapsed();
    let after = wire_bytes(monitor).await;
    println!(
        "figure: a preview over {} nodes ({} events) answered in {took:?}; NATS took in {} bytes \
         and sent {} for it (a {} byte draft, up to 5 samples per rule; heartbeats included)",
        NODES.len(),
        lines.len(),
        after.0 - before.0,
        after.1 - before.1,
        DRAFT.len()
    );
    let nodes_seen = preview
        .nodes
        .clone()
        .expect("a fleet preview names its nodes");
    let mut answered = nodes_seen.answered.clone();
    answered.sort();
    let mut all: Vec<String> = NODES.iter().map(|n| n.to_string()).collect();
    all.sort();
    assert_eq!(answered, all, "{nodes_seen:?}");
    assert!(nodes_seen.missing.is_empty() && nodes_seen.offline.is_empty());
    assert!(nodes_seen.incomplete.is_empty());
    assert_eq!(preview.scanned, lines.len() as u64);
    let expected = eval_counts(DRAFT, &lines);
    assert!(
        expected.values().any(|&n| n > 0),
        "the draft matches nothing"
    );
    let got: std::collections::BTreeMap<String, u64> = preview
        .rules
        .iter()
        .map(|r| (r.name.clone(), r.matched))
        .collect();
    assert_eq!(got, expected);
    for rule in &preview.rules {
        let in_buckets: u64 = rule.histogram.iter().map(|b| b.count).sum();
        assert_eq!(in_buckets, rule.matched, "{}", rule.name);
        assert_eq!(
            rule.samples.len() as u64,
            rule.matched.min(5),
            "{}",
            rule.name
        );
        assert!(
            rule.samples.windows(2).all(|w| w[0].time >= w[1].time),
            "samples newest first"
        );
    }

    // A node killed before the preview is asked (its heartbeat is recent) and is missing; the
    // others still answer, and the counts are theirs.
    let killed = nodes.pop().unwrap();
    drop(killed);
    let preview = fleet_preview(addr).await;
    let nodes_seen = preview.nodes.clone().unwrap();
    assert_eq!(nodes_seen.missing, vec![NODES[2].to_string()]);
    let mut answered = nodes_seen.answered.clone();
    answered.sort();
    let mut rest: Vec<String> = NODES[..2].iter().map(|n| n.to_string()).collect();
    rest.sort();
    assert_eq!(answered, rest);
    let remaining: Vec<&str> = captures[..2].concat();
    assert_eq!(preview.scanned, remaining.len() as u64);
    let got: std::collections::BTreeMap<String, u64> = preview
        .rules
        .iter()
        .map(|r| (r.name.clone(), r.matched))
        .collect();
    assert_eq!(got, eval_counts(DRAFT, &remaining));

    // By now (the whole deadline later) the killed node has missed more than three of its
    // 5 s heartbeats: it is offline, and not asked.
    let preview = fleet_preview(addr).await;
    let nodes_seen = preview.nodes.unwrap();
    assert_eq!(nodes_seen.offline, vec![NODES[2].to_string()]);
    assert!(nodes_seen.missing.is_empty());
    assert_eq!(nodes_seen.answered.len(), 2);
}

/// Waits (bounded) until the live-set bucket points at `version`, so that nodes started now
/// run it from their first event.
async fn until_published(nats: &str, version: i64) {
    let client = async_nats::connect(nats).await.unwrap();
    let context = async_nats::jetstream::new(client);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(bucket) = context
            .get_key_value(rulestudio_api::fleet::LIVE_BUCKET)
            .await
            && let Ok(Some(entry)) = bucket.get(rulestudio_api::fleet::LIVE_KEY).await
            && serde_json::from_slice::<rulestudio_api::fleet::LivePointer>(&entry)
                .is_ok_and(|p| p.version == version)
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "live version {version} never published"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every alert the studio holds.
async fn studio_alerts(addr: std::net::SocketAddr) -> Vec<rulestudio_api::alerts::Alert> {
    let page: rulestudio_api::alerts::AlertPage = get(addr, "/alerts?limit=1000").await;
    assert!(page.next_cursor.is_none(), "more than one page of alerts");
    page.alerts
}

/// Waits (bounded) until the studio holds `n` alerts; fails if it ever holds more.
async fn until_alerts(addr: std::net::SocketAddr, n: usize) -> Vec<rulestudio_api::alerts::Alert> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let alerts = studio_alerts(addr).await;
        assert!(alerts.len() <= n, "{} alerts, expected {n}", alerts.len());
        if alerts.len() == n {
            return alerts;
        }
        assert!(
            Instant::now() < deadline,
            "{} alerts after a minute, expected {n}",
            alerts.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Alerts the live set `rules` raises on `lines` under `matching` (one per event and matching
/// rule; under `first`, one per event that any rule matches), as `rulestudio eval` counts them.
fn expected_alerts(
    rules: &str,
    lines: &[&str],
    matching: rulestudio_engine::rule::Matching,
) -> usize {
    use rulestudio_engine::loader::{LoadOptions, SourceFile, load};
    let loaded = load(
        &[SourceFile {
            name: "fleet.yaml".into(),
            text: rules.into(),
        }],
        &LoadOptions::default(),
    );
    let mut out = Vec::new();
    lines
        .iter()
        .map(|line| {
            let ev = rulestudio_engine::event::Event::from_json_str(line).unwrap();
            out.clear();
            loaded.ruleset.eval(&ev, matching, &mut out);
            out.len()
        })
        .sum()
}

async fn publish_alerts(nats: &str, node: &str, alerts: &[rulestudio_api::alerts::NodeAlert]) {
    let client = async_nats::connect(nats).await.unwrap();
    let body: String = alerts
        .iter()
        .map(|a| serde_json::to_string(a).unwrap() + "\n")
        .collect();
    async_nats::jetstream::new(client)
        .publish(rulestudio_api::fleet::alerts_subject(node), body.into())
        .await
        .unwrap()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_judge_their_events_and_the_studio_stores_each_alert_once() {
    let nats = nats::NatsServer::start();
    let dir = tempfile::tempdir().unwrap();
    let (studio, addr, fleet) = fleet_studio(&nats.url(), dir.path()).await;
    let matching = match studio.state.config.rule_matching {
        rulestudio_api::live::RuleMatching::First => rulestudio_engine::rule::Matching::First,
        rulestudio_api::live::RuleMatching::All => rulestudio_engine::rule::Matching::All,
    };
    let version = promote(&studio.state, DRAFT.to_string()).await;
    until_published(&nats.url(), version).await;

    let lines: Vec<&str> = EVENTS.lines().filter(|l| !l.trim().is_empty()).collect();
    let names = ["node-a", "node-b"];
    let captures: Vec<Vec<&str>> = (0..2)
        .map(|i| lines.iter().copied().skip(i).step_by(2).collect())
        .collect();
    let expected: Vec<usize> = captures
        .iter()
        .map(|c| expected_alerts(DRAFT, c, matching))
        .collect();
    assert!(expected.iter().all(|&n| n > 0), "{expected:?}");
    assert!(expected.iter().all(|&n| n < 200), "within one rule's burst");
    let mut nodes: Vec<Node> = names
        .iter()
        .zip(&captures)
        .map(|(name, mine)| Node::start(&nats.url(), name, dir.path(), mine))
        .collect();

    // Each node judged its own events: its alerts, and only those, reached the studio, each
    // naming its event by its id in that node's store.
    let total: usize = expected.iter().sum();
    let alerts = until_alerts(addr, total).await;
    for (name, n) in names.iter().zip(&expected) {
        let of = |a: &&rulestudio_api::alerts::Alert| {
            a.node_alert_id
                .as_deref()
                .is_some_and(|id| id.starts_with(&format!("{name}:")))
        };
        let mine: Vec<_> = alerts.iter().filter(of).collect();
        assert_eq!(mine.len(), *n, "{name}");
        let mut events = std::collections::BTreeSet::new();
        for a in &mine {
            assert_eq!(a.live_version, version);
            assert!(
                a.event_id.starts_with(&format!("{name}:")),
                "{}",
                a.event_id
            );
            let once = events.insert((a.event_id.clone(), a.rule.clone()));
            assert!(once, "one alert per event and rule");
            assert!(a.event.is_some(), "the alert carries its event");
        }
    }

    // An alert's event stays on its node, and its event page asks that node for it: the same
    // event as the alert carries.
    for name in names {
        let alert = alerts
            .iter()
            .find(|a| a.event_id.starts_with(&format!("{name}:")))
            .unwrap();
        let event: rulestudio_api::events::StoredEvent =
            get(addr, &format!("/events/{}", alert.event_id)).await;
        assert_eq!(event.id, alert.event_id);
        assert_eq!(Some(&event.fields), alert.event.as_ref(), "{name}");
    }
    // A node that is gone cannot show its event, and the answer says so.
    let gone = nodes.pop().unwrap();
    drop(gone);
    let event_b = alerts
        .iter()
        .find(|a| a.event_id.starts_with("node-b:"))
        .unwrap()
        .event_id
        .clone();
    let response = reqwest::Client::new()
        .get(format!("http://{addr}/api/v1/events/{event_b}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let body = response.text().await.unwrap();
    assert!(body.contains("node node-b did not answer"), "{body}");

    // A message delivered twice, and alerts naming another node than their subject's, store
    // nothing; a new alert still does (the consumer takes messages in order, so by the time
    // it is stored the others were taken).
    let first = alerts
        .iter()
        .find(|a| a.node_alert_id.as_deref().unwrap().starts_with("node-a:"))
        .unwrap();
    let node_alert = |id: String, node: &str| rulestudio_api::alerts::NodeAlert {
        version: rulestudio_api::protocol::Version::CURRENT,
        id,
        node: node.to_string(),
        sent_in: None,
        suppressed: 0,
        alert: first.clone(),
    };
    let again = node_alert(first.node_alert_id.clone().unwrap(), "node-a");
    publish_alerts(&nats.url(), "node-a", &[again]).await;
    let forged = node_alert("node-b:1:77".into(), "node-b");
    publish_alerts(&nats.url(), "node-a", &[forged]).await;
    let fresh = node_alert("node-a:1:999999".into(), "node-a");
    publish_alerts(&nats.url(), "node-a", &[fresh]).await;
    let alerts = until_alerts(addr, total + 1).await;
    assert!(
        !alerts
            .iter()
            .any(|a| a.node_alert_id.as_deref() == Some("node-b:1:77"))
    );

    // A studio restart: acknowledged messages are not taken again.
    drop(fleet);
    let state = common::server::stop_server(studio).await;
    drop(state);
    let (_studio, addr, _fleet) = fleet_studio(&nats.url(), dir.path()).await;
    let fresh = node_alert("node-a:1:1000000".into(), "node-a");
    publish_alerts(&nats.url(), "node-a", &[fresh]).await;
    until_alerts(addr, total + 2).await;
}

/// An enforcing fleet node (real eBPF, as root) acts on its own verdicts: a process that opens
/// what an enforce rule names is killed while it runs, and the alert that reaches the studio
/// over the alerts stream says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enforcing_fleet_node_kills_on_its_verdict_and_the_alert_says_so() {
    use std::os::unix::process::ExitStatusExt;
    let nats = nats::NatsServer::start();
    let dir = tempfile::tempdir().unwrap();
    let (studio, addr, _fleet) = fleet_studio(&nats.url(), dir.path()).await;
    let rule = "- rule: Kill rs-fleet openers\n  desc: d\n  condition: evt.type in (open, openat, openat2) and fd.name contains rs-fleet-trigger\n  output: opened %fd.name by %proc.pid\n  priority: CRITICAL\n  tags: [rulestudio.enforce]\n";
    let version = promote(&studio.state, rule.to_string()).await;
    until_published(&nats.url(), version).await;

    let state_dir = dir.path().join("enforcer");
    let mut config = rulestudio_collector::Config::new(None, String::new(), "enforcer".into());
    config.kernel.ring_bytes = 1 << 20;
    config.state_dir = Some(state_dir.clone());
    config.enforce = Some(rulestudio_collector::enforce::EnforceConfig::default());
    let fleet_config = rulestudio_collector::fleet::FleetConfig {
        url: nats.url(),
        creds_file: None,
        store: state_dir.join("events"),
        retention_age: Duration::from_secs(3600),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let node = tokio::spawn(rulestudio_collector::fleet::run(
        config,
        fleet_config,
        async {
            let _ = stopped.await;
        },
    ));
    until_every_node_runs(addr, &["enforcer"], version).await;

    let trigger = dir.path().join("rs-fleet-trigger");
    let after = dir.path().join("survived");
    let mut child = common::open_in_a_loop(&trigger, &after);
    let pid = child.id();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL), "{status:?}");
    assert!(!after.exists(), "the process ran to its end");

    let deadline = Instant::now() + Duration::from_secs(30);
    let alert = loop {
        let killed = studio_alerts(addr).await.into_iter().find(|a| {
            a.rule == "Kill rs-fleet openers"
                && a.action == rulestudio_api::action::AlertAction::Killed
        });
        if let Some(a) = killed {
            break a;
        }
        assert!(
            Instant::now() < deadline,
            "no killed alert reached the studio"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(alert.output_fields["proc.pid"], pid.to_string());
    assert!(
        alert.event_id.starts_with("enforcer:"),
        "{}",
        alert.event_id
    );
    let _ = stop.send(());
    node.await.unwrap().unwrap();
}
