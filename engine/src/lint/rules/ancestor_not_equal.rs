//! ## What it does
//! Finds `proc.aname != x` (and the other ancestor fields without an index: `proc.apid`,
//! `proc.aexe`, `proc.aexepath`, `proc.acmdline`).
//!
//! ## Why is this bad?
//! Without an index an ancestor field matches when *any* ancestor satisfies the comparison, for
//! every operator. `proc.aname != sshd` therefore means "some ancestor is not sshd", which is
//! nearly always true (`init` is an ancestor of everything). The author almost always meant
//! "no ancestor is sshd".
//!
//! ## Example
//! ```yaml
//! condition: spawned_process and proc.aname != sshd
//! ```
//! Use instead:
//! ```yaml
//! condition: spawned_process and not proc.aname = sshd
//! ```
//!
//! ## Fix
//! Rewrites it as `not proc.aname = x` (unsafe: changes what the rule matches, to what was meant).

use crate::diagnostic::Applicability;
use crate::lint::condition::Op;
use crate::lint::rules::effective_field;
use crate::lint::sink::Sink;
use crate::lint::source::Item;
use crate::syntax::ast::CmpOp;

const ANCESTOR_FIELDS: &[&str] = &[
    "proc.aname",
    "proc.apid",
    "proc.aexe",
    "proc.aexepath",
    "proc.acmdline",
];

pub(crate) fn run(item: &Item, sink: &mut Sink) {
    let Some(cond) = &item.condition else { return };
    for check in cond
        .scan
        .checks
        .iter()
        .filter(|c| c.op == Op::Cmp(CmpOp::Ne) && c.not.is_none())
    {
        let Some(f) = check.field.as_ref().filter(|f| f.arg.is_none()) else {
            continue;
        };
        let Some(name) = effective_field(f, Some(check), &cond.scan)
            .filter(|n| ANCESTOR_FIELDS.contains(&n.as_str()))
        else {
            continue;
        };
        let at = check.span.start;
        let fix = sink.condition_fix(
            format!("Rewrite as `not {name} = …`"),
            Applicability::Unsafe,
            &[(at..at, "not ".into()), (check.op_span.clone(), "=".into())],
        );
        sink.report(
            cond.span_of(check.op_span.clone()),
            format!("`{name} != …` is true when any one ancestor differs, which is almost always"),
        )
        .help(format!(
            "to require that no ancestor matches, write `not {name} = …`"
        ))
        .fix(fix);
    }
}
