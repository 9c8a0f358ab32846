//! The one place that turns raw kernel records into events: the engine's [`LayeredEvent`],
//! this event's fields over a shared layer holding its process's context (built once per
//! version of that context), typed by the field table as they are set, so that the node judges
//! and stores them with no JSON in between; JSON is written only at an interface
//! (`LayeredEvent::to_json`). It also applies each record's effect
//! on the process and fd tables, in the order Falco's parser does: fields of the fd a call acts
//! on are taken before `close` forgets it and after `open`/`accept` creates it.

use crate::container;
use crate::cri::{ContainerMeta, Resolver};
use crate::process::{AT_FDCWD, Fd, FdKind, Process, ProcessTable, Seen, Tuple};
use crate::record::{self, Record};
use crate::render::{self, SockAddr};
use crate::syscalls::{self, nr};
use crate::threads::Threads;
use rulestudio_collector_common::{Context, Kind, NS_CHILD_IN_PIDNS};
use rulestudio_engine::event::{Event, EventError, LayeredEvent, SharedFields};
use rustc_hash::FxHashMap as HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

/// Ancestors reported as `proc.aname[N]`/`proc.apid[N]` (Falco rules go up to 7).
const ANCESTORS: usize = 7;

pub struct Converter {
    table: ProcessTable,
    /// Added to the kernel's `CLOCK_BOOTTIME` stamps to get ns since the epoch.
    boot_to_epoch_ns: i64,
    users: HashMap<u32, String>,
    groups: HashMap<u32, String>,
    /// pid → the shared layer of its events (process, user, container, capability fields) and
    /// what it was built from: most events come from processes that did not change since their
    /// last event.
    contexts: HashMap<u32, (ContextKey, Arc<SharedFields>)>,
    /// Capability set → its names: every event carries two sets, and a node has few distinct ones.
    cap_names: HashMap<u64, String>,
    cri: Option<Resolver>,
    threads: Threads,
}

/// What a process's shared layer was built from: the table's generation, the CRI metadata's
/// version, and the thread's capability sets.
type ContextKey = (u64, u64, u64, u64);

/// What converting one record gives: an event, or the first value its field could not take
/// (a converter bug, counted by the caller).
pub type Converted = Result<LayeredEvent, EventError>;

/// Fields being set on an event; the first value a field refuses is kept as the error.
struct Builder {
    ev: Event,
    error: Option<EventError>,
}

impl Builder {
    fn new() -> Builder {
        Builder {
            ev: Event::new(),
            error: None,
        }
    }
    fn check(&mut self, r: Result<(), EventError>) {
        if let Err(e) = r {
            self.error.get_or_insert(e);
        }
    }
    fn str(&mut self, k: &str, v: &str) {
        let r = self.ev.put_str(k, v);
        self.check(r);
    }
    /// A text the event may keep without a copy (a name from a table).
    fn text(&mut self, k: &str, v: impl Into<std::borrow::Cow<'static, str>>) {
        let r = self.ev.put_text(k, v.into());
        self.check(r);
    }
    fn int(&mut self, k: &str, v: i64) {
        let r = self.ev.put_int(k, v);
        self.check(r);
    }
    fn bool(&mut self, k: &str, v: bool) {
        let r = self.ev.put_bool(k, v);
        self.check(r);
    }
    fn into_event(self) -> Result<Event, EventError> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.ev),
        }
    }
}

/// An event's own fields being set, over the shared layer of its process.
struct Obj {
    own: Builder,
    shared: Arc<SharedFields>,
}

impl std::ops::Deref for Obj {
    type Target = Builder;
    fn deref(&self) -> &Builder {
        &self.own
    }
}

impl std::ops::DerefMut for Obj {
    fn deref_mut(&mut self) -> &mut Builder {
        &mut self.own
    }
}

impl Obj {
    fn finish(self) -> Converted {
        Ok(LayeredEvent::new(self.own.into_event()?, self.shared))
    }
}

fn id_names(path: &str) -> HashMap<u32, String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut cols = l.split(':');
            let name = cols.next()?;
            let id = cols.nth(1)?.parse().ok()?;
            Some((id, name.to_string()))
        })
        .collect()
}

/// `CLOCK_REALTIME - CLOCK_BOOTTIME`, to convert `bpf_ktime_get_boot_ns` stamps.
pub fn boot_to_epoch_ns() -> i64 {
    let now = |clock| {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes the timespec we pass and nothing else.
        unsafe { libc::clock_gettime(clock, &mut ts) };
        ts.tv_sec * 1_000_000_000 + ts.tv_nsec
    };
    now(libc::CLOCK_REALTIME) - now(libc::CLOCK_BOOTTIME)
}

impl Converter {
    pub fn new(table: ProcessTable) -> Converter {
        Converter {
            table,
            boot_to_epoch_ns: boot_to_epoch_ns(),
            users: id_names("/etc/passwd"),
            groups: id_names("/etc/group"),
            contexts: HashMap::default(),
            cap_names: HashMap::default(),
            cri: None,
            threads: Threads::new(),
        }
    }

    /// Adds `container.name/image*/privileged` and `k8s.*` from the container runtime.
    pub fn set_cri(&mut self, resolver: Resolver) {
        self.cri = Some(resolver);
    }

