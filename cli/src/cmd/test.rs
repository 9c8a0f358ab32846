//! `rulestudio test --rules FILE [--rules FILE]... TESTS.yaml...`: rule unit tests.
//!
//! A tests file is a YAML sequence of `{rule, event, expect: match|no_match, name?}`; `event` is
//! an event in the interchange format. Prints one line per failure and `N passed, M failed`.

use crate::Outcome;
use anyhow::{Context, Result};
use rulestudio_api::ruletest::RuleTest;
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

pub fn run(args: Args) -> Result<Outcome> {
    let loaded = super::load_rules(&args.rules)?;
    let (mut passed, mut failed) = (0usize, 0usize);
    for path in &args.tests {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let cases: Vec<RuleTest> =
            serde_saphyr::from_str(&text).with_context(|| format!("{}: not a rule tests file", path.display()))?;
        for (i, case) in cases.iter().enumerate() {
            match case.judge(&loaded) {
                Ok(()) => passed += 1,
                Err(why) => {
                    failed += 1;
                    println!("FAIL {}: test {} (rule '{}'): {why}", path.display(), case.label(i), case.rule);
                }
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 { Outcome::Clean } else { Outcome::Findings })
}
