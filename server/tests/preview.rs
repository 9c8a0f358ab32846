//! `POST /api/v1/preview` and suggest-exception against stored events.

mod common;

use axum::http::StatusCode;
use common::{ADMIN_TOKEN, DRAFT, EVENTS, TestServer, label_benign, rule};
use rulestudio_engine::event::Event;
use rulestudio_engine::loader::{self, LoadOptions, SourceFile};
use rulestudio_engine::rule::Matching;
use serde_json::{Value, json};

const RULE: &str = "Read file below etc";

/// What `rulestudio eval` reports: the events of the file each rule matches.
fn eval_matches(rules: &str, rule_name: &str) -> u64 {
    let loaded = loader::load(
        &[SourceFile {
            name: "draft.yaml".into(),
            text: rules.into(),
        }],
        &LoadOptions::default(),
    );
    assert!(loaded.ok(), "{:?}", loaded.diagnostics);
    let index = loaded
        .ruleset
        .rules()
        .iter()
        .position(|r| r.name == rule_name)
        .unwrap();
    let mut hits = Vec::new();
    EVENTS
        .lines()
        .filter(|line| {
            hits.clear();
            loaded.ruleset.eval(
                &Event::from_json_str(line).unwrap(),
                Matching::All,
                &mut hits,
            );
            hits.contains(&index)
        })
        .count() as u64
}

