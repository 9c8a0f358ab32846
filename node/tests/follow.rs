//! A node follows the live set of a real studio over real HTTP on loopback (issue #14): a
//! promotion reaches it at once (the figure is printed, not asserted), a version it cannot
//! compile leaves it on the previous one and says why, and after a restart while the studio is
//! away it evaluates the version it saved.

use rulestudio_api::live::RulesFile;
use rulestudio_engine::event::Event;
use rulestudio_node::{Follower, Live};
use rulestudio_server::config::ServeArgs;
use rulestudio_server::live::NewVersion;
use rulestudio_server::{AppState, app, http};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const ADMIN: &str = "rs_node_admin_token";

/// A studio on loopback; its base URL, its state, and the task serving it.
async fn studio(dir: &Path) -> (String, AppState, tokio::task::JoinHandle<()>) {
    let mut args = ServeArgs::with_db(dir.join("rulestudio.db"));
    args.admin_token = Some(ADMIN.into());
    args.static_dir = dir.join("no-ui");
    let state = AppState::new(args).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let limits = http::Limits::of(&state.config);
    let task = tokio::spawn(http::serve(
        listener,
        app(state.clone()),
        limits,
        std::future::pending(),
    ));
    (url, state, task)
}

/// A collector user's token: what a node authenticates with.
async fn collector_token(url: &str) -> String {
    let client = reqwest::Client::new();
    let ok = |r: reqwest::Response| {
        assert!(r.status().is_success(), "{}", r.status());
        r
    };
    ok(client
        .post(format!("{url}/api/v1/users"))
        .bearer_auth(ADMIN)
        .json(&serde_json::json!({"username": "node-1", "role": "collector", "password": "a long password 123"}))
        .send()
        .await
        .unwrap());
    let token: serde_json::Value = ok(client
        .post(format!("{url}/api/v1/users/node-1/tokens"))
        .bearer_auth(ADMIN)
        .json(&serde_json::json!({"name": "node"}))
        .send()
        .await
        .unwrap())
    .json()
    .await
    .unwrap();
    token["token"].as_str().unwrap().to_string()
}

/// Waits (bounded, so a failure cannot hang) until `live` reports `what`.
async fn until(live: &Live, what: impl Fn(&rulestudio_node::live::Report) -> bool) -> Duration {
    let start = Instant::now();
    let mut changes = live.subscribe();
    while !what(&live.report()) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the node never got there: {:?}",
            live.report()
        );
        let _ = tokio::time::timeout(Duration::from_millis(200), changes.changed()).await;
    }
    start.elapsed()
}

/// The current live files plus one rule.
fn with_rule(state: &AppState, rule: &str) -> Vec<RulesFile> {
    let mut files = state.live.current().files.clone();
    files.push(RulesFile {
        name: "added.yaml".into(),
        content: rule.into(),
    });
    files
}

async fn promote(state: &AppState, files: Vec<RulesFile>) -> i64 {
    state
        .live
        .promote(
            &state.db,
            NewVersion {
                files,
                by: "admin",
                proposal: None,
                note: "test".into(),
                expected_base: None,
            },
        )
        .await
        .unwrap()
        .version
}

const MARKER_RULE: &str = "- rule: Node marker\n  desc: d\n  condition: evt.type = openat and proc.name = node-marker\n  output: marker %proc.name\n  priority: WARNING\n";

