//! Records shared by the eBPF program and the collector agent (#[repr(C)], no_std).
//!
//! The kernel side is C (`collector/ebpf/records.h`); this crate is its Rust mirror. Both sides
//! pin the layout: the C file with `_Static_assert`s, this crate with the `layout` test. Change
//! them together.

// Unsafe code only in the modules listed in ARCHITECTURE.md ("Unsafe code"), each block with
// a `// SAFETY:` comment; `xtask/tests/unsafe_policy.rs` keeps the list true.
#![deny(unsafe_code)]
#![warn(clippy::undocumented_unsafe_blocks)]
#![no_std]

/// Bytes reserved for one variable-length string slot after the header.
pub const STR_MAX: usize = 4096;
/// Number of string slots a record may carry (e.g. `mount`: device, directory, fs type).
pub const STR_SLOTS: usize = 3;
/// Largest record the kernel emits.
pub const RECORD_MAX: usize = core::mem::size_of::<RawHeader>() + STR_SLOTS * STR_MAX;

/// What a record describes.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A syscall exit, with the arguments captured at entry.
    Syscall = 1,
    /// `sched_process_fork` of a new process (threads are not reported).
    Fork = 2,
    /// `sched_process_exec`: a successful execve/execveat; slot 0 = filename, slot 1 = argv.
    Exec = 3,
    /// `sched_process_exit` of a thread (Falco's `procexit`); `ret` is the kernel's exit code,
    /// a wait status.
    Exit = 4,
}

impl Kind {
    pub fn from_u32(v: u32) -> Option<Kind> {
        match v {
            1 => Some(Kind::Syscall),
            2 => Some(Kind::Fork),
            3 => Some(Kind::Exec),
            4 => Some(Kind::Exit),
            _ => None,
        }
    }
}

/// A socket's addresses as the kernel holds them: `local` is the socket's own end.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SockTuple {
    /// IPv4 addresses use the first 4 bytes, network order.
    pub local_addr: [u8; 16],
    pub remote_addr: [u8; 16],
    /// `AF_INET`, `AF_INET6`, `AF_UNIX`; 0 when the fd is not a socket.
    pub family: u16,
    /// Host byte order.
    pub local_port: u16,
    pub remote_port: u16,
    /// `SOCK_STREAM`, `SOCK_DGRAM`, …
    pub sock_type: u16,
}

/// Fixed part of every record; `str_len[i]` bytes of slot `i` follow at `i * STR_MAX` after it
/// (slots after the last non-empty one are not transmitted).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RawHeader {
    /// `CLOCK_BOOTTIME` nanoseconds.
    pub ts: u64,
    /// Syscall return value (the exit code, a wait status, for `Exit`).
    pub ret: i64,
    /// Syscall arguments as captured at entry; for `Syscall` records whose arguments live in
    /// user memory (e.g. `openat2`'s `struct open_how`), the program stores the dereferenced
    /// values here (documented per syscall in `collector.bpf.c`).
    pub args: [u64; 6],
    pub kind: u32,
    /// Syscall number (of the calling architecture).
    pub nr: u32,
    pub tgid: u32,
    pub tid: u32,
    pub ppid: u32,
    pub uid: u32,
    pub gid: u32,
    /// `u32::MAX` when unset or when the kernel has no audit support.
    pub loginuid: u32,
    pub str_len: [u32; STR_SLOTS],
    /// Total bytes of the record, header included.
    pub size: u32,
    pub sock: SockTuple,
    pub comm: [u8; 16],
    /// The calling thread's capability sets (bit N = capability N).
    pub cap_permitted: u64,
    pub cap_effective: u64,
    /// Open family, on success: the kernel's `f_mode` of the new file (`FMODE_CREATED` tells
    /// whether the call created it, which the flags alone cannot).
    pub f_mode: u32,
    /// The session id as the host's pid namespace sees it (0 if unreadable).
    pub sid: u32,
    /// Exec records: where the new image comes from (`EXE_*`).
    pub exe_flags: u32,
    /// Clone-family records: the task's pid namespace situation (`NS_*`).
    pub ns_flags: u32,
}

/// `RawHeader::exe_flags`: the image is a memfd (fileless execution).
pub const EXE_FROM_MEMFD: u32 = 1;
/// `RawHeader::exe_flags`: the image is on an overlayfs upper layer (written after the
/// container started, not part of its image).
pub const EXE_UPPER_LAYER: u32 = 2;
/// `RawHeader::ns_flags`: the task is in a child pid namespace, or its children will be
/// (Falco's `CLONE_CHILD_IN_PIDNS`).
pub const NS_CHILD_IN_PIDNS: u32 = 1;

#[cfg(feature = "user")]
#[allow(unsafe_code)]
// SAFETY: plain-old-data, `#[repr(C)]`, every bit pattern valid, no padding (pinned by `layout`).
unsafe impl aya::Pod for RawHeader {}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};

    /// Mirrors the `_Static_assert`s in `collector/ebpf/records.h`.
    #[test]
    fn layout() {
        assert_eq!(size_of::<SockTuple>(), 40);
        assert_eq!(size_of::<RawHeader>(), 200);
        assert_eq!(offset_of!(RawHeader, ret), 8);
        assert_eq!(offset_of!(RawHeader, args), 16);
        assert_eq!(offset_of!(RawHeader, kind), 64);
        assert_eq!(offset_of!(RawHeader, nr), 68);
        assert_eq!(offset_of!(RawHeader, tgid), 72);
        assert_eq!(offset_of!(RawHeader, loginuid), 92);
        assert_eq!(offset_of!(RawHeader, str_len), 96);
        assert_eq!(offset_of!(RawHeader, size), 108);
        assert_eq!(offset_of!(RawHeader, sock), 112);
        assert_eq!(offset_of!(RawHeader, comm), 152);
        assert_eq!(offset_of!(RawHeader, cap_effective), 176);
        assert_eq!(offset_of!(RawHeader, f_mode), 184);
        assert_eq!(offset_of!(RawHeader, sid), 188);
        assert_eq!(offset_of!(RawHeader, exe_flags), 192);
        assert_eq!(offset_of!(RawHeader, ns_flags), 196);
        assert_eq!(offset_of!(SockTuple, family), 32);
        assert_eq!(offset_of!(SockTuple, sock_type), 38);
    }
}
