//! Every key the collector emits is a field of the engine's one field table, with a JSON type
//! consistent with the field's type: the interchange contract of `rulestudio_engine::event`.

mod common;

use rulestudio_collector::convert::Converter;
use rulestudio_collector::process::ProcessTable;
use rulestudio_collector::record::{Body, Record};
use rulestudio_collector::syscalls::{SyscallSet, nr};
use rulestudio_collector_common::{Context, Kind, RecHeader, SockTuple, SyscallBody, TaskBody};
use serde_json::Value;
use std::collections::BTreeSet;

fn check_event(line: &str) -> BTreeSet<String> {
    let Value::Object(m) = serde_json::from_str(line).unwrap() else {
        panic!("not an object: {line}")
    };
    for (k, v) in &m {
        common::check_field(k, v);
    }
    m.keys().cloned().collect()
}

/// A record's content before encoding: lifecycle kinds take `ret` from the syscall body.
#[derive(Clone, Copy)]
struct Raw {
    h: RecHeader,
    body: SyscallBody,
    ctx: Context,
    sock: Option<SockTuple>,
}

impl Raw {
    fn encode(&self, slots: &[&[u8]]) -> Vec<u8> {
        let body = if self.h.kind == Kind::Syscall as u16 {
            Body::Syscall(self.body)
        } else {
            Body::Task(TaskBody {
                ret: self.body.ret,
                ..TaskBody::default()
            })
        };
        Record::encode(&self.h, &body, Some(&self.ctx), self.sock.as_ref(), slots)
    }
}

fn header(nr: u32, ret: i64, args: [u64; 6]) -> Raw {
    let pid = std::process::id();
    Raw {
        h: RecHeader {
            ts: 1_000,
            kind: Kind::Syscall as u16,
            nr: nr as u16,
            tgid: pid,
            tid: pid,
            ..RecHeader::default()
        },
        body: SyscallBody {
            ret,
            args,
            ..SyscallBody::default()
        },
        ctx: Context {
            ppid: 1,
            loginuid: 1000,
            comm: *b"rs-fields\0\0\0\0\0\0\0",
            ..Context::default()
        },
        sock: None,
    }
}

