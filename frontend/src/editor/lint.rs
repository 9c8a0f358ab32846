//! Lint-as-you-type: the draft is loaded after the live set's files, exactly like a local rules
//! file after `falco_rules.yaml`, by the engine compiled into this module. Only the draft's own
//! diagnostics are reported; the vocabulary (macros, lists) feeds completion.

use super::complete::Vocabulary;
use crate::client::RulesFile;
use rulestudio_api::diagnostic::{DiagnosticJson, EditJson, FileText};
use rulestudio_engine::loader::{self, LoadOptions, SourceFile};

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

/// Loads `base` then the draft and returns the draft's diagnostics.
pub fn lint(base: &[SourceFile], draft: &str) -> LintReport {
    let draft_id = base.len();
    let mut files = base.to_vec();
    files.push(SourceFile { name: DRAFT_NAME.to_string(), text: draft.to_string() });
    let loaded = loader::load(&files, &LoadOptions::default());
    let draft_diags: Vec<_> =
        loaded.diagnostics.iter().filter(|d| d.span.is_some_and(|s| s.file.0 as usize == draft_id)).collect();
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

    #[test]
    fn edits_apply_back_to_front() {
        let text = "- rule: x\n  alert: y\n";
        let fixed = apply_edits(text, &[edit(12, 17, "priority"), edit(2, 6, "rule")]).unwrap();
        assert_eq!(fixed, "- rule: x\n  priority: y\n");
        assert_eq!(apply_edits("ab", &[edit(1, 9, "")]), None);
    }
}
