//! `rulestudio check [--syntax-only] --format json`: conditions from stdin, one JSON-encoded
//! string per line; one `{"valid", "diagnostics"}` line out per line in.

use super::Format;
use crate::{Outcome, report};
use anyhow::Result;
use rulestudio_api::cli::CheckResult;
use rulestudio_api::diagnostic::FileText;
use rulestudio_engine::diagnostic::{Code, Diagnostic};
use rulestudio_engine::loader;
use rulestudio_engine::span::Span;
use rulestudio_engine::syntax;
use std::io::{BufRead, Write};

#[derive(clap::Args)]
pub struct Args {
    /// Check the grammar only: unknown fields and macros are fine.
    #[arg(long)]
    syntax_only: bool,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// The name diagnostics give the condition they refer to.
const CONDITION_FILE: &str = "condition";

pub fn run(args: Args) -> Result<Outcome> {
    let stdin = std::io::stdin().lock();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut all_valid = true;
    for (n, line) in stdin.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let (condition, diagnostics) = match serde_json::from_str::<String>(&line) {
            Ok(c) => {
                let d = check(&c, args.syntax_only);
                (c, d)
            }
            Err(e) => {
                let d = Diagnostic::error(
                    Code::ERR_COMPILE_CONDITION,
                    format!("input line {} is not a JSON string: {e}", n + 1),
                    Span::local(0, 0),
                );
                (String::new(), vec![d])
            }
        };
        let texts = [FileText::new(CONDITION_FILE, &condition)];
        let result = CheckResult {
            valid: !diagnostics.iter().any(Diagnostic::is_error),
            diagnostics: report::to_json(&diagnostics, &texts),
        };
        all_valid &= result.valid;
        match args.format {
            Format::Json => writeln!(out, "{}", serde_json::to_string(&result)?)?,
            Format::Text => {
                writeln!(
                    out,
                    "{}: {}",
                    if result.valid { "valid" } else { "invalid" },
                    condition
                )?;
                for d in &result.diagnostics {
                    write!(out, "{}", report::render_text(d, &texts))?;
                }
            }
        }
    }
    out.flush()?;
    Ok(if all_valid {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}

fn check(condition: &str, syntax_only: bool) -> Vec<Diagnostic> {
    if syntax_only {
        syntax::parse(condition)
            .errors
            .into_iter()
            .map(|e| Diagnostic::error(Code::ERR_COMPILE_CONDITION, e.message, e.span))
            .collect()
    } else {
        loader::compile_standalone(condition, None).diagnostics
    }
}
