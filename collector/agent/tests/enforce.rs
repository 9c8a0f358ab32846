//! Enforcement with the real eBPF program (issue #15): quarantine in the kernel (BPF LSM
//! refusals, SIGKILL at the next syscall), the `Enforcer`'s pidfd kill, and the rails. Needs
//! root and a kernel whose BPF LSM is active; fails, not skips, without them.
//!
//! The processes acted on are forked children of the test that wait on a pipe: the test marks
//! or judges one, then wakes it, and reads what it did from its exit status and the files it
//! leaves. Children only make raw syscalls (no allocation: other test threads may hold the
//! allocator's lock at fork time).

mod common;

use rulestudio_api::action::{Action, AlertAction};
use rulestudio_collector::enforce::target::{Spared, start_ticks};
use rulestudio_collector::enforce::{
    EnforceConfig, Enforcer, Outcome, Reason, SWITCH_FILE, Verdict,
};
use rulestudio_collector::kernel::{EnforceKernel, Kernel, KernelConfig, KernelEnforcement};
use rulestudio_engine::event::Event;
use std::ffi::CString;
use std::path::Path;
use std::time::Instant;

/// Loads the program with `stops`; keeps it loaded while the returned `Kernel` lives.
fn load(stops: EnforceKernel) -> (Kernel, KernelEnforcement) {
    let mut kernel = Kernel::load(&KernelConfig {
        enforce: Some(stops),
        // Enforcement needs no capture: a small ring, whose overflow is only counted.
        ring_bytes: 64 << 10,
        ..KernelConfig::default()
    })
    .unwrap_or_else(|e| panic!("the eBPF program must load for this test (run as root): {e}"));
    let enforcement = kernel
        .take_enforcement()
        .expect("enforcement was asked for");
    (kernel, enforcement)
}

fn c(s: &Path) -> CString {
    CString::new(s.to_str().unwrap()).unwrap()
}

/// A forked child blocked on a pipe until [`Child::wake`], then running `body` and leaving
/// with its return value as exit status.
struct Child {
    pid: u32,
    start: u64,
    wake_fd: i32,
}

impl Child {
    fn spawn(name: &str, body: impl FnOnce() -> i32) -> Child {
        let name = CString::new(name).unwrap();
        let (mut wake, mut ready) = ([0i32; 2], [0i32; 2]);
        // SAFETY: valid two-int arrays for pipe(2).
        assert_eq!(unsafe { libc::pipe(wake.as_mut_ptr()) }, 0);
        assert_eq!(unsafe { libc::pipe(ready.as_mut_ptr()) }, 0);
        // SAFETY: the child makes raw syscalls only and leaves with _exit.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        let mut b = 0u8;
        if pid == 0 {
            unsafe {
                libc::prctl(libc::PR_SET_NAME, name.as_ptr());
                libc::write(ready[1], b"r".as_ptr().cast(), 1);
                libc::read(wake[0], (&mut b as *mut u8).cast(), 1);
                libc::_exit(body());
            }
        }
        // SAFETY: our pipe ends. The child is named (what the rails read) once it says ready.
        unsafe {
            libc::read(ready[0], (&mut b as *mut u8).cast(), 1);
            for fd in [wake[0], ready[0], ready[1]] {
                libc::close(fd);
            }
        }
        let pid = pid as u32;
        let start = start_ticks(pid).expect("the child's start time");
        Child {
            pid,
            start,
            wake_fd: wake[1],
        }
    }

    fn wake(&self) {
        // SAFETY: one byte from a local into our pipe end.
        unsafe { libc::write(self.wake_fd, b"x".as_ptr().cast(), 1) };
    }

    /// Wakes it and returns how it ended: `Ok(exit code)` or `Err(signal)`.
    fn wake_and_wait(&self) -> Result<i32, i32> {
        self.wake();
        self.wait()
    }

