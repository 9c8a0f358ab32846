//! HTTPS (issue #11, "no TLS anywhere"): `--tls-cert`/`--tls-key` served by rustls and
//! re-read when the files change, clients verifying the server against `--ca-cert`, and
//! `--forward-url`/`--notify-url` reaching `https://` receivers. Every certificate is made here
//! by a CA generated for the test; everything runs on loopback.

mod common;

#[path = "common/ca.rs"]
mod ca;

use axum::Router;
use axum::routing::post;
use ca::Ca;
use common::{ADMIN_TOKEN, TestServer};
use rulestudio_server::http::{self, tls::TlsError};
use rulestudio_server::{AppState, ServeArgs, app};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// A client that trusts only `ca` and opens a new connection (a new handshake) per request.
fn client(ca: &Path) -> reqwest::Client {
    rulestudio_api::client::builder(Some(ca))
        .unwrap()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// `app` served over HTTPS on a loopback port, as `rulestudio serve --tls-cert --tls-key`.
async fn serve_https(router: Router, cert: &Path, key: &Path, args: &ServeArgs) -> SocketAddr {
    let acceptor = http::tls::acceptor(cert, key).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = http::Limits::of(args);
    tokio::spawn(http::serve_tls(
        listener,
        router,
        limits,
        Some(acceptor),
        std::future::pending(),
    ));
    addr
}

async fn studio_over_https(ca: &Ca, dir: &Path) -> (TestServer, SocketAddr) {
    studio_over_https_with(ca, dir, |_| {}).await
}

async fn studio_over_https_with(
    ca: &Ca,
    dir: &Path,
    configure: impl FnOnce(&mut ServeArgs),
) -> (TestServer, SocketAddr) {
    let (cert, key) = ca.issue_into(dir);
    let server = TestServer::with(|a| {
        a.admin_password = Some("password123".into());
        configure(a);
    })
    .await;
    let addr = serve_https(app(server.state.clone()), &cert, &key, &server.state.config).await;
    (server, addr)
}

/// Whether `client` gets `/healthz` from `addr` over HTTPS; the error's text otherwise.
async fn healthz(client: &reqwest::Client, addr: SocketAddr) -> Result<u16, String> {
    client
        .get(format!("https://localhost:{}/healthz", addr.port()))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .map_err(|e| format!("{e:?}"))
}

#[tokio::test]
async fn https_is_served_to_clients_trusting_its_ca_and_refused_by_others() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, stranger) = (Ca::new("studio CA"), Ca::new("another CA"));
    let (_server, addr) = studio_over_https(&ca, dir.path()).await;
    let trusting = client(&ca.write(dir.path(), "ca"));
    assert_eq!(healthz(&trusting, addr).await, Ok(200));
    // By IP address too: the certificate names 127.0.0.1.
    let by_ip = trusting
        .get(format!("https://{addr}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(by_ip.status(), 200);

    let other = client(&stranger.write(dir.path(), "stranger"));
    let refused = healthz(&other, addr).await.unwrap_err();
    assert!(refused.contains("UnknownIssuer"), "{refused}");
    // The system's roots do not know a CA made a moment ago either.
    let system = rulestudio_api::client::builder(None)
        .unwrap()
        .build()
        .unwrap();
    assert!(healthz(&system, addr).await.is_err());

    // Plain HTTP on the TLS port gets no answer.
    let plain = reqwest::Client::new()
        .get(format!("http://{addr}/healthz"))
        .send()
        .await;
    assert!(plain.is_err(), "{plain:?}");
    // …and the studio is still serving.
    assert_eq!(healthz(&trusting, addr).await, Ok(200));
}

#[tokio::test]
async fn handshakes_never_finished_are_closed_after_the_header_timeout_while_https_answers() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("studio CA");
    let (_server, addr) = studio_over_https_with(&ca, dir.path(), |a| {
        a.header_timeout = Duration::from_secs(1)
    })
    .await;
    let mut stalled = Vec::new();
    for i in 0..100 {
        let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
        // Half of them send the first bytes of a ClientHello, half send nothing at all.
        if i % 2 == 0 {
            c.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00]).await.unwrap();
        }
        stalled.push(c);
    }
    assert_eq!(
        healthz(&client(&ca.write(dir.path(), "ca")), addr).await,
        Ok(200)
    );
    for mut c in stalled {
        let mut rest = Vec::new();
        // The bound only keeps a broken server from hanging the test; the server closes after
        // its one-second header timeout.
        let read = tokio::time::timeout(Duration::from_secs(60), c.read_to_end(&mut rest)).await;
        assert!(
            matches!(read, Ok(Ok(_)) | Ok(Err(_))),
            "a stalled handshake was kept open"
        );
    }
}

