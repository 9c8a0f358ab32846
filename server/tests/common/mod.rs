//! A server on a real temporary SQLite file, driven through its router with `oneshot`.
#![allow(dead_code)] // each test binary uses a different part of the harness

pub mod contract;
pub mod http;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use rulestudio_server::api::{Endpoint, endpoints};
use rulestudio_server::{AppState, ServeArgs, app};
use serde_json::{Value, json};
use tower::ServiceExt;

pub mod loopback;

pub const ADMIN_TOKEN: &str = "rs_test_admin_token";
pub const EVENTS: &str = include_str!("../data/events.jsonl");
pub const DRAFT: &str = include_str!("../data/draft.yaml");

pub struct TestServer {
    pub state: AppState,
    pub app: Router,
    pub dir: tempfile::TempDir,
}

pub struct Response {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl TestServer {
    pub async fn new() -> TestServer {
        Self::with(|_| {}).await
    }

    pub async fn with(configure: impl FnOnce(&mut ServeArgs)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let mut args = ServeArgs::with_db(dir.path().join("rulestudio.db"));
        args.admin_token = Some(ADMIN_TOKEN.into());
        args.static_dir = dir.path().join("no-ui");
        configure(&mut args);
        let state = AppState::new(args).await.unwrap();
        TestServer {
            app: app(state.clone()),
            state,
            dir,
        }
    }

    /// Another server on this one's database, as after a restart (`configure` may change its
    /// flags); this one's directory must outlive it. This one still holds its event store (a
    /// store has one writer), so the other gets an empty store of its own: events across a
    /// restart are tested with real processes (`tests/event_store.rs`).
    pub async fn reopen(&self, configure: impl FnOnce(&mut ServeArgs)) -> TestServer {
        let db = self.dir.path().join("rulestudio.db");
        static REOPENED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = REOPENED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let store = self.dir.path().join(format!("reopened-{n}.events"));
        Self::with(|args| {
            args.db = db;
            args.store = Some(store);
            configure(args);
        })
        .await
    }

    /// Sends `req`; an API answer with a status its endpoint does not document, or a body
    /// that is not what the OpenAPI document says for that status, fails the test, so that
    /// every test checks the document against what the server does (`contract`).
    pub async fn send(&self, req: Request<Body>) -> Response {
        let (method, uri) = (req.method().to_string(), req.uri().path().to_string());
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let endpoint = documented(&method, &uri);
        if let Some(e) = endpoint {
            assert!(
                e.answers(status.as_u16()),
                "{method} {uri} answered {status}, which the endpoint table of {} does not list",
                e.call.route.path
            );
        }
        let headers = resp.headers().clone();
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|c| c.to_str().ok())
            .map(str::to_string);
        let check = |body: Option<&[u8]>| {
            if let Some(e) = endpoint {
                let checked = contract::check(
                    &contract::DOC,
                    e.call.route.method,
                    e.call.route.path,
                    status.as_u16(),
                    content_type.as_deref(),
                    body,
                );
                if let Err(why) = checked {
                    panic!("{method} {uri}: {why}");
                }
                contract::record(e.call.route.method, e.call.route.path, status.as_u16());
            }
        };
        if content_type.as_deref() == Some("text/event-stream") {
            check(None);
            return Response {
                status,
                headers,
                body: Value::Null,
                text: String::new(),
            };
        }
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        check(Some(&bytes));
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Response {
            status,
            headers,
            body,
            text,
        }
    }

