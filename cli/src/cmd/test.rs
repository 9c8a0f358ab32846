//! `rulestudio test --rules FILE [--rules FILE]... TESTS.yaml...`: rule unit tests.
//!
//! The tests file format and the verdicts are `rulestudio_api::ruletest`'s, shared with the
//! studio's editor. Prints one line per failure and `N passed, M failed`.

use crate::Outcome;
use anyhow::{Context, Result};
use rulestudio_api::ruletest;
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
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let cases = ruletest::parse(&text).with_context(|| path.display().to_string())?;
        for (i, case) in cases.iter().enumerate() {
            let label = case.label(i);
            match ruletest::judge(&loaded, case) {
                Ok(()) => passed += 1,
                Err(why) => {
                    failed += 1;
                    println!(
                        "FAIL {}: test {label} (rule '{}'): {why}",
                        path.display(),
                        case.rule
                    );
                }
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}
