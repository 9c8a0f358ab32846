//! The wider syscall set, performed for real by a forked child of the test (the collector
//! ignores its own process, not its children). Things that would touch the system happen in a
//! private mount namespace: the write to /etc/shadow goes to a temp file bind-mounted over it.

mod common;

use common::{Event, Harness, is, s};
use std::ffi::CString;

/// Forks a child that runs `body` and exits; returns its pid once it has exited. `body` must
/// not allocate (other test threads may hold the allocator's lock at fork time).
fn in_child(body: impl FnOnce()) -> u32 {
    // SAFETY: the child only makes raw syscalls through libc and leaves with _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        body();
        unsafe { libc::_exit(0) };
    }
    let mut status = 0;
    unsafe { libc::waitpid(pid, &mut status, 0) };
    pid as u32
}

fn c(s: &str) -> CString {
    CString::new(s).unwrap()
}

fn find<'a>(events: &'a [Event], ty: &str) -> &'a Event {
    events
        .iter()
        .find(|e| is(e, "evt.type", ty))
        .unwrap_or_else(|| panic!("no {ty} event among {events:#?}"))
}

#[test]
fn files_mounts_credentials_modules_and_sockets() {
    let mut h = Harness::start();
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| c(dir.path().join(n).to_str().unwrap());
    let (a, b, mnt, fake_shadow) = (p("a"), p("b"), p("mnt"), p("shadow"));
    std::fs::create_dir(dir.path().join("mnt")).unwrap();
    std::fs::write(dir.path().join("shadow"), "").unwrap();
    std::fs::write(dir.path().join("a"), "x").unwrap();
    let (shadow, tmpfs, root, memfd, empty) =
        (c("/etc/shadow"), c("tmpfs"), c("/"), c("rs-memfd"), c(""));
    let pid = in_child(|| unsafe {
        libc::chmod(a.as_ptr(), 0o600);
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            0,
        );
        libc::unlinkat(libc::AT_FDCWD, b.as_ptr(), 0);
        // The stable rules' "Create Symlink/Hardlink Over Sensitive Files".
        libc::symlinkat(shadow.as_ptr(), libc::AT_FDCWD, b.as_ptr());
        libc::linkat(
            libc::AT_FDCWD,
            fake_shadow.as_ptr(),
            libc::AT_FDCWD,
            a.as_ptr(),
            0,
        );
        libc::setgid(0);
        libc::setuid(0);
        libc::ptrace(libc::PTRACE_ATTACH, i32::MAX, 0, 0);
        libc::syscall(libc::SYS_finit_module, -1, empty.as_ptr(), 0);
        let m = libc::memfd_create(memfd.as_ptr(), 0);
        libc::write(m, b"payload".as_ptr().cast(), 7);
        // A private mount namespace: nothing below is visible outside this child.
        if libc::unshare(libc::CLONE_NEWNS) == 0
            && libc::mount(
                std::ptr::null(),
                root.as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ) == 0
        {
            libc::mount(
                tmpfs.as_ptr(),
                mnt.as_ptr(),
                tmpfs.as_ptr(),
                0,
                std::ptr::null(),
            );
            libc::umount2(mnt.as_ptr(), 0);
            if libc::mount(
                fake_shadow.as_ptr(),
                shadow.as_ptr(),
                std::ptr::null(),
                libc::MS_BIND,
                std::ptr::null(),
            ) == 0
            {
                let fd = libc::open(shadow.as_ptr(), libc::O_WRONLY);
                libc::write(fd, b"root::0:0\n".as_ptr().cast(), 10);
            }
        }
        // The stable rule "Packet socket created in container" looks for this domain.
        libc::close(libc::socket(libc::AF_PACKET, libc::SOCK_RAW, 0));
        // A loopback server and client in one process: bind, listen, connect, accept.
        let srv = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        let mut addr: libc::sockaddr_in = std::mem::zeroed();
        addr.sin_family = libc::AF_INET as u16;
        addr.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
        let len = std::mem::size_of::<libc::sockaddr_in>() as u32;
        libc::bind(srv, (&addr as *const libc::sockaddr_in).cast(), len);
        libc::listen(srv, 4);
        let mut len2 = len;
        libc::getsockname(srv, (&mut addr as *mut libc::sockaddr_in).cast(), &mut len2);
        let cli = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        libc::connect(cli, (&addr as *const libc::sockaddr_in).cast(), len);
        let conn = libc::accept4(srv, std::ptr::null_mut(), std::ptr::null_mut(), 0);
        libc::close(conn);
    });
    h.wait_for("the accept4", |e| {
        is(e, "proc.pid", pid) && is(e, "evt.type", "accept4")
    });
    let ev = h.of_pid(pid);
    let path = |n: &str| dir.path().join(n).to_str().unwrap().to_string();

    let chmod = find(&ev, "chmod");
    assert_eq!(
        (s(chmod, "fs.path.name"), s(chmod, "evt.arg.mode")),
        (path("a").as_str(), "0600")
    );
    let rename = find(&ev, "renameat2");
    assert_eq!(
        (s(rename, "fs.path.source"), s(rename, "fs.path.target")),
        (path("a").as_str(), path("b").as_str())
    );
    assert_eq!(s(find(&ev, "unlinkat"), "fs.path.name"), path("b"));
    let symlink = find(&ev, "symlinkat");
    assert_eq!(
        (s(symlink, "evt.arg.target"), s(symlink, "fs.path.target")),
        ("/etc/shadow", path("b").as_str())
    );
    let link = find(&ev, "linkat");
    assert_eq!(
        (s(link, "evt.arg.oldpath"), s(link, "evt.arg.newpath")),
        (path("shadow").as_str(), path("a").as_str())
    );
    assert_eq!(s(find(&ev, "setuid"), "evt.arg.uid"), "0");
    assert_eq!(s(find(&ev, "setgid"), "evt.arg.gid"), "0");
    let ptrace = find(&ev, "ptrace");
    assert_eq!(
        (s(ptrace, "evt.arg.request"), s(ptrace, "evt.res")),
        ("PTRACE_ATTACH", "ESRCH")
    );
    // EBADF, or ENOSYS on kernels built without module support: either way it fails.
    assert!(is(find(&ev, "finit_module"), "evt.failed", true));
    assert!(ev.iter().any(|e| is(e, "evt.type", "write")
        && is(e, "fd.name", "/memfd:rs-memfd")
        && is(e, "fd.type", "memfd")));

    let mount = ev
        .iter()
        .find(|e| is(e, "evt.type", "mount") && is(e, "evt.arg.dir", path("mnt")));
    let mount = mount.unwrap_or_else(|| panic!("no tmpfs mount in {ev:#?}"));
    assert_eq!(
        (
            s(mount, "evt.arg.dev"),
            s(mount, "evt.arg.type"),
            s(mount, "evt.arg.flags")
        ),
        ("tmpfs", "tmpfs", "0")
    );
    let private = ev
        .iter()
        .find(|e| is(e, "evt.type", "mount") && is(e, "evt.arg.dir", "/"));
    assert_eq!(private.map(|e| s(e, "evt.arg.flags")), Some("REC|PRIVATE"));
    assert_eq!(s(find(&ev, "umount2"), "evt.arg.name"), path("mnt"));
    let w = ev
        .iter()
        .find(|e| is(e, "evt.type", "write") && is(e, "fd.name", "/etc/shadow"));
    let w = w.unwrap_or_else(|| panic!("no write to /etc/shadow in {ev:#?}"));
    assert!(is(w, "evt.rawres", 10));
    assert!(ev.iter().any(|e| is(e, "evt.type", "openat")
        && is(e, "fd.name", "/etc/shadow")
        && is(e, "evt.is_open_write", true)));

    let domains: Vec<&str> = ev
        .iter()
        .filter(|e| is(e, "evt.type", "socket"))
        .map(|e| s(e, "evt.arg.domain"))
        .collect();
    assert_eq!(domains, ["AF_PACKET", "AF_INET", "AF_INET"]);
    let bind = find(&ev, "bind");
    assert_eq!(s(bind, "fd.lip"), "127.0.0.1");
    let port = bind["fd.lport"].as_i64().unwrap();
    assert!(
        find(&ev, "listen")
            .get("fd.lport")
            .is_some_and(|p| p.as_i64() == Some(port))
    );
    let conn = find(&ev, "connect");
    assert_eq!(
        (s(conn, "fd.sip"), conn["fd.sport"].as_i64()),
        ("127.0.0.1", Some(port))
    );
    let acc = find(&ev, "accept4");
    assert_eq!(acc["fd.sport"].as_i64(), Some(port));
    assert_eq!(
        acc["fd.cport"], conn["fd.cport"],
        "both ends agree on the client port"
    );
    assert_eq!(s(acc, "fd.name"), s(conn, "fd.name"));
    assert!(
        ev.iter()
            .any(|e| is(e, "evt.type", "close") && e.get("fd.cport") == acc.get("fd.cport")),
        "close of the accepted fd keeps its tuple"
    );
}

