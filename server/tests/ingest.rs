//! `POST /api/v1/events`: atomic batches, idempotent retries, limits, listing.

mod common;

use axum::http::StatusCode;
use common::{ADMIN_TOKEN, EVENTS, TestServer};

#[tokio::test]
async fn a_batch_is_stored_and_listed_newest_first() {
    let s = TestServer::new().await;
    let r = s.ingest(ADMIN_TOKEN, EVENTS, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body,
        serde_json::json!({"accepted": 72, "duplicate": false})
    );
    assert_eq!(s.event_count().await, 72);

    let page = s
        .call("GET", "/api/v1/events?limit=5", Some(ADMIN_TOKEN), None)
        .await;
    let events = page.body["events"].as_array().unwrap();
    assert_eq!(events.len(), 5);
    assert_eq!(events[0]["id"], s.event_id(72));
    let next = page.body["next_cursor"].as_str().unwrap();
    let page2 = s
        .call(
            "GET",
            &format!("/api/v1/events?limit=5&cursor={next}"),
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
    assert_eq!(page2.body["events"][0]["id"], s.event_id(67));

    let one = s
        .call(
            "GET",
            &format!("/api/v1/events/{}", s.event_id(1)),
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
    assert_eq!(one.body["fields"]["proc.name"], "backup");
    assert_eq!(
        one.body["fields"]["container.image.repository"],
        "registry.local/backup"
    );
}

#[tokio::test]
async fn one_bad_line_stores_nothing_and_names_the_line() {
    let s = TestServer::new().await;
    let body = "{\"evt.type\":\"openat\"}\n{\"evt.type\":\"openat\",\"proc.pid\":\"not a number\"}\n{\"evt.type\":\"execve\"}\n";
    let r = s.ingest(ADMIN_TOKEN, body, Some(("node-a", 1))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["code"], "invalid_event");
    let msg = r.body["message"].as_str().unwrap();
    assert!(msg.starts_with("line 2: key 'proc.pid'"), "{msg}");
    assert_eq!(s.event_count().await, 0);
    // The refused batch number is not burnt: the corrected batch is stored.
    let fixed = "{\"evt.type\":\"openat\"}\n{\"evt.type\":\"openat\",\"proc.pid\":7}\n";
    let r = s.ingest(ADMIN_TOKEN, fixed, Some(("node-a", 1))).await;
    assert_eq!(
        r.body,
        serde_json::json!({"accepted": 2, "duplicate": false})
    );
}

#[tokio::test]
async fn a_retried_batch_is_acknowledged_not_stored_twice() {
    let s = TestServer::new().await;
    let first = s.ingest(ADMIN_TOKEN, EVENTS, Some(("node-a", 41))).await;
    assert_eq!(first.body["duplicate"], false);
    let again = s.ingest(ADMIN_TOKEN, EVENTS, Some(("node-a", 41))).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(
        again.body,
        serde_json::json!({"accepted": 72, "duplicate": true})
    );
    assert_eq!(s.event_count().await, 72);
    // The same number from another node is another batch.
    let other = s.ingest(ADMIN_TOKEN, EVENTS, Some(("node-b", 41))).await;
    assert_eq!(other.body["duplicate"], false);
    assert_eq!(s.event_count().await, 144);
}

#[tokio::test]
async fn json_arrays_are_accepted_and_time_is_set_when_absent() {
    let s = TestServer::new().await;
    let r = s
        .ingest(
            ADMIN_TOKEN,
            r#"[{"evt.type":"openat"}, {"evt.type":"execve","evt.time":5}]"#,
            None,
        )
        .await;
    assert_eq!(r.body["accepted"], 2, "{}", r.text);
    let first = s
        .call(
            "GET",
            &format!("/api/v1/events/{}", s.event_id(1)),
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
    assert!(first.body["time"].as_i64().unwrap() > 1_700_000_000_000_000_000);
    let bad = s
        .ingest(ADMIN_TOKEN, r#"[{"evt.type":"openat"}, 3]"#, None)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body["message"]
            .as_str()
            .unwrap()
            .starts_with("element 2:"),
        "{}",
        bad.text
    );
}

#[tokio::test]
async fn an_oversized_body_gets_413() {
    let s = TestServer::with(|a| a.max_body_bytes = 1024).await;
    let r = s.ingest(ADMIN_TOKEN, EVENTS, None).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text);
    assert_eq!(r.body["code"], "payload_too_large");
    assert_eq!(s.event_count().await, 0);
}

#[tokio::test]
async fn listing_filters_by_condition_and_reports_bad_conditions() {
    let s = TestServer::new().await;
    s.ingest(ADMIN_TOKEN, EVENTS, None).await;
    let r = s
        .call(
            "GET",
            "/api/v1/events?filter=proc.name%3Dnginx%20and%20evt.type%3Dexecve&limit=100",
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let events = r.body["events"].as_array().unwrap();
    assert_eq!(events.len(), 4);
    assert!(events.iter().all(|e| e["fields"]["proc.name"] == "nginx"));
    assert_eq!(r.body["next_cursor"], serde_json::Value::Null);

    let bad = s
        .call(
            "GET",
            "/api/v1/events?filter=proc.nme%20%3D%20x",
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body["code"], "invalid_condition");
    assert!(
        !bad.body["diagnostics"].as_array().unwrap().is_empty(),
        "{}",
        bad.text
    );

    let window = s
        .call(
            "GET",
            "/api/v1/events?since=1700000010000000000&until=1700000020000000000&limit=1000",
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
    assert_eq!(window.body["events"].as_array().unwrap().len(), 10);
}

#[tokio::test]
async fn heartbeats_show_on_the_collectors_page_and_in_metrics() {
    let s = TestServer::new().await;
    let collector = s.user("node-a", "collector").await;
    let hb = |sent: u64| serde_json::json!({"node": "node-a", "captured": 10, "filtered": 1, "lost_kernel": 2, "spooled": 0, "sent": sent, "dropped": 3});
    assert_eq!(
        s.call(
            "POST",
            "/api/v1/collectors/heartbeat",
            Some(&collector),
            Some(hb(100))
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    s.call(
        "POST",
        "/api/v1/collectors/heartbeat",
        Some(&collector),
        Some(hb(200)),
    )
    .await;
    let list = s
        .call("GET", "/api/v1/collectors", Some(ADMIN_TOKEN), None)
        .await;
    let c = &list.body["collectors"][0];
    assert_eq!(
        (
            c["node"].as_str(),
            c["sent"].as_u64(),
            c["lost_kernel"].as_u64()
        ),
        (Some("node-a"), Some(200), Some(2))
    );
    assert!(c["events_per_sec"].as_f64().unwrap() > 0.0);
    let metrics = s.call("GET", "/metrics", None, None).await;
    assert!(
        metrics.text.contains(
            "rulestudio_collector_dropped_total{node=\"node-a\",reason=\"spool_full\"} 3"
        ),
        "{}",
        metrics.text
    );
}
