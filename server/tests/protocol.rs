//! The node–studio protocol's version (`rulestudio_api::protocol`): a node that writes no
//! version (version 1, as every node did before it was written down) is still heard, and one
//! that speaks a version this studio does not know is refused, the error naming the versions.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{ADMIN_TOKEN, TestServer};
use serde_json::json;

/// A heartbeat as a version-1 node writes it: no `version`.
fn heartbeat_v1(node: &str) -> serde_json::Value {
    json!({"node": node, "captured": 5, "filtered": 0, "lost_kernel": 0, "spooled": 0,
           "sent": 5, "dropped": 0, "live_version": 1, "engine_version": "0.63.0"})
}

/// A node's alert as a version-1 node writes it: no `version`.
fn alert_v1(id: &str) -> serde_json::Value {
    json!({"id": id, "node": "n1", "suppressed": 0, "alert": {
        "id": 0, "event_id": "", "time": "1970-01-01T00:00:00.000000005Z", "rule": "Shell",
        "priority": "Warning", "output": "00:00:00.000000005: Warning shell bash",
        "output_fields": {"proc.name": "bash"}, "source": "syscall", "tags": [],
        "hostname": "n1", "live_version": 1}})
}

async fn post_alerts(s: &TestServer, line: serde_json::Value) -> common::Response {
    let req = Request::post("/api/v1/alerts")
        .header(header::AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}"))
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .body(Body::from(format!("{line}\n")))
        .unwrap();
    s.send(req).await
}

#[tokio::test]
async fn a_node_of_the_previous_protocol_is_heard_and_a_newer_one_is_refused_naming_the_versions() {
    let s = TestServer::new().await;
    let beat = |body| {
        s.call(
            "POST",
            "/api/v1/collectors/heartbeat",
            Some(ADMIN_TOKEN),
            Some(body),
        )
    };

    let r = beat(heartbeat_v1("old-node")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let listed = s
        .call("GET", "/api/v1/collectors", Some(ADMIN_TOKEN), None)
        .await;
    let old = &listed.body["collectors"][0];
    assert_eq!(
        (&old["node"], &old["captured"]),
        (&json!("old-node"), &json!(5))
    );

    let r = post_alerts(&s, alert_v1("n1:1:1")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["stored"], 1);

    // A node of a newer protocol: refused, nothing recorded, and told which versions are spoken.
    let mut newer = heartbeat_v1("new-node");
    newer["version"] = json!(rulestudio_api::protocol::CURRENT + 1);
    let r = beat(newer).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let want = format!(
        "protocol version {} is not one this side speaks (versions 1 to {})",
        rulestudio_api::protocol::CURRENT + 1,
        rulestudio_api::protocol::CURRENT
    );
    assert!(
        r.body["message"].as_str().unwrap().contains(&want),
        "{}",
        r.text
    );
    let listed = s
        .call("GET", "/api/v1/collectors", Some(ADMIN_TOKEN), None)
        .await;
    assert_eq!(listed.body["collectors"].as_array().unwrap().len(), 1);

    let mut newer = alert_v1("n1:1:2");
    newer["version"] = json!(rulestudio_api::protocol::CURRENT + 1);
    let r = post_alerts(&s, newer).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let message = r.body["message"].as_str().unwrap();
    assert!(
        message.starts_with("line 1: ") && message.contains(&want),
        "{message}"
    );
    let alerts = s
        .call("GET", "/api/v1/alerts", Some(ADMIN_TOKEN), None)
        .await;
    assert_eq!(alerts.body["total"], 1);
}

#[tokio::test]
async fn each_node_s_protocol_version_is_kept_from_its_heartbeats_and_listed() {
    let s = TestServer::new().await;
    let s = &s;
    let listed = |node: &'static str| async move {
        let r = s
            .call("GET", "/api/v1/collectors", Some(ADMIN_TOKEN), None)
            .await;
        r.body["collectors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["node"] == node)
            .map(|c| c["version"].clone())
    };
    // A node of the oldest protocol writes no version: it is listed as speaking version 1.
    let r = s
        .call(
            "POST",
            "/api/v1/collectors/heartbeat",
            Some(ADMIN_TOKEN),
            Some(heartbeat_v1("old-node")),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(listed("old-node").await, Some(json!(1)));

    // The same node upgraded: its next heartbeat names the current version, which replaces it.
    let mut current = heartbeat_v1("old-node");
    current["version"] = json!(rulestudio_api::protocol::CURRENT);
    let r = s
        .call(
            "POST",
            "/api/v1/collectors/heartbeat",
            Some(ADMIN_TOKEN),
            Some(current),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(
        listed("old-node").await,
        Some(json!(rulestudio_api::protocol::CURRENT))
    );
}
