//! Loads the kernel program (built by `build.rs` from `collector/ebpf/`), configures it and
//! attaches its raw tracepoints. Detaches when dropped.

use crate::syscalls::{NR_MAX, SyscallSet};
use aya::maps::{Array, HashMap, MapData, PerCpuArray, RingBuf};
use aya::programs::{Lsm, RawTracePoint};
use aya::{Btf, Ebpf, EbpfLoader};
use std::time::Duration;

static PROGRAM: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/collector.bpf.o"));

/// (program name in the object, raw tracepoint).
const ATTACH: &[(&str, &str)] = &[
    ("sys_exit", "sys_exit"),
    ("process_fork", "sched_process_fork"),
    ("process_exec", "sched_process_exec"),
    ("process_exit", "sched_process_exit"),
];

/// Enforcement's BPF LSM programs (`collector/ebpf/enforce.h`): (program name, LSM hook).
const ENFORCE_LSM: &[(&str, &str)] = &[
    ("enforce_file_open", "file_open"),
    ("enforce_inode_create", "inode_create"),
    ("enforce_file_permission", "file_permission"),
    ("enforce_socket_connect", "socket_connect"),
    ("enforce_bprm_check", "bprm_check_security"),
    ("enforce_task_alloc", "task_alloc"),
];

/// Enforcement's raw tracepoints: the kill at the next syscall, and forgetting at exit.
const ENFORCE_KILL: (&str, &str) = ("enforce_sys_enter", "sys_enter");
const ENFORCE_EXIT: (&str, &str) = ("enforce_exit", "sched_process_exit");
const ENFORCE_EXEC: (&str, &str) = ("enforce_exec", "sched_process_exec");

const STAT_LOST: u32 = 0;
const STAT_FILTERED: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    #[error(transparent)]
    Privilege(#[from] crate::privilege::PrivilegeError),
    #[error("loading the eBPF program failed: {0}")]
    Load(#[from] aya::EbpfError),
    #[error("eBPF program `{name}`: {source}")]
    Program {
        name: &'static str,
        source: aya::programs::ProgramError,
    },
    #[error("eBPF map `{name}`: {source}")]
    Map {
        name: &'static str,
        source: aya::maps::MapError,
    },
    #[error("eBPF map `{0}` missing from the program object")]
    MissingMap(&'static str),
    #[error("reading the kernel's BTF for the BPF LSM programs: {0}")]
    Btf(#[from] aya::BtfError),
}

#[derive(Debug, Clone)]
pub struct KernelConfig {
    pub syscalls: SyscallSet,
    /// Writes to the same (process, fd) within this window are counted, not emitted.
    pub dedup_window: Option<Duration>,
    /// Ring buffer size in bytes (a power of two, multiple of the page size).
    pub ring_bytes: u32,
    /// Attach the enforcement programs (`--enforce`); none when `None`.
    pub enforce: Option<EnforceKernel>,
    /// `--redact`: masks applied to processes' arguments as the capture enters them.
    pub redact: crate::redact::Redaction,
}

impl Default for KernelConfig {
    fn default() -> Self {
        KernelConfig {
            syscalls: SyscallSet::all(),
            dedup_window: None,
            ring_bytes: 16 << 20,
            enforce: None,
            redact: crate::redact::Redaction::default(),
        }
    }
}

/// Which of enforcement's kernel stops to attach for a quarantined process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnforceKernel {
    /// Refuse its operations with EPERM through the BPF LSM (attached only where the kernel's
    /// BPF LSM is active).
    pub lsm: bool,
    /// SIGKILL at its next syscall.
    pub kill_at_syscall: bool,
}

impl EnforceKernel {
    /// Every stop the kernel offers.
    pub const ALL: EnforceKernel = EnforceKernel {
        lsm: true,
        kill_at_syscall: true,
    };
}

/// What the kernel side of enforcement gives the [`crate::enforce::Enforcer`].
pub struct KernelEnforcement {
    /// tgid → start time in clock ticks (`collector/ebpf/enforce.h`).
    pub quarantine: HashMap<MapData, u32, u64>,
    /// Whether the BPF LSM programs are attached (the kernel's BPF LSM is active).
    pub lsm: bool,
    /// Exec stops: program name (`comm`, NUL-padded) → rule index (`collector/ebpf/enforce.h`).
    pub exec_stops: HashMap<MapData, [u8; 16], u32>,
    /// `[0]` is 1 while exec stops act.
    pub exec_stops_on: Array<MapData, u32>,
    /// Per rule index, execs stopped.
    pub exec_stopped: Array<MapData, u64>,
    /// Per syscall number, 1 when its records wake the reader at once.
    pub wake_on: Array<MapData, u8>,
}

/// Smallest ring: the largest record (an exec with three 4 KiB strings) must fit, with room.
const RING_MIN: u32 = 64 << 10;
const RING_MAX: u32 = 1 << 30;
/// The kernel wakes the reader once this much data waits (batching wakeups), or at a quarter
/// of a smaller ring.
const WAKEUP_BYTES: u64 = 256 << 10;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum RingSizeError {
    #[error(
        "ring buffer size `{0}`: expected a number of bytes, optionally with K, M or G (x1024)"
    )]
    Syntax(String),
    #[error(
        "ring buffer size `{0}`: must be a power of two from 64K to 1G (the kernel maps whole pages)"
    )]
    Bounds(String),
}

