//! Falco's text renderings of syscall arguments: open flags, modes, errno names, ptrace requests,
//! socket addresses. Pure functions used by `convert`.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

pub const O_ACCMODE: u64 = 0o3;
pub const O_WRONLY: u64 = 0o1;
pub const O_RDWR: u64 = 0o2;
pub const O_CREAT: u64 = 0o100;
pub const O_TRUNC: u64 = 0o1000;
pub const O_DIRECTORY: u64 = 0o200000;
pub const O_CLOEXEC: u64 = 0o2000000;
pub const O_TMPFILE: u64 = 0o20000000 | O_DIRECTORY;
/// The kernel's `f_mode` bit for a file the open call created.
pub const FMODE_CREATED: u32 = 0x100000;

/// Open flags as Falco's drivers record them (`PPM_O_*`): the access mode becomes bits of its
/// own, so `O_RDONLY` is not 0 and `O_RDWR` is `O_RDONLY|O_WRONLY`.
pub mod ppm {
    pub const O_RDONLY: u32 = 1 << 0;
    pub const O_WRONLY: u32 = 1 << 1;
    pub const O_RDWR: u32 = O_RDONLY | O_WRONLY;
    pub const O_CREAT: u32 = 1 << 2;
    pub const O_APPEND: u32 = 1 << 3;
    pub const O_DSYNC: u32 = 1 << 4;
    pub const O_EXCL: u32 = 1 << 5;
    pub const O_NONBLOCK: u32 = 1 << 6;
    pub const O_SYNC: u32 = 1 << 7;
    pub const O_TRUNC: u32 = 1 << 8;
    pub const O_DIRECT: u32 = 1 << 9;
    pub const O_DIRECTORY: u32 = 1 << 10;
    pub const O_LARGEFILE: u32 = 1 << 11;
    pub const O_CLOEXEC: u32 = 1 << 12;
    pub const O_TMPFILE: u32 = 1 << 13;
    /// Added at exit when the call created the file.
    pub const O_F_CREATED: u32 = 1 << 14;
}

/// Linux (x86_64) open flag → its `PPM_O_*` bit. The drivers test each with `flags & LINUX != 0`,
/// and `O_SYNC` and `O_TMPFILE` include `O_DSYNC` and `O_DIRECTORY`: so Falco reports `O_SYNC`
/// for every `O_DSYNC` open and `O_TMPFILE` for every `O_DIRECTORY` open. Kept, to agree with it.
const TO_PPM: &[(u64, u32)] = &[
    (O_CREAT, ppm::O_CREAT),
    (O_TMPFILE, ppm::O_TMPFILE),
    (0o2000, ppm::O_APPEND),
    (0o10000, ppm::O_DSYNC),
    (0o200, ppm::O_EXCL),
    (0o4000, ppm::O_NONBLOCK),
    (0o4010000, ppm::O_SYNC),
    (O_TRUNC, ppm::O_TRUNC),
    (0o40000, ppm::O_DIRECT),
    (O_DIRECTORY, ppm::O_DIRECTORY),
    (0o100000, ppm::O_LARGEFILE),
    (O_CLOEXEC, ppm::O_CLOEXEC),
];

/// What the drivers record for an open call's `flags` argument, plus `O_F_CREATED` from the
/// new file's `f_mode`.
pub fn ppm_open_flags(flags: u64, f_mode: u32) -> u32 {
    let mut out = match flags & O_ACCMODE {
        O_WRONLY => ppm::O_WRONLY,
        O_RDWR => ppm::O_RDWR,
        _ => ppm::O_RDONLY,
    };
    for (linux, bit) in TO_PPM {
        if flags & linux != 0 {
            out |= bit;
        }
    }
    if f_mode & FMODE_CREATED != 0 {
        out |= ppm::O_F_CREATED;
    }
    out
}

