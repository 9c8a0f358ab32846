//! Real capture: load the eBPF program, make processes do things, find the events.

mod common;

use common::{Harness, is, s};
use rulestudio_collector::kernel::KernelConfig;
use rulestudio_collector::redact::Redaction;
use std::io::Read;
use std::process::Command;

#[test]
fn exec_of_a_freshly_copied_binary() {
    let mut h = Harness::start();
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("rs-copied-true");
    std::fs::copy("/bin/true", &copy).unwrap();
    let mut child = Command::new(&copy).arg("--arg-one").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    let e = h.wait_for("execve of the copy", |e| {
        is(e, "evt.type", "execve") && is(e, "proc.pid", pid)
    });
    assert_eq!(s(&e, "proc.exepath"), copy.to_str().unwrap());
    assert_eq!(s(&e, "proc.name"), "rs-copied-true");
    assert_eq!(s(&e, "proc.cmdline"), "rs-copied-true --arg-one");
    assert_eq!(s(&e, "evt.res"), "SUCCESS");
    assert!(
        is(&e, "proc.ppid", std::process::id()),
        "parent is this test: {e:#?}"
    );
    let me = std::env::current_exe().unwrap();
    assert_eq!(
        (s(&e, "proc.pexepath"), s(&e, "proc.aexepath[1]")),
        (me.to_str().unwrap(), me.to_str().unwrap())
    );
    assert_eq!(s(&e, "proc.pexe"), std::env::args().next().unwrap());
}