#[tokio::test]
async fn the_session_cookie_is_secure_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("studio CA");
    let (_server, addr) = studio_over_https(&ca, dir.path()).await;
    let r = client(&ca.write(dir.path(), "ca"))
        .post(format!("https://localhost:{}/api/v1/session", addr.port()))
        .json(&json!({"username": "admin", "password": "password123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
}

#[tokio::test]
async fn a_renewed_certificate_is_served_from_the_next_handshake() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (Ca::new("first CA"), Ca::new("second CA"));
    let (_server, addr) = studio_over_https(&first, dir.path()).await;
    let (first_pem, second_pem) = (
        first.write(dir.path(), "first"),
        second.write(dir.path(), "second"),
    );
    // Each check with a new client: one that had a session could resume it without being
    // shown a certificate at all.
    assert_eq!(healthz(&client(&first_pem), addr).await, Ok(200));
    assert!(healthz(&client(&second_pem), addr).await.is_err());

    // Renewed in place by another CA, the way a certificate manager rewrites the files.
    second.issue_into(dir.path());
    assert_eq!(healthz(&client(&second_pem), addr).await, Ok(200));
    let old = healthz(&client(&first_pem), addr).await.unwrap_err();
    assert!(old.contains("UnknownIssuer"), "{old}");

    // A renewal that is not a certificate (half written, wrong file) keeps the last good one.
    std::fs::write(
        dir.path().join("server.crt"),
        "-----BEGIN CERTIFICATE-----\ntruncated",
    )
    .unwrap();
    assert_eq!(healthz(&client(&second_pem), addr).await, Ok(200));
    // A key that does not go with the certificate is not taken either.
    let (_, stray_key) = first.issue();
    let (good_cert, _) = first.issue();
    std::fs::write(dir.path().join("server.crt"), good_cert).unwrap();
    std::fs::write(dir.path().join("server.key"), stray_key).unwrap();
    assert_eq!(healthz(&client(&second_pem), addr).await, Ok(200));
    assert!(healthz(&client(&first_pem), addr).await.is_err());
}

#[test]
fn unusable_certificate_files_stop_the_start_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("studio CA");
    let (cert, key) = ca.issue_into(dir.path());
    let missing = dir.path().join("missing.crt");
    let e = http::tls::acceptor(&missing, &key).err().unwrap();
    assert!(matches!(e, TlsError::Read { .. }), "{e}");
    assert!(e.to_string().contains("missing.crt"), "{e}");

    let empty = dir.path().join("empty.crt");
    std::fs::write(&empty, "no PEM here\n").unwrap();
    let e = http::tls::acceptor(&empty, &key).err().unwrap();
    assert!(matches!(e, TlsError::NoCertificate { .. }), "{e}");
    assert!(e.to_string().contains("empty.crt"), "{e}");

    // The certificate given as the key.
    let e = http::tls::acceptor(&cert, &cert).err().unwrap();
    assert!(matches!(e, TlsError::NoKey { .. }), "{e}");

    let (_, other_key) = ca.issue();
    let stray = dir.path().join("stray.key");
    std::fs::write(&stray, other_key).unwrap();
    let e = http::tls::acceptor(&cert, &stray).err().unwrap();
    assert!(matches!(e, TlsError::Key { .. }), "{e}");
    assert!(
        e.to_string().contains("stray.key") && e.to_string().contains("server.crt"),
        "{e}"
    );
}

/// An HTTPS receiver on loopback (the studio's own connection loop, with a route that passes
/// on what is POSTed to `/hook`); its URL and what it receives.
async fn https_receiver(ca: &Ca, dir: &Path) -> (String, mpsc::UnboundedReceiver<Value>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let receiver = Router::new().route(
        "/hook",
        post(move |axum::Json(body): axum::Json<Value>| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(body);
            }
        }),
    );
    let hook_dir = dir.join("receiver");
    std::fs::create_dir_all(&hook_dir).unwrap();
    let (cert, key) = ca.issue_into(&hook_dir);
    let args = ServeArgs::with_db(dir.join("unused.db"));
    let addr = serve_https(receiver, &cert, &key, &args).await;
    (format!("https://localhost:{}/hook", addr.port()), rx)
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Value>) -> Value {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("nothing reached the receiver within 10 s")
        .unwrap()
}

