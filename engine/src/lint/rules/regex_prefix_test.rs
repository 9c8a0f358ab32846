//! ## What it does
//! Finds `regex` checks whose pattern is a literal (or an alternation of literals) anchored
//! with `^` but not closed with `.*` or `$`, such as `regex "^(/usr/local/bin/|/app/)"`, and
//! patterns that are plain alternations of exact values.
//!
//! ## Why is this bad?
//! Falco's `regex` must match the *whole* value (RE2 full match). `^(/usr/local/bin/|/app/)`
//! matches only the two strings `/usr/local/bin/` and `/app/`, never a file below them, so the
//! check is almost never true (and its negation almost always). A prefix test is also much
//! cheaper as `startswith` or `pmatch`.
//!
//! ## Example
//! ```yaml
//! condition: spawned_process and not proc.exepath regex "^(/usr/local/bin/|/app/)"
//! ```
//! Use instead:
//! ```yaml
//! condition: spawned_process and not proc.exepath pmatch (/usr/local/bin, /app)
//! ```
//!
//! ## Fix
//! Rewrites a prefix pattern as `pmatch`/`startswith` (unsafe: it changes what matches, to what
//! was meant) and an exact alternation `^(a|b)$` as `in (a, b)` (safe: same meaning).

use crate::diagnostic::Applicability;
use crate::lint::condition::{Op, Rhs};
use crate::lint::pattern::{self, Intent};
use crate::lint::sink::Sink;
use crate::lint::source::Item;
use crate::syntax::ast::CmpOp;

pub(crate) fn run(item: &Item, sink: &mut Sink) {
    let Some(cond) = &item.condition else { return };
    for check in cond
        .scan
        .checks
        .iter()
        .filter(|c| c.op == Op::Cmp(CmpOp::Regex) && !c.modifier)
    {
        let Rhs::Value(v) = &check.rhs else { continue };
        if !v.text.starts_with('^') {
            continue;
        }
        let lhs = cond.text[check.span.start..check.op_span.start].trim_end();
        let range = check.span.start..v.span.end;
        let (message, help, fix) = match pattern::intent(&v.text, false) {
            Some(Intent::Prefix(p)) if !v.text.ends_with(".*") => {
                let text = pattern::prefix_check(lhs, &p);
                let fix = sink.condition_fix(
                    format!("Rewrite as `{text}`"),
                    Applicability::Unsafe,
                    &[(range, text.clone())],
                );
                let listed = p
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                (
                    format!(
                        "Falco's `regex` matches the whole value: this pattern matches only {listed} exactly, not paths below them"
                    ),
                    format!("for a prefix test write `{text}`"),
                    fix,
                )
            }
            Some(Intent::Exact(e)) => {
                let text = pattern::exact_check(lhs, &e);
                let fix = sink.condition_fix(
                    format!("Rewrite as `{text}`"),
                    Applicability::Safe,
                    &[(range, text.clone())],
                );
                (
                    "this regex is a list of exact values".to_owned(),
                    format!("write `{text}`, which is clearer and faster"),
                    fix,
                )
            }
            _ => continue,
        };
        sink.report(cond.span_of(v.span.clone()), message)
            .help(help)
            .fix(fix);
    }
}
