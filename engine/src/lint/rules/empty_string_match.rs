//! ## What it does
//! Finds `contains ""`, `icontains ""`, `startswith ""` and `endswith ""`.
//!
//! ## Why is this bad?
//! Every string contains, starts and ends with the empty string: the check is true whenever the
//! field has a value, i.e. it is `exists` in disguise, and often the remains of a template whose
//! value was never filled in.
//!
//! ## Example
//! ```yaml
//! condition: spawned_process and proc.cmdline contains ""
//! ```
//! Use instead:
//! ```yaml
//! condition: spawned_process and proc.cmdline exists
//! ```
//!
//! ## Fix
//! Writes `exists` (safe: same meaning).

use crate::diagnostic::Applicability;
use crate::lint::condition::{Op, Rhs};
use crate::lint::sink::Sink;
use crate::lint::source::Item;
use crate::syntax::ast::CmpOp;

pub(crate) fn run(item: &Item, sink: &mut Sink) {
    let Some(cond) = &item.condition else { return };
    for check in &cond.scan.checks {
        let Op::Cmp(
            op @ (CmpOp::Contains | CmpOp::IContains | CmpOp::StartsWith | CmpOp::EndsWith),
        ) = check.op
        else {
            continue;
        };
        let Rhs::Value(v) = &check.rhs else { continue };
        if !v.text.is_empty() || check.modifier {
            continue;
        }
        let fix = sink.condition_fix(
            "Write `exists`",
            Applicability::Safe,
            &[(check.op_span.start..v.span.end, "exists".into())],
        );
        sink.report(
            cond.span_of(v.span.clone()),
            format!(
                "`{} \"\"` is true for every value: it only tests that the field exists",
                op.as_str()
            ),
        )
        .help("write `exists`, or fill in the value that was meant")
        .fix(fix);
    }
}
