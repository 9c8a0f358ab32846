//! The syscalls the collector can capture: x86_64 numbers and the `evt.type` name Falco gives
//! each (Falco calls `pwrite64` `pwrite`). The kernel program decodes user-memory arguments of
//! these by number, so the two lists change together (`kernel_numbers_agree` checks the
//! kernel's `NR_*` defines against this table).

use std::fmt;

/// (x86_64 number, name accepted by `--syscalls`, Falco `evt.type`).
const TABLE: &[(u32, &str, &str)] = &[
    (1, "write", "write"),
    (2, "open", "open"),
    (3, "close", "close"),
    (18, "pwrite64", "pwrite"),
    (20, "writev", "writev"),
    (32, "dup", "dup"),
    (33, "dup2", "dup2"),
    (41, "socket", "socket"),
    (42, "connect", "connect"),
    (43, "accept", "accept"),
    (44, "sendto", "sendto"),
    (45, "recvfrom", "recvfrom"),
    (46, "sendmsg", "sendmsg"),
    (47, "recvmsg", "recvmsg"),
    (49, "bind", "bind"),
    (50, "listen", "listen"),
    (56, "clone", "clone"),
    (57, "fork", "fork"),
    (58, "vfork", "vfork"),
    (59, "execve", "execve"),
    (80, "chdir", "chdir"),
    (81, "fchdir", "fchdir"),
    (82, "rename", "rename"),
    (83, "mkdir", "mkdir"),
    (84, "rmdir", "rmdir"),
    (85, "creat", "creat"),
    (86, "link", "link"),
    (87, "unlink", "unlink"),
    (88, "symlink", "symlink"),
    (90, "chmod", "chmod"),
    (91, "fchmod", "fchmod"),
    (101, "ptrace", "ptrace"),
    (105, "setuid", "setuid"),
    (106, "setgid", "setgid"),
    (113, "setreuid", "setreuid"),
    (117, "setresuid", "setresuid"),
    (119, "setresgid", "setresgid"),
    (165, "mount", "mount"),
    (166, "umount2", "umount2"),
    (175, "init_module", "init_module"),
    (257, "openat", "openat"),
    (258, "mkdirat", "mkdirat"),
    (263, "unlinkat", "unlinkat"),
    (264, "renameat", "renameat"),
    (265, "linkat", "linkat"),
    (266, "symlinkat", "symlinkat"),
    (268, "fchmodat", "fchmodat"),
    (272, "unshare", "unshare"),
    (288, "accept4", "accept4"),
    (292, "dup3", "dup3"),
    (308, "setns", "setns"),
    (313, "finit_module", "finit_module"),
    (316, "renameat2", "renameat2"),
    (319, "memfd_create", "memfd_create"),
    (321, "bpf", "bpf"),
    (322, "execveat", "execveat"),
    (323, "userfaultfd", "userfaultfd"),
    (435, "clone3", "clone3"),
    (437, "openat2", "openat2"),
];

/// Syscall numbers by role, for the converter and the process table.
pub mod nr {
    pub const WRITE: u32 = 1;
    pub const OPEN: u32 = 2;
    pub const CLOSE: u32 = 3;
    pub const PWRITE64: u32 = 18;
    pub const WRITEV: u32 = 20;
    pub const DUP: u32 = 32;
    pub const DUP2: u32 = 33;
    pub const SOCKET: u32 = 41;
    pub const CONNECT: u32 = 42;
    pub const ACCEPT: u32 = 43;
    pub const SENDTO: u32 = 44;
    pub const RECVFROM: u32 = 45;
    pub const SENDMSG: u32 = 46;
    pub const RECVMSG: u32 = 47;
    pub const BIND: u32 = 49;
    pub const LISTEN: u32 = 50;
    pub const CLONE: u32 = 56;
    pub const FORK: u32 = 57;
    pub const VFORK: u32 = 58;
    pub const EXECVE: u32 = 59;
    pub const CHDIR: u32 = 80;
    pub const FCHDIR: u32 = 81;
    pub const RENAME: u32 = 82;
    pub const MKDIR: u32 = 83;
    pub const RMDIR: u32 = 84;
    pub const CREAT: u32 = 85;
    pub const LINK: u32 = 86;
    pub const UNLINK: u32 = 87;
    pub const SYMLINK: u32 = 88;
    pub const CHMOD: u32 = 90;
    pub const FCHMOD: u32 = 91;
    pub const PTRACE: u32 = 101;
    pub const SETUID: u32 = 105;
    pub const SETGID: u32 = 106;
    pub const SETREUID: u32 = 113;
    pub const SETRESUID: u32 = 117;
    pub const SETRESGID: u32 = 119;
    pub const MOUNT: u32 = 165;
    pub const UMOUNT2: u32 = 166;
    pub const INIT_MODULE: u32 = 175;
    pub const OPENAT: u32 = 257;
    pub const MKDIRAT: u32 = 258;
    pub const UNLINKAT: u32 = 263;
    pub const RENAMEAT: u32 = 264;
    pub const LINKAT: u32 = 265;
    pub const SYMLINKAT: u32 = 266;
    pub const FCHMODAT: u32 = 268;
    pub const UNSHARE: u32 = 272;
    pub const ACCEPT4: u32 = 288;
    pub const DUP3: u32 = 292;
    pub const SETNS: u32 = 308;
    pub const FINIT_MODULE: u32 = 313;
    pub const RENAMEAT2: u32 = 316;
    pub const MEMFD_CREATE: u32 = 319;
    pub const BPF: u32 = 321;
    pub const EXECVEAT: u32 = 322;
    pub const USERFAULTFD: u32 = 323;
    pub const CLONE3: u32 = 435;
    pub const OPENAT2: u32 = 437;
}

