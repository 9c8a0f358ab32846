//! The live set: seed, rules.yaml, promotion, rollback; alerts on ingest, listing and SSE.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{ADMIN_TOKEN, DRAFT, EVENTS, TestServer, rule};
use http_body_util::BodyExt;
use rulestudio_api::live::RulesFile;
use rulestudio_server::live::NewVersion;
use serde_json::json;
use std::time::Duration;
use tower::ServiceExt;

#[tokio::test]
async fn first_start_seeds_the_official_rules() {
    let s = TestServer::new().await;
    let live = s.call("GET", "/api/v1/live", Some(ADMIN_TOKEN), None).await;
    assert_eq!(live.body["version"], 1);
    assert_eq!(live.body["files"][0]["name"], "falco_rules.yaml");
    assert!(
        live.body["files"][0]["content"]
            .as_str()
            .unwrap()
            .starts_with("# SPDX-License-Identifier: Apache-2.0")
    );
    let snapshot = s.state.live.current();
    assert!(
        snapshot.loaded.ok(),
        "the official rules load without error"
    );
    assert!(snapshot.loaded.ruleset.rules().len() > 20);
    let yaml = s
        .call("GET", "/api/v1/live/rules.yaml", Some(ADMIN_TOKEN), None)
        .await;
    assert_eq!(
        yaml.headers[header::CONTENT_TYPE],
        "application/yaml; charset=utf-8"
    );
    assert!(yaml.text.contains("- rule: Terminal shell in container"));
}

#[tokio::test]
async fn a_generated_admin_token_is_written_beside_the_database_0600() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x.db");
    let mut args = rulestudio_server::ServeArgs::with_db(&db);
    args.static_dir = dir.path().join("none");
    let state = rulestudio_server::AppState::new(args.clone())
        .await
        .unwrap();
    let file = rulestudio_server::token_file(&db);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let token = std::fs::read_to_string(&file).unwrap();
    let app = rulestudio_server::app(state);
    let req = Request::get("/api/v1/users")
        .header(header::AUTHORIZATION, format!("Bearer {}", token.trim()))
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.oneshot(req).await.unwrap().status(), StatusCode::OK);
    // A second start on the same database creates nothing new.
    drop(rulestudio_server::AppState::new(args).await.unwrap());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), token);
}

