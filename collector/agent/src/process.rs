//! The user-space process table: pid → identity, ancestry, cwd and open fds. Bootstrapped from
//! `/proc` at start, then kept current by the lifecycle records (fork/exec/exit) and the
//! fd-changing syscalls (open, dup, close, socket, connect, accept, the send/recv family,
//! chdir). A process first seen in a record is read from `/proc` (or, if already gone, built
//! from the record itself).

use crate::container::{self, ContainerId};
use crate::redact::Redaction;
use rustc_hash::FxHashMap as HashMap;
use std::fs;
use std::path::Path;

/// Bound on tracked processes: on a busy node missed exits must not grow the table forever.
const MAX_PROCESSES: usize = 1 << 16;
/// Bound on tracked fds per process.
const MAX_FDS: usize = 1 << 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FdKind {
    File,
    Directory,
    Ipv4,
    Ipv6,
    Unix,
    Pipe,
    Memfd,
    Event,
    Other,
}

impl FdKind {
    /// `fd.type` and `fd.typechar`.
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            FdKind::File => ("file", "f"),
            FdKind::Directory => ("directory", "d"),
            FdKind::Ipv4 => ("ipv4", "4"),
            FdKind::Ipv6 => ("ipv6", "6"),
            FdKind::Unix => ("unix", "u"),
            FdKind::Pipe => ("pipe", "p"),
            FdKind::Memfd => ("memfd", "m"),
            FdKind::Event => ("event", "e"),
            FdKind::Other => ("unknown", "o"),
        }
    }
}

/// A connected or bound IP socket, `local` being this process's end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tuple {
    pub local: std::net::SocketAddr,
    pub remote: Option<std::net::SocketAddr>,
    pub tcp: bool,
    /// Accepted sockets are the server side: the remote end is the client.
    pub server: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fd {
    pub kind: FdKind,
    pub name: String,
    /// `fd.nameraw`: the path as the open call was given it (empty when not opened by path).
    pub raw: String,
    pub tuple: Option<Tuple>,
    pub cloexec: bool,
    /// `fd.connected`: libsinsp marks an IP socket connected on a successful connect, accept,
    /// read or write.
    pub connected: bool,
}

impl Fd {
    pub fn path(name: String, kind: FdKind, cloexec: bool) -> Fd {
        Fd {
            kind,
            name,
            raw: String::new(),
            tuple: None,
            cloexec,
            connected: false,
        }
    }

    pub fn is_ip(&self) -> bool {
        matches!(self.kind, FdKind::Ipv4 | FdKind::Ipv6)
    }

    /// The fd as an `evt.arg` fd parameter shows it (see [`crate::render::fd_arg`]).
    pub fn arg(&self, num: i64) -> String {
        let l4 = match &self.tuple {
            Some(t) if self.is_ip() => {
                if t.tcp {
                    "t"
                } else {
                    "u"
                }
            }
            _ => "",
        };
        crate::render::fd_arg(num, Some((self.kind.names().1, l4, &self.name)))
    }
}

#[derive(Debug, Clone, Default)]
pub struct Process {
    pub pid: u32,
    pub ppid: u32,
    /// `comm`, at most 15 bytes.
    pub name: String,
    /// argv[0].
    pub exe: String,
    pub exepath: String,
    pub args: Vec<String>,
    pub cwd: Option<String>,
    pub tty: Option<u32>,
    pub sid: Option<i64>,
    /// The pid inside the process's own pid namespace.
    pub vpid: Option<i64>,
    pub uid: u32,
    pub gid: u32,
    pub loginuid: Option<u32>,
    pub container: Option<ContainerId>,
    /// Whether the process held CAP_SYS_ADMIN when its container was last resolved: how
    /// `container.privileged` is judged when the runtime gives no metadata (a `--privileged`
    /// container has every capability; the runtimes' default set lacks CAP_SYS_ADMIN).
    pub sys_admin: Option<bool>,
    /// `proc.is_exe_from_memfd`, `proc.is_exe_upper_layer`: where the image was exec'd from.
    pub exe_from_memfd: bool,
    pub exe_upper_layer: bool,
    pub fds: HashMap<i64, Fd>,
}

impl Process {
    /// `proc.cmdline`: name followed by the arguments.
    pub fn cmdline(&self) -> String {
        let mut s = self.name.clone();
        for a in &self.args {
            s.push(' ');
            s.push_str(a);
        }
        s
    }

