//! Issue #11's findings on loading and expensive requests, through the real server over HTTP on
//! loopback: rules that would exhaust the stack, memory or time answer quickly with a studio
//! limit (RS017) and leave the process alive and its memory where it was; a request past
//! `--request-timeout` is 503 `budget_exceeded`; a client that leaves stops its scan.

mod common;

use common::{ADMIN_TOKEN, TestServer};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// `rulestudio serve` on a free loopback port, in this process (so its RSS is ours).
async fn listen(server: &TestServer) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = server.app.clone();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn request(method: &str, path: &str, body: Option<&Value>) -> Vec<u8> {
    let body = body.map(Value::to_string).unwrap_or_default();
    format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// One request on its own connection: the status and the body (JSON, or text as a string).
async fn http(addr: SocketAddr, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(&request(method, path, body.as_ref()))
        .await
        .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP response");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("a status");
    let json = serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.to_owned()));
    (status, json)
}

fn rss_mb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kb / 1024
}

fn macro_chain(n: usize) -> String {
    let mut text = String::from("- macro: m0\n  condition: proc.name = a\n");
    for i in 1..n {
        text.push_str(&format!(
            "- macro: m{i}\n  condition: (m{} and proc.name = a)\n",
            i - 1
        ));
    }
    text.push_str(&format!(
        "- rule: r\n  desc: d\n  condition: evt.type = execve and m{}\n  output: o\n  priority: Warning\n",
        n - 1
    ));
    text
}

/// Lists naming lists defined after them, 8 names a list, 7 levels: a few hundred bytes.
fn list_bomb() -> String {
    let mut text = String::new();
    for level in 0..7 {
        let items = vec![format!("l{}", level + 1); 8].join(", ");
        text.push_str(&format!("- list: l{level}\n  items: [{items}]\n"));
    }
    text.push_str("- list: l7\n  items: [a]\n- rule: bomb\n  desc: d\n  condition: proc.name in (l0)\n  output: o\n  priority: Warning\n");
    text
}

fn limit_diagnostics(preview: &Value) -> Vec<&Value> {
    preview["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["code"] == "RS017")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn macro_chains_and_list_bombs_get_the_studio_limit_and_the_server_lives_on() {
    let server = TestServer::new().await;
    let addr = listen(&server).await;
    server.ingest(ADMIN_TOKEN, common::EVENTS, None).await;
    let start = rss_mb();
    for (what, rules) in [
        ("3,000 chained macros", macro_chain(3_000)),
        ("20,000 chained macros", macro_chain(20_000)),
        ("a list bomb", list_bomb()),
    ] {
        let (status, body) = http(
            addr,
            "POST",
            "/api/v1/preview",
            Some(json!({"rules": rules, "base": "none"})),
        )
        .await;
        assert_eq!(status, 200, "{what}: {body}");
        let limits = limit_diagnostics(&body);
        assert_eq!(limits.len(), 1, "{what}: {body}");
        assert!(
            limits[0]["message"]
                .as_str()
                .unwrap()
                .starts_with("studio limit:"),
            "{what}: {}",
            limits[0]
        );
        assert_eq!(
            body["rules"],
            json!([]),
            "{what}: nothing compiled to preview"
        );
        let (status, _) = http(addr, "GET", "/healthz", None).await;
        assert_eq!(status, 200, "the server is alive after {what}");
    }
    tokio::time::sleep(Duration::from_secs(10)).await;
    let after = rss_mb();
    assert!(
        after < start + 100,
        "RSS went from {start} MB to {after} MB 10 s after the attacks"
    );
}

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
        .write_all(&request("POST", "/api/v1/preview", Some(&body)))
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
