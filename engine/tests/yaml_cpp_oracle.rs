//! Differential check of the YAML reader against yaml-cpp itself, run on demand.
//!
//! With `YAML_CPP_ORACLE` pointing at the oracle built by
//! `tests/conformance/yaml/yaml-cpp-oracle/build.sh` from a yaml-cpp checkout, every YAML file of the repository's rulesets and fixtures and
//! `YAML_CPP_MUTANTS` (default 20,000) mutated excerpts of them are read by both readers, which
//! must print the same canonical tree or the same error (message and position). Without the
//! variable the test says it was skipped.

use rulestudio_engine::loader::yaml_canonical;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

/// A small deterministic generator (xorshift64*), so a failing mutant can be found again.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// A run of lines from one of `sources`, with one to three byte-level edits that YAML cares
/// about (indentation, flow and block indicators, quotes, tabs, line breaks).
fn mutant(rng: &mut Rng, sources: &[String]) -> String {
    const BYTES: &[u8] = b" \t\n:-[]{},#&*!|>'\"%@?~\\";
    let lines: Vec<&str> = sources[rng.below(sources.len())].lines().collect();
    let start = rng.below(lines.len());
    let len = 1 + rng.below(40);
    let mut text = lines[start..(start + len).min(lines.len())]
        .join("\n")
        .into_bytes();
    text.push(b'\n');
    for _ in 0..1 + rng.below(3) {
        if text.is_empty() {
            text.push(b'\n');
        }
        let at = rng.below(text.len());
        match rng.below(4) {
            0 => text.insert(at, BYTES[rng.below(BYTES.len())]),
            1 => {
                text.remove(at);
            }
            2 => text[at] = BYTES[rng.below(BYTES.len())],
            _ => {
                // indent or dedent the line holding `at`
                let line_start = text[..at]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |p| p + 1);
                if rng.below(2) == 0 {
                    text.insert(line_start, b' ');
                } else if text.get(line_start) == Some(&b' ') {
                    text.remove(line_start);
                }
            }
        }
    }
    String::from_utf8_lossy(&text).into_owned()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> String {
    let bytes: Vec<u8> = (0..text.len() / 2)
        .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn agrees_with_yaml_cpp() {
    let Some(oracle) = std::env::var_os("YAML_CPP_ORACLE") else {
        eprintln!("YAML_CPP_ORACLE is not set: differential check against yaml-cpp skipped");
        return;
    };
    let mutants: usize = std::env::var("YAML_CPP_MUTANTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    let mut files = Vec::new();
    for dir in ["engine/data", "tests/fixtures", "tests/conformance"] {
        yaml_files(&repo().join(dir), &mut files);
    }
    let sources: Vec<String> = files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .collect();
    assert!(!sources.is_empty(), "no YAML files found");
    let mut inputs = sources.clone();
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    inputs.extend((0..mutants).map(|_| mutant(&mut rng, &sources)));

    let mut child = Command::new(&oracle)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the yaml-cpp oracle runs");
    let mut stdin = child.stdin.take().unwrap();
    let feeder = {
        let lines: Vec<String> = inputs.iter().map(|t| hex(t.as_bytes())).collect();
        std::thread::spawn(move || {
            for line in lines {
                writeln!(stdin, "{line}").unwrap();
            }
        })
    };
    let answers = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut differences = Vec::new();
    let mut agreed = 0;
    let mut answered = 0;
    let mut yaml_cpp_failed = 0;
    for (input, answer) in inputs.iter().zip(answers) {
        answered += 1;
        let theirs = unhex(&answer.unwrap());
        // yaml-cpp crashed or looped on it (see oracle.cpp): no verdict to compare with.
        if theirs.starts_with("CRASH") || theirs == "HANG" {
            yaml_cpp_failed += 1;
            continue;
        }
        let ours = yaml_canonical(input);
        // Our own limits (nesting, alias expansion) are not yaml-cpp's and are not compared.
        if ours.starts_with("ERR ") && !ours.starts_with("ERR yaml-cpp:") {
            continue;
        }
        if ours == theirs {
            agreed += 1;
        } else if differences.len() < 20 {
            differences.push(format!(
                "input {input:?}\n  yaml-cpp: {theirs:?}\n  ours:     {ours:?}"
            ));
        } else {
            differences.push(String::new());
        }
    }
    feeder.join().unwrap();
    child.wait().unwrap();
    assert_eq!(answered, inputs.len(), "the oracle stopped answering");
    eprintln!(
        "yaml-cpp oracle: {agreed} of {} inputs agree ({yaml_cpp_failed} crashed or hung yaml-cpp)",
        inputs.len()
    );
    assert!(
        differences.is_empty(),
        "{} inputs read differently:\n{}",
        differences.len(),
        differences.join("\n")
    );
}