/// A ring buffer size as an operator writes it: `65536`, `64K`, `16M`, `1G`.
pub fn parse_ring_bytes(s: &str) -> Result<u32, RingSizeError> {
    let (num, shift) = match s.strip_suffix(['K', 'M', 'G']) {
        Some(num) => (
            num,
            match &s[num.len()..] {
                "K" => 10,
                "M" => 20,
                _ => 30,
            },
        ),
        None => (s, 0),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| RingSizeError::Syntax(s.to_string()))?;
    let bytes = n
        .checked_shl(shift)
        .filter(|b| b >> shift == n)
        .ok_or_else(|| RingSizeError::Bounds(s.to_string()))?;
    u32::try_from(bytes)
        .ok()
        .filter(|b| b.is_power_of_two() && (RING_MIN..=RING_MAX).contains(b))
        .ok_or_else(|| RingSizeError::Bounds(s.to_string()))
}

pub struct Kernel {
    // Keeps programs attached and maps alive; fields below borrow nothing from it.
    _ebpf: Ebpf,
    pub ring: RingBuf<MapData>,
    stats: PerCpuArray<MapData, u64>,
    enforcement: Option<KernelEnforcement>,
}

/// Kernel-side counters, summed over CPUs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KernelStats {
    pub lost: u64,
    pub filtered: u64,
}

impl Kernel {
    pub fn load(config: &KernelConfig) -> Result<Kernel, KernelError> {
        crate::privilege::check()?;
        raise_memlock();
        let own = std::process::id();
        let dedup = config.dedup_window.map_or(0u64, |d| d.as_nanos() as u64);
        // A ring smaller than the batching threshold would never wake the reader (it would
        // rely on its poll timer alone while the ring overflows): wake at a quarter full.
        let wakeup = WAKEUP_BYTES.min(u64::from(config.ring_bytes) / 4);
        let tick_ns = 1_000_000_000 / rustix::param::clock_ticks_per_second();
        let mut ebpf = EbpfLoader::new()
            .override_global("own_tgid", &own, true)
            .override_global("tick_ns", &tick_ns, true)
            .override_global("dedup_ns", &dedup, true)
            .override_global("wakeup_bytes", &wakeup, true)
            .map_max_entries("events", config.ring_bytes)
            .load(PROGRAM)?;
        {
            let map = ebpf
                .map_mut("syscall_on")
                .ok_or(KernelError::MissingMap("syscall_on"))?;
            let mut on: Array<_, u8> = Array::try_from(map).map_err(|source| KernelError::Map {
                name: "syscall_on",
                source,
            })?;
            for n in config.syscalls.numbers().iter().filter(|n| **n < NR_MAX) {
                on.set(*n, 1u8, 0).map_err(|source| KernelError::Map {
                    name: "syscall_on",
                    source,
                })?;
            }
        }
        let ring: RingBuf<MapData> = take_map(&mut ebpf, "events")?;
        let stats: PerCpuArray<MapData, u64> = take_map(&mut ebpf, "stats")?;
        for (name, tp) in ATTACH {
            attach_raw(&mut ebpf, name, tp)?;
        }
        let enforcement = match config.enforce {
            Some(stops) => Some(attach_enforcement(&mut ebpf, stops)?),
            None => None,
        };
        Ok(Kernel {
            _ebpf: ebpf,
            ring,
            stats,
            enforcement,
        })
    }

    /// The kernel side of enforcement, once (`None` without `KernelConfig::enforce`).
    pub fn take_enforcement(&mut self) -> Option<KernelEnforcement> {
        self.enforcement.take()
    }

    pub fn stats(&self) -> KernelStats {
        let sum = |i: u32| self.stats.get(&i, 0).map(|v| v.iter().sum()).unwrap_or(0);
        KernelStats {
            lost: sum(STAT_LOST),
            filtered: sum(STAT_FILTERED),
        }
    }
}

