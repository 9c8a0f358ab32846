//! Alert triage and the alerts summary (issue #19), over HTTP on a real SQLite file: states set,
//! listed, filtered and audited; `false_positive` as exactly one label; counts over time and
//! per group from covering indexes.

mod common;

use axum::http::StatusCode;
use common::{ADMIN_TOKEN, DRAFT, EVENTS, TestServer, rule};
use rulestudio_api::alerts::GroupBy;
use rulestudio_server::api::triage;
use serde_json::{Value, json};

const SHADOW: &str = "- rule: Read shadow\n  desc: d\n  condition: evt.type = openat and fd.name = /etc/shadow\n  output: \"%proc.name\"\n  priority: ERROR\n";
/// The first event of `EVENTS`, nanoseconds; the others follow a second apart.
const T0: i64 = 1_700_000_000_000_000_000;
const SEC: i64 = 1_000_000_000;

/// A server whose live set raised 48 alerts: 36 of `Read file below etc` (Warning) and 12 of
/// `Read shadow` (Error), on events of node-a and, from the 50th event on, node-b.
async fn with_alerts() -> TestServer {
    let s = TestServer::new().await;
    s.promote(&format!("{SHADOW}\n{DRAFT}")).await;
    let events: String = EVENTS
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let l = if i >= 50 {
                l.replace("node-a", "node-b")
            } else {
                l.to_string()
            };
            l + "\n"
        })
        .collect();
    let r = s.ingest(ADMIN_TOKEN, &events, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    s
}

async fn alerts(s: &TestServer, query: &str) -> Value {
    let r = s
        .call(
            "GET",
            &format!("/api/v1/alerts?{query}"),
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text);
    r.body
}

async fn triage(s: &TestServer, token: &str, id: i64, body: Value) -> common::Response {
    s.call(
        "POST",
        &format!("/api/v1/alerts/{id}/triage"),
        Some(token),
        Some(body),
    )
    .await
}

