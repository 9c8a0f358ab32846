//! ## What it does
//! Finds `#` comments written inside a condition.
//!
//! ## Why is this bad?
//! In a block scalar (`condition: >`) a `#` is not a YAML comment but part of the condition, and
//! the condition language has no comments: Falco fails to parse it (`LOAD_ERR_COMPILE_CONDITION`).
//! Because `>` joins the lines, the "comment" also swallows what follows it on the next lines.
//!
//! ## Example
//! ```yaml
//! condition: >
//!   spawned_process and # a shell
//!   proc.name = bash
//! ```
//! Use instead:
//! ```yaml
//! # a shell
//! condition: >
//!   spawned_process and
//!   proc.name = bash
//! ```
//!
//! ## Fix
//! Removes the comment up to the end of its line (safe); move the text to a YAML comment above
//! the rule if you want to keep it.

use crate::diagnostic::Applicability;
use crate::lint::sink::Sink;
use crate::lint::source::Item;

pub(crate) fn run(item: &Item, sink: &mut Sink) {
    let Some(cond) = &item.condition else { return };
    for comment in &cond.scan.comments {
        let before = cond.text[..comment.start]
            .trim_end_matches([' ', '\t'])
            .len();
        let fix = sink.condition_fix(
            "Remove the comment",
            Applicability::Safe,
            &[(before..comment.end, String::new())],
        );
        sink.report_in_condition(comment.clone(), "`#` does not start a comment in a condition; Falco cannot parse it")
            .help("the condition language has no comments; put the note in a YAML comment above `condition:`")
            .fix(fix);
    }
}
