//! Issue #4: a live-set version changes atomically. Rollbacks flip the live set between two
//! versions with different files and rules, as fast as they go, while readers fetch
//! `/api/v1/live` and `/api/v1/live/rules.yaml` and batches are ingested (and evaluated against
//! the live set). Every observation must be entirely one version: the version number agrees
//! with the files, the rules file, and the rule behind each alert.

mod common;

use axum::http::StatusCode;
use common::{ADMIN_TOKEN, TestServer};
use rulestudio_api::live::RulesFile;
use rulestudio_server::live::{NewVersion, rules_yaml};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};

/// Live-set changes after the two starting versions.
const FLIPS: usize = 40;
const BATCH: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    A,
    B,
}

fn file(name: &str, content: &str) -> RulesFile {
    RulesFile {
        name: name.into(),
        content: content.into(),
    }
}

/// Version A: a macro in one file and the rule using it in a second, so a mix of two versions
/// shows in the file list as well as in the contents.
fn files_a() -> Vec<RulesFile> {
    vec![
        file(
            "a_macros.yaml",
            "- macro: a_open\n  condition: evt.type = openat\n",
        ),
        file(
            "a_rules.yaml",
            "- rule: Rule of version A\n  desc: d\n  condition: a_open\n  output: \"A %proc.cmdline\"\n  priority: WARNING\n",
        ),
    ]
}

fn files_b() -> Vec<RulesFile> {
    vec![file(
        "b_rules.yaml",
        "- rule: Rule of version B\n  desc: d\n  condition: evt.type = openat\n  output: \"B %proc.cmdline\"\n  priority: ERROR\n",
    )]
}

fn files_of(kind: Kind) -> Vec<RulesFile> {
    match kind {
        Kind::A => files_a(),
        Kind::B => files_b(),
    }
}

/// Which version's files `files` are exactly; panics on anything else (a mix, a partial list).
fn kind_of_files(files: &Value) -> Kind {
    let files: Vec<RulesFile> = serde_json::from_value(files.clone()).unwrap();
    [Kind::A, Kind::B]
        .into_iter()
        .find(|k| files == files_of(*k))
        .unwrap_or_else(|| panic!("the live files are neither version A nor B: {files:#?}"))
}

fn kind_of_rule(rule: &str) -> Kind {
    match rule {
        "Rule of version A" => Kind::A,
        "Rule of version B" => Kind::B,
        other => panic!("alert from an unknown rule `{other}`"),
    }
}

/// Counts a reader's finished requests, so the writer can wait for each to see every version.
#[derive(Default)]
struct Progress {
    live: AtomicUsize,
    yaml: AtomicUsize,
    ingest: AtomicUsize,
}

