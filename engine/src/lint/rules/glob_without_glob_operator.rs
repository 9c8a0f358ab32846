//! ## What it does
//! Finds `=` comparisons of a string field with a value containing `*`, such as `fd.name = /tmp/*`.
//!
//! ## Why is this bad?
//! `=` compares bytes exactly; `*` is not a wildcard there, so the check is true only for a file
//! literally named `*`. Wildcards need `glob` (or `startswith`, `pmatch`).
//!
//! ## Example
//! ```yaml
//! condition: open_write and fd.name = /tmp/*
//! ```
//! Use instead:
//! ```yaml
//! condition: open_write and fd.name glob /tmp/*
//! ```
//!
//! ## Fix
//! Uses `glob` (unsafe: the check starts matching).

use crate::diagnostic::Applicability;
use crate::fields;
use crate::lint::condition::{Op, Rhs};
use crate::lint::sink::Sink;
use crate::lint::source::Item;
use crate::syntax::ast::CmpOp;

pub(crate) fn run(item: &Item, sink: &mut Sink) {
    let Some(cond) = &item.condition else { return };
    for check in cond
        .scan
        .checks
        .iter()
        .filter(|c| matches!(c.op, Op::Cmp(CmpOp::Eq | CmpOp::EqEq)))
    {
        let Some(f) = &check.field else { continue };
        let is_string = fields::resolve(&f.name)
            .is_some_and(|(id, _)| id.info().ty.is_string() && !id.info().is_list);
        let Rhs::Value(v) = &check.rhs else { continue };
        if !is_string || !v.text.contains('*') {
            continue;
        }
        let fix = sink.condition_fix(
            "Use `glob`",
            Applicability::Unsafe,
            &[(check.op_span.clone(), "glob".into())],
        );
        sink.report(
            cond.span_of(v.span.clone()),
            "`*` is not a wildcard for `=`: this compares with a literal `*`",
        )
        .help("use `glob` for wildcards, or `startswith`/`pmatch` for directories")
        .fix(fix);
    }
}
