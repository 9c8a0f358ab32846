//! ## What it does
//! Finds an entry that names an earlier rule or macro without `override:` (or `append: true`)
//! but reads like an addition to it: a rule entry with a condition or exceptions but no
//! description or output, or a condition starting with `and`/`or`.
//!
//! ## Why is this bad?
//! Without `override`, an entry with an existing name is a new definition that replaces the
//! old one. Falco then rejects it for what a definition lacks (`LOAD_ERR_YAML_VALIDATE` "Item
//! has no mapping for key 'output'", or "… 'enabled'" for an entry with only `exceptions`), or
//! for a condition that cannot start with `and` (`LOAD_ERR_COMPILE_CONDITION`), and the
//! messages do not say that an `override` is missing.
//!
//! ## Example
//! ```yaml
//! - rule: Terminal shell in container
//!   condition: and not proc.pname = my_agent
//! ```
//! Use instead:
//! ```yaml
//! - rule: Terminal shell in container
//!   override:
//!     condition: append
//!   condition: and not proc.pname = my_agent
//! ```
//!
//! ## Fix
//! Adds an `override:` entry appending the condition (and the other keys that can be
//! appended) and replacing the rest (unsafe: it changes what the entry means).

use crate::diagnostic::{Applicability, Edit, Fix, ItemKind};
use crate::lint::sink::Sink;
use crate::lint::source::Item;
use crate::messages::Recognised;
use crate::span::Span;

/// Keys Falco can append to a rule; every other key of an override entry is replaced.
const RULE_APPENDABLE: &[&str] = &["condition", "output", "desc", "tags", "exceptions"];
const RULE_REPLACEABLE: &[&str] = &[
    "condition",
    "output",
    "desc",
    "priority",
    "tags",
    "exceptions",
    "enabled",
    "warn_evttypes",
    "capture",
    "capture_duration",
    "skip-if-unknown-filter",
];

pub(crate) fn run(item: &Item, sink: &mut Sink) {
    let is_rule = item.kind == ItemKind::Rule;
    if !item.redefines
        || !(is_rule || item.kind == ItemKind::Macro)
        || item.key("override").is_some()
        || item.key("append").is_some()
    {
        return;
    }
    let has = |k: &str| item.key(k).is_some();
    // An addition carries no description or output; an entry with only `enabled` is Falco's
    // enable-only entry, and exceptions alone make Falco ask for `enabled`.
    let partial = is_rule
        && !has("desc")
        && !has("output")
        && (has("condition") || (has("exceptions") && !has("enabled")));
    let joined = item
        .condition
        .as_ref()
        .is_some_and(|c| starts_with_operator(&c.text));
    if !partial && !joined {
        return;
    }
    let kind = if is_rule { "rule" } else { "macro" };
    let finding = sink.report(
        item.keys.first().map_or(item.span, |k| k.span),
        format!("{kind} '{}' is already defined: without `override`, this entry replaces it instead of adding to it", item.name),
    );
    finding.help("say what to add with `override:` (e.g. `condition: append`); a redefinition needs every key of a definition");
    match (&item.condition, partial) {
        // Falco stops at the first missing key and never parses the condition.
        (_, true) => finding
            .scope(item.span)
            .replacing(Recognised::MissingKey(None)),
        // Accepted as a redefinition, whose condition then fails to parse.
        (Some(cond), false) => finding.scope(cond.span),
        (None, false) => finding,
    };
    finding.fix(override_fix(item, is_rule, partial));
}

fn starts_with_operator(condition: &str) -> bool {
    let rest = condition.trim_start();
    ["and", "or"].iter().any(|op| {
        rest.strip_prefix(op)
            .is_some_and(|after| after.starts_with([' ', '\t', '\n', '(']))
    })
}

/// An `override:` block after the name line: the condition appended; for a partial rule entry
/// the other appendable keys appended too, every other key replaced.
fn override_fix(item: &Item, is_rule: bool, partial: bool) -> Option<Fix> {
    let name = item.keys.first()?;
    let text = item.text;
    let line_start = text[..name.span.start as usize]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let column = name.span.start as usize - line_start;
    let line_end = text[name.value.end as usize..]
        .find('\n')
        .map(|i| name.value.end as usize + i + 1)?;
    let mut entries = Vec::new();
    for key in item.keys.iter().skip(1).map(|k| k.name.as_str()) {
        let op = if key == "condition" || (partial && is_rule && RULE_APPENDABLE.contains(&key)) {
            "append"
        } else if is_rule && RULE_REPLACEABLE.contains(&key) {
            "replace"
        } else {
            continue;
        };
        entries.push(format!("{}  {key}: {op}\n", " ".repeat(column)));
    }
    if entries.is_empty() {
        return None;
    }
    let at = Span::new(name.span.file, line_end as u32, line_end as u32);
    Some(Fix {
        message: "Add an `override` that appends".into(),
        edits: vec![Edit {
            span: at,
            replacement: format!("{}override:\n{}", " ".repeat(column), entries.concat()),
        }],
        applicability: Applicability::Unsafe,
    })
}
