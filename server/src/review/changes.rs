//! A proposal's file changes: validation, the live set they produce, their diff, and carrying
//! them onto a newer live set (rebase).

use crate::error::{AppError, Result};
use rulestudio_api::live::RulesFile;
use rulestudio_api::proposals::{DiffLine, FileChange, FileDiff, FileStatus, Hunk, LineKind};

const MAX_FILES: usize = 64;
const MAX_NAME: usize = 128;
/// Bounds what one proposal costs to store, lint and diff. Diffs and merges cost O(lines ×
/// edits): two unrelated files of 20,000 lines take about 2 s (optimised build).
const MAX_BYTES: usize = 2 << 20;
const MAX_LINES: usize = 20_000;

/// Refuses malformed changes with the index and name of the offending file.
pub fn validate(changes: &[FileChange]) -> Result<()> {
    if changes.is_empty() {
        return Err(AppError::BadRequest(
            "`files` is empty: a proposal changes at least one file".into(),
        ));
    }
    if changes.len() > MAX_FILES {
        return Err(AppError::BadRequest(format!(
            "`files` has {} entries; at most {MAX_FILES}",
            changes.len()
        )));
    }
    let (mut bytes, mut lines) = (0, 0);
    for (i, c) in changes.iter().enumerate() {
        let at = || format!("files[{i}] (`{}`)", c.name);
        if c.name.is_empty()
            || c.name.len() > MAX_NAME
            || c.name.contains(['/', '\\'])
            || c.name.chars().any(char::is_control)
        {
            return Err(AppError::BadRequest(format!(
                "{}: a file name has 1 to {MAX_NAME} characters, without `/`, `\\` or control characters",
                at()
            )));
        }
        if changes[..i].iter().any(|o| o.name == c.name) {
            return Err(AppError::BadRequest(format!(
                "{}: the file is named twice",
                at()
            )));
        }
        match (&c.content, c.delete) {
            (Some(_), true) => {
                return Err(AppError::BadRequest(format!(
                    "{}: give either `content` or `\"delete\": true`, not both",
                    at()
                )));
            }
            (None, false) => {
                return Err(AppError::BadRequest(format!(
                    "{}: give the file's new `content`, or `\"delete\": true`",
                    at()
                )));
            }
            (Some(text), false) => {
                bytes += text.len();
                lines += text.lines().count();
            }
            (None, true) => {}
        }
    }
    if bytes > MAX_BYTES || lines > MAX_LINES {
        return Err(AppError::BadRequest(format!(
            "the files have {bytes} bytes in {lines} lines; a proposal has at most {MAX_BYTES} bytes and {MAX_LINES} lines"
        )));
    }
    Ok(())
}

/// The live set `base` becomes with `changes`: changed files in place, new files appended in
/// the order given, deleted files dropped.
pub fn apply(base: &[RulesFile], changes: &[FileChange]) -> Result<Vec<RulesFile>> {
    for c in changes.iter().filter(|c| c.delete) {
        if !base.iter().any(|f| f.name == c.name) {
            return Err(AppError::BadRequest(format!(
                "`{}` cannot be deleted: the live set has no such file",
                c.name
            )));
        }
    }
    let mut out: Vec<RulesFile> = base
        .iter()
        .filter_map(|f| match changes.iter().find(|c| c.name == f.name) {
            Some(FileChange {
                content: Some(text),
                ..
            }) => Some(RulesFile {
                name: f.name.clone(),
                content: text.clone(),
            }),
            Some(_) => None,
            None => Some(f.clone()),
        })
        .collect();
    for c in changes {
        if let (Some(text), false) = (&c.content, base.iter().any(|f| f.name == c.name)) {
            out.push(RulesFile {
                name: c.name.clone(),
                content: text.clone(),
            });
        }
    }
    if out.is_empty() {
        return Err(AppError::BadRequest(
            "the proposal deletes every file: the live set needs at least one".into(),
        ));
    }
    Ok(out)
}

