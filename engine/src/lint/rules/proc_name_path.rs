//! ## What it does
//! Finds `proc.name` (and `proc.pname`, `proc.aname`) compared with a path or with a name
//! longer than 15 bytes, also inside `in (…)` lists.
//!
//! ## Why is this bad?
//! `proc.name` is the kernel's command name (`comm`): the executable's base name cut to 15
//! bytes. It never contains `/` and is never longer than 15 bytes, so `proc.name = /bin/bash`
//! is always false (and `!=` always true). Falco loads such a rule without complaint; it just
//! never fires.
//!
//! ## Example
//! ```yaml
//! condition: spawned_process and proc.name in (/bin/bash, /bin/sh)
//! ```
//! Use instead:
//! ```yaml
//! condition: spawned_process and proc.exepath in (/bin/bash, /bin/sh)
//! ```
//! or, to match the program wherever it is installed, `proc.name in (bash, sh)`.
//!
//! ## Fix
//! When every value is a path, compares the executable path instead (`proc.exepath`,
//! `proc.pexepath`, `proc.aexepath`); otherwise cuts each value to the base name's first 15
//! bytes (unsafe: the rule starts matching).

use crate::diagnostic::Applicability;
use crate::lint::condition::Op;
use crate::lint::pattern::render_value;
use crate::lint::rules::{effective_field, with_name};
use crate::lint::sink::Sink;
use crate::lint::source::Item;
use crate::syntax::ast::CmpOp;

/// The comm length limit (`TASK_COMM_LEN` - 1).
const COMM_MAX: usize = 15;

pub(crate) fn run(item: &Item, sink: &mut Sink) {
    let Some(cond) = &item.condition else { return };
    for check in &cond.scan.checks {
        let Some(f) = &check.field else { continue };
        let Some(name) = effective_field(f, Some(check), &cond.scan) else { continue };
        let exepath = match name.as_str() {
            "proc.name" => "proc.exepath",
            "proc.pname" => "proc.pexepath",
            "proc.aname" => "proc.aexepath",
            _ => continue,
        };
        let op = match check.op {
            Op::Cmp(op @ (CmpOp::Eq | CmpOp::EqEq | CmpOp::Ne | CmpOp::In | CmpOp::Intersects | CmpOp::StartsWith | CmpOp::EndsWith | CmpOp::Glob)) => op,
            Op::NotIn => CmpOp::In,
            _ => continue,
        };
        let values: Vec<_> = check.values().iter().filter(|v| !sink.is_list(v)).collect();
        let bad: Vec<_> = values.iter().filter(|v| is_path(&v.text) || v.text.len() > COMM_MAX).collect();
        let Some(first) = bad.first() else { continue };
        let all_paths = values.iter().all(|v| is_path(&v.text));
        let fix = if all_paths && op != CmpOp::EndsWith {
            let text = with_name(&cond.text, f, exepath);
            sink.condition_fix(format!("Compare `{exepath}` instead"), Applicability::Unsafe, &[(f.span.clone(), text)])
        } else {
            let edits: Vec<_> = bad.iter().map(|v| (v.span.clone(), render_value(comm(&v.text)))).collect();
            sink.condition_fix("Compare the command name (base name, 15 bytes)", Applicability::Unsafe, &edits)
        };
        let verdict = if op == CmpOp::Ne { "always true" } else { "never true" };
        let why = if is_path(&first.text) { "a path" } else { "longer than 15 bytes" };
        sink.report(cond.span_of(first.span.clone()), format!("`{name}` is a command name of at most 15 bytes and never {why}: this check is {verdict}"))
            .help(format!("compare `{exepath}` with the full path, or `{name}` with `{}`", comm(&first.text)))
            .fix(fix);
    }
}

/// A file path, as opposed to placeholders like `N/A` that merely contain a slash.
fn is_path(v: &str) -> bool {
    v.contains('/') && v.starts_with(['/', '.', '~'])
}

/// What the kernel stores as the command name for an executable at `path`.
fn comm(path: &str) -> &str {
    let base = path.rsplit('/').next().unwrap_or(path);
    let mut end = base.len().min(COMM_MAX);
    while !base.is_char_boundary(end) {
        end -= 1;
    }
    &base[..end]
}