#[tokio::test]
async fn rollback_creates_a_new_version_equal_to_the_old_one() {
    let s = TestServer::new().await;
    assert_eq!(s.promote(DRAFT).await, 2);
    assert_eq!(
        s.call("GET", "/api/v1/live", Some(ADMIN_TOKEN), None)
            .await
            .body["files"][0]["name"],
        "local_rules.yaml"
    );
    let r = s
        .call(
            "POST",
            "/api/v1/live/rollback",
            Some(ADMIN_TOKEN),
            Some(json!({"version": 1})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["version"], 3);
    let live = s.call("GET", "/api/v1/live", Some(ADMIN_TOKEN), None).await;
    assert_eq!(live.body["version"], 3);
    assert_eq!(live.body["files"][0]["name"], "falco_rules.yaml");
    assert_eq!(s.state.live.current().version, 3);
    let history = s
        .call("GET", "/api/v1/live/history", Some(ADMIN_TOKEN), None)
        .await;
    let versions: Vec<i64> = history.body["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [3, 2, 1]);
    assert_eq!(history.body["versions"][0]["note"], "rollback to 1");
    let missing = s
        .call(
            "POST",
            "/api/v1/live/rollback",
            Some(ADMIN_TOKEN),
            Some(json!({"version": 9})),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_promotion_from_a_stale_base_is_refused() {
    let s = TestServer::new().await;
    s.promote(DRAFT).await;
    let files = vec![RulesFile {
        name: "x.yaml".into(),
        content: DRAFT.into(),
    }];
    let stale = NewVersion {
        files,
        by: "admin",
        proposal: Some(1),
        note: String::new(),
        expected_base: Some(1),
    };
    assert!(matches!(
        s.state.live.promote(&s.state.db, stale).await,
        Err(rulestudio_server::error::AppError::Conflict(_))
    ));
    assert_eq!(s.state.live.current().version, 2);
}

#[tokio::test]
async fn ingest_raises_alerts_in_falco_json_shape() {
    let s = TestServer::new().await;
    s.promote(DRAFT).await;
    s.ingest(ADMIN_TOKEN, EVENTS, None).await;
    let r = s
        .call("GET", "/api/v1/alerts?limit=5", Some(ADMIN_TOKEN), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["total"], 36);
    let a = &r.body["alerts"][0];
    assert_eq!(a["rule"], "Read file below etc");
    assert_eq!(a["priority"], "Warning");
    assert_eq!(a["source"], "syscall");
    assert_eq!(a["hostname"], "node-a");
    assert_eq!(a["tags"], json!(["filesystem"]));
    assert_eq!(a["live_version"], 2);
    // The newest matching event: nginx opening /etc/ssl/certs/ca.pem at 22:14:26 (event 67).
    assert_eq!(a["event_id"], s.event_id(67));
    assert_eq!(a["time"], "2023-11-14T22:14:26.000000000Z");
    assert_eq!(
        a["output"],
        "22:14:26.000000000: Warning nginx read /etc/ssl/certs/ca.pem (user=www-data image=docker.io/library/nginx)"
    );
    assert_eq!(a["output_fields"]["proc.name"], "nginx");
    let next = r.body["next_cursor"].as_i64().unwrap();
    let page2 = s
        .call(
            "GET",
            &format!("/api/v1/alerts?limit=5&cursor={next}&priority=warning"),
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
    assert!(page2.body["alerts"][0]["id"].as_i64().unwrap() < next);
    let none = s
        .call("GET", "/api/v1/alerts?rule=Other", Some(ADMIN_TOKEN), None)
        .await;
    assert_eq!(none.body["total"], 0);
    let metrics = s.call("GET", "/metrics", None, None).await;
    assert!(
        metrics.text.contains(
            "rulestudio_alerts_total{rule=\"Read file below etc\",priority=\"Warning\"} 36"
        )
    );
    assert!(metrics.text.contains("rulestudio_events_ingested_total 72"));
}

#[tokio::test]
async fn first_matching_stops_at_the_first_rule_and_preview_reports_shadowing() {
    let s = TestServer::with(|a| a.rule_matching = rulestudio_server::config::RuleMatching::First)
        .await;
    let shadow = "- rule: Read shadow\n  desc: d\n  condition: evt.type = openat and fd.name = /etc/shadow\n  output: \"%proc.name\"\n  priority: ERROR\n";
    s.promote(&format!("{shadow}\n{DRAFT}")).await;
    s.ingest(ADMIN_TOKEN, EVENTS, None).await;
    let by_rule = |name: &'static str| {
        let s = &s;
        async move {
            s.call(
                "GET",
                &format!("/api/v1/alerts?rule={}", name.replace(' ', "%20")),
                Some(ADMIN_TOKEN),
                None,
            )
            .await
            .body["total"]
                .clone()
        }
    };
    assert_eq!(by_rule("Read shadow").await, 12);
    assert_eq!(by_rule("Read file below etc").await, 24);
    let p = s.preview(DRAFT).await;
    assert_eq!(
        rule(&p, "Read file below etc")["shadowed_by"],
        json!(["Read shadow"])
    );
}

#[tokio::test]
async fn alerts_are_delivered_on_the_sse_stream() {
    let s = TestServer::new().await;
    s.promote(DRAFT).await;
    let req = Request::get("/api/v1/alerts/stream")
        .header(header::AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}"))
        .body(Body::empty())
        .unwrap();
    let resp = s.app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.headers()[header::CONTENT_TYPE], "text/event-stream");
    let mut body = resp.into_body();
    let line = EVENTS.lines().next().unwrap();
    assert_eq!(
        s.ingest(ADMIN_TOKEN, line, None).await.status,
        StatusCode::OK
    );
    let mut text = String::new();
    while !text.contains("\n\n") {
        let frame = tokio::time::timeout(Duration::from_secs(5), body.frame())
            .await
            .expect("an alert within 5 s")
            .unwrap()
            .unwrap();
        if let Ok(data) = frame.into_data() {
            text.push_str(&String::from_utf8_lossy(&data));
        }
    }
    assert!(text.starts_with("event: alert\n"), "{text}");
    let data = text.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
    let alert: serde_json::Value = serde_json::from_str(data).unwrap();
    assert_eq!(
        (alert["rule"].as_str(), alert["event_id"].as_str()),
        (Some("Read file below etc"), Some(s.event_id(1).as_str()))
    );
}
