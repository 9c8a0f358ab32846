//! `rulestudio lint [--format text|json] [--fix] [--unsafe-fixes] FILE...`

use super::{Format, file_texts};
use crate::{Outcome, files, report};
use anyhow::{Context, Result};
use rulestudio_api::cli::LintReport;
use rulestudio_engine::diagnostic::Diagnostic;
use rulestudio_engine::fix::{self, FixLevel};
use rulestudio_engine::lint::{self, Linted};
use rulestudio_engine::loader::{LoadOptions, SourceFile};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Rewrite the files with every safe fix.
    #[arg(long)]
    fix: bool,
    /// With --fix (or alone), also apply fixes that change what a rule matches.
    #[arg(long)]
    unsafe_fixes: bool,
    /// Rules files, loaded in this order into one state.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// Fixes can overlap or enable each other; a few passes reach a fixed point in practice.
const MAX_FIX_PASSES: usize = 8;

pub fn run(args: Args) -> Result<Outcome> {
    let mut sources = files::read(&args.files)?;
    let level = match (args.fix, args.unsafe_fixes) {
        (_, true) => Some(FixLevel::Unsafe),
        (true, false) => Some(FixLevel::Safe),
        (false, false) => None,
    };
    let mut linted = lint_sources(&sources.files, &sources.diagnostics);
    let mut fixed = 0;
    if let Some(level) = level {
        for _ in 0..MAX_FIX_PASSES {
            let applied = apply_fixes(
                &mut sources.files,
                &sources.lossy,
                &linted.diagnostics,
                level,
            );
            if applied == 0 {
                break;
            }
            fixed += applied;
            linted = lint_sources(&sources.files, &sources.diagnostics);
        }
        for ((file, path), lossy) in sources.files.iter().zip(&sources.paths).zip(&sources.lossy) {
            let on_disk =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            if !lossy && on_disk != file.text.as_bytes() {
                std::fs::write(path, &file.text)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
        }
    }
    let texts = file_texts(&sources.files);
    let json = report::to_json(&linted.diagnostics, &texts);
    let ok = linted.loaded.ok() && !linted.diagnostics.iter().any(Diagnostic::is_error);
    match args.format {
        Format::Json => {
            let report = LintReport {
                result: if ok { "ok" } else { "error" }.to_string(),
                diagnostics: json,
                rules: linted.loaded.rules.len(),
                // What Falco would run: rules it skips (unknown source or filter) or could not
                // compile are not in its ruleset, even when their `enabled` is true.
                enabled_rules: linted
                    .loaded
                    .ruleset
                    .rules()
                    .iter()
                    .map(|r| r.name.clone())
                    .collect(),
                macros: linted.loaded.macros.len(),
                lists: linted.loaded.lists.len(),
            };
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Format::Text => {
            for d in &json {
                print!("{}", report::render_text(d, &texts));
            }
            let fixed = if level.is_some() {
                format!(", {fixed} fixed")
            } else {
                String::new()
            };
            println!(
                "{}: {} ({} rules, {} macros, {} lists{fixed})",
                if ok { "ok" } else { "error" },
                report::summary(&json),
                linted.loaded.rules.len(),
                linted.loaded.macros.len(),
                linted.loaded.lists.len()
            );
        }
    }
    Ok(if ok {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}

/// Lints and puts reading problems (invalid UTF-8) first.
fn lint_sources(files: &[SourceFile], read_problems: &[Diagnostic]) -> Linted {
    let mut linted = lint::lint(files, &LoadOptions::default());
    if !read_problems.is_empty() {
        let mut all = read_problems.to_vec();
        all.append(&mut linted.diagnostics);
        linted.diagnostics = all;
    }
    linted
}

fn apply_fixes(
    files: &mut [SourceFile],
    lossy: &[bool],
    diagnostics: &[Diagnostic],
    level: FixLevel,
) -> usize {
    let mut applied = 0;
    for (i, file) in files.iter_mut().enumerate().filter(|(i, _)| !lossy[*i]) {
        let fixes = diagnostics
            .iter()
            .filter_map(|d| d.fix.as_ref())
            .filter(|f| level.allows(f.applicability))
            .filter(|f| f.edits.first().is_some_and(|e| e.span.file.0 as usize == i));
        let (text, n) = fix::apply(&file.text, fixes);
        if n > 0 {
            file.text = text;
            applied += n;
        }
    }
    applied
}
