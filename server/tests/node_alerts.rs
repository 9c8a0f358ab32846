//! `POST /api/v1/alerts`: alerts the nodes raised, stored once under their node's id, linked to
//! their stored events whichever arrives first, notified on the first insert only; events a node
//! evaluated are not evaluated again.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{ADMIN_TOKEN, TestServer};
use rulestudio_api::alerts::{Alert, BatchPlace, NodeAlert};
use serde_json::json;
use tokio::sync::broadcast::error::TryRecvError;

fn node_alert(id: &str, rule: &str, sent_in: Option<(i64, i64)>, tags: &[&str]) -> NodeAlert {
    let event =
        json!({"evt.time": 5, "evt.type": "execve", "proc.name": "bash", "evt.hostname": "n1"});
    NodeAlert {
        version: rulestudio_api::protocol::Version::CURRENT,
        id: id.into(),
        node: "n1".into(),
        sent_in: sent_in.map(|(batch, index)| BatchPlace { batch, index }),
        suppressed: 0,
        alert: Alert {
            id: 0,
            event_id: String::new(),
            time: "1970-01-01T00:00:00.000000005Z".into(),
            rule: rule.into(),
            priority: rulestudio_api::alerts::Priority::Warning,
            output: "00:00:00.000000005: Warning shell bash".into(),
            output_fields: serde_json::from_value(json!({"proc.name": "bash"})).unwrap(),
            source: "syscall".into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            hostname: "n1".into(),
            live_version: 3,
            triage: Default::default(),
            action: Default::default(),
            node_alert_id: None,
            event: event.as_object().cloned(),
        },
    }
}

async fn post_alerts(s: &TestServer, alerts: &[NodeAlert]) -> common::Response {
    let body: String = alerts
        .iter()
        .map(|a| serde_json::to_string(a).unwrap() + "\n")
        .collect();
    post_body(s, body).await
}

async fn post_body(s: &TestServer, body: String) -> common::Response {
    let req = Request::post("/api/v1/alerts")
        .header(header::AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}"))
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .header("X-Rulestudio-Node", "n1")
        .body(Body::from(body))
        .unwrap();
    s.send(req).await
}

/// Events of node `n1` as its batch `batch`, marked evaluated by the node or not.
async fn events(s: &TestServer, body: &str, batch: i64, evaluated: bool) -> common::Response {
    let mut req = Request::post("/api/v1/events")
        .header(header::AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}"))
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .header("X-Rulestudio-Node", "n1")
        .header("X-Rulestudio-Batch", batch.to_string());
    if evaluated {
        req = req.header("X-Rulestudio-Evaluated", "1");
    }
    s.send(req.body(Body::from(body.to_string())).unwrap())
        .await
}

async fn alerts(s: &TestServer) -> serde_json::Value {
    s.call("GET", "/api/v1/alerts", Some(ADMIN_TOKEN), None)
        .await
        .body
}

