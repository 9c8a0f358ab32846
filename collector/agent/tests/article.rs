//! The seven behaviours of `shared/seed/article-rules.yaml`, performed for real inside a cgroup
//! named like a Kubernetes container, each captured with the fields its fixed rule needs.
//! Whatever would touch the system happens in a private mount namespace over temp paths: the
//! write to /etc/shadow lands in a tmpfs file bind-mounted over it.

mod common;

use common::{Event, Harness, is, s};
use std::process::Command;

fn starts(e: &Event, k: &str, prefix: &str) -> bool {
    e.get(k)
        .and_then(|v| v.as_str())
        .is_some_and(|v| v.starts_with(prefix))
}

#[test]
fn article_behaviours_in_a_container() {
    let mut h = Harness::start();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let id =
        format!("{:016x}{:08x}aa", nanos as u64, std::process::id()).repeat(3)[..64].to_string();
    let cg = common::cgroup_mount(None).join(format!("kubepods.slice/cri-containerd-{id}.scope"));
    std::fs::create_dir_all(&cg).unwrap();
    let t = tempfile::tempdir().unwrap();
    let t = t.path().to_str().unwrap().to_string();
    std::fs::create_dir(format!("{t}/mnt")).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Like a container runtime: join the cgroup, then exec the workload (the collector learns a
    // process's cgroup when it forks or execs, as Falco does).
    let behaviours = format!(
        r#"set -e
echo data > {t}/bash-wrote
cp /bin/bash {t}/nginx && {t}/nginx -c 'echo data > {t}/nginx-wrote'
sh -c true
cp /bin/true {t}/dropper && {t}/dropper
exec 3<>/dev/tcp/127.0.0.1/{port}; exec 3>&-
unshare -m --propagation private sh -c 'mount -t tmpfs rs-tmpfs {t}/mnt && : > {t}/mnt/shadow && mount --bind {t}/mnt/shadow /etc/shadow && echo root::0:0 > /etc/shadow'
setpriv --reuid=0 --regid=0 --clear-groups true
"#
    );
    std::fs::write(format!("{t}/behaviours.sh"), behaviours).unwrap();
    let script = format!(
        "echo $$ > {}/cgroup.procs && exec bash {t}/behaviours.sh",
        cg.display()
    );
    let status = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .status()
        .unwrap();
    let _ = listener.accept();
    let _ = std::fs::remove_dir(&cg);
    assert!(status.success(), "the behaviours ran");
    let short = &id[..12];
    let in_container = |e: &Event| is(e, "container.id", short);

    // 1. Write to /tmp in container: a bash process writing under /tmp.
    let e = h.wait_for("bash write to /tmp", |e| {
        in_container(e)
            && is(e, "evt.type", "write")
            && is(e, "proc.name", "bash")
            && starts(e, "fd.name", "/tmp/")
    });
    assert_eq!(s(&e, "fd.name"), format!("{t}/bash-wrote"));
    // 2. Web server writing to /tmp.
    h.wait_for("nginx write to /tmp", |e| {
        in_container(e)
            && is(e, "evt.type", "write")
            && is(e, "proc.name", "nginx")
            && is(e, "fd.name", format!("{t}/nginx-wrote"))
    });
    // 3. Unexpected shell in container: a shell spawned (execve) with its cwd known.
    let e = h.wait_for("sh spawned", |e| {
        in_container(e) && is(e, "evt.type", "execve") && is(e, "proc.name", "sh")
    });
    assert!(
        e.contains_key("proc.cwd") && is(&e, "proc.pname", "bash"),
        "{e:#?}"
    );
    // 4. Execute from an unusual location.
    h.wait_for("exec from /tmp", |e| {
        in_container(e)
            && is(e, "evt.type", "execve")
            && is(e, "proc.exepath", format!("{t}/dropper"))
    });
    // 5. Outbound connection: destination address and port.
    let e = h.wait_for("connect", |e| {
        in_container(e) && is(e, "evt.type", "connect") && is(e, "fd.sport", port)
    });
    assert_eq!((s(&e, "fd.sip"), s(&e, "fd.type")), ("127.0.0.1", "ipv4"));
    // 6. Modify sensitive file: the open for write and the write of /etc/shadow.
    h.wait_for("open of /etc/shadow", |e| {
        in_container(e) && is(e, "fd.name", "/etc/shadow") && is(e, "evt.is_open_write", true)
    });
    h.wait_for("write to /etc/shadow", |e| {
        in_container(e) && is(e, "evt.type", "write") && is(e, "fd.name", "/etc/shadow")
    });
    // 7. Sensitive syscalls in a container: mount and the setuid family.
    h.wait_for("mount", |e| {
        in_container(e) && is(e, "evt.type", "mount") && is(e, "evt.arg.type", "tmpfs")
    });
    h.wait_for("setuid family", |e| {
        in_container(e)
            && ["setuid", "setresuid", "setreuid"]
                .iter()
                .any(|t| is(e, "evt.type", *t))
    });
}