    pub fn table(&self) -> &ProcessTable {
        &self.table
    }

    /// The context of the record's thread: the one the record carries (the kernel sends it
    /// at first sight and after a change), else the thread table's.
    fn context(&mut self, r: &Record<'_>) -> Context {
        match r.ctx {
            Some(c) => {
                self.threads.received(r.h.tid, c);
                c
            }
            None => self.threads.get(r.h.tgid, r.h.tid),
        }
    }

    /// The thread table (contexts by thread, and what it counted).
    pub fn threads(&self) -> &Threads {
        &self.threads
    }

    /// The event of one record, or `None` for records that only update the tables.
    pub fn convert(&mut self, r: &Record<'_>) -> Option<Converted> {
        let ctx = self.context(r);
        let comm = record::comm(&ctx);
        let h = &r.h;
        let loginuid = (ctx.loginuid != u32::MAX).then_some(ctx.loginuid);
        let sid = (ctx.sid != 0).then_some(ctx.sid as i64);
        let seen = Seen {
            pid: h.tgid,
            ppid: ctx.ppid,
            uid: ctx.uid,
            gid: ctx.gid,
            loginuid,
            comm: &comm,
            sid,
            cap_permitted: ctx.cap_permitted,
            cap_effective: ctx.cap_effective,
        };
        match r.kind {
            Kind::Fork => {
                self.table.fork(seen);
                self.set_container(r);
                None
            }
            Kind::Exit => {
                // Falco's procexit (an enter event, so no result fields), for every thread;
                // the process leaves the table with its main thread, or at once when only
                // this exit made it known (a thread outliving its main thread).
                let known = self.table.get(h.tgid).is_some();
                let mut o = self.begin(r, "procexit", seen, false);
                exit_status(&mut o, r.ret() as i32);
                if h.tid == h.tgid || !known {
                    self.table.exit(h.tgid);
                }
                self.threads.exit(h.tid);
                Some(o.finish())
            }
            Kind::Exec => {
                self.table.exec(seen, &r.str(0), r.bytes(1), r.exe_flags());
                self.set_container(r);
                let ty = if r.nr() == nr::EXECVEAT {
                    "execveat"
                } else {
                    "execve"
                };
                let mut o = self.begin(r, ty, seen, true);
                o.str("evt.arg.filename", &r.str(0));
                Some(o.finish())
            }
            Kind::Syscall => self.syscall(r, seen),
        }
    }

    /// The container of a fork/exec record's cgroups, read by the kernel at that moment.
    fn set_container(&mut self, r: &Record<'_>) {
        let paths = r.cgroup_paths();
        if paths.is_empty() {
            return;
        }
        if let Some(p) = self.table.get_mut(r.h.tgid) {
            p.container = paths
                .iter()
                .find_map(|path| container::from_cgroup_path(path));
            if p.container.is_some() {
                let status = std::fs::read_to_string(format!("/proc/{}/status", r.h.tgid))
                    .unwrap_or_default();
                p.sys_admin = crate::process::has_sys_admin(&status).or(p.sys_admin);
            }
        }
    }

    fn cap_names(&mut self, set: u64) -> &str {
        if self.cap_names.len() >= 256 && !self.cap_names.contains_key(&set) {
            self.cap_names.clear();
        }
        self.cap_names
            .entry(set)
            .or_insert_with(|| render::capabilities(set))
    }

    /// The fields every event has; `exit` events (all but procexit) also carry the result.
    fn begin(&mut self, r: &Record<'_>, evt_type: &'static str, seen: Seen<'_>, exit: bool) -> Obj {
        self.table.ensure(seen);
        let mut o = Builder::new();
        o.text("evt.type", evt_type);
        o.int("evt.time", r.h.ts as i64 + self.boot_to_epoch_ns);
        if exit {
            o.text("evt.dir", "<");
            o.text("evt.res", render::res(r.ret()));
            o.int("evt.rawres", r.ret());
            o.bool("evt.failed", r.ret() < 0);
        } else {
            o.text("evt.dir", ">");
        }
        o.int("thread.tid", r.h.tid as i64);
        let key = |c: &Converter| {
            (
                c.table.generation(),
                c.cri.as_ref().map_or(0, Resolver::version),
                seen.cap_permitted,
                seen.cap_effective,
            )
        };
        let shared = match self.contexts.get(&seen.pid) {
            Some((k, shared)) if *k == key(self) => shared.clone(),
            _ => {
                // Ancestors missing from the table are read from /proc once per version of the
                // context (loading them is a change of the table, so the key is taken after).
                self.table.load_ancestry(seen.pid, ANCESTORS);
                let key = key(self);
                let mut b = Builder::new();
                b.str("thread.cap_permitted", self.cap_names(seen.cap_permitted));
                b.str("thread.cap_effective", self.cap_names(seen.cap_effective));
                self.process_fields(&mut b, self.table.get(seen.pid).expect("ensured above"));
                let error = b.error.take();
                let shared = Arc::new(SharedFields::new(b.ev));
                o.error = o.error.take().or(error);
                if self.contexts.len() >= 1 << 16 {
                    self.contexts.clear();
                }
                self.contexts.insert(seen.pid, (key, shared.clone()));
                shared
            }
        };
        Obj { own: o, shared }
    }

