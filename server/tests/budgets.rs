//! Issue #11's findings on expensive requests, through the real server over HTTP on loopback:
//! a request past `--request-timeout` is 503 `budget_exceeded`; a client that leaves stops its
//! scan; an invalid preview window is a 400 naming it.

mod common;

use common::http::{http, listen, request};
use common::{ADMIN_TOKEN, TestServer};
use serde_json::json;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_past_its_budget_is_503_budget_exceeded() {
    let server = TestServer::with(|args| args.request_timeout = Duration::from_nanos(1)).await;
    let addr = listen(&server).await;
    server.ingest(ADMIN_TOKEN, common::EVENTS, None).await;
    for (path, body) in [
        ("/api/v1/preview", Some(json!({"rules": common::DRAFT}))),
        ("/api/v1/events?filter=proc.name%3Dbackup", None),
    ] {
        let method = if body.is_some() { "POST" } else { "GET" };
        let (status, answer) = http(addr, method, path, body).await;
        assert_eq!(status, 503, "{path}: {answer}");
        assert_eq!(answer["code"], "budget_exceeded", "{path}");
        assert!(
            answer["message"]
                .as_str()
                .unwrap()
                .contains("--request-timeout (1ns)"),
            "{answer}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_preview_window_is_a_400_naming_it() {
    let server = TestServer::new().await;
    let addr = listen(&server).await;
    for window in [
        json!({"last_event": 5}),
        json!({"last_events": "5"}),
        json!({"since": "yesterday-ish"}),
        json!({"last_events": 5, "since": "2024-01-01T00:00:00Z"}),
    ] {
        let (status, answer) = http(
            addr,
            "POST",
            "/api/v1/preview",
            Some(json!({"rules": common::DRAFT, "window": window})),
        )
        .await;
        assert_eq!(status, 400, "{window}: {answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(
            message.contains("window") || message.contains("since"),
            "{window}: {message}"
        );
    }
}

fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_leaves_stops_its_scan() {
    let server = TestServer::with(|args| args.request_timeout = Duration::from_secs(600)).await;
    let addr = listen(&server).await;
    // 100,000 events, and a draft of 1,000 rules that each read every one of them: minutes of
    // scanning in a debug build.
    let line = common::EVENTS.lines().next().unwrap();
    let batch: String = std::iter::repeat_n(format!("{line}\n"), 20_000).collect();
    for _ in 0..5 {
        let r = server.ingest(ADMIN_TOKEN, &batch, None).await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let rules: String = (0..1_000)
        .map(|i| {
            format!(
                "- rule: r{i}\n  desc: d\n  condition: evt.type = openat and proc.cmdline contains x{i}\n  output: o\n  priority: Warning\n"
            )
        })
        .collect();
    let body = json!({"rules": rules, "base": "none", "window": {"last_events": 100_000}});
    let mut client = TcpStream::connect(addr).await.unwrap();
    client
        .write_all(&request(
            "POST",
            "/api/v1/preview",
            ADMIN_TOKEN,
            Some(&body),
        ))
        .await
        .unwrap();
    // Let the server start: the draft loads, then the scan runs.
    tokio::time::sleep(Duration::from_secs(2)).await;
    drop(client);
    let mut metrics = String::new();
    for _ in 0..600 {
        metrics = http(addr, "GET", "/metrics", None)
            .await
            .1
            .as_str()
            .expect("metrics are text")
            .to_owned();
        if metric(&metrics, "rulestudio_requests_abandoned_total") > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        metric(&metrics, "rulestudio_requests_abandoned_total"),
        1,
        "{metrics}"
    );
    // The preview never finished: it would have been timed in the histogram.
    assert_eq!(
        metric(&metrics, "rulestudio_preview_seconds_count"),
        0,
        "{metrics}"
    );
}
