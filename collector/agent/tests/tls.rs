//! The collector towards an HTTPS server (issue #11): `--ca-cert` names the CA it verifies the
//! server against; a server whose certificate that CA did not sign gets no event. The server
//! is the studio's own (its connection loop with `--tls-cert`/`--tls-key`), on loopback.

#[path = "../../../server/tests/common/ca.rs"]
mod ca;
mod common;

use ca::Ca;
use rulestudio_collector::Config;
use rulestudio_server::config::ServeArgs;
use rulestudio_server::{AppState, app, http};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_rulestudio-collector");
const TOKEN: &str = "rs_tls_admin_token";

/// A studio over HTTPS with a certificate from `ca`; its address and state.
async fn studio(ca: &Ca, dir: &Path) -> (SocketAddr, AppState) {
    let (cert, key) = ca.issue_into(dir);
    let mut args = ServeArgs::with_db(dir.join("rulestudio.db"));
    args.admin_token = Some(TOKEN.into());
    args.static_dir = dir.join("no-ui");
    let state = AppState::new(args).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = http::Limits::of(&state.config);
    tokio::spawn(http::serve_tls(
        listener,
        app(state.clone()),
        limits,
        Some(http::tls::acceptor(&cert, &key).unwrap()),
        std::future::pending(),
    ));
    (addr, state)
}

fn recorded(dir: &Path) -> std::path::PathBuf {
    let file = dir.join("recorded.jsonl");
    std::fs::write(
        &file,
        "{\"evt.type\":\"openat\",\"proc.name\":\"a\"}\n{\"evt.type\":\"openat\",\"proc.name\":\"b\"}\n",
    )
    .unwrap();
    file
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_collector_delivers_over_https_verifying_the_server_with_ca_cert() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("studio CA");
    let (addr, state) = studio(&ca, dir.path()).await;
    let token = dir.path().join("token");
    std::fs::write(&token, TOKEN).unwrap();
    let mut cmd = Command::new(BIN);
    cmd.env_remove("RULESTUDIO_TOKEN")
        .env_remove("RULESTUDIO_CA_CERT")
        .args(["--node", "tls-node", "--server"])
        .arg(format!("https://localhost:{}", addr.port()))
        .arg("--ca-cert")
        .arg(ca.write(dir.path(), "ca"))
        .arg("--token-file")
        .arg(&token)
        .arg("--replay")
        .arg(recorded(dir.path()));
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        common::server::stored_from(&state, "tls-node").len(),
        2,
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_the_ca_cert_did_not_sign_gets_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, impostor) = (Ca::new("studio CA"), Ca::new("impostor CA"));
    let (addr, state) = studio(&impostor, dir.path()).await;
    let mut config = Config::new(
        Some(format!("https://localhost:{}", addr.port())),
        TOKEN.into(),
        "fooled-node".into(),
    );
    config.ca_cert = Some(ca.write(dir.path(), "ca"));
    config.replay = Some(recorded(dir.path()));
    config.spool = Some(dir.path().join("spool"));
    config.shutdown_grace = Duration::from_millis(200);
    // The replay cannot be delivered, so the run lasts until it is stopped.
    let summary = rulestudio_collector::run(config, tokio::time::sleep(Duration::from_secs(2)))
        .await
        .unwrap();
    assert_eq!(summary.counters.sent, 0, "{:?}", summary.counters);
    assert_eq!(common::server::stored_from(&state, "fooled-node").len(), 0);
    // What was not delivered waits in the spool for a server the collector can trust.
    assert!(common::spooled_batches(&dir.path().join("spool")) > 0);
}

#[test]
fn an_unreadable_ca_cert_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .env_remove("RULESTUDIO_CA_CERT")
        .args([
            "--server",
            "https://localhost:1",
            "--token",
            "t",
            "--ca-cert",
        ])
        .arg(dir.path().join("absent.pem"))
        .arg("--replay")
        .arg(recorded(dir.path()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("--ca-cert") && stderr.contains("absent.pem"),
        "{stderr}"
    );
}
