//! Data-driven conformance suite for the condition parser: every `*.cases` file under
//! `tests/conformance/parse/` (format in that folder's README.md). Each case's canonical
//! rendering and errors (with positions) must match; `UPDATE_EXPECT=1` rewrites the expectations
//! from what the parser produces.
//!
//! With `LIBS_PARSER_ORACLE` pointing at the oracle built from libs' own parser
//! (`tests/conformance/parse/libs-oracle/build.sh`), every case input and a few thousand
//! generated ones are also checked against libs: same acceptance, same canonical text, and our
//! first error is libs' error.

use rulestudio_engine::span::LineIndex;
use rulestudio_engine::syntax::{self, render};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

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
    let content =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    content
        .lines()
        .enumerate()
        .map(|(n, line)| {
            if let Some(json) = line.strip_prefix(">> ") {
                let text = serde_json::from_str(json).unwrap_or_else(|e| {
                    panic!("{}:{}: bad JSON string: {e}", path.display(), n + 1)
                });
                Line::Input {
                    line: line.to_owned(),
                    text,
                }
            } else if let Some(raw) = line.strip_prefix("> ") {
                Line::Input {
                    line: line.to_owned(),
                    text: raw.to_owned(),
                }
            } else if ["= ", "! ", "== ", "!! "]
                .iter()
                .any(|m| line.starts_with(m))
            {
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
        let text = format!(
            "{}:{}-{}:{} {}",
            start.line, start.column, end.line, end.column, error.message
        );
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

fn case_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("tests/conformance/parse exists")
        .map(|e| e.expect("readable directory").path())
        .filter(|p| p.extension().is_some_and(|e| e == "cases"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no .cases files in {}",
        cases_dir().display()
    );
    files
}

#[test]
fn parse_conformance() {
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let files = case_files();

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
    assert!(
        update || failures.is_empty(),
        "parser conformance failures ({total} cases):\n\n{failures}"
    );
    eprintln!("{total} parser conformance cases in {} files", files.len());
}

/// Inputs libs treats differently on purpose: `val(f)[arg]` parses in libs and fails when
/// compiled; our tree has no place for the argument, so the parser reports libs' compile error.
const KNOWN_DIFFERENCES: &[&str] = &["does not support field arguments"];

#[test]
fn agrees_with_libs_parser() {
    let Some(oracle) = std::env::var_os("LIBS_PARSER_ORACLE") else {
        eprintln!("LIBS_PARSER_ORACLE is not set: differential check against libs skipped");
        return;
    };
    let mut inputs: Vec<String> = case_files()
        .iter()
        .flat_map(|f| read_cases(f))
        .filter_map(|line| match line {
            Line::Input { text, .. } => Some(text),
            _ => None,
        })
        .collect();
    inputs.extend(generated_inputs(20_000));

    let mut child = Command::new(&oracle)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", oracle.to_string_lossy()));
    let mut stdin = child.stdin.take().expect("piped stdin");
    let to_send = inputs.clone();
    let writer = std::thread::spawn(move || {
        for input in &to_send {
            writeln!(stdin, "{}", hex(input.as_bytes())).expect("oracle reads its input");
        }
    });
    let answers: Vec<String> = BufReader::new(child.stdout.take().expect("piped stdout"))
        .lines()
        .map(|l| l.expect("oracle output"))
        .collect();
    writer.join().expect("writer finished");
    assert!(child.wait().expect("oracle exits").success());
    assert_eq!(answers.len(), inputs.len(), "one answer per input");

    let mut differences = Vec::new();
    for (input, answer) in inputs.iter().zip(&answers) {
        let (verdict, payload) = answer.split_once(' ').unwrap_or((answer, ""));
        let libs = String::from_utf8_lossy(&unhex(payload)).into_owned();
        let parsed = syntax::parse(input);
        let ours = match parsed.errors.first() {
            None => ("OK", render::canonical(&parsed.tree)),
            Some(e) => ("ERR", e.message.clone()),
        };
        let known = KNOWN_DIFFERENCES.iter().any(|k| ours.1.contains(k));
        if (verdict, libs.as_str()) != (ours.0, ours.1.as_str()) && !known {
            differences.push(format!(
                "{input:?}\n  libs: {verdict} {libs}\n  ours: {} {}",
                ours.0, ours.1
            ));
        }
    }
    eprintln!("{} inputs compared with libs", inputs.len());
    assert!(
        differences.is_empty(),
        "{} differences from libs:\n{}",
        differences.len(),
        differences.join("\n")
    );
}

/// Deterministic random conditions built from the tokens the grammar cares about.
fn generated_inputs(count: usize) -> Vec<String> {
    const PIECES: &[&str] = &[
        "(",
        ")",
        " ",
        "\t",
        "\n",
        "and",
        "or",
        "not",
        "not(",
        "a.b",
        "x",
        "=",
        "!=",
        "<",
        ">=",
        "in",
        "exists",
        "contains ",
        "oneof ",
        "anyof",
        ",",
        "'",
        "\"",
        "\\",
        "[",
        "]",
        "0x1",
        "-1.5e+3",
        "val(",
        "b64(",
        "join(",
        "tolower(",
        "#",
        "é",
        "!~",
        "pmatch",
        "intersects",
        " (",
        "x.y[0]",
        "'a b'",
        "\"\\x41\"",
        "\\'",
        "_",
        "1",
    ];
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..count)
        .map(|_| {
            let len = 1 + (next() % 14) as usize;
            (0..len)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect()
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len() / 2)
        .filter_map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok())
        .collect()
}