#[test]
fn write_dedup_window_counts_instead_of_emitting() {
    let mut h = Harness::with(rulestudio_collector::KernelConfig {
        dedup_window: Some(std::time::Duration::from_secs(5)),
        ..Default::default()
    });
    let dev_null = c("/dev/null");
    let pid = in_child(|| unsafe {
        let fd = libc::open(dev_null.as_ptr(), libc::O_WRONLY);
        for _ in 0..100 {
            libc::write(fd, b"x".as_ptr().cast(), 1);
        }
        libc::close(fd);
    });
    h.wait_for("the close", |e| {
        is(e, "proc.pid", pid) && is(e, "evt.type", "close")
    });
    let writes = h
        .of_pid(pid)
        .iter()
        .filter(|e| is(e, "evt.type", "write"))
        .count();
    assert_eq!(writes, 1, "100 writes within the window give one event");
}

/// A copy of /bin/true exec'd from a memfd (`fexecve`), as fileless malware runs.
#[test]
fn exec_from_a_memfd_is_fileless() {
    let mut h = Harness::start();
    let image = std::fs::read("/bin/true").unwrap();
    let name = c("rs-fileless");
    let argv0 = c("rs-fileless");
    let pid = in_child(|| unsafe {
        let m = libc::memfd_create(name.as_ptr(), 0);
        libc::write(m, image.as_ptr().cast(), image.len());
        let argv = [argv0.as_ptr(), std::ptr::null()];
        let envp = [std::ptr::null()];
        libc::fexecve(m, argv.as_ptr(), envp.as_ptr());
    });
    let e = h.wait_for("the fileless execve", |e| {
        is(e, "proc.pid", pid)
            && e.get("evt.type")
                .is_some_and(|t| t == "execve" || t == "execveat")
    });
    assert!(is(&e, "proc.is_exe_from_memfd", true), "{e:#?}");
    assert!(is(&e, "proc.is_exe_upper_layer", false));
}

