//! Rule unit tests: the tests file `rulestudio test` reads and the studio's editor writes and
//! runs in the browser, and how one case is judged, so both give the same verdict.
//!
//! A tests file is a YAML sequence of `{rule, event, expect: match|no_match, name?}`; `event` is
//! an event in the interchange format (Falco field name → value).

use rulestudio_engine::event::Event;
use rulestudio_engine::loader::{Loaded, yaml_json};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    pub rule: String,
    pub event: Map<String, Value>,
    pub expect: Expect,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    Match,
    NoMatch,
}

impl Expect {
    pub fn as_str(self) -> &'static str {
        match self {
            Expect::Match => "match",
            Expect::NoMatch => "no_match",
        }
    }
}

/// Why a case did not pass.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    #[error("bad event: {0}")]
    BadEvent(String),
    #[error("the rule is disabled or did not compile")]
    NotCompiled,
    #[error("no rule by that name")]
    NoSuchRule,
    #[error("expected {}, got {}", .expected.as_str(), .got.as_str())]
    Verdict { expected: Expect, got: Expect },
}

/// A tests file that is not a sequence of cases; the message names the place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a rule tests file: {0}")]
pub struct ParseError(pub String);

/// Reads a tests file (with the engine's YAML reader, the one rules files go through). Blank
/// text (or only comments) is no tests.
pub fn parse(text: &str) -> Result<Vec<TestCase>, ParseError> {
    let doc = yaml_json::document(text).map_err(|e| ParseError(e.to_string()))?;
    let Some(doc) = doc else {
        return Ok(Vec::new());
    };
    let items = match doc.value {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        _ => {
            return Err(ParseError(
                "line 1: a tests file is a YAML sequence of tests (`- rule: …`)".into(),
            ));
        }
    };
    items
        .into_iter()
        .zip(doc.item_lines)
        .enumerate()
        .map(|(i, (item, line))| {
            serde_json::from_value(item)
                .map_err(|e| ParseError(format!("test #{} (line {line}): {e}", i + 1)))
        })
        .collect()
}

/// Judges `case` against the rules of `loaded` (all files loaded, like Falco's `rules_files`).
pub fn judge(loaded: &Loaded, case: &TestCase) -> Result<(), Failure> {
    let event = Event::from_map(&case.event).map_err(|e| Failure::BadEvent(e.to_string()))?;
    let rule = match loaded.ruleset.rules().iter().find(|r| r.name == case.rule) {
        Some(r) => r,
        None if loaded.rules.iter().any(|r| r.name == case.rule) => {
            return Err(Failure::NotCompiled);
        }
        None => return Err(Failure::NoSuchRule),
    };
    let got = if rule.filter.matches(&event) {
        Expect::Match
    } else {
        Expect::NoMatch
    };
    if got == case.expect {
        Ok(())
    } else {
        Err(Failure::Verdict {
            expected: case.expect,
            got,
        })
    }
}

impl TestCase {
    /// `name`, or `#N` for the N-th case (1-based) of its file.
    pub fn label(&self, index: usize) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("#{}", index + 1))
    }
}

/// One case's outcome, as a proposal's evidence reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct TestResult {
    pub name: String,
    pub rule: String,
    pub passed: bool,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Judges the `index`-th case of a file and reports it.
pub fn run(loaded: &Loaded, index: usize, case: &TestCase) -> TestResult {
    let failure = judge(loaded, case).err();
    TestResult {
        name: case.label(index),
        rule: case.rule.clone(),
        passed: failure.is_none(),
        message: failure.map(|f| f.to_string()),
    }
}

/// One case as an item of a tests file, ready to append: the event as a one-line JSON flow
/// mapping (JSON is YAML), so any field value survives the round trip.
pub fn to_yaml(case: &TestCase) -> String {
    let quote = |s: &str| Value::from(s).to_string();
    let mut out = String::new();
    if let Some(name) = &case.name {
        out.push_str(&format!("- name: {}\n  rule: ", quote(name)));
    } else {
        out.push_str("- rule: ");
    }
    out.push_str(&format!(
        "{}\n  expect: {}\n  event: {}\n",
        quote(&case.rule),
        case.expect.as_str(),
        Value::Object(case.event.clone())
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rulestudio_engine::loader::{LoadOptions, SourceFile, load};

    const RULES: &str = "- rule: Shell\n  desc: d\n  condition: evt.type = execve and proc.name = bash\n  output: x\n  priority: WARNING\n\
                         - rule: Off\n  desc: d\n  condition: evt.type = execve\n  output: x\n  priority: WARNING\n  enabled: false\n";

    fn loaded() -> Loaded {
        let files = [SourceFile {
            name: "r.yaml".into(),
            text: RULES.into(),
        }];
        load(&files, &LoadOptions::default())
    }

    fn case(rule: &str, event: Value, expect: Expect) -> TestCase {
        let Value::Object(event) = event else {
            unreachable!()
        };
        TestCase {
            rule: rule.into(),
            event,
            expect,
            name: None,
        }
    }

    #[test]
    fn verdicts_and_failures() {
        let l = loaded();
        let bash = serde_json::json!({"evt.type": "execve", "proc.name": "bash"});
        let sh = serde_json::json!({"evt.type": "execve", "proc.name": "sh"});
        assert_eq!(
            judge(&l, &case("Shell", bash.clone(), Expect::Match)),
            Ok(())
        );
        assert_eq!(
            judge(&l, &case("Shell", sh.clone(), Expect::NoMatch)),
            Ok(())
        );
        assert_eq!(
            judge(&l, &case("Shell", sh, Expect::Match))
                .unwrap_err()
                .to_string(),
            "expected match, got no_match"
        );
        assert_eq!(
            judge(&l, &case("Off", bash.clone(), Expect::Match)),
            Err(Failure::NotCompiled)
        );
        assert_eq!(
            judge(&l, &case("Nope", bash, Expect::Match)),
            Err(Failure::NoSuchRule)
        );
        let bad = serde_json::json!({"proc.pid": "x"});
        assert!(matches!(
            judge(&l, &case("Shell", bad, Expect::Match)),
            Err(Failure::BadEvent(_))
        ));
    }

    #[test]
    fn written_cases_read_back_unchanged() {
        let mut c = case(
            "Shell \"quoted\": yes",
            serde_json::json!({"evt.type": "execve", "proc.cmdline": "bash -c 'a: b' # not a comment", "proc.pid": 42, "evt.arg.flags": "O_RDONLY|O_CLOEXEC", "x": null}),
            Expect::NoMatch,
        );
        c.name = Some("sample event 7 — benign".into());
        let text = format!(
            "{}{}",
            to_yaml(&c),
            to_yaml(&case("B", serde_json::json!({}), Expect::Match))
        );
        let back = parse(&text).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[0], c);
    }

    #[test]
    fn errors_name_the_place() {
        assert_eq!(parse("  \n"), Ok(Vec::new()));
        let e = parse("- rule: A\n  event: {}\n  expect: match\n- rule: B\n  event: {}\n  expect: sometimes\n")
            .unwrap_err();
        assert!(
            e.0.starts_with("test #2 (line 4): unknown variant `sometimes`"),
            "{e}"
        );
        let e = parse("- rule: A\n  event: {}\n  expect: match\n  extra: 1\n").unwrap_err();
        assert!(e.0.contains("unknown field `extra`"), "{e}");
        let e = parse("rule: A\n").unwrap_err();
        assert!(e.0.contains("a YAML sequence of tests"), "{e}");
        let e = parse("- a: &x 1\n- b: *x\n").unwrap_err();
        assert!(e.0.starts_with("line 2: aliases"), "{e}");
    }
}
