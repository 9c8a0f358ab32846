//! `GET /api/v1/events/stream`: the live tail of stored events over Server-Sent Events, with a
//! server-side Falco filter, sampling that says what each message stands for, and a bounded
//! buffer that reports what a slow reader missed.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::*;
use http_body_util::BodyExt;
use serde_json::Value;
use std::time::Duration;
use tower::ServiceExt;

/// One parsed SSE message.
#[derive(Debug)]
struct Message {
    event: String,
    id: Option<String>,
    data: String,
}

/// An open event stream, read message by message.
struct Tail {
    body: Body,
    buffered: String,
}

impl Tail {
    async fn open(s: &TestServer, token: &str, filter: Option<&str>) -> Tail {
        let uri = match filter {
            Some(f) => format!("/api/v1/events/stream?filter={}", encode(f)),
            None => "/api/v1/events/stream".to_string(),
        };
        let req = Request::get(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let resp = s.app.clone().oneshot(req).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()[header::CONTENT_TYPE], "text/event-stream");
        Tail {
            body: resp.into_body(),
            buffered: String::new(),
        }
    }

    /// The next message that is not a keep-alive comment, within `wait`.
    async fn next_within(&mut self, wait: Duration) -> Option<Message> {
        loop {
            if let Some(end) = self.buffered.find("\n\n") {
                let block: String = self.buffered.drain(..end + 2).collect();
                let mut m = Message {
                    event: "message".into(),
                    id: None,
                    data: String::new(),
                };
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event: ") {
                        m.event = v.into();
                    } else if let Some(v) = line.strip_prefix("id: ") {
                        m.id = Some(v.into());
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        m.data.push_str(v);
                    }
                }
                if m.data.is_empty() && m.id.is_none() && m.event == "message" {
                    continue; // a comment (keep-alive)
                }
                return Some(m);
            }
            let frame = tokio::time::timeout(wait, self.body.frame()).await.ok()??;
            if let Ok(data) = frame.unwrap().into_data() {
                self.buffered.push_str(&String::from_utf8_lossy(&data));
            }
        }
    }

    async fn next(&mut self) -> Message {
        self.next_within(Duration::from_secs(5))
            .await
            .expect("a message within 5 s")
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn lines(n: usize) -> String {
    EVENTS.lines().take(n).collect::<Vec<_>>().join("\n")
}

#[tokio::test]
async fn a_viewer_tails_stored_events_as_they_are_ingested() {
    let s = TestServer::new().await;
    let viewer = s.user("vera", "viewer").await;
    let mut tail = Tail::open(&s, &viewer, None).await;
    let r = s.ingest(ADMIN_TOKEN, &lines(3), Some(("node-a", 1))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    for want_id in 1..=3 {
        let m = tail.next().await;
        assert_eq!(m.event, "event");
        assert_eq!(m.id, Some(s.event_id(want_id)));
        // The same event, field for field, as the REST API returns it, standing for itself.
        let mut streamed: Value = serde_json::from_str(&m.data).unwrap();
        let stands_for = streamed.as_object_mut().unwrap().remove("stands_for");
        assert_eq!(stands_for, Some(Value::from(1)));
        let stored = s
            .call(
                "GET",
                &format!("/api/v1/events/{}", s.event_id(want_id)),
                Some(&viewer),
                None,
            )
            .await;
        assert_eq!(streamed, stored.body);
        assert_eq!(streamed["node"], "node-a");
    }
    // A retried batch is acknowledged without storing, so nothing is tailed twice.
    let r = s.ingest(ADMIN_TOKEN, &lines(3), Some(("node-a", 1))).await;
    assert_eq!(r.body["duplicate"], true);
    assert!(
        tail.next_within(Duration::from_millis(300)).await.is_none(),
        "a duplicate batch was tailed"
    );
}

#[tokio::test]
async fn the_filter_is_applied_on_the_server() {
    let s = TestServer::new().await;
    let filter = "fd.name = /etc/shadow";
    let mut tail = Tail::open(&s, ADMIN_TOKEN, Some(filter)).await;
    let r = s.ingest(ADMIN_TOKEN, EVENTS, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let listed = s
        .call(
            "GET",
            &format!("/api/v1/events?limit=1000&filter={}", encode(filter)),
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
    let mut want: Vec<String> = listed.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    want.reverse(); // the listing is newest first, the tail in ingest order
    assert!(
        !want.is_empty() && want.len() < EVENTS.lines().count(),
        "the filter keeps some events, not all: {want:?}"
    );
    let mut got = Vec::new();
    while let Some(m) = tail.next_within(Duration::from_millis(500)).await {
        let ev: Value = serde_json::from_str(&m.data).unwrap();
        assert_eq!(ev["fields"]["fd.name"], "/etc/shadow");
        got.push(ev["id"].as_str().unwrap().to_string());
    }
    assert_eq!(got, want);
}

#[tokio::test]
async fn a_bad_filter_is_refused_before_streaming() {
    let s = TestServer::new().await;
    let r = s
        .call(
            "GET",
            &format!("/api/v1/events/stream?filter={}", encode("proc.nme = bash")),
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.body["code"], "invalid_condition");
    assert!(
        r.body["diagnostics"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("proc.nme")),
        "{}",
        r.text
    );
}

/// Reads messages until their `stands_for` add up to `total`; returns them (id, stands_for).
async fn read_standing_for(tail: &mut Tail, total: u64) -> Vec<(String, u64)> {
    let mut got = Vec::new();
    let mut sum = 0;
    while sum < total {
        let m = tail.next().await;
        assert_eq!(m.event, "event", "{m:?}");
        let ev: rulestudio_api::events::TailedEvent = serde_json::from_str(&m.data).unwrap();
        sum += ev.stands_for;
        got.push((ev.event.id, ev.stands_for));
    }
    assert_eq!(
        sum, total,
        "the samples stand for every matching event, no more"
    );
    got
}

#[tokio::test]
async fn a_fast_source_is_sampled_and_every_matching_event_is_counted() {
    let s = TestServer::new().await;
    let mut all = Tail::open(&s, ADMIN_TOKEN, None).await;
    let mut odd = Tail::open(&s, ADMIN_TOKEN, Some("proc.pid in (1, 3, 5, 7, 9)")).await;
    let batch = 2_000u64;
    let batches = 3;
    for b in 0..batches {
        let body: String = (0..batch)
            .map(|i| {
                format!(
                    "{{\"evt.type\":\"openat\",\"evt.time\":{},\"proc.pid\":{},\"fd.name\":\"/tmp/{i}\"}}\n",
                    b * batch + i,
                    i % 10
                )
            })
            .collect();
        let r = s.ingest(ADMIN_TOKEN, &body, None).await;
        assert_eq!(r.body["accepted"], batch, "{}", r.text);
        let got = read_standing_for(&mut all, batch).await;
        // A batch arrives at once: the first 100 whole (after that, what the tokens earned in
        // the meantime), the rest stood for by few samples.
        assert!(got.len() < batch as usize / 2, "{} messages", got.len());
        if b == 0 {
            assert!(got[..100].iter().all(|(_, n)| *n == 1), "{got:?}");
        }
        assert!(got.iter().any(|(_, n)| *n > 1), "{got:?}");
        // Samples are events of the batch, in the order they were stored.
        let seqs: Vec<u64> = got
            .iter()
            .map(|(id, _)| id.rsplit(':').next().unwrap().parse().unwrap())
            .collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
        assert!(seqs.iter().all(|&q| q > b * batch && q <= (b + 1) * batch));
        // Filtered, the samples stand for the matching events only.
        let kept = read_standing_for(&mut odd, batch / 2).await;
        for (id, _) in kept {
            let ev = s
                .call(
                    "GET",
                    &format!("/api/v1/events/{id}"),
                    Some(ADMIN_TOKEN),
                    None,
                )
                .await;
            assert_eq!(
                ev.body["fields"]["proc.pid"].as_u64().unwrap() % 2,
                1,
                "{}",
                ev.text
            );
        }
    }
}

#[tokio::test]
async fn a_slow_reader_skips_ahead_and_is_told_how_many_it_missed() {
    let s = TestServer::new().await;
    let mut tail = Tail::open(&s, ADMIN_TOKEN, None).await;
    // More events than the buffer holds arrive before the reader reads anything.
    let extra = 500;
    let total = 4096 + extra;
    let body: String = (0..total)
        .map(|i| format!("{{\"evt.type\":\"openat\",\"evt.time\":{i},\"fd.name\":\"/tmp/{i}\"}}\n"))
        .collect();
    let r = s.ingest(ADMIN_TOKEN, &body, None).await;
    assert_eq!(r.body["accepted"], total, "{}", r.text);
    let m = tail.next().await;
    assert_eq!((m.event.as_str(), m.data.as_str()), ("lagged", "500"));
    // Then the oldest event still buffered, and on from there.
    let m = tail.next().await;
    assert_eq!(m.id, Some(s.event_id(501)));
    let metrics = s.call("GET", "/metrics", None, None).await.text;
    assert!(
        metrics.contains("rulestudio_events_stream_lagged_total 500"),
        "{metrics}"
    );
}

#[tokio::test]
async fn labels_of_listed_events() {
    let s = TestServer::new().await;
    s.ingest(ADMIN_TOKEN, &lines(3), None).await;
    for (id, body) in [
        (
            1,
            serde_json::json!({"label": "benign", "rule": "Read shadow"}),
        ),
        (1, serde_json::json!({"label": "malicious"})),
        (
            3,
            serde_json::json!({"label": "benign", "note": "backup job"}),
        ),
    ] {
        let r = s
            .call(
                "POST",
                &format!("/api/v1/events/{}/label", s.event_id(id)),
                Some(ADMIN_TOKEN),
                Some(body),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let r = s
        .call(
            "GET",
            &format!(
                "/api/v1/labels?events={},{},{}",
                s.event_id(1),
                s.event_id(2),
                s.event_id(3)
            ),
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
    assert_eq!(
        r.body,
        serde_json::json!({"labels": [
            {"event_id": s.event_id(1), "label": "malicious", "rule": null, "note": null},
            {"event_id": s.event_id(1), "label": "benign", "rule": "Read shadow", "note": null},
            {"event_id": s.event_id(3), "label": "benign", "rule": null, "note": "backup job"},
        ]})
    );
    let r = s
        .call(
            "GET",
            &format!("/api/v1/labels?events={},x", s.event_id(1)),
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body["message"].as_str().unwrap().contains("'x'"),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn alert_counts_per_rule() {
    let s = TestServer::new().await;
    s.promote(DRAFT).await;
    s.ingest(ADMIN_TOKEN, EVENTS, None).await;
    // Event times in the test data are from 2023: the default window (24 h) has none of them.
    let recent = s
        .call("GET", "/api/v1/alerts/counts", Some(ADMIN_TOKEN), None)
        .await;
    assert_eq!(recent.body["rules"], serde_json::json!([]));
    let all = s
        .call(
            "GET",
            "/api/v1/alerts/counts?since=0",
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
    let rules = all.body["rules"].as_array().unwrap();
    assert!(!rules.is_empty(), "{}", all.text);
    for r in rules {
        let path = format!(
            "/api/v1/alerts?limit=1&since=0&rule={}",
            encode(r["rule"].as_str().unwrap())
        );
        let listed = s.call("GET", &path, Some(ADMIN_TOKEN), None).await;
        assert_eq!(r["count"], listed.body["total"], "{r}");
    }
}