/// An overlay like a container's root: a binary from the image (lower layer) and one written
/// after start (upper layer), each exec'd in a private mount namespace.
#[test]
fn exec_from_an_overlay_upper_layer_is_told_from_the_image() {
    let mut h = Harness::start();
    let dir = tempfile::tempdir().unwrap();
    for d in ["lower", "upper", "work", "merged"] {
        std::fs::create_dir(dir.path().join(d)).unwrap();
    }
    std::fs::copy("/bin/true", dir.path().join("lower/rs-from-image")).unwrap();
    let p = |n: &str| c(dir.path().join(n).to_str().unwrap());
    let (merged, image_bin, dropped) = (
        p("merged"),
        p("merged/rs-from-image"),
        p("merged/rs-dropped"),
    );
    let opts = c(&format!(
        "lowerdir={},upperdir={},workdir={}",
        dir.path().join("lower").display(),
        dir.path().join("upper").display(),
        dir.path().join("work").display()
    ));
    let (overlay, root, true_bin) = (c("overlay"), c("/"), std::fs::read("/bin/true").unwrap());
    let run = |bin: &CString| unsafe {
        if libc::fork() == 0 {
            let argv = [bin.as_ptr(), std::ptr::null()];
            libc::execv(bin.as_ptr(), argv.as_ptr());
            libc::_exit(127);
        }
        libc::wait(std::ptr::null_mut());
    };
    let pid = in_child(|| unsafe {
        if libc::unshare(libc::CLONE_NEWNS) != 0
            || libc::mount(
                std::ptr::null(),
                root.as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ) != 0
            || libc::mount(
                overlay.as_ptr(),
                merged.as_ptr(),
                overlay.as_ptr(),
                0,
                opts.as_ptr().cast(),
            ) != 0
        {
            libc::_exit(1);
        }
        let fd = libc::open(dropped.as_ptr(), libc::O_WRONLY | libc::O_CREAT, 0o755);
        libc::write(fd, true_bin.as_ptr().cast(), true_bin.len());
        libc::close(fd);
        run(&image_bin);
        run(&dropped);
    });
    let exec_of = |h: &mut Harness, name: &'static str| {
        h.wait_for(name, |e| {
            is(e, "evt.type", "execve") && is(e, "proc.name", name) && is(e, "proc.ppid", pid)
        })
    };
    let image = exec_of(&mut h, "rs-from-image");
    assert!(is(&image, "proc.is_exe_upper_layer", false), "{image:#?}");
    let dropped = exec_of(&mut h, "rs-dropped");
    assert!(
        is(&dropped, "proc.is_exe_upper_layer", true),
        "{dropped:#?}"
    );
    assert!(is(&dropped, "proc.is_exe_from_memfd", false));
}