    /// Sets the fields of process `p`.
    fn process_fields(&self, o: &mut Builder, p: &Process) {
        o.int("proc.pid", p.pid as i64);
        o.int("proc.ppid", p.ppid as i64);
        if let Some(v) = p.vpid {
            o.int("proc.vpid", v);
        }
        o.str("proc.name", &p.name);
        o.str("proc.exe", &p.exe);
        o.str("proc.exepath", &p.exepath);
        o.str("proc.cmdline", &p.cmdline());
        o.str("proc.args", &p.args.join(" "));
        if let Some(cwd) = &p.cwd {
            // libsinsp keeps a trailing slash on cwd.
            o.str(
                "proc.cwd",
                &if cwd.ends_with('/') {
                    cwd.clone()
                } else {
                    format!("{cwd}/")
                },
            );
        }
        if let Some(tty) = p.tty {
            o.int("proc.tty", tty as i64);
        }
        o.bool("proc.is_exe_from_memfd", p.exe_from_memfd);
        o.bool("proc.is_exe_upper_layer", p.exe_upper_layer);
        if let Some(sid) = p.sid {
            o.int("proc.sid", sid);
        }
        let ancestors = self.table.ancestors(p.pid, ANCESTORS);
        if let Some(parent) = ancestors.first() {
            o.str("proc.pname", &parent.name);
            o.str("proc.pcmdline", &parent.cmdline());
            o.str("proc.pexe", &parent.exe);
            o.str("proc.pexepath", &parent.exepath);
        }
        for (i, a) in ancestors.iter().enumerate() {
            o.str(&format!("proc.aname[{}]", i + 1), &a.name);
            o.int(&format!("proc.apid[{}]", i + 1), a.pid as i64);
            o.str(&format!("proc.aexe[{}]", i + 1), &a.exe);
            o.str(&format!("proc.aexepath[{}]", i + 1), &a.exepath);
        }
        if let Some(sid) = p.sid {
            // libsinsp: the process whose pid is the session id, else the eldest ancestor in
            // the same session (the leader may have exited).
            let leader = self.table.get(sid as u32).or_else(|| {
                std::iter::once(p)
                    .chain(ancestors.iter().copied())
                    .take_while(|a| a.sid == Some(sid))
                    .last()
            });
            if let Some(leader) = leader {
                o.str("proc.sname", &leader.name);
            }
        }
        o.int("user.uid", p.uid as i64);
        o.str(
            "user.name",
            self.users.get(&p.uid).map_or("<NA>", String::as_str),
        );
        o.int("user.loginuid", p.loginuid.map_or(-1, |u| u as i64));
        if let Some(name) = p.loginuid.and_then(|u| self.users.get(&u)) {
            o.str("user.loginname", name);
        }
        o.int("group.gid", p.gid as i64);
        o.str(
            "group.name",
            self.groups.get(&p.gid).map_or("<NA>", String::as_str),
        );
        match &p.container {
            Some(c) => {
                o.str("container.id", c.short());
                o.str("container.type", c.runtime.as_str());
                let meta = self.cri.as_ref().and_then(|r| r.get(&c.full));
                if let Some(meta) = &meta {
                    cri_fields(o, meta);
                }
                if meta.as_ref().is_none_or(|m| m.privileged.is_none())
                    && let Some(privileged) = p.sys_admin
                {
                    o.bool("container.privileged", privileged);
                }
            }
            None => {
                o.text("container.id", "host");
                o.text("container.name", "host");
            }
        }
    }

