//! The server's events live in the event store (`--store`, beside the database by default):
//! ingest appends there, batches are stored at most once even across a crash between the
//! claim and the append, and refusals are answered and counted.

mod common;

use axum::http::StatusCode;
use common::{ADMIN_TOKEN, EVENTS, TestServer};
use rulestudio_engine::event::Event;
use rulestudio_server::ServeArgs;
use rulestudio_store::ScanRequest;
use serde_json::Value;

/// A server on the database (and default store) in `dir`.
async fn server_in(dir: &std::path::Path, configure: impl FnOnce(&mut ServeArgs)) -> TestServer {
    let db = dir.join("rulestudio.db");
    TestServer::with(|a| {
        a.db = db;
        a.node = Some("studio-1".into());
        configure(a);
    })
    .await
}

/// Every event in the store, oldest first, with its id's text.
fn stored(s: &TestServer) -> Vec<(String, Event)> {
    let page = s
        .state
        .store
        .scan(&ScanRequest::default(), |_| true)
        .unwrap();
    page.events
        .into_iter()
        .map(|f| (f.id.to_string(), f.event))
        .collect()
}

#[tokio::test]
async fn ingested_events_are_in_the_store_beside_the_database_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let s = server_in(dir.path(), |_| {}).await;
    let r = s.ingest(ADMIN_TOKEN, EVENTS, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let incarnation = s.state.store.incarnation();
    let before = stored(&s);
    assert_eq!(before.len(), EVENTS.lines().count());
    drop(s);

    let s = server_in(dir.path(), |_| {}).await;
    assert!(
        dir.path()
            .join("rulestudio.db.events/manifest.json")
            .exists()
    );
    assert_eq!(s.state.store.incarnation(), incarnation);
    let after = stored(&s);
    let ids = |v: &[(String, Event)]| v.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&after), ids(&before));
    assert!(after.iter().zip(&before).all(|(a, b)| a.1 == b.1));
    assert_eq!(after[0].0, format!("studio-1:{incarnation}:1"));
    let first = Event::from_json_str(EVENTS.lines().next().unwrap()).unwrap();
    assert!(after[0].1 == first, "the first event reads back as sent");
}

#[tokio::test]
async fn store_flag_moves_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = dir.path().join("elsewhere");
    let s = server_in(dir.path(), |a| a.store = Some(elsewhere.clone())).await;
    let r = s.ingest(ADMIN_TOKEN, EVENTS, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(elsewhere.join("manifest.json").exists());
    assert!(!dir.path().join("rulestudio.db.events").exists());
}

#[tokio::test]
async fn a_batch_is_appended_at_most_once() {
    let dir = tempfile::tempdir().unwrap();
    let s = server_in(dir.path(), |_| {}).await;
    let n = EVENTS.lines().count();
    for duplicate in [false, true] {
        let r = s.ingest(ADMIN_TOKEN, EVENTS, Some(("node-a", 7))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["duplicate"], duplicate);
        assert_eq!(r.body["accepted"], n);
    }
    assert_eq!(stored(&s).len(), n);
    let pending: Option<i64> =
        sqlx::query_scalar("SELECT pending_seq FROM ingest_batches WHERE node = 'node-a'")
            .fetch_one(&s.state.db)
            .await
            .unwrap();
    assert_eq!(pending, None, "a stored batch's claim is confirmed");
}

/// A crash between claiming a batch and appending it leaves a pending claim at the store's
/// next sequence number: at start it is dropped, and the retry stores the batch once.
#[tokio::test]
async fn a_batch_cut_before_its_append_is_stored_by_the_retry() {
    let dir = tempfile::tempdir().unwrap();
    let s = server_in(dir.path(), |_| {}).await;
    let next = s.state.store.next_seq() as i64;
    claim(&s, "node-a", 1, next).await;
    drop(s);

    let s = server_in(dir.path(), |_| {}).await;
    let r = s.ingest(ADMIN_TOKEN, EVENTS, Some(("node-a", 1))).await;
    assert_eq!(r.body["duplicate"], false, "{}", r.text);
    assert_eq!(stored(&s).len(), EVENTS.lines().count());
}

/// A crash between appending a batch and confirming its claim: at start the claim is kept
/// (the store has events from its sequence number on), and the retry is a duplicate.
#[tokio::test]
async fn a_batch_cut_after_its_append_is_not_stored_again() {
    let dir = tempfile::tempdir().unwrap();
    let s = server_in(dir.path(), |_| {}).await;
    let r = s.ingest(ADMIN_TOKEN, EVENTS, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // As a crash would leave it: the claim made before these events' append, still pending.
    claim(&s, "node-a", 2, 1).await;
    drop(s);

    let s = server_in(dir.path(), |_| {}).await;
    let r = s.ingest(ADMIN_TOKEN, EVENTS, Some(("node-a", 2))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["duplicate"], true, "{}", r.text);
    assert_eq!(stored(&s).len(), EVENTS.lines().count());
}

async fn claim(s: &TestServer, node: &str, batch: i64, pending_seq: i64) {
    let n = EVENTS.lines().count() as i64;
    sqlx::query(
        "INSERT INTO ingest_batches (node, batch, accepted, received_at, pending_seq) VALUES (?, ?, ?, 0, ?)",
    )
    .bind(node)
    .bind(batch)
    .bind(n)
    .bind(pending_seq)
    .execute(&s.state.db)
    .await
    .unwrap();
}

/// An event with more values than a segment holds is refused whole, named, and counted as
/// lost in `/metrics`; the claim is released so that nothing of it counts as stored.
#[tokio::test]
async fn an_event_the_store_refuses_is_answered_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let s = server_in(dir.path(), |_| {}).await;
    let args: serde_json::Map<String, Value> = (0..2100)
        .map(|i| (format!("evt.arg.a{i}"), Value::from("x")))
        .collect();
    let body = format!(
        "{}\n{}\n",
        EVENTS.lines().next().unwrap(),
        Value::Object(args)
    );
    let r = s.ingest(ADMIN_TOKEN, &body, Some(("node-a", 3))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.body["code"], "invalid_event");
    let message = r.body["message"].as_str().unwrap();
    assert!(
        message.starts_with("event 2 of the batch has") && message.contains("at most 2048"),
        "{message}"
    );
    assert!(stored(&s).is_empty());
    let claims: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ingest_batches")
        .fetch_one(&s.state.db)
        .await
        .unwrap();
    assert_eq!(claims, 0);
    let metrics = s.call("GET", "/metrics", None, None).await.text;
    assert!(
        metrics.contains("rulestudio_store_lost_total{reason=\"too_wide\"} 2"),
        "{metrics}"
    );
}