    pub fn set_fd(&mut self, fd: i64, info: Fd) {
        if self.fds.len() < MAX_FDS || self.fds.contains_key(&fd) {
            self.fds.insert(fd, info);
        }
    }

    /// Resolves `path` as the kernel would for a `*at` call with `dirfd` (`AT_FDCWD` = -100).
    pub fn resolve(&self, dirfd: i64, path: &str) -> String {
        if path.starts_with('/') {
            return normalize(path);
        }
        let base = if dirfd == AT_FDCWD {
            self.cwd.as_deref()
        } else {
            self.fds.get(&dirfd).map(|f| f.name.as_str())
        };
        match base {
            Some(base) => normalize(&format!("{base}/{path}")),
            None => path.to_string(),
        }
    }
}

pub const AT_FDCWD: i64 = -100;

/// Lexical normalization (`.`/`..`/`//`), like libsinsp's path concatenation; no symlinks.
pub fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

/// Identity a record carries, used when `/proc` has nothing (the process already exited).
#[derive(Debug, Clone, Copy)]
pub struct Seen<'a> {
    pub pid: u32,
    pub ppid: u32,
    pub uid: u32,
    pub gid: u32,
    pub loginuid: Option<u32>,
    pub comm: &'a str,
    /// The session id the kernel reports (setsid() changes it without an event we follow).
    pub sid: Option<i64>,
    /// The thread's capability sets (bit N = capability N).
    pub cap_permitted: u64,
    pub cap_effective: u64,
}

pub struct ProcessTable {
    procs: HashMap<u32, Process>,
    proc_root: std::path::PathBuf,
    /// Bumped by every change that can alter a process's identity or ancestry (fork, exec,
    /// exit, cwd), so renderings cached under an older generation are known stale.
    generation: u64,
    /// `--redact`: applied to every process's arguments as they enter the table.
    redact: Redaction,
}

impl ProcessTable {
    pub fn new() -> ProcessTable {
        ProcessTable {
            procs: HashMap::default(),
            proc_root: "/proc".into(),
            generation: 0,
            redact: Redaction::default(),
        }
    }

    /// Masks what `redact` matches in the arguments of every process entered from now on
    /// (set it before [`ProcessTable::bootstrap`]).
    pub fn set_redaction(&mut self, redact: Redaction) {
        self.redact = redact;
    }

