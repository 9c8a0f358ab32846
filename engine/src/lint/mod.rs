//! Lints beyond Falco's own warnings: one module per lint under `rules/`, registered in one
//! table ([`registry`]). [`lint`] is the entry point of `rulestudio lint`, the editor and review
//! evidence.
//!
//! **Invariant:** linting never changes Falco's verdict, and the errors it shows are exactly
//! the loader's. A lint that explains an error the loader reports replaces it (an error with
//! that error's code and message, the lint's explanation and fix in the help); a lint that
//! explains a Falco warning adds its help and fix to that warning; everything else, including
//! a problem Falco would only reach after an earlier error, is a warning with the lint's code.

mod aliases;
mod condition;
mod pattern;
pub mod registry;
mod rules;
mod sink;
mod source;

use crate::diagnostic::{Diagnostic, ItemKind};
use crate::loader::{self, LoadOptions, Loaded, SourceFile};
use crate::span::Span;
use sink::{Finding, Sink};
use std::collections::HashSet;

/// The load of a set of files plus everything the linter found, in file order.
pub struct Linted {
    pub loaded: Loaded,
    pub diagnostics: Vec<Diagnostic>,
}

pub fn lint(files: &[SourceFile], opts: &LoadOptions) -> Linted {
    let loaded = loader::load(files, opts);
    let diagnostics = check(files, &loaded);
    Linted {
        loaded,
        diagnostics,
    }
}

/// Runs every lint over `files` and merges the findings with what the loader said about them
/// (`loaded` is the load of the same files).
pub fn check(files: &[SourceFile], loaded: &Loaded) -> Vec<Diagnostic> {
    check_against(files, &loaded.diagnostics, &loaded.inert_items)
}

fn check_against(files: &[SourceFile], falco: &[Diagnostic], inert: &[Span]) -> Vec<Diagnostic> {
    let items = source::items(files);
    let lists: HashSet<&str> = items
        .iter()
        .filter(|i| i.kind == ItemKind::List)
        .map(|i| i.name.as_str())
        .collect();
    let mut findings = Vec::new();
    for item in &items {
        for lint in registry::all() {
            if let Some(run) = lint.run {
                run(item, &mut Sink::new(lint, item, &lists, &mut findings));
            }
        }
    }
    merge(findings, falco, inert)
}

/// Merges lint findings into the loader's diagnostics. In an entry the loader left `inert`,
/// a finding only explains what the loader said there: the linter speaks about the definitions
/// Falco uses, once.
fn merge(findings: Vec<Finding>, falco: &[Diagnostic], inert: &[Span]) -> Vec<Diagnostic> {
    let mut falco = falco.to_vec();
    let mut replaced = vec![false; falco.len()];
    let mut out = Vec::with_capacity(findings.len() + falco.len());
    for f in findings {
        if !f.lint.enriches.is_empty() {
            if let Some(d) = falco.iter_mut().find(|d| f.enriches(d)) {
                f.enrich(d);
            }
            continue;
        }
        if inert.contains(&f.item_span) && !falco.iter().any(|d| f.replaces(d)) {
            continue;
        }
        let mut falco_message = None;
        let mut replaced_error = None;
        // A loader diagnostic is explained once, by the first finding that explains it.
        for (d, gone) in falco.iter().zip(replaced.iter_mut()) {
            if !*gone && f.replaces(d) {
                *gone = true;
                if d.is_error() {
                    replaced_error.get_or_insert(d.code);
                }
                falco_message.get_or_insert_with(|| d.message.clone());
            }
        }
        // Falco's code only for an error Falco reports: it stops at an item's first error, so
        // a problem after it is the lint's own warning.
        let mut d = f.into_diagnostic(replaced_error);
        // Falco's words stay the message (users and tools search for them); the lint's
        // explanation leads the help.
        if let Some(message) = falco_message {
            let explanation = std::mem::replace(&mut d.message, message);
            d.help = Some(match d.help.take() {
                Some(help) => format!("{explanation}; {help}"),
                None => explanation,
            });
        }
        out.push(d);
    }
    out.extend(
        falco
            .into_iter()
            .zip(replaced)
            .filter(|(_, gone)| !gone)
            .map(|(d, _)| d),
    );
    out.sort_by_key(|d| d.span.map(|s| (s.file, s.start, s.end)));
    out
}