    fn wait(&self) -> Result<i32, i32> {
        let mut status = 0;
        // SAFETY: our own child.
        let r = unsafe { libc::waitpid(self.pid as i32, &mut status, 0) };
        assert_eq!(r, self.pid as i32, "waitpid");
        if libc::WIFSIGNALED(status) {
            Err(libc::WTERMSIG(status))
        } else {
            Ok(libc::WEXITSTATUS(status))
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        // SAFETY: our pipe end.
        unsafe { libc::close(self.wake_fd) };
    }
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Bits of what a child tried and was refused with EPERM.
const CREATE: i32 = 1;
const OPEN: i32 = 2;
const WRITE: i32 = 4;
const FORK: i32 = 8;
const CONNECT: i32 = 16;
const EXEC: i32 = 32;
const ALL: i32 = CREATE | OPEN | WRITE | FORK | CONNECT | EXEC;

/// A child that, woken, tries every operation a quarantine refuses (creating `file`, writing to
/// /dev/null opened before, …) and exits with [`try_everything`]'s bits.
fn prober(name: &str, file: &Path) -> Child {
    let (path, true_bin) = (c(file), CString::new("/bin/true").unwrap());
    let sink = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/null")
        .unwrap();
    let fd = std::os::fd::AsRawFd::as_raw_fd(&sink);
    // The child keeps its own copy of `sink`'s descriptor.
    Child::spawn(name, || try_everything(&path, fd, &true_bin))
}

/// Tries each operation once; returns the bits of those refused with EPERM. Exec goes last: if
/// it is allowed, the child becomes `/bin/true` and exits 0.
fn try_everything(created: &CString, fd: i32, true_bin: &CString) -> i32 {
    let mut denied = 0;
    unsafe {
        let eperm = |r: i64| r < 0 && errno() == libc::EPERM;
        if eperm(libc::open(created.as_ptr(), libc::O_CREAT | libc::O_WRONLY, 0o600) as i64) {
            denied |= CREATE;
        }
        if eperm(libc::open(c"/etc/hostname".as_ptr(), libc::O_RDONLY) as i64) {
            denied |= OPEN;
        }
        if eperm(libc::write(fd, b"x".as_ptr().cast(), 1) as i64) {
            denied |= WRITE;
        }
        let f = libc::fork();
        if f == 0 {
            libc::_exit(0);
        }
        if eperm(f as i64) {
            denied |= FORK;
        }
        let s = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        let addr = libc::sockaddr_in {
            sin_family: libc::AF_INET as u16,
            sin_port: 1u16.to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from_be_bytes([127, 0, 0, 1]).to_be(),
            },
            sin_zero: [0; 8],
        };
        if eperm(libc::connect(
            s,
            (&addr as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as u32,
        ) as i64)
        {
            denied |= CONNECT;
        }
        let argv = [true_bin.as_ptr(), std::ptr::null()];
        let envp = [std::ptr::null()];
        if eperm(libc::execve(true_bin.as_ptr(), argv.as_ptr(), envp.as_ptr()) as i64) {
            denied |= EXEC;
        }
    }
    denied
}

/// The BPF LSM refusals. This build host lists `bpf` among its active LSMs but its kernel
/// refuses to load trampoline programs (LSM, fentry, fmod_ret: EPERM from BPF_PROG_LOAD, while
/// tp_btf loads), so the test runs only on request: `cargo test -p rulestudio-collector --test
/// enforce -- --ignored`, on a kernel that loads them.
#[test]
#[ignore = "needs a kernel that loads BPF LSM programs; this build host's refuses them (EPERM)"]
fn a_quarantined_process_is_refused_every_operation_with_eperm() {
    let (_kernel, mut k) = load(EnforceKernel {
        lsm: true,
        kill_at_syscall: false,
    });
    assert!(
        k.lsm,
        "this test needs BPF LSM programs attached (`bpf` in /sys/kernel/security/lsm, and loadable)"
    );
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let marked = prober("rs-marked", &a);
    k.quarantine.insert(marked.pid, marked.start, 0).unwrap();
    assert_eq!(
        marked.wake_and_wait(),
        Ok(ALL),
        "create 1, open 2, write 4, fork 8, connect 16, exec 32 must all be EPERM"
    );
    assert!(!a.exists(), "the quarantined process created {a:?}");
    // Its entry went with the process.
    assert!(k.quarantine.get(&marked.pid, 0).is_err());
}

#[test]
fn a_quarantined_process_dies_at_its_next_syscall_and_a_recycled_pid_is_spared() {
    let (_kernel, mut k) = load(EnforceKernel::ALL);
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("b");
    let marked = Child::spawn("rs-marked", || {
        // SAFETY: a raw syscall.
        unsafe { libc::getppid() };
        7
    });
    // The same pid with another start time: what a recycled pid looks like to the kernel.
    let recycled = prober("rs-recycled", &b);
    k.quarantine.insert(marked.pid, marked.start, 0).unwrap();
    k.quarantine
        .insert(recycled.pid, recycled.start + 1, 0)
        .unwrap();
    assert_eq!(marked.wake_and_wait(), Err(libc::SIGKILL));
    // The other ran everything, up to exec'ing /bin/true, which exits 0.
    assert_eq!(recycled.wake_and_wait(), Ok(0));
    assert!(b.exists());
    // The killed process's entry went with it; the stale one waits for its own process.
    assert!(k.quarantine.get(&marked.pid, 0).is_err());
}

#[test]
fn the_kernel_never_quarantines_the_collector_whatever_its_map_says() {
    let (_kernel, mut k) = load(EnforceKernel::ALL);
    let me = std::process::id();
    k.quarantine
        .insert(me, start_ticks(me).unwrap(), 0)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("still-here"), "ok").unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("still-here")).unwrap(),
        "ok"
    );
    k.quarantine.remove(&me).unwrap();
}