    fn syscall(&mut self, r: &Record<'_>, seen: Seen<'_>) -> Option<Converted> {
        let evt_type = syscalls::evt_type(r.nr())?;
        let ret = r.ret();
        let pid = seen.pid;
        let mut o = self.begin(r, evt_type, seen, true);
        match r.nr() {
            nr::OPEN | nr::OPENAT | nr::OPENAT2 | nr::CREAT => {
                let (dirfd, flags, mode) = match r.nr() {
                    nr::OPEN => (AT_FDCWD, r.arg(1), r.arg(2)),
                    nr::CREAT => (
                        AT_FDCWD,
                        render::O_CREAT | render::O_WRONLY | render::O_TRUNC,
                        r.arg(1),
                    ),
                    _ => (r.arg_int(0), r.arg(2), r.arg(3)),
                };
                let name = r.str(0);
                let p = self.table.get(pid).expect("ensured by begin");
                let path = p.resolve(dirfd, &name);
                let ppm_flags =
                    render::ppm_open_flags(flags, if ret >= 0 { r.syscall().f_mode } else { 0 });
                let mode = render::open_mode(flags, mode);
                o.str("evt.arg.name", &name);
                o.str("evt.arg.mode", &render::mode(mode));
                // libsinsp's evt.is_open_*: from the recorded flags, not from what was asked;
                // creat has no flags parameter, so only its mode counts.
                let may_create = ppm_flags & (render::ppm::O_CREAT | render::ppm::O_TMPFILE) != 0;
                o.bool("evt.is_open_exec", may_create && mode & 0o111 != 0);
                if r.nr() == nr::CREAT {
                    for f in [
                        "evt.is_open_read",
                        "evt.is_open_write",
                        "evt.is_open_create",
                    ] {
                        o.bool(f, false);
                    }
                } else {
                    let tmpfile = ppm_flags & render::ppm::O_TMPFILE != 0;
                    o.str("evt.arg.flags", &render::open_flags(ppm_flags));
                    o.bool("evt.is_open_read", ppm_flags & render::ppm::O_RDONLY != 0);
                    o.bool("evt.is_open_write", ppm_flags & render::ppm::O_WRONLY != 0);
                    o.bool(
                        "evt.is_open_create",
                        ppm_flags & render::ppm::O_F_CREATED != 0 || (tmpfile && ret >= 0),
                    );
                }
                let kind = if flags & render::O_TMPFILE == render::O_DIRECTORY {
                    FdKind::Directory
                } else {
                    FdKind::File
                };
                let fd = Fd {
                    raw: render::name_raw(&name),
                    ..Fd::path(path, kind, flags & render::O_CLOEXEC != 0)
                };
                if ret >= 0 {
                    o.str("evt.arg.fd", &fd.arg(ret));
                    fd_fields(&mut o, Some(ret), &fd);
                    self.with_proc(pid, |p| p.set_fd(ret, fd));
                } else {
                    o.str("evt.arg.fd", &render::fd_arg(ret, None));
                    fd_fields(&mut o, None, &fd);
                }
            }
            nr::WRITE | nr::PWRITE64 | nr::WRITEV => {
                let fd = r.arg_int(0);
                if ret >= 0 && self.table.fd(pid, fd).is_some_and(Fd::is_ip) {
                    // libsinsp: a successful write marks an IP socket connected.
                    self.with_proc(pid, |p| {
                        if let Some(i) = p.fds.get_mut(&fd) {
                            i.connected = true;
                        }
                    });
                }
                let info = self.table.fd(pid, fd);
                o.str("evt.arg.fd", &fd_param(fd, info));
                if r.nr() != nr::WRITEV {
                    o.str("evt.arg.size", &r.arg(2).to_string());
                }
                if let Some(info) = info {
                    fd_fields(&mut o, Some(fd), info);
                }
            }
            nr::CLOSE | nr::FCHMOD | nr::FCHDIR | nr::LISTEN => {
                let fd = r.arg_int(0);
                let known = self.table.fd(pid, fd);
                o.str("evt.arg.fd", &fd_param(fd, known));
                match r.nr() {
                    nr::FCHMOD => o.str("evt.arg.mode", &render::mode(r.arg(1))),
                    nr::LISTEN => o.str("evt.arg.backlog", &r.arg(1).to_string()),
                    _ => {}
                }
                if let Some(info) = self.table.fd(pid, fd).cloned() {
                    fd_fields(&mut o, Some(fd), &info);
                    if ret == 0 && r.nr() == nr::FCHDIR {
                        self.with_proc(pid, |p| p.cwd = Some(info.name.clone()));
                        self.table.invalidate();
                    }
                }
                if ret == 0 && r.nr() == nr::CLOSE {
                    self.with_proc(pid, |p| {
                        p.fds.remove(&fd);
                    });
                }
            }
            nr::DUP | nr::DUP2 | nr::DUP3 => {
                let old = r.arg_int(0);
                o.str("evt.arg.oldfd", &old.to_string());
                if r.nr() != nr::DUP {
                    o.str("evt.arg.newfd", &r.arg_int(1).to_string());
                }
                if let Some(info) = self.table.fd(pid, old).cloned() {
                    fd_fields(&mut o, Some(old), &info);
                    if ret >= 0 {
                        // dup3 may set O_CLOEXEC on the copy; dup and dup2 never do.
                        let cloexec = r.nr() == nr::DUP3 && r.arg(2) & render::O_CLOEXEC != 0;
                        self.with_proc(pid, |p| p.set_fd(ret, Fd { cloexec, ..info }));
                    }
                }
            }
            nr::SOCKET => {
                o.str("evt.arg.domain", &render::socket_family(r.arg(0)));
                o.str("evt.arg.type", &r.arg(1).to_string());
                o.str("evt.arg.proto", &r.arg(2).to_string());
                if ret >= 0 {
                    let kind = match r.arg(0) as u16 {
                        render::AF_INET => FdKind::Ipv4,
                        render::AF_INET6 => FdKind::Ipv6,
                        render::AF_UNIX => FdKind::Unix,
                        _ => FdKind::Other,
                    };
                    let fd = Fd::path(String::new(), kind, r.arg(1) & render::O_CLOEXEC != 0);
                    self.with_proc(pid, |p| p.set_fd(ret, fd));
                }
            }
            nr::CONNECT | nr::ACCEPT | nr::ACCEPT4 | nr::BIND => {
                let fd = if matches!(r.nr(), nr::ACCEPT | nr::ACCEPT4) {
                    ret
                } else {
                    r.arg_int(0)
                };
                let addr = render::sockaddr(r.bytes(0));
                if let Some(a) = &addr {
                    o.str(
                        "evt.arg.addr",
                        &match a {
                            SockAddr::Ip(s) => s.to_string(),
                            SockAddr::Unix(p) => p.clone(),
                        },
                    );
                }
                if fd >= 0 {
                    let server = matches!(r.nr(), nr::ACCEPT | nr::ACCEPT4);
                    let cloexec = self
                        .table
                        .get(pid)
                        .and_then(|p| p.fds.get(&fd))
                        .is_some_and(|f| f.cloexec);
                    let mut info = socket_fd(r, addr, server, cloexec);
                    // libsinsp: connect and accept leave the socket connected when they succeed.
                    info.connected = ret >= 0 && r.nr() != nr::BIND;
                    if let Some(t) = &info.tuple
                        && t.remote.is_some()
                    {
                        o.str("evt.arg.tuple", &info.name);
                    }
                    fd_fields(&mut o, Some(fd), &info);
                    if ret >= 0 {
                        self.with_proc(pid, |p| p.set_fd(fd, info));
                    }
                }
            }
            nr::CHDIR => {
                let path = r.str(0);
                o.str("evt.arg.path", &path);
                if ret == 0 {
                    self.with_proc(pid, |p| p.cwd = Some(p.resolve(AT_FDCWD, &path)));
                    self.table.invalidate();
                }
            }
            nr::UNLINK | nr::UNLINKAT | nr::CHMOD | nr::FCHMODAT => {
                let (dirfd, key) = match r.nr() {
                    nr::UNLINK => (AT_FDCWD, "evt.arg.path"),
                    nr::UNLINKAT => (r.arg_int(0), "evt.arg.name"),
                    nr::CHMOD => (AT_FDCWD, "evt.arg.filename"),
                    _ => (r.arg_int(0), "evt.arg.filename"),
                };
                let name = r.str(0);
                o.str(key, &name);
                match r.nr() {
                    nr::CHMOD => o.str("evt.arg.mode", &render::mode(r.arg(1))),
                    nr::FCHMODAT => o.str("evt.arg.mode", &render::mode(r.arg(2))),
                    _ => {}
                }
                let resolved = self.table.get(pid).expect("ensured").resolve(dirfd, &name);
                o.str("fs.path.name", &resolved);
            }
            nr::SYMLINK | nr::SYMLINKAT => {
                // The target is stored as written, never resolved: it names what the link
                // will point to, not a file of this process.
                let linkdir = if r.nr() == nr::SYMLINK {
                    AT_FDCWD
                } else {
                    r.arg_int(1)
                };
                let (target, linkpath) = (r.str(0), r.str(1));
                o.str("evt.arg.target", &target);
                o.str("evt.arg.linkpath", &linkpath);
                let p = self.table.get(pid).expect("ensured");
                o.str("fs.path.source", &target);
                o.str("fs.path.target", &p.resolve(linkdir, &linkpath));
            }
            nr::RENAME | nr::RENAMEAT | nr::RENAMEAT2 | nr::LINK | nr::LINKAT => {
                let two_dirs = !matches!(r.nr(), nr::RENAME | nr::LINK);
                let (olddir, newdir) = if two_dirs {
                    (r.arg_int(0), r.arg_int(2))
                } else {
                    (AT_FDCWD, AT_FDCWD)
                };
                let (old, new) = (r.str(0), r.str(1));
                o.str("evt.arg.oldpath", &old);
                o.str("evt.arg.newpath", &new);
                let p = self.table.get(pid).expect("ensured");
                o.str("fs.path.source", &p.resolve(olddir, &old));
                o.str("fs.path.target", &p.resolve(newdir, &new));
            }
            nr::MOUNT => {
                o.str("evt.arg.dev", &r.str(0));
                o.str("evt.arg.dir", &r.str(1));
                o.str("evt.arg.type", &r.str(2));
                o.str("evt.arg.flags", &render::mount_flags(r.arg(3)));
            }
            nr::UMOUNT2 => {
                o.str("evt.arg.name", &r.str(0));
                o.str("evt.arg.flags", &r.arg(1).to_string());
            }
            nr::SETUID | nr::SETGID => {
                let key = if r.nr() == nr::SETUID {
                    "evt.arg.uid"
                } else {
                    "evt.arg.gid"
                };
                o.str(key, &(r.arg(0) as u32).to_string());
            }
            nr::SETREUID => {
                o.str("evt.arg.ruid", &(r.arg(0) as u32 as i32).to_string());
                o.str("evt.arg.euid", &(r.arg(1) as u32 as i32).to_string());
            }
            nr::SETRESUID | nr::SETRESGID => {
                let names = if r.nr() == nr::SETRESUID {
                    ["ruid", "euid", "suid"]
                } else {
                    ["rgid", "egid", "sgid"]
                };
                for (i, n) in names.iter().enumerate() {
                    o.str(
                        &format!("evt.arg.{n}"),
                        &(r.arg(i) as u32 as i32).to_string(),
                    );
                }
            }
            nr::PTRACE => {
                o.str("evt.arg.request", &render::ptrace_request(r.arg(0)));
                o.str("evt.arg.pid", &self.pid_param(r.arg(1) as i64));
            }
            nr::INIT_MODULE | nr::FINIT_MODULE => {
                o.str("evt.arg.uargs", &r.str(0));
                if r.nr() == nr::FINIT_MODULE {
                    let fd = r.arg_int(0);
                    let info = self.table.fd(pid, fd).cloned();
                    o.str("evt.arg.fd", &fd_param(fd, info.as_ref()));
                    if let Some(info) = &info {
                        fd_fields(&mut o, Some(fd), info);
                    }
                }
            }
            nr::MEMFD_CREATE => {
                let name = r.str(0);
                o.str("evt.arg.name", &name);
                o.str("evt.arg.flags", &r.arg(1).to_string());
                if ret >= 0 {
                    let fd = Fd::path(format!("/memfd:{name}"), FdKind::Memfd, r.arg(1) & 1 != 0);
                    fd_fields(&mut o, Some(ret), &fd);
                    self.with_proc(pid, |p| p.set_fd(ret, fd));
                }
            }
            nr::EXECVE | nr::EXECVEAT => {
                // Only failures arrive here; successes come as Exec records.
                o.str("evt.arg.filename", &r.str(0));
            }
            nr::SENDTO | nr::SENDMSG | nr::RECVFROM | nr::RECVMSG => self.socket_io(&mut o, r, pid),
            nr::MKDIR | nr::MKDIRAT | nr::RMDIR => {
                let dirfd = if r.nr() == nr::MKDIRAT {
                    r.arg_int(0)
                } else {
                    AT_FDCWD
                };
                if r.nr() == nr::MKDIRAT {
                    let known = self.table.fd(pid, dirfd);
                    o.str("evt.arg.dirfd", &fd_param(dirfd, known));
                }
                let path = r.str(0);
                let resolved = self.table.get(pid).expect("ensured").resolve(dirfd, &path);
                // libsinsp shows a relative path resolved, an absolute one as given.
                let shown = if path.starts_with('/') || path.is_empty() {
                    &path
                } else {
                    &resolved
                };
                o.str("evt.arg.path", shown);
                if r.nr() != nr::RMDIR {
                    let mode = r.arg(if r.nr() == nr::MKDIR { 1 } else { 2 }) as u32;
                    // The drivers' mode parameter of mkdir is printed in hexadecimal.
                    o.str("evt.arg.mode", &format!("{mode:X}"));
                }
                o.str("fs.path.name", &resolved);
            }
            nr::SETNS => {
                let fd = r.arg_int(0);
                let info = self.table.fd(pid, fd).cloned();
                o.str("evt.arg.fd", &fd_param(fd, info.as_ref()));
                let nstype = render::ppm_clone_flags(r.arg(1));
                o.str("evt.arg.nstype", &render::clone_flags(nstype));
                if let Some(info) = &info {
                    fd_fields(&mut o, Some(fd), info);
                }
            }
            nr::UNSHARE => {
                let flags = render::ppm_clone_flags(r.arg(0));
                o.str("evt.arg.flags", &render::clone_flags(flags));
            }
            nr::BPF => {
                // The new fd (or the error) is the first parameter, then the command.
                o.str("evt.arg.fd", &render::fd_arg(ret, None));
                o.str("evt.arg.cmd", &render::bpf_command(r.arg(0)));
            }
            nr::USERFAULTFD => {
                // The drivers record the flags as given and libsinsp names them with its
                // open-flags table, so e.g. O_CLOEXEC shows as a number.
                o.str("evt.arg.flags", &render::open_flags(r.arg(0) as u32));
            }
            nr::CLONE | nr::CLONE3 | nr::FORK | nr::VFORK => {
                // fork and vfork have no flags argument: the drivers record none.
                let linux = if matches!(r.nr(), nr::CLONE | nr::CLONE3) {
                    r.arg(0)
                } else {
                    0
                };
                let mut flags = render::ppm_clone_flags(linux);
                if r.syscall().ns_flags & NS_CHILD_IN_PIDNS != 0 {
                    flags |= render::PPM_CL_CHILD_IN_PIDNS;
                }
                o.str("evt.arg.flags", &render::clone_flags(flags));
                let p = self.table.get(pid).expect("ensured");
                let (comm, exe, ppid) = (p.name.clone(), p.exe.clone(), p.ppid);
                o.str("evt.arg.pid", &self.pid_param(pid as i64));
                o.str("evt.arg.tid", &self.pid_param(r.h.tid as i64));
                o.str("evt.arg.ptid", &self.pid_param(ppid as i64));
                o.str("evt.arg.comm", &comm);
                o.str("evt.arg.exe", &exe);
                o.str("evt.arg.uid", &seen.uid.to_string());
                o.str("evt.arg.gid", &seen.gid.to_string());
            }
            _ => {}
        }
        Some(o.finish())
    }

