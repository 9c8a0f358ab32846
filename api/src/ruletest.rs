//! Rule unit tests: an event and whether a rule must match it. The same shape is a YAML tests
//! file for `rulestudio test` and the `tests` of a proposal, judged by the same code.

use rulestudio_engine::event::Event;
use rulestudio_engine::loader::Loaded;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleTest {
    pub rule: String,
    /// An event in the interchange format (Falco field name → value).
    pub event: serde_json::Map<String, serde_json::Value>,
    pub expect: Expect,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

impl RuleTest {
    /// `name`, or `#N` for the N-th test (1-based) of its list.
    pub fn label(&self, index: usize) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("#{}", index + 1))
    }

    /// `Ok` when the rule does what the test expects on its event; otherwise why not.
    pub fn judge(&self, loaded: &Loaded) -> Result<(), String> {
        let event = Event::from_map(&self.event).map_err(|e| format!("bad event: {e}"))?;
        let rule = match loaded.ruleset.rules().iter().find(|r| r.name == self.rule) {
            Some(r) => r,
            None if loaded.rules.iter().any(|r| r.name == self.rule) => {
                return Err("the rule is disabled or did not compile".into());
            }
            None => return Err("no rule by that name".into()),
        };
        let got = if rule.filter.matches(&event) {
            Expect::Match
        } else {
            Expect::NoMatch
        };
        if got == self.expect {
            Ok(())
        } else {
            Err(format!(
                "expected {}, got {}",
                self.expect.as_str(),
                got.as_str()
            ))
        }
    }

    pub fn run(&self, index: usize, loaded: &Loaded) -> TestResult {
        let outcome = self.judge(loaded);
        TestResult {
            name: self.label(index),
            rule: self.rule.clone(),
            passed: outcome.is_ok(),
            message: outcome.err(),
        }
    }
}

/// One test's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestResult {
    pub name: String,
    pub rule: String,
    pub passed: bool,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}
