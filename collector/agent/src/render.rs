//! Falco's text renderings of syscall arguments: open flags, modes, errno names, ptrace requests,
//! socket addresses. Pure functions used by `convert`.

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

/// `evt.res`: `SUCCESS`, or the errno name of a failed call.
pub fn res(ret: i64) -> String {
    if ret >= 0 {
        return "SUCCESS".into();
    }
    let e = -ret;
    ERRNO
        .get(e as usize)
        .filter(|n| !n.is_empty())
        .copied()
        .or_else(|| NET_ERRNO.iter().find(|(n, _)| *n == e).map(|(_, s)| *s))
        .map(str::to_string)
        .unwrap_or_else(|| format!("E{e}"))
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
