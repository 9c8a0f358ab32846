//! Ingest → alert on the SSE stream, over a real socket: a client ingests single matching
//! events while background batches load the server; another reads `/api/v1/alerts/stream`.
//! `cargo bench -p rulestudio-server --bench alert_latency`. Goal: p99 ≤ 1 s.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const PROBES: usize = 200;

async fn http(addr: std::net::SocketAddr, method: &str, path: &str, body: &str) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/x-ndjson\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        common::TOKEN,
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut s, &mut out)
        .await
        .unwrap();
    out
}

fn main() {
    let rt = common::runtime();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let (_state, app) = common::server(dir.path()).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

        // The stream reader: arrival time of each probe's alert, keyed by the number in its command line.
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let req = format!("GET /api/v1/alerts/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n", common::TOKEN);
        stream.write_all(req.as_bytes()).await.unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(i64, Instant)>();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stream).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(data) = line.strip_prefix("data: ")
                    && let Ok(v) = serde_json::from_str::<serde_json::Value>(data)
                    && let Some(pid) = v["output_fields"]["proc.cmdline"].as_str().and_then(|c| c.strip_prefix("bash -i probe-")?.parse().ok())
                {
                    let _ = tx.send((pid, Instant::now()));
                }
            }
        });

        // Background load: batches of ordinary events.
        let background = tokio::spawn(async move {
            let mut n = 0;
            for chunk in common::events(200_000, 1_700_000_000_000_000_000, 3).chunks(2_000) {
                http(addr, "POST", "/api/v1/events", &chunk.join("\n")).await;
                n += chunk.len();
            }
            n
        });

        // Probes: a shell with a terminal in a container, which "Terminal shell in container" flags.
        let mut sent = HashMap::new();
        for i in 0..PROBES {
            let pid = 900_000 + i as i64;
            let ev = serde_json::json!({
                "evt.type": "execve", "evt.dir": "<", "proc.name": "bash", "proc.exepath": "/usr/bin/bash",
                "proc.pname": "runc", "proc.cmdline": format!("bash -i probe-{pid}"), "proc.pid": pid, "proc.tty": 34816,
                "proc.is_exe_upper_layer": false, "proc.vpid": 1, "user.name": "root", "user.uid": 0,
                "container.id": "abcdef123456", "container.image.repository": "docker.io/library/ubuntu",
                "evt.arg.flags": "", "proc.args": "-i", "proc.sname": "bash", "proc.cwd": "/",
            });
            sent.insert(pid, Instant::now());
            http(addr, "POST", "/api/v1/events", &ev.to_string()).await;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let bg = background.await.unwrap();
        let mut latencies = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        while latencies.len() < PROBES && Instant::now() < deadline {
            match tokio::time::timeout(Duration::from_secs(1), rx.recv()).await {
                Ok(Some((pid, at))) => {
                    if let Some(t0) = sent.remove(&pid) {
                        latencies.push(at.duration_since(t0).as_secs_f64() * 1e3);
                    }
                }
                _ => continue,
            }
        }
        if latencies.is_empty() {
            println!("alert latency: no probe alert arrived (is a live rule matching the probe event?)");
            return;
        }
        latencies.sort_by(f64::total_cmp);
        println!(
            "alert latency ({} of {PROBES} probes, with {bg} background events): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            latencies.len(),
            common::percentile(&latencies, 0.5),
            common::percentile(&latencies, 0.99),
            latencies[latencies.len() - 1]
        );
    });
}