#[test]
fn a_child_forked_after_quarantine_never_exists() {
    let (_kernel, mut k) = load(EnforceKernel::ALL);
    let mut fds = [0i32; 2];
    // SAFETY: a valid two-int array.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let alive = fds[1];
    let child = Child::spawn("rs-forker", || unsafe {
        // A grandchild, if one were born, says so through the pipe, whose read end sees EOF
        // only once every holder of the write end is gone.
        if libc::fork() == 0 {
            libc::write(alive, b"g".as_ptr().cast(), 1);
            libc::_exit(0);
        }
        0
    });
    // SAFETY: our copy of the write end: the child and any grandchild hold theirs.
    unsafe { libc::close(fds[1]) };
    k.quarantine.insert(child.pid, child.start, 0).unwrap();
    assert_eq!(child.wake_and_wait(), Err(libc::SIGKILL));
    let mut buf = [0u8; 8];
    // SAFETY: a local buffer; returns 0 at EOF.
    let n = unsafe { libc::read(fds[0], buf.as_mut_ptr().cast(), buf.len()) };
    assert_eq!(
        n,
        0,
        "a grandchild was born and wrote {:?}",
        &buf[..n.max(0) as usize]
    );
    unsafe { libc::close(fds[0]) };
}

fn event(name: &str) -> Event {
    Event::from_json_str(&format!(r#"{{"evt.type":"openat","proc.name":"{name}"}}"#)).unwrap()
}

fn verdict<'a>(child: &Child, rule: &'a str, action: Action, ev: &'a Event) -> Verdict<'a> {
    Verdict {
        pid: child.pid,
        start_ticks: child.start,
        rule,
        action,
        event: ev,
    }
}

/// A child that spins without a single syscall until killed: only the pidfd reaches it.
fn spinner(name: &str) -> Child {
    let c = Child::spawn(name, || {
        let mut x = 0u64;
        loop {
            x = std::hint::black_box(x.wrapping_add(1));
        }
    });
    c.wake();
    c
}

#[test]
fn the_enforcer_kills_a_process_that_makes_no_syscalls_and_prints_its_latency() {
    let (_kernel, k) = load(EnforceKernel::ALL);
    let mut enforcer = Enforcer::new(
        k,
        EnforceConfig {
            cap_per_minute: 1000,
            ..EnforceConfig::default()
        },
    )
    .unwrap();
    let ev = event("rs-spinner");
    let mut micros = Vec::new();
    for _ in 0..30 {
        let child = spinner("rs-spinner");
        let t = Instant::now();
        let outcome = enforcer.act(&verdict(&child, "Spin", Action::Enforce, &ev));
        micros.push(t.elapsed().as_secs_f64() * 1e6);
        assert_eq!(
            outcome,
            Outcome {
                action: AlertAction::Killed,
                reason: Reason::Acted
            }
        );
        assert_eq!(child.wait(), Err(libc::SIGKILL));
    }
    micros.sort_by(f64::total_cmp);
    println!(
        "verdict -> quarantine + kill (Enforcer::act): p50 {:.0} us, p99 {:.0} us, max {:.0} us over {} processes",
        micros[micros.len() / 2],
        micros[micros.len() * 99 / 100],
        micros[micros.len() - 1],
        micros.len()
    );
}

/// A child that creates `file` when woken, and exits 0: untouched if it does.
fn creator(name: &str, file: &Path) -> Child {
    let path = c(file);
    Child::spawn(name, move || unsafe {
        let fd = libc::open(path.as_ptr(), libc::O_CREAT | libc::O_WRONLY, 0o600);
        if fd < 0 { 1 } else { 0 }
    })
}

#[test]
fn rails_spare_init_kernel_threads_the_collector_protected_and_allowed_processes() {
    let (_kernel, k) = load(EnforceKernel::ALL);
    let mut enforcer = Enforcer::new(
        k,
        EnforceConfig {
            allow: vec!["proc.name = rs-allowed".into()],
            ..EnforceConfig::default()
        },
    )
    .unwrap();
    let ev = event("x");
    let me = std::process::id();
    for (pid, spared) in [
        (1, Spared::Init),
        (2, Spared::KernelThread),
        (me, Spared::Collector),
    ] {
        let v = Verdict {
            pid,
            start_ticks: start_ticks(pid).unwrap(),
            rule: "R",
            action: Action::Enforce,
            event: &ev,
        };
        assert_eq!(enforcer.act(&v).reason, Reason::Spared(spared));
    }
    let dir = tempfile::tempdir().unwrap();
    let (ssh, allowed) = (dir.path().join("sshd"), dir.path().join("allowed"));
    let sshd = creator("sshd", &ssh);
    let out = enforcer.act(&verdict(&sshd, "R", Action::Enforce, &event("sshd")));
    assert_eq!(
        (out.action, out.reason),
        (
            AlertAction::None,
            Reason::Spared(Spared::Protected("sshd".into()))
        )
    );
    let other = creator("rs-allowed", &allowed);
    let out = enforcer.act(&verdict(&other, "R", Action::Enforce, &event("rs-allowed")));
    assert_eq!(out.reason, Reason::Spared(Spared::Allowed(0)));
    assert_eq!(sshd.wake_and_wait(), Ok(0));
    assert_eq!(other.wake_and_wait(), Ok(0));
    assert!(ssh.exists() && allowed.exists());
    // A verdict about a process that has gone (or whose pid moved on) touches nothing.
    let gone = Verdict {
        pid: other.pid,
        start_ticks: other.start,
        rule: "R",
        action: Action::Enforce,
        event: &ev,
    };
    assert_eq!(enforcer.act(&gone).reason, Reason::Gone);
}

#[test]
fn an_allow_condition_that_does_not_compile_is_named() {
    let (_kernel, k) = load(EnforceKernel::ALL);
    let err = Enforcer::new(
        k,
        EnforceConfig {
            allow: vec!["proc.nam = x".into()],
            ..EnforceConfig::default()
        },
    )
    .err()
    .expect("an unknown field is an error");
    let text = err.to_string();
    assert!(
        text.contains("--enforce-allow `proc.nam = x`") && text.contains("proc.nam"),
        "{text}"
    );
}

#[test]
fn dry_run_the_switch_and_the_cap_act_on_nothing_and_say_would_kill() {
    let (_kernel, k) = load(EnforceKernel::ALL);
    let state = tempfile::tempdir().unwrap();
    let switch = state.path().join(SWITCH_FILE);
    let mut enforcer = Enforcer::new(
        k,
        EnforceConfig {
            cap_per_minute: 1,
            switch_file: Some(switch.clone()),
            ..EnforceConfig::default()
        },
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ev = event("rs-target");
    let would = |reason| Outcome {
        action: AlertAction::WouldKill,
        reason,
    };

    // A rule in dry run.
    let f = dir.path().join("dry");
    let child = creator("rs-target", &f);
    let out = enforcer.act(&verdict(&child, "R", Action::DryRun, &ev));
    assert_eq!(out, would(Reason::RuleDryRun));
    assert_eq!(child.wake_and_wait(), Ok(0));
    assert!(f.exists());

    // An alert-only rule is not enforcement's business.
    let f = dir.path().join("alert");
    let child = creator("rs-target", &f);
    let out = enforcer.act(&verdict(&child, "R", Action::Alert, &ev));
    assert_eq!(out.action, AlertAction::None);
    assert_eq!(child.wake_and_wait(), Ok(0));

    // The node-local switch.
    std::fs::write(&switch, "").unwrap();
    let f = dir.path().join("switched");
    let child = creator("rs-target", &f);
    let out = enforcer.act(&verdict(&child, "R", Action::Enforce, &ev));
    assert_eq!(out, would(Reason::Disabled));
    assert_eq!(child.wake_and_wait(), Ok(0));
    assert!(f.exists());
    std::fs::remove_file(&switch).unwrap();

    // Switch off: the first action of the minute acts, the second falls back to dry run.
    let first = creator("rs-target", &dir.path().join("first"));
    let out = enforcer.act(&verdict(&first, "R", Action::Enforce, &ev));
    assert_eq!(out.action, AlertAction::Killed);
    assert_eq!(first.wait(), Err(libc::SIGKILL));
    let f = dir.path().join("capped");
    let child = creator("rs-target", &f);
    let out = enforcer.act(&verdict(&child, "R", Action::Enforce, &ev));
    assert_eq!(out, would(Reason::Capped));
    assert_eq!(child.wake_and_wait(), Ok(0));
    assert!(f.exists());
    // The cap is per rule.
    let other = creator("rs-target", &dir.path().join("other"));
    let out = enforcer.act(&verdict(&other, "Other", Action::Enforce, &ev));
    assert_eq!(out.action, AlertAction::Killed);
    assert_eq!(other.wait(), Err(libc::SIGKILL));
}

#[test]
fn a_dry_run_node_acts_on_nothing() {
    let (_kernel, k) = load(EnforceKernel::ALL);
    let mut enforcer = Enforcer::new(
        k,
        EnforceConfig {
            dry_run: true,
            ..EnforceConfig::default()
        },
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("f");
    let child = creator("rs-target", &f);
    let out = enforcer.act(&verdict(&child, "R", Action::Enforce, &event("rs-target")));
    assert_eq!(
        out,
        Outcome {
            action: AlertAction::WouldKill,
            reason: Reason::NodeDryRun
        }
    );
    assert_eq!(child.wake_and_wait(), Ok(0));
    assert!(f.exists());
}

#[test]
fn an_allow_condition_the_engine_refuses_stops_the_collector_at_start() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rulestudio-collector"))
        .args(["--stdout", "--enforce", "--enforce-allow", "proc.nam = x"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("--enforce-allow `proc.nam = x`"),
        "{stderr}"
    );
    // Enforcement options mean nothing without --enforce: refused, not ignored.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rulestudio-collector"))
        .args(["--stdout", "--enforce-dry-run"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--enforce"));
}

/// The heartbeat says whether an enforcing node has the BPF LSM; a node that does not enforce
/// says nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enforcing_node_reports_its_bpf_lsm_to_the_studio() {
    use common::server::{start_server, stop_server};
    const TOKEN: &str = "rs_enforce_admin_token";
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rulestudio.db");
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let base = format!("http://{addr}");
    let server = start_server(&db, addr, TOKEN).await;
    for (node, enforce) in [("enforcing", true), ("watching", false)] {
        let mut config =
            rulestudio_collector::Config::new(Some(base.clone()), TOKEN.into(), node.into());
        config.kernel.ring_bytes = 64 << 10;
        config.enforce = enforce.then(EnforceConfig::default);
        // Stops at once: the final heartbeat goes out after the final flush.
        rulestudio_collector::run(config, async {})
            .await
            .expect("collector run");
    }
    let list: serde_json::Value = reqwest::Client::new()
        .get(format!("{base}/api/v1/collectors"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let row = |node: &str| {
        list["collectors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["node"] == node)
            .unwrap_or_else(|| panic!("no row for {node} in {list}"))
            .clone()
    };
    // What the kernel gives this test's own load is what the node reported.
    let (_kernel, k) = load(EnforceKernel::ALL);
    assert_eq!(row("enforcing")["bpf_lsm"], serde_json::Value::Bool(k.lsm));
    assert!(row("watching").get("bpf_lsm").is_none(), "{list}");
    stop_server(server).await;
}

/// Runs `bin` (a copy of /bin/sh under another name) to create `marker`: `Ok(exit code)` or
/// `Err(signal)`.
fn run_copy(bin: &Path, marker: &Path) -> Result<i32, i32> {
    use std::os::unix::process::ExitStatusExt;
    let status = std::process::Command::new(bin)
        .arg("-c")
        .arg(format!(": > '{}'", marker.display()))
        .status()
        .unwrap();
    status.code().ok_or_else(|| status.signal().unwrap())
}

/// The differential test of exec stops: on the same execs, the kernel stops exactly those the
/// engine matches, before the program runs (the marker it would write is absent).
fn ruleset(rules: &str) -> rulestudio_engine::eval::RuleSet {
    let loaded = rulestudio_engine::loader::load(
        &[rulestudio_engine::loader::SourceFile {
            name: "enforce.yaml".into(),
            text: rules.into(),
        }],
        &Default::default(),
    );
    assert!(
        !loaded.diagnostics.iter().any(|d| d.is_error()),
        "{:?}",
        loaded.diagnostics
    );
    loaded.ruleset
}

/// An enforce rule's records wake the capture's reader at once (so its kill does not wait for
/// the reader's poll), read back from the kernel's map: only enforce rules' syscalls (x86-64
/// numbers: connect 42, openat 257, unlinkat 263), not those of alert or dry-run rules nor a
/// rule on every type, and a new live set replaces the last one's.
#[test]
fn enforce_rules_syscalls_wake_the_capture_at_once_and_no_others() {
    let rule = |name: &str, condition: &str, tags: &str| {
        format!(
            "- rule: {name}\n  desc: d\n  condition: {condition}\n  output: o\n  priority: WARNING\n  tags: [{tags}]\n"
        )
    };
    let first = [
        rule(
            "Enforced",
            "evt.type in (openat, connect) and proc.name = rs-wake",
            "rulestudio.enforce",
        ),
        rule(
            "Alerting",
            "evt.type = unlinkat and proc.name = rs-wake",
            "x",
        ),
        rule(
            "Dry run",
            "evt.type = mkdirat and proc.name = rs-wake",
            "rulestudio.enforce.dry_run",
        ),
        rule(
            "Every type",
            "proc.name = rs-wake-any",
            "rulestudio.enforce",
        ),
    ]
    .concat();
    let (_kernel, k) = load(EnforceKernel::ALL);
    let mut enforcer = Enforcer::new(k, EnforceConfig::default()).unwrap();
    assert_eq!(enforcer.wakeups_in_kernel().unwrap(), Vec::<u32>::new());
    assert_eq!(enforcer.set_wakeups(&ruleset(&first)).unwrap(), [42, 257]);
    assert_eq!(enforcer.wakeups_in_kernel().unwrap(), [42, 257]);

    let second = rule(
        "Enforced",
        "evt.type = unlinkat and proc.name = rs-wake",
        "rulestudio.enforce",
    );
    assert_eq!(enforcer.set_wakeups(&ruleset(&second)).unwrap(), [263]);
    assert_eq!(enforcer.wakeups_in_kernel().unwrap(), [263]);
}

#[test]
fn exec_stops_kill_exactly_the_execs_the_engine_matches_before_they_run() {
    let rules = r#"
- rule: Stop these programs
  desc: d
  condition: evt.type in (execve, execveat) and evt.dir = < and (proc.name in (rs-stop-a, rs-stop-b) or proc.name = rs-stop-c)
  output: o
  priority: WARNING
  tags: [rulestudio.enforce]
- rule: Only a dry run
  desc: d
  condition: evt.type = execve and proc.name = rs-dry
  output: o
  priority: WARNING
  tags: [rulestudio.enforce.dry_run]
"#;
    let loaded = rulestudio_engine::loader::load(
        &[rulestudio_engine::loader::SourceFile {
            name: "enforce.yaml".into(),
            text: rules.into(),
        }],
        &Default::default(),
    );
    assert!(loaded.ok(), "{:?}", loaded.diagnostics);
    let (_kernel, k) = load(EnforceKernel::ALL);
    let state = tempfile::tempdir().unwrap();
    let switch = state.path().join(SWITCH_FILE);
    let mut enforcer = Enforcer::new(
        k,
        EnforceConfig {
            switch_file: Some(switch.clone()),
            ..EnforceConfig::default()
        },
    )
    .unwrap();
    let loaded_names = enforcer.set_exec_stops(&loaded.ruleset).unwrap();
    // The dry-run rule's name is not loaded.
    assert_eq!(loaded_names, 3);

    let dir = tempfile::tempdir().unwrap();
    let rule = &loaded.ruleset.rules()[0];
    let mut killed = 0;
    for name in [
        "rs-stop-a",
        "rs-stop-b",
        "rs-stop-c",
        "rs-stop-d",
        "rs-stop",
        "rs-dry",
        "sh",
    ] {
        let bin = dir.path().join(name);
        std::fs::copy("/bin/sh", &bin).unwrap();
        let marker = dir.path().join(format!("{name}.ran"));
        let ran = run_copy(&bin, &marker);
        let ev = Event::from_json_str(&format!(
            r#"{{"evt.type":"execve","evt.dir":"<","proc.name":"{name}"}}"#
        ))
        .unwrap();
        let engine = rule.filter.matches(&ev);
        assert_eq!(
            ran.is_err(),
            engine,
            "{name}: kernel {ran:?}, engine matches: {engine}"
        );
        if engine {
            assert_eq!(ran, Err(libc::SIGKILL), "{name}");
            assert!(
                !marker.exists(),
                "{name} ran an instruction: {marker:?} exists"
            );
            killed += 1;
        } else {
            assert_eq!(ran, Ok(0), "{name}");
            assert!(marker.exists(), "{name}");
        }
    }
    assert_eq!(killed, 3);
    assert_eq!(
        enforcer.exec_stopped(),
        vec![("Stop these programs".to_string(), 3)]
    );

    // The node-local switch stops the kernel's stops too.
    std::fs::write(&switch, "").unwrap();
    assert!(!enforcer.sync_switch());
    let marker = dir.path().join("switched.ran");
    assert_eq!(run_copy(&dir.path().join("rs-stop-a"), &marker), Ok(0));
    assert!(marker.exists());
    std::fs::remove_file(&switch).unwrap();
    assert!(enforcer.sync_switch());
    let marker = dir.path().join("resumed.ran");
    assert_eq!(
        run_copy(&dir.path().join("rs-stop-a"), &marker),
        Err(libc::SIGKILL)
    );
    assert!(!marker.exists());
}

/// End to end: a rule promoted on a real studio reaches an enforcing node, whose kernel then
/// stops the execs it names; when the collector exits, enforcement stops with it (fail-open).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promoted_exec_rule_is_enforced_by_a_following_node_until_it_exits() {
    use common::server::{start_server, stop_server};
    const TOKEN: &str = "rs_enforce_live_token";
    let dir = tempfile::tempdir().unwrap();
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let base = format!("http://{addr}");
    let server = start_server(&dir.path().join("rulestudio.db"), addr, TOKEN).await;
    let rule = "- rule: No rs-live-stop\n  desc: d\n  condition: evt.type in (execve, execveat) and proc.name = rs-live-stop\n  output: o\n  priority: CRITICAL\n  tags: [rulestudio.enforce]\n";
    common::server::promote(&server.state, "enforce.yaml", rule).await;
    let mut config =
        rulestudio_collector::Config::new(Some(base.clone()), TOKEN.into(), "enforcer".into());
    config.kernel.ring_bytes = 64 << 10;
    config.enforce = Some(EnforceConfig::default());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let collector = tokio::spawn(rulestudio_collector::run(config, async {
        let _ = stopped.await;
    }));

    let (stop_bin, go_bin) = (
        dir.path().join("rs-live-stop"),
        dir.path().join("rs-live-go"),
    );
    std::fs::copy("/bin/sh", &stop_bin).unwrap();
    std::fs::copy("/bin/sh", &go_bin).unwrap();
    // The node loads the stops once it has the version: exec until one is stopped.
    let deadline = Instant::now() + std::time::Duration::from_secs(30);
    let mut tries = 0;
    loop {
        tries += 1;
        let marker = dir.path().join(format!("stop-{tries}.ran"));
        let (bin, m) = (stop_bin.clone(), marker.clone());
        match tokio::task::spawn_blocking(move || run_copy(&bin, &m))
            .await
            .unwrap()
        {
            Err(sig) => {
                assert_eq!(sig, libc::SIGKILL);
                assert!(!marker.exists(), "the stopped program ran");
                break;
            }
            Ok(code) => assert_eq!(code, 0),
        }
        assert!(
            Instant::now() < deadline,
            "no exec stopped after {tries} tries"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (bin, m) = (go_bin.clone(), dir.path().join("go.ran"));
    assert_eq!(
        tokio::task::spawn_blocking(move || run_copy(&bin, &m))
            .await
            .unwrap(),
        Ok(0)
    );
    stop.send(()).unwrap();
    collector.await.unwrap().expect("collector run");
    // Fail-open: the programs went with the collector.
    let marker = dir.path().join("after-exit.ran");
    assert_eq!(run_copy(&stop_bin, &marker), Ok(0));
    assert!(marker.exists());
    stop_server(server).await;
}

/// The whole path of a verdict: a rule tagged `rulestudio.enforce` promoted on a real studio, a
/// node judging its own events (issue #14) hands its verdict to the `Enforcer`, the process is
/// killed, and the alert the studio stores says `killed`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_verdict_on_an_enforce_rule_kills_the_process_and_the_alert_says_so() {
    use common::server::{start_server, stop_server};
    use std::os::unix::process::ExitStatusExt;
    const TOKEN: &str = "rs_enforce_verdict_token";
    let dir = tempfile::tempdir().unwrap();
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let base = format!("http://{addr}");
    let server = start_server(&dir.path().join("rulestudio.db"), addr, TOKEN).await;
    let rule = "- rule: Kill rs-verdict openers\n  desc: d\n  condition: evt.type in (open, openat, openat2) and fd.name contains rs-verdict-trigger\n  output: opened %fd.name by %proc.pid\n  priority: CRITICAL\n  tags: [rulestudio.enforce]\n";
    common::server::promote(&server.state, "enforce.yaml", rule).await;
    let mut config =
        rulestudio_collector::Config::new(Some(base.clone()), TOKEN.into(), "verdicts".into());
    config.kernel.ring_bytes = 1 << 20;
    // Events are judged as they arrive, not when their batch is sealed: with batches sealed
    // only every two minutes (and large), the verdict still comes while the shell runs.
    config.batch_delay = std::time::Duration::from_secs(120);
    config.batch_events = 1_000_000;
    config.enforce = Some(EnforceConfig::default());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let collector = tokio::spawn(rulestudio_collector::run(config, async {
        let _ = stopped.await;
    }));

    let trigger = dir.path().join("rs-verdict-trigger");
    let after = dir.path().join("survived");
    let mut child = common::open_in_a_loop(&trigger, &after);
    let pid = child.id();
    let (status, reaped) = tokio::task::spawn_blocking(move || {
        let status = child.wait().unwrap();
        (status, std::time::SystemTime::now())
    })
    .await
    .unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL), "{status:?}");
    assert!(!after.exists(), "the process ran to its end");

    // The verdict's alert reaches the studio saying what was done.
    let client = reqwest::Client::new();
    let deadline = Instant::now() + std::time::Duration::from_secs(30);
    let alert = loop {
        let list: serde_json::Value = client
            .get(format!("{base}/api/v1/alerts?limit=100"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let found = list["alerts"].as_array().and_then(|a| {
            a.iter()
                .find(|x| x["rule"] == "Kill rs-verdict openers" && x["action"] == "killed")
                .cloned()
        });
        if let Some(a) = found {
            break a;
        }
        assert!(Instant::now() < deadline, "no killed alert: {list}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(
        alert["output_fields"]["proc.pid"],
        pid.to_string(),
        "{alert}"
    );
    // A figure, not a bound: from the kernel's event to the reaped process (the capture's
    // wakeup, the verdict, the kill), on an idle node.
    if let Some(t) = alert["event"]["evt.time"].as_i64() {
        let reaped = reaped.duration_since(std::time::UNIX_EPOCH).unwrap();
        let ms = (reaped.as_nanos() as i64 - t) as f64 / 1e6;
        println!("enforce: event -> verdict -> process reaped: {ms:.1} ms");
    }
    stop.send(()).unwrap();
    collector.await.unwrap().expect("collector run");
    stop_server(server).await;
}
