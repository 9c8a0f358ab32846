//! A synthetic capture shaped like a build on one node, for the store's benchmarks: 48
//! processes (make, cc1, rustc, cargo, git, bash, …) each with a fixed context (pid, ppid, exe,
//! cmdline, user, container, three ancestors) emitting runs of about 12 events; half `openat`
//! and a quarter `close` of files under six directories (a few thousand names each, popular
//! ones far more often), then `read`, `execve`, `connect`, `clone`; `evt.time` advancing by
//! 0–2 µs. Deterministic (a fixed xorshift seed).

use rulestudio_engine::event::{Event, Value};
use rulestudio_engine::fields::{self, FieldId};
use std::borrow::Cow;

pub struct Workload {
    rng: u64,
    time: i64,
    process: usize,
    left_in_run: u32,
    ids: Ids,
}

struct Ids {
    time: FieldId,
    ty: FieldId,
    name: FieldId,
    pid: FieldId,
    ppid: FieldId,
    exe: FieldId,
    cmdline: FieldId,
    aname: FieldId,
    user: FieldId,
    uid: FieldId,
    container: FieldId,
    fd_name: FieldId,
    arg: FieldId,
    res: FieldId,
    sip: FieldId,
    dport: FieldId,
}

const NAMES: [&str; 12] = [
    "make", "cc1", "rustc", "cargo", "git", "bash", "sh", "cat", "ld", "python3", "node", "sshd",
];
const DIRS: [&str; 6] = [
    "/etc/",
    "/usr/lib/x86_64-linux-gnu/",
    "/usr/include/",
    "/home/builder/src/proj/target/debug/deps/",
    "/tmp/",
    "/proc/self/",
];
const FLAGS: [&str; 4] = [
    "O_RDONLY|O_CLOEXEC",
    "O_RDONLY",
    "O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC",
    "O_RDWR|O_CLOEXEC",
];

fn id(name: &str) -> FieldId {
    fields::get(name).expect("a catalogue field")
}

impl Default for Workload {
    fn default() -> Self {
        Workload {
            rng: 0x9E37_79B9_7F4A_7C15,
            time: 1_765_000_000_000_000_000,
            process: 0,
            left_in_run: 0,
            ids: Ids {
                time: id("evt.time"),
                ty: id("evt.type"),
                name: id("proc.name"),
                pid: id("proc.pid"),
                ppid: id("proc.ppid"),
                exe: id("proc.exe"),
                cmdline: id("proc.cmdline"),
                aname: id("proc.aname"),
                user: id("user.name"),
                uid: id("user.uid"),
                container: id("container.id"),
                fd_name: id("fd.name"),
                arg: id("evt.arg"),
                res: id("evt.res"),
                sip: id("fd.sip"),
                dport: id("fd.sport"),
            },
        }
    }
}

fn s(text: impl Into<String>) -> Value<'static> {
    Value::Str(Cow::Owned(text.into()))
}

impl Workload {
    fn next(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    /// A number below `n`, small ones far more likely (a popular few, a long tail).
    fn skewed(&mut self, n: u64) -> u64 {
        let a = self.next() % n;
        let b = self.next() % n;
        a * b / n
    }

    /// Fills `ev` with the next event.
    pub fn fill(&mut self, ev: &mut Event) {
        *ev = Event::new();
        if self.left_in_run == 0 {
            self.process = self.skewed(48) as usize;
            self.left_in_run = 1 + (self.next() % 24) as u32;
        }
        self.left_in_run -= 1;
        self.time += (self.next() % 2000) as i64;
        let p = self.process;
        let name = NAMES[p % NAMES.len()];
        let i = &self.ids;
        let (time, ty, fd_name, arg, res, sip, dport) =
            (i.time, i.ty, i.fd_name, i.arg, i.res, i.sip, i.dport);
        ev.set(time, None, Value::Int(self.time));
        ev.set(i.name, None, s(name));
        ev.set(i.pid, None, Value::Int(4000 + p as i64));
        ev.set(i.ppid, None, Value::Int(3000 + (p / 4) as i64));
        ev.set(i.exe, None, s(format!("/usr/bin/{name}")));
        ev.set(
            i.cmdline,
            None,
            s(format!(
                "{name} --jobs 2 src/module_{p}.rs -o target/out_{p}"
            )),
        );
        ev.set(i.aname, Some("1"), s("make"));
        ev.set(i.aname, Some("2"), s("bash"));
        ev.set(i.aname, Some("3"), s("sshd"));
        let (user, uid) = if p.is_multiple_of(5) {
            ("root", 0)
        } else {
            ("builder", 1000)
        };
        ev.set(i.user, None, s(user));
        ev.set(i.uid, None, Value::Uint(uid));
        ev.set(i.container, None, s("host"));
        let roll = self.next() % 100;
        let file = |w: &mut Workload| {
            let dir = DIRS[w.skewed(DIRS.len() as u64) as usize];
            let n = w.skewed(4000);
            s(format!("{dir}file_{n}.h"))
        };
        match roll {
            0..50 => {
                ev.set(ty, None, s("openat"));
                let f = file(self);
                ev.set(fd_name, None, f);
                let flags = FLAGS[self.skewed(4) as usize];
                ev.set(arg, Some("flags"), s(flags));
                ev.set(res, None, s(if roll < 45 { "SUCCESS" } else { "ENOENT" }));
            }
            50..75 => {
                ev.set(ty, None, s("close"));
                let f = file(self);
                ev.set(fd_name, None, f);
                ev.set(res, None, s("SUCCESS"));
            }
            75..87 => {
                ev.set(ty, None, s("read"));
                let f = file(self);
                ev.set(fd_name, None, f);
            }
            87..92 => {
                ev.set(ty, None, s("execve"));
                ev.set(res, None, s("SUCCESS"));
            }
            92..96 => {
                ev.set(ty, None, s("connect"));
                let ip = format!("10.0.{}.{}", self.skewed(4), 1 + self.skewed(20));
                ev.set(fd_name, None, s(format!("{ip}:443")));
                ev.set(sip, None, Value::Ip(ip.parse().expect("an address")));
                ev.set(dport, None, Value::Uint(443));
            }
            _ => {
                ev.set(ty, None, s("clone"));
                ev.set(res, None, s("0"));
            }
        }
    }
}
