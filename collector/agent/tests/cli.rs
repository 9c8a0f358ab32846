//! The `rulestudio-collector` binary end to end: `--stdout` capture with a SIGTERM flush, and
//! `--replay` of a recorded file to the real server.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_rulestudio-collector");

#[test]
fn stdout_capture_until_sigterm() {
    let mut collector = Command::new(BIN)
        .args(["--stdout", "--syscalls", "execve,openat"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(collector.stdout.take().unwrap()).lines();
    // Events flow once the program is attached: keep exec'ing until one of ours shows up.
    let marker = format!("rs-cli-marker-{}", std::process::id());
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in lines.by_ref() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let found = loop {
        assert!(Instant::now() < deadline, "no event for {marker} on stdout");
        Command::new("true").arg(&marker).status().unwrap();
        if let Some(line) = rx.try_iter().find(|l| l.contains(&marker)) {
            break line;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let ev: serde_json::Value = serde_json::from_str(&found).unwrap();
    assert_eq!(ev["evt.type"], "execve");
    assert_eq!(ev["proc.cmdline"], format!("true {marker}"));
    // SAFETY: signalling the child we spawned.
    unsafe { libc::kill(collector.id() as i32, libc::SIGTERM) };
    let status = collector.wait().unwrap();
    reader.join().unwrap();
    assert!(status.success(), "clean exit on SIGTERM: {status}");
}

#[test]
fn unknown_syscall_names_are_refused() {
    let out = Command::new(BIN)
        .args(["--stdout", "--syscalls", "openat,bogus"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown syscall `bogus`"));
}

#[test]
fn a_ring_buffer_size_that_is_not_a_power_of_two_is_refused() {
    let out = Command::new(BIN)
        .args(["--stdout", "--ring-buffer", "100K"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--ring-buffer") && err.contains("must be a power of two from 64K to 1G"),
        "{err}"
    );
}

/// The DaemonSet in `deploy/` passes only flags the binary has.
#[test]
fn daemonset_flags_exist() {
    let manifest = include_str!("../../../deploy/collector-daemonset.yaml");
    let help = String::from_utf8(Command::new(BIN).arg("--help").output().unwrap().stdout).unwrap();
    let flags: Vec<&str> = manifest
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- --"))
        .map(|f| f.split('=').next().unwrap())
        .collect();
    assert!(flags.len() >= 3, "{flags:?}");
    for f in flags {
        assert!(
            help.contains(&format!("--{f} ")) || help.contains(&format!("--{f}\n")),
            "--{f} is not a collector flag"
        );
    }
    assert!(
        help.contains("[env: RULESTUDIO_TOKEN]"),
        "the token comes from the environment, its value never shown: {help}"
    );
}

/// Replays two events to a real server with the token taken as `how` says; returns the exit
/// status, stderr and the events the server stored from the node.
async fn replay_with(how: &[&str], token_file: Option<&str>) -> (Option<i32>, String, i64) {
    const TOKEN: &str = "rs_cli_token_test";
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rulestudio.db");
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let server = common::server::start_server(&db, addr, TOKEN).await;
    let file = dir.path().join("recorded.jsonl");
    std::fs::write(
        &file,
        "{\"evt.type\":\"openat\",\"proc.name\":\"a\"}\n{\"evt.type\":\"openat\",\"proc.name\":\"b\"}\n",
    )
    .unwrap();
    let secret = dir.path().join("token");
    std::fs::write(&secret, token_file.unwrap_or(TOKEN)).unwrap();
    let mut cmd = Command::new(BIN);
    cmd.env_remove("RULESTUDIO_TOKEN")
        .env_remove("RULESTUDIO_TOKEN_FILE")
        .args(["--node", "token-node", "--server"])
        .arg(format!("http://{addr}"))
        .arg("--replay")
        .arg(&file);
    for a in how {
        match *a {
            "TOKEN" => cmd.arg(TOKEN),
            "FILE" => cmd.arg(&secret),
            other => cmd.arg(other),
        };
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let stored = common::server::stored_from(&server.state, "token-node").len() as i64;
    common::server::stop_server(server).await;
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        stored,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_comes_from_a_file_and_a_command_line_token_is_warned_about() {
    let warning = "readable by every process";
    let (code, stderr, stored) = replay_with(&["--token-file", "FILE"], None).await;
    assert_eq!((code, stored), (Some(0), 2), "{stderr}");
    assert!(!stderr.contains(warning), "{stderr}");
    // A file written by `echo` ends in a newline: not part of the token.
    let (code, stderr, stored) =
        replay_with(&["--token-file", "FILE"], Some("rs_cli_token_test\n")).await;
    assert_eq!((code, stored), (Some(0), 2), "{stderr}");
    let (code, stderr, stored) = replay_with(&["--token", "TOKEN"], None).await;
    assert_eq!((code, stored), (Some(0), 2), "{stderr}");
    assert!(stderr.contains(warning), "{stderr}");
    let (code, stderr, _) = replay_with(&["--token-file", "FILE"], Some("\n")).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("is empty"), "{stderr}");
}
