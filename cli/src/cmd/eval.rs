//! `rulestudio eval (--rules FILE... | --condition TEXT) --events EVENTS [--format json]
//! [--first-match]`: one line per (event, matching enabled rule). EVENTS is a JSON-lines file
//! in the interchange format, or the event store's own files: a store directory or one of its
//! segment files, read in place (`rulestudio_store::read_events`).

mod pipeline;

use super::{Format, print_diagnostics};
use crate::Outcome;
use anyhow::{Context, Result, bail};
use pipeline::Piece;
use rulestudio_api::alerts::Priority;
use rulestudio_api::cli::EvalMatch;
use rulestudio_engine::eval::{Filter, RuleSet};
use rulestudio_engine::event::{Event, FieldSource};
use rulestudio_engine::loader;
use rulestudio_engine::rule::Matching;
use rulestudio_store::EventId;
use std::fmt::Write as _;
use std::io::Write as _;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

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
    /// Events: a file in the interchange format (one JSON object per line), or an event
    /// store directory, or one of its segment files (`seg-*.parquet`).
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
const CONDITION_PRIORITY: Priority = Priority::Debug;

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
    if is_store_files(&args.events) {
        return eval_stored(&judge, &args.events, matching, args.format);
    }
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
        judge_one(
            judge,
            &event,
            matching,
            format,
            Label::Line(index),
            &mut hits,
            &mut out,
        );
    }
    (out, errors)
}

/// Store files are read in place; anything else is JSON lines.
fn is_store_files(path: &Path) -> bool {
    path.is_dir() || path.extension().is_some_and(|e| e == "parquet")
}

/// Judges every event of a store directory or segment file, in sequence order.
fn eval_stored(judge: &Judge, path: &Path, matching: Matching, format: Format) -> Result<Outcome> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut text = String::new();
    let mut hits = Vec::new();
    let mut ordinal = 0usize;
    let mut written: std::io::Result<()> = Ok(());
    let report = rulestudio_store::read_events(path, |id, event| {
        judge_one(
            judge,
            event,
            matching,
            format,
            Label::Stored(ordinal, id),
            &mut hits,
            &mut text,
        );
        ordinal += 1;
        // Written in pieces so that output streams and memory stays flat.
        if text.len() >= 1 << 16 {
            written = out.write_all(text.as_bytes());
            text.clear();
            if written.is_err() {
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    })
    .with_context(|| format!("cannot read {}", path.display()))?;
    written?;
    out.write_all(text.as_bytes())?;
    out.flush()?;
    let name = path.display();
    for file in &report.vanished {
        eprintln!(
            "{name}: segment {file} was removed while reading (retention or compaction by the store's owner); its events were not judged"
        );
    }
    if let Some(why) = report.torn_log {
        eprintln!(
            "{name}: the open segment's log ends in a torn record ({why}); the events before it were judged"
        );
    }
    Ok(Outcome::Clean)
}

/// Where a judged event is in its input.
#[derive(Clone, Copy)]
enum Label<'a> {
    /// 0-based line of a JSON-lines file.
    Line(usize),
    /// 0-based position in sequence order, and the id, of a stored event.
    Stored(usize, &'a EventId),
}

/// Judges one event and appends a line per match to `out`.
fn judge_one<S: FieldSource>(
    judge: &Judge,
    event: &S,
    matching: Matching,
    format: Format,
    label: Label<'_>,
    hits: &mut Vec<usize>,
    out: &mut String,
) {
    match judge {
        Judge::Condition(f) => {
            if f.matches(event) {
                emit(out, format, label, CONDITION_RULE, CONDITION_PRIORITY, "");
            }
        }
        Judge::Rules(set) => {
            hits.clear();
            set.eval(event, matching, hits);
            for &r in hits.iter() {
                let rule = &set.rules()[r];
                emit(
                    out,
                    format,
                    label,
                    &rule.name,
                    rule.priority,
                    &rule.output.render(event),
                );
            }
        }
    }
}

fn emit(
    out: &mut String,
    format: Format,
    label: Label<'_>,
    rule: &str,
    priority: Priority,
    output: &str,
) {
    let (event, id) = match label {
        Label::Line(i) => (i, None),
        Label::Stored(i, id) => (i, Some(id)),
    };
    match format {
        Format::Json => {
            let m = EvalMatch {
                event,
                id: id.map(ToString::to_string),
                rule: rule.to_string(),
                priority,
                output: output.to_string(),
            };
            // Serialising plain strings and numbers cannot fail.
            out.push_str(&serde_json::to_string(&m).unwrap_or_default());
            out.push('\n');
        }
        Format::Text => {
            let _ = match id {
                None => writeln!(out, "event {event}: {rule} [{priority}] {output}"),
                Some(id) => writeln!(out, "event {id}: {rule} [{priority}] {output}"),
            };
        }
    }
}
