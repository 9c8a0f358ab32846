//! ## What it does
//! Finds field names Falco does not define and says which field was meant: a known
//! substitute (`proc.executable` → `proc.exepath`, `k8s.pod.privileged` →
//! `container.privileged`, `evt.path` → `fd.name`, `evt.remote_ip` → `fd.rip`/`fd.rnet`,
//! `evt.remote_port` → `fd.rport`, `fd.family` → `fd.type`, …) or the closest spelling.
//!
//! ## Why is this bad?
//! Falco rejects the rule: "filter_check called with nonexistent field"
//! (`LOAD_ERR_COMPILE_CONDITION`). These names are common in rules written from memory or by
//! assistants and read plausibly, which makes them hard to spot.
//!
//! ## Example
//! ```yaml
//! condition: not proc.executable in (/usr/bin/app) and k8s.pod.privileged = true
//! ```
//! Use instead:
//! ```yaml
//! condition: not proc.exepath in (/usr/bin/app) and container.privileged = true
//! ```
//!
//! ## Fix
//! Replaces the name: safe for a known substitute, unsafe for a spelling guess.

use super::meant_with_fix;
use crate::diagnostic::ItemKind;
use crate::fields;
use crate::lint::aliases;
use crate::lint::sink::Sink;
use crate::lint::source::Item;
use crate::messages::Recognised;

pub(crate) fn run(item: &Item, sink: &mut Sink) {
    let Some(cond) = &item.condition else { return };
    if !item.is_syscall() {
        return;
    }
    for f in &cond.scan.fields {
        if fields::resolve(&f.name).is_some() || aliases::garbled(&f.name).is_some() {
            continue;
        }
        // A macro has no source: a field of a class no syscall field has (`ka.verb`, `ct.name`)
        // is a plugin's, and Falco only checks it in the rules that use the macro.
        if item.kind == ItemKind::Macro && !is_syscall_class(&f.name) {
            continue;
        }
        let (meant, fix) = meant_with_fix(f, &cond.scan, sink);
        let help = meant.map_or_else(
            || {
                "see `docs/lints.md` or `rulestudio` field completion for the syscall fields"
                    .to_owned()
            },
            |m| {
                if m.certain {
                    format!("use `{}`: {}", m.field, m.why)
                } else {
                    format!("did you mean `{}`?", m.field)
                }
            },
        );
        // Only Falco's own complaint about the field: an unknown field never breaks parsing, so a
        // syntax error at it has another cause.
        sink.report_in_condition(f.name_span.clone(), format!("unknown field `{}`", f.name))
            .replacing(Recognised::NonexistentField)
            .help(help)
            .fix(fix);
    }
}

/// Whether some syscall field has the class (the part before the first `.`) of `name`.
fn is_syscall_class(name: &str) -> bool {
    let class = name.split('.').next();
    fields::all()
        .iter()
        .any(|f| f.name.split('.').next() == class)
}