fn program<'a, T>(ebpf: &'a mut Ebpf, name: &'static str) -> Result<&'a mut T, KernelError>
where
    &'a mut T: TryFrom<&'a mut aya::programs::Program, Error = aya::programs::ProgramError>,
{
    ebpf.program_mut(name)
        .ok_or(KernelError::Program {
            name,
            source: aya::programs::ProgramError::UnexpectedProgramType,
        })?
        .try_into()
        .map_err(|source| KernelError::Program { name, source })
}

/// Takes map `name` out of the object (its owner from then on) as a `T`.
fn take_map<T>(ebpf: &mut Ebpf, name: &'static str) -> Result<T, KernelError>
where
    T: TryFrom<aya::maps::Map, Error = aya::maps::MapError>,
{
    let map = ebpf.take_map(name).ok_or(KernelError::MissingMap(name))?;
    T::try_from(map).map_err(|source| KernelError::Map { name, source })
}

fn attach_raw(ebpf: &mut Ebpf, name: &'static str, tp: &str) -> Result<(), KernelError> {
    let prog: &mut RawTracePoint = program(ebpf, name)?;
    prog.load()
        .map_err(|source| KernelError::Program { name, source })?;
    prog.attach(tp)
        .map_err(|source| KernelError::Program { name, source })?;
    Ok(())
}

/// Attaches the enforcement programs `stops` asks for. The LSM ones only where the kernel's
/// BPF LSM is active (attached elsewhere they would load and never run) and where the kernel
/// loads them (some refuse trampoline programs, LSM ones included, with EPERM): otherwise the
/// kill at the next syscall is the kernel's only stop, and the log and heartbeats say so.
fn attach_enforcement(
    ebpf: &mut Ebpf,
    stops: EnforceKernel,
) -> Result<KernelEnforcement, KernelError> {
    let lsm = stops.lsm
        && crate::enforce::lsm::bpf_lsm_active()
        && match attach_lsm(ebpf) {
            Ok(()) => true,
            Err(e) => {
                for (name, _) in ENFORCE_LSM {
                    if let Ok(prog) = program::<Lsm>(ebpf, name) {
                        // Not loaded is fine: nothing to undo.
                        let _ = prog.unload();
                    }
                }
                tracing::warn!(
                    "the BPF LSM is active but its programs do not load here ({e}); \
                     a quarantined process is killed at its next syscall, not refused first"
                );
                false
            }
        };
    if stops.kill_at_syscall {
        attach_raw(ebpf, ENFORCE_KILL.0, ENFORCE_KILL.1)?;
    }
    attach_raw(ebpf, ENFORCE_EXIT.0, ENFORCE_EXIT.1)?;
    attach_raw(ebpf, ENFORCE_EXEC.0, ENFORCE_EXEC.1)?;
    Ok(KernelEnforcement {
        quarantine: take_map(ebpf, "quarantine")?,
        lsm,
        exec_stops: take_map(ebpf, "exec_stops")?,
        exec_stops_on: take_map(ebpf, "exec_stops_on")?,
        exec_stopped: take_map(ebpf, "exec_stopped")?,
        wake_on: take_map(ebpf, "wake_on")?,
    })
}

fn attach_lsm(ebpf: &mut Ebpf) -> Result<(), KernelError> {
    let btf = Btf::from_sys_fs()?;
    for (name, hook) in ENFORCE_LSM {
        let prog: &mut Lsm = program(ebpf, name)?;
        prog.load(hook, &btf)
            .map_err(|source| KernelError::Program { name, source })?;
        prog.attach()
            .map_err(|source| KernelError::Program { name, source })?;
    }
    Ok(())
}

/// Kernels before 5.11 charge BPF maps to RLIMIT_MEMLOCK; later ones ignore it.
fn raise_memlock() {
    let unlimited = libc::rlimit {
        rlim_cur: libc::RLIM_INFINITY,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: setrlimit reads the struct we pass; failure only matters on old kernels, where
    // the map creation error that follows names the problem.
    unsafe { libc::setrlimit(libc::RLIMIT_MEMLOCK, &unlimited) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_sizes_parse_with_units_and_are_bounded() {
        assert_eq!(parse_ring_bytes("64K"), Ok(64 << 10));
        assert_eq!(
            parse_ring_bytes("16M"),
            Ok(KernelConfig::default().ring_bytes)
        );
        assert_eq!(parse_ring_bytes("1048576"), Ok(1 << 20));
        assert_eq!(parse_ring_bytes("1G"), Ok(1 << 30));
        for bad in ["32K", "100000", "2G", "99999999999999999G"] {
            assert_eq!(
                parse_ring_bytes(bad),
                Err(RingSizeError::Bounds(bad.into())),
                "{bad}"
            );
        }
        for bad in ["", "M", "16MB", "-1K", "1.5M"] {
            assert_eq!(
                parse_ring_bytes(bad),
                Err(RingSizeError::Syntax(bad.into())),
                "{bad}"
            );
        }
    }
}
