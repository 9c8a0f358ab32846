//! A thread's context (ids, capability sets) reaches user space only when it changes, so every
//! event must still carry the context its thread had at that moment: after a change made by a
//! call the collector does not capture (capset), and after one it does (setresgid/setresuid).

mod common;

use common::{Harness, is, s};
use std::ffi::CString;

/// `struct __user_cap_header_struct` and `__user_cap_data_struct` (version 3: two of them).
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}
#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}
const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
const CAP_SYS_ADMIN: u32 = 21;
const NOBODY: libc::uid_t = 65534;

#[test]
fn events_carry_the_context_after_captured_and_uncaptured_changes() {
    let mut h = Harness::start();
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| CString::new(dir.path().join(n).to_str().unwrap()).unwrap();
    let (before, after_capset, after_setuid) = (p("before"), p("after-capset"), p("after-setuid"));
    // SAFETY: the child only makes raw syscalls through libc (no allocation: other test
    // threads may hold the allocator's lock at fork time) and leaves with _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        unsafe {
            libc::close(libc::open(before.as_ptr(), libc::O_RDONLY));
            // Drop CAP_SYS_ADMIN from the effective set: capset is not a captured call.
            let mut hdr = CapHeader {
                version: LINUX_CAPABILITY_VERSION_3,
                pid: 0,
            };
            let mut data = [CapData {
                effective: 0,
                permitted: 0,
                inheritable: 0,
            }; 2];
            libc::syscall(libc::SYS_capget, &mut hdr, data.as_mut_ptr());
            data[0].effective &= !(1 << CAP_SYS_ADMIN);
            libc::syscall(libc::SYS_capset, &mut hdr, data.as_ptr());
            libc::close(libc::open(after_capset.as_ptr(), libc::O_RDONLY));
            // Become nobody: the kernel clears the capability sets.
            libc::setresgid(NOBODY, NOBODY, NOBODY);
            libc::setresuid(NOBODY, NOBODY, NOBODY);
            libc::close(libc::open(after_setuid.as_ptr(), libc::O_RDONLY));
            libc::_exit(0);
        }
    }
    let mut status = 0;
    // SAFETY: waits for the child forked above.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    let open_of = |h: &mut Harness, name: &str| {
        let path = dir.path().join(name).to_str().unwrap().to_string();
        h.wait_for(name, |e| {
            is(e, "proc.pid", pid)
                && is(e, "evt.type", "openat")
                && is(e, "evt.arg.name", path.as_str())
        })
    };
    let e = open_of(&mut h, "before");
    assert_eq!(e["user.uid"], 0, "{e:#?}");
    assert!(
        s(&e, "thread.cap_effective").contains("CAP_SYS_ADMIN"),
        "{e:#?}"
    );
    let e = open_of(&mut h, "after-capset");
    assert_eq!(e["user.uid"], 0, "{e:#?}");
    assert!(
        !s(&e, "thread.cap_effective").contains("CAP_SYS_ADMIN"),
        "{e:#?}"
    );
    assert!(
        s(&e, "thread.cap_permitted").contains("CAP_SYS_ADMIN"),
        "{e:#?}"
    );
    let e = open_of(&mut h, "after-setuid");
    assert_eq!(
        (&e["user.uid"], &e["group.gid"]),
        (&NOBODY.into(), &NOBODY.into()),
        "{e:#?}"
    );
    assert_eq!(s(&e, "thread.cap_effective"), "", "{e:#?}");
    assert_eq!(s(&e, "thread.cap_permitted"), "", "{e:#?}");
}
