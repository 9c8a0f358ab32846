//! Human-readable diagnostics: `file:line:col: severity[code]: message`, the source line and a
//! caret underline, then help and the fix on offer.

use rulestudio_api::diagnostic::{DiagnosticJson, FileText, Severity};
use rulestudio_engine::diagnostic::Diagnostic;
use std::fmt::Write as _;

pub fn to_json(diagnostics: &[Diagnostic], files: &[FileText<'_>]) -> Vec<DiagnosticJson> {
    diagnostics
        .iter()
        .map(|d| DiagnosticJson::from_engine(d, files))
        .collect()
}

pub fn render_text(d: &DiagnosticJson, files: &[FileText<'_>]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}:{}:{}: {}[{}]: {}",
        d.file,
        d.line,
        d.column,
        d.severity.as_str(),
        d.code,
        d.message
    );
    if let Some(f) = files
        .iter()
        .find(|f| f.name == d.file)
        .filter(|_| d.line > 0)
    {
        let line = f.index.line_text(f.text, d.line);
        let gutter = d.line.to_string();
        let pad = " ".repeat(gutter.len());
        let start = d.column.saturating_sub(1) as usize;
        let width = if d.end_line == d.line {
            (d.end_column.saturating_sub(d.column) as usize).max(1)
        } else {
            line.chars().count().saturating_sub(start).max(1)
        };
        let indent: String = line
            .chars()
            .take(start)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let _ = writeln!(out, "{pad} |");
        let _ = writeln!(out, "{gutter} | {line}");
        let _ = writeln!(out, "{pad} | {indent}{}", "^".repeat(width));
        if let Some(item) = d.item_name.as_deref() {
            let _ = writeln!(
                out,
                "{pad} = in {} '{}'",
                d.item_type.as_deref().unwrap_or("item"),
                item
            );
        }
        if let Some(help) = &d.help {
            let _ = writeln!(out, "{pad} = help: {help}");
        }
        if let Some(fix) = &d.fix {
            let _ = writeln!(
                out,
                "{pad} = fix ({}): {}",
                fix.applicability.as_str(),
                fix.message
            );
        }
    } else {
        if let Some(help) = &d.help {
            let _ = writeln!(out, "  = help: {help}");
        }
    }
    out
}

pub fn summary(diagnostics: &[DiagnosticJson]) -> String {
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = diagnostics.len() - errors;
    format!(
        "{errors} error{}, {warnings} warning{}",
        plural(errors),
        plural(warnings)
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
