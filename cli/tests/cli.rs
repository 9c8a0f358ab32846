//! The CLI contract of issue #2, exercised through the real binary: exit codes, JSON shapes,
//! and verdicts on the official ruleset.

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn falco_rules() -> PathBuf {
    root().join("engine/data/falco_rules.yaml")
}

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/cli").join(name)
}

fn rulestudio(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rulestudio"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run rulestudio");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect(l))
        .collect()
}

#[test]
fn lint_of_the_official_ruleset_is_ok() {
    let out = rulestudio(
        &["lint", "--format", "json", falco_rules().to_str().unwrap()],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["result"], "ok");
    assert_eq!(report["rules"], 25);
    assert_eq!(report["macros"], 87);
    assert_eq!(report["lists"], 49);
    let enabled: Vec<&str> = report["enabled_rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(enabled.contains(&"Terminal shell in container"));
    let errors = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == "error")
        .count();
    assert_eq!(errors, 0);
}

#[test]
fn lint_reports_every_error_with_its_place() {
    let out = rulestudio(
        &[
            "lint",
            "--format",
            "json",
            fixture("broken.yaml").to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["result"], "error");
    let diags = report["diagnostics"].as_array().unwrap();
    let yaml = diags
        .iter()
        .find(|d| d["code"] == "LOAD_ERR_YAML_PARSE")
        .expect("the YAML error is reported");
    assert!(yaml["line"].as_u64().unwrap() >= 6, "{yaml}");
    for key in [
        "file",
        "severity",
        "message",
        "column",
        "end_line",
        "end_column",
        "item_type",
        "item_name",
        "help",
        "fix",
    ] {
        assert!(yaml.get(key).is_some(), "diagnostic lacks `{key}`: {yaml}");
    }
}

#[test]
fn lint_text_format_shows_the_source_line_and_carets() {
    let out = rulestudio(&["lint", fixture("broken.yaml").to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("broken.yaml:"), "{text}");
    assert!(text.contains(": error[LOAD_ERR_"), "{text}");
    assert!(text.contains('^'), "{text}");
}

#[test]
fn missing_file_is_a_usage_error() {
    let out = rulestudio(&["lint", "/nonexistent/rules.yaml"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/rules.yaml"));
}

#[test]
fn invalid_utf8_is_a_diagnostic_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    let bytes = b"- list: a\n  items: [\xff\xfe, \"/tmp/*\"]\n";
    std::fs::write(&path, bytes).unwrap();
    // Falco (yaml-cpp) takes the bytes as they are, so the file loads: a warning, not an error.
    let out = rulestudio(&["lint", "--format", "json", path.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["result"], "ok");
    let d = &report["diagnostics"][0];
    assert_eq!(d["severity"], "warning");
    assert!(d["message"].as_str().unwrap().contains("UTF-8"), "{d}");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(2), Some(11))
    );
    // `--fix` never writes the replacement characters back over the user's bytes.
    rulestudio(
        &["lint", "--fix", "--unsafe-fixes", path.to_str().unwrap()],
        None,
    );
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

#[test]
fn explain_shows_compiled_conditions() {
    let out = rulestudio(
        &[
            "explain",
            "--format",
            "json",
            falco_rules().to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules = report["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 25);
    for r in rules {
        assert!(r["compiled_condition"].is_string(), "{r}");
    }
    let shell = rules
        .iter()
        .find(|r| r["name"] == "Terminal shell in container")
        .unwrap();
    assert_eq!(shell["priority"], "Notice");
    let types: Vec<&str> = shell["evt_types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(types, ["execve", "execveat"]);
    let compiled = shell["compiled_condition"].as_str().unwrap();
    assert!(
        compiled.contains("proc.name in (ash, bash, csh, ksh, sh, tcsh, zsh, dash)"),
        "{compiled}"
    );
    assert!(
        !compiled.contains("spawned_process"),
        "macros are inlined: {compiled}"
    );
}

#[test]
fn check_answers_one_line_per_condition() {
    let input = [
        r#""proc.name = bash and fd.name startswith /etc/""#,
        r#""proc.nobody = 1""#,
        r#""evt.type = open and""#,
        r#""my_macro and proc.nobody exists""#,
    ]
    .join("\n");
    let full = rulestudio(&["check", "--format", "json"], Some(&input));
    let lines = json_lines(&full);
    assert_eq!(lines.len(), 4);
    let valid: Vec<bool> = lines
        .iter()
        .map(|l| l["valid"].as_bool().unwrap())
        .collect();
    assert_eq!(valid, [true, false, false, false]);
    assert!(
        lines[1]["diagnostics"][0]["message"]
            .as_str()
            .unwrap()
            .contains("proc.nobody")
    );
    assert_eq!(lines[1]["diagnostics"][0]["column"], 1);

    let syntax = rulestudio(
        &["check", "--syntax-only", "--format", "json"],
        Some(&input),
    );
    let valid: Vec<bool> = json_lines(&syntax)
        .iter()
        .map(|l| l["valid"].as_bool().unwrap())
        .collect();
    assert_eq!(valid, [true, true, false, true]);
}

#[test]
fn eval_of_a_condition_names_the_rule_condition() {
    let out = rulestudio(
        &[
            "eval",
            "--condition",
            "evt.type = openat and fd.name startswith /etc/",
            "--events",
            fixture("events.jsonl").to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    let hits: Vec<(u64, &str)> = lines
        .iter()
        .map(|l| (l["event"].as_u64().unwrap(), l["rule"].as_str().unwrap()))
        .collect();
    assert_eq!(hits, [(1, "condition"), (2, "condition")]);
}

#[test]
fn eval_of_the_official_rules() {
    let events = fixture("events.jsonl");
    let out = rulestudio(
        &[
            "eval",
            "--rules",
            falco_rules().to_str().unwrap(),
            "--events",
            events.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    let hits: Vec<(u64, &str)> = lines
        .iter()
        .map(|l| (l["event"].as_u64().unwrap(), l["rule"].as_str().unwrap()))
        .collect();
    assert!(
        hits.contains(&(0, "Terminal shell in container")),
        "{hits:?}"
    );
    assert!(
        hits.contains(&(1, "Read sensitive file untrusted")),
        "{hits:?}"
    );
    assert!(
        !hits.iter().any(|(e, _)| *e == 2),
        "reading /etc/hosts is fine: {hits:?}"
    );
    let shell = lines.iter().find(|l| l["event"] == 0).unwrap();
    assert_eq!(shell["priority"], "Notice");
    assert!(shell["output"].as_str().unwrap().starts_with(
        "A shell was spawned in a container with an attached terminal | evt_type=execve user=root"
    ));
}

#[test]
fn rule_tests_pass_and_fail_with_a_summary() {
    let rules = falco_rules();
    let ok = rulestudio(
        &[
            "test",
            "--rules",
            rules.to_str().unwrap(),
            fixture("shell-tests.yaml").to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("3 passed, 0 failed"));

    let bad = rulestudio(
        &[
            "test",
            "--rules",
            rules.to_str().unwrap(),
            fixture("failing-tests.yaml").to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(bad.status.code(), Some(1));
    let text = String::from_utf8_lossy(&bad.stdout);
    assert!(text.contains("0 passed, 2 failed"), "{text}");
    assert!(text.contains("expected match, got no_match"), "{text}");
    assert!(text.contains("no rule by that name"), "{text}");
}
