//! ## What it does
//! Finds `x !in (…)`, an operator Falco does not have.
//!
//! ## Why is this bad?
//! Falco negates with the `not` keyword only; `!in` is a syntax error
//! (`LOAD_ERR_COMPILE_CONDITION`).
//!
//! ## Example
//! ```yaml
//! condition: fd.rport !in (80, 443)
//! ```
//! Use instead:
//! ```yaml
//! condition: not fd.rport in (80, 443)
//! ```
//!
//! ## Fix
//! Rewrites it as `not x in (…)` (safe).

use crate::diagnostic::Applicability;
use crate::lint::condition::Op;
use crate::lint::sink::Sink;
use crate::lint::source::Item;

pub(crate) fn run(item: &Item, sink: &mut Sink) {
    let Some(cond) = &item.condition else { return };
    for check in cond.scan.checks.iter().filter(|c| c.op == Op::NotIn) {
        let at = check.span.start;
        let fix = sink.condition_fix(
            "Rewrite as `not … in (…)`",
            Applicability::Safe,
            &[
                (at..at, "not ".into()),
                (check.op_span.clone(), "in".into()),
            ],
        );
        sink.report_in_condition(check.op_span.clone(), "`!in` is not a Falco operator")
            .help("negate with `not`: `not x in (a, b)`")
            .fix(fix);
    }
}
