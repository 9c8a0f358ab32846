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

/// x86_64 open flag bits after the access mode, in bit order.
const OPEN_FLAGS: &[(u64, &str)] = &[
    (O_CREAT, "O_CREAT"),
    (0o200, "O_EXCL"),
    (0o400, "O_NOCTTY"),
    (O_TRUNC, "O_TRUNC"),
    (0o2000, "O_APPEND"),
    (0o4000, "O_NONBLOCK"),
    (0o10000, "O_DSYNC"),
    (0o40000, "O_DIRECT"),
    (0o100000, "O_LARGEFILE"),
    (O_DIRECTORY, "O_DIRECTORY"),
    (0o400000, "O_NOFOLLOW"),
    (0o1000000, "O_NOATIME"),
    (O_CLOEXEC, "O_CLOEXEC"),
    (0o4010000, "O_SYNC"),
    (0o10000000, "O_PATH"),
    (O_TMPFILE, "O_TMPFILE"),
];

/// `evt.arg.flags` of open-family calls, e.g. `O_WRONLY|O_CREAT|O_TRUNC`.
pub fn open_flags(flags: u64) -> String {
    let mut out = vec![match flags & O_ACCMODE {
        0 => "O_RDONLY",
        O_WRONLY => "O_WRONLY",
        _ => "O_RDWR",
    }];
    for (bit, name) in OPEN_FLAGS {
        // O_SYNC and O_TMPFILE include other bits (O_DSYNC, O_DIRECTORY): all must be set.
        if flags & bit == *bit {
            out.push(name);
        }
    }
    out.join("|")
}

/// Modes as Falco prints them: octal with a leading zero.
pub fn mode(mode: u64) -> String {
    match mode & 0o7777 {
        0 => "0".into(),
        m => format!("0{m:o}"),
    }
}

const ERRNO: &[&str] = &[
    "", "EPERM", "ENOENT", "ESRCH", "EINTR", "EIO", "ENXIO", "E2BIG", "ENOEXEC", "EBADF", "ECHILD",
    "EAGAIN", "ENOMEM", "EACCES", "EFAULT", "ENOTBLK", "EBUSY", "EEXIST", "EXDEV", "ENODEV",
    "ENOTDIR", "EISDIR", "EINVAL", "ENFILE", "EMFILE", "ENOTTY", "ETXTBSY", "EFBIG", "ENOSPC",
    "ESPIPE", "EROFS", "EMLINK", "EPIPE", "EDOM", "ERANGE", "EDEADLK", "ENAMETOOLONG", "ENOLCK",
    "ENOSYS", "ENOTEMPTY", "ELOOP",
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
            Some(SockAddr::Ip(SocketAddr::new(IpAddr::V6(Ipv6Addr::from(octets)), port())))
        }
        AF_UNIX => {
            let path = &bytes[2..];
            // Abstract sockets start with NUL; Falco shows them with a leading '@'.
            let (prefix, path) = match path.first() {
                Some(0) => ("@", &path[1..]),
                _ => ("", path),
            };
            let end = path.iter().position(|b| *b == 0).unwrap_or(path.len());
            Some(SockAddr::Unix(format!("{prefix}{}", String::from_utf8_lossy(&path[..end]))))
        }
        _ => None,
    }
}

pub fn ip(family: u16, bytes: &[u8; 16]) -> Option<IpAddr> {
    match family {
        AF_INET => Some(IpAddr::V4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]))),
        AF_INET6 => Some(IpAddr::V6(Ipv6Addr::from(*bytes))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_flags_render_like_falco() {
        assert_eq!(open_flags(0o1101), "O_WRONLY|O_CREAT|O_TRUNC");
        assert_eq!(open_flags(0o2000000), "O_RDONLY|O_CLOEXEC");
        assert_eq!(open_flags(0o2 | 0o4010000), "O_RDWR|O_DSYNC|O_SYNC");
        assert_eq!(open_flags(0o200000), "O_RDONLY|O_DIRECTORY");
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
        assert_eq!(sockaddr(&v4), Some(SockAddr::Ip("127.0.0.1:8080".parse().unwrap())));
        let mut un = vec![1, 0];
        un.extend_from_slice(b"/run/x.sock\0");
        assert_eq!(sockaddr(&un), Some(SockAddr::Unix("/run/x.sock".into())));
        assert_eq!(sockaddr(&[1, 0, 0, b'a', b'b']), Some(SockAddr::Unix("@ab".into())));
        assert_eq!(sockaddr(&[9]), None);
    }
}