/// Events that come from the lifecycle tracepoints rather than from a syscall's exit.
const LIFECYCLE: &[&str] = &["procexit"];

/// Every `evt.type` the collector can produce: the syscalls' and the lifecycle events'.
pub fn produced_evt_types() -> Vec<&'static str> {
    TABLE
        .iter()
        .map(|(_, _, t)| *t)
        .chain(LIFECYCLE.iter().copied())
        .collect()
}

/// Highest syscall number the kernel filter map holds.
pub const NR_MAX: u32 = 512;

/// The syscall numbers whose events have `evt.type` `evt_type`.
pub fn numbers_of(evt_type: &str) -> impl Iterator<Item = u32> + '_ {
    TABLE
        .iter()
        .filter(move |(_, _, t)| *t == evt_type)
        .map(|(n, _, _)| *n)
}

/// Falco's `evt.type` for a syscall number, if the collector knows it.
pub fn evt_type(nr: u32) -> Option<&'static str> {
    TABLE.iter().find(|(n, _, _)| *n == nr).map(|(_, _, t)| *t)
}

/// A set of syscall numbers to capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyscallSet(Vec<u32>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown syscall `{name}` in --syscalls; known: {known}")]
pub struct UnknownSyscall {
    pub name: String,
    pub known: String,
}

impl SyscallSet {
    /// Everything the collector can capture.
    pub fn all() -> SyscallSet {
        SyscallSet(TABLE.iter().map(|(n, _, _)| *n).collect())
    }

    /// Parses a comma-separated list of syscall names (or Falco `evt.type` names).
    pub fn parse(list: &str) -> Result<SyscallSet, UnknownSyscall> {
        let mut set = Vec::new();
        for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let Some((n, _, _)) = TABLE.iter().find(|(_, s, t)| *s == name || *t == name) else {
                return Err(UnknownSyscall {
                    name: name.to_string(),
                    known: TABLE
                        .iter()
                        .map(|(_, s, _)| *s)
                        .collect::<Vec<_>>()
                        .join(","),
                });
            };
            if !set.contains(n) {
                set.push(*n);
            }
        }
        Ok(SyscallSet(set))
    }

    pub fn numbers(&self) -> &[u32] {
        &self.0
    }
}

impl fmt::Display for SyscallSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self
            .0
            .iter()
            .filter_map(|n| TABLE.iter().find(|(m, _, _)| m == n).map(|(_, s, _)| *s))
            .collect();
        f.write_str(&names.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_falco_spellings() {
        let set = SyscallSet::parse("openat, pwrite,execve").unwrap();
        assert_eq!(set.numbers(), &[nr::OPENAT, nr::PWRITE64, nr::EXECVE]);
        assert_eq!(set.to_string(), "openat,pwrite64,execve");
    }

    #[test]
    fn rejects_unknown_names() {
        let err = SyscallSet::parse("openat,frobnicate").unwrap_err();
        assert_eq!(err.name, "frobnicate");
        assert!(err.to_string().contains("known: write,open"));
    }

    /// The kernel program names the numbers it decodes `NR_<name>`; each must be this table's.
    #[test]
    fn kernel_numbers_agree() {
        let source = include_str!("../../ebpf/collector.bpf.c");
        let mut checked = 0;
        for line in source.lines() {
            let Some(rest) = line.strip_prefix("#define NR_") else {
                continue;
            };
            let mut parts = rest.split_whitespace();
            let (name, number) = (parts.next().unwrap(), parts.next().unwrap());
            if name == "MAX" {
                assert_eq!(number.parse::<u32>().unwrap(), NR_MAX);
                continue;
            }
            let row = TABLE.iter().find(|(_, s, _)| *s == name);
            let row = row.unwrap_or_else(|| panic!("NR_{name} is not in the table"));
            assert_eq!(row.0.to_string(), number, "NR_{name}");
            checked += 1;
        }
        assert!(checked > 40, "only {checked} NR_ defines found");
    }

    #[test]
    fn numbers_fit_the_kernel_filter_map() {
        assert!(SyscallSet::all().numbers().iter().all(|n| *n < NR_MAX));
    }
}