/// libs' `file_flags` name table, in its order, which is the order of the rendered names.
const FILE_FLAGS: &[(&str, u32)] = &[
    ("O_LARGEFILE", ppm::O_LARGEFILE),
    ("O_DIRECTORY", ppm::O_DIRECTORY),
    ("O_DIRECT", ppm::O_DIRECT),
    ("O_TRUNC", ppm::O_TRUNC),
    ("O_SYNC", ppm::O_SYNC),
    ("O_NONBLOCK", ppm::O_NONBLOCK),
    ("O_EXCL", ppm::O_EXCL),
    ("O_DSYNC", ppm::O_DSYNC),
    ("O_APPEND", ppm::O_APPEND),
    ("O_CREAT", ppm::O_CREAT),
    ("O_RDWR", ppm::O_RDWR),
    ("O_WRONLY", ppm::O_WRONLY),
    ("O_RDONLY", ppm::O_RDONLY),
    ("O_CLOEXEC", ppm::O_CLOEXEC),
    ("O_NONE", 0),
    ("O_TMPFILE", ppm::O_TMPFILE),
    ("O_F_CREATED", ppm::O_F_CREATED),
];

/// How a table's names apply to a value: bit flags consume their bits, enums must equal it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Names {
    Flags,
    Enum,
}

/// libsinsp's rendering of a flags or enum parameter, as `evt.arg` shows it: the names in table
/// order joined by `|`, or the number when none applies. Flags: each name whose bits are all
/// still set consumes them, and a name equal to the whole value ends the list. Enums: every
/// name equal to the value (some values have two).
fn flag_names(table: &[(&str, u32)], value: u32, how: Names) -> String {
    let mut left = value;
    let mut out: Vec<&str> = Vec::new();
    for &(name, bits) in table {
        let hit = match how {
            Names::Enum => bits == value,
            Names::Flags if bits == 0 => value == 0,
            Names::Flags => left != 0 && left & bits == bits,
        };
        if hit {
            out.push(name);
            if how == Names::Flags {
                left &= !bits;
                if bits == value {
                    break;
                }
            }
        }
    }
    if out.is_empty() {
        value.to_string()
    } else {
        out.join("|")
    }
}

/// `evt.arg.flags` of open-family calls, e.g. `O_TRUNC|O_CREAT|O_WRONLY`.
pub fn open_flags(ppm_flags: u32) -> String {
    flag_names(FILE_FLAGS, ppm_flags, Names::Flags)
}

/// libs' `mount_flags` table; the `PPM_MS_*` bits are the kernel's `MS_*` bits.
const MOUNT_FLAGS: &[(&str, u32)] = &[
    ("RDONLY", 1 << 0),
    ("NOSUID", 1 << 1),
    ("NODEV", 1 << 2),
    ("NOEXEC", 1 << 3),
    ("SYNCHRONOUS", 1 << 4),
    ("REMOUNT", 1 << 5),
    ("MANDLOCK", 1 << 6),
    ("DIRSYNC", 1 << 7),
    ("NOATIME", 1 << 10),
    ("NODIRATIME", 1 << 11),
    ("BIND", 1 << 12),
    ("MOVE", 1 << 13),
    ("REC", 1 << 14),
    ("SILENT", 1 << 15),
    ("POSIXACL", 1 << 16),
    ("UNBINDABLE", 1 << 17),
    ("PRIVATE", 1 << 18),
    ("SLAVE", 1 << 19),
    ("SHARED", 1 << 20),
    ("RELATIME", 1 << 21),
    ("KERNMOUNT", 1 << 22),
    ("I_VERSION", 1 << 23),
    ("STRICTATIME", 1 << 24),
    ("LAZYTIME", 1 << 25),
    ("NOSEC", 1 << 28),
    ("BORN", 1 << 29),
    ("ACTIVE", 1 << 30),
    ("NOUSER", 1 << 31),
];