/// `--redact`: a secret on a command line is masked at capture, for a process exec'd under
/// capture and for one that was already running when the capture started (read from /proc),
/// in every field built from the arguments.
#[test]
fn redaction_masks_secrets_on_command_lines_from_exec_and_from_proc() {
    let mut before = Command::new("/bin/sh")
        .args([
            "-c",
            "sleep 1; cat /dev/null",
            "rs-redact-sh",
            "--password=hunter2",
        ])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let redact = Redaction::new(&[r"--password=(\S+)".into(), "tok_[a-z0-9]+".into()]).unwrap();
    let mut h = Harness::with(KernelConfig {
        redact,
        ..KernelConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("rs-redacted");
    std::fs::copy("/bin/true", &copy).unwrap();
    let mut run = Command::new(&copy);
    run.args([
        "--password=hunter2",
        "--user=bob",
        "https://tok_abc123@example.com",
    ]);
    // The copy's write descriptor may live on for a moment in a child another test thread
    // forked meanwhile (ETXTBSY): try again, as a shell would after a moment.
    let mut tries = 0;
    let mut child = loop {
        match run.spawn() {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && tries < 100 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            spawned => break spawned.unwrap(),
        }
    };
    let pid = child.id();
    child.wait().unwrap();
    let e = h.wait_for("execve of the copy", |e| {
        is(e, "evt.type", "execve") && is(e, "proc.pid", pid)
    });
    assert_eq!(
        s(&e, "proc.cmdline"),
        "rs-redacted --password=*** --user=bob https://***@example.com"
    );
    assert_eq!(
        s(&e, "proc.args"),
        "--password=*** --user=bob https://***@example.com"
    );

    // The shell was running before the capture: its arguments come from /proc, masked too.
    let sh = before.id();
    before.wait().unwrap();
    let cat = h.wait_for("the shell's cat", |e| {
        is(e, "evt.type", "execve") && is(e, "proc.name", "cat") && is(e, "proc.ppid", sh)
    });
    assert_eq!(
        s(&cat, "proc.pcmdline"),
        "sh -c sleep 1; cat /dev/null rs-redact-sh --password=***"
    );
    let seen = serde_json::to_string(&h.seen).unwrap();
    assert!(!seen.contains("hunter2") && !seen.contains("tok_abc123"));
}

#[test]
fn a_new_session_leader_names_its_session() {
    let mut h = Harness::start();
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("rs-leader");
    std::fs::copy("/bin/sleep", &copy).unwrap();
    // setsid(1) makes itself a session leader (no fork: a spawned child leads no group),
    // then execs the copy, whose children are in its session.
    let mut child = Command::new("setsid")
        .arg("--wait")
        .arg(&copy)
        .arg("0.2")
        .spawn()
        .unwrap();
    let pid = child.id();
    child.wait().unwrap();
    let e = h.wait_for("execve of the leader", |e| {
        is(e, "evt.type", "execve") && is(e, "proc.name", "rs-leader")
    });
    assert!(is(&e, "proc.pid", pid) && is(&e, "proc.sid", pid), "{e:#?}");
    assert_eq!(s(&e, "proc.sname"), "rs-leader");
}

#[test]
fn shell_redirect_gives_open_for_write_and_write_to_the_file() {
    let mut h = Harness::start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hello.txt");
    let file = file.to_str().unwrap();
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(format!("echo hello > {file}"))
        .spawn()
        .unwrap();
    let pid = child.id();
    child.wait().unwrap();
    let open = h.wait_for("open of the file", |e| {
        is(e, "proc.pid", pid) && is(e, "fd.name", file) && is(e, "evt.type", "openat")
    });
    assert!(is(&open, "evt.is_open_write", true));
    assert!(is(&open, "evt.is_open_read", false));
    // Rendered as libsinsp does (its flag-table order); the file is new, so the call created it.
    assert_eq!(
        s(&open, "evt.arg.flags"),
        "O_TRUNC|O_CREAT|O_WRONLY|O_F_CREATED"
    );
    assert!(is(&open, "evt.is_open_create", true));
    assert_eq!(s(&open, "evt.arg.mode"), "0666");
    // bash opens the file, dup2s it onto stdout, closes the original, then writes fd 1.
    let write = h.wait_for("write to the file", |e| {
        is(e, "proc.pid", pid) && is(e, "evt.type", "write") && is(e, "fd.name", file)
    });
    assert!(is(&write, "fd.num", 1), "{write:#?}");
    assert!(is(&write, "evt.rawres", 6));
    assert_eq!(s(&write, "fd.directory"), dir.path().to_str().unwrap());
}

#[test]
fn appending_to_an_existing_file_does_not_create_it() {
    let mut h = Harness::start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("log.txt");
    std::fs::write(&file, "old\n").unwrap();
    let file = file.to_str().unwrap();
    // Given with a detour: fd.name is normalised, fd.nameraw only loses the doubled slash.
    let detour = format!("{}//sub/../log.txt", dir.path().display());
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(format!("echo new >> {detour}"))
        .spawn()
        .unwrap();
    let pid = child.id();
    child.wait().unwrap();
    let open = h.wait_for("open of the file", |e| {
        is(e, "proc.pid", pid) && is(e, "fd.name", file) && is(e, "evt.type", "openat")
    });
    assert_eq!(
        s(&open, "fd.nameraw"),
        format!("{}/sub/../log.txt", dir.path().display())
    );
    assert_eq!(s(&open, "evt.arg.flags"), "O_APPEND|O_CREAT|O_WRONLY");
    assert!(is(&open, "evt.is_open_create", false));
    assert!(is(&open, "evt.is_open_exec", false));
}

#[test]
fn tcp_connect_to_a_loopback_listener() {
    let mut h = Harness::start();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(format!("exec 3<>/dev/tcp/127.0.0.1/{port}"))
        .spawn()
        .unwrap();
    let pid = child.id();
    let (mut conn, peer) = listener.accept().unwrap();
    child.wait().unwrap();
    let _ = conn.read(&mut [0; 1]);
    // bash may first connect to nscd's unix socket (ENOENT where nscd is absent): wait for the TCP one.
    let e = h.wait_for("connect", |e| {
        is(e, "proc.pid", pid) && is(e, "evt.type", "connect") && is(e, "fd.l4proto", "tcp")
    });
    assert_eq!(s(&e, "evt.res"), "SUCCESS");
    assert_eq!(s(&e, "fd.rip"), "127.0.0.1");
    assert!(is(&e, "fd.rport", port));
    assert!(is(&e, "fd.sport", port));
    assert!(
        is(&e, "fd.lport", peer.port()),
        "client port {}: {e:#?}",
        peer.port()
    );
    assert_eq!(
        s(&e, "fd.name"),
        format!("127.0.0.1:{}->127.0.0.1:{port}", peer.port())
    );
    assert_eq!(s(&e, "fd.l4proto"), "tcp");
    assert_eq!(s(&e, "fd.type"), "ipv4");
}

#[test]
fn failed_exec_and_open_report_the_error() {
    let mut h = Harness::start();
    let mut child = Command::new("bash")
        .arg("-c")
        .arg("/nonexistent/rs-missing; cat /nonexistent/rs-file 2>/dev/null; true")
        .spawn()
        .unwrap();
    let pid = child.id();
    child.wait().unwrap();
    let e = h.wait_for("failed execve", |e| {
        is(e, "evt.type", "execve") && is(e, "evt.arg.filename", "/nonexistent/rs-missing")
    });
    assert_eq!(
        (s(&e, "evt.res"), e["evt.failed"].as_bool()),
        ("ENOENT", Some(true))
    );
    let o = h.wait_for("failed open", |e| {
        is(e, "evt.type", "openat") && is(e, "fd.name", "/nonexistent/rs-file")
    });
    assert_eq!(s(&o, "evt.res"), "ENOENT");
    assert!(
        is(&o, "proc.ppid", pid),
        "cat is a child of the shell: {o:#?}"
    );
}

#[test]
fn capability_sets_of_a_root_and_a_reduced_process() {
    let mut h = Harness::start();
    let mut root = Command::new("/bin/true").spawn().unwrap();
    let root_pid = root.id();
    root.wait().unwrap();
    // setpriv drops every capability but one from the bounding, effective and permitted sets.
    let mut reduced = Command::new("setpriv")
        .args([
            "--inh-caps=-all",
            "--bounding-set=-all,+net_raw",
            "--",
            "/bin/true",
        ])
        .spawn()
        .unwrap();
    let reduced_pid = reduced.id();
    reduced.wait().unwrap();
    let e = h.wait_for("execve as root", |e| {
        is(e, "evt.type", "execve") && is(e, "proc.pid", root_pid)
    });
    assert!(
        s(&e, "thread.cap_effective").contains("CAP_SYS_ADMIN"),
        "{e:#?}"
    );
    assert!(
        s(&e, "thread.cap_permitted").starts_with("CAP_CHOWN CAP_DAC_OVERRIDE "),
        "{e:#?}"
    );
    // The same pid execs setpriv first, then /bin/true with the reduced sets.
    let e = h.wait_for("execve with one capability", |e| {
        is(e, "evt.type", "execve") && is(e, "proc.pid", reduced_pid) && is(e, "proc.name", "true")
    });
    assert_eq!(
        (s(&e, "thread.cap_effective"), s(&e, "thread.cap_permitted")),
        ("CAP_NET_RAW", "CAP_NET_RAW")
    );
}
