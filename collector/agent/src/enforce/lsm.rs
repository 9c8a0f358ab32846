//! Whether the kernel's BPF LSM is active: listed in `/sys/kernel/security/lsm`. Attached BPF
//! LSM programs load on any kernel with the BPF LSM built in, but run only where it is active,
//! so loading them proves nothing.

use std::path::Path;

const SECURITYFS: &str = "/sys/kernel/security";
const LSM_FILE: &str = "/sys/kernel/security/lsm";

/// The active LSMs, in order (`lockdown,capability,…,bpf`), mounting securityfs at its usual
/// place first when nothing is mounted there (it is not in some minimal hosts and containers).
pub fn active_lsms() -> std::io::Result<String> {
    match std::fs::read_to_string(LSM_FILE) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && Path::new(SECURITYFS).is_dir() => {
            rustix::mount::mount(
                "securityfs",
                SECURITYFS,
                "securityfs",
                rustix::mount::MountFlags::empty(),
                None,
            )?;
            tracing::info!("mounted securityfs at {SECURITYFS} to read the active LSMs");
            std::fs::read_to_string(LSM_FILE)
        }
        other => other,
    }
}

/// Whether `bpf` is among the active LSMs (false when they cannot be read, which is logged).
pub fn bpf_lsm_active() -> bool {
    match active_lsms() {
        Ok(list) => lists_bpf(&list),
        Err(e) => {
            tracing::warn!("cannot read the active LSMs from {LSM_FILE}: {e}");
            false
        }
    }
}

fn lists_bpf(list: &str) -> bool {
    list.trim().split(',').any(|l| l == "bpf")
}

#[cfg(test)]
mod tests {
    #[test]
    fn bpf_must_be_listed_by_its_exact_name() {
        assert!(super::lists_bpf("lockdown,capability,landlock,yama,bpf\n"));
        assert!(super::lists_bpf("bpf"));
        assert!(!super::lists_bpf("lockdown,capability,bpfilter"));
        assert!(!super::lists_bpf(""));
    }
}