    /// Reads every process currently in `/proc`.
    pub fn bootstrap(&mut self) {
        let Ok(dir) = fs::read_dir(&self.proc_root) else {
            return;
        };
        for entry in dir.flatten() {
            if let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
                && let Some(p) = read_proc(&self.proc_root, pid, true, &self.redact)
            {
                self.insert(p);
            }
        }
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Marks cached renderings stale after a change made through [`ProcessTable::get_mut`].
    pub fn invalidate(&mut self) {
        self.generation += 1;
    }

    pub fn get(&self, pid: u32) -> Option<&Process> {
        self.procs.get(&pid)
    }

    pub fn get_mut(&mut self, pid: u32) -> Option<&mut Process> {
        self.procs.get_mut(&pid)
    }

    fn insert(&mut self, p: Process) {
        self.generation += 1;
        if self.procs.len() >= MAX_PROCESSES && !self.procs.contains_key(&p.pid) {
            // Missed exits leave stale entries; dead ones are the ones to drop.
            let root = self.proc_root.clone();
            self.procs
                .retain(|pid, _| root.join(pid.to_string()).exists());
        }
        self.procs.insert(p.pid, p);
    }

    /// The process of a record, loading it from `/proc` or from the record if unknown.
    pub fn ensure(&mut self, seen: Seen<'_>) -> &mut Process {
        if !self.procs.contains_key(&seen.pid) {
            let p = read_proc(&self.proc_root, seen.pid, true, &self.redact).unwrap_or_else(|| {
                // Gone already: what it inherited from a known parent is the best guess.
                let parent = self.procs.get(&seen.ppid);
                Process {
                    pid: seen.pid,
                    ppid: seen.ppid,
                    name: seen.comm.to_string(),
                    uid: seen.uid,
                    gid: seen.gid,
                    loginuid: seen.loginuid,
                    cwd: parent.and_then(|p| p.cwd.clone()),
                    tty: parent.and_then(|p| p.tty),
                    sid: parent.and_then(|p| p.sid),
                    container: parent.and_then(|p| p.container.clone()),
                    sys_admin: parent.and_then(|p| p.sys_admin),
                    ..Process::default()
                }
            });
            self.insert(p);
        }
        let p = self.procs.get_mut(&seen.pid).expect("inserted above");
        // The kernel's view is current; /proc or an inherited copy may predate setuid.
        if (p.uid, p.gid) != (seen.uid, seen.gid) || (seen.sid.is_some() && p.sid != seen.sid) {
            p.uid = seen.uid;
            p.gid = seen.gid;
            p.sid = seen.sid.or(p.sid);
            self.generation += 1;
        }
        self.procs.get_mut(&seen.pid).expect("inserted above")
    }

    /// A new process: a copy of its parent (fds included, as fork copies them).
    pub fn fork(&mut self, child: Seen<'_>) {
        let parent_seen = Seen {
            pid: child.ppid,
            ppid: 0,
            ..child
        };
        let mut p = self.ensure(parent_seen).clone();
        p.pid = child.pid;
        p.ppid = child.ppid;
        p.vpid = read_vpid(&self.proc_root, child.pid).or(p.vpid);
        self.insert(p);
    }

    /// A successful exec: new image, same pid, fds minus the close-on-exec ones.
    pub fn exec(&mut self, seen: Seen<'_>, filename: &str, argv: &[u8], exe_flags: u32) {
        let root = self.proc_root.clone();
        self.generation += 1;
        let (exe, args) = split_argv(argv, &self.redact);
        let p = self.ensure(seen);
        p.exe = exe;
        p.args = args;
        p.name = seen.comm.to_string();
        p.ppid = seen.ppid;
        p.loginuid = seen.loginuid;
        p.exepath = fs::read_link(root.join(seen.pid.to_string()).join("exe"))
            .map(|l| l.to_string_lossy().into_owned())
            .unwrap_or_else(|_| p.resolve(AT_FDCWD, filename));
        p.exe_from_memfd = exe_flags & rulestudio_collector_common::EXE_FROM_MEMFD != 0;
        p.exe_upper_layer = exe_flags & rulestudio_collector_common::EXE_UPPER_LAYER != 0;
        p.fds.retain(|_, fd| !fd.cloexec);
    }

    pub fn exit(&mut self, pid: u32) {
        self.generation += 1;
        self.procs.remove(&pid);
    }

    /// Reads ancestors the table lacks (up to `max` levels) from `/proc`.
    pub fn load_ancestry(&mut self, pid: u32, max: usize) {
        let mut cur = pid;
        for _ in 0..max {
            let Some(ppid) = self.procs.get(&cur).map(|p| p.ppid) else {
                return;
            };
            if ppid == 0 || ppid == cur {
                return;
            }
            if !self.procs.contains_key(&ppid) {
                match read_proc(&self.proc_root, ppid, false, &self.redact) {
                    Some(p) => self.insert(p),
                    None => return,
                }
            }
            cur = ppid;
        }
    }

    /// Ancestors, nearest first, stopping at `max` or a loop.
    pub fn ancestors(&self, pid: u32, max: usize) -> Vec<&Process> {
        let mut out = Vec::new();
        let mut cur = self.procs.get(&pid).map(|p| p.ppid);
        while let Some(ppid) = cur {
            if out.len() >= max || ppid == 0 || ppid == pid {
                break;
            }
            let Some(p) = self.procs.get(&ppid) else {
                break;
            };
            out.push(p);
            cur = (p.ppid != p.pid).then_some(p.ppid);
        }
        out
    }

    /// Looks up an fd the table has not seen being opened (inherited before the bootstrap, or
    /// opened by an uncaptured call) in `/proc`, if the process still lives.
    pub fn fd(&mut self, pid: u32, fd: i64) -> Option<&Fd> {
        let root = self.proc_root.clone();
        let p = self.procs.get_mut(&pid)?;
        if !p.fds.contains_key(&fd) {
            let info = read_fd(&root.join(pid.to_string()).join("fd").join(fd.to_string()))?;
            p.set_fd(fd, info);
        }
        p.fds.get(&fd)
    }
}

impl Default for ProcessTable {
    fn default() -> Self {
        Self::new()
    }
}

fn read_vpid(root: &Path, pid: u32) -> Option<i64> {
    let status = fs::read_to_string(root.join(pid.to_string()).join("status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("NSpid:"))?
        .split_whitespace()
        .last()?
        .parse()
        .ok()
}

/// A process as `/proc/PID` describes it; `None` if it is gone or unreadable.
/// CAP_SYS_ADMIN in the `CapEff:` line of a `/proc/PID/status` text.
pub fn has_sys_admin(status: &str) -> Option<bool> {
    const CAP_SYS_ADMIN: u32 = 21;
    let hex = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))?
        .trim();
    let caps = u64::from_str_radix(hex, 16).ok()?;
    Some(caps & (1 << CAP_SYS_ADMIN) != 0)
}

/// argv[0] and the arguments of a NUL-separated argv (a trailing NUL ends it), each masked by
/// `redact`.
fn split_argv(argv: &[u8], redact: &Redaction) -> (String, Vec<String>) {
    let mut parts = argv.split(|b| *b == 0).map(|a| {
        let a = String::from_utf8_lossy(a);
        redact.apply(&a).into_owned()
    });
    let exe = parts.next().unwrap_or_default();
    let mut args: Vec<String> = parts.collect();
    if args.last().is_some_and(|a| a.is_empty()) {
        args.pop();
    }
    (exe, args)
}

fn read_proc(root: &Path, pid: u32, with_fds: bool, redact: &Redaction) -> Option<Process> {
    let dir = root.join(pid.to_string());
    let stat = fs::read_to_string(dir.join("stat")).ok()?;
    // `pid (comm) state ppid pgrp session tty_nr …`; comm may contain spaces and parentheses.
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat[open + 1..close].to_string();
    let rest: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    let ppid = rest.get(1)?.parse().ok()?;
    let sid = rest.get(3).and_then(|s| s.parse().ok());
    let tty = rest.get(4).and_then(|s| s.parse().ok());
    let status = fs::read_to_string(dir.join("status")).unwrap_or_default();
    let ids = |key: &str| -> Option<u32> {
        // `Uid:	real	effective	saved	fs`: Falco's user.uid is the effective id.
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    // Bounded as an exec record's argv is (the kernel side reads at most STR_MAX bytes): a
    // process with a huge command line must not put it into every one of its events.
    let mut cmdline = Vec::new();
    if let Ok(f) = fs::File::open(dir.join("cmdline")) {
        use std::io::Read;
        let _ = f
            .take(rulestudio_collector_common::STR_MAX as u64)
            .read_to_end(&mut cmdline);
    }
    let (exe, args) = split_argv(&cmdline, redact);
    let link = |name: &str| {
        fs::read_link(dir.join(name))
            .ok()
            .map(|l| l.to_string_lossy().into_owned())
    };
    let loginuid = fs::read_to_string(dir.join("loginuid"))
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .filter(|u| *u != u32::MAX);
    let exepath = link("exe").unwrap_or_default();
    let mut p = Process {
        pid,
        ppid,
        name,
        // The kernel names a memfd's file "memfd:NAME"; whether an image is on an overlay's
        // upper layer cannot be told from /proc, so it stays false until the next exec.
        exe_from_memfd: exepath.starts_with("/memfd:"),
        exepath,
        exe,
        args,
        cwd: link("cwd"),
        tty,
        sid,
        vpid: read_vpid(root, pid),
        uid: ids("Uid:").unwrap_or(0),
        gid: ids("Gid:").unwrap_or(0),
        loginuid,
        container: fs::read_to_string(dir.join("cgroup"))
            .ok()
            .and_then(|t| container::from_proc_cgroup(&t)),
        sys_admin: has_sys_admin(&status),
        exe_upper_layer: false,
        fds: HashMap::default(),
    };
    if with_fds && let Ok(fds) = fs::read_dir(dir.join("fd")) {
        for e in fds.flatten() {
            if let (Some(n), Some(info)) = (
                e.file_name().to_str().and_then(|s| s.parse().ok()),
                read_fd(&e.path()),
            ) {
                p.set_fd(n, info);
            }
        }
    }
    Some(p)
}

/// Classifies a `/proc/PID/fd/N` link target.
fn read_fd(link: &Path) -> Option<Fd> {
    let target = fs::read_link(link).ok()?.to_string_lossy().into_owned();
    let kind = if target.starts_with("socket:") {
        // The tuple is learnt from connect/accept; /proc/net parsing is not worth it here.
        FdKind::Other
    } else if target.starts_with("pipe:") {
        FdKind::Pipe
    } else if target.starts_with("/memfd:") {
        FdKind::Memfd
    } else if target.starts_with("anon_inode:") {
        FdKind::Event
    } else if fs::metadata(link).is_ok_and(|m| m.is_dir()) {
        FdKind::Directory
    } else {
        FdKind::File
    };
    Some(Fd::path(target, kind, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sys_admin_is_read_from_the_effective_set() {
        // Docker's default set (no CAP_SYS_ADMIN) and a --privileged container's full set.
        assert_eq!(
            has_sys_admin("Name:\tsh\nCapEff:\t00000000a80425fb\n"),
            Some(false)
        );
        assert_eq!(has_sys_admin("CapEff:\t000001ffffffffff\n"), Some(true));
        assert_eq!(has_sys_admin("Name:\tsh\n"), None);
    }

    #[test]
    fn normalizes_like_libsinsp() {
        assert_eq!(normalize("/tmp/./a//b/../c"), "/tmp/a/c");
        assert_eq!(normalize("/.."), "/");
    }

    #[test]
    fn resolves_relative_to_cwd_and_dirfd() {
        let mut p = Process {
            cwd: Some("/home/u".into()),
            ..Process::default()
        };
        p.set_fd(5, Fd::path("/etc".into(), FdKind::Directory, false));
        assert_eq!(p.resolve(AT_FDCWD, "x/../y"), "/home/u/y");
        assert_eq!(p.resolve(5, "shadow"), "/etc/shadow");
        assert_eq!(p.resolve(9, "/abs"), "/abs");
        assert_eq!(p.resolve(9, "rel"), "rel");
    }

    #[test]
    fn bootstrap_sees_this_process_and_its_ancestry() {
        let mut t = ProcessTable::new();
        t.bootstrap();
        let me = std::process::id();
        let p = t.get(me).expect("own process in table");
        assert_eq!(
            p.exepath,
            std::env::current_exe().unwrap().to_string_lossy()
        );
        assert!(p.fds.contains_key(&0) || p.fds.contains_key(&1));
        assert!(!t.ancestors(me, 8).is_empty());
    }

    #[test]
    fn a_command_line_read_from_proc_is_bounded_as_an_exec_records_is() {
        // 20,000 arguments: 200 KB of command line, which every event of the process would
        // otherwise carry twice (proc.cmdline, proc.args).
        let mut child = std::process::Command::new("sh")
            .args(["-c", "read x", "sh"])
            .args(std::iter::repeat_n("/dev/null", 20_000))
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Until the child has exec'd, /proc shows the parent's command line.
        let comm = format!("/proc/{}/comm", child.id());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while fs::read_to_string(&comm).unwrap_or_default().trim() != "sh" {
            assert!(
                std::time::Instant::now() < deadline,
                "the child never ran sh"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let p = read_proc(Path::new("/proc"), child.id(), false, &Redaction::default());
        let _ = child.kill();
        let _ = child.wait();
        let p = p.expect("the child in /proc");
        assert_eq!(p.exe, "sh");
        assert_eq!(p.args[..2], ["-c", "read x"]);
        let argv: usize = p.exe.len() + p.args.iter().map(|a| a.len() + 1).sum::<usize>();
        assert!(argv <= rulestudio_collector_common::STR_MAX, "{argv} bytes");
        assert!(
            argv > rulestudio_collector_common::STR_MAX - 16,
            "{argv} bytes"
        );
    }

    #[test]
    fn fork_copies_parent_and_exec_drops_cloexec_fds() {
        let mut t = ProcessTable::new();
        let seen = Seen {
            pid: u32::MAX - 1,
            ppid: 1,
            uid: 0,
            gid: 0,
            loginuid: None,
            comm: "parent",
            sid: None,
            cap_permitted: 0,
            cap_effective: 0,
        };
        let parent = t.ensure(seen);
        parent.set_fd(3, Fd::path("/keep".into(), FdKind::File, false));
        parent.set_fd(4, Fd::path("/drop".into(), FdKind::File, true));
        let child = Seen {
            pid: u32::MAX - 2,
            ppid: u32::MAX - 1,
            comm: "child",
            ..seen
        };
        t.fork(child);
        assert_eq!(t.get(child.pid).unwrap().fds.len(), 2);
        t.exec(child, "/bin/true", b"true\0--x\0", 0);
        let c = t.get(child.pid).unwrap();
        assert_eq!(
            (c.exe.as_str(), c.args.as_slice(), c.name.as_str()),
            ("true", &["--x".to_string()][..], "child")
        );
        assert!(c.fds.contains_key(&3) && !c.fds.contains_key(&4));
        assert_eq!(t.ancestors(child.pid, 4)[0].name, "parent");
    }
}