/// `evt.arg.flags` of `mount`: the drivers drop the legacy magic number in the high half first.
pub fn mount_flags(flags: u64) -> String {
    const MS_MGC_MSK: u64 = 0xffff0000;
    const MS_MGC_VAL: u64 = 0xc0ed0000;
    let flags = if flags & MS_MGC_MSK == MS_MGC_VAL {
        flags & !MS_MGC_MSK
    } else {
        flags
    } as u32;
    flag_names(MOUNT_FLAGS, flags, Names::Flags)
}

/// `fd.nameraw`: the path as the open call was given it, with repeated separators collapsed
/// (libsinsp's only sanitisation).
pub fn name_raw(path: &str) -> String {
    let mut raw = String::with_capacity(path.len());
    for ch in path.chars() {
        if !(ch == '/' && raw.ends_with('/')) {
            raw.push(ch);
        }
    }
    raw
}

/// The mode argument of an open call as the drivers record it: only with `O_CREAT` or
/// `O_TMPFILE` (whose bits include `O_DIRECTORY`), else 0.
pub fn open_mode(flags: u64, mode: u64) -> u64 {
    if flags & (O_CREAT | O_TMPFILE) == 0 {
        0
    } else {
        mode
    }
}

/// libs' `socket_families` table, in its order (two names for 1 and for 16).
const SOCKET_FAMILIES: &[(&str, u32)] = &[
    ("AF_NFC", 39),
    ("AF_ALG", 38),
    ("AF_CAIF", 37),
    ("AF_IEEE802154", 36),
    ("AF_PHONET", 35),
    ("AF_ISDN", 34),
    ("AF_RXRPC", 33),
    ("AF_IUCV", 32),
    ("AF_BLUETOOTH", 31),
    ("AF_TIPC", 30),
    ("AF_CAN", 29),
    ("AF_LLC", 26),
    ("AF_WANPIPE", 25),
    ("AF_PPPOX", 24),
    ("AF_IRDA", 23),
    ("AF_SNA", 22),
    ("AF_RDS", 21),
    ("AF_ATMSVC", 20),
    ("AF_ECONET", 19),
    ("AF_ASH", 18),
    ("AF_PACKET", 17),
    ("AF_ROUTE", 16),
    ("AF_NETLINK", 16),
    ("AF_KEY", 15),
    ("AF_SECURITY", 14),
    ("AF_NETBEUI", 13),
    ("AF_DECnet", 12),
    ("AF_ROSE", 11),
    ("AF_INET6", 10),
    ("AF_X25", 9),
    ("AF_ATMPVC", 8),
    ("AF_BRIDGE", 7),
    ("AF_NETROM", 6),
    ("AF_APPLETALK", 5),
    ("AF_IPX", 4),
    ("AF_AX25", 3),
    ("AF_INET", 2),
    ("AF_LOCAL", 1),
    ("AF_UNIX", 1),
    ("AF_UNSPEC", 0),
];

/// `evt.arg.domain` of `socket`, an enum parameter (`AF_PACKET`, `AF_LOCAL|AF_UNIX`).
pub fn socket_family(domain: u64) -> String {
    // The drivers record the domain as 32 bits.
    flag_names(SOCKET_FAMILIES, domain as u32, Names::Enum)
}

/// Capability names by bit, as libsinsp names them.
const CAPABILITIES: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// `thread.cap_*`: the names of the set's capabilities in bit order, space-separated (bits
/// libsinsp has no name for are left out, as it does).
pub fn capabilities(set: u64) -> String {
    let mut out = String::new();
    for (bit, name) in CAPABILITIES.iter().enumerate() {
        if set & (1 << bit) != 0 {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(name);
        }
    }
    out
}

/// Modes as Falco prints them: octal with a leading zero.
pub fn mode(mode: u64) -> String {
    match mode & 0o7777 {
        0 => "0".into(),
        m => format!("0{m:o}"),
    }
}