/// `flags` as the drivers record them for the clone family: the collector's tests may run in a
/// child pid namespace, where every clone also says CLONE_CHILD_IN_PIDNS.
fn clone_flags(names: &str) -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let levels = status
        .lines()
        .find_map(|l| l.strip_prefix("NSpid:"))
        .map_or(1, |l| l.split_whitespace().count());
    match (names, levels > 1) {
        (n, false) => n.to_string(),
        ("0", true) => "CLONE_CHILD_IN_PIDNS".into(),
        (n, true) => format!("{n}|CLONE_CHILD_IN_PIDNS"),
    }
}

/// The incubating and sandbox rules' directory, namespace, bpf and userfaultfd calls.
#[test]
fn directories_namespaces_bpf_and_userfaultfd() {
    let mut h = Harness::start();
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| c(dir.path().join(n).to_str().unwrap());
    let (d1, top, rel, uts) = (p("d1"), p(""), c("d3"), c("/proc/self/ns/uts"));
    let d2 = c("d2");
    let pid = in_child(|| unsafe {
        libc::mkdir(d1.as_ptr(), 0o755);
        let dfd = libc::open(top.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY);
        libc::mkdirat(dfd, d2.as_ptr(), 0o700);
        libc::chdir(top.as_ptr());
        libc::mkdir(rel.as_ptr(), 0o755);
        libc::rmdir(d1.as_ptr());
        let ns = libc::open(uts.as_ptr(), libc::O_RDONLY);
        libc::setns(ns, libc::CLONE_NEWUTS);
        libc::unshare(libc::CLONE_NEWUTS);
        // BPF_PROG_LOAD without attributes: refused, but the command is recorded.
        libc::syscall(libc::SYS_bpf, 5, std::ptr::null::<u8>(), 0);
        libc::syscall(libc::SYS_userfaultfd, libc::O_CLOEXEC);
    });
    h.wait_for("the userfaultfd", |e| {
        is(e, "proc.pid", pid) && is(e, "evt.type", "userfaultfd")
    });
    let ev = h.of_pid(pid);
    for e in &ev {
        for (k, v) in e {
            common::check_field(k, v);
        }
    }
    let path = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let mkdirs: Vec<(&str, &str, &str)> = ev
        .iter()
        .filter(|e| is(e, "evt.type", "mkdir"))
        .map(|e| {
            (
                s(e, "evt.arg.path"),
                s(e, "evt.arg.mode"),
                s(e, "fs.path.name"),
            )
        })
        .collect();
    // The relative path is shown resolved against the cwd, as libsinsp resolves it.
    assert_eq!(
        mkdirs,
        [
            (path("d1").as_str(), "1ED", path("d1").as_str()),
            (path("d3").as_str(), "1ED", path("d3").as_str())
        ]
    );
    let mkdirat = find(&ev, "mkdirat");
    let top_name = dir.path().to_str().unwrap();
    assert_eq!(
        (
            s(mkdirat, "evt.arg.dirfd"),
            s(mkdirat, "evt.arg.path"),
            s(mkdirat, "evt.arg.mode"),
        ),
        (
            format!("<d>{top_name}").as_str(),
            path("d2").as_str(),
            "1C0"
        )
    );
    let rmdir = find(&ev, "rmdir");
    assert_eq!(
        (s(rmdir, "evt.arg.path"), s(rmdir, "evt.res")),
        (path("d1").as_str(), "SUCCESS")
    );
    let setns = find(&ev, "setns");
    assert_eq!(
        (
            s(setns, "evt.arg.fd"),
            s(setns, "evt.arg.nstype"),
            s(setns, "fd.name"),
            s(setns, "evt.res")
        ),
        (
            "<f>/proc/self/ns/uts",
            "CLONE_NEWUTS",
            "/proc/self/ns/uts",
            "SUCCESS"
        )
    );
    let unshare = find(&ev, "unshare");
    assert_eq!(
        (s(unshare, "evt.arg.flags"), s(unshare, "evt.res")),
        ("CLONE_NEWUTS", "SUCCESS")
    );
    let bpf = find(&ev, "bpf");
    assert_eq!(s(bpf, "evt.arg.cmd"), "BPF_PROG_LOAD");
    assert!(is(bpf, "evt.failed", true));
    assert_eq!(s(bpf, "evt.arg.fd"), s(bpf, "evt.res"));
    let ufd = find(&ev, "userfaultfd");
    // O_CLOEXEC is no bit of libsinsp's open-flags table: the number stays.
    assert_eq!(s(ufd, "evt.arg.flags"), "524288");
    assert!(is(ufd, "evt.failed", false), "root may use userfaultfd");
}

