//! ## What it does
//! Explains Falco's `LOAD_NO_EVTTYPE` warning on a rule whose name or description says it is
//! about processes being spawned (executed, started, launched) and whose condition tests
//! process fields, and offers to restrict the rule to process execution. It adds help and a
//! fix to the loader's warning and reports nothing of its own: the loader, which sees through
//! macros such as `spawned_process`, decides whether the rule is restricted.
//!
//! ## Why is this bad?
//! Without an `evt.type` restriction Falco evaluates the rule on every syscall. A condition on
//! process fields alone, like `container and proc.name in (bash, sh)`, is then true for every
//! syscall a shell makes (each read, write, mmap, …): a flood of alerts instead of one per
//! shell started, and a heavy cost on the whole ruleset. Starting a program is the `execve` /
//! `execveat` event, which the official rules test with the `spawned_process` macro.
//!
//! ## Example
//! ```yaml
//! - rule: Unexpected shell in container
//!   desc: Detects the spawning of shell processes within containers
//!   condition: container and proc.name in (bash, sh)
//! ```
//! Use instead:
//! ```yaml
//!   condition: evt.type in (execve, execveat) and container and proc.name in (bash, sh)
//! ```
//! or `spawned_process and container and …` on top of the official rules.
//!
//! ## Fix
//! Prepends `evt.type in (execve, execveat) and ` to the condition, parenthesising it when its
//! top level is an `or` (unsafe: the rule now fires once per spawned process instead of on
//! every syscall).

use crate::diagnostic::{Applicability, ItemKind};
use crate::lint::sink::Sink;
use crate::lint::source::Item;
use crate::syntax::{self, ast::ExprKind};

const SPAWNED: &str = "evt.type in (execve, execveat)";

/// Words of a name or description that say a process is being started.
const SPAWN_WORDS: &[&str] = &[
    "spawn",
    "spawns",
    "spawned",
    "spawning",
    "exec",
    "execs",
    "execve",
    "execute",
    "executes",
    "executed",
    "executing",
    "execution",
    "executions",
    "launch",
    "launches",
    "launched",
    "launching",
    "start",
    "starts",
    "started",
    "starting",
];

pub(crate) fn run(item: &Item, sink: &mut Sink) {
    if item.kind != ItemKind::Rule || !item.is_syscall() {
        return;
    }
    let Some(cond) = &item.condition else { return };
    let desc = item
        .key("desc")
        .and_then(|k| item.text.get(k.value.range()))
        .unwrap_or("");
    if !about_spawning(&item.name) && !about_spawning(desc) {
        return;
    }
    if !cond.scan.fields.iter().any(|f| f.name.starts_with("proc.")) {
        return;
    }
    let end = cond.text.trim_end().len();
    if end == 0 {
        return;
    }
    let top_or = matches!(syntax::parse(&cond.text).tree.kind, ExprKind::Or(_));
    let edits = if top_or {
        vec![
            (0..0, format!("{SPAWNED} and (")),
            (end..end, ")".to_owned()),
        ]
    } else {
        vec![(0..0, format!("{SPAWNED} and "))]
    };
    let fix = sink.condition_fix(
        "Match only processes being spawned",
        Applicability::Unsafe,
        &edits,
    );
    sink.enrich_loader()
        .help(format!(
            "the rule is about processes being spawned: start the condition with `{SPAWNED} and` (what the `spawned_process` macro tests) so it fires once per spawned process instead of on every syscall those processes make"
        ))
        .fix(fix);
}

fn about_spawning(text: &str) -> bool {
    text.split(|c: char| !c.is_alphanumeric())
        .any(|w| SPAWN_WORDS.iter().any(|s| w.eq_ignore_ascii_case(s)))
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::{fixed_condition, rule};

    #[test]
    fn spawning_rules_are_restricted_to_execve() {
        let cases = [
            (
                "Detects the spawning of shells",
                "proc.name in (bash, sh)",
                "evt.type in (execve, execveat) and proc.name in (bash, sh)",
            ),
            (
                "a shell is started",
                "proc.name = bash or proc.pname = bash",
                "evt.type in (execve, execveat) and (proc.name = bash or proc.pname = bash)",
            ),
            // Not about spawning, or not about processes, or already restricted: left alone.
            (
                "a shell reads files",
                "proc.name = bash",
                "proc.name = bash",
            ),
            (
                "programs executed",
                "container.id != host",
                "container.id != host",
            ),
            (
                "programs executed",
                "evt.type = execve and proc.name = bash",
                "evt.type = execve and proc.name = bash",
            ),
        ];
        for (desc, condition, want) in cases {
            assert_eq!(
                fixed_condition(desc, condition, "LOAD_NO_EVTTYPE"),
                want,
                "{desc}: {condition}"
            );
        }
    }

    /// The loader's warning carries the help and fix; no second diagnostic is added.
    #[test]
    fn the_loader_warning_is_enriched_not_duplicated() {
        let files = [crate::loader::SourceFile {
            name: "r.yaml".into(),
            text: rule("shells spawned", "proc.name = bash"),
        }];
        let ds = crate::lint::lint(&files, &Default::default()).diagnostics;
        assert_eq!(ds.len(), 1, "{ds:#?}");
        assert_eq!(ds[0].code.0, "LOAD_NO_EVTTYPE");
        assert!(
            ds[0]
                .help
                .as_deref()
                .is_some_and(|h| h.contains("spawned_process") && h.contains("RS015")),
            "{ds:#?}"
        );
        assert!(ds[0].fix.is_some());
    }
}