const ERRNO: &[&str] = &[
    "",
    "EPERM",
    "ENOENT",
    "ESRCH",
    "EINTR",
    "EIO",
    "ENXIO",
    "E2BIG",
    "ENOEXEC",
    "EBADF",
    "ECHILD",
    "EAGAIN",
    "ENOMEM",
    "EACCES",
    "EFAULT",
    "ENOTBLK",
    "EBUSY",
    "EEXIST",
    "EXDEV",
    "ENODEV",
    "ENOTDIR",
    "EISDIR",
    "EINVAL",
    "ENFILE",
    "EMFILE",
    "ENOTTY",
    "ETXTBSY",
    "EFBIG",
    "ENOSPC",
    "ESPIPE",
    "EROFS",
    "EMLINK",
    "EPIPE",
    "EDOM",
    "ERANGE",
    "EDEADLK",
    "ENAMETOOLONG",
    "ENOLCK",
    "ENOSYS",
    "ENOTEMPTY",
    "ELOOP",
];

const NET_ERRNO: &[(i64, &str)] = &[
    (88, "ENOTSOCK"),
    (95, "EOPNOTSUPP"),
    (97, "EAFNOSUPPORT"),
    (98, "EADDRINUSE"),
    (99, "EADDRNOTAVAIL"),
    (101, "ENETUNREACH"),
    (104, "ECONNRESET"),
    (106, "EISCONN"),
    (110, "ETIMEDOUT"),
    (111, "ECONNREFUSED"),
    (113, "EHOSTUNREACH"),
    (114, "EALREADY"),
    (115, "EINPROGRESS"),
];

/// The name of errno `e` (positive), if this table knows it.
fn errno_name(e: i64) -> Option<&'static str> {
    usize::try_from(e)
        .ok()
        .and_then(|i| ERRNO.get(i))
        .filter(|n| !n.is_empty())
        .copied()
        .or_else(|| NET_ERRNO.iter().find(|(n, _)| *n == e).map(|(_, s)| *s))
}

/// `evt.res`: `SUCCESS`, or the errno name of a failed call.
pub fn res(ret: i64) -> Cow<'static, str> {
    if ret >= 0 {
        return Cow::Borrowed("SUCCESS");
    }
    errno_name(-ret).map_or_else(|| Cow::Owned(format!("E{}", -ret)), Cow::Borrowed)
}

/// `AT_FDCWD` as the `*at` calls take it.
const AT_FDCWD: i64 = -100;

/// An fd parameter as `evt.arg` shows it (libsinsp's `render_fd`): `<TYPE>NAME` for an fd the
/// table knows (TYPE is `fd.typechar`, then `t`/`u` for TCP/UDP sockets), `AT_FDCWD`, the errno
/// name of a negative value, else the number. `known` is the fd's `(typechar, l4 char, name)`.
pub fn fd_arg(fd: i64, known: Option<(&str, &str, &str)>) -> String {
    match known {
        Some((ty, l4, name)) if fd >= 0 => format!("<{ty}{l4}>{name}"),
        _ if fd == AT_FDCWD => "AT_FDCWD".into(),
        _ if fd < 0 => errno_name(-fd).map_or_else(|| fd.to_string(), str::to_string),
        _ => fd.to_string(),
    }
}

