//! Issue #11's findings on loading, through the real server over HTTP on loopback, alone in
//! its process (its memory is measured): rules that would exhaust the stack, memory or time
//! answer quickly with a studio limit (RS017), the process lives on and its RSS is back within
//! 100 MB of where it started 10 s later.

mod common;

use common::http::{http, http_as, listen, rss_mb};
use common::{ADMIN_TOKEN, TestServer};
use serde_json::{Value, json};
use std::time::Duration;

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
        println!("after {what}: RSS {} MB", rss_mb());
    }
    // The same as an author's proposal: its evidence carries the limit.
    let author = server.user("author", "author").await;
    let (status, body) = http_as(
        addr,
        &author,
        "POST",
        "/api/v1/proposals",
        Some(json!({"title": "chain", "files": [{"name": "chain.yaml", "content": macro_chain(3_000)}]})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(limit_diagnostics(&body["evidence"]).len(), 1, "{body}");
    assert!(body["evidence"]["errors"].as_u64().unwrap() >= 1);
    println!("after the proposal: RSS {} MB", rss_mb());
    tokio::time::sleep(Duration::from_secs(10)).await;
    let after = rss_mb();
    assert!(
        after < start + 100,
        "RSS went from {start} MB to {after} MB 10 s after the attacks"
    );
}
