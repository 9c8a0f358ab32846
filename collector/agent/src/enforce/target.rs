//! The process a verdict names, as `/proc/PID/stat` shows it, and the rails that spare it.

/// `PF_KTHREAD` in `/proc/PID/stat`'s flags.
const PF_KTHREAD: u32 = 0x0020_0000;

/// Processes never touched by default, by `proc.name` (the kernel's `comm`, cut at 15 bytes as
/// the kernel cuts it): remote access, the kubelet, container runtimes and their shims, and the
/// studio's own programs. `--enforce-allow` adds to them.
pub const PROTECTED_NAMES: &[&str] = &[
    "sshd",
    "sshd-session",
    "kubelet",
    "containerd",
    "containerd-shim",
    "dockerd",
    "crio",
    "conmon",
    "rulestudio",
    "rulestudio-coll",
];

/// What enforcement needs of a process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcStat {
    pub comm: String,
    pub flags: u32,
    /// Clock ticks after boot: with the pid, the process's identity.
    pub start_ticks: u64,
}

impl ProcStat {
    /// `None` when the process is gone (or its stat unreadable).
    pub fn read(pid: u32) -> Option<ProcStat> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        ProcStat::parse(&text)
    }

    /// `PID (COMM) STATE PPID …`: the name may hold spaces and parentheses, so fields are
    /// counted after the last `)`; flags is field 9, starttime field 22 (proc(5)).
    pub fn parse(text: &str) -> Option<ProcStat> {
        let open = text.find('(')?;
        let close = text.rfind(')')?;
        let comm = text.get(open + 1..close)?.to_string();
        let rest: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
        Some(ProcStat {
            comm,
            flags: rest.get(9 - 3)?.parse().ok()?,
            start_ticks: rest.get(22 - 3)?.parse().ok()?,
        })
    }

    pub fn is_kernel_thread(&self) -> bool {
        self.flags & PF_KTHREAD != 0
    }
}

/// A process's start time in clock ticks after boot, as the kernel side of enforcement checks
/// it: what a caller holding only a pid pairs with it, as soon as it can.
pub fn start_ticks(pid: u32) -> Option<u64> {
    ProcStat::read(pid).map(|s| s.start_ticks)
}

/// Why a process is never touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spared {
    /// Host init: pid 1 of the initial pid namespace.
    Init,
    KernelThread,
    /// The collector itself.
    Collector,
    /// A default protected name.
    Protected(String),
    /// `--enforce-allow` condition number N (from 0) matched.
    Allowed(usize),
}

impl std::fmt::Display for Spared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Spared::Init => f.write_str("host init is never touched"),
            Spared::KernelThread => f.write_str("kernel threads are never touched"),
            Spared::Collector => f.write_str("the collector is never touched"),
            Spared::Protected(name) => write!(f, "`{name}` is a protected process"),
            Spared::Allowed(i) => write!(f, "--enforce-allow condition {} matched", i + 1),
        }
    }
}

/// The rails that do not depend on the event: init, kernel threads, the collector, names.
pub fn fixed_rails(pid: u32, stat: &ProcStat) -> Option<Spared> {
    if pid == 1 {
        Some(Spared::Init)
    } else if pid == std::process::id() {
        Some(Spared::Collector)
    } else if stat.is_kernel_thread() {
        Some(Spared::KernelThread)
    } else {
        PROTECTED_NAMES
            .iter()
            .find(|n| **n == stat.comm)
            .map(|n| Spared::Protected(n.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_is_read_after_the_last_parenthesis() {
        let line = "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 \
                    1000 100 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
        let s = ProcStat::parse(line).unwrap();
        assert_eq!(s.comm, "a) b (c)");
        assert_eq!(s.flags, 4194560);
        assert_eq!(s.start_ticks, 987654);
        assert!(!s.is_kernel_thread());
        assert_eq!(ProcStat::parse("12 (x) S 1 2"), None);
        assert_eq!(ProcStat::parse("garbage"), None);
    }

    #[test]
    fn init_the_collector_kernel_threads_and_protected_names_are_spared() {
        let me = ProcStat::read(std::process::id()).unwrap();
        let other = |comm: &str, flags| ProcStat {
            comm: comm.into(),
            flags,
            start_ticks: 1,
        };
        assert_eq!(fixed_rails(1, &other("x", 0)), Some(Spared::Init));
        assert_eq!(
            fixed_rails(std::process::id(), &me),
            Some(Spared::Collector)
        );
        assert_eq!(
            fixed_rails(2, &other("kthreadd", PF_KTHREAD)),
            Some(Spared::KernelThread)
        );
        assert_eq!(
            fixed_rails(99999, &other("containerd-shim", 0)),
            Some(Spared::Protected("containerd-shim".into()))
        );
        assert_eq!(fixed_rails(99999, &other("sshd2", 0)), None);
        assert_eq!(fixed_rails(99999, &other("bash", 0)), None);
    }
}