/// libs' `clone_flags` table, in its order (`PPM_CL_*` bits).
const CLONE_FLAGS: &[(&str, u32)] = &[
    ("CLONE_FILES", 1 << 0),
    ("CLONE_FS", 1 << 1),
    ("CLONE_IO", 1 << 2),
    ("CLONE_NEWIPC", 1 << 3),
    ("CLONE_NEWNET", 1 << 4),
    ("CLONE_NEWNS", 1 << 5),
    ("CLONE_NEWPID", 1 << 6),
    ("CLONE_NEWUTS", 1 << 7),
    ("CLONE_PARENT", 1 << 8),
    ("CLONE_PARENT_SETTID", 1 << 9),
    ("CLONE_PTRACE", 1 << 10),
    ("CLONE_SIGHAND", 1 << 11),
    ("CLONE_SYSVSEM", 1 << 12),
    ("CLONE_THREAD", 1 << 13),
    ("CLONE_UNTRACED", 1 << 14),
    ("CLONE_VM", 1 << 15),
    ("CLONE_INVERTED", 1 << 16),
    ("NAME_CHANGED", 1 << 17),
    ("CLOSED", 1 << 18),
    ("CLONE_NEWUSER", 1 << 20),
    ("CLONE_CHILD_CLEARTID", 1 << 23),
    ("CLONE_CHILD_SETTID", 1 << 24),
    ("CLONE_SETTLS", 1 << 25),
    ("CLONE_STOPPED", 1 << 26),
    ("CLONE_VFORK", 1 << 27),
    ("CLONE_NEWCGROUP", 1 << 28),
    ("CLONE_CHILD_IN_PIDNS", PPM_CL_CHILD_IN_PIDNS),
];

/// `PPM_CL_CHILD_IN_PIDNS`: the drivers add it from the task's pid namespace, not the flags.
pub const PPM_CL_CHILD_IN_PIDNS: u32 = 1 << 29;

/// Linux `CLONE_*` bit → its `PPM_CL_*` bit, as the drivers' `clone_flags_to_scap` maps them
/// (the low byte, the exit signal, is dropped).
const CLONE_TO_PPM: &[(u64, u32)] = &[
    (0x400, 1 << 0),       // CLONE_FILES
    (0x200, 1 << 1),       // CLONE_FS
    (0x80000000, 1 << 2),  // CLONE_IO
    (0x08000000, 1 << 3),  // CLONE_NEWIPC
    (0x40000000, 1 << 4),  // CLONE_NEWNET
    (0x00020000, 1 << 5),  // CLONE_NEWNS
    (0x20000000, 1 << 6),  // CLONE_NEWPID
    (0x04000000, 1 << 7),  // CLONE_NEWUTS
    (0x00100000, 1 << 9),  // CLONE_PARENT_SETTID
    (0x00008000, 1 << 8),  // CLONE_PARENT
    (0x00002000, 1 << 10), // CLONE_PTRACE
    (0x00000800, 1 << 11), // CLONE_SIGHAND
    (0x00040000, 1 << 12), // CLONE_SYSVSEM
    (0x00010000, 1 << 13), // CLONE_THREAD
    (0x00800000, 1 << 14), // CLONE_UNTRACED
    (0x00000100, 1 << 15), // CLONE_VM
    (0x10000000, 1 << 20), // CLONE_NEWUSER
    (0x00200000, 1 << 23), // CLONE_CHILD_CLEARTID
    (0x01000000, 1 << 24), // CLONE_CHILD_SETTID
    (0x00080000, 1 << 25), // CLONE_SETTLS
    (0x00004000, 1 << 27), // CLONE_VFORK
    (0x02000000, 1 << 28), // CLONE_NEWCGROUP
];

/// The `PPM_CL_*` bits the drivers record for Linux clone/unshare/setns flags.
pub fn ppm_clone_flags(flags: u64) -> u32 {
    // The drivers convert an `int`: bits above 31 (clone3-only) are not seen.
    let flags = flags & 0xffff_ffff;
    CLONE_TO_PPM
        .iter()
        .filter(|(linux, _)| flags & linux != 0)
        .fold(0, |acc, (_, ppm)| acc | ppm)
}

/// `evt.arg.flags` of the clone family and `unshare`, `evt.arg.nstype` of `setns`.
pub fn clone_flags(ppm_flags: u32) -> String {
    flag_names(CLONE_FLAGS, ppm_flags, Names::Flags)
}

