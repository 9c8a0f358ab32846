//! Data-driven conformance suite for the condition parser: every `*.cases` file under
//! `tests/conformance/parse/` (format in that folder's README.md). Each case's canonical
//! rendering and errors (with positions) must match; `UPDATE_EXPECT=1` rewrites the expectations
//! from what the parser produces.

use rulestudio_engine::span::LineIndex;
use rulestudio_engine::syntax::{self, render};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance/parse")
}

/// One line of a case file.
enum Line {
    /// Kept verbatim: comments and blank lines.
    Other(String),
    /// `> raw` or `>> "json string"`, with the decoded input.
    Input { line: String, text: String },
    /// `= …` or `! …`: an expectation of the preceding input.
    Expect(String),
}

fn read_cases(path: &Path) -> Vec<Line> {
    let content = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    content
        .lines()
        .enumerate()
        .map(|(n, line)| {
            if let Some(json) = line.strip_prefix(">> ") {
                let text = serde_json::from_str(json)
                    .unwrap_or_else(|e| panic!("{}:{}: bad JSON string: {e}", path.display(), n + 1));
                Line::Input { line: line.to_owned(), text }
            } else if let Some(raw) = line.strip_prefix("> ") {
                Line::Input { line: line.to_owned(), text: raw.to_owned() }
            } else if ["= ", "! ", "== ", "!! "].iter().any(|m| line.starts_with(m)) {
                Line::Expect(line.to_owned())
            } else {
                Line::Other(line.to_owned())
            }
        })
        .collect()
}

/// What the parser says about `input`, as expectation lines.
fn actual(input: &str) -> Vec<String> {
    let parsed = syntax::parse(input);
    let index = LineIndex::new(input);
    let mut lines = vec![expectation("=", &render::canonical(&parsed.tree))];
    for error in &parsed.errors {
        let start = index.line_col(input, error.span.start);
        let end = index.line_col(input, error.span.end);
        let text = format!("{}:{}-{}:{} {}", start.line, start.column, end.line, end.column, error.message);
        lines.push(expectation("!", &text));
    }
    lines
}

/// `marker text`, or `marker marker "json"` when the text would not survive as a plain line
/// (control characters, trailing blanks that editors strip).
fn expectation(marker: &str, text: &str) -> String {
    if text.chars().any(char::is_control) || text.ends_with(char::is_whitespace) {
        let json = serde_json::to_string(text).expect("strings serialise");
        format!("{marker}{marker} {json}")
    } else {
        format!("{marker} {text}")
    }
}

#[test]
fn parse_conformance() {
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut files: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("tests/conformance/parse exists")
        .map(|e| e.expect("readable directory").path())
        .filter(|p| p.extension().is_some_and(|e| e == "cases"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .cases files in {}", cases_dir().display());

    let mut failures = String::new();
    let mut total = 0;
    for file in &files {
        let lines = read_cases(file);
        let mut rewritten = Vec::new();
        let mut i = 0;
        while i < lines.len() {
            match &lines[i] {
                Line::Other(l) => rewritten.push(l.clone()),
                Line::Expect(l) => panic!("{}: expectation without an input: {l}", file.display()),
                Line::Input { line, text } => {
                    total += 1;
                    let mut expected = Vec::new();
                    while let Some(Line::Expect(e)) = lines.get(i + 1) {
                        expected.push(e.clone());
                        i += 1;
                    }
                    let got = actual(text);
                    if got != expected {
                        let _ = writeln!(
                            failures,
                            "{}: {line}\n  expected:\n    {}\n  actual:\n    {}\n",
                            file.file_name().unwrap_or_default().to_string_lossy(),
                            expected.join("\n    "),
                            got.join("\n    ")
                        );
                    }
                    rewritten.push(line.clone());
                    rewritten.extend(got);
                }
            }
            i += 1;
        }
        if update {
            let mut content = rewritten.join("\n");
            content.push('\n');
            std::fs::write(file, content).expect("case file is writable");
        }
    }
    assert!(update || failures.is_empty(), "parser conformance failures ({total} cases):\n\n{failures}");
    eprintln!("{total} parser conformance cases in {} files", files.len());
}