#[tokio::test]
async fn notifications_reach_an_https_receiver_verified_against_the_ca_cert() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("receiver CA");
    let (url, mut rx) = https_receiver(&ca, dir.path()).await;
    let ca_path = ca.write(dir.path(), "ca");
    let server = TestServer::with(|a| {
        a.notify_url = Some(url.clone());
        a.ca_cert = Some(ca_path);
    })
    .await;
    let files = json!([{"name": "custom_rules.yaml", "content": common::DRAFT}]);
    let r = server
        .call(
            "POST",
            "/api/v1/proposals",
            Some(ADMIN_TOKEN),
            Some(json!({"title": "over TLS", "files": files})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let event = next(&mut rx).await;
    assert_eq!(event["event"], "proposal.created");
    assert_eq!(event["proposal"]["title"], "over TLS");

    // Without the CA the same receiver is not trusted: the notification fails and is counted.
    let untrusting = TestServer::with(|a| a.notify_url = Some(url)).await;
    let r = untrusting
        .call(
            "POST",
            "/api/v1/proposals",
            Some(ADMIN_TOKEN),
            Some(json!({"title": "unverified", "files": files})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    for _ in 0..200 {
        if untrusting
            .state
            .metrics
            .notify_failed
            .load(std::sync::atomic::Ordering::Relaxed)
            == 1
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let failed = untrusting
        .state
        .metrics
        .notify_failed
        .load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(failed, 1);
    assert!(
        rx.try_recv().is_err(),
        "an unverified receiver got a notification"
    );
}

#[tokio::test]
async fn a_bad_ca_cert_stops_the_start_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = ServeArgs::with_db(dir.path().join("rulestudio.db"));
    args.admin_token = Some(ADMIN_TOKEN.into());
    args.notify_url = Some("https://localhost:1/hook".into());
    args.ca_cert = Some(dir.path().join("nowhere.pem"));
    let e = AppState::new(args).await.err().unwrap().to_string();
    assert!(e.contains("--ca-cert") && e.contains("nowhere.pem"), "{e}");
}

/// The whole of `rulestudio serve` (its `serve()`, not a router in a test's loop) with
/// `--tls-cert`/`--tls-key` and an `https://` `--forward-url`: an event ingested over HTTPS
/// raises an alert that reaches the HTTPS receiver.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_with_tls_forwards_alerts_to_an_https_receiver() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("one CA for both");
    let (url, mut rx) = https_receiver(&ca, dir.path()).await;
    let seeded = TestServer::new().await;
    seeded
        .promote(
            "- rule: tls probe\n  desc: d\n  condition: evt.type = openat and proc.name = tls-probe\n  output: probe %proc.name\n  priority: WARNING\n",
        )
        .await;
    let studio_dir = dir.path().join("studio");
    std::fs::create_dir_all(&studio_dir).unwrap();
    let (cert, key) = ca.issue_into(&studio_dir);
    let listen = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut args = ServeArgs::with_db(seeded.dir.path().join("rulestudio.db"));
    // `seeded` still holds its event store (one writer per store).
    args.store = Some(dir.path().join("studio.events"));
    args.listen = listen;
    args.admin_token = Some(ADMIN_TOKEN.into());
    args.static_dir = dir.path().join("no-ui");
    args.tls_cert = Some(cert);
    args.tls_key = Some(key);
    args.forward_url = Some(url);
    args.ca_cert = Some(ca.write(dir.path(), "ca"));
    let served = tokio::spawn(rulestudio_server::serve(args));

    let client = client(&dir.path().join("ca.pem"));
    let base = format!("https://localhost:{}", listen.port());
    let mut up = false;
    for _ in 0..200 {
        if healthz(&client, listen).await == Ok(200) {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "serve() never answered /healthz over HTTPS");
    let r = client
        .post(format!("{base}/api/v1/events"))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "application/x-ndjson")
        .body("{\"evt.type\":\"openat\",\"proc.name\":\"tls-probe\"}\n")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let alert = next(&mut rx).await;
    assert_eq!(alert["rule"], "tls probe", "{alert}");
    assert_eq!(alert["output_fields"]["proc.name"], "tls-probe", "{alert}");
    served.abort();
}