/// libs' `bpf_commands` table (an enum: `BPF_PROG_RUN` is `BPF_PROG_TEST_RUN`'s other name).
const BPF_COMMANDS: &[&str] = &[
    "BPF_MAP_CREATE",
    "BPF_MAP_LOOKUP_ELEM",
    "BPF_MAP_UPDATE_ELEM",
    "BPF_MAP_DELETE_ELEM",
    "BPF_MAP_GET_NEXT_KEY",
    "BPF_PROG_LOAD",
    "BPF_OBJ_PIN",
    "BPF_OBJ_GET",
    "BPF_PROG_ATTACH",
    "BPF_PROG_DETACH",
    "BPF_PROG_TEST_RUN|BPF_PROG_RUN",
    "BPF_PROG_GET_NEXT_ID",
    "BPF_MAP_GET_NEXT_ID",
    "BPF_PROG_GET_FD_BY_ID",
    "BPF_MAP_GET_FD_BY_ID",
    "BPF_OBJ_GET_INFO_BY_FD",
    "BPF_PROG_QUERY",
    "BPF_RAW_TRACEPOINT_OPEN",
    "BPF_BTF_LOAD",
    "BPF_BTF_GET_FD_BY_ID",
    "BPF_TASK_FD_QUERY",
    "BPF_MAP_LOOKUP_AND_DELETE_ELEM",
    "BPF_MAP_FREEZE",
    "BPF_BTF_GET_NEXT_ID",
    "BPF_MAP_LOOKUP_BATCH",
    "BPF_MAP_LOOKUP_AND_DELETE_BATCH",
    "BPF_MAP_UPDATE_BATCH",
    "BPF_MAP_DELETE_BATCH",
    "BPF_LINK_CREATE",
    "BPF_LINK_UPDATE",
    "BPF_LINK_GET_FD_BY_ID",
    "BPF_LINK_GET_NEXT_ID",
    "BPF_ENABLE_STATS",
    "BPF_ITER_CREATE",
    "BPF_LINK_DETACH",
    "BPF_PROG_BIND_MAP",
];

/// `evt.arg.cmd` of `bpf` (the drivers keep the kernel's command numbers).
pub fn bpf_command(cmd: u64) -> String {
    let cmd = cmd as u32;
    BPF_COMMANDS
        .get(cmd as usize)
        .map_or_else(|| cmd.to_string(), |n| n.to_string())
}

/// Signal names by number (libsinsp's `signal_to_str`, x86_64 numbering from 1).
const SIGNALS: &[&str] = &[
    "SIGHUP",
    "SIGINT",
    "SIGQUIT",
    "SIGILL",
    "SIGTRAP",
    "SIGABRT",
    "SIGBUS",
    "SIGFPE",
    "SIGKILL",
    "SIGUSR1",
    "SIGSEGV",
    "SIGUSR2",
    "SIGPIPE",
    "SIGALRM",
    "SIGTERM",
    "SIGSTKFLT",
    "SIGCHLD",
    "SIGCONT",
    "SIGSTOP",
    "SIGTSTP",
    "SIGTTIN",
    "SIGTTOU",
    "SIGURG",
    "SIGXCPU",
    "SIGXFSZ",
    "SIGVTALRM",
    "SIGPROF",
    "SIGWINCH",
    "SIGIO",
    "SIGPWR",
    "SIGSYS",
];

/// A signal parameter (`evt.arg.sig`): its name, or the number when it has none (0).
pub fn signal(sig: u8) -> String {
    (sig as usize)
        .checked_sub(1)
        .and_then(|i| SIGNALS.get(i))
        .map_or_else(|| sig.to_string(), |n| n.to_string())
}