    /// A pid parameter as `evt.arg` shows it: libsinsp resolves it to the thread's name when
    /// it knows the thread (here: the process table's entry of that pid), else the number.
    fn pid_param(&self, pid: i64) -> String {
        u32::try_from(pid)
            .ok()
            .and_then(|p| self.table.get(p))
            .map_or_else(|| pid.to_string(), |p| p.name.clone())
    }

    /// sendto, sendmsg, recvfrom, recvmsg, parsed as libsinsp parses reads and writes: success
    /// marks an IP socket connected, and a socket without a TCP tuple takes the call's tuple
    /// (an unconnected UDP socket's peer changes with each datagram: `fd.name_changed`).
    fn socket_io(&mut self, o: &mut Obj, r: &Record<'_>, pid: u32) {
        let (ret, fd) = (r.ret(), r.arg_int(0));
        let inbound = matches!(r.nr(), nr::RECVFROM | nr::RECVMSG);
        let known = self.table.fd(pid, fd).cloned();
        let mut info = known.clone();
        let tuple = ret
            .ge(&0)
            .then(|| call_tuple(r, inbound, known.as_ref()))
            .flatten();
        if let Some(t) = &tuple
            && info
                .as_ref()
                .is_none_or(|i| i.name.is_empty() || i.tuple.as_ref().is_none_or(|t| !t.tcp))
        {
            info = Some(Fd {
                kind: if t.local.is_ipv4() {
                    FdKind::Ipv4
                } else {
                    FdKind::Ipv6
                },
                name: tuple_name(t),
                raw: String::new(),
                tuple: Some(t.clone()),
                cloexec: known.as_ref().is_some_and(|k| k.cloexec),
                connected: false,
            });
        }
        if let Some(i) = &mut info
            && ret >= 0
            && i.is_ip()
        {
            i.connected = true;
        }
        o.str("evt.arg.fd", &fd_param(fd, info.as_ref()));
        let size = match r.nr() {
            nr::SENDTO | nr::RECVFROM => Some(r.arg(2) as u32),
            // The kernel program summed the iovecs' lengths into args[1].
            nr::SENDMSG => (ret >= 0).then_some(r.arg(1) as u32),
            _ => Some(ret.max(0) as u32),
        };
        if let Some(size) = size {
            o.str("evt.arg.size", &size.to_string());
        }
        if let Some(t) = &tuple
            && let Some(remote) = t.remote
        {
            // The drivers' tuple goes from the sender to the receiver of this call.
            let (from, to) = if inbound {
                (remote, t.local)
            } else {
                (t.local, remote)
            };
            o.str(
                "evt.arg.tuple",
                &format!("{}->{}", fmt_addr(from), fmt_addr(to)),
            );
        }
        if let Some(i) = info {
            fd_fields(o, Some(fd), &i);
            let before = known.as_ref().map_or("", |k| k.name.as_str());
            o.bool("fd.name_changed", before != i.name);
            if ret >= 0 {
                self.with_proc(pid, |p| p.set_fd(fd, i));
            }
        }
    }

