//! Lint-as-you-type: the draft is loaded after the live set's files, exactly like a local rules
//! file after `falco_rules.yaml`, by the engine compiled into this module. Only the draft's own
//! diagnostics are reported; the vocabulary (macros, lists) feeds completion.

use super::complete::Vocabulary;
use rulestudio_api::diagnostic::{DiagnosticJson, EditJson, FileText};
use rulestudio_engine::diagnostic::Diagnostic;
use rulestudio_engine::fix::{self, FixLevel};
use rulestudio_engine::lint;
use rulestudio_engine::loader::{self, LoadOptions, Loaded, SourceFile};
use serde::{Deserialize, Serialize};

/// How many rounds "Fix all" runs at most: a fix can reveal another, but fixes that undo each
/// other must not loop.
const MAX_FIX_ROUNDS: usize = 20;

/// The file name the draft gets in diagnostics.
pub const DRAFT_NAME: &str = "draft.yaml";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LintReport {
    pub diagnostics: Vec<DiagnosticJson>,
    pub vocabulary: Vocabulary,
    /// Rules the draft defines, with their compiled condition when it compiled.
    pub rules: Vec<(String, Option<String>)>,
}

pub use rulestudio_api::live::source_files;

/// The live set prepared for linting drafts after it, as the user types.
pub struct Workspace {
    /// The base files, then the draft in the last slot (replaced on each lint, never cloned).
    files: Vec<SourceFile>,
    /// The same slots for the linter, with each base file reduced to its `list` items: the
    /// linter reads other files only for list names, and re-linting the whole live set on
    /// every keystroke would cost more than loading it.
    lint_files: Vec<SourceFile>,
}

impl Workspace {
    pub fn new(base: Vec<SourceFile>) -> Self {
        let loaded = loader::load(&base, &LoadOptions::default());
        let mut lint_files: Vec<SourceFile> = base
            .iter()
            .map(|f| SourceFile {
                name: f.name.clone(),
                text: String::new(),
            })
            .collect();
        for list in &loaded.lists {
            let Some(file) = base.get(list.span.file.0 as usize) else {
                continue;
            };
            if let Some(item) = file.text.get(list.span.range()) {
                let out = &mut lint_files[list.span.file.0 as usize].text;
                // The span covers the item's mapping, without the sequence dash.
                if !item.starts_with('-') {
                    out.push_str("- ");
                }
                out.push_str(item.trim_end());
                out.push('\n');
            }
        }
        let draft = SourceFile {
            name: DRAFT_NAME.to_string(),
            text: String::new(),
        };
        let mut files = base;
        files.push(draft.clone());
        lint_files.push(draft);
        Workspace { files, lint_files }
    }

    /// The live set's files, in load order.
    pub fn base(&self) -> &[SourceFile] {
        &self.files[..self.files.len() - 1]
    }

    /// Loads the base then `draft`, as Falco would with the draft as the last rules file.
    pub fn load(&mut self, draft: &str) -> Loaded {
        let draft_id = self.files.len() - 1;
        draft.clone_into(&mut self.files[draft_id].text);
        loader::load(&self.files, &LoadOptions::default())
    }

    /// Loads the base then `draft` and lints: the load and the draft's own diagnostics.
    fn check(&mut self, draft: &str) -> (Loaded, Vec<Diagnostic>) {
        let draft_id = self.files.len() - 1;
        draft.clone_into(&mut self.lint_files[draft_id].text);
        let loaded = self.load(draft);
        // Falco's own load result merged with the linter's findings (which carry the fixes).
        let draft_diags = lint::check(&self.lint_files, &loaded)
            .into_iter()
            .filter(|d| d.span.is_some_and(|s| s.file.0 as usize == draft_id))
            .collect();
        (loaded, draft_diags)
    }

    /// `draft` with every safe fix applied, linting again after each round until no safe fix
    /// is left (fixes overlapping one already taken wait for the next round, computed against
    /// the new text); and how many fixes were applied.
    pub fn fix_all(&mut self, draft: &str) -> (String, usize) {
        let mut text = draft.to_string();
        let mut applied = 0;
        for _ in 0..MAX_FIX_ROUNDS {
            let (_, diagnostics) = self.check(&text);
            let fixes = diagnostics
                .iter()
                .filter_map(|d| d.fix.as_ref())
                .filter(|f| FixLevel::Safe.allows(f.applicability));
            let (next, n) = fix::apply(&text, fixes);
            if n == 0 || next == text {
                break;
            }
            text = next;
            applied += n;
        }
        (text, applied)
    }

