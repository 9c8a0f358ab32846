//! `rulestudio eval (--rules FILE... | --condition TEXT) --events EVENTS.jsonl [--format json]
//! [--first-match]`: one line per (event, matching enabled rule).

use super::{Format, print_diagnostics};
use crate::{Outcome, files};
use anyhow::{Context, Result, bail};
use rulestudio_api::cli::EvalMatch;
use rulestudio_engine::eval::{Filter, RuleSet};
use rulestudio_engine::event::Event;
use rulestudio_engine::loader::{self, LoadOptions};
use rulestudio_engine::rule::Matching;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(clap::Args)]
pub struct Args {
    /// Rules files, loaded in the order given.
    #[arg(long = "rules", conflicts_with = "condition", required_unless_present = "condition")]
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
            let file = [loader::SourceFile { name: CONDITION_RULE.into(), text: c.clone() }];
            print_diagnostics(&compiled.diagnostics, &file);
            match compiled.filter {
                Some(f) => Judge::Condition(f),
                None => bail!("the condition does not compile"),
            }
        }
        None => {
            let sources = files::read(&args.rules)?;
            let loaded = loader::load(&sources.files, &LoadOptions::default());
            let mut diagnostics = sources.diagnostics.clone();
            diagnostics.extend(loaded.diagnostics.iter().filter(|d| d.is_error()).cloned());
            print_diagnostics(&diagnostics, &sources.files);
            if !loaded.ok() || !sources.diagnostics.is_empty() {
                bail!("the rules files do not load");
            }
            Judge::Rules(loaded.ruleset)
        }
    };
    let matching = if args.first_match { Matching::First } else { Matching::All };
    let input = std::fs::read(&args.events).with_context(|| format!("cannot read {}", args.events.display()))?;
    let pieces = pieces(&input);

    // Decoding and judging are the work; the cores take pieces in turn (a slow core does not
    // hold up the others) and the outputs are printed in file order.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(pieces.len()).max(1);
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, (String, Vec<String>))> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (judge, pieces, next, format) = (&judge, &pieces, &next, args.format);
                s.spawn(move || {
                    let mut done = Vec::new();
                    while let Some(p) = pieces.get(next.fetch_add(1, Ordering::Relaxed)) {
                        done.push((p.first_line, judge_lines(judge, p, matching, format)));
                    }
                    done
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("eval worker panicked")).collect()
    });
    results.sort_unstable_by_key(|(first_line, _)| *first_line);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut bad = 0;
    for (_, (text, errors)) in &results {
        out.write_all(text.as_bytes())?;
        for e in errors {
            eprintln!("{}: {e}", args.events.display());
        }
        bad += errors.len();
    }
    out.flush()?;
    Ok(if bad == 0 { Outcome::Clean } else { Outcome::Findings })
}

/// About this many bytes of the events file, cut at a line end, make one unit of work.
const PIECE_BYTES: usize = 1 << 20;

/// Consecutive whole lines of the events file; the first is line `first_line` (0-based).
struct Piece<'a> {
    text: &'a [u8],
    first_line: usize,
}

fn pieces(input: &[u8]) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let (mut start, mut first_line) = (0, 0);
    while start < input.len() {
        let cut = (start + PIECE_BYTES).min(input.len());
        let end = memchr::memchr(b'\n', &input[cut..]).map_or(input.len(), |i| cut + i + 1);
        let text = &input[start..end];
        pieces.push(Piece { text, first_line });
        first_line += memchr::memchr_iter(b'\n', text).count();
        start = end;
    }
    pieces
}

/// The lines of a piece (a final line end does not start another line).
fn lines<'a>(text: &'a [u8]) -> impl Iterator<Item = &'a [u8]> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (line, next) = match memchr::memchr(b'\n', rest) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = next;
        Some(line)
    })
}

/// Judges the lines of `piece`; returns the output text and the problems of lines that are
/// not valid events.
fn judge_lines(judge: &Judge, piece: &Piece<'_>, matching: Matching, format: Format) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut errors = Vec::new();
    let mut hits = Vec::new();
    for (i, raw) in lines(piece.text).enumerate() {
        let index = piece.first_line + i;
        let Ok(line) = std::str::from_utf8(raw) else {
            errors.push(format!("line {}: not valid UTF-8", index + 1));
            continue;
        };
        if line.trim().is_empty() {
            continue;
        }
        let event = match Event::from_json_str(line) {
            Ok(e) => e,
            Err(e) => {
                errors.push(format!("line {}: {e}", index + 1));
                continue;
            }
        };
        match judge {
            Judge::Condition(f) => {
                if f.matches(&event) {
                    emit(&mut out, format, index, CONDITION_RULE, CONDITION_PRIORITY, "");
                }
            }
            Judge::Rules(set) => {
                hits.clear();
                set.eval(&event, matching, &mut hits);
                for &r in &hits {
                    let rule = &set.rules()[r];
                    emit(&mut out, format, index, &rule.name, rule.priority.as_str(), &rule.output.render(&event));
                }
            }
        }
    }
    (out, errors)
}

fn emit(out: &mut String, format: Format, event: usize, rule: &str, priority: &str, output: &str) {
    match format {
        Format::Json => {
            let m = EvalMatch { event, rule: rule.to_string(), priority: priority.to_string(), output: output.to_string() };
            // Serialising plain strings and numbers cannot fail.
            out.push_str(&serde_json::to_string(&m).unwrap_or_default());
            out.push('\n');
        }
        Format::Text => {
            let _ = writeln!(out, "event {event}: {rule} [{priority}] {output}");
        }
    }
}
