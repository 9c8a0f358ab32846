//! ## What it does
//! Finds the awk/Perl match operators `=~` and `!~`.
//!
//! ## Why is this bad?
//! Falco has neither: they are syntax errors (`LOAD_ERR_COMPILE_CONDITION`). Falco's `regex`
//! operator is also not a drop-in replacement: `=~` searches anywhere in the value while `regex`
//! must match the whole value, so `x !~ "^(/usr/bin/|/app/)"` ("does not start with") becomes
//! a prefix test, not `not x regex "^(/usr/bin/|/app/)"` (which would be true for everything
//! below those directories).
//!
//! ## Example
//! ```yaml
//! condition: spawned_process and proc.exepath !~ "^(/usr/local/bin/|/app/)"
//! ```
//! Use instead:
//! ```yaml
//! condition: spawned_process and not proc.exepath pmatch (/usr/local/bin, /app)
//! ```
//!
//! ## Fix
//! Rewrites the check with the same meaning (safe): prefix alternations become `pmatch` or
//! `startswith`, exact alternations `=`/`in`, anything else `regex` with `.*` added where the
//! pattern was not anchored.

use crate::diagnostic::Applicability;
use crate::lint::condition::{Op, Rhs};
use crate::lint::pattern::{self, Intent, render_value};
use crate::lint::sink::Sink;
use crate::lint::source::Item;

pub(crate) fn run(item: &Item, sink: &mut Sink) {
    let Some(cond) = &item.condition else { return };
    for check in cond
        .scan
        .checks
        .iter()
        .filter(|c| matches!(c.op, Op::Match | Op::NotMatch))
    {
        let negate = check.op == Op::NotMatch;
        let op = &cond.text[check.op_span.clone()];
        let lhs = &cond.text[check.span.start..check.op_span.start].trim_end();
        let fix = match &check.rhs {
            Rhs::Value(v) => {
                let rewritten = match pattern::intent(&v.text, false) {
                    Some(Intent::Prefix(p)) => pattern::prefix_check(lhs, &p),
                    Some(Intent::Exact(e)) => pattern::exact_check(lhs, &e),
                    None => format!(
                        "{lhs} regex {}",
                        render_value(&search_to_full_match(&v.text))
                    ),
                };
                let text = if negate {
                    format!("not {rewritten}")
                } else {
                    rewritten
                };
                sink.condition_fix(
                    format!("Rewrite as `{text}`"),
                    Applicability::Safe,
                    &[(check.span.clone(), text.clone())],
                )
            }
            _ => None,
        };
        let meaning = if negate { "does not match" } else { "matches" };
        sink.report_in_condition(check.op_span.clone(), format!("`{op}` ({meaning}) is not a Falco operator"))
            .help("Falco has `regex`, which must match the whole value, and `not` for negation; prefix tests read better as `startswith` or `pmatch`")
            .fix(fix);
    }
}

/// A search pattern as a whole-value pattern: unanchored ends get `.*`.
fn search_to_full_match(p: &str) -> String {
    let start = p
        .strip_prefix('^')
        .map_or_else(|| format!(".*{p}"), str::to_owned);
    match start.strip_suffix('$').filter(|s| !s.ends_with('\\')) {
        Some(s) => s.to_owned(),
        None => format!("{start}.*"),
    }
}