#[test]
fn synthetic_records_of_every_syscall_emit_table_fields() {
    let mut conv = Converter::new(ProcessTable::new());
    let sockaddr = [2u8, 0, 0x1f, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
    let mut tcp = header(nr::CONNECT, 0, [3, 0, 16, 0, 0, 0]);
    tcp.sock = Some(SockTuple {
        local_addr: [127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        remote_addr: [127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        family: 2,
        local_port: 40000,
        remote_port: 8080,
        sock_type: 1,
    });
    let mut accept = tcp;
    accept.h.nr = nr::ACCEPT4 as u16;
    accept.body.ret = 4;
    let mut exec = header(nr::EXECVE, 0, [0; 6]);
    exec.h.kind = Kind::Exec as u16;
    let mut udp_send = tcp;
    udp_send.h.nr = nr::SENDTO as u16;
    udp_send.body.ret = 4;
    udp_send.body.args = [9, 0, 4, 0, 0, 16];
    let udp = udp_send.sock.as_mut().unwrap();
    udp.sock_type = 2;
    udp.remote_port = 0;
    // A thread killed by SIGKILL: procexit.
    let mut exit = header(0, 9, [0; 6]);
    exit.h.kind = Kind::Exit as u16;
    exit.h.tid += 1;
    let records: Vec<(Raw, Vec<&[u8]>)> = vec![
        (exec, vec![b"/bin/ls", b"ls\0-l\0"]),
        (
            header(nr::OPENAT, 5, [(-100i64) as u64, 0, 0o1101, 0o644, 0, 0]),
            vec![b"out.txt"],
        ),
        (
            header(nr::OPENAT2, -13, [(-100i64) as u64, 0, 0o2, 0, 0, 0]),
            vec![b"/etc/shadow"],
        ),
        (header(nr::WRITE, 3, [5, 0, 3, 0, 0, 0]), vec![]),
        (header(nr::DUP2, 1, [5, 1, 0, 0, 0, 0]), vec![]),
        (header(nr::CLOSE, 0, [5, 0, 0, 0, 0, 0]), vec![]),
        (header(nr::SOCKET, 3, [2, 1, 0, 0, 0, 0]), vec![]),
        (tcp, vec![&sockaddr]),
        (accept, vec![]),
        (header(nr::BIND, 0, [3, 0, 16, 0, 0, 0]), vec![&sockaddr]),
        (header(nr::LISTEN, 0, [3, 128, 0, 0, 0, 0]), vec![]),
        (
            header(nr::MOUNT, 0, [0, 0, 0, 4096, 0, 0]),
            vec![b"tmpfs", b"/mnt", b"tmpfs"],
        ),
        (header(nr::UMOUNT2, 0, [0, 2, 0, 0, 0, 0]), vec![b"/mnt"]),
        (header(nr::SETUID, 0, [0; 6]), vec![]),
        (header(nr::SETRESGID, 0, [1, 1, 1, 0, 0, 0]), vec![]),
        (header(nr::PTRACE, 0, [16, 1234, 0, 0, 0, 0]), vec![]),
        (
            header(nr::UNLINKAT, 0, [(-100i64) as u64, 0, 0, 0, 0, 0]),
            vec![b"gone"],
        ),
        (
            header(
                nr::RENAMEAT2,
                0,
                [(-100i64) as u64, 0, (-100i64) as u64, 0, 0, 0],
            ),
            vec![b"a", b"b"],
        ),
        (
            header(nr::SYMLINKAT, 0, [0, (-100i64) as u64, 0, 0, 0, 0]),
            vec![b"/etc/shadow", b"l"],
        ),
        (
            header(
                nr::LINKAT,
                0,
                [(-100i64) as u64, 0, (-100i64) as u64, 0, 0, 0],
            ),
            vec![b"/etc/shadow", b"h"],
        ),
        (
            header(nr::CHMOD, 0, [0, 0o4755, 0, 0, 0, 0]),
            vec![b"/tmp/x"],
        ),
        (
            header(nr::FCHMODAT, 0, [(-100i64) as u64, 0, 0o777, 0, 0, 0]),
            vec![b"y"],
        ),
        (
            header(nr::FINIT_MODULE, 0, [7, 0, 0, 0, 0, 0]),
            vec![b"param=1"],
        ),
        (
            header(nr::MEMFD_CREATE, 6, [0, 1, 0, 0, 0, 0]),
            vec![b"payload"],
        ),
        (header(nr::CHDIR, 0, [0; 6]), vec![b"/tmp"]),
        (header(nr::EXECVE, -2, [0; 6]), vec![b"/missing"]),
        (udp_send, vec![&sockaddr]),
        (header(nr::RECVMSG, -11, [3, 0, 0, 0, 0, 0]), vec![]),
        (
            header(nr::MKDIRAT, 0, [(-100i64) as u64, 0, 0o755, 0, 0, 0]),
            vec![b"d"],
        ),
        (header(nr::RMDIR, -39, [0; 6]), vec![b"/tmp/d"]),
        (header(nr::SETNS, 0, [5, 0x04000000, 0, 0, 0, 0]), vec![]),
        (header(nr::UNSHARE, 0, [0x10020000, 0, 0, 0, 0, 0]), vec![]),
        (header(nr::BPF, -22, [5, 0, 0, 0, 0, 0]), vec![]),
        (
            header(nr::USERFAULTFD, 6, [0o2000000, 0, 0, 0, 0, 0]),
            vec![],
        ),
        (header(nr::CLONE, 4321, [0x01200011, 0, 0, 0, 0, 0]), vec![]),
        (exit, vec![]),
    ];
    let mut keys = BTreeSet::new();
    for (raw, slots) in &records {
        let bytes = raw.encode(slots);
        let rec = Record::parse(&bytes).unwrap();
        let ev = conv
            .convert(&rec)
            .unwrap_or_else(|| panic!("no event for syscall {}", raw.h.nr))
            .unwrap_or_else(|e| panic!("syscall {}: {e}", raw.h.nr));
        let line = ev.to_json();
        assert_eq!(
            rulestudio_engine::event::Event::from_json_str(&line).unwrap(),
            ev.to_event(),
            "JSON and event differ: {line}"
        );
        keys.extend(check_event(&line));
    }
    for k in [
        "fd.cip",
        "fd.sport",
        "fs.path.source",
        "evt.arg.flags",
        "proc.aname[1]",
        "user.loginuid",
        "evt.is_open_create",
        "evt.arg.linkpath",
        "thread.cap_effective",
        "fd.connected",
        "fd.name_changed",
        "evt.arg.tuple",
        "evt.arg.nstype",
        "evt.arg.cmd",
        "evt.arg.sig",
        "evt.arg.ptid",
    ] {
        assert!(keys.contains(k), "no synthetic event carried {k}");
    }
}

#[test]
fn captured_events_emit_table_fields() {
    let mut h = common::Harness::with(rulestudio_collector::KernelConfig {
        syscalls: SyscallSet::all(),
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let script = format!(
        "cd {d} && echo x > a && mv a b && chmod 600 b && rm b && ls /nonexistent 2>/dev/null; true",
        d = dir.path().display()
    );
    let mut child = std::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .spawn()
        .unwrap();
    let pid = child.id();
    child.wait().unwrap();
    h.wait_for("rm's unlinkat", |e| {
        common::is(e, "evt.type", "unlinkat") && common::is(e, "proc.ppid", pid)
    });
    assert!(h.seen.len() > 20);
    for e in &h.seen {
        for (k, v) in e {
            common::check_field(k, v);
        }
    }
}