pub fn ptrace_request(req: u64) -> String {
    match req {
        0 => "PTRACE_TRACEME".into(),
        1 => "PTRACE_PEEKTEXT".into(),
        2 => "PTRACE_PEEKDATA".into(),
        3 => "PTRACE_PEEKUSR".into(),
        4 => "PTRACE_POKETEXT".into(),
        5 => "PTRACE_POKEDATA".into(),
        6 => "PTRACE_POKEUSR".into(),
        7 => "PTRACE_CONT".into(),
        8 => "PTRACE_KILL".into(),
        9 => "PTRACE_SINGLESTEP".into(),
        12 => "PTRACE_GETREGS".into(),
        13 => "PTRACE_SETREGS".into(),
        16 => "PTRACE_ATTACH".into(),
        17 => "PTRACE_DETACH".into(),
        24 => "PTRACE_SYSCALL".into(),
        0x4200 => "PTRACE_SETOPTIONS".into(),
        0x4206 => "PTRACE_SEIZE".into(),
        0x4207 => "PTRACE_INTERRUPT".into(),
        other => other.to_string(),
    }
}

pub const AF_UNIX: u16 = 1;
pub const AF_INET: u16 = 2;
pub const AF_INET6: u16 = 10;

/// A `struct sockaddr` as user space passed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SockAddr {
    Ip(SocketAddr),
    Unix(String),
}

pub fn sockaddr(bytes: &[u8]) -> Option<SockAddr> {
    let family = u16::from_ne_bytes(bytes.get(0..2)?.try_into().ok()?);
    let port = || u16::from_be_bytes([bytes[2], bytes[3]]);
    match family {
        AF_INET if bytes.len() >= 8 => {
            let ip = Ipv4Addr::new(bytes[4], bytes[5], bytes[6], bytes[7]);
            Some(SockAddr::Ip(SocketAddr::new(IpAddr::V4(ip), port())))
        }
        AF_INET6 if bytes.len() >= 24 => {
            let octets: [u8; 16] = bytes[8..24].try_into().ok()?;
            Some(SockAddr::Ip(SocketAddr::new(
                IpAddr::V6(Ipv6Addr::from(octets)),
                port(),
            )))
        }
        AF_UNIX => {
            let path = &bytes[2..];
            // Abstract sockets start with NUL; Falco shows them with a leading '@'.
            let (prefix, path) = match path.first() {
                Some(0) => ("@", &path[1..]),
                _ => ("", path),
            };
            let end = path.iter().position(|b| *b == 0).unwrap_or(path.len());
            Some(SockAddr::Unix(format!(
                "{prefix}{}",
                String::from_utf8_lossy(&path[..end])
            )))
        }
        _ => None,
    }
}

