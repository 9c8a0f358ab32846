//! ## What it does
//! Finds `startswith` tests on a system directory written without its trailing slash, such as
//! `fd.name startswith /etc`.
//!
//! ## Why is this bad?
//! `startswith` is a plain string prefix: `/etc` also matches `/etcd/…`, `/etc-backup` and
//! `/etc.old`, and `/bin` matches `/bin2`. The rule fires on files it was not written for.
//!
//! ## Example
//! ```yaml
//! condition: open_write and fd.name startswith /etc
//! ```
//! Use instead:
//! ```yaml
//! condition: open_write and fd.name startswith /etc/
//! ```
//! (or `fd.name pmatch (/etc)`, which matches `/etc` itself and everything below it).
//!
//! ## Fix
//! Adds the slash (unsafe: `/etc` itself no longer matches).

use crate::diagnostic::Applicability;
use crate::lint::condition::Op;
use crate::lint::pattern::render_value;
use crate::lint::rules::effective_field;
use crate::lint::sink::Sink;
use crate::lint::source::Item;
use crate::syntax::ast::CmpOp;

/// Directories whose names are prefixes of other real paths often enough to matter.
const DIRECTORIES: &[&str] = &[
    "/etc",
    "/bin",
    "/sbin",
    "/usr",
    "/lib",
    "/lib64",
    "/tmp",
    "/var",
    "/dev",
    "/proc",
    "/sys",
    "/root",
    "/home",
    "/opt",
    "/boot",
    "/run",
    "/srv",
    "/mnt",
    "/usr/bin",
    "/usr/sbin",
    "/usr/lib",
    "/usr/local",
    "/usr/local/bin",
    "/usr/local/sbin",
    "/var/lib",
    "/var/log",
    "/var/run",
    "/var/tmp",
    "/etc/ssh",
    "/etc/sudoers.d",
    "/etc/cron.d",
    "/dev/shm",
];

/// Fields holding a path; on others (`proc.args`, `proc.cmdline`) a prefix is not a directory.
const PATH_FIELDS: &[&str] = &[
    "fd.name",
    "fd.directory",
    "fd.nameraw",
    "proc.exepath",
    "proc.exe",
    "proc.cwd",
    "proc.pexepath",
    "proc.pexe",
    "proc.aexepath",
    "proc.aexe",
    "fs.path.name",
    "fs.path.source",
    "fs.path.target",
];

pub(crate) fn run(item: &Item, sink: &mut Sink) {
    let Some(cond) = &item.condition else { return };
    for check in cond
        .scan
        .checks
        .iter()
        .filter(|c| c.op == Op::Cmp(CmpOp::StartsWith))
    {
        let Some(f) = &check.field else { continue };
        if !effective_field(f, Some(check), &cond.scan)
            .is_some_and(|n| PATH_FIELDS.contains(&n.as_str()))
        {
            continue;
        }
        for v in check
            .values()
            .iter()
            .filter(|v| DIRECTORIES.contains(&v.text.as_str()))
        {
            let with_slash = format!("{}/", v.text);
            let fix = sink.condition_fix(
                format!("Write `{with_slash}`"),
                Applicability::Unsafe,
                &[(v.span.clone(), render_value(&with_slash))],
            );
            sink.report(cond.span_of(v.span.clone()), format!("`startswith {}` also matches `{}d`, `{}-old`, …: the directory needs its trailing slash", v.text, v.text, v.text))
                .help(format!("write `startswith {with_slash}`, or `pmatch ({})` to include the directory itself", v.text))
                .fix(fix);
        }
    }
}
