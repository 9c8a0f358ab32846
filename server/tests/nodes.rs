//! What nodes tell the studio of the live set they follow (issue #14): the version they
//! evaluate, their engine and why a version does not compile there, per node in
//! `GET /api/v1/collectors`; and the long poll on `GET /api/v1/live?after=N` they follow it by.

mod common;

use axum::http::StatusCode;
use common::{ADMIN_TOKEN, TestServer};
use rulestudio_api::live::RulesFile;
use rulestudio_server::live::NewVersion;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn heartbeats_report_each_node_s_live_version_engine_and_compile_error() {
    let s = TestServer::new().await;
    let collector = s.user("node-a", "collector").await;
    for (node, version, error) in [
        ("a", 1, None),
        ("b", 1, Some("live set version 2 does not compile")),
    ] {
        let mut beat = json!({"node": node, "captured": 1, "filtered": 0, "lost_kernel": 0,
                              "spooled": 0, "sent": 1, "dropped": 0,
                              "live_version": version, "engine_version": "0.63.0",
                              "records_truncated": 2, "records_malformed": 1, "threads_evicted": 7});
        if let Some(e) = error {
            beat["compile_error"] = e.into();
        }
        let r = s
            .call(
                "POST",
                "/api/v1/collectors/heartbeat",
                Some(&collector),
                Some(beat),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    }
    let list = s
        .call("GET", "/api/v1/collectors", Some(ADMIN_TOKEN), None)
        .await;
    let nodes = list.body["collectors"].as_array().unwrap();
    assert_eq!(nodes[0]["node"], "a");
    assert_eq!(nodes[0]["live_version"], 1);
    assert_eq!(nodes[0]["engine_version"], "0.63.0");
    assert!(nodes[0].get("compile_error").is_none(), "{}", nodes[0]);
    // Every loss reaches the studio by reason, in the listing and in /metrics.
    assert_eq!(
        (
            &nodes[0]["records_truncated"],
            &nodes[0]["records_malformed"],
            &nodes[0]["threads_evicted"]
        ),
        (&json!(2), &json!(1), &json!(7))
    );
    let metrics = s
        .call("GET", "/metrics", Some(ADMIN_TOKEN), None)
        .await
        .text;
    for (reason, n) in [
        ("kernel", 0),
        ("spool_full", 0),
        ("truncated", 2),
        ("malformed", 1),
        ("thread_evicted", 7),
    ] {
        let series =
            format!("rulestudio_collector_dropped_total{{node=\"a\",reason=\"{reason}\"}} {n}\n");
        assert!(metrics.contains(&series), "{series} not in {metrics}");
    }
    assert_eq!(
        nodes[1]["compile_error"],
        "live set version 2 does not compile"
    );

    // A heartbeat of an older collector (no live set fields) is still accepted.
    let r = s
        .call(
            "POST",
            "/api/v1/collectors/heartbeat",
            Some(&collector),
            Some(
                json!({"node": "old", "captured": 0, "filtered": 0, "lost_kernel": 0,
                        "spooled": 0, "sent": 0, "dropped": 0}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);

    // What a node says is bounded like everything else it sends.
    let r = s
        .call(
            "POST",
            "/api/v1/collectors/heartbeat",
            Some(&collector),
            Some(
                json!({"node": "a", "captured": 0, "filtered": 0, "lost_kernel": 0,
                        "spooled": 0, "sent": 0, "dropped": 0,
                        "compile_error": "x".repeat(5000)}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.text.contains("compile_error"), "{}", r.text);
}

#[tokio::test]
async fn a_node_reads_the_live_set_with_its_rule_matching_and_waits_for_the_next_version() {
    let s = TestServer::with(|a| a.rule_matching = rulestudio_server::config::RuleMatching::First)
        .await;
    let collector = s.user("node-a", "collector").await;
    let now = s.call("GET", "/api/v1/live", Some(&collector), None).await;
    assert_eq!(now.status, StatusCode::OK, "{}", now.text);
    assert_eq!(now.body["rule_matching"], "first");
    let current = now.body["version"].as_i64().unwrap();

    // Nothing newer: the poll answers with the current version when its wait is over.
    let r = s
        .call(
            "GET",
            &format!("/api/v1/live?after={current}&wait=1"),
            Some(&collector),
            None,
        )
        .await;
    assert_eq!(r.body["version"], current);

    // A promotion answers a waiting poll.
    let poll = {
        let app = s.app.clone();
        let collector = collector.clone();
        tokio::spawn(async move {
            use tower::ServiceExt;
            let req = axum::http::Request::get(format!("/api/v1/live?after={current}&wait=30"))
                .header("authorization", format!("Bearer {collector}"))
                .body(axum::body::Body::empty())
                .unwrap();
            let resp = app.oneshot(req).await.unwrap();
            let bytes = http_body_util::BodyExt::collect(resp.into_body())
                .await
                .unwrap()
                .to_bytes();
            serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!poll.is_finished(), "the poll waits for a newer version");
    let mut files = s.state.live.current().files.clone();
    files.push(RulesFile {
        name: "more.yaml".into(),
        content: "- list: more\n  items: [a]\n".into(),
    });
    let next = s
        .state
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
        .unwrap()
        .version;
    let answer = tokio::time::timeout(Duration::from_secs(10), poll)
        .await
        .expect("the promotion answers the poll")
        .unwrap();
    assert_eq!(answer["version"], next);

    let r = s
        .call(
            "GET",
            "/api/v1/live?after=1&wait=61",
            Some(&collector),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.text.contains("wait"), "{}", r.text);
}

#[tokio::test]
async fn events_a_node_sends_without_a_host_name_are_named_by_the_node() {
    let s = TestServer::new().await;
    let body = "{\"evt.time\":1,\"evt.type\":\"openat\",\"proc.name\":\"from-node\"}\n\
                {\"evt.time\":2,\"evt.type\":\"openat\",\"proc.name\":\"own-host\",\"evt.hostname\":\"elsewhere\"}\n";
    let r = s.ingest(ADMIN_TOKEN, body, Some(("node-7", 1))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let found = s
        .call(
            "GET",
            "/api/v1/events?filter=evt.hostname%20%3D%20node-7",
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
    let events = found.body["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{}", found.text);
    assert_eq!(events[0]["fields"]["proc.name"], "from-node");
    assert_eq!(events[0]["node"], "node-7");
    // An event that names its host keeps it.
    let own = s
        .call(
            "GET",
            "/api/v1/events?filter=proc.name%20%3D%20own-host",
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
    assert_eq!(own.body["events"][0]["node"], "elsewhere", "{}", own.text);
}