    /// A JSON request; `token` None means unauthenticated. A streaming response (SSE) is
    /// answered with its status and headers only: its body never ends. A body that is not
    /// what the OpenAPI document says the endpoint takes fails the test (`contract`), as a
    /// wrong answer does: tests that send a bad body on purpose use [`Self::call_unchecked`].
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        if let (Some(body), Some(e)) = (&body, documented(method, uri_path(path))) {
            let checked = contract::check_request(
                &contract::DOC,
                e.call.route.method,
                e.call.route.path,
                body,
            );
            if let Err(why) = checked {
                panic!("{method} {path}: {why}");
            }
        }
        self.call_unchecked(method, path, token, body).await
    }

    /// [`Self::call`] without checking the body against the document: for a test that sends a
    /// body the server must refuse, or one the endpoint ignores.
    pub async fn call_unchecked(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        };
        self.send(req.unwrap()).await
    }

    pub async fn ingest(
        &self,
        token: &str,
        body: &str,
        node_batch: Option<(&str, i64)>,
    ) -> Response {
        let mut req = Request::post("/api/v1/events")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/x-ndjson");
        if let Some((node, batch)) = node_batch {
            req = req
                .header("X-Rulestudio-Node", node)
                .header("X-Rulestudio-Batch", batch.to_string());
        }
        self.send(req.body(Body::from(body.to_string())).unwrap())
            .await
    }

    /// Creates a user with `role` and returns an API token for them.
    pub async fn user(&self, username: &str, role: &str) -> String {
        let r = self
            .call(
                "POST",
                "/api/v1/users",
                Some(ADMIN_TOKEN),
                Some(json!({"username": username, "password": "password123", "role": role})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let r = self
            .call(
                "POST",
                &format!("/api/v1/users/{username}/tokens"),
                Some(ADMIN_TOKEN),
                Some(json!({"name": "test"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.body["token"].as_str().unwrap().to_string()
    }

    /// The id (`NODE:INCARNATION:SEQ`) of the `seq`-th event stored.
    pub fn event_id(&self, seq: u64) -> String {
        self.state.store.id(seq).to_string()
    }

    /// Events in the event store.
    pub async fn event_count(&self) -> i64 {
        let store = &self.state.store;
        store.next_seq() as i64 - 1 - store.snapshot().removed_through as i64
    }

    /// Makes `rules` the live set (one file, `local_rules.yaml`); returns the new version.
    pub async fn promote(&self, rules: &str) -> i64 {
        let files = vec![rulestudio_api::live::RulesFile {
            name: "local_rules.yaml".into(),
            content: rules.into(),
        }];
        let new = rulestudio_server::live::NewVersion {
            files,
            by: "admin",
            proposal: None,
            note: "test".into(),
            expected_base: None,
        };
        self.state
            .live
            .promote(&self.state.db, new)
            .await
            .unwrap()
            .version
    }

    pub async fn preview(&self, rules: &str) -> Value {
        let r = self
            .call(
                "POST",
                "/api/v1/preview",
                Some(ADMIN_TOKEN),
                Some(json!({"rules": rules, "window": {"last_events": 1000}})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.body
    }
}

/// `uri` without its query.
fn uri_path(uri: &str) -> &str {
    uri.split('?').next().unwrap_or(uri)
}

/// The documented endpoint `method` `path` (`/api/v1/…`) is routed to: the one whose literal
/// segments match, preferring literals to `{parameters}` (`/events/stream` over `/events/{id}`).
fn documented(method: &str, path: &str) -> Option<&'static Endpoint> {
    let path = path.strip_prefix("/api/v1")?;
    let segments: Vec<&str> = path.split('/').collect();
    endpoints()
        .filter(|e| e.call.route.method == method)
        .filter_map(|e| {
            let pattern: Vec<&str> = e.call.route.path.split('/').collect();
            if pattern.len() != segments.len() {
                return None;
            }
            let mut literals = 0;
            for (p, s) in pattern.iter().zip(&segments) {
                if p.starts_with('{') {
                    continue;
                }
                if p != s {
                    return None;
                }
                literals += 1;
            }
            Some((literals, e))
        })
        .max_by_key(|(literals, _)| *literals)
        .map(|(_, e)| e)
}

/// Labels benign every stored event the Falco `condition` selects (found by the event
/// search); returns how many.
pub async fn label_benign(s: &TestServer, condition: &str) -> usize {
    let filter: String = condition
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'_' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let found = s
        .call(
            "GET",
            &format!("/api/v1/events?limit=1000&filter={filter}"),
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.text);
    let ids: Vec<String> = found.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    for id in &ids {
        let r = s
            .call(
                "POST",
                &format!("/api/v1/events/{id}/label"),
                Some(ADMIN_TOKEN),
                Some(json!({"label": "benign"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    ids.len()
}

/// The preview entry of `rule`.
pub fn rule<'a>(preview: &'a Value, name: &str) -> &'a Value {
    preview["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {preview}"))
}

/// Retention with a one-byte bound: drops every sealed segment of `state`'s event store, as
/// retention does once data is old; returns the events it removed.
pub fn drop_sealed_segments(state: &rulestudio_server::AppState) -> u64 {
    state
        .store
        .retain(
            rulestudio_server::time::now_ns(),
            rulestudio_store::Retention {
                age: None,
                bytes: Some(1),
            },
        )
        .unwrap()
        .rows
}