    /// Loads the base then `draft`, lints the draft, and returns the draft's diagnostics.
    pub fn lint(&mut self, draft: &str) -> LintReport {
        let draft_id = self.files.len() - 1;
        let (loaded, draft_diags) = self.check(draft);
        // A line index only for the draft: the base files' diagnostics are not shown here.
        let texts: Vec<FileText<'_>> = self
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| FileText::new(&f.name, if i == draft_id { &f.text } else { "" }))
            .collect();
        let diagnostics = draft_diags
            .iter()
            .map(|d| DiagnosticJson::from_engine(d, &texts))
            .collect();
        let rules = loaded
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
                definitions: loaded
                    .macros
                    .iter()
                    .map(|m| (m.name.clone(), m.condition.clone()))
                    .chain(
                        loaded
                            .lists
                            .iter()
                            .map(|l| (l.name.clone(), l.items.join(", "))),
                    )
                    .collect(),
            },
            rules,
        }
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
        if start > end
            || end > out.len()
            || !out.is_char_boundary(start)
            || !out.is_char_boundary(end)
        {
            return None;
        }
        out.replace_range(start..end, &e.replacement);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rulestudio_api::diagnostic::{Applicability, Severity};

    fn edit(start: u32, end: u32, replacement: &str) -> EditJson {
        EditJson {
            line: 0,
            column: 0,
            end_line: 0,
            end_column: 0,
            start,
            end,
            replacement: replacement.into(),
        }
    }

    fn falco_rules() -> Vec<SourceFile> {
        let text = include_str!("../../../engine/data/falco_rules.yaml");
        vec![SourceFile {
            name: "falco_rules.yaml".into(),
            text: text.into(),
        }]
    }

    fn lint(base: &[SourceFile], draft: &str) -> LintReport {
        Workspace::new(base.to_vec()).lint(draft)
    }

    /// Linting only the base's lists gives the draft the same diagnostics as linting everything.
    #[test]
    fn reduced_base_lints_the_draft_like_the_full_set() {
        let drafts = [
            "- rule: A\n  desc: d\n  condition: spawned_process and proc.name in (shell_binaries, /bin/bash)\n  output: x\n  priority: WARNING\n",
            "- rule: B\n  desc: d\n  condition: evt.type = open and fd.name startswith /etc and proc.nme = x\n  alert: x\n  priority: WARNING\n",
            "- macro: m\n  condition: proc.name = \"\"\n- rule: C\n  desc: d\n  condition: m and not proc.name !in (a)\n  output: x\n  priority: NOTICE\n",
        ];
        let mut ws = Workspace::new(falco_rules());
        for draft in drafts {
            let mut files = falco_rules();
            files.push(SourceFile {
                name: DRAFT_NAME.into(),
                text: draft.into(),
            });
            let full = lint::lint(&files, &LoadOptions::default());
            let texts: Vec<FileText<'_>> = files
                .iter()
                .map(|f| FileText::new(&f.name, &f.text))
                .collect();
            let expected: Vec<DiagnosticJson> = full
                .diagnostics
                .iter()
                .filter(|d| d.span.is_some_and(|s| s.file.0 == 1))
                .map(|d| DiagnosticJson::from_engine(d, &texts))
                .collect();
            assert!(!expected.is_empty(), "{draft}");
            assert_eq!(ws.lint(draft).diagnostics, expected, "{draft}");
        }
    }

    #[test]
    fn draft_diagnostics_only_with_live_macros_resolved() {
        let base = falco_rules();
        let ok = "- rule: Shell in container\n  desc: d\n  condition: spawned_process and container and proc.name = bash\n  output: \"%proc.name\"\n  priority: WARNING\n";
        let report = lint(&base, ok);
        assert_eq!(
            report.diagnostics,
            vec![],
            "live macros resolve and falco_rules.yaml's own warnings are not shown"
        );
        assert_eq!(report.rules.len(), 1);
        assert!(
            report.rules[0]
                .1
                .as_deref()
                .is_some_and(|c| c.contains("execve")),
            "{:?}",
            report.rules
        );
        assert!(
            report
                .vocabulary
                .macros
                .iter()
                .any(|m| m == "spawned_process")
        );
        assert!(
            report
                .vocabulary
                .lists
                .iter()
                .any(|l| l == "shell_binaries")
        );

        let bad = ok.replace("proc.name = bash", "proc.nme = bash");
        let report = lint(&base, &bad);
        let errors: Vec<_> = report
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .collect();
        assert_eq!(errors.len(), 1, "{:?}", report.diagnostics);
        assert_eq!(errors[0].file, DRAFT_NAME);
        assert_eq!((errors[0].line, errors[0].column), (3, 48));
        assert!(
            errors[0].message.contains("proc.nme"),
            "{}",
            errors[0].message
        );
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
    fn fix_all_applies_safe_fixes_until_none_is_left() {
        let draft = "- rule: R\n  desc: d\n  condition: spawned_process and fd.rport !in (80, 443) and proc.name contains \"\" and proc.cmdline contains \"\"\n  output: \"%proc.name\"\n  priority: WARNING\n";
        let mut ws = Workspace::new(falco_rules());
        let (fixed, n) = ws.fix_all(draft);
        assert_eq!(n, 3, "{fixed}");
        assert!(
            fixed
                .contains("not fd.rport in (80, 443) and proc.name exists and proc.cmdline exists"),
            "{fixed}"
        );
        let left = ws.lint(&fixed);
        assert!(
            left.diagnostics.iter().all(|d| d
                .fix
                .as_ref()
                .is_none_or(|f| f.applicability != Applicability::Safe)),
            "{:#?}",
            left.diagnostics
        );
        assert_eq!(ws.fix_all(&fixed), (fixed.clone(), 0));
    }

    #[test]
    fn edits_apply_back_to_front() {
        let text = "- rule: x\n  alert: y\n";
        let fixed = apply_edits(text, &[edit(12, 17, "priority"), edit(2, 6, "rule")]).unwrap();
        assert_eq!(fixed, "- rule: x\n  priority: y\n");
        assert_eq!(apply_edits("ab", &[edit(1, 9, "")]), None);
    }
}
