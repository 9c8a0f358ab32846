//! Checks, before loading anything, that this process may load and attach the eBPF program,
//! and says what is missing and how to grant it.

use std::fs;

const CAP_SYS_ADMIN: u32 = 21;
const CAP_PERFMON: u32 = 38;
const CAP_BPF: u32 = 39;
const BTF_PATH: &str = "/sys/kernel/btf/vmlinux";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrivilegeError {
    #[error(
        "missing capabilities {missing}: the collector loads eBPF programs and attaches raw \
         tracepoints. Run it as root, or grant them: `setcap cap_bpf,cap_perfmon,cap_dac_read_search,cap_sys_ptrace+ep rulestudio-collector` \
         (Kubernetes: securityContext.capabilities.add: [BPF, PERFMON, SYS_PTRACE, DAC_READ_SEARCH])"
    )]
    Capabilities { missing: String },
    #[error(
        "the kernel exposes no BTF at {BTF_PATH}: the collector's CO-RE program needs a kernel \
         built with CONFIG_DEBUG_INFO_BTF=y (most distribution kernels since 5.4); in a container, \
         mount the host's /sys/kernel/btf read-only"
    )]
    Btf,
}

/// Effective capability bits of this process (`CapEff` in `/proc/self/status`).
fn effective_caps() -> u64 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapEff:"))
                .map(|v| v.trim().to_string())
        })
        .and_then(|v| u64::from_str_radix(&v, 16).ok())
        .unwrap_or(0)
}

/// Raw tracepoints need neither tracefs nor debugfs, so only capabilities and BTF are checked.
pub fn check() -> Result<(), PrivilegeError> {
    check_caps(effective_caps())?;
    if !std::path::Path::new(BTF_PATH).exists() {
        return Err(PrivilegeError::Btf);
    }
    Ok(())
}

fn check_caps(caps: u64) -> Result<(), PrivilegeError> {
    let has = |c: u32| caps & (1 << c) != 0;
    // CAP_SYS_ADMIN implies both on kernels before 5.8 split them out.
    if has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON)) {
        return Ok(());
    }
    let missing: Vec<&str> = [(CAP_BPF, "CAP_BPF"), (CAP_PERFMON, "CAP_PERFMON")]
        .iter()
        .filter(|(c, _)| !has(*c))
        .map(|(_, n)| *n)
        .collect();
    Err(PrivilegeError::Capabilities {
        missing: missing.join(" and "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capability_rules() {
        assert!(check_caps(1 << CAP_SYS_ADMIN).is_ok());
        assert!(check_caps((1 << CAP_BPF) | (1 << CAP_PERFMON)).is_ok());
        let err = check_caps(1 << CAP_BPF).unwrap_err();
        assert_eq!(
            err,
            PrivilegeError::Capabilities {
                missing: "CAP_PERFMON".into()
            }
        );
        assert!(
            check_caps(0)
                .unwrap_err()
                .to_string()
                .contains("CAP_BPF and CAP_PERFMON")
        );
    }
}
