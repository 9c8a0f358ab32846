//! ## What it does
//! Finds rules without an `output:` and offers one built from the fields the condition tests.
//!
//! ## Why is this bad?
//! Falco requires `output` on every rule (`LOAD_ERR_YAML_VALIDATE` "Item has no mapping for key
//! 'output'"): it is the alert text. Rules copied from articles often leave it out.
//!
//! ## Example
//! ```yaml
//! - rule: Shell in container
//!   condition: container and proc.name = bash
//!   priority: Warning
//! ```
//! Use instead:
//! ```yaml
//! - rule: Shell in container
//!   condition: container and proc.name = bash
//!   output: "Shell in container (proc.name=%proc.name container.id=%container.id ...)"
//!   priority: Warning
//! ```
//!
//! ## Fix
//! Inserts an `output:` naming the rule and printing the fields it tests plus the usual process
//! and container context (safe: it does not change what the rule matches).

use super::effective_field;
use crate::diagnostic::{Applicability, Edit, Fix, ItemKind};
use crate::fields::{self, FieldFlags};
use crate::lint::sink::Sink;
use crate::lint::source::Item;
use crate::messages::Recognised;
use crate::span::Span;

/// Context every alert should carry, after the fields the condition tests.
const CONTEXT: &[&str] = &[
    "evt.type",
    "user.name",
    "proc.name",
    "proc.exepath",
    "proc.cmdline",
    "container.id",
    "container.name",
];

pub(crate) fn run(item: &Item, sink: &mut Sink) {
    let plain = ["append", "override", "output"]
        .iter()
        .all(|k| item.key(k).is_none());
    // An entry redefining a rule is `redefinition-without-override`'s to explain.
    if item.kind != ItemKind::Rule
        || !plain
        || item.redefines
        || item.key("condition").is_none()
        || !item.is_syscall()
    {
        return;
    }
    let Some(cond) = &item.condition else { return };
    let mut shown: Vec<String> = Vec::new();
    for f in &cond.scan.fields {
        let Some(name) = effective_field(f, cond.scan.check_of(f), &cond.scan) else {
            continue;
        };
        let printable = fields::get(&name).is_some_and(|id| {
            !id.info().flags.contains(FieldFlags::FILTER_ONLY) && !id.info().arg.requires_arg()
        });
        if printable && !shown.contains(&name) {
            shown.push(name);
        }
    }
    for c in CONTEXT {
        if !shown.iter().any(|s| s == c) {
            shown.push((*c).to_owned());
        }
    }
    let tokens: Vec<String> = shown.iter().map(|f| format!("{f}=%{f}")).collect();
    let output = format!("{} ({})", item.name, tokens.join(" "));
    let at = item
        .keys
        .iter()
        .find(|k| k.name == "priority" || k.name == "alert")
        .or(item.key("condition"));
    let fix = at.and_then(|k| {
        let line_start = item.text[..k.span.start as usize]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let indent = &item.text[line_start..k.span.start as usize];
        if !indent.chars().all(|c| c == ' ') {
            return None;
        }
        let value = format!("\"{}\"", output.replace('\\', "\\\\").replace('"', "\\\""));
        let at = Span::new(k.span.file, line_start as u32, line_start as u32);
        let insert = if k.name == "condition" {
            None
        } else {
            Some(Edit {
                span: at,
                replacement: format!("{indent}output: {value}\n"),
            })
        };
        insert.map(|e| Fix {
            message: "Add an `output`".into(),
            edits: vec![e],
            applicability: Applicability::Safe,
        })
    });
    let name_span = item.keys.first().map_or(item.span, |k| k.value);
    sink.report(
        name_span,
        "rule has no `output`: Falco requires the alert text",
    )
    .help(format!("add `output: \"{output}\"`"))
    .fix(fix)
    .scope(item.span)
    .replacing(Recognised::MissingKey(Some("output")));
}