#[tokio::test]
async fn preview_counts_equal_eval_on_the_same_events() {
    let s = TestServer::new().await;
    s.ingest(ADMIN_TOKEN, EVENTS, None).await;
    let p = s.preview(DRAFT).await;
    let r = rule(&p, RULE);
    let expected = eval_matches(DRAFT, RULE);
    // backup, cat and nginx each open three files below /etc/, four times.
    assert_eq!(expected, 36);
    assert_eq!(r["matched"], expected);
    assert_eq!(r["unlabeled"], expected);
    assert_eq!(
        (r["false_positives"].as_u64(), r["true_positives"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(
        (
            r["live_matched"].as_u64(),
            r["added"].as_u64(),
            r["removed"].as_u64()
        ),
        (Some(0), Some(36), Some(0))
    );
    assert_eq!(p["scanned"], 72);
    assert_eq!(p["diagnostics"], json!([]));
    let samples = r["samples"].as_array().unwrap();
    assert_eq!(samples.len(), 20);
    assert!(
        samples[0]["output"]
            .as_str()
            .unwrap()
            .contains(" read /etc/"),
        "{}",
        samples[0]
    );
    let histogram: u64 = r["histogram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["count"].as_u64().unwrap())
        .sum();
    assert_eq!(histogram, 36);
}

#[tokio::test]
async fn group_by_counts_per_value_and_diagnostics_come_back() {
    let s = TestServer::new().await;
    s.ingest(ADMIN_TOKEN, EVENTS, None).await;
    let r = s
        .call(
            "POST",
            "/api/v1/preview",
            Some(ADMIN_TOKEN),
            Some(json!({"rules": DRAFT, "group_by": ["proc.name"], "samples": 1})),
        )
        .await;
    let groups = &rule(&r.body, RULE)["groups"];
    assert_eq!(
        groups,
        &json!([{"key": "backup", "count": 12}, {"key": "cat", "count": 12}, {"key": "nginx", "count": 12}])
    );
    // Each rule says what its matches would do, from its tags.
    assert_eq!(rule(&r.body, RULE)["action"], "alert");
    let dry_run = DRAFT.replace(
        "tags: [filesystem]",
        "tags: [filesystem, rulestudio.enforce.dry_run]",
    );
    let r = s
        .call(
            "POST",
            "/api/v1/preview",
            Some(ADMIN_TOKEN),
            Some(json!({"rules": dry_run})),
        )
        .await;
    assert_eq!(rule(&r.body, RULE)["action"], "dry_run", "{}", r.text);

    let broken = DRAFT.replace("fd.name startswith", "fd.nmae startswith");
    let r = s
        .call(
            "POST",
            "/api/v1/preview",
            Some(ADMIN_TOKEN),
            Some(json!({"rules": broken})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let d = r.body["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["severity"] == "error")
        .unwrap();
    assert_eq!(d["file"], "draft.yaml");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["line"], 3, "{d}");
}

#[tokio::test]
async fn labels_and_baselines_change_false_positive_counts() {
    let s = TestServer::new().await;
    s.ingest(ADMIN_TOKEN, EVENTS, None).await;
    // Event 1: backup opens /etc/shadow. Event 6: cat opens /etc/shadow.
    let label = |id: u64, body: serde_json::Value| {
        let s = &s;
        async move {
            s.call(
                "POST",
                &format!("/api/v1/events/{}/label", s.event_id(id)),
                Some(ADMIN_TOKEN),
                Some(body),
            )
            .await
        }
    };
    assert_eq!(
        label(1, json!({"label": "benign"})).await.status,
        StatusCode::OK
    );
    label(
        6,
        json!({"label": "malicious", "rule": RULE, "note": "shell reading shadow"}),
    )
    .await;
    let r = rule(&s.preview(DRAFT).await, RULE).clone();
    assert_eq!(
        (
            r["false_positives"].as_u64(),
            r["true_positives"].as_u64(),
            r["unlabeled"].as_u64()
        ),
        (Some(1), Some(1), Some(34))
    );

    // A label for another rule does not count for this one.
    label(2, json!({"label": "benign", "rule": "Some other rule"})).await;
    // A baseline over the first 3 seconds: events 1..3, of which 1..3 match (event 1 already benign).
    let b = s
        .call("POST", "/api/v1/baselines", Some(ADMIN_TOKEN), Some(json!({"since": 1_700_000_000_000_000_000i64, "until": "2023-11-14T22:13:23Z", "note": "quiet"})))
        .await;
    assert_eq!(b.status, StatusCode::CREATED, "{}", b.text);
    let r = rule(&s.preview(DRAFT).await, RULE).clone();
    assert_eq!(r["false_positives"], 3);
    // Malicious wins over a baseline.
    label(2, json!({"label": "malicious"})).await;
    let r = rule(&s.preview(DRAFT).await, RULE).clone();
    assert_eq!(
        (r["false_positives"].as_u64(), r["true_positives"].as_u64()),
        (Some(2), Some(2))
    );

    // Clearing restores.
    label(1, json!({"label": "clear"})).await;
    let id = b.body["id"].as_i64().unwrap();
    assert_eq!(
        s.call(
            "DELETE",
            &format!("/api/v1/baselines/{id}"),
            Some(ADMIN_TOKEN),
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    let r = rule(&s.preview(DRAFT).await, RULE).clone();
    assert_eq!(
        (r["false_positives"].as_u64(), r["true_positives"].as_u64()),
        (Some(0), Some(2))
    );
}

#[tokio::test]
async fn suggested_exception_removes_the_benign_matches() {
    let s = TestServer::new().await;
    s.ingest(ADMIN_TOKEN, EVENTS, None).await;
    // Every match of the backup job is benign.
    let labelled = label_benign(&s, "proc.name = backup and fd.name startswith /etc/").await;
    assert_eq!(labelled, 12);
    let r = s
        .call(
            "POST",
            "/api/v1/preview/suggest-exception",
            Some(ADMIN_TOKEN),
            Some(json!({"rules": DRAFT, "rule": RULE, "window": {"last_events": 1000}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["exception"]["fields"], json!(["proc.name"]));
    assert_eq!(r.body["exception"]["values"], json!([["backup"]]));
    assert_eq!(
        r.body["before"],
        json!({"matched": 36, "false_positives": 12, "true_positives": 0, "unlabeled": 24})
    );
    assert_eq!(
        r.body["after"],
        json!({"matched": 24, "false_positives": 0, "true_positives": 0, "unlabeled": 24})
    );
    // Written into the rule it tunes, not appended as an override.
    let rules = r.body["rules"].as_str().unwrap();
    assert_eq!(rules.matches("- rule:").count(), 1, "{rules}");
    assert!(!rules.contains("override"), "{rules}");
    // The rules it returns preview the same way.
    let p = s.preview(rules).await;
    assert_eq!(rule(&p, RULE)["matched"], 24);
}

#[tokio::test]
async fn a_draft_replacing_a_live_rule_is_compared_with_it() {
    let s = TestServer::new().await;
    // A live set with the draft rule, then a draft that narrows it to /etc/shadow.
    s.call(
        "POST",
        "/api/v1/live/rollback",
        Some(ADMIN_TOKEN),
        Some(json!({"version": 1})),
    )
    .await;
    common_promote(&s, DRAFT).await;
    s.ingest(ADMIN_TOKEN, EVENTS, None).await;
    let narrowed = DRAFT.replace("fd.name startswith /etc/", "fd.name = /etc/shadow");
    let r = rule(&s.preview(&narrowed).await, RULE).clone();
    assert_eq!(
        (r["matched"].as_u64(), r["live_matched"].as_u64()),
        (Some(12), Some(36))
    );
    assert_eq!(
        (r["added"].as_u64(), r["removed"].as_u64()),
        (Some(0), Some(24))
    );
}

async fn common_promote(s: &TestServer, rules: &str) {
    use rulestudio_api::live::RulesFile;
    use rulestudio_server::live::NewVersion;
    let files = vec![RulesFile {
        name: "local_rules.yaml".into(),
        content: rules.into(),
    }];
    s.state
        .live
        .promote(
            &s.state.db,
            NewVersion {
                files,
                by: "admin",
                proposal: None,
                note: "test".into(),
                expected_base: None,
            },
        )
        .await
        .unwrap();
}

/// Rules whose previews the cache must give exactly as the database does: the draft, a
/// negated type (which meets events of unknown or missing type), arguments and numbers.
const PROBES: &str = r#"
- rule: Read file below etc
  desc: A process opened a file below /etc for reading.
  condition: evt.type in (open, openat) and fd.name startswith /etc/
  output: "%proc.name read %fd.name (user=%user.name image=%container.image.repository)"
  priority: WARNING
- rule: Not an open
  desc: Anything but opens.
  condition: not evt.type in (open, openat) and proc.name != nobody
  output: "%proc.name did %evt.type"
  priority: NOTICE
- rule: Root shell under sshd
  desc: Arguments and numbers.
  condition: evt.type = execve and proc.aname[2] = sshd and user.uid = 0
  output: "%proc.name under %proc.aname[2]"
  priority: NOTICE
"#;

/// Events beyond the test data: an unknown and a missing type, arguments, a numeric string,
/// and an event from 1970.
const MORE_EVENTS: &str = r#"{"evt.time":1700000100000000000,"evt.type":"nonsense","proc.name":"odd"}
{"evt.time":1700000101000000000,"proc.name":"typeless"}
{"evt.time":1700000102000000000,"evt.type":"execve","proc.name":"sh","proc.aname[2]":"sshd","user.uid":"0"}
{"evt.time":5,"evt.type":"execve","proc.name":"sh","proc.aname[2]":"sshd","user.uid":0}
{"evt.time":1700000103000000000,"evt.type":"openat","proc.name":"cat","fd.name":"/etc/hosts","evt.arg.flags":"O_RDONLY"}"#;

/// Every preview the comparison makes: windows × group keys.
async fn previews(s: &TestServer) -> Vec<serde_json::Value> {
    let windows = [
        json!(null),
        json!({"last_events": 5}),
        json!({"last_events": 40}),
        json!({"last_events": 1000}),
        json!({"since": 1_700_000_010_000_000_000i64, "until": 1_700_000_101_000_000_000i64}),
        json!({"since": 0, "until": 10}),
    ];
    let mut out = Vec::new();
    for window in windows {
        let mut body = json!({"rules": PROBES, "samples": 3, "group_by": ["proc.name", "user.uid", "evt.dir"]});
        if !window.is_null() {
            body["window"] = window;
        }
        let mut r = s
            .call("POST", "/api/v1/preview", Some(ADMIN_TOKEN), Some(body))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.body.as_object_mut().unwrap().remove("took_ms");
        out.push(r.body);
    }
    out
}

/// A server on a copy of `store` (as it is on disk now) beside a fresh database, without a
/// cache: every preview reads the store's segments and log.
async fn store_only(store: &std::path::Path) -> (tempfile::TempDir, TestServer) {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("store");
    std::fs::create_dir(&copy).unwrap();
    for entry in std::fs::read_dir(store).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
        }
    }
    let db = dir.path().join("rulestudio.db");
    let s = TestServer::with(|a| {
        a.db = db;
        a.store = Some(copy);
        a.preview_cache_mb = 0;
        a.retention_age = TEN_YEARS;
    })
    .await;
    (dir, s)
}

const TEN_YEARS: std::time::Duration = std::time::Duration::from_secs(10 * 365 * 86_400);

#[tokio::test]
async fn the_cache_previews_exactly_like_the_store_through_restart_warm_up_and_retention() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rulestudio.db");
    let store = dir.path().join("rulestudio.db.events");
    let server = || {
        let db = db.clone();
        TestServer::with(move |a| {
            a.db = db;
            a.retention_age = TEN_YEARS;
        })
    };
    let first = server().await;
    // Batches of every size, so that small chunks get merged.
    let lines: Vec<&str> = EVENTS.lines().collect();
    for batch in [&lines[..1], &lines[1..2], &lines[2..10], &lines[10..]] {
        first.ingest(ADMIN_TOKEN, &batch.join("\n"), None).await;
    }
    // Stopping seals them into a segment. After a restart the cache starts empty: old events
    // come from the store's segment, new ones (in the store's open segment) from memory.
    drop(first);
    let restarted = server().await;
    restarted.ingest(ADMIN_TOKEN, MORE_EVENTS, None).await;
    let (_copy, database) = store_only(&store).await;
    let expected = previews(&database).await;
    assert_eq!(expected[3]["scanned"], 77);
    // Events of unknown and missing type meet the negated type check.
    let groups = &rule(&expected[3], "Not an open")["groups"];
    assert!(
        groups.to_string().contains("odd | <NA>") && groups.to_string().contains("typeless | <NA>"),
        "{groups}"
    );
    assert_eq!(rule(&expected[3], "Root shell under sshd")["matched"], 2);
    assert_eq!(
        previews(&restarted).await,
        expected,
        "cache after a restart"
    );

    restarted
        .state
        .cache
        .warm(&restarted.state.store)
        .await
        .unwrap();
    assert_eq!(
        restarted.state.cache.snapshot().lo,
        0,
        "warm-up read everything"
    );
    assert_eq!(previews(&restarted).await, expected, "cache after warm-up");

    // Retention drops the sealed segment (the first 72 events), which the cache still holds.
    let removed = common::drop_sealed_segments(&restarted.state);
    assert_eq!(removed, 72);
    let (_copy, database) = store_only(&store).await;
    let expected = previews(&database).await;
    assert_eq!(expected[3]["scanned"], 5);
    assert_eq!(
        previews(&restarted).await,
        expected,
        "cache after retention"
    );
}

#[tokio::test]
async fn suggested_exception_pairs_fields_when_no_single_field_separates() {
    let s = TestServer::new().await;
    s.ingest(ADMIN_TOKEN, EVENTS, None).await;
    // backup and nginx reading certificates are benign; cat reading them, and backup and
    // nginx reading anything else, are not: neither the program nor the directory alone
    // separates them.
    let labelled = label_benign(
        &s,
        "proc.name in (backup, nginx) and fd.name startswith /etc/ssl/certs/",
    )
    .await;
    assert_eq!(labelled, 8);
    let r = s
        .call(
            "POST",
            "/api/v1/preview/suggest-exception",
            Some(ADMIN_TOKEN),
            Some(json!({"rules": DRAFT, "rule": RULE})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body["exception"]["fields"],
        json!(["proc.name", "fd.name"])
    );
    assert_eq!(r.body["exception"]["comps"], json!(["=", "startswith"]));
    assert_eq!(
        r.body["exception"]["values"],
        json!([["backup", "/etc/ssl/certs/"], ["nginx", "/etc/ssl/certs/"]])
    );
    assert_eq!(
        r.body["after"],
        json!({"matched": 28, "false_positives": 0, "true_positives": 0, "unlabeled": 28})
    );
}

#[tokio::test]
async fn the_histogram_spans_the_window_groups_beyond_fifty_are_other_and_changes_are_sampled() {
    let s = TestServer::new().await;
    s.ingest(ADMIN_TOKEN, EVENTS, None).await;
    // 60 reads of distinct files below /etc/: more groups by fd.name than are listed.
    let t0 = 1_700_000_000_000_000_000i64;
    let many: String = (0..60)
        .map(|i| {
            format!(
                "{{\"evt.time\":{},\"evt.type\":\"openat\",\"proc.name\":\"cat\",\"fd.name\":\"/etc/gen/{i}\"}}\n",
                t0 + 100_000_000_000 + i
            )
        })
        .collect();
    s.ingest(ADMIN_TOKEN, &many, None).await;
    s.promote(DRAFT).await;
    // Adds the reads below /tmp/ (cat's and nginx's), removes backup's reads below /etc/.
    let changed = DRAFT.replace(
        "fd.name startswith /etc/",
        "(fd.name startswith /etc/ or fd.name startswith /tmp/) and proc.name != backup",
    );
    let hour = 3_600_000_000_000i64;
    let (since, until) = (t0 - hour, t0 + 3 * hour);
    let r = s
        .call(
            "POST",
            "/api/v1/preview",
            Some(ADMIN_TOKEN),
            Some(
                json!({"rules": changed, "samples": 3, "group_by": ["fd.name"],
                "window": {"since": since, "until": until}}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let p = rule(&r.body, RULE);
    // cat's and nginx's 24 reads below /etc/, their 8 below /tmp/, the 60 generated ones.
    assert_eq!(
        (
            p["matched"].as_u64(),
            p["added"].as_u64(),
            p["removed"].as_u64()
        ),
        (Some(92), Some(8), Some(12)),
        "{p}"
    );

    // Sixty equal buckets from the window's start to its end, empty ones included.
    let buckets = p["histogram"].as_array().unwrap();
    assert_eq!(buckets.len(), 60);
    assert_eq!(buckets[0]["t"], since);
    let width = buckets[1]["t"].as_i64().unwrap() - since;
    let end = p["histogram_until"].as_i64().unwrap();
    assert_eq!(end, since + 60 * width);
    assert!(end >= until && end - until < width, "{end} for {until}");
    let counts: Vec<u64> = buckets
        .iter()
        .map(|b| b["count"].as_u64().unwrap())
        .collect();
    assert_eq!(counts.iter().sum::<u64>(), 92);
    assert!(counts.contains(&0), "{counts:?}");

    // 64 values of fd.name: the 50 largest listed, the rest counted as other.
    let groups = p["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 50);
    assert_eq!(groups[0]["count"], 8);
    let listed: u64 = groups.iter().map(|g| g["count"].as_u64().unwrap()).sum();
    assert_eq!(p["groups_other"].as_u64(), Some(14));
    assert_eq!(listed + 14, 92);

    // Samples of what the change adds (the draft's output) and removes (the live rule's).
    let added = p["added_samples"].as_array().unwrap();
    assert_eq!(added.len(), 3);
    for a in added {
        assert_eq!(a["fields"]["fd.name"], "/tmp/x", "{a}");
        assert_ne!(a["fields"]["proc.name"], "backup", "{a}");
    }
    let removed = p["removed_samples"].as_array().unwrap();
    assert_eq!(removed.len(), 3);
    for r in removed {
        assert!(
            r["output"]
                .as_str()
                .unwrap()
                .starts_with("backup read /etc/"),
            "{r}"
        );
    }
}

/// `(field, exact values, generalised values)` of each candidate of a suggest-exception answer.
fn candidates(body: &Value) -> Vec<(String, Vec<String>, Vec<Option<String>>)> {
    body["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let values = c["values"].as_array().unwrap();
            (
                c["field"].as_str().unwrap().to_string(),
                values
                    .iter()
                    .map(|v| v["value"].as_str().unwrap().to_string())
                    .collect(),
                values
                    .iter()
                    .map(|v| v["general"].as_str().map(str::to_string))
                    .collect(),
            )
        })
        .collect()
}

async fn suggest_with(s: &TestServer, picks: Value) -> common::Response {
    s.call(
        "POST",
        "/api/v1/preview/suggest-exception",
        Some(ADMIN_TOKEN),
        Some(
            json!({"rules": DRAFT, "rule": RULE, "window": {"last_events": 1000}, "picks": picks}),
        ),
    )
    .await
}

#[tokio::test]
async fn suggest_exception_offers_fields_and_generalisations_and_writes_exactly_the_picks() {
    let s = TestServer::new().await;
    s.ingest(ADMIN_TOKEN, EVENTS, None).await;
    // The backup job's certificate reads are benign; its other reads, and other programs'
    // reads of the same certificate, are not.
    let labelled = label_benign(&s, "proc.name = backup and fd.name startswith /etc/ssl/").await;
    assert_eq!(labelled, 4);

    // Without picks: the server's suggestion, the candidates drawn from the benign matches,
    // each value with its generalisation, and the suggestion as picks.
    let r = suggest_with(&s, json!([])).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let offered = candidates(&r.body);
    let of = |field: &str| offered.iter().find(|c| c.0 == field).unwrap().clone();
    assert_eq!(
        of("fd.name"),
        (
            "fd.name".into(),
            vec!["/etc/ssl/certs/ca.pem".into()],
            vec![Some("/etc/ssl/certs/".into())]
        )
    );
    assert_eq!(
        of("container.id"),
        (
            "container.id".into(),
            vec!["c0ffee0".into()],
            vec![Some("registry.local/backup".into())]
        )
    );
    assert_eq!(
        of("proc.name"),
        ("proc.name".into(), vec!["backup".into()], vec![None])
    );
    let general = |field: &str| {
        r.body["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["field"] == field)
            .unwrap()["general"]
            .clone()
    };
    assert_eq!(general("fd.name")["comp"], "startswith");
    assert_eq!(
        general("container.id")["field"],
        "container.image.repository"
    );
    assert_eq!(general("proc.name"), Value::Null);
    assert!(
        !r.body["picks"].as_array().unwrap().is_empty(),
        "{}",
        r.body
    );
    for p in r.body["picks"].as_array().unwrap() {
        assert!(offered.iter().any(|c| c.0 == p["field"]), "{p}");
    }

    // The certificate's directory: every read below it goes, whoever reads it.
    let r = suggest_with(
        &s,
        json!([{"field": "fd.name", "general": true, "values": ["/etc/ssl/certs/ca.pem"]}]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body["exception"],
        json!({"name": "rulestudio_suggested", "fields": ["fd.name"], "comps": ["startswith"], "values": [["/etc/ssl/certs/"]]})
    );
    assert_eq!(
        r.body["picks"],
        json!([{"field": "fd.name", "general": true, "values": ["/etc/ssl/certs/ca.pem"]}])
    );
    assert_eq!(
        (
            r.body["before"]["matched"].as_u64(),
            r.body["after"]["matched"].as_u64()
        ),
        (Some(36), Some(24))
    );
    let removed = r.body["removed_samples"].as_array().unwrap();
    assert_eq!(removed.len(), 12);
    assert!(
        removed
            .iter()
            .all(|m| m["fields"]["fd.name"] == "/etc/ssl/certs/ca.pem"),
        "{removed:?}"
    );
    // Newest first, with the rule's output.
    let times: Vec<i64> = removed
        .iter()
        .map(|m| m["time"].as_i64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    assert!(
        removed[0]["output"]
            .as_str()
            .unwrap()
            .contains("read /etc/ssl/certs/ca.pem")
    );
    let rules = r.body["rules"].as_str().unwrap();
    assert!(
        rules.ends_with("  exceptions:\n    - name: rulestudio_suggested\n      fields: [fd.name]\n      comps: [\"startswith\"]\n      values:\n        - [\"/etc/ssl/certs/\"]\n"),
        "{rules}"
    );

    // The image instead of the container, and the exact file: only the benign reads go.
    let r = suggest_with(
        &s,
        json!([
            {"field": "container.id", "general": true, "values": ["c0ffee0"]},
            {"field": "fd.name", "values": ["/etc/ssl/certs/ca.pem"]}
        ]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body["exception"]["fields"],
        json!(["container.image.repository", "fd.name"])
    );
    assert_eq!(r.body["exception"]["comps"], json!(["=", "="]));
    assert_eq!(
        r.body["exception"]["values"],
        json!([["registry.local/backup", "/etc/ssl/certs/ca.pem"]])
    );
    assert_eq!(
        r.body["after"],
        json!({"matched": 32, "false_positives": 0, "true_positives": 0, "unlabeled": 32})
    );
    assert_eq!(r.body["removed_samples"].as_array().unwrap().len(), 4);
    let p = s.preview(r.body["rules"].as_str().unwrap()).await;
    assert_eq!(rule(&p, RULE)["matched"], 32);
}

#[tokio::test]
async fn picks_that_are_not_offered_are_refused_naming_the_pick() {
    let s = TestServer::new().await;
    s.ingest(ADMIN_TOKEN, EVENTS, None).await;
    label_benign(&s, "proc.name = backup and fd.name startswith /etc/ssl/").await;
    for (picks, status, says) in [
        (
            json!([{"field": "evt.type", "values": ["openat"]}]),
            400,
            "`picks[0]`: `evt.type` is not one of the offered fields",
        ),
        (
            json!([{"field": "proc.name", "general": true, "values": ["backup"]}]),
            400,
            "`picks[0]`: `proc.name` has no generalisation",
        ),
        (
            json!([{"field": "proc.name", "values": ["backup"]}, {"field": "fd.name", "values": ["/etc/passwd"]}]),
            400,
            "`picks[1]`: no benign match of the rule in this window has fd.name = \"/etc/passwd\"",
        ),
        (
            json!([{"field": "proc.name", "values": ["backup"]}, {"field": "proc.name", "values": ["backup"]}]),
            400,
            "`picks[1]`: `proc.name` is picked twice",
        ),
        (
            json!([{"field": "proc.name", "values": []}]),
            400,
            "`picks[0]`: pick at least one value",
        ),
    ] {
        let r = suggest_with(&s, picks.clone()).await;
        assert_eq!(r.status.as_u16(), status, "{picks}: {}", r.text);
        assert!(
            r.body["message"].as_str().unwrap().contains(says),
            "{picks}: {}",
            r.body
        );
    }
}