/// Lints in unit tests, with the loader, as `rulestudio lint` does.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::fix::{self, FixLevel};

    /// `text`, one rules file, with the fixes (safe and unsafe) of the `code` diagnostics applied
    /// once.
    pub fn fixed(text: &str, code: &str) -> String {
        let files = [SourceFile {
            name: "r.yaml".into(),
            text: text.into(),
        }];
        let diagnostics = lint(&files, &LoadOptions::default()).diagnostics;
        let fixes = diagnostics
            .iter()
            .filter(|d| d.code.0 == code)
            .filter_map(|d| d.fix.as_ref())
            .filter(|f| FixLevel::Unsafe.allows(f.applicability));
        fix::apply(text, fixes).0
    }

    /// A rules file with one rule.
    pub fn rule(desc: &str, condition: &str) -> String {
        format!(
            "- rule: r\n  desc: {desc}\n  condition: {condition}\n  output: o\n  priority: Warning\n"
        )
    }

    /// The condition of a [`rule`], after [`fixed`].
    pub fn fixed_condition(desc: &str, condition: &str, code: &str) -> String {
        let out = fixed(&rule(desc, condition), code);
        out.lines()
            .find_map(|l| l.strip_prefix("  condition: "))
            .unwrap_or_default()
            .to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Code, Severity};
    use crate::span::Span;

    const RULE: &str = "- rule: r\n  desc: d\n  condition: evt.type = open and proc.executable = x\n  output: o\n  priority: Warning\n";

    fn run(falco: &[Diagnostic]) -> Vec<Diagnostic> {
        check_against(
            &[SourceFile {
                name: "r.yaml".into(),
                text: RULE.into(),
            }],
            falco,
            &[],
        )
    }

    #[test]
    fn a_lint_for_a_falco_error_replaces_it_with_the_same_code() {
        let at = RULE.find("proc.executable").unwrap();
        let falco = Diagnostic::error(
            Code::ERR_COMPILE_CONDITION,
            "filter_check called with nonexistent field proc.executable",
            Span::local(at, at + 15),
        );
        let ds = run(&[falco]);
        assert_eq!(ds.len(), 1, "{ds:#?}");
        assert_eq!(
            (ds[0].severity, ds[0].code),
            (Severity::Error, Code::ERR_COMPILE_CONDITION)
        );
        assert_eq!(
            ds[0].message,
            "filter_check called with nonexistent field proc.executable"
        );
        assert!(
            ds[0].help.as_deref().unwrap_or("").contains("proc.exepath"),
            "{:?}",
            ds[0].help
        );
        assert!(ds[0].fix.is_some() && ds[0].help.as_deref().unwrap_or("").contains("RS006"));
    }

    #[test]
    fn without_a_falco_error_the_lint_is_only_a_warning() {
        let ds = run(&[]);
        assert_eq!(ds.len(), 1);
        assert_eq!(
            (ds[0].severity, ds[0].code),
            (Severity::Warning, Code("RS006"))
        );
    }

    #[test]
    fn entries_falco_does_not_use_are_not_linted() {
        let rule = |condition: &str, extra: &str| {
            format!(
                "- rule: r\n  desc: d\n  condition: {condition}\n  output: o\n  priority: Warning\n{extra}"
            )
        };
        let lint_text = |text: String| {
            lint(
                &[SourceFile {
                    name: "r.yaml".into(),
                    text,
                }],
                &LoadOptions::default(),
            )
            .diagnostics
        };
        // Replaced by a redefinition: only the definition in use is linted.
        let replaced = lint_text(
            rule("evt.type = execve and proc.name = /bin/bash", "")
                + &rule("evt.type = execve and proc.name = bash", ""),
        );
        assert_eq!(replaced, vec![]);
        // Rejected for another source: Falco's error, and nothing about its condition.
        let rejected = lint_text(
            rule("evt.type = execve and proc.name = bash", "")
                + &rule("proc.name = /bin/bash", "  source: k8s_audit\n"),
        );
        let codes: Vec<&str> = rejected.iter().map(|d| d.code.0).collect();
        assert_eq!(codes, ["LOAD_ERR_VALIDATE"], "{rejected:#?}");
    }

    #[test]
    fn an_addition_without_override_is_explained_once() {
        let text = "- rule: r\n  desc: d\n  condition: evt.type = execve\n  output: o\n  priority: Warning\n- rule: r\n  condition: and proc.name = sh\n";
        let ds = lint(
            &[SourceFile {
                name: "r.yaml".into(),
                text: text.into(),
            }],
            &LoadOptions::default(),
        )
        .diagnostics;
        // Falco's missing-key errors (desc, output, priority) become one, explained, with a fix.
        assert_eq!(ds.len(), 1, "{ds:#?}");
        assert_eq!(
            (ds[0].severity, ds[0].code),
            (Severity::Error, Code::ERR_YAML_VALIDATE)
        );
        assert!(
            ds[0].help.as_deref().unwrap_or("").contains("RS016"),
            "{:?}",
            ds[0].help
        );
        let fix = ds[0].fix.as_ref().expect("a fix");
        let fixed = crate::fix::apply(text, [fix]).0;
        let loaded = loader::load(
            &[SourceFile {
                name: "r.yaml".into(),
                text: fixed,
            }],
            &LoadOptions::default(),
        );
        assert!(
            loaded.ok() && loaded.diagnostics.is_empty(),
            "{:#?}",
            loaded.diagnostics
        );
        assert_eq!(
            loaded.rules[0].compiled_condition.as_deref(),
            Some("(evt.type = execve and proc.name = sh)")
        );
    }
}