/// Unified diffs of the files that `changes` really change, in the order of `changes`.
pub fn diff(base: &[RulesFile], changes: &[FileChange]) -> Vec<FileDiff> {
    changes
        .iter()
        .filter_map(|c| {
            let old = base
                .iter()
                .find(|f| f.name == c.name)
                .map(|f| f.content.as_str());
            let new = c.content.as_deref();
            if old == new {
                return None;
            }
            let status = match (old, new) {
                (None, _) => FileStatus::Added,
                (_, None) => FileStatus::Deleted,
                _ => FileStatus::Modified,
            };
            let side = |present: bool, prefix: &str| match present {
                true => format!("{prefix}/{}", c.name),
                false => "/dev/null".to_string(),
            };
            let mut opts = diffy::DiffOptions::new();
            opts.set_original_filename(side(old.is_some(), "a"))
                .set_modified_filename(side(new.is_some(), "b"));
            let patch = opts.create_patch(old.unwrap_or_default(), new.unwrap_or_default());
            Some(FileDiff {
                file: c.name.clone(),
                status,
                diff: patch.to_string(),
                hunks: patch.hunks().iter().map(hunk).collect(),
            })
        })
        .collect()
}

/// A diffy hunk as the API shows it: each line with its numbers in the old and new file, read
/// from the hunk's structure (not re-parsed from its text, where a line `---` or a missing final
/// newline would be ambiguous).
fn hunk(h: &diffy::Hunk<'_, str>) -> Hunk {
    let (mut old, mut new) = (h.old_range().start() as u32, h.new_range().start() as u32);
    let lines = h
        .lines()
        .iter()
        .map(|line| {
            let (kind, raw, old_no, new_no) = match *line {
                diffy::Line::Context(t) => (LineKind::Context, t, Some(old), Some(new)),
                diffy::Line::Delete(t) => (LineKind::Removed, t, Some(old), None),
                diffy::Line::Insert(t) => (LineKind::Added, t, None, Some(new)),
            };
            old += u32::from(old_no.is_some());
            new += u32::from(new_no.is_some());
            let text = raw.strip_suffix('\n').unwrap_or(raw);
            DiffLine {
                kind,
                text: text.strip_suffix('\r').unwrap_or(text).to_string(),
                old: old_no,
                new: new_no,
                no_newline: !raw.ends_with('\n'),
            }
        })
        .collect();
    Hunk {
        header: format!("@@ -{} +{} @@", h.old_range(), h.new_range()),
        lines,
    }
}

