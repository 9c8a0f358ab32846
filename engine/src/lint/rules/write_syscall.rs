//! ## What it does
//! Finds rules that detect file modification with `evt.type = write` (or `pwrite`, `writev`, …).
//!
//! ## Why is this bad?
//! A `write` event happens for every chunk written to any file, pipe or socket: matching it is
//! costly, and Falco's default syscall selection leaves I/O syscalls out, so such a rule usually
//! sees nothing. Falco detects modification when a file is *opened for writing*, as the
//! `open_write` macro of the official rules does: `evt.type in (open, openat, openat2) and
//! evt.is_open_write = true`.
//!
//! ## Example
//! ```yaml
//! condition: evt.type = write and fd.name = /etc/shadow
//! ```
//! Use instead:
//! ```yaml
//! condition: evt.type in (open, openat, openat2) and evt.is_open_write = true and fd.name = /etc/shadow
//! ```
//!
//! ## Fix
//! Replaces the check with the open-for-write test (unsafe: the rule now fires once per open
//! instead of once per write).

use crate::diagnostic::Applicability;
use crate::lint::condition::{Connector, Op};
use crate::lint::rules::effective_field;
use crate::lint::sink::Sink;
use crate::lint::source::Item;
use crate::syntax::ast::CmpOp;

const WRITES: &[&str] = &["write", "pwrite", "writev", "pwritev"];
const OPEN_WRITE: &str = "evt.type in (open, openat, openat2) and evt.is_open_write = true";

pub(crate) fn run(item: &Item, sink: &mut Sink) {
    let Some(cond) = &item.condition else { return };
    for check in &cond.scan.checks {
        let positive =
            matches!(check.op, Op::Cmp(CmpOp::Eq | CmpOp::EqEq | CmpOp::In)) && check.not.is_none();
        let Some(f) = check.field.as_ref().filter(|_| positive) else {
            continue;
        };
        if effective_field(f, Some(check), &cond.scan).as_deref() != Some("evt.type") {
            continue;
        }
        let values = check.values();
        if values.is_empty() || !values.iter().all(|v| WRITES.contains(&v.text.as_str())) {
            continue;
        }
        let in_or = check.before == Some(Connector::Or) || check.after == Some(Connector::Or);
        let text = if in_or {
            format!("({OPEN_WRITE})")
        } else {
            OPEN_WRITE.to_owned()
        };
        let fix = sink.condition_fix(
            "Match opening the file for writing",
            Applicability::Unsafe,
            &[(check.span.clone(), text)],
        );
        sink.report(cond.span_of(check.span.clone()), "detecting file changes through `write` events sees every chunk of every write, and Falco does not collect them by default")
            .help(format!("match opening for writing: `{OPEN_WRITE}` (the `open_write` macro)"))
            .fix(fix);
    }
}
