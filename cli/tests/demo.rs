//! Issue #7's end-to-end check through real parts: `rulestudio serve --collector` (real eBPF,
//! real SQLite file, real HTTP between collector and server), then `rulestudio demo`, then a
//! preview of the fixed article rules over what was captured: each of the seven rules matches.
//! Needs root (eBPF and cgroups), as CI runs; it fails rather than skips without it.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "demo-test-admin-token";

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        // SIGINT: the server and its collector stop cleanly.
        // SAFETY: signalling our own child by pid.
        unsafe {
            libc::kill(self.0.id() as i32, libc::SIGINT);
        }
        let _ = self.0.wait();
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn get(client: &reqwest::Client, url: &str) -> Option<Value> {
    client
        .get(url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_behaviours_match_every_fixed_article_rule() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_rulestudio"))
            .args([
                "serve",
                "--collector",
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .arg("--db")
            .arg(dir.path().join("rs.db"))
            .env("RULESTUDIO_ADMIN_TOKEN", TOKEN)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start rulestudio serve"),
    );
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    // The collector heartbeats once it has loaded the eBPF program.
    loop {
        let collectors = get(&client, &format!("{base}/api/v1/collectors")).await;
        if collectors.is_some_and(|c| c["collectors"].as_array().is_some_and(|a| !a.is_empty())) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no collector reported to the server within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    let demo = Command::new(env!("CARGO_BIN_EXE_rulestudio"))
        .arg("demo")
        .output()
        .unwrap();
    assert!(
        demo.status.success(),
        "demo failed: {}",
        String::from_utf8_lossy(&demo.stdout)
    );

    let rules =
        std::fs::read_to_string(root().join("tests/fixtures/article-rules.fixed.yaml")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    let last: Value = loop {
        let resp = client
            .post(format!("{base}/api/v1/preview"))
            .bearer_auth(TOKEN)
            .json(&json!({"rules": rules, "window": {"last_events": 1_000_000}, "samples": 1}))
            .send()
            .await
            .unwrap();
        assert!(
            resp.status().is_success(),
            "preview answered {}",
            resp.status()
        );
        let last: Value = resp.json().await.unwrap();
        let counts: Vec<(String, u64)> = last["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["name"].as_str().unwrap().to_string(),
                    r["matched"].as_u64().unwrap(),
                )
            })
            .collect();
        if counts.len() == 7 && counts.iter().all(|(_, n)| *n > 0) {
            break last;
        }
        assert!(
            Instant::now() < deadline,
            "not every article rule matched the demo within 90 s: {counts:?}"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    assert_eq!(
        last["diagnostics"].as_array().map(Vec::len),
        Some(0),
        "the fixed rules load cleanly: {last}"
    );
}
