//! Issue #11's authentication, browser-session and connection findings, each through a real
//! server on a loopback port.

mod common;

use common::ADMIN_TOKEN;
use common::loopback::Loopback;
use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn with_alice(configure: impl FnOnce(&mut rulestudio_server::ServeArgs)) -> Loopback {
    let s = Loopback::start(configure).await;
    let r = s
        .call(
            "POST",
            "/api/v1/users",
            ADMIN_TOKEN,
            json!({"username": "alice", "password": "password123", "role": "author"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    s
}

#[tokio::test]
async fn wrong_passwords_are_throttled_with_retry_after() {
    let s = with_alice(|_| {}).await;
    for _ in 0..5 {
        let r = s.login("alice", "wrong-password", &[]).await;
        assert_eq!(r.status, 401, "{}", r.body);
    }
    // Now even the right password waits: the name is locked, not the guess judged.
    let r = s.login("alice", "password123", &[]).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.json()["code"], "too_many_requests");
    assert!(r.json()["message"].as_str().unwrap().contains("`alice`"));
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&wait), "Retry-After {wait}");
    // An unknown name is throttled the same way, so 429 does not tell names apart.
    for _ in 0..5 {
        assert_eq!(s.login("nobody", "wrong-password", &[]).await.status, 401);
    }
    assert_eq!(s.login("nobody", "wrong-password", &[]).await.status, 429);
}

#[tokio::test]
async fn unknown_users_cost_one_password_check_like_known_ones() {
    let s = with_alice(|_| {}).await;
    let hashes = "rulestudio_password_hashes_total";
    let before = s.metric(hashes).await;
    assert_eq!(s.login("alice", "wrong-password", &[]).await.status, 401);
    assert_eq!(s.metric(hashes).await, before + 1);
    let r = s.login("no-such-user", "wrong-password", &[]).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["message"], "wrong username or password");
    assert_eq!(s.metric(hashes).await, before + 2);
    // The admin here has no password (token only): checked all the same.
    assert_eq!(s.login("admin", "anything-at-all", &[]).await.status, 401);
    assert_eq!(s.metric(hashes).await, before + 3);
}

