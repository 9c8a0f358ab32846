//! The live-set rules an event matches (`GET /api/v1/events/{id}/matches`, issue #19), over
//! HTTP on a real SQLite file and event store: judged by the compiled live set as ingest
//! judges a new event, following promotions and the server's `rule_matching`.

mod common;

use axum::http::StatusCode;
use common::{ADMIN_TOKEN, TestServer};
use rulestudio_api::live::RuleMatching;
use serde_json::Value;

const RULES: &str = "\
- rule: Read below etc
  desc: d
  condition: evt.type = openat and fd.name startswith /etc/
  output: \"%proc.name read %fd.name\"
  priority: WARNING
- rule: Read shadow
  desc: d
  condition: evt.type = openat and fd.name = /etc/shadow
  output: \"%proc.name read the shadow file\"
  priority: CRITICAL
  tags: [rulestudio.enforce.dry_run]
- rule: Any exec
  desc: d
  condition: evt.type = execve
  output: \"%proc.name ran\"
  priority: NOTICE
";

/// Two reads, of /etc/shadow and of /etc/hosts, ingested into `s`; their ids.
async fn two_reads(s: &TestServer) -> (String, String) {
    let body = [
        r#"{"evt.time":1700000000000000000,"evt.type":"openat","proc.name":"cat","fd.name":"/etc/shadow"}"#,
        r#"{"evt.time":1700000001000000000,"evt.type":"openat","proc.name":"cat","fd.name":"/etc/hosts"}"#,
    ]
    .join("\n");
    let r = s.ingest(ADMIN_TOKEN, &body, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    (s.event_id(1), s.event_id(2))
}

async fn matches(s: &TestServer, id: &str) -> common::Response {
    s.call(
        "GET",
        &format!("/api/v1/events/{id}/matches"),
        Some(ADMIN_TOKEN),
        None,
    )
    .await
}

/// `(rule, priority, action, reported)` of each match.
fn rows(body: &Value) -> Vec<(String, String, String, bool)> {
    body["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["rule"].as_str().unwrap().to_string(),
                m["priority"].as_str().unwrap().to_string(),
                m["action"].as_str().unwrap().to_string(),
                m["reported"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn row(rule: &str, priority: &str, action: &str, reported: bool) -> (String, String, String, bool) {
    (rule.into(), priority.into(), action.into(), reported)
}

/// The rules of the alerts ingest raised on event `id`, in the order raised.
async fn alerted(s: &TestServer, id: &str) -> Vec<String> {
    let r = s
        .call("GET", "/api/v1/alerts?limit=100", Some(ADMIN_TOKEN), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let mut rules: Vec<(i64, String)> = r.body["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["event_id"] == id)
        .map(|a| {
            (
                a["id"].as_i64().unwrap(),
                a["rule"].as_str().unwrap().into(),
            )
        })
        .collect();
    rules.sort();
    rules.into_iter().map(|(_, r)| r).collect()
}

#[tokio::test]
async fn an_event_lists_the_live_rules_it_matches_as_ingest_judged_it() {
    let s = TestServer::new().await;
    let version = s.promote(RULES).await;
    let (shadow, hosts) = two_reads(&s).await;

    let r = matches(&s, &shadow).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["live_version"], version);
    assert_eq!(r.body["rule_matching"], "all");
    assert_eq!(
        rows(&r.body),
        [
            row("Read below etc", "Warning", "alert", true),
            row("Read shadow", "Critical", "dry_run", true),
        ]
    );
    // The same rules ingest raised alerts for when the event arrived.
    assert_eq!(
        alerted(&s, &shadow).await,
        ["Read below etc", "Read shadow"]
    );

    let r = matches(&s, &hosts).await;
    assert_eq!(
        rows(&r.body),
        [row("Read below etc", "Warning", "alert", true)]
    );
    assert_eq!(alerted(&s, &hosts).await, ["Read below etc"]);

    // A promotion changes the verdict at once: the event is judged by the current version.
    let next = s
        .promote(&RULES.replace("startswith /etc/", "startswith /usr/"))
        .await;
    let r = matches(&s, &hosts).await;
    assert_eq!(r.body["live_version"], next);
    assert_eq!(rows(&r.body), []);
}

#[tokio::test]
async fn under_first_matching_only_the_first_match_is_reported() {
    let s = TestServer::with(|a| a.rule_matching = RuleMatching::First).await;
    s.promote(RULES).await;
    let (shadow, _) = two_reads(&s).await;
    let r = matches(&s, &shadow).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["rule_matching"], "first");
    assert_eq!(
        rows(&r.body),
        [
            row("Read below etc", "Warning", "alert", true),
            row("Read shadow", "Critical", "dry_run", false),
        ]
    );
    assert_eq!(alerted(&s, &shadow).await, ["Read below etc"]);
}

#[tokio::test]
async fn a_labelled_event_retention_removed_is_judged_from_its_kept_copy_while_it_reads() {
    let s = TestServer::new().await;
    s.promote(RULES).await;
    let (shadow, _) = two_reads(&s).await;
    let r = s
        .call(
            "POST",
            &format!("/api/v1/events/{shadow}/label"),
            Some(ADMIN_TOKEN),
            Some(serde_json::json!({"label": "benign", "rule": "Read shadow"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    s.state.store.seal().unwrap();
    assert_eq!(common::drop_sealed_segments(&s.state), 2);
    let r = matches(&s, &shadow).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(rows(&r.body).len(), 2, "{}", r.body);
    // The unlabelled one went with retention.
    let hosts = s.event_id(2);
    assert_eq!(matches(&s, &hosts).await.status, StatusCode::NOT_FOUND);
    // A kept copy that no longer reads cannot be judged: said so, not an empty verdict.
    sqlx::query("UPDATE labelled_events SET fields = 'not json at all'")
        .execute(&s.state.db)
        .await
        .unwrap();
    let r = matches(&s, &shadow).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("is not a JSON object"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn malformed_and_unknown_ids_are_refused_with_their_problem() {
    let s = TestServer::new().await;
    let r = matches(&s, "not-an-id").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let r = matches(&s, &s.event_id(999)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("does not exist"),
        "{}",
        r.body
    );
}