    fn with_proc(&mut self, pid: u32, f: impl FnOnce(&mut Process)) {
        if let Some(p) = self.table.get_mut(pid) {
            f(p);
        }
    }
}

fn cri_fields(o: &mut Builder, m: &ContainerMeta) {
    o.str("container.name", &m.name);
    o.str("container.image", &m.image);
    o.str("container.image.repository", &m.image_repository);
    o.str("container.image.tag", &m.image_tag);
    if let Some(p) = m.privileged {
        o.bool("container.privileged", p);
    }
    if let Some(name) = &m.pod_name {
        o.str("k8s.pod.name", name);
    }
    if let Some(ns) = &m.pod_namespace {
        o.str("k8s.ns.name", ns);
    }
    if m.pod_name.is_some() {
        let labels: Vec<String> = m
            .pod_labels
            .iter()
            .map(|(k, v)| format!("{k}:{v}"))
            .collect();
        o.str("k8s.pod.labels", &labels.join(","));
        for (k, v) in &m.pod_labels {
            o.str(&format!("k8s.pod.label[{k}]"), v);
        }
    }
}

/// The socket behind an fd after connect/accept/bind, from the kernel's view of the socket,
/// falling back to the address the caller passed when the kernel had no peer yet.
fn socket_fd(r: &Record<'_>, addr: Option<SockAddr>, server: bool, cloexec: bool) -> Fd {
    let s = r.sock.unwrap_or_default();
    if s.family == render::AF_UNIX {
        let name = match addr {
            Some(SockAddr::Unix(p)) => p,
            _ => String::new(),
        };
        return Fd::path(name, FdKind::Unix, cloexec);
    }
    let local = render::ip(s.family, &s.local_addr).map(|ip| SocketAddr::new(ip, s.local_port));
    let remote = render::ip(s.family, &s.remote_addr)
        .map(|ip| SocketAddr::new(ip, s.remote_port))
        .filter(|a| a.port() != 0)
        .or(match (&addr, r.nr()) {
            (Some(SockAddr::Ip(a)), nr::CONNECT) => Some(*a),
            _ => None,
        });
    let Some(local) = local.or(match &addr {
        Some(SockAddr::Ip(a)) if r.nr() == nr::BIND => Some(*a),
        _ => None,
    }) else {
        return Fd::path(String::new(), FdKind::Other, cloexec);
    };
    let kind = if local.is_ipv4() {
        FdKind::Ipv4
    } else {
        FdKind::Ipv6
    };
    // SOCK_STREAM = 1, SOCK_DGRAM = 2 (the low bits; SOCK_NONBLOCK/CLOEXEC are masked off).
    let tcp = s.sock_type & 0xf != 2;
    let tuple = Tuple {
        local,
        remote,
        tcp,
        server,
    };
    Fd {
        kind,
        name: tuple_name(&tuple),
        raw: String::new(),
        tuple: Some(tuple),
        cloexec,
        connected: false,
    }
}

