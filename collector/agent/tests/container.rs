//! A process moved into a cgroup named like a container's reports that container, on the
//! unified (v2) hierarchy and on a v1 one. Needs root and both hierarchies mounted (found in
//! /proc/self/mounts; this machine and CI have v1 controllers under /sys/fs/cgroup/<controller>
//! and v2 at /sys/fs/cgroup/unified); the cgroups are removed afterwards.

mod common;

use common::{Harness, is, s};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A fresh 64-hex id, so parallel or repeated runs never share a cgroup.
fn container_id(tag: u8) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let seed = format!("{:016x}{:08x}{:02x}", nanos as u64, std::process::id(), tag);
    seed.repeat(3)[..64].to_string()
}

struct Cgroup(PathBuf);

impl Cgroup {
    fn create(path: PathBuf) -> Cgroup {
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("creating cgroup {}: {e}", path.display()));
        Cgroup(path)
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        // Innermost first; the parents created for the test are removed if now empty.
        let mut p: &Path = &self.0;
        for _ in 0..2 {
            let _ = std::fs::remove_dir(p);
            p = p.parent().unwrap();
        }
    }
}

/// Runs a shell that joins `cgroup` and then execs `cat /etc/hostname`; returns its pid.
fn run_in(cgroup: &Cgroup) -> u32 {
    let script = format!(
        "echo $$ > {}/cgroup.procs && exec cat /etc/hostname",
        cgroup.0.display()
    );
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(script)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    assert!(
        child.wait().unwrap().success(),
        "joining {} failed",
        cgroup.0.display()
    );
    pid
}

#[test]
fn kubernetes_containerd_scope_on_cgroup_v2() {
    let mut h = Harness::start();
    let id = container_id(1);
    let cg = Cgroup::create(
        common::cgroup_mount(None).join(format!("kubepods.slice/cri-containerd-{id}.scope")),
    );
    let pid = run_in(&cg);
    let exec = h.wait_for("exec of cat", |e| {
        is(e, "proc.pid", pid) && is(e, "evt.type", "execve") && is(e, "proc.name", "cat")
    });
    assert_eq!(s(&exec, "container.id"), &id[..12], "{exec:#?}");
    assert_eq!(s(&exec, "container.type"), "containerd");
    let open = h.wait_for("cat's open", |e| {
        is(e, "proc.pid", pid) && is(e, "fd.name", "/etc/hostname")
    });
    assert_eq!(s(&open, "container.id"), &id[..12]);
}

#[test]
fn docker_container_on_cgroup_v1() {
    let mut h = Harness::start();
    let id = container_id(2);
    let cg = Cgroup::create(common::cgroup_mount(Some("cpu")).join(format!("docker/{id}")));
    let pid = run_in(&cg);
    let exec = h.wait_for("exec of cat", |e| {
        is(e, "proc.pid", pid) && is(e, "evt.type", "execve") && is(e, "proc.name", "cat")
    });
    assert_eq!(s(&exec, "container.id"), &id[..12], "{exec:#?}");
    assert_eq!(s(&exec, "container.type"), "docker");
}

#[test]
fn host_processes_report_host() {
    let mut h = Harness::start();
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    let exec = h.wait_for("exec of true", |e| {
        is(e, "proc.pid", pid) && is(e, "evt.type", "execve")
    });
    assert_eq!(s(&exec, "container.id"), "host");
}
