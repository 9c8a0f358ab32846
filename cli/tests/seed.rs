//! The article's seven rules (`tests/fixtures/article-rules.yaml`) through the real binary, run
//! from the repository root as a user would: `lint` explains every problem (the text report is
//! kept in `tests/fixtures/article-rules.lint.txt`; `UPDATE_EXPECT=1` refreshes it), and
//! `lint --fix --unsafe-fixes` turns a copy into valid Falco that `rulestudio test` proves
//! catches the behaviour each rule describes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const FALCO_RULES: &str = "engine/data/falco_rules.yaml";
const SEED: &str = "tests/fixtures/article-rules.yaml";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("cli/ is in the workspace")
        .to_path_buf()
}

fn rulestudio(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rulestudio"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("run rulestudio")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn fixed_seed_rules_pass_their_tests() {
    let dir = tempfile::tempdir().expect("temp dir");
    let copy = dir.path().join("article-rules.yaml");
    std::fs::copy(root().join(SEED), &copy).expect("copy the seed rules");
    let copy = copy.to_str().expect("UTF-8 temp path");

    let lint = rulestudio(&["lint", "--fix", "--unsafe-fixes", FALCO_RULES, copy]);
    let report = stdout(&lint);
    assert_eq!(
        lint.status.code(),
        Some(0),
        "{report}{}",
        String::from_utf8_lossy(&lint.stderr)
    );
    assert!(
        report.ends_with(" fixed)\n") && report.contains("ok: 0 errors, 0 warnings"),
        "{report}"
    );
    let fixed = std::fs::read_to_string(copy).expect("read the fixed copy");
    let want = std::fs::read_to_string(root().join("tests/fixtures/article-rules.fixed.yaml"))
        .expect("fixed rules");
    assert!(
        fixed == want,
        "the CLI's fixes differ from tests/fixtures/article-rules.fixed.yaml:\n{fixed}"
    );

    let test = rulestudio(&[
        "test",
        "--rules",
        FALCO_RULES,
        "--rules",
        copy,
        "tests/fixtures/article-events.yaml",
    ]);
    let results = stdout(&test);
    assert_eq!(
        test.status.code(),
        Some(0),
        "{results}{}",
        String::from_utf8_lossy(&test.stderr)
    );
    let last = results.lines().last().unwrap_or("");
    let passed: usize = last
        .strip_suffix(" passed, 0 failed")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{results}"));
    assert!(passed >= 14, "two events per rule at least: {results}");
}

#[test]
fn lint_text_report_snapshot() {
    let out = rulestudio(&["lint", FALCO_RULES, SEED]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the seed rules do not load: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = stdout(&out);
    let path = root().join("tests/fixtures/article-rules.lint.txt");
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&path, &report).expect("write the snapshot");
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        report == want,
        "{} is stale; run with UPDATE_EXPECT=1\n{report}",
        path.display()
    );
}