/// An fd parameter: the table's view of it when known (see [`Fd::arg`]).
fn fd_param(fd: i64, known: Option<&Fd>) -> String {
    known.map_or_else(|| render::fd_arg(fd, None), |i| i.arg(fd))
}

/// procexit's parameters from the kernel's exit code (a wait status), as the drivers split it.
fn exit_status(o: &mut Builder, code: i32) {
    let termsig = code & 0x7f;
    // glibc's WIFSIGNALED: a signal number, not 0 (exited) or 0x7f (stopped).
    let signaled = (((termsig + 1) as u8 as i8) >> 1) > 0;
    o.str("evt.arg.status", &code.to_string());
    o.str("evt.arg.ret", &((code & 0xff00) >> 8).to_string());
    o.str(
        "evt.arg.sig",
        &render::signal(if signaled { termsig as u8 } else { 0 }),
    );
    o.str("evt.arg.core", if code & 0x80 != 0 { "1" } else { "0" });
}

/// The IP tuple a send or receive call used: this socket's end from the kernel, the peer from
/// the address the call passed or got (unconnected sockets) or else the kernel's. `known` keeps
/// the role (client or server) an earlier connect, accept or datagram gave the fd.
fn call_tuple(r: &Record<'_>, inbound: bool, known: Option<&Fd>) -> Option<Tuple> {
    let s = r.sock.unwrap_or_default();
    let local = SocketAddr::new(render::ip(s.family, &s.local_addr)?, s.local_port);
    let remote = match render::sockaddr(r.bytes(0)) {
        Some(SockAddr::Ip(a)) => a,
        _ => SocketAddr::new(render::ip(s.family, &s.remote_addr)?, s.remote_port),
    };
    if remote.port() == 0 {
        return None;
    }
    // An unbound datagram socket sends from the wildcard address; libsinsp patches it with the
    // address of the interface that reaches the peer. Only loopback is inferred here: for other
    // peers the wildcard stays.
    let mut local = local;
    if local.ip().is_unspecified() && remote.ip().is_loopback() {
        local.set_ip(remote.ip());
    }
    // A bound socket has no role yet; libsinsp then guesses server for a receive, client for
    // a send.
    let server = known
        .and_then(|k| k.tuple.as_ref())
        .filter(|t| t.remote.is_some())
        .map_or(inbound, |t| t.server);
    Some(Tuple {
        local,
        remote: Some(remote),
        tcp: s.sock_type & 0xf != 2,
        server,
    })
}

