//! `rulestudio eval --events` on the event store's own files (issue #13): a store directory
//! (sealed segments, then the open segment's log) or one segment file, read in place, judges
//! exactly as the same events as JSON lines, and names each match by its stored id.

use rulestudio_engine::event::Event;
use rulestudio_store::{Config, Store};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn rulestudio(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rulestudio"))
        .args(args)
        .output()
        .expect("run rulestudio")
}

/// The conformance events (every `match:` and `no_match:` line of the evaluator's cases) and
/// the CLI fixture's, as JSON lines.
fn corpus() -> Vec<String> {
    let mut lines: Vec<String> =
        std::fs::read_to_string(root().join("tests/fixtures/cli/events.jsonl"))
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect();
    let dir = root().join("tests/conformance/eval");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cases"))
        .collect();
    files.sort();
    for f in files {
        for line in std::fs::read_to_string(f).unwrap().lines() {
            let event = line
                .strip_prefix("match:")
                .or_else(|| line.strip_prefix("no_match:"));
            if let Some(e) = event.map(str::trim).filter(|e| !e.is_empty()) {
                lines.push(e.to_string());
            }
        }
    }
    lines
}

/// A store in `dir` holding `lines`: the first `sealed` sealed into a segment, the rest only in
/// the open segment's log (the store is dropped without closing, as a running node leaves it).
fn store_with(dir: &Path, lines: &[String], sealed: usize) {
    let events: Vec<Event> = lines
        .iter()
        .map(|l| Event::from_json_str(l).expect(l))
        .collect();
    let (store, _) = Store::open(dir, "node-a:9", Config::default()).unwrap();
    store.append(&events[..sealed], 1).unwrap();
    store.seal().unwrap();
    store.append(&events[sealed..], 2).unwrap();
}

fn matches(out: &Output) -> Vec<Value> {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect(l))
        .collect()
}

fn without_id(mut lines: Vec<Value>) -> Vec<Value> {
    for l in &mut lines {
        l.as_object_mut().unwrap().remove("id");
    }
    lines
}

const RULES: &str = "engine/data/falco_rules.yaml";

#[test]
fn a_store_directory_judges_like_the_same_events_as_json_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let lines = corpus();
    assert!(lines.len() > 200, "{} events", lines.len());
    let jsonl = tmp.path().join("events.jsonl");
    std::fs::write(&jsonl, lines.join("\n") + "\n").unwrap();
    let store = tmp.path().join("store");
    store_with(&store, &lines, lines.len() / 2);

    let rules = root().join(RULES);
    for judge in [
        vec!["--rules", rules.to_str().unwrap()],
        vec![
            "--condition",
            "evt.type in (open, openat) or proc.name exists",
        ],
    ] {
        let run = |events: &Path| {
            let mut args = vec!["eval"];
            args.extend(&judge);
            args.extend(["--events", events.to_str().unwrap()]);
            matches(&rulestudio(&args))
        };
        let from_lines = run(&jsonl);
        let from_store = run(&store);
        assert!(!from_lines.is_empty(), "{judge:?} matches something");
        // Same events, same order: the same matches at the same positions.
        assert_eq!(without_id(from_store.clone()), from_lines, "{judge:?}");
        let manifest: Value =
            serde_json::from_str(&std::fs::read_to_string(store.join("manifest.json")).unwrap())
                .unwrap();
        let incarnation = manifest["incarnation"].as_u64().unwrap();
        for m in &from_store {
            // Sequence numbers start at 1: position N is sequence N + 1.
            let seq = m["event"].as_u64().unwrap() + 1;
            assert_eq!(m["id"], format!("node-a:9:{incarnation}:{seq}"), "{m}");
        }
        if judge[0] == "--condition" {
            // Both halves were read: matches from the sealed segment and from the log.
            let half = (lines.len() / 2) as u64;
            assert!(from_store.iter().any(|m| m["event"].as_u64() < Some(half)));
            assert!(from_store.iter().any(|m| m["event"].as_u64() >= Some(half)));
        }
    }
}

#[test]
fn a_segment_file_is_read_alone_with_its_ids() {
    let tmp = tempfile::tempdir().unwrap();
    let lines = corpus();
    let store = tmp.path().join("store");
    store_with(&store, &lines, 100);
    let segment = std::fs::read_dir(&store)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "parquet"))
        .expect("a sealed segment");
    let all = matches(&rulestudio(&[
        "eval",
        "--condition",
        "evt.type exists or not evt.type exists",
        "--events",
        segment.to_str().unwrap(),
    ]));
    let seqs: Vec<u64> = all
        .iter()
        .map(|m| {
            let id = m["id"].as_str().unwrap();
            assert!(id.starts_with("node-a:9:"), "{id}");
            id.rsplit(':').next().unwrap().parse().unwrap()
        })
        .collect();
    assert_eq!(seqs, (1..=100).collect::<Vec<_>>());
}

#[test]
fn a_torn_log_tail_is_reported_and_the_events_before_it_judged() {
    let tmp = tempfile::tempdir().unwrap();
    let lines = corpus();
    let store = tmp.path().join("store");
    store_with(&store, &lines, 10);
    let wal = store.join("open.wal");
    let mut log = std::fs::read(&wal).unwrap();
    log.extend_from_slice(&[0xff, 0, 0, 0, 1, 2]);
    std::fs::write(&wal, &log).unwrap();
    let out = rulestudio(&[
        "eval",
        "--condition",
        "evt.type exists or not evt.type exists",
        "--events",
        store.to_str().unwrap(),
    ]);
    assert_eq!(matches(&out).len(), lines.len());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("torn record"), "{stderr}");
    // Reading never repairs: the owner's file is as it was.
    assert_eq!(std::fs::read(&wal).unwrap(), log);
}

#[test]
fn a_directory_that_is_no_store_is_refused_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let out = rulestudio(&[
        "eval",
        "--condition",
        "evt.type = open",
        "--events",
        tmp.path().to_str().unwrap(),
    ]);
    assert_ne!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(tmp.path().to_str().unwrap()) && stderr.contains("not an event store"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}