#[tokio::test]
async fn tokens_can_expire_and_the_list_shows_when() {
    let s = with_alice(|_| {}).await;
    let path = "/api/v1/users/alice/tokens";
    let r = s
        .call(
            "POST",
            path,
            ADMIN_TOKEN,
            json!({"name": "ci", "expires_in": 3600}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let token = r.json()["token"].as_str().unwrap().to_string();
    let expires_at = r.json()["expires_at"].as_i64().unwrap();
    let listed = s.call("GET", path, ADMIN_TOKEN, json!({})).await.json();
    assert_eq!(listed["tokens"][0]["expires_at"], expires_at);
    let created_at = listed["tokens"][0]["created_at"].as_i64().unwrap();
    assert_eq!(expires_at - created_at, 3600 * 1_000_000_000);
    assert_eq!(
        s.call("GET", "/api/v1/session", &token, json!({}))
            .await
            .status,
        200
    );
    // Past its time, the same token is refused like an unknown one.
    sqlx::query("UPDATE tokens SET expires_at = ? WHERE name = 'ci'")
        .bind(rulestudio_server::time::now_ns() - 1)
        .execute(&s.state.db)
        .await
        .unwrap();
    let r = s.call("GET", "/api/v1/session", &token, json!({})).await;
    assert_eq!(r.status, 401, "{}", r.body);
    let r = s
        .call(
            "POST",
            path,
            ADMIN_TOKEN,
            json!({"name": "bad", "expires_in": 0}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("expires_in 0")
    );
}

#[tokio::test]
async fn cookie_changes_need_this_origin_and_json_while_bearer_calls_do_not() {
    let s = with_alice(|_| {}).await;
    let signed_in = s.login("alice", "password123", &[]).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    let set_cookie = signed_in.header("set-cookie").unwrap();
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    let own = format!("http://{}", s.addr);
    let other_port = post(
        &s,
        &cookie,
        Some("http://127.0.0.1:1"),
        "application/json",
        "a",
    )
    .await;
    assert_eq!(other_port.status, 403, "{}", other_port.body);
    let message = other_port.json()["message"].as_str().unwrap().to_string();
    assert!(
        message.contains("cross-origin request refused"),
        "{message}"
    );
    assert!(message.contains("http://127.0.0.1:1"), "{message}");
    assert_eq!(
        post(&s, &cookie, None, "application/json", "b")
            .await
            .status,
        403
    );
    let form = post(&s, &cookie, Some(&own), "text/plain", "c").await;
    assert_eq!(form.status, 403);
    assert!(form.body.contains("application/json"), "{}", form.body);
    let own_page = post(&s, &cookie, Some(&own), "application/json", "d").await;
    assert_eq!(own_page.status, 201, "{}", own_page.body);
    // Nothing of the refused ones was created.
    let names: Vec<String> =
        sqlx::query_scalar("SELECT name FROM tokens WHERE name IN ('a','b','c','d')")
            .fetch_all(&s.state.db)
            .await
            .unwrap();
    assert_eq!(names, ["d"]);
    // A bearer call needs neither Origin nor cookie rules.
    let r = s
        .call(
            "POST",
            "/api/v1/users/alice/tokens",
            ADMIN_TOKEN,
            json!({"name": "e"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

/// A cookie-signed token creation for alice, as a page would send it.
async fn post(
    s: &Loopback,
    cookie: &str,
    origin: Option<&str>,
    content_type: &str,
    name: &str,
) -> common::loopback::Answer {
    let mut headers = vec![("Cookie", cookie), ("Content-Type", content_type)];
    if let Some(o) = origin {
        headers.push(("Origin", o));
    }
    let body = json!({ "name": name }).to_string();
    s.request("POST", "/api/v1/users/alice/tokens", &headers, Some(&body))
        .await
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let s = Loopback::start(|_| {}).await;
    for path in ["/healthz", "/", "/api/v1/nope", "/api/v1/session"] {
        let r = s.request("GET", path, &[], None).await;
        let csp = r
            .header("content-security-policy")
            .unwrap_or_else(|| panic!("{path}: no CSP"));
        for part in [
            "default-src 'none'",
            "script-src 'self' 'wasm-unsafe-eval'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(part), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe-eval'") || csp.contains("'wasm-unsafe-eval'"));
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(r.header("referrer-policy"), Some("same-origin"), "{path}");
    }
}

#[tokio::test]
async fn the_cookie_is_secure_only_when_a_trusted_proxy_says_https() {
    let https = [("X-Forwarded-Proto", "https")];
    let trusting = with_alice(|a| a.trusted_proxy = vec!["127.0.0.1/32".parse().unwrap()]).await;
    let behind_proxy = trusting.login("alice", "password123", &https).await;
    assert!(
        behind_proxy
            .header("set-cookie")
            .unwrap()
            .contains("; Secure")
    );
    let plain = trusting.login("alice", "password123", &[]).await;
    assert!(!plain.header("set-cookie").unwrap().contains("Secure"));
    // From a peer that is not a trusted proxy the header is anyone's to send: ignored.
    let untrusting = with_alice(|_| {}).await;
    let spoofed = untrusting.login("alice", "password123", &https).await;
    assert_eq!(spoofed.status, 200);
    assert!(!spoofed.header("set-cookie").unwrap().contains("Secure"));
}

#[tokio::test]
async fn half_sent_requests_are_closed_after_the_header_timeout_while_healthz_answers() {
    let s = Loopback::start(|a| a.header_timeout = Duration::from_secs(1)).await;
    let mut stalled = Vec::new();
    for _ in 0..200 {
        let mut c = tokio::net::TcpStream::connect(s.addr).await.unwrap();
        c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .unwrap();
        stalled.push(c);
    }
    let r = s.request("GET", "/healthz", &[], None).await;
    assert_eq!((r.status, r.body.as_str()), (200, "ok\n"));
    for mut c in stalled {
        let mut rest = Vec::new();
        // The bound only keeps a broken server from hanging the test; the server closes after
        // its one-second header timeout.
        let read = tokio::time::timeout(Duration::from_secs(60), c.read_to_end(&mut rest)).await;
        let closed = matches!(read, Ok(Ok(_)) | Ok(Err(_)));
        assert!(closed, "a half-sent request was kept open");
        let text = String::from_utf8_lossy(&rest);
        assert!(!text.contains("200 OK"), "{text}");
    }
}

#[tokio::test]
async fn idle_connections_are_closed() {
    let s = Loopback::start(|a| a.idle_timeout = Duration::from_secs(1)).await;
    let mut c = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut all = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(60), c.read_to_end(&mut all)).await;
    assert!(
        read.is_ok(),
        "a keep-alive connection with nothing to do stayed open"
    );
    assert!(String::from_utf8_lossy(&all).starts_with("HTTP/1.1 200 OK"));
}

/// Opens an SSE stream on its own connection and returns it once the response head is in.
async fn open_stream(s: &Loopback, path: &str, token: &str) -> (tokio::net::TcpStream, String) {
    let mut c = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n",
        s.addr
    );
    c.write_all(req.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(
            c.read(&mut byte).await.unwrap(),
            1,
            "closed before the head"
        );
        head.push(byte[0]);
    }
    (c, String::from_utf8_lossy(&head).into_owned())
}

async fn user_token(s: &Loopback, name: &str, role: &str) -> String {
    let r = s
        .call(
            "POST",
            "/api/v1/users",
            ADMIN_TOKEN,
            json!({"username": name, "role": role}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = s
        .call(
            "POST",
            &format!("/api/v1/users/{name}/tokens"),
            ADMIN_TOKEN,
            json!({"name": "t"}),
        )
        .await;
    r.json()["token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn streams_end_when_their_user_is_deleted() {
    let s = Loopback::start(|_| {}).await;
    let token = user_token(&s, "watcher", "viewer").await;
    let other = user_token(&s, "stays", "viewer").await;
    let mut streams = Vec::new();
    for path in ["/api/v1/events/stream", "/api/v1/alerts/stream"] {
        let (c, head) = open_stream(&s, path, &token).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        streams.push(c);
    }
    let (mut kept, _) = open_stream(&s, "/api/v1/events/stream", &other).await;
    let r = s
        .call("DELETE", "/api/v1/users/watcher", ADMIN_TOKEN, json!({}))
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    for mut c in streams {
        let mut rest = Vec::new();
        // The bound only keeps a broken server from hanging the test.
        let read = tokio::time::timeout(Duration::from_secs(60), c.read_to_end(&mut rest)).await;
        assert!(read.is_ok(), "a deleted user's stream stayed open");
        assert!(
            rest.ends_with(b"0\r\n\r\n"),
            "{}",
            String::from_utf8_lossy(&rest)
        );
    }
    // Another user's stream goes on: it delivers the next stored event.
    let auth = format!("Bearer {ADMIN_TOKEN}");
    let line = common::EVENTS.lines().next().unwrap();
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/x-ndjson"),
    ];
    let r = s
        .request("POST", "/api/v1/events", &headers, Some(line))
        .await;
    assert!(r.status < 300, "{} {}", r.status, r.body);
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("event: event") {
        let n = tokio::time::timeout(Duration::from_secs(60), kept.read(&mut buf))
            .await
            .expect("the other user's stream delivered nothing")
            .unwrap();
        assert!(n > 0, "the other user's stream ended");
        seen.extend_from_slice(&buf[..n]);
    }
}

#[tokio::test]
async fn a_user_has_a_bounded_number_of_streams() {
    let s = Loopback::start(|a| a.max_streams_per_user = 2).await;
    let token = user_token(&s, "greedy", "viewer").await;
    let _held = [
        open_stream(&s, "/api/v1/events/stream", &token).await,
        open_stream(&s, "/api/v1/alerts/stream", &token).await,
    ];
    let auth = format!("Bearer {token}");
    let r = s
        .request(
            "GET",
            "/api/v1/alerts/stream",
            &[("Authorization", &auth)],
            None,
        )
        .await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.header("retry-after").is_some());
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("`greedy` already has 2 streams")
    );
    let other = user_token(&s, "modest", "viewer").await;
    let (_c, head) = open_stream(&s, "/api/v1/alerts/stream", &other).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
}
