//! `rulestudio test --rules FILE [--rules FILE]... TESTS.yaml...`: rule unit tests.
//!
//! A tests file is a YAML sequence of `{rule, event, expect: match|no_match, name?}`; `event` is
//! an event in the interchange format. Prints one line per failure and `N passed, M failed`.

use crate::Outcome;
use anyhow::{Context, Result};
use rulestudio_engine::event::Event;
use rulestudio_engine::loader::Loaded;
use serde::Deserialize;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Rules files, loaded in the order given.
    #[arg(long = "rules", required = true)]
    rules: Vec<PathBuf>,
    /// Tests files.
    #[arg(required = true)]
    tests: Vec<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestCase {
    rule: String,
    event: serde_json::Map<String, serde_json::Value>,
    expect: Expect,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Expect {
    Match,
    NoMatch,
}

impl Expect {
    fn as_str(self) -> &'static str {
        match self {
            Expect::Match => "match",
            Expect::NoMatch => "no_match",
        }
    }
}

pub fn run(args: Args) -> Result<Outcome> {
    let loaded = super::load_rules(&args.rules)?;
    let (mut passed, mut failed) = (0usize, 0usize);
    for path in &args.tests {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let cases: Vec<TestCase> =
            serde_saphyr::from_str(&text).with_context(|| format!("{}: not a rule tests file", path.display()))?;
        for (i, case) in cases.iter().enumerate() {
            let label = case.name.clone().unwrap_or_else(|| format!("#{}", i + 1));
            match judge(&loaded, case) {
                Ok(()) => passed += 1,
                Err(why) => {
                    failed += 1;
                    println!("FAIL {}: test {label} (rule '{}'): {why}", path.display(), case.rule);
                }
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 { Outcome::Clean } else { Outcome::Findings })
}

fn judge(loaded: &Loaded, case: &TestCase) -> Result<(), String> {
    let event = Event::from_map(&case.event).map_err(|e| format!("bad event: {e}"))?;
    let rule = match loaded.ruleset.rules().iter().find(|r| r.name == case.rule) {
        Some(r) => r,
        None if loaded.rules.iter().any(|r| r.name == case.rule) => {
            return Err("the rule is disabled or did not compile".into());
        }
        None => return Err("no rule by that name".into()),
    };
    let got = if rule.filter.matches(&event) { Expect::Match } else { Expect::NoMatch };
    if got == case.expect { Ok(()) } else { Err(format!("expected {}, got {}", case.expect.as_str(), got.as_str())) }
}
