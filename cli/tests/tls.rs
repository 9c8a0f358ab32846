//! `rulestudio serve --tls-cert --tls-key` through the real binary (issue #11): it serves
//! HTTPS, checks its own health over HTTPS against `--ca-cert`, and names the file when a
//! certificate cannot be used.

#[path = "../../server/tests/common/ca.rs"]
mod ca;

use ca::Ca;
use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_rulestudio");

fn serve(dir: &std::path::Path, tls: &[&std::ffi::OsStr]) -> Command {
    let token = dir.join("admin-token");
    std::fs::write(&token, "rs_tls_cli_admin").unwrap();
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .arg("serve")
        .arg("--db")
        .arg(dir.join("rulestudio.db"))
        .arg("--static-dir")
        .arg(dir.join("no-ui"))
        .arg("--admin-token-file")
        .arg(&token)
        .args(tls);
    cmd
}

#[test]
fn serve_with_a_certificate_answers_over_https() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("cli CA");
    let (cert, key) = ca.issue_into(dir.path());
    let ca_pem = ca.write(dir.path(), "ca");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = serve(
        dir.path(),
        &[
            "--listen".as_ref(),
            listen.as_ref(),
            "--tls-cert".as_ref(),
            cert.as_os_str(),
            "--tls-key".as_ref(),
            key.as_os_str(),
            "--ca-cert".as_ref(),
            ca_pem.as_os_str(),
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    // The line it prints once its own HTTPS health check passed.
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    // Log lines go to stdout too; the announcement is the one that starts so.
    let announced = std::iter::from_fn(|| rx.recv_timeout(Duration::from_secs(60)).ok())
        .find(|line| line.starts_with("rulestudio: the studio is at"));
    let answer = tokio::runtime::Runtime::new().unwrap().block_on(async {
        rulestudio_api::client::builder(Some(&ca_pem))
            .unwrap()
            .build()
            .unwrap()
            .get(format!("https://{listen}/healthz"))
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        announced.unwrap(),
        format!("rulestudio: the studio is at https://{listen}/")
    );
    assert_eq!(answer.unwrap(), 200);
}

#[test]
fn a_certificate_that_cannot_be_read_stops_serve_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("cli CA");
    let (_, key) = ca.issue_into(dir.path());
    let missing = dir.path().join("missing.crt");
    let out = serve(
        dir.path(),
        &[
            "--listen".as_ref(),
            "127.0.0.1:0".as_ref(),
            "--tls-cert".as_ref(),
            missing.as_os_str(),
            "--tls-key".as_ref(),
            key.as_os_str(),
        ],
    )
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("missing.crt"), "{stderr}");

    // `--tls-cert` without `--tls-key` is a usage error.
    let out = serve(dir.path(), &["--tls-cert".as_ref(), missing.as_os_str()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--tls-key"), "{stderr}");
}