pub fn ip(family: u16, bytes: &[u8; 16]) -> Option<IpAddr> {
    match family {
        AF_INET => Some(IpAddr::V4(Ipv4Addr::new(
            bytes[0], bytes[1], bytes[2], bytes[3],
        ))),
        AF_INET6 => Some(IpAddr::V6(Ipv6Addr::from(*bytes))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_flags_render_like_falco() {
        let render = |linux: u64, f_mode: u32| open_flags(ppm_open_flags(linux, f_mode));
        // `echo x > f` creating f; the same on an existing file.
        assert_eq!(
            render(0o1101, FMODE_CREATED),
            "O_TRUNC|O_CREAT|O_WRONLY|O_F_CREATED"
        );
        assert_eq!(render(0o1101, 0), "O_TRUNC|O_CREAT|O_WRONLY");
        assert_eq!(render(0o2000000, 0), "O_RDONLY|O_CLOEXEC");
        assert_eq!(render(0, 0), "O_RDONLY");
        assert_eq!(render(0o2 | 0o4010000, 0), "O_SYNC|O_DSYNC|O_RDWR");
        // libs' O_TMPFILE test also matches O_DIRECTORY opens.
        assert_eq!(
            render(0o2204000, 0),
            "O_DIRECTORY|O_NONBLOCK|O_RDONLY|O_CLOEXEC|O_TMPFILE"
        );
        assert_eq!(open_flags(0), "O_NONE");
    }

    #[test]
    fn mount_flags_render_like_falco() {
        assert_eq!(mount_flags(0), "0");
        assert_eq!(mount_flags(libc::MS_BIND | libc::MS_REC), "BIND|REC");
        assert_eq!(mount_flags(0xc0ed0000 | libc::MS_RDONLY), "RDONLY");
        assert_eq!(mount_flags(libc::MS_REC | libc::MS_PRIVATE), "REC|PRIVATE");
    }

    #[test]
    fn socket_families() {
        assert_eq!(socket_family(17), "AF_PACKET");
        assert_eq!(socket_family(1), "AF_LOCAL|AF_UNIX");
        assert_eq!(socket_family(16), "AF_ROUTE|AF_NETLINK");
        assert_eq!(socket_family(2), "AF_INET");
        assert_eq!(socket_family(99), "99");
    }

    #[test]
    fn capability_sets() {
        assert_eq!(capabilities(0), "");
        assert_eq!(
            capabilities(1 << 21 | 1 << 1),
            "CAP_DAC_OVERRIDE CAP_SYS_ADMIN"
        );
        assert_eq!(capabilities(u64::MAX).split(' ').count(), 41);
    }

    #[test]
    fn fd_arguments_render_like_render_fd() {
        assert_eq!(fd_arg(3, Some(("f", "", "/etc/passwd"))), "<f>/etc/passwd");
        assert_eq!(
            fd_arg(4, Some(("4", "u", "127.0.0.1:5->127.0.0.1:6"))),
            "<4u>127.0.0.1:5->127.0.0.1:6"
        );
        assert_eq!(fd_arg(-100, None), "AT_FDCWD");
        assert_eq!(fd_arg(-9, None), "EBADF");
        assert_eq!(fd_arg(-300, None), "-300");
        assert_eq!(fd_arg(7, None), "7");
    }

    #[test]
    fn clone_flags_render_like_falco() {
        // glibc's fork(): CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD.
        assert_eq!(
            clone_flags(ppm_clone_flags(0x01200011)),
            "CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID"
        );
        assert_eq!(
            clone_flags(ppm_clone_flags(libc::CLONE_NEWUTS as u64)),
            "CLONE_NEWUTS"
        );
        assert_eq!(
            clone_flags(ppm_clone_flags(0x4111) | PPM_CL_CHILD_IN_PIDNS),
            "CLONE_VM|CLONE_VFORK|CLONE_CHILD_IN_PIDNS"
        );
        assert_eq!(clone_flags(ppm_clone_flags(17)), "0");
    }

    #[test]
    fn bpf_commands_and_signals() {
        assert_eq!(bpf_command(5), "BPF_PROG_LOAD");
        assert_eq!(bpf_command(10), "BPF_PROG_TEST_RUN|BPF_PROG_RUN");
        assert_eq!(bpf_command(99), "99");
        assert_eq!(signal(9), "SIGKILL");
        assert_eq!(signal(31), "SIGSYS");
        assert_eq!(signal(0), "0");
        assert_eq!(signal(64), "64");
    }

    #[test]
    fn results_and_modes() {
        assert_eq!(res(3), "SUCCESS");
        assert_eq!(res(-2), "ENOENT");
        assert_eq!(res(-111), "ECONNREFUSED");
        assert_eq!(res(-200), "E200");
        assert_eq!(mode(0o100644), "0644");
    }

    #[test]
    fn sockaddrs() {
        let v4 = [2, 0, 0x1f, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            sockaddr(&v4),
            Some(SockAddr::Ip("127.0.0.1:8080".parse().unwrap()))
        );
        let mut un = vec![1, 0];
        un.extend_from_slice(b"/run/x.sock\0");
        assert_eq!(sockaddr(&un), Some(SockAddr::Unix("/run/x.sock".into())));
        assert_eq!(
            sockaddr(&[1, 0, 0, b'a', b'b']),
            Some(SockAddr::Unix("@ab".into()))
        );
        assert_eq!(sockaddr(&[9]), None);
    }
}
