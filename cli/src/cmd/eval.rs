//! `rulestudio eval (--rules FILE... | --condition TEXT) --events EVENTS.jsonl [--format json]
//! [--first-match]`: one line per (event, matching enabled rule).

mod pipeline;

use super::{Format, print_diagnostics};
use crate::Outcome;
use anyhow::{Context, Result, bail};
use pipeline::Piece;
use rulestudio_api::cli::EvalMatch;
use rulestudio_engine::eval::{Filter, RuleSet};
use rulestudio_engine::event::Event;
use rulestudio_engine::loader;
use rulestudio_engine::rule::Matching;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Rules files, loaded in the order given.
    #[arg(
        long = "rules",
        conflicts_with = "condition",
        required_unless_present = "condition"
    )]
    rules: Vec<PathBuf>,
    /// A single condition, evaluated as a rule named `condition`.
    #[arg(long)]
    condition: Option<String>,
    /// Events in the interchange format, one JSON object per line.
    #[arg(long)]
    events: PathBuf,
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
    /// Falco's default `rule_matching: first`: only the first matching rule in load order.
    #[arg(long)]
    first_match: bool,
}

/// The name and priority reported for `--condition` matches.
const CONDITION_RULE: &str = "condition";
const CONDITION_PRIORITY: &str = "Debug";

enum Judge {
    Rules(RuleSet),
    Condition(Filter),
}

pub fn run(args: Args) -> Result<Outcome> {
    let judge = match &args.condition {
        Some(c) => {
            let compiled = loader::compile_standalone(c, None);
            let file = [loader::SourceFile {
                name: CONDITION_RULE.into(),
                text: c.clone(),
            }];
            print_diagnostics(&compiled.diagnostics, &file);
            match compiled.filter {
                Some(f) => Judge::Condition(f),
                None => bail!("the condition does not compile"),
            }
        }
        None => Judge::Rules(super::load_rules(&args.rules)?.ruleset),
    };
    let matching = if args.first_match {
        Matching::First
    } else {
        Matching::All
    };
    let events = std::fs::File::open(&args.events)
        .with_context(|| format!("cannot read {}", args.events.display()))?;
    let name = args.events.display().to_string();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let format = args.format;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut bad = 0;
    pipeline::run(
        events,
        &name,
        threads,
        |piece| judge_lines(&judge, piece, matching, format),
        |(text, errors)| {
            out.write_all(text.as_bytes())?;
            for e in &errors {
                eprintln!("{name}: {e}");
            }
            bad += errors.len();
            Ok(())
        },
    )?;
    out.flush()?;
    Ok(if bad == 0 {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}

/// Judges the lines of `piece`; returns the output text and the problems of lines that are
/// not valid events.
fn judge_lines(
    judge: &Judge,
    piece: &Piece,
    matching: Matching,
    format: Format,
) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut errors = Vec::new();
    let mut hits = Vec::new();
    // One event decoded into line after line, reusing its memory.
    let mut event = Event::new();
    for (i, raw) in piece.lines().enumerate() {
        let index = piece.first_line + i;
        let Ok(line) = std::str::from_utf8(raw) else {
            errors.push(format!("line {}: not valid UTF-8", index + 1));
            continue;
        };
        if line.trim().is_empty() {
            continue;
        }
        if let Err(e) = event.decode_json(line) {
            errors.push(format!("line {}: {e}", index + 1));
            continue;
        }
        match judge {
            Judge::Condition(f) => {
                if f.matches(&event) {
                    emit(
                        &mut out,
                        format,
                        index,
                        CONDITION_RULE,
                        CONDITION_PRIORITY,
                        "",
                    );
                }
            }
            Judge::Rules(set) => {
                hits.clear();
                set.eval(&event, matching, &mut hits);
                for &r in &hits {
                    let rule = &set.rules()[r];
                    emit(
                        &mut out,
                        format,
                        index,
                        &rule.name,
                        rule.priority.as_str(),
                        &rule.output.render(&event),
                    );
                }
            }
        }
    }
    (out, errors)
}

fn emit(out: &mut String, format: Format, event: usize, rule: &str, priority: &str, output: &str) {
    match format {
        Format::Json => {
            let m = EvalMatch {
                event,
                rule: rule.to_string(),
                priority: priority.to_string(),
                output: output.to_string(),
            };
            // Serialising plain strings and numbers cannot fail.
            out.push_str(&serde_json::to_string(&m).unwrap_or_default());
            out.push('\n');
        }
        Format::Text => {
            let _ = writeln!(out, "event {event}: {rule} [{priority}] {output}");
        }
    }
}
