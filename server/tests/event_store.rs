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

async fn get(s: &TestServer, path: &str) -> common::Response {
    s.call("GET", path, Some(ADMIN_TOKEN), None).await
}

#[tokio::test]
async fn after_a_restart_the_event_is_found_by_its_id_and_by_search() {
    let dir = tempfile::tempdir().unwrap();
    let s = server_in(dir.path(), |_| {}).await;
    s.ingest(ADMIN_TOKEN, EVENTS, None).await;
    let id = s.event_id(3);
    assert!(id.starts_with("studio-1:") && id.ends_with(":3"), "{id}");
    drop(s);

    let s = server_in(dir.path(), |_| {}).await;
    let one = get(&s, &format!("/api/v1/events/{id}")).await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);
    assert_eq!(one.body["id"], id);
    let third: Value = serde_json::from_str(EVENTS.lines().nth(2).unwrap()).unwrap();
    assert_eq!(one.body["fields"]["fd.name"], third["fd.name"]);
    assert_eq!(one.body["time"], third["evt.time"]);
    let found = get(
        &s,
        "/api/v1/events?filter=fd.name%20%3D%20%2Fetc%2Fssl%2Fcerts%2Fca.pem",
    )
    .await;
    let ids: Vec<&str> = found.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&id.as_str()), "{ids:?}");

    for (bad, status, part) in [
        ("studio-1:x:3", StatusCode::BAD_REQUEST, "incarnation 'x'"),
        ("3", StatusCode::BAD_REQUEST, "NODE:INCARNATION:SEQ"),
        ("other-node:1:3", StatusCode::NOT_FOUND, "does not exist"),
    ] {
        let r = get(&s, &format!("/api/v1/events/{bad}")).await;
        assert_eq!(r.status, status, "{bad}: {}", r.text);
        assert!(r.text.contains(part), "{bad}: {}", r.text);
    }
}