/// `(label, rule)` rows of the labels table for the event of alert `id`.
/// The labels of the alert's event, as `GET /labels` answers them.
async fn labels_of_alert(s: &TestServer, id: i64) -> Vec<(String, String)> {
    let alert = s
        .call(
            "GET",
            &format!("/api/v1/alerts/{id}"),
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
    let event = alert.body["event_id"].as_str().unwrap().to_string();
    let labels = s
        .call(
            "GET",
            &format!("/api/v1/labels?events={event}"),
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
    labels.body["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["label"].as_str().unwrap().to_string(),
                l["rule"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn triage_is_set_by_authors_shown_filtered_and_audited() {
    let s = with_alerts().await;
    let author = s.user("alice", "author").await;
    let viewer = s.user("victor", "viewer").await;
    let page = alerts(&s, "limit=3").await;
    assert_eq!(page["total"], 48);
    assert_eq!(page["alerts"][0]["triage"], json!({"state": "new"}));
    let id = page["alerts"][0]["id"].as_i64().unwrap();

    let denied = triage(&s, &viewer, id, json!({"state": "acknowledged"})).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let bad = s
        .call_unchecked(
            "POST",
            &format!("/api/v1/alerts/{id}/triage"),
            Some(&author),
            Some(json!({"state": "done"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body["message"].as_str().unwrap().contains("done"),
        "{}",
        bad.text
    );
    let missing = triage(&s, &author, 999_999, json!({"state": "resolved"})).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    let ok = triage(
        &s,
        &author,
        id,
        json!({"state": "acknowledged", "note": "looking"}),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert_eq!(ok.body["id"], id);
    assert_eq!(ok.body["triage"]["state"], "acknowledged");
    assert_eq!(ok.body["triage"]["by"], "alice");
    assert_eq!(ok.body["triage"]["note"], "looking");

    let one = s
        .call("GET", &format!("/api/v1/alerts/{id}"), Some(&viewer), None)
        .await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.body["triage"], ok.body["triage"]);
    assert_eq!(one.body["rule"], page["alerts"][0]["rule"]);
    let gone = s
        .call("GET", "/api/v1/alerts/999999", Some(&viewer), None)
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);

    let acked = alerts(&s, "state=acknowledged").await;
    assert_eq!(acked["total"], 1);
    assert_eq!(acked["alerts"][0]["id"], id);
    assert_eq!(alerts(&s, "state=new").await["total"], 47);
    assert_eq!(
        alerts(&s, "state=new&rule=Read%20shadow").await["total"],
        alerts(&s, "rule=Read%20shadow").await["total"]
            .as_i64()
            .unwrap()
            - i64::from(page["alerts"][0]["rule"] == "Read shadow")
    );
    let bad_filter = s
        .call(
            "GET",
            "/api/v1/alerts?state=closed",
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
    assert_eq!(bad_filter.status, StatusCode::BAD_REQUEST);
    assert!(
        bad_filter.body["message"]
            .as_str()
            .unwrap()
            .contains("closed")
    );

    // Back to new: listed as new again, and the change is in the audit trail.
    let back = triage(&s, &author, id, json!({"state": "new"})).await;
    assert_eq!(back.body["triage"]["state"], "new");
    assert_eq!(alerts(&s, "state=new").await["total"], 48);
    let audit = s
        .call(
            "GET",
            "/api/v1/audit?action=alert.triage",
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
    let entries = audit.body["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{}", audit.text);
    assert_eq!(entries[0]["actor"], "alice");
    assert_eq!(entries[0]["target"], format!("alert:{id}"));
    assert_eq!(entries[0]["details"]["from"], "acknowledged");
    assert_eq!(entries[0]["details"]["to"], "new");
    assert_eq!(entries[1]["details"]["note"], "looking");
}

#[tokio::test]
async fn false_positive_labels_the_event_benign_exactly_once_and_leaving_it_unlabels() {
    let s = with_alerts().await;
    let author = s.user("alice", "author").await;
    let shadow = alerts(&s, "rule=Read%20shadow&limit=2").await;
    let id = shadow["alerts"][0]["id"].as_i64().unwrap();
    let before = rule(&s.preview(SHADOW).await, "Read shadow")["false_positives"].clone();

    for _ in 0..3 {
        let r = triage(&s, &author, id, json!({"state": "false_positive"})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["triage"]["state"], "false_positive");
    }
    assert_eq!(
        labels_of_alert(&s, id).await,
        vec![("benign".to_string(), "Read shadow".to_string())]
    );
    // The preview counts it as a false positive of its rule.
    let after = rule(&s.preview(SHADOW).await, "Read shadow")["false_positives"].clone();
    assert_eq!(after.as_u64().unwrap(), before.as_u64().unwrap() + 1);
    let audit = s
        .call("GET", "/api/v1/audit?action=alert", Some(ADMIN_TOKEN), None)
        .await;
    // Newest first: what each call did to the label.
    let labels: Vec<Value> = audit.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["details"]["label"].clone())
        .collect();
    assert_eq!(labels, [Value::Null, Value::Null, json!("benign")]);

    // Leaving false_positive removes the label it wrote.
    let r = triage(&s, &author, id, json!({"state": "resolved"})).await;
    assert_eq!(r.body["triage"]["state"], "resolved");
    assert_eq!(labels_of_alert(&s, id).await, vec![]);

    // A benign label someone set by hand stays when the alert leaves false_positive.
    let other = shadow["alerts"][1]["id"].as_i64().unwrap();
    let event = shadow["alerts"][1]["event_id"]
        .as_str()
        .unwrap()
        .to_string();
    let by_hand = s
        .call(
            "POST",
            &format!("/api/v1/events/{event}/label"),
            Some(&author),
            Some(json!({"label": "benign", "rule": "Read shadow"})),
        )
        .await;
    assert_eq!(by_hand.status, StatusCode::OK, "{}", by_hand.text);
    triage(&s, &author, other, json!({"state": "false_positive"})).await;
    triage(&s, &author, other, json!({"state": "acknowledged"})).await;
    assert_eq!(
        labels_of_alert(&s, other).await,
        vec![("benign".to_string(), "Read shadow".to_string())]
    );
}

async fn summary(s: &TestServer, query: &str) -> common::Response {
    s.call(
        "GET",
        &format!("/api/v1/alerts/summary?{query}"),
        Some(ADMIN_TOKEN),
        None,
    )
    .await
}

#[tokio::test]
async fn the_summary_counts_alerts_per_bucket_and_group() {
    let s = with_alerts().await;
    let window = format!("since={T0}&until={}", T0 + 80 * SEC);
    let r = summary(&s, &format!("{window}&bucket=10s")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["total"], 48);
    assert_eq!(r.body["bucket"], 10 * SEC);
    let buckets = r.body["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 8);
    assert_eq!(buckets[0]["start"], T0);
    assert_eq!(buckets[7]["start"], T0 + 70 * SEC);
    let counts: Vec<u64> = buckets
        .iter()
        .map(|b| b["count"].as_u64().unwrap())
        .collect();
    assert_eq!(counts.iter().sum::<u64>(), 48);
    // Each bucket holds the alerts of its ten seconds.
    for (i, &n) in counts.iter().enumerate() {
        let (from, to) = (T0 + i as i64 * 10 * SEC, T0 + (i as i64 + 1) * 10 * SEC);
        let listed: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM alerts WHERE time >= ? AND time < ?")
                .bind(from)
                .bind(to)
                .fetch_one(&s.state.db)
                .await
                .unwrap();
        assert_eq!(n, listed as u64, "bucket {i}");
    }
    assert_eq!(r.body["group_by"], "rule");
    assert_eq!(
        r.body["groups"],
        json!([{"key": "Read file below etc", "count": 36}, {"key": "Read shadow", "count": 12}])
    );
    assert_eq!(r.body["other"], 0);

    let p = summary(&s, &format!("{window}&group_by=priority")).await;
    assert_eq!(
        p.body["groups"],
        json!([{"key": "Warning", "count": 36}, {"key": "Error", "count": 12}])
    );
    // The default bucket cuts 80 s into at most 60 round steps: 5 s.
    assert_eq!(p.body["bucket"], 5 * SEC);
    assert_eq!(p.body["buckets"].as_array().unwrap().len(), 16);

    let n = summary(&s, &format!("{window}&group_by=node")).await;
    let nodes = n.body["groups"].as_array().unwrap();
    assert_eq!(nodes.len(), 2, "{}", n.text);
    let on_b: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM alerts WHERE time >= ?")
        .bind(T0 + 50 * SEC)
        .fetch_one(&s.state.db)
        .await
        .unwrap();
    let count_of = |key: &str| nodes.iter().find(|g| g["key"] == key).unwrap()["count"].clone();
    assert_eq!(count_of("node-b"), on_b);
    assert_eq!(count_of("node-a"), 48 - on_b);

    let author = s.user("alice", "author").await;
    let first = alerts(&s, "limit=1").await["alerts"][0]["id"]
        .as_i64()
        .unwrap();
    triage(&s, &author, first, json!({"state": "resolved"})).await;
    let st = summary(&s, &format!("{window}&group_by=state")).await;
    assert_eq!(
        st.body["groups"],
        json!([{"key": "new", "count": 47}, {"key": "resolved", "count": 1}])
    );

    // A narrower window counts only its alerts.
    let none = summary(&s, &format!("since={}&until={}", T0 - 100 * SEC, T0)).await;
    assert_eq!(none.body["total"], 0);
    assert_eq!(none.body["groups"], json!([]));

    for (query, names) in [
        (format!("{window}&group_by=user"), "user"),
        (format!("{window}&bucket=soon"), "soon"),
        (format!("{window}&bucket=10ms"), "buckets"),
        (format!("since={T0}&until={T0}"), "until"),
        ("since=yesterday".to_string(), "yesterday"),
    ] {
        let r = summary(&s, &query).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(
            r.body["message"].as_str().unwrap().contains(names),
            "{query}: {}",
            r.text
        );
    }
}

/// The summary reads the window from an index alone (buckets, rule, priority) or finds the
/// window's rows by the time index (node, state): never a scan of the table. Prints how long a
/// summary of 200,000 alerts takes.
#[tokio::test]
async fn the_summary_reads_covering_indexes_of_the_window() {
    let s = TestServer::new().await;
    let db = &s.state.db;
    let plan = |sql: String| async move {
        let steps: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
                .bind(0_i64)
                .bind(1_i64)
                .bind(10_i64)
                .fetch_all(db)
                .await
                .unwrap();
        steps.into_iter().map(|(.., s)| s).collect::<Vec<_>>()
    };
    let mut statements = vec![triage::BUCKETS_SQL.to_string()];
    statements.extend([GroupBy::Rule, GroupBy::Priority].map(triage::groups_sql));
    for sql in statements {
        let steps = plan(sql.clone()).await;
        assert!(
            steps
                .iter()
                .any(|s| s.starts_with("SEARCH alerts USING COVERING INDEX")),
            "{sql}: {steps:?}"
        );
        assert!(
            !steps.iter().any(|s| s.starts_with("SCAN")),
            "{sql}: {steps:?}"
        );
    }
    for by in [GroupBy::Node, GroupBy::State] {
        let steps = plan(triage::groups_sql(by)).await;
        assert!(
            steps
                .iter()
                .any(|s| s.starts_with("SEARCH alerts USING") && s.contains("(time>? AND time<?)")),
            "{by:?}: {steps:?}"
        );
        assert!(
            !steps.iter().any(|s| s.starts_with("SCAN")),
            "{by:?}: {steps:?}"
        );
    }

    const N: i64 = 200_000;
    sqlx::query(
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?)
         INSERT INTO alerts (event_id, time, rule, priority, live_version, body)
         SELECT i, ? + i * 1000000, 'rule ' || (i % 50), 'Warning', 1,
                json_object('hostname', 'node-' || (i % 7)) FROM c",
    )
    .bind(N)
    .bind(T0)
    .execute(db)
    .await
    .unwrap();
    let window = format!("since={T0}&until={}&bucket=1s", T0 + (N + 1) * 1_000_000);
    for by in ["rule", "node", "state"] {
        let started = std::time::Instant::now();
        let r = summary(&s, &format!("{window}&group_by={by}")).await;
        assert_eq!(r.body["total"], N);
        println!(
            "summary of {N} alerts by {by}: {:?} ({} groups)",
            started.elapsed(),
            r.body["groups"].as_array().unwrap().len()
        );
    }
}