impl Progress {
    fn all(&self) -> [usize; 3] {
        [&self.live, &self.yaml, &self.ingest].map(|c| c.load(SeqCst))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_and_the_evaluator_see_whole_versions_while_the_live_set_flips() {
    let s = Arc::new(TestServer::new().await);
    let promote = |files| NewVersion {
        files,
        by: "admin",
        proposal: None,
        note: "atomicity".into(),
        expected_base: None,
    };
    let v_a = s
        .state
        .live
        .promote(&s.state.db, promote(files_a()))
        .await
        .unwrap()
        .version;
    let v_b = s
        .state
        .live
        .promote(&s.state.db, promote(files_b()))
        .await
        .unwrap()
        .version;
    let done = Arc::new(AtomicBool::new(false));
    let progress = Arc::new(Progress::default());

    // Each reader returns what it saw: (version, kind) pairs to check against the writer's.
    let live_reader = tokio::spawn({
        let (s, done, progress) = (s.clone(), done.clone(), progress.clone());
        async move {
            let mut seen = Vec::new();
            while !done.load(SeqCst) {
                let r = s.call("GET", "/api/v1/live", Some(ADMIN_TOKEN), None).await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.text);
                seen.push((
                    r.body["version"].as_i64().unwrap(),
                    kind_of_files(&r.body["files"]),
                ));
                progress.live.fetch_add(1, SeqCst);
            }
            seen
        }
    });
    let yaml_reader = tokio::spawn({
        let (s, done, progress) = (s.clone(), done.clone(), progress.clone());
        async move {
            let mut seen = Vec::new();
            while !done.load(SeqCst) {
                let r = s
                    .call("GET", "/api/v1/live/rules.yaml", Some(ADMIN_TOKEN), None)
                    .await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.text);
                let version: i64 = r
                    .text
                    .strip_prefix("# Rulestudio live set, version ")
                    .and_then(|t| t.split(':').next())
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| panic!("no version in the rules.yaml header: {}", r.text));
                let kind = [Kind::A, Kind::B]
                    .into_iter()
                    .find(|k| r.text == rules_yaml(version, &files_of(*k)))
                    .unwrap_or_else(|| {
                        panic!(
                            "rules.yaml of version {version} is neither A nor B:\n{}",
                            r.text
                        )
                    });
                seen.push((version, kind));
                progress.yaml.fetch_add(1, SeqCst);
            }
            seen
        }
    });
    let ingester = tokio::spawn({
        let (s, done, progress) = (s.clone(), done.clone(), progress.clone());
        async move {
            let mut batches = 0;
            while !done.load(SeqCst) {
                let body: Vec<String> = (0..BATCH)
                    .map(|i| {
                        json!({"evt.time": 1_700_000_000_000_000_000i64 + (batches * BATCH + i) as i64,
                               "evt.type": "openat", "evt.hostname": "node-a",
                               "proc.cmdline": format!("batch-{batches}"), "fd.name": "/tmp/x"})
                        .to_string()
                    })
                    .collect();
                let r = s.ingest(ADMIN_TOKEN, &body.join("\n"), None).await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.text);
                batches += 1;
                progress.ingest.fetch_add(1, SeqCst);
            }
            batches
        }
    });

    // The writer: rollbacks alternate the live set between A and B. Before the next change it
    // waits until every reader finished two requests after this one returned: the second of
    // them began after the swap, so each reader sees every version.
    let mut kinds: HashMap<i64, Kind> = HashMap::from([(v_a, Kind::A), (v_b, Kind::B)]);
    for flip in 0..FLIPS {
        let (to, kind) = if flip % 2 == 0 {
            (v_a, Kind::A)
        } else {
            (v_b, Kind::B)
        };
        let r = s
            .call(
                "POST",
                "/api/v1/live/rollback",
                Some(ADMIN_TOKEN),
                Some(json!({"version": to})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        kinds.insert(r.body["version"].as_i64().unwrap(), kind);
        let after = progress.all();
        while progress
            .all()
            .iter()
            .zip(after)
            .any(|(now, then)| *now < then + 2)
        {
            let stopped = [&live_reader, &yaml_reader].iter().any(|h| h.is_finished())
                || ingester.is_finished();
            assert!(
                !stopped,
                "a reader stopped early (its panic is printed above)"
            );
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }
    done.store(true, SeqCst);
    let live_seen = live_reader.await.unwrap();
    let yaml_seen = yaml_reader.await.unwrap();
    let batches = ingester.await.unwrap();

    let versions = kinds.len();
    assert_eq!(versions, FLIPS + 2, "every rollback made a new version");
    for (what, seen) in [
        ("GET /live", &live_seen),
        ("GET /live/rules.yaml", &yaml_seen),
    ] {
        for (version, kind) in seen {
            assert_eq!(
                kinds.get(version),
                Some(kind),
                "{what} showed version {version} with the files of {kind:?}"
            );
        }
        let distinct: std::collections::HashSet<_> = seen.iter().map(|(v, _)| v).collect();
        assert!(
            distinct.len() >= FLIPS,
            "{what} saw only {} of {versions} versions",
            distinct.len()
        );
    }

    // Every event raised exactly one alert, from the rule of the version named in the alert,
    // and a batch was judged by one version throughout.
    let mut alerts = Vec::new();
    let mut cursor = i64::MAX;
    loop {
        let r = s
            .call(
                "GET",
                &format!("/api/v1/alerts?limit=500&cursor={cursor}"),
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        alerts.extend(r.body["alerts"].as_array().unwrap().iter().cloned());
        match r.body["next_cursor"].as_i64() {
            Some(next) => cursor = next,
            None => break,
        }
    }
    assert_eq!(
        alerts.len(),
        batches * BATCH,
        "one alert per ingested event"
    );
    let mut batch_version: HashMap<String, i64> = HashMap::new();
    for a in &alerts {
        let version = a["live_version"].as_i64().unwrap();
        let rule = a["rule"].as_str().unwrap();
        assert_eq!(
            kinds.get(&version),
            Some(&kind_of_rule(rule)),
            "alert {a} names version {version}"
        );
        let batch = a["output_fields"]["proc.cmdline"]
            .as_str()
            .unwrap()
            .to_string();
        let first = *batch_version.entry(batch.clone()).or_insert(version);
        assert_eq!(
            first, version,
            "{batch} was judged by versions {first} and {version}"
        );
    }
    let judged_by: std::collections::HashSet<_> = batch_version.values().collect();
    assert!(
        judged_by.len() >= FLIPS,
        "batches were judged by only {} of {versions} versions",
        judged_by.len()
    );
}