#[tokio::test]
async fn the_same_node_alert_twice_is_one_row_and_one_notification() {
    let s = TestServer::new().await;
    let mut notified = s.state.alerts.subscribe();
    let a = node_alert("n1:77:0", "Shell", None, &[]);
    let first = post_alerts(&s, std::slice::from_ref(&a)).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.body, json!({"stored": 1, "duplicate": 0}));
    // Delivered again (the acknowledgement was lost), in a batch with a new one.
    let b = node_alert("n1:77:1", "Shell", None, &[]);
    let again = post_alerts(&s, &[a.clone(), b]).await;
    assert_eq!(again.body, json!({"stored": 1, "duplicate": 1}));

    let listed = alerts(&s).await;
    assert_eq!(listed["total"], 2);
    let ids: Vec<&str> = listed["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["node_alert_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["n1:77:1", "n1:77:0"]);
    assert_eq!(listed["alerts"][1]["event"]["proc.name"], "bash");
    assert_eq!(listed["alerts"][1]["output"], a.alert.output);
    let notified_ids: Vec<Option<String>> = std::iter::from_fn(|| match notified.try_recv() {
        Ok(a) => Some(a.node_alert_id.clone()),
        Err(TryRecvError::Empty) => None,
        Err(e) => panic!("{e}"),
    })
    .collect();
    assert_eq!(
        notified_ids,
        [Some("n1:77:0".to_string()), Some("n1:77:1".to_string())]
    );
    let metrics = s.call("GET", "/metrics", None, None).await.text;
    assert!(
        metrics.contains("rulestudio_alerts_total{rule=\"Shell\",priority=\"Warning\"} 2"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_node_alert_is_linked_to_its_stored_event_whichever_arrives_first() {
    let s = TestServer::new().await;
    let lines = "{\"evt.time\":1,\"proc.name\":\"a\"}\n{\"evt.time\":2,\"proc.name\":\"bash\"}\n";
    // The alert first (the node sends alerts before events), then its batch.
    let early = node_alert("n1:9:0", "Shell", Some((100, 1)), &[]);
    assert_eq!(post_alerts(&s, &[early]).await.status, StatusCode::OK);
    assert_eq!(alerts(&s).await["alerts"][0]["event_id"], "");
    assert_eq!(events(&s, lines, 100, true).await.status, StatusCode::OK);
    assert_eq!(alerts(&s).await["alerts"][0]["event_id"], s.event_id(2));
    // The batch first, then the alert.
    assert_eq!(events(&s, lines, 101, true).await.status, StatusCode::OK);
    let late = node_alert("n1:9:1", "Shell", Some((101, 0)), &[]);
    assert_eq!(post_alerts(&s, &[late]).await.status, StatusCode::OK);
    let listed = alerts(&s).await;
    assert_eq!(listed["alerts"][0]["event_id"], s.event_id(3));
    let one = s
        .call(
            "GET",
            &format!("/api/v1/alerts/{}", listed["alerts"][0]["id"]),
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
    assert_eq!(one.body["event_id"], s.event_id(3));
    assert_eq!(one.body["node_alert_id"], "n1:9:1");
}

#[tokio::test]
async fn events_a_node_evaluated_are_not_evaluated_again_others_are() {
    let s = TestServer::new().await;
    s.promote(
        "- rule: Any\n  desc: any\n  condition: evt.time > 0\n  output: any %proc.name\n  priority: NOTICE\n",
    )
    .await;
    let line = "{\"evt.time\":1,\"proc.name\":\"a\"}\n";
    assert_eq!(events(&s, line, 1, true).await.status, StatusCode::OK);
    assert_eq!(alerts(&s).await["total"], 0);
    assert_eq!(events(&s, line, 2, false).await.status, StatusCode::OK);
    assert_eq!(alerts(&s).await["total"], 1);
}

#[tokio::test]
async fn audit_rules_alerts_are_stored_and_counted_but_notify_nobody() {
    let s = TestServer::new().await;
    let mut notified = s.state.alerts.subscribe();
    let audit = node_alert("n1:1:0", "Quiet", None, &["rulestudio.audit", "x"]);
    let loud = node_alert("n1:1:1", "Loud", None, &["x"]);
    assert_eq!(
        post_alerts(&s, &[audit, loud]).await.body,
        json!({"stored": 2, "duplicate": 0})
    );
    assert_eq!(alerts(&s).await["total"], 2);
    assert_eq!(notified.try_recv().unwrap().rule, "Loud");
    assert!(matches!(notified.try_recv(), Err(TryRecvError::Empty)));
    let metrics = s.call("GET", "/metrics", None, None).await.text;
    assert!(
        metrics.contains("rulestudio_alerts_total{rule=\"Quiet\",priority=\"Warning\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn suppressed_counts_reach_the_per_rule_metric_once() {
    let s = TestServer::new().await;
    let mut a = node_alert("n1:2:0", "Noisy", None, &[]);
    a.suppressed = 40;
    post_alerts(&s, std::slice::from_ref(&a)).await;
    post_alerts(&s, &[a]).await;
    let metrics = s.call("GET", "/metrics", None, None).await.text;
    assert!(
        metrics.contains("rulestudio_alerts_suppressed_total{rule=\"Noisy\"} 40"),
        "{metrics}"
    );
    assert!(!metrics.contains("node=\"n1\",rule"), "{metrics}");
}

#[tokio::test]
async fn bad_node_alerts_are_refused_naming_the_line_and_nothing_is_stored() {
    let s = TestServer::new().await;
    let good = serde_json::to_string(&node_alert("n1:1:0", "R", None, &[])).unwrap();
    let other = serde_json::to_string(&node_alert("n2:1:0", "R", None, &[])).unwrap();
    let r = post_body(&s, format!("{good}\n{other}\n")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let message = r.body["message"].as_str().unwrap();
    assert!(
        message.starts_with("line 2: id `n2:1:0` is not `n1:"),
        "{message}"
    );
    let r = post_body(&s, format!("{good}\n{{\"id\": 1}}\n")).await;
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .starts_with("line 2: not a node alert"),
        "{}",
        r.text
    );
    assert_eq!(alerts(&s).await["total"], 0);
}

#[tokio::test]
async fn heartbeats_carry_the_node_s_alert_counters_to_the_collectors_page_and_metrics() {
    let s = TestServer::new().await;
    let beat = json!({"node": "n1", "captured": 1, "filtered": 0, "lost_kernel": 0, "spooled": 0,
        "sent": 1, "dropped": 0, "alerts_spooled": 4, "alerts_sent": 9, "alerts_dropped": 3,
        "alerts_suppressed": 12});
    let r = s
        .call(
            "POST",
            "/api/v1/collectors/heartbeat",
            Some(ADMIN_TOKEN),
            Some(beat),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let page = s
        .call("GET", "/api/v1/collectors", Some(ADMIN_TOKEN), None)
        .await;
    let c = &page.body["collectors"][0];
    assert_eq!(
        (
            &c["alerts_spooled"],
            &c["alerts_sent"],
            &c["alerts_dropped"],
            &c["alerts_suppressed"]
        ),
        (&json!(4), &json!(9), &json!(3), &json!(12))
    );
    let metrics = s.call("GET", "/metrics", None, None).await.text;
    assert!(
        metrics.contains("\nrulestudio_collector_alerts_dropped_total 3\n"),
        "{metrics}"
    );
}
