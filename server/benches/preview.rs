//! Preview latency: `POST /api/v1/preview` of a typical rule over the newest N stored events.
//! `cargo bench -p rulestudio-server --bench preview [-- EVENTS]` (default 1M). Goal: ≤ 300 ms
//! median at 1M events.

mod common;

use axum::body::Body;
use axum::http::{Request, header};
use http_body_util::BodyExt;
use std::time::Instant;
use tower::ServiceExt;

/// A typical draft: an exec rule with a macro-like condition, over all stored events.
const RULE: &str = r#"
- rule: Shell spawned in a container
  desc: A shell started inside a container.
  condition: evt.type = execve and container.id != host and proc.name in (bash, sh, zsh) and proc.tty != 0
  output: "Shell in container (user=%user.name container=%container.id image=%container.image.repository cmd=%proc.cmdline)"
  priority: WARNING
"#;

const FILE_RULE: &str = r#"
- rule: Read sensitive file untrusted
  desc: A sensitive file opened for reading by a non-trusted program.
  condition: evt.type in (open, openat, openat2) and fd.name in (/etc/shadow, /etc/sudoers) and not proc.name in (sshd, sudo)
  output: "Sensitive file opened (file=%fd.name proc=%proc.name)"
  priority: WARNING
"#;

const RUNS: usize = 9;

fn main() {
    let total = common::count_arg(1_000_000);
    let rt = common::runtime();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let (state, app) = common::server(dir.path()).await;
        let loading = Instant::now();
        let mut events = common::Events::new(1_700_000_000_000_000_000, 11).take(total).peekable();
        while events.peek().is_some() {
            let batch: Vec<String> = events.by_ref().take(10_000).collect();
            common::ingest(&app, batch.join("\n")).await;
        }
        let cached = state.cache.bytes();
        println!(
            "preview: loaded {total} events in {:.1} s; preview cache {:.0} MB ({:.0} bytes/event)",
            loading.elapsed().as_secs_f64(),
            cached as f64 / 1e6,
            cached as f64 / total as f64
        );
        for (name, rule) in [("exec rule", RULE), ("file rule", FILE_RULE)] {
            let mut times = Vec::new();
            let mut matched = 0;
            for _ in 0..RUNS {
                let body = serde_json::json!({"rules": rule, "window": {"last_events": total}});
                let req = Request::post("/api/v1/preview")
                    .header(header::AUTHORIZATION, format!("Bearer {}", common::TOKEN))
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(body.to_string()))
                    .unwrap();
                let started = Instant::now();
                let resp = app.clone().oneshot(req).await.unwrap();
                let bytes = resp.into_body().collect().await.unwrap().to_bytes();
                times.push(started.elapsed().as_secs_f64() * 1e3);
                let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                matched = v["rules"][0]["matched"].as_u64().expect("a preview result");
            }
            times.sort_by(f64::total_cmp);
            println!(
                "preview ({name}, {total} events, {matched} matches): median {:.0} ms, min {:.0} ms, max {:.0} ms over {RUNS} runs",
                common::percentile(&times, 0.5),
                times[0],
                times[RUNS - 1]
            );
        }
    });
}
