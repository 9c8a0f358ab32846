//! Issue #11, data safety: what ingest refuses so that nothing stored can break a read, and
//! reads that degrade per row when a stored row does not decode anyway.

mod common;

use axum::http::StatusCode;
use common::{ADMIN_TOKEN, TestServer};

/// Each line refused with a 400 naming its line and key; the batch (a good line before it)
/// is not half-stored and the listing still answers.
#[tokio::test]
async fn numbers_no_field_can_hold_are_refused_naming_line_and_key() {
    let s = TestServer::new().await;
    let good = r#"{"evt.type":"openat","proc.name":"cat"}"#;
    let cases = [
        (
            r#"{"evt.type":"openat","x": 1e400}"#,
            "key 'x': the number 1e400 is out of range",
        ),
        (
            r#"{"x": {"y": [-2.5E+999]}}"#,
            "key 'x': the number -2.5E+999 is out of range",
        ),
        (
            r#"{"proc.pid": 1e400}"#,
            "key 'proc.pid': the number 1e400 is out of range",
        ),
        (r#"{"thread.cpu": 1e400}"#, "key 'thread.cpu'"),
        (
            r#"{"fd.sport": 70000}"#,
            "key 'fd.sport': 70000 is outside the range of a PORT field (0 to 65535)",
        ),
        (
            r#"{"fd.sport": -1}"#,
            "key 'fd.sport': -1 is outside the range of a PORT field",
        ),
        (
            r#"{"user.uid": 4294967296}"#,
            "key 'user.uid': 4294967296 is outside the range of a UINT32 field",
        ),
    ];
    for (bad, want) in cases {
        let body = format!("{good}\n{bad}\n");
        let r = s.ingest(ADMIN_TOKEN, &body, Some(("n", 1))).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.text);
        assert_eq!(r.body["code"], "invalid_event");
        let msg = r.body["message"].as_str().unwrap();
        assert!(msg.starts_with(&format!("line 2: {want}")), "{bad}: {msg}");
        assert_eq!(
            s.event_count().await,
            0,
            "{bad}: nothing of the batch is stored"
        );
    }
    // A 400-digit integer is as unrepresentable as 1e400 and is named the same way.
    let long = format!("{{\"x\": {}}}", "9".repeat(400));
    let r = s.ingest(ADMIN_TOKEN, &long, None).await;
    let msg = r.body["message"].as_str().unwrap();
    assert!(
        msg.starts_with("line 1: key 'x': the number 99999"),
        "{msg}"
    );
    assert!(
        msg.contains("(400 characters)"),
        "the number is shortened: {msg}"
    );

    // In range, the same keys are stored, and the listing reads them.
    let fine = r#"{"x": 1e300, "fd.sport": 65535, "user.uid": 4294967295, "thread.cpu": 2}"#;
    let r = s
        .ingest(ADMIN_TOKEN, &format!("{good}\n{fine}\n"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let page = s
        .call("GET", "/api/v1/events", Some(ADMIN_TOKEN), None)
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_eq!(page.body["events"].as_array().unwrap().len(), 2);
    assert_eq!(page.body["events"][0]["fields"]["fd.sport"], 65535);
}

/// A row stored before ingest refused such numbers (or altered since) is listed as unreadable,
/// with why; the page, the filtered page and the row itself still answer 200.
/// A labelled event's kept copy (what the event page shows once retention removed the event
/// from the store) that no longer reads as an object is answered as unreadable, not a failure.
#[tokio::test]
async fn a_kept_copy_that_does_not_decode_does_not_fail_the_read() {
    let s = TestServer::new().await;
    let r = s
        .ingest(
            ADMIN_TOKEN,
            "{\"proc.name\":\"a\"}\n{\"proc.name\":\"b\"}\n",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let id = s.event_id(1);
    let r = s
        .call(
            "POST",
            &format!("/api/v1/events/{id}/label"),
            Some(ADMIN_TOKEN),
            Some(serde_json::json!({"label": "benign"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    s.state.store.seal().unwrap();
    let gone = common::drop_sealed_segments(&s.state);
    assert_eq!(gone, 2);
    sqlx::query("UPDATE labelled_events SET fields = 'not json at all'")
        .execute(&s.state.db)
        .await
        .unwrap();
    let one = s
        .call(
            "GET",
            &format!("/api/v1/events/{id}"),
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);
    let why = one.body["unreadable"].as_str().unwrap();
    assert!(why.contains("is not a JSON object"), "{why}");
    assert_eq!(one.body["fields"], serde_json::json!({}));
}

/// `GET /healthz`: its status and text.
async fn health(s: &TestServer) -> (StatusCode, String) {
    let r = s.call("GET", "/healthz", None, None).await;
    (r.status, r.text)
}

/// A write refused because of the storage: 503, `storage_unavailable`, the message naming it.
async fn refused_write(s: &TestServer, says: &str) {
    let r = s.ingest(ADMIN_TOKEN, r#"{"proc.name":"x"}"#, None).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text);
    assert_eq!(r.body["code"], "storage_unavailable", "{}", r.text);
    let msg = r.body["message"].as_str().unwrap();
    assert!(msg.contains(says), "{msg}");
    let r = s
        .call(
            "POST",
            "/api/v1/proposals",
            Some(ADMIN_TOKEN),
            Some(serde_json::json!({"title": "t", "files": []})),
        )
        .await;
    assert_eq!(r.body["code"], "storage_unavailable", "{}", r.text);
}

#[tokio::test]
async fn a_removed_database_directory_is_unhealthy_and_refuses_writes() {
    let s = TestServer::new().await;
    assert_eq!(health(&s).await, (StatusCode::OK, "ok\n".into()));
    let r = s.ingest(ADMIN_TOKEN, r#"{"proc.name":"a"}"#, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    std::fs::remove_dir_all(s.dir.path()).unwrap();
    let (status, text) = health(&s).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{text}");
    assert!(text.contains("rulestudio.db is gone"), "{text}");
    refused_write(&s, "is gone (deleted, or its directory removed)").await;
    // Reads of what the open file holds still answer.
    let page = s
        .call("GET", "/api/v1/events", Some(ADMIN_TOKEN), None)
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
}

#[tokio::test]
async fn a_database_file_replaced_under_the_server_is_unhealthy() {
    let s = TestServer::new().await;
    let db = s.dir.path().join("rulestudio.db");
    std::fs::copy(&db, s.dir.path().join("copy")).unwrap();
    std::fs::rename(s.dir.path().join("copy"), &db).unwrap();
    let (status, text) = health(&s).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{text}");
    refused_write(&s, "no longer the file the server opened").await;
}

/// `chattr +i`: read-only even for root (which this suite runs as, and for which a `chmod`
/// changes nothing). Undone when dropped, so that the directory can be removed.
struct Immutable(std::path::PathBuf);

impl Immutable {
    fn set(path: std::path::PathBuf) -> Immutable {
        chattr("+i", &path);
        Immutable(path)
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        chattr("-i", &self.0);
    }
}

fn chattr(flag: &str, path: &std::path::Path) {
    let out = std::process::Command::new("chattr")
        .arg(flag)
        .arg(path)
        .output()
        .expect("chattr (e2fsprogs) runs");
    assert!(out.status.success(), "chattr {flag}: {out:?}");
}

#[tokio::test]
async fn a_read_only_database_is_unhealthy_refuses_writes_and_recovers() {
    let s = TestServer::new().await;
    let db = s.dir.path().join("rulestudio.db");
    {
        let _ro = Immutable::set(db.clone());
        let (status, text) = health(&s).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{text}");
        assert!(text.contains("is read-only"), "{text}");
        refused_write(&s, "is read-only").await;

        // Started on a read-only file: the same answers, not "healthy" and 500s.
        let again = s.reopen(|_| {}).await;
        let (status, text) = health(&again).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{text}");
        refused_write(&again, "is read-only").await;
    }
    assert_eq!(health(&s).await.0, StatusCode::OK);
    let r = s.ingest(ADMIN_TOKEN, r#"{"proc.name":"a"}"#, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

#[tokio::test]
async fn a_disk_below_the_free_space_floor_is_unhealthy_and_refuses_writes() {
    // A floor no disk here meets (1 EiB): the check, not the disk, is under test.
    let s = TestServer::with(|a| a.min_free_disk_mb = 1 << 40).await;
    let (status, text) = health(&s).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{text}");
    assert!(
        text.contains("below the floor of 1099511627776 MiB"),
        "{text}"
    );
    refused_write(&s, "--min-free-disk-mb").await;
    let page = s
        .call("GET", "/api/v1/events", Some(ADMIN_TOKEN), None)
        .await;
    assert_eq!(
        page.status,
        StatusCode::OK,
        "reads still answer: {}",
        page.text
    );
}

/// Each bounded field: one byte over its bound is a 400 naming the field and the bound; at the
/// bound it is accepted.
#[tokio::test]
async fn names_and_notes_past_their_bound_get_400_naming_field_and_bound() {
    let s = TestServer::new().await;
    let r = s.ingest(ADMIN_TOKEN, r#"{"proc.name":"a"}"#, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let over = |n: usize| "x".repeat(n + 1);
    let refused = |r: &common::Response, field: &str, max: usize| {
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        let msg = r.body["message"].as_str().unwrap();
        assert!(
            msg.contains(&format!("`{field}` has {} bytes; at most {max}", max + 1)),
            "{msg}"
        );
    };
    let path = format!("/api/v1/events/{}/label", s.event_id(1));
    let label = |body: serde_json::Value| s.call("POST", &path, Some(ADMIN_TOKEN), Some(body));
    refused(
        &label(serde_json::json!({"label": "benign", "note": over(4096)})).await,
        "note",
        4096,
    );
    refused(
        &label(serde_json::json!({"label": "benign", "rule": over(1024)})).await,
        "rule",
        1024,
    );
    let ok = label(serde_json::json!({"label": "benign", "note": "x".repeat(4096)})).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);

    let baseline = |note: String| {
        s.call(
            "POST",
            "/api/v1/baselines",
            Some(ADMIN_TOKEN),
            Some(serde_json::json!({"since": "2026-01-01T00:00:00Z", "until": "2026-01-02T00:00:00Z", "note": note})),
        )
    };
    refused(&baseline(over(4096)).await, "note", 4096);
    assert_eq!(baseline("x".repeat(4096)).await.status, StatusCode::CREATED);

    let heartbeat = |node: &str| {
        s.call(
            "POST",
            "/api/v1/collectors/heartbeat",
            Some(ADMIN_TOKEN),
            Some(serde_json::json!({"node": node, "captured": 1, "filtered": 0, "lost_kernel": 0, "spooled": 0, "sent": 1, "dropped": 0})),
        )
    };
    refused(&heartbeat(&over(128)).await, "node", 128);
    let r = heartbeat("a\nb").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.text.contains("`node` is a name"), "{}", r.text);
    let r = s
        .ingest(ADMIN_TOKEN, r#"{"proc.name":"a"}"#, Some((&over(128), 1)))
        .await;
    refused(&r, "node", 128);
}

/// `/metrics` needs no credentials: however many nodes report, it lists a bounded number.
#[tokio::test]
async fn metrics_stay_bounded_whatever_collectors_send() {
    let s = TestServer::new().await;
    let collector = s.user("c", "collector").await;
    let nodes = 1024 + 50;
    for i in 0..nodes {
        let node = format!("{i:0>128}");
        let r = s
            .call(
                "POST",
                "/api/v1/collectors/heartbeat",
                Some(&collector),
                Some(serde_json::json!({"node": node, "captured": 1, "filtered": 0, "lost_kernel": 1, "spooled": 0, "sent": 1, "dropped": 1})),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    }
    let metrics = s.call("GET", "/metrics", None, None).await;
    let listed = metrics
        .text
        .lines()
        .filter(|l| l.starts_with("rulestudio_collector_dropped_total{"))
        .count();
    // Per listed node, kernel and spool_full always; the rarer reasons only once they count.
    assert_eq!(listed, 2 * 1024);
    assert!(
        metrics
            .text
            .contains("rulestudio_collector_nodes_unlisted 50\n"),
        "{}",
        &metrics.text[..2000]
    );
    assert!(metrics.text.len() < 500_000, "{} bytes", metrics.text.len());
}

/// Old alerts and expired sessions go in batches of at most [`retention::BATCH`] rows; what
/// is recent stays; a pass with nothing to do deletes nothing. (Events are retained by the
/// event store: `store/tests/store.rs`.)
#[tokio::test]
async fn retention_removes_old_alerts_and_sessions_in_batches() {
    use rulestudio_server::retention;
    let s = TestServer::new().await;
    let now = rulestudio_server::time::now_ns();
    let old = now - 30 * 24 * 3600 * 1_000_000_000; // 30 days: past the 7-day default
    let db = &s.state.db;
    // Rows inserted in one statement each, from a recursive counter.
    let rows = |sql: &'static str, n: i64, time: i64| async move {
        sqlx::query(sql)
            .bind(n)
            .bind(time)
            .execute(db)
            .await
            .unwrap();
    };
    const ALERTS: &str =
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?)
        INSERT INTO alerts (event_id, time, rule, priority, live_version, body)
        SELECT i, ?, 'r', 'WARNING', 1, '{}' FROM c";
    const SESSIONS: &str =
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?)
        INSERT INTO sessions (id_hash, user_id, expires_at)
        SELECT randomblob(16), (SELECT MIN(id) FROM users), ? + i FROM c";
    rows(ALERTS, 5_000, old).await;
    rows(ALERTS, 7, now).await;
    rows(SESSIONS, 4_500, now - 3_600_000_000_000).await;
    rows(SESSIONS, 3, now + 3_600_000_000_000).await;

    let removed = retention::enforce(&s.state).await.unwrap();
    assert_eq!((removed.alerts, removed.sessions), (5_000, 4_500));
    assert_eq!(retention::BATCH, 2_000);
    // 3 batches each (2,000 + 2,000 + the rest).
    assert_eq!(removed.batches, 6, "{removed:?}");
    let count = |table: &'static str| async move {
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(db)
            .await
            .unwrap()
    };
    assert_eq!((count("alerts").await, count("sessions").await), (7, 3));
    let again = retention::enforce(&s.state).await.unwrap();
    assert_eq!(again, retention::Removed::default());

    // Each statement finds its rows by an index: a pass with nothing to delete reads nothing.
    for sql in retention::STATEMENTS {
        let plan: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
                .bind(0_i64)
                .bind(retention::BATCH)
                .fetch_all(db)
                .await
                .unwrap();
        for (.., step) in &plan {
            assert!(
                !step.starts_with("SCAN") || step.contains("USING"),
                "{sql}: {step} ({plan:?})"
            );
        }
    }
}
