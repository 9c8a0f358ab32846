//! The realistic event mix of the benchmarks (shared with `cli/benches/eval_jsonl.rs`): what a
//! host mostly produces, in these proportions out of 11: process starts (2), file opens for
//! read (2), for write (1), a read of a sensitive file by a shell's child (1, matches a rule),
//! connections (1), writes (2), closes (1) and reads (1). Values vary (process names, paths,
//! descriptors, addresses, ports) from a fixed seed, so runs are repeatable.

use std::fmt::Write as _;

const PROCS: &[&str] = &[
    "bash", "sh", "curl", "ls", "cat", "python3", "java", "nginx", "postgres", "node", "id",
    "grep", "systemd", "sshd",
];
const PARENTS: &[&str] = &[
    "bash",
    "sshd",
    "systemd",
    "containerd-shim",
    "java",
    "node",
    "cron",
    "sh",
];
const READ_PATHS: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu/libc.so.6",
    "/etc/ld.so.cache",
    "/etc/passwd",
    "/etc/nsswitch.conf",
    "/proc/self/status",
    "/usr/share/zoneinfo/UTC",
    "/etc/ssl/certs/ca-certificates.crt",
    "/home/dev/.bashrc",
];
const WRITE_PATHS: &[&str] = &[
    "/var/log/app.log",
    "/tmp/build.tmp",
    "/var/lib/postgresql/data/base/1/2619",
    "/home/dev/notes.txt",
    "/dev/null",
];
const SENSITIVE: &[&str] = &["/etc/shadow", "/etc/sudoers", "/etc/pam.d/common-auth"];
const IMAGES: &[&str] = &["alpine", "nginx", "postgres", "docker.io/library/python"];

/// A deterministic generator of mix events (xorshift, so no dependency).
pub struct Mix {
    state: u64,
    n: u64,
}

impl Mix {
    pub fn new(seed: u64) -> Mix {
        Mix {
            state: seed | 1,
            n: 0,
        }
    }

    fn next(&mut self) -> u64 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        self.state
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Appends the next event of the mix to `out`, as one JSON object without a newline.
    pub fn write_next(&mut self, out: &mut String) {
        let kind = self.n % 11;
        self.n += 1;
        let time = 1_700_000_000_000_000_000u64 + self.n * 1_000;
        let pid = 1000 + self.below(30_000);
        let container = match self.below(3) {
            0 => format!(
                r#","container.id":"{:012x}","container.image.repository":"{}""#,
                self.next() & 0xffff_ffff_ffff,
                self.pick(IMAGES)
            ),
            _ => r#","container.id":"host""#.to_string(),
        };
        let head = |ty: &str| {
            format!(r#"{{"evt.type":"{ty}","evt.dir":"<","evt.time":{time},"proc.pid":{pid}"#)
        };
        let _ = match kind {
            0 | 1 => {
                let (name, parent) = (self.pick(PROCS), self.pick(PARENTS));
                write!(
                    out,
                    r#"{},"proc.name":"{name}","proc.pname":"{parent}","proc.aname[2]":"{}","proc.exepath":"/usr/bin/{name}","proc.cmdline":"{name} -c job{}","proc.args":"-c job{}","proc.tty":{},"user.name":"{}"{container}}}"#,
                    head("execve"),
                    self.pick(PARENTS),
                    self.below(100),
                    self.below(100),
                    self.below(2) * 34816,
                    if self.below(4) == 0 { "root" } else { "dev" },
                )
            }
            2 | 3 => write!(
                out,
                r#"{},"evt.is_open_read":true,"evt.is_open_write":false,"fd.typechar":"f","fd.num":{},"fd.name":"{}","proc.name":"{}","proc.pname":"{}","evt.arg.flags":"O_RDONLY|O_CLOEXEC"{container}}}"#,
                head("openat"),
                3 + self.below(60),
                self.pick(READ_PATHS),
                self.pick(PROCS),
                self.pick(PARENTS),
            ),
            4 => write!(
                out,
                r#"{},"evt.is_open_read":false,"evt.is_open_write":true,"fd.typechar":"f","fd.num":{},"fd.name":"{}","proc.name":"{}","proc.pname":"{}","evt.arg.flags":"O_WRONLY|O_CREAT|O_APPEND"{container}}}"#,
                head("openat"),
                3 + self.below(60),
                self.pick(WRITE_PATHS),
                self.pick(PROCS),
                self.pick(PARENTS),
            ),
            5 => write!(
                out,
                r#"{},"evt.is_open_read":true,"evt.is_open_write":false,"fd.typechar":"f","fd.num":{},"fd.name":"{}","proc.name":"cat","proc.exepath":"/usr/bin/cat","proc.cmdline":"cat secret","proc.pname":"bash","proc.aname[2]":"sshd","user.name":"root","user.uid":0,"evt.arg.flags":"O_RDONLY"{container}}}"#,
                head("openat"),
                3 + self.below(60),
                self.pick(SENSITIVE),
            ),
            6 => write!(
                out,
                r#"{},"fd.typechar":"4","fd.num":{},"fd.cip":"10.0.{}.{}","fd.sip":"93.184.{}.{}","fd.cport":{},"fd.sport":{},"proc.name":"{}"{container}}}"#,
                head("connect"),
                3 + self.below(60),
                self.below(256),
                self.below(256),
                self.below(256),
                self.below(256),
                32768 + self.below(28000),
                [443, 80, 5432, 6379][self.below(4) as usize],
                self.pick(PROCS),
            ),
            7 => write!(
                out,
                r#"{},"fd.typechar":"f","fd.num":1,"fd.name":"/dev/pts/{}","proc.name":"{}"}}"#,
                head("write"),
                self.below(8),
                self.pick(PROCS)
            ),
            8 => write!(
                out,
                r#"{},"fd.typechar":"4","fd.num":{},"fd.cip":"10.0.0.{}","fd.sip":"10.0.1.{}","fd.cport":{},"fd.sport":5432,"proc.name":"postgres"}}"#,
                head("write"),
                3 + self.below(60),
                self.below(256),
                self.below(256),
                32768 + self.below(28000),
            ),
            9 => write!(
                out,
                r#"{},"fd.num":{},"proc.name":"{}"}}"#,
                head("close"),
                3 + self.below(60),
                self.pick(PROCS)
            ),
            _ => write!(
                out,
                r#"{},"fd.num":0,"fd.typechar":"f","fd.name":"/dev/pts/{}","proc.name":"bash"}}"#,
                head("read"),
                self.below(8)
            ),
        };
    }
}