/// `fd.name` of an IP socket: client end first when the peer is known.
fn tuple_name(t: &Tuple) -> String {
    match t.remote {
        Some(remote) if t.server => format!("{}->{}", fmt_addr(remote), fmt_addr(t.local)),
        Some(remote) => format!("{}->{}", fmt_addr(t.local), fmt_addr(remote)),
        None => fmt_addr(t.local),
    }
}

/// Falco writes `ip:port` for both families (no brackets around IPv6).
fn fmt_addr(a: SocketAddr) -> String {
    format!("{}:{}", a.ip(), a.port())
}

fn fd_fields(o: &mut Builder, num: Option<i64>, fd: &Fd) {
    if let Some(n) = num {
        o.int("fd.num", n);
    }
    let (ty, ch) = fd.kind.names();
    o.text("fd.type", ty);
    o.text("fd.typechar", ch);
    if !fd.name.is_empty() {
        o.str("fd.name", &fd.name);
    }
    o.str("fd.nameraw", &fd.raw);
    // The engine's definition: what libsinsp extracts for this fd type.
    if let Some(dir) = rulestudio_engine::eval::fd_directory(&fd.name, Some(ty)) {
        o.str("fd.directory", dir);
    }
    if let Some(file) = rulestudio_engine::eval::fd_filename(&fd.name, Some(ty)) {
        o.str("fd.filename", file);
    }
    if fd.is_ip() {
        o.bool("fd.connected", fd.connected);
    }
    if let Some(t) = &fd.tuple {
        o.text("fd.sockfamily", "ip");
        o.text("fd.l4proto", if t.tcp { "tcp" } else { "udp" });
        o.str("fd.lip", &t.local.ip().to_string());
        o.int("fd.lport", t.local.port() as i64);
        if let Some(remote) = t.remote {
            o.str("fd.rip", &remote.ip().to_string());
            o.int("fd.rport", remote.port() as i64);
            let (client, server) = if t.server {
                (remote, t.local)
            } else {
                (t.local, remote)
            };
            o.str("fd.cip", &client.ip().to_string());
            o.int("fd.cport", client.port() as i64);
            o.str("fd.sip", &server.ip().to_string());
            o.int("fd.sport", server.port() as i64);
        }
    } else if fd.kind == FdKind::Unix {
        o.text("fd.sockfamily", "unix");
    }
}