fn marker_event() -> Event {
    Event::from_json_str(r#"{"evt.type":"openat","proc.name":"node-marker"}"#).unwrap()
}

fn matches(live: &Live, event: &Event) -> Vec<String> {
    let rules = live.current().expect("a live set");
    let mut hits = Vec::new();
    rules.ruleset.eval(event, rules.matching, &mut hits);
    hits.iter()
        .map(|&r| rules.ruleset.rules()[r].name.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promotion_reaches_a_following_node_and_changes_what_it_matches() {
    let dir = tempfile::tempdir().unwrap();
    let (url, state, _server) = studio(dir.path()).await;
    let token = collector_token(&url).await;
    let live = Arc::new(Live::default());
    let follower = Follower::new(&url, &token, None, Some(dir.path()), live.clone()).unwrap();
    let following = tokio::spawn(follower.run());
    let first = state.live.current().version;
    until(&live, |r| r.live_version == Some(first)).await;
    assert!(matches(&live, &marker_event()).is_empty());

    // The node is waiting in its long poll: the promotion answers it.
    let version = promote(&state, with_rule(&state, MARKER_RULE)).await;
    let took = until(&live, |r| r.live_version == Some(version)).await;
    println!("promotion -> node: {} ms", took.as_millis());
    assert_eq!(matches(&live, &marker_event()), ["Node marker"]);
    assert_eq!(live.report().compile_error, None);
    following.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_the_node_cannot_compile_leaves_it_on_the_previous_one_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let (url, state, _server) = studio(dir.path()).await;
    let token = collector_token(&url).await;
    let live = Arc::new(Live::default());
    let follower = Follower::new(&url, &token, None, Some(dir.path()), live.clone()).unwrap();
    let following = tokio::spawn(follower.run());
    let good = promote(&state, with_rule(&state, MARKER_RULE)).await;
    until(&live, |r| r.live_version == Some(good)).await;

    // A field this engine does not know (as a newer studio's rule would use on an older node).
    let bad = promote(
        &state,
        with_rule(
            &state,
            "- rule: From the future\n  desc: d\n  condition: evt.type = openat and proc.future_field = x\n  output: o\n  priority: WARNING\n",
        ),
    )
    .await;
    let report = {
        until(&live, |r| r.compile_error.is_some()).await;
        live.report()
    };
    assert_eq!(report.live_version, Some(good), "{report:?}");
    let why = report.compile_error.unwrap();
    assert!(
        why.contains(&format!("version {bad}")) && why.contains("From the future"),
        "{why}"
    );
    // Still evaluating the previous version.
    assert_eq!(matches(&live, &marker_event()), ["Node marker"]);

    // The next good version clears the error.
    let mut files = state.live.current().files.clone();
    files.pop();
    let fixed = promote(&state, files).await;
    until(&live, |r| r.live_version == Some(fixed)).await;
    assert_eq!(live.report().compile_error, None);
    following.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_restarted_while_the_studio_is_away_evaluates_its_saved_version() {
    let dir = tempfile::tempdir().unwrap();
    let node_dir = dir.path().join("node");
    let (url, state, server) = studio(dir.path()).await;
    let token = collector_token(&url).await;
    let live = Arc::new(Live::default());
    let follower = Follower::new(&url, &token, None, Some(&node_dir), live.clone()).unwrap();
    let following = tokio::spawn(follower.run());
    let version = promote(&state, with_rule(&state, MARKER_RULE)).await;
    until(&live, |r| r.live_version == Some(version)).await;
    following.abort();
    server.abort();
    drop(state);

    // A new node process: the studio is gone, the saved version runs.
    let restarted = Arc::new(Live::default());
    let follower = Follower::new(&url, &token, None, Some(&node_dir), restarted.clone()).unwrap();
    assert_eq!(follower.restore().unwrap(), Some(version));
    assert_eq!(restarted.report().live_version, Some(version));
    assert_eq!(matches(&restarted, &marker_event()), ["Node marker"]);
    // Following a studio that does not answer changes nothing.
    let following = tokio::spawn(follower.run());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(restarted.report().live_version, Some(version));
    following.abort();
}

#[tokio::test]
async fn a_damaged_saved_version_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(rulestudio_node::follow::STATE_FILE),
        "{\"version\": 3",
    )
    .unwrap();
    let live = Arc::new(Live::default());
    let follower = Follower::new(
        "http://127.0.0.1:9",
        "t",
        None,
        Some(dir.path()),
        live.clone(),
    )
    .unwrap();
    let e = follower.restore().unwrap_err().to_string();
    assert!(
        e.contains("live-set.json") && e.contains("not a saved live set"),
        "{e}"
    );
    assert_eq!(live.report().live_version, None);
}
