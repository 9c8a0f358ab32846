//! Lint-as-you-type: the draft is loaded after the live set's files, exactly like a local rules
//! file after `falco_rules.yaml`, by the engine compiled into this module. Only the draft's own
//! diagnostics are reported; the vocabulary (macros, lists) feeds completion.

use super::complete::Vocabulary;
use crate::client::RulesFile;
use rulestudio_api::diagnostic::{DiagnosticJson, EditJson, FileText};
use rulestudio_engine::lint::{self, Linted};
use rulestudio_engine::loader::{LoadOptions, SourceFile};

/// The file name the draft gets in diagnostics.
pub const DRAFT_NAME: &str = "draft.yaml";

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LintReport {
    pub diagnostics: Vec<DiagnosticJson>,
    pub vocabulary: Vocabulary,
    /// Rules the draft defines, with their compiled condition when it compiled.
    pub rules: Vec<(String, Option<String>)>,
}

/// The live set's files as loader input, in load order.
pub fn source_files(files: &[RulesFile]) -> Vec<SourceFile> {
    files.iter().map(|f| SourceFile { name: f.name.clone(), text: f.content.clone() }).collect()
}

/// Loads and lints `base` then the draft and returns the draft's diagnostics.
pub fn lint(base: &[SourceFile], draft: &str) -> LintReport {
    let draft_id = base.len();
    let mut files = base.to_vec();
    files.push(SourceFile { name: DRAFT_NAME.to_string(), text: draft.to_string() });
    // Falco's own load result plus the linter's findings (which carry the fixes).
    let Linted { loaded, diagnostics: all } = lint::lint(&files, &LoadOptions::default());
    let draft_diags: Vec<_> = all.iter().filter(|d| d.span.is_some_and(|s| s.file.0 as usize == draft_id)).collect();
    // Line indexes only for the draft: the base files' diagnostics are not shown here, and
    // indexing `falco_rules.yaml` on every keystroke would be wasted work.
    let texts: Vec<FileText<'_>> = files
        .iter()
        .enumerate()
        .map(|(i, f)| if i == draft_id { FileText::new(&f.name, &f.text) } else { FileText::new(&f.name, "") })
        .collect();
    let diagnostics = draft_diags.into_iter().map(|d| DiagnosticJson::from_engine(d, &texts)).collect();
    let draft_rules = loaded
        .rules
        .iter()
        .filter(|r| r.span.file.0 as usize == draft_id)
        .map(|r| (r.name.clone(), r.compiled_condition.clone()))
        .collect();
    LintReport {
        diagnostics,
        vocabulary: Vocabulary {
            macros: loaded.macros.iter().map(|m| m.name.clone()).collect(),
            lists: loaded.lists.iter().map(|l| l.name.clone()).collect(),
        },
        rules: draft_rules,
    }
}

/// Applies a fix's edits (byte offsets into the draft) to `text`; `None` when an edit does not
/// fit the current text (the draft changed since the lint ran).
pub fn apply_edits(text: &str, edits: &[EditJson]) -> Option<String> {
    let mut edits: Vec<&EditJson> = edits.iter().collect();
    edits.sort_by_key(|e| std::cmp::Reverse(e.start));
    let mut out = text.to_string();
    for e in edits {
        let (start, end) = (e.start as usize, e.end as usize);
        if start > end || end > out.len() || !out.is_char_boundary(start) || !out.is_char_boundary(end) {
            return None;
        }
        out.replace_range(start..end, &e.replacement);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(start: u32, end: u32, replacement: &str) -> EditJson {
        EditJson { line: 0, column: 0, end_line: 0, end_column: 0, start, end, replacement: replacement.into() }
    }

    fn falco_rules() -> Vec<SourceFile> {
        let text = include_str!("../../../engine/data/falco_rules.yaml");
        vec![SourceFile { name: "falco_rules.yaml".into(), text: text.into() }]
    }

    #[test]
    fn draft_diagnostics_only_with_live_macros_resolved() {
        let base = falco_rules();
        let ok = "- rule: Shell in container\n  desc: d\n  condition: spawned_process and container and proc.name = bash\n  output: \"%proc.name\"\n  priority: WARNING\n";
        let report = lint(&base, ok);
        assert_eq!(report.diagnostics, vec![], "live macros resolve and falco_rules.yaml's own warnings are not shown");
        assert_eq!(report.rules.len(), 1);
        assert!(report.rules[0].1.as_deref().is_some_and(|c| c.contains("execve")), "{:?}", report.rules);
        assert!(report.vocabulary.macros.iter().any(|m| m == "spawned_process"));
        assert!(report.vocabulary.lists.iter().any(|l| l == "shell_binaries"));

        let bad = ok.replace("proc.name = bash", "proc.nme = bash");
        let report = lint(&base, &bad);
        let errors: Vec<_> = report.diagnostics.iter().filter(|d| d.severity == "error").collect();
        assert_eq!(errors.len(), 1, "{:?}", report.diagnostics);
        assert_eq!(errors[0].file, DRAFT_NAME);
        assert_eq!((errors[0].line, errors[0].column), (3, 48));
        assert!(errors[0].message.contains("proc.nme"), "{}", errors[0].message);
    }

    #[test]
    fn fixes_apply_to_the_draft() {
        let draft = "- rule: R\n  desc: d\n  condition: spawned_process and proc.nme = bash\n  output: \"%proc.name\"\n  priority: WARNING\n";
        let report = lint(&falco_rules(), draft);
        let fix = report
            .diagnostics
            .iter()
            .find_map(|d| d.fix.clone())
            .unwrap_or_else(|| panic!("a did-you-mean fix in {:#?}", report.diagnostics));
        let fixed = apply_edits(draft, &fix.edits).unwrap();
        assert!(fixed.contains("proc.name = bash"), "{fixed}");
        assert_eq!(lint(&falco_rules(), &fixed).diagnostics, vec![]);
    }

    #[test]
    fn edits_apply_back_to_front() {
        let text = "- rule: x\n  alert: y\n";
        let fixed = apply_edits(text, &[edit(12, 17, "priority"), edit(2, 6, "rule")]).unwrap();
        assert_eq!(fixed, "- rule: x\n  priority: y\n");
        assert_eq!(apply_edits("ab", &[edit(1, 9, "")]), None);
    }
}
