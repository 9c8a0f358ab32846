//! `rulestudio explain [--format json] FILE...`

use super::{Format, print_diagnostics};
use crate::{Outcome, files};
use anyhow::Result;
use rulestudio_api::cli::{ExplainReport, ExplainedRule};
use rulestudio_engine::loader::{self, LoadOptions};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

pub fn run(args: Args) -> Result<Outcome> {
    let sources = files::read(&args.files)?;
    let loaded = loader::load(&sources.files, &LoadOptions::default());
    let mut diagnostics = sources.diagnostics.clone();
    diagnostics.extend(loaded.diagnostics.iter().filter(|d| d.is_error()).cloned());
    print_diagnostics(&diagnostics, &sources.files);
    let rules: Vec<ExplainedRule> = loaded
        .rules
        .iter()
        .map(|r| ExplainedRule {
            name: r.name.clone(),
            enabled: r.enabled,
            priority: r.priority,
            source: r.source.clone(),
            tags: r.tags.clone(),
            evt_types: r
                .evt_types
                .as_ref()
                .map(|t| t.iter().map(|s| s.to_string()).collect()),
            condition: r.condition.clone(),
            compiled_condition: r.compiled_condition.clone(),
            output: r.output.clone(),
        })
        .collect();
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&ExplainReport { rules })?
        ),
        Format::Text => {
            for r in &rules {
                println!(
                    "rule: {}{}",
                    r.name,
                    if r.enabled { "" } else { " (disabled)" }
                );
                println!(
                    "  priority: {}  source: {}  tags: [{}]",
                    r.priority,
                    r.source,
                    r.tags.join(", ")
                );
                match &r.evt_types {
                    Some(t) => println!("  evt.type: {}", summarize_types(t)),
                    None => println!("  evt.type: (did not compile)"),
                }
                println!(
                    "  compiled: {}",
                    r.compiled_condition
                        .as_deref()
                        .unwrap_or("(did not compile)")
                );
                println!("  output: {}\n", r.output);
            }
        }
    }
    Ok(if loaded.ok() {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}

fn summarize_types(types: &[String]) -> String {
    const SHOWN: usize = 12;
    if types.len() <= SHOWN {
        types.join(", ")
    } else {
        format!("{} … ({} types)", types[..SHOWN].join(", "), types.len())
    }
}