/// A UDP exchange on loopback with each of the four calls; the sockets are never connected, so
/// every datagram names its peer.
#[test]
fn udp_sendto_recvfrom_sendmsg_recvmsg_carry_the_tuple() {
    let mut h = Harness::start();
    let pid = in_child(|| unsafe {
        let mut addr: libc::sockaddr_in = std::mem::zeroed();
        addr.sin_family = libc::AF_INET as u16;
        addr.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
        let len = std::mem::size_of::<libc::sockaddr_in>() as u32;
        let srv = libc::socket(libc::AF_INET, libc::SOCK_DGRAM, 0);
        libc::bind(srv, (&addr as *const libc::sockaddr_in).cast(), len);
        let mut l = len;
        libc::getsockname(srv, (&mut addr as *mut libc::sockaddr_in).cast(), &mut l);
        let cli = libc::socket(libc::AF_INET, libc::SOCK_DGRAM, 0);
        let ping = b"ping";
        libc::sendto(
            cli,
            ping.as_ptr().cast(),
            4,
            0,
            (&addr as *const libc::sockaddr_in).cast(),
            len,
        );
        let mut buf = [0u8; 16];
        let mut from: libc::sockaddr_in = std::mem::zeroed();
        let mut from_len = len;
        libc::recvfrom(
            srv,
            buf.as_mut_ptr().cast(),
            16,
            0,
            (&mut from as *mut libc::sockaddr_in).cast(),
            &mut from_len,
        );
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: 4,
        };
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_name = (&mut from as *mut libc::sockaddr_in).cast();
        msg.msg_namelen = len;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        libc::sendmsg(srv, &msg, 0);
        let mut back: libc::sockaddr_in = std::mem::zeroed();
        msg.msg_name = (&mut back as *mut libc::sockaddr_in).cast();
        libc::recvmsg(cli, &mut msg, 0);
    });
    h.wait_for("the recvmsg", |e| {
        is(e, "proc.pid", pid) && is(e, "evt.type", "recvmsg")
    });
    let ev = h.of_pid(pid);
    let sendto = find(&ev, "sendto");
    let (cport, sport) = (
        sendto["fd.cport"].as_i64().unwrap(),
        sendto["fd.sport"].as_i64().unwrap(),
    );
    let flow = format!("127.0.0.1:{cport}->127.0.0.1:{sport}");
    let back = format!("127.0.0.1:{sport}->127.0.0.1:{cport}");
    assert_eq!(
        (
            s(sendto, "fd.name"),
            s(sendto, "evt.arg.fd"),
            s(sendto, "evt.arg.tuple"),
            s(sendto, "evt.arg.size"),
            s(sendto, "fd.l4proto"),
        ),
        (
            flow.as_str(),
            format!("<4u>{flow}").as_str(),
            flow.as_str(),
            "4",
            "udp"
        )
    );
    assert!(is(sendto, "fd.name_changed", true) && is(sendto, "fd.connected", true));
    let bind = find(&ev, "bind");
    assert_eq!(bind["fd.lport"].as_i64(), Some(sport), "the server's port");
    let recvfrom = find(&ev, "recvfrom");
    assert_eq!(
        (
            s(recvfrom, "fd.name"),
            s(recvfrom, "evt.arg.tuple"),
            s(recvfrom, "evt.arg.size")
        ),
        (flow.as_str(), flow.as_str(), "16")
    );
    assert_eq!(
        (recvfrom["fd.cport"].as_i64(), recvfrom["fd.sport"].as_i64()),
        (Some(cport), Some(sport))
    );
    assert!(is(recvfrom, "fd.name_changed", true));
    let sendmsg = find(&ev, "sendmsg");
    assert_eq!(
        (
            s(sendmsg, "fd.name"),
            s(sendmsg, "evt.arg.tuple"),
            s(sendmsg, "evt.arg.size")
        ),
        (flow.as_str(), back.as_str(), "4")
    );
    assert!(is(sendmsg, "fd.name_changed", false));
    let recvmsg = find(&ev, "recvmsg");
    assert_eq!(
        (
            s(recvmsg, "fd.name"),
            s(recvmsg, "evt.arg.tuple"),
            s(recvmsg, "evt.arg.size")
        ),
        (flow.as_str(), back.as_str(), "4")
    );
    assert!(is(recvmsg, "fd.name_changed", false) && is(recvmsg, "fd.connected", true));
}

