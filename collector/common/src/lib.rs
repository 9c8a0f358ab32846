//! Records shared by the eBPF program and the collector agent (#[repr(C)], no_std).
//!
//! The kernel side is C (`collector/ebpf/records.h`, which describes the record format); this
//! crate is its Rust mirror. Every struct here lists its fields ([`Layout::FIELDS`]), and the
//! agent's `record_layout` test compares them, name by name, offset by offset and size by
//! size, with the same structs in the BTF of the compiled kernel object.

// Unsafe code only in the modules listed in ARCHITECTURE.md ("Unsafe code"), each block with
// a `// SAFETY:` comment; `xtask/tests/unsafe_policy.rs` keeps the list true.
#![deny(unsafe_code)]
#![warn(clippy::undocumented_unsafe_blocks)]
#![no_std]

/// Bound of one string (a path, argv, cgroup names), as Falco's drivers bound them.
pub const STR_MAX: usize = 4096;
/// Number of string slots a record may carry (e.g. `mount`: device, directory, fs type).
pub const STR_SLOTS: usize = 3;

/// What a record describes (`RecHeader::kind`).
#[repr(u16)]
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
    pub const ALL: [Kind; 4] = [Kind::Syscall, Kind::Fork, Kind::Exec, Kind::Exit];

    pub fn from_u16(v: u16) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| *k as u16 == v)
    }

    /// The C enumerator's name in `enum record_kind`.
    pub fn c_name(self) -> &'static str {
        match self {
            Kind::Syscall => "KIND_SYSCALL",
            Kind::Fork => "KIND_FORK",
            Kind::Exec => "KIND_EXEC",
            Kind::Exit => "KIND_EXIT",
        }
    }
}

/// `RecHeader::parts`: a [`Context`] follows the body.
pub const PART_CONTEXT: u16 = 1;
/// `RecHeader::parts`: a [`SockTuple`] follows the body (and the context, if any).
pub const PART_SOCK: u16 = 2;

/// One field of a shared struct, as the layout test compares it with the BTF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub offset: usize,
    pub size: usize,
}

/// A struct shared with the kernel program: its C name and its fields in declaration order.
pub trait Layout: Sized {
    const C_NAME: &'static str;
    const FIELDS: &'static [Field];
}

/// Declares a `#[repr(C)]` struct shared with `records.h`, and its [`Layout`].
macro_rules! shared {
    ($(#[$m:meta])* struct $name:ident = $c:literal {
        $($(#[$fm:meta])* $f:ident: $t:ty,)*
    }) => {
        $(#[$m])*
        #[repr(C)]
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct $name {
            $($(#[$fm])* pub $f: $t,)*
        }

        impl Layout for $name {
            const C_NAME: &'static str = $c;
            const FIELDS: &'static [Field] = &[$(Field {
                name: stringify!($f),
                offset: core::mem::offset_of!($name, $f),
                size: core::mem::size_of::<$t>(),
            }),*];
        }
    };
}

shared! {
    /// Every record starts with this header; the kind's body and the parts named in `parts`
    /// follow, then `str_len[0] + str_len[1] + str_len[2]` bytes of strings, packed.
    struct RecHeader = "rec_header" {
        /// `CLOCK_BOOTTIME` nanoseconds.
        ts: u64,
        tgid: u32,
        tid: u32,
        /// Bytes of the whole record, header included.
        size: u16,
        /// Syscall number (of the calling architecture), for syscall and exec records.
        nr: u16,
        kind: u16,
        /// `PART_*` bits.
        parts: u16,
        str_len: [u16; STR_SLOTS],
        reserved: u16,
    }
}

shared! {
    /// Body of a syscall record.
    struct SyscallBody = "syscall_body" {
        /// Syscall return value.
        ret: i64,
        /// Syscall arguments as captured at entry; for calls whose arguments live in user
        /// memory (e.g. `openat2`'s `struct open_how`), the program stores the dereferenced
        /// values here (documented per syscall in `collector.bpf.c`).
        args: [u64; 6],
        /// Open family, on success: the kernel's `f_mode` of the new file (`FMODE_CREATED`
        /// tells whether the call created it, which the flags alone cannot).
        f_mode: u32,
        /// Clone family: the task's pid namespace situation (`NS_*`).
        ns_flags: u32,
    }
}

shared! {
    /// Body of fork, exec and exit records.
    struct TaskBody = "task_body" {
        /// Exit records: the kernel's exit code (a wait status).
        ret: i64,
        /// Exec records: where the new image comes from (`EXE_*`).
        exe_flags: u32,
        reserved: u32,
    }
}

shared! {
    /// A thread's context as the kernel knows it, sent when it changes.
    struct Context = "context" {
        /// The thread's capability sets (bit N = capability N).
        cap_permitted: u64,
        cap_effective: u64,
        /// Effective ids.
        uid: u32,
        gid: u32,
        /// `u32::MAX` when unset or when the kernel has no audit support.
        loginuid: u32,
        /// The session id as the host's pid namespace sees it (0 if unreadable).
        sid: u32,
        /// The real parent's tgid (for fork records: the forking process).
        ppid: u32,
        reserved: u32,
        comm: [u8; 16],
    }
}

shared! {
    /// A socket's addresses as the kernel holds them: `local` is the socket's own end.
    struct SockTuple = "sock_tuple" {
        /// IPv4 addresses use the first 4 bytes, network order.
        local_addr: [u8; 16],
        remote_addr: [u8; 16],
        /// `AF_INET`, `AF_INET6`, `AF_UNIX`.
        family: u16,
        /// Host byte order.
        local_port: u16,
        remote_port: u16,
        /// `SOCK_STREAM`, `SOCK_DGRAM`, …
        sock_type: u16,
    }
}

/// Largest record the kernel emits.
pub const RECORD_MAX: usize = core::mem::size_of::<RecHeader>()
    + core::mem::size_of::<SyscallBody>()
    + core::mem::size_of::<Context>()
    + core::mem::size_of::<SockTuple>()
    + STR_SLOTS * STR_MAX;

/// `TaskBody::exe_flags`: the image is a memfd (fileless execution).
pub const EXE_FROM_MEMFD: u32 = 1;
/// `TaskBody::exe_flags`: the image is on an overlayfs upper layer (written after the
/// container started, not part of its image).
pub const EXE_UPPER_LAYER: u32 = 2;
/// `SyscallBody::ns_flags`: the task is in a child pid namespace, or its children will be
/// (Falco's `CLONE_CHILD_IN_PIDNS`).
pub const NS_CHILD_IN_PIDNS: u32 = 1;
