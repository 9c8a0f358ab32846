//! Promote and rollback with a reason (issue #17): the audit trail and the live history keep
//! it, a rollback to the current version is refused, and a promoted proposal tells when its
//! version was rolled back. Also: a proposal's evidence is computed over the window its author
//! gave, and its diff carries structured hunks.

mod common;

use axum::http::StatusCode;
use common::{ADMIN_TOKEN, DRAFT, TestServer};
use serde_json::{Value, json};

const RULE_FILE: &str = "custom_rules.yaml";

async fn propose(s: &TestServer, token: &str, body: Value) -> Value {
    let r = s
        .call("POST", "/api/v1/proposals", Some(token), Some(body))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body
}

async fn post(s: &TestServer, token: &str, path: &str, body: Option<Value>) -> common::Response {
    s.call("POST", path, Some(token), body).await
}

#[tokio::test]
async fn reasons_are_kept_and_a_proposal_tells_that_its_version_was_rolled_back() {
    let s = TestServer::new().await;
    let alice = s.user("alice", "author").await;
    let bob = s.user("bob", "reviewer").await;
    let p = propose(
        &s,
        &alice,
        json!({"title": "Add a rule", "files": [{"name": RULE_FILE, "content": DRAFT}]}),
    )
    .await;
    let id = p["id"].as_i64().unwrap();
    let r = post(
        &s,
        &bob,
        &format!("/api/v1/proposals/{id}/reviews"),
        Some(json!({"verdict": "approve"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let too_long = "x".repeat(rulestudio_server::live::MAX_REASON + 1);
    let r = post(
        &s,
        &bob,
        &format!("/api/v1/proposals/{id}/promote"),
        Some(json!({"reason": too_long})),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.text.contains("`reason`"), "{}", r.text);
    let r = post(
        &s,
        &bob,
        &format!("/api/v1/proposals/{id}/promote"),
        Some(json!({"reason": "reviewed"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let promoted = r.body["live_version"].as_i64().unwrap();
    let shown = s
        .call("GET", &format!("/api/v1/proposals/{id}"), Some(&bob), None)
        .await
        .body;
    assert_eq!(shown["rolled_back"], Value::Null, "not rolled back yet");

    // Rolling back to the current version would change nothing.
    let r = post(
        &s,
        ADMIN_TOKEN,
        "/api/v1/live/rollback",
        Some(json!({"version": promoted, "reason": "no-op"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let r = post(
        &s,
        ADMIN_TOKEN,
        "/api/v1/live/rollback",
        Some(json!({"version": promoted - 1, "reason": "too noisy"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let rollback = r.body["version"].as_i64().unwrap();

    let audit = s
        .call("GET", "/api/v1/audit?limit=10", Some(ADMIN_TOKEN), None)
        .await
        .body;
    let details = |action: &str| {
        audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == action)
            .unwrap()["details"]
            .clone()
    };
    assert_eq!(
        details("proposal.promote"),
        json!({"live_version": promoted, "revision": 1, "reason": "reviewed"})
    );
    assert_eq!(
        details("live.rollback"),
        json!({"to": promoted - 1, "reason": "too noisy"})
    );

    let history = s
        .call("GET", "/api/v1/live/history", Some(&alice), None)
        .await
        .body;
    let reasons: Vec<(i64, &str)> = history["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_i64().unwrap(),
                v["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [
            (rollback, "too noisy"),
            (promoted, "reviewed"),
            (promoted - 1, "")
        ]
    );

    let shown = s
        .call(
            "GET",
            &format!("/api/v1/proposals/{id}"),
            Some(&alice),
            None,
        )
        .await
        .body;
    let fate = &shown["rolled_back"];
    assert_eq!(fate["live_version"], rollback);
    assert_eq!(fate["to"], promoted - 1);
    assert_eq!(fate["by"], "admin");
    assert_eq!(fate["reason"], "too noisy");
}

#[tokio::test]
async fn the_evidence_is_computed_over_the_authors_window_and_the_diff_has_hunks() {
    let s = TestServer::new().await;
    let alice = s.user("alice", "author").await;
    let window = json!({"since": "-15m", "until": null});
    let content = format!("{DRAFT}---\n- list: no_final_newline\n  items: [a]");
    let p = propose(
        &s,
        &alice,
        json!({"title": "t", "files": [{"name": RULE_FILE, "content": content}], "window": window}),
    )
    .await;
    assert_eq!(p["evidence"]["window"], window);
    let lines = p["diff"][0]["hunks"][0]["lines"].as_array().unwrap();
    assert_eq!(lines.len(), content.lines().count());
    let marker = lines.iter().find(|l| l["text"] == "---").unwrap();
    assert_eq!(marker["kind"], "added");
    assert_eq!(
        marker["new"].as_u64().unwrap() as usize,
        content.lines().position(|l| l == "---").unwrap() + 1
    );
    let last = lines.last().unwrap();
    assert_eq!(last["text"], "  items: [a]");
    assert_eq!(last["no_newline"], true);

    // Without a window: the newest events, as before.
    let p = propose(
        &s,
        &alice,
        json!({"title": "t", "files": [{"name": RULE_FILE, "content": DRAFT}]}),
    )
    .await;
    assert_eq!(p["evidence"]["window"], json!({"last_events": 100000}));
}

#[tokio::test]
async fn a_proposal_stored_before_diffs_had_hunks_gets_them() {
    let s = TestServer::new().await;
    let alice = s.user("alice", "author").await;
    let p = propose(
        &s,
        &alice,
        json!({"title": "t", "files": [{"name": RULE_FILE, "content": DRAFT}]}),
    )
    .await;
    let hunks = p["diff"][0]["hunks"].clone();
    assert!(!hunks.as_array().unwrap().is_empty());
    sqlx::query("UPDATE proposals SET diff = json_remove(diff, '$[0].hunks') WHERE id = ?")
        .bind(p["id"].as_i64().unwrap())
        .execute(&s.state.db)
        .await
        .unwrap();
    let shown = s
        .call(
            "GET",
            &format!("/api/v1/proposals/{}", p["id"]),
            Some(&alice),
            None,
        )
        .await
        .body;
    assert_eq!(shown["diff"][0]["hunks"], hunks);
}