/// `changes`, written against `old`, carried onto `new`: a file the live set did not touch
/// keeps the proposal's content; one both changed is merged line by line. Every file that
/// cannot be carried over is a conflict, reported by name.
pub fn rebase(
    old: &[RulesFile],
    new: &[RulesFile],
    changes: &[FileChange],
) -> Result<Vec<FileChange>, Vec<String>> {
    let find = |set: &[RulesFile], name: &str| {
        set.iter()
            .find(|f| f.name == name)
            .map(|f| f.content.clone())
    };
    let mut out = Vec::new();
    let mut conflicts = Vec::new();
    for c in changes {
        let (ancestor, theirs) = (find(old, &c.name), find(new, &c.name));
        match (&c.content, ancestor, theirs) {
            // Deleted by the live set too: nothing left to do.
            (None, _, None) => {}
            (None, ancestor, Some(theirs)) if ancestor.as_ref() == Some(&theirs) => {
                out.push(c.clone())
            }
            (None, _, Some(_)) => conflicts.push(format!(
                "`{}` changed in the live set, and the proposal deletes it",
                c.name
            )),
            (Some(_), None, None) => out.push(c.clone()),
            (Some(mine), None, Some(theirs)) if *mine == theirs => out.push(c.clone()),
            (Some(_), None, Some(_)) => conflicts.push(format!(
                "`{}` was added to the live set with other content",
                c.name
            )),
            (Some(_), Some(_), None) => conflicts.push(format!(
                "`{}` was deleted from the live set, and the proposal changes it",
                c.name
            )),
            (Some(mine), Some(ancestor), Some(theirs)) => {
                match diffy::merge(&ancestor, mine, &theirs) {
                    Ok(merged) => out.push(FileChange::write(c.name.clone(), merged)),
                    Err(_) => conflicts.push(format!(
                        "`{}`: the proposal's changes overlap changes made in the live set",
                        c.name
                    )),
                }
            }
        }
    }
    if conflicts.is_empty() {
        Ok(out)
    } else {
        Err(conflicts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, content: &str) -> RulesFile {
        RulesFile {
            name: name.into(),
            content: content.into(),
        }
    }

    fn delete(name: &str) -> FileChange {
        FileChange {
            name: name.into(),
            content: None,
            delete: true,
        }
    }

    #[test]
    fn apply_replaces_in_place_appends_and_deletes() {
        let base = [file("a", "1\n"), file("b", "2\n"), file("c", "3\n")];
        let out = apply(
            &base,
            &[
                FileChange::write("new", "n\n"),
                FileChange::write("b", "22\n"),
                delete("a"),
            ],
        )
        .unwrap();
        let names: Vec<_> = out
            .iter()
            .map(|f| (f.name.as_str(), f.content.as_str()))
            .collect();
        assert_eq!(names, [("b", "22\n"), ("c", "3\n"), ("new", "n\n")]);
        assert!(apply(&base, &[delete("zzz")]).is_err());
        assert!(apply(&[file("a", "")], &[delete("a")]).is_err());
    }

    #[test]
    fn validation_names_the_file() {
        let err = validate(&[
            FileChange::write("ok", ""),
            FileChange {
                name: "x".into(),
                content: None,
                delete: false,
            },
        ])
        .unwrap_err();
        assert!(err.to_string().starts_with("files[1] (`x`)"), "{err}");
        let err = validate(&[FileChange::write("a/b", "")]).unwrap_err();
        assert!(err.to_string().contains("files[0]"), "{err}");
        let err = validate(&[FileChange::write("a", ""), FileChange::write("a", "")]).unwrap_err();
        assert!(err.to_string().contains("named twice"), "{err}");
        assert!(validate(&[]).is_err());
    }

    #[test]
    fn hunks_number_dash_lines_and_a_missing_final_newline_as_file_lines() {
        // `---`/`+++` at the start of a content line (a YAML document marker) and a last line
        // without a line break are lines like any other.
        let base = [file("f", "a\n---\nb\nc")];
        let d = diff(&base, &[FileChange::write("f", "a\n---\n+++ x\nb\nC")]);
        let lines: Vec<_> = d[0].hunks[0]
            .lines
            .iter()
            .map(|l| (l.kind, l.text.as_str(), l.old, l.new, l.no_newline))
            .collect();
        use LineKind::*;
        assert_eq!(
            lines,
            [
                (Context, "a", Some(1), Some(1), false),
                (Context, "---", Some(2), Some(2), false),
                (Added, "+++ x", None, Some(3), false),
                (Context, "b", Some(3), Some(4), false),
                (Removed, "c", Some(4), None, true),
                (Added, "C", None, Some(5), true),
            ]
        );
        assert_eq!(d[0].hunks[0].header, "@@ -1,4 +1,5 @@");
    }

    #[test]
    fn diff_is_unified_per_changed_file() {
        let base = [file("a", "x\ny\nz\n"), file("b", "same\n")];
        let d = diff(
            &base,
            &[
                FileChange::write("a", "x\nY\nz\n"),
                FileChange::write("b", "same\n"),
                FileChange::write("n", "new\n"),
            ],
        );
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].status, FileStatus::Modified);
        assert!(
            d[0].diff
                .starts_with("--- a/a\n+++ b/a\n@@ -1,3 +1,3 @@\n x\n-y\n+Y\n z\n"),
            "{}",
            d[0].diff
        );
        assert_eq!(d[1].status, FileStatus::Added);
        assert!(
            d[1].diff.starts_with("--- /dev/null\n+++ b/n\n"),
            "{}",
            d[1].diff
        );
        assert!(diff(&base, &[FileChange::write("b", "same\n")]).is_empty());
    }

    #[test]
    fn rebase_merges_disjoint_edits_and_reports_overlaps() {
        let old = [file("a", "1\n2\n3\n4\n5\n6\n7\n8\n")];
        let new = [file("a", "1\nTWO\n3\n4\n5\n6\n7\n8\n")];
        let mine = [FileChange::write("a", "1\n2\n3\n4\n5\n6\n7\nEIGHT\n")];
        let out = rebase(&old, &new, &mine).unwrap();
        assert_eq!(
            out[0].content.as_deref(),
            Some("1\nTWO\n3\n4\n5\n6\n7\nEIGHT\n")
        );
        let clash = [FileChange::write("a", "1\nZWEI\n3\n4\n5\n6\n7\n8\n")];
        let err = rebase(&old, &new, &clash).unwrap_err();
        assert_eq!(err.len(), 1);
        assert!(err[0].contains("`a`"), "{err:?}");
        assert!(rebase(&old, &new, &[delete("a")]).is_err());
        assert_eq!(rebase(&old, &[file("b", "")], &[delete("a")]).unwrap(), []);
    }
}