/// Many events in several sealed segments; a filter that only the oldest ones match is paged
/// newest first, one match a page, down to the oldest event, where the cursor ends.
#[tokio::test]
async fn search_pages_newest_first_down_to_the_oldest_across_sealed_segments() {
    let dir = tempfile::tempdir().unwrap();
    let s = server_in(dir.path(), |_| {}).await;
    let event = |i: usize, name: &str| {
        format!(
            r#"{{"evt.time":{},"evt.type":"openat","proc.name":"{name}","fd.name":"/f/{i}"}}"#,
            1_000 + i
        )
    };
    let mut n = 0;
    for segment in 0..5 {
        let body: Vec<String> = (0..400)
            .map(|j| {
                n += 1;
                // Only the first three events ever stored match.
                event(
                    n,
                    if segment == 0 && j < 3 {
                        "ancient"
                    } else {
                        "recent"
                    },
                )
            })
            .collect();
        let r = s.ingest(ADMIN_TOKEN, &body.join("\n"), None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        s.state.store.seal().unwrap();
    }
    assert!(s.state.store.snapshot().segments.len() >= 2);
    let mut found = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut path = "/api/v1/events?limit=1&filter=proc.name%20%3D%20ancient".to_string();
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = get(&s, &path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        pages += 1;
        for e in page.body["events"].as_array().unwrap() {
            found.push(e["fields"]["fd.name"].as_str().unwrap().to_string());
        }
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
        assert!(pages < 10, "the cursor ends");
    }
    assert_eq!(found, ["/f/3", "/f/2", "/f/1"]);
}

/// A filter restricted to event types scans only segments and rows of those types, as a rule's
/// preview does, and finds what the unrestricted scan finds.
#[tokio::test]
async fn a_search_skips_segments_and_rows_of_types_its_filter_cannot_match() {
    let dir = tempfile::tempdir().unwrap();
    let s = server_in(dir.path(), |_| {}).await;
    let mut n = 0;
    // Three sealed segments of opens, one of execs (shells and others), one open segment of
    // both kinds.
    for segment in 0..5 {
        let body: Vec<String> = (0..200)
            .map(|j| {
                n += 1;
                let (ty, name) = match (segment, j % 2) {
                    (3, 0) | (4, 0) => ("execve", "sh"),
                    (3, _) => ("execve", "ls"),
                    _ => ("openat", "sh"),
                };
                format!(r#"{{"evt.time":{n},"evt.type":"{ty}","proc.name":"{name}"}}"#)
            })
            .collect();
        let r = s.ingest(ADMIN_TOKEN, &body.join("\n"), None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        if segment < 4 {
            s.state.store.seal().unwrap();
        }
    }
    let (typed, typed_scanned) = search(&s, "evt.type = execve and proc.name = sh").await;
    let (all_shells, untyped_scanned) = search(&s, "proc.name = sh").await;
    let exec_shells: Vec<(String, String)> = all_shells
        .into_iter()
        .filter(|(_, ty)| ty == "execve")
        .collect();
    assert_eq!(
        typed.len(),
        200,
        "100 shells of segment 3, 100 of the open segment"
    );
    assert_eq!(typed, exec_shells);
    assert_eq!(
        untyped_scanned, 1000,
        "a filter that names no type reads every row"
    );
    assert_eq!(
        typed_scanned, 300,
        "only the exec rows: segment 3 and the open segment's"
    );
}

/// A search's matches (id and `evt.type`) and the rows it examined.
async fn search(s: &TestServer, filter: &str) -> (Vec<(String, String)>, u64) {
    let path = format!(
        "/api/v1/events?limit=1000&filter={}",
        filter.replace(' ', "%20").replace('=', "%3D")
    );
    let page = get(s, &path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let found = page.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let id = e["id"].as_str().unwrap().to_string();
            (id, e["fields"]["evt.type"].as_str().unwrap().to_string())
        })
        .collect();
    (found, page.body["scanned"].as_u64().unwrap())
}

#[tokio::test]
async fn a_cursor_into_removed_data_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let s = server_in(dir.path(), |_| {}).await;
    s.ingest(ADMIN_TOKEN, EVENTS, None).await;
    let page = get(&s, "/api/v1/events?limit=5").await;
    let cursor = page.body["next_cursor"].as_str().unwrap().to_string();
    s.state.store.seal().unwrap();
    let gone = common::drop_sealed_segments(&s.state);
    assert_eq!(gone, 72);
    for cursor in [cursor.as_str(), "elsewhere:1:5"] {
        let r = get(&s, &format!("/api/v1/events?cursor={cursor}")).await;
        assert_eq!(r.status, StatusCode::GONE, "{}", r.text);
        assert_eq!(r.body["code"], "gone");
        assert!(
            r.body["message"]
                .as_str()
                .unwrap()
                .contains("start a new search"),
            "{}",
            r.text
        );
    }
}

/// A labelled event is copied whole into the database: after retention removed it from the
/// store, its label and its event page remain.
#[tokio::test]
async fn a_label_outlives_retention() {
    let dir = tempfile::tempdir().unwrap();
    let s = server_in(dir.path(), |_| {}).await;
    s.ingest(ADMIN_TOKEN, EVENTS, None).await;
    let id = s.event_id(2);
    let r = s
        .call(
            "POST",
            &format!("/api/v1/events/{id}/label"),
            Some(ADMIN_TOKEN),
            Some(serde_json::json!({"label": "malicious", "rule": "R", "note": "seen"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let before = get(&s, &format!("/api/v1/events/{id}")).await.body;
    s.state.store.seal().unwrap();
    common::drop_sealed_segments(&s.state);
    assert_eq!(s.event_count().await, 0, "retention removed every event");
    let after = get(&s, &format!("/api/v1/events/{id}")).await;
    assert_eq!(after.status, StatusCode::OK, "{}", after.text);
    assert_eq!(after.body, before);
    let labels = get(&s, &format!("/api/v1/labels?events={id}")).await;
    assert_eq!(
        labels.body["labels"],
        serde_json::json!([{"event_id": id, "label": "malicious", "rule": "R", "note": "seen"}])
    );
    // Clearing the last label lets the copy go too.
    let r = s
        .call(
            "POST",
            &format!("/api/v1/events/{id}/label"),
            Some(ADMIN_TOKEN),
            Some(serde_json::json!({"label": "clear", "rule": "R"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let gone = get(&s, &format!("/api/v1/events/{id}")).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND, "{}", gone.text);
}

/// The raw body of an export, as `token`.
async fn export(s: &TestServer, token: &str, query: &str) -> (StatusCode, bytes::Bytes) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let req = axum::http::Request::get(format!("/api/v1/events/export?{query}"))
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let resp = s.app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    (status, resp.into_body().collect().await.unwrap().to_bytes())
}

#[tokio::test]
async fn export_streams_what_a_search_selects_as_jsonl_and_parquet() {
    use arrow_array::{Array, Int64Array, StringArray};
    let dir = tempfile::tempdir().unwrap();
    let s = server_in(dir.path(), |_| {}).await;
    s.ingest(ADMIN_TOKEN, EVENTS, None).await;
    // Some events sealed, the rest in the open segment.
    s.state.store.seal().unwrap();
    s.ingest(ADMIN_TOKEN, EVENTS, None).await;
    let filter = "filter=proc.name%20%3D%20backup";
    let listed = get(&s, &format!("/api/v1/events?limit=1000&{filter}")).await;
    let listed = listed.body["events"].as_array().unwrap().clone();
    assert!(listed.len() > 2 && listed.len() < 144, "{}", listed.len());

    let (status, body) = export(&s, ADMIN_TOKEN, filter).await;
    assert_eq!(status, StatusCode::OK);
    let lines: Vec<Value> = std::str::from_utf8(&body)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines, listed);

    let (status, body) = export(&s, ADMIN_TOKEN, &format!("{filter}&format=parquet")).await;
    assert_eq!(status, StatusCode::OK);
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(body)
        .unwrap()
        .build()
        .unwrap();
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.unwrap();
        let col = |name: &str| batch.column_by_name(name).unwrap().clone();
        let (id, time, fields) = (col("id"), col("time"), col("fields"));
        let id = id.as_any().downcast_ref::<StringArray>().unwrap();
        let time = time.as_any().downcast_ref::<Int64Array>().unwrap();
        let fields = fields.as_any().downcast_ref::<StringArray>().unwrap();
        for r in 0..batch.num_rows() {
            let fields: Value = serde_json::from_str(fields.value(r)).unwrap();
            rows.push((id.value(r).to_string(), time.value(r), fields));
        }
    }
    let want: Vec<(String, i64, Value)> = listed
        .iter()
        .map(|e| {
            (
                e["id"].as_str().unwrap().to_string(),
                e["time"].as_i64().unwrap(),
                e["fields"].clone(),
            )
        })
        .collect();
    assert_eq!(rows, want);

    let (status, _) = export(&s, ADMIN_TOKEN, "format=csv").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn export_needs_the_author_role_and_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let s = server_in(dir.path(), |_| {}).await;
    s.ingest(ADMIN_TOKEN, EVENTS, None).await;
    let viewer = s.user("vera", "viewer").await;
    let (status, _) = export(&s, &viewer, "").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let author = s.user("ann", "author").await;
    let (status, body) = export(&s, &author, "since=0&format=jsonl").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.iter().filter(|&&b| b == b'\n').count(), 72);
    let audit = get(&s, "/api/v1/audit?limit=10").await;
    let entries = audit.body["entries"].as_array().unwrap();
    let exports: Vec<&Value> = entries
        .iter()
        .filter(|e| e["action"] == "events.export")
        .collect();
    assert_eq!(
        exports.len(),
        1,
        "only the allowed export is recorded: {entries:?}"
    );
    assert_eq!(exports[0]["actor"], "ann");
    assert_eq!(exports[0]["details"]["format"], "jsonl");
    assert_eq!(exports[0]["details"]["since"], "0");
}

/// A database from before the event store: its events are JSON rows of the `events` table
/// (one labelled). They move into the store, with their label, and the rows are deleted.
#[tokio::test]
async fn events_of_an_old_database_move_into_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let s = server_in(dir.path(), |_| {}).await;
    for line in EVENTS.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        sqlx::query("INSERT INTO events (time, node, evt_type, proc_name, fields) VALUES (?, 'node-a', ?, ?, ?)")
            .bind(v["evt.time"].as_i64().unwrap())
            .bind(v["evt.type"].as_str())
            .bind(v["proc.name"].as_str())
            .bind(line)
            .execute(&s.state.db)
            .await
            .unwrap();
    }
    sqlx::query("INSERT INTO labels (event_id, rule, label, note, author, created_at) VALUES (3, '', 'benign', 'old', 'admin', 1)")
        .execute(&s.state.db)
        .await
        .unwrap();
    drop(s);

    let s = server_in(dir.path(), |_| {}).await;
    assert_eq!(s.event_count().await, 0);
    let moved = rulestudio_server::legacy::migrate(&s.state).await.unwrap();
    assert_eq!(moved, EVENTS.lines().count() as u64);
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events")
        .fetch_one(&s.state.db)
        .await
        .unwrap();
    assert_eq!(left, 0);
    let stored = stored(&s);
    assert_eq!(stored.len(), EVENTS.lines().count());
    for ((_, ev), line) in stored.iter().zip(EVENTS.lines()) {
        assert!(*ev == Event::from_json_str(line).unwrap(), "{line}");
    }
    let third = s.event_id(3);
    let labels = get(&s, &format!("/api/v1/labels?events={third}")).await;
    assert_eq!(
        labels.body["labels"],
        serde_json::json!([{"event_id": third, "label": "benign", "rule": null, "note": "old"}])
    );
    let metrics = s.call("GET", "/metrics", None, None).await.text;
    assert!(
        metrics.contains("rulestudio_legacy_events_remaining 0"),
        "{metrics}"
    );
    // Nothing left: a second pass moves nothing.
    assert_eq!(
        rulestudio_server::legacy::migrate(&s.state).await.unwrap(),
        0
    );
}

/// Without `--node`, a store keeps the name it was created with (a renamed host or pod still
/// opens it); naming another node is refused at start, naming the store's directory.
#[tokio::test]
async fn the_node_name_is_the_stores_own_unless_given() {
    let dir = tempfile::tempdir().unwrap();
    let s = server_in(dir.path(), |_| {}).await;
    s.ingest(ADMIN_TOKEN, EVENTS, None).await;
    drop(s);
    let db = dir.path().join("rulestudio.db");
    let s = TestServer::with(|a| a.db = db.clone()).await;
    assert_eq!(s.state.store.node(), "studio-1");
    drop(s);
    let mut args = ServeArgs::with_db(&db);
    args.node = Some("another".into());
    let e = rulestudio_server::AppState::new(args).await.err().unwrap();
    let e = format!("{e:#}");
    assert!(
        e.contains("belongs to node 'studio-1', not 'another'")
            && e.contains("rulestudio.db.events"),
        "{e}"
    );
}
