//! Container identity from a process's cgroup paths (`/proc/PID/cgroup`), for the cgroup layouts
//! of docker, containerd/CRI, CRI-O and podman under both the systemd and cgroupfs drivers, on
//! cgroup v1 and v2. Pure: the caller reads the file.

/// Falco's `container.type` values for the runtimes recognised here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    Docker,
    Containerd,
    CriO,
    Podman,
    /// A Kubernetes (cgroupfs driver) container whose runtime the path does not name.
    Cri,
}

impl Runtime {
    pub fn as_str(self) -> &'static str {
        match self {
            Runtime::Docker => "docker",
            Runtime::Containerd => "containerd",
            Runtime::CriO => "cri-o",
            Runtime::Podman => "podman",
            Runtime::Cri => "cri",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerId {
    /// The 64-hex-digit id.
    pub full: String,
    pub runtime: Runtime,
}

impl ContainerId {
    /// `container.id`: the first 12 characters, as Falco reports it.
    pub fn short(&self) -> &str {
        &self.full[..12]
    }
}

const SCOPE_PREFIXES: &[(&str, Runtime)] = &[
    ("docker-", Runtime::Docker),
    ("cri-containerd-", Runtime::Containerd),
    ("crio-", Runtime::CriO),
    ("libpod-", Runtime::Podman),
];

fn is_id(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// The container of one cgroup path, e.g. `/kubepods.slice/…/cri-containerd-<id>.scope`.
pub fn from_cgroup_path(path: &str) -> Option<ContainerId> {
    let components: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    // The innermost matching component wins: podman nests `…/libpod-<id>.scope/container`.
    for (i, c) in components.iter().enumerate().rev() {
        let name = c.strip_suffix(".scope").unwrap_or(c);
        for (prefix, runtime) in SCOPE_PREFIXES {
            if let Some(id) = name.strip_prefix(prefix)
                && is_id(id)
            {
                return Some(ContainerId {
                    full: id.to_string(),
                    runtime: *runtime,
                });
            }
        }
        if is_id(c) {
            let parents = &components[..i];
            let runtime = if parents.contains(&"docker") {
                Runtime::Docker
            } else if parents.iter().any(|p| p.starts_with("kubepods")) {
                Runtime::Cri
            } else {
                continue;
            };
            return Some(ContainerId {
                full: c.to_string(),
                runtime,
            });
        }
    }
    None
}

/// The container of a process from the text of `/proc/PID/cgroup` (`id:controllers:path` lines);
/// `None` for a host process.
pub fn from_proc_cgroup(text: &str) -> Option<ContainerId> {
    text.lines()
        .filter_map(|line| line.splitn(3, ':').nth(2))
        .find_map(from_cgroup_path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `tests/data/cgroup-paths.txt`: `path<TAB>short id<TAB>container.type`, or `path<TAB>host`.
    #[test]
    fn cgroup_path_cases() {
        let cases = include_str!("../tests/data/cgroup-paths.txt");
        let mut n = 0;
        for (lineno, line) in cases.lines().enumerate() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            let got = from_cgroup_path(cols[0]);
            match cols[1..] {
                ["host"] => assert_eq!(got, None, "line {}: {}", lineno + 1, cols[0]),
                [id, runtime] => {
                    let got = got.unwrap_or_else(|| {
                        panic!("line {}: no container in {}", lineno + 1, cols[0])
                    });
                    assert_eq!(
                        (got.short(), got.runtime.as_str()),
                        (id, runtime),
                        "line {}",
                        lineno + 1
                    );
                }
                _ => panic!("line {}: malformed case", lineno + 1),
            }
            n += 1;
        }
        assert!(n >= 10);
    }

    #[test]
    fn proc_cgroup_file_v1_and_v2() {
        let id = "3f4b2a1c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a";
        let v1 = format!("12:pids:/docker/{id}\n11:cpu,cpuacct:/docker/{id}\n0::/\n");
        assert_eq!(from_proc_cgroup(&v1).unwrap().short(), "3f4b2a1c9d8e");
        assert_eq!(
            from_proc_cgroup("0::/user.slice/user-0.slice/session-1.scope\n"),
            None
        );
    }
}
