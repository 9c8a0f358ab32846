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