/// clone (with glibc fork()'s flags), the raw fork and vfork calls, clone3 into a new UTS namespace, and
/// each child's procexit: an exit code and a kill.
#[test]
fn clone_fork_vfork_clone3_and_procexit() {
    let mut h = Harness::start();
    let pid = in_child(|| unsafe {
        let wait = |child: libc::pid_t| {
            let mut status = 0;
            libc::waitpid(child, &mut status, 0);
        };
        // glibc's fork() as a raw clone: the library call would take malloc's locks, which
        // another test thread may have held when this child was forked.
        let mut tid: libc::pid_t = 0;
        let flags = libc::CLONE_CHILD_SETTID | libc::CLONE_CHILD_CLEARTID | libc::SIGCHLD;
        let child = libc::syscall(
            libc::SYS_clone,
            flags,
            0,
            0,
            &mut tid as *mut libc::pid_t,
            0,
        ) as libc::pid_t;
        if child == 0 {
            libc::_exit(3);
        }
        wait(child);
        let child = libc::syscall(libc::SYS_fork) as libc::pid_t;
        if child == 0 {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
        wait(child);
        // glibc's vfork keeps its return address in a register, so the child may return from
        // it; it only calls _exit, as vfork requires.
        #[allow(deprecated)]
        let child = libc::vfork();
        if child == 0 {
            libc::_exit(0);
        }
        wait(child);
        // struct clone_args, version 0: flags, pidfd, child_tid, parent_tid, exit_signal, …
        let mut args = [0u64; 8];
        args[0] = libc::CLONE_NEWUTS as u64;
        args[4] = libc::SIGCHLD as u64;
        let child = libc::syscall(libc::SYS_clone3, args.as_mut_ptr(), 64) as libc::pid_t;
        if child == 0 {
            libc::_exit(0);
        }
        wait(child);
    });
    h.wait_for("the clone3", |e| {
        is(e, "proc.pid", pid) && is(e, "evt.type", "clone3")
    });
    let ev = h.of_pid(pid);
    let parent_event = |ty: &str| {
        ev.iter()
            .find(|e| is(e, "evt.type", ty) && e["evt.rawres"].as_i64() > Some(0))
            .unwrap_or_else(|| panic!("no parent-side {ty} in {ev:#?}"))
            .clone()
    };
    let clone = parent_event("clone");
    assert_eq!(
        s(&clone, "evt.arg.flags"),
        clone_flags("CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID")
    );
    let fork = parent_event("fork");
    assert_eq!(s(&fork, "evt.arg.flags"), clone_flags("0"));
    let vfork = parent_event("vfork");
    assert_eq!(s(&vfork, "evt.arg.flags"), clone_flags("0"));
    let clone3 = parent_event("clone3");
    assert_eq!(s(&clone3, "evt.arg.flags"), clone_flags("CLONE_NEWUTS"));
    for e in [&clone, &fork, &vfork, &clone3] {
        assert_eq!(
            s(e, "evt.arg.pid"),
            s(e, "proc.name"),
            "a pid shows as its name"
        );
    }

    let child_of = |parent: &common::Event| parent["evt.rawres"].as_i64().unwrap() as u32;
    let (exited, killed) = (child_of(&clone), child_of(&fork));
    let child_clone = h
        .of_pid(exited)
        .into_iter()
        .find(|e| is(e, "evt.type", "clone"))
        .unwrap_or_else(|| panic!("no child-side clone of {exited}"));
    assert!(is(&child_clone, "evt.rawres", 0) && is(&child_clone, "proc.ppid", pid));
    let exit_of = |h: &mut Harness, child: u32| {
        h.wait_for("a procexit", |e| {
            is(e, "evt.type", "procexit") && is(e, "proc.pid", child)
        })
    };
    let exit = exit_of(&mut h, exited);
    assert_eq!(
        (
            s(&exit, "evt.dir"),
            s(&exit, "evt.arg.status"),
            s(&exit, "evt.arg.ret"),
            s(&exit, "evt.arg.sig"),
            s(&exit, "evt.arg.core")
        ),
        (">", "768", "3", "0", "0")
    );
    assert!(exit.get("evt.res").is_none(), "procexit is an enter event");
    let kill = exit_of(&mut h, killed);
    assert_eq!(
        (s(&kill, "evt.arg.status"), s(&kill, "evt.arg.sig")),
        ("9", "SIGKILL")
    );
}
