//! ## What it does
//! Finds rules that give their severity with `alert:` instead of `priority:`.
//!
//! ## Why is this bad?
//! Falco has no `alert` key: it ignores it (`LOAD_UNKNOWN_KEY`) and then rejects the rule because
//! the required `priority` is missing (`LOAD_ERR_YAML_VALIDATE`). Guides written for other
//! engines, and machine translations, use `alert:`.
//!
//! ## Example
//! ```yaml
//! - rule: Shell in container
//!   alert: Warning
//! ```
//! Use instead:
//! ```yaml
//! - rule: Shell in container
//!   priority: Warning
//! ```
//!
//! ## Fix
//! Renames the key (safe).

use crate::diagnostic::{Applicability, Edit, Fix, ItemKind};
use crate::lint::sink::Sink;
use crate::lint::source::Item;
use crate::messages::Recognised;
use crate::rule::Priority;

pub(crate) fn run(item: &Item, sink: &mut Sink) {
    if item.kind != ItemKind::Rule
        || item.key("priority").is_some()
        || item.key("append").is_some()
        || item.key("override").is_some()
    {
        return;
    }
    let Some(alert) = item.key("alert") else {
        return;
    };
    let value = item.text.get(alert.value.range()).unwrap_or("");
    let valid = Priority::parse(value.trim().trim_matches(['"', '\''])).is_some();
    let fix = (item.text.get(alert.span.range()) == Some("alert")).then(|| Fix {
        message: "Rename `alert` to `priority`".into(),
        edits: vec![Edit {
            span: alert.span,
            replacement: "priority".into(),
        }],
        applicability: Applicability::Safe,
    });
    let help = if valid {
        "Falco ignores unknown keys, so this rule has no priority; write `priority:`".to_owned()
    } else {
        format!(
            "write `priority:` with one of {}",
            Priority::ALL.map(|p| p.as_str()).join(", ")
        )
    };
    sink.report(
        alert.span,
        "rules have no `alert` key: the severity is `priority`, which this rule lacks",
    )
    .help(help)
    .fix(fix)
    .scope(item.span)
    .replacing(Recognised::MissingKey(Some("priority")))
    .replacing(Recognised::UnknownKey("alert"));
}
